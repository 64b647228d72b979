package daemon

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/store"
	"github.com/bangerdev/banger/internal/version"
)

func (d *Daemon) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", d.handleStatus)
	mux.HandleFunc("POST /v1/shutdown", d.handleShutdown)
	mux.HandleFunc("GET /v1/doctor", d.handleDoctor)

	mux.HandleFunc("GET /v1/vms", d.handleListVMs)
	mux.HandleFunc("POST /v1/vms", d.handleCreateVM)
	mux.HandleFunc("GET /v1/vms/{name}", d.handleGetVM)
	mux.HandleFunc("PATCH /v1/vms/{name}", d.handleSetVM)
	mux.HandleFunc("DELETE /v1/vms/{name}", d.handleDeleteVM)
	mux.HandleFunc("POST /v1/vms/{name}/start", d.handleStartVM)
	mux.HandleFunc("POST /v1/vms/{name}/stop", d.handleStopVM)
	mux.HandleFunc("POST /v1/vms/{name}/restart", d.handleRestartVM)
	mux.HandleFunc("POST /v1/vms/{name}/kill", d.handleKillVM)
	mux.HandleFunc("POST /v1/vms/{name}/suspend", d.handleSuspendVM)
	mux.HandleFunc("POST /v1/vms/{name}/clone", d.handleCloneVM)
	mux.HandleFunc("GET /v1/vms/{name}/snapshots", d.handleListSnapshots)
	mux.HandleFunc("POST /v1/vms/{name}/snapshots", d.handleCreateSnapshot)
	mux.HandleFunc("DELETE /v1/vms/{name}/snapshots/{snap}", d.handleDeleteSnapshot)
	mux.HandleFunc("POST /v1/vms/{name}/snapshots/{snap}/restore", d.handleRestoreSnapshot)
	mux.HandleFunc("GET /v1/vms/{name}/stats", d.handleStats)
	mux.HandleFunc("GET /v1/vms/{name}/ssh", d.handleSSHTarget)
	mux.HandleFunc("GET /v1/vms/{name}/logs", d.handleLogs)

	mux.HandleFunc("GET /v1/images", d.handleListImages)
	mux.HandleFunc("GET /v1/images/{name}", d.handleGetImage)
	mux.HandleFunc("DELETE /v1/images/{name}", d.handleDeleteImage)
	mux.HandleFunc("POST /v1/images", d.handleBuildImage)
	mux.HandleFunc("POST /v1/images/save", d.handleSaveImage)

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, model.NotFound("bangerd has no route %s %s; is banger newer than bangerd? run 'banger daemon stop'", r.Method, r.URL.Path))
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	writeJSON(w, errorStatus(err), api.Error{Message: err.Error()})
}

// statusOfKind is the HTTP status of each kind of domain error.
var statusOfKind = map[model.Kind]int{
	model.KindInvalid:      http.StatusBadRequest,
	model.KindNotFound:     http.StatusNotFound,
	model.KindConflict:     http.StatusConflict,
	model.KindPrecondition: http.StatusFailedDependency,
}

// errorStatus maps an error to its HTTP status, the one place that does:
// a domain error's kind, 404 and 409 for the store's not-found and exists,
// 500 for the rest.
func errorStatus(err error) int {
	if st, ok := statusOfKind[model.KindOf(err)]; ok {
		return st
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, store.ErrExists):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// decode reads a JSON body into v (api.DecodeRequest: unknown fields are
// refused by name); an empty body leaves v as is.
func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return model.Invalid("read request: %v", err)
	}
	if err := api.DecodeRequest(b, v); err != nil {
		return model.Invalid("invalid request body: %v", err)
	}
	return nil
}

// stream runs op with a Reporter wired to a streamed response and sends the
// final result or error event. An error before the first progress event
// (bad request, conflict, missing image) is a plain error response with its
// own status; one after it is an error event carrying that status, so the
// client sees the same status either way.
func stream(w http.ResponseWriter, op func(rep api.Reporter) (any, error)) {
	sw := api.NewStreamWriter(w)
	res, err := op(sw)
	if err != nil {
		if !sw.Started() {
			writeError(w, err)
			return
		}
		sw.Send(api.Event{Kind: api.EventError, Message: err.Error(), Status: errorStatus(err)})
		return
	}
	b, _ := json.Marshal(res)
	sw.Send(api.Event{Kind: api.EventResult, Result: b})
}

func (d *Daemon) handleStatus(w http.ResponseWriter, r *http.Request) {
	counts := map[string]int{}
	vms, err := d.store.ListVMs(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	for _, v := range vms {
		counts[string(v.State)]++
	}
	up := time.Since(d.started).Round(time.Second)
	writeJSON(w, http.StatusOK, api.DaemonStatus{
		PID: os.Getpid(), Version: version.Version, APIVersion: version.APIVersion,
		StartedAt: d.started, Uptime: up.String(), Socket: d.layout.SocketPath,
		StateDir: d.layout.StateDir, RuntimeDir: d.opts.RuntimeDir,
		VMM: d.driver, VMMReason: d.driverWhy, VMCounts: counts, Goroutines: runtime.NumGoroutine(),
	})
}

func (d *Daemon) handleShutdown(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "stopping"})
	go d.requestShutdown()
}
