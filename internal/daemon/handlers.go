package daemon

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/version"
)

// server is the HTTP edge: each handler decodes its request, calls the VM
// lifecycle (vms), the images or the observer, and answers with the result
// or the error, whose status errorStatus alone decides.
type server struct {
	vms      *vms
	images   *images
	obs      *observer
	log      *slog.Logger
	shutdown func()
}

// withCommon adds the version header and request logging.
func (s *server) withCommon(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(api.VersionHeader, version.Version)
		if cv := r.Header.Get(api.VersionHeader); cv != "" && cv != version.Version {
			s.log.Debug("client version differs", "client", cv, "daemon", version.Version)
		}
		start := time.Now()
		h.ServeHTTP(w, r)
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "took", time.Since(start))
	})
}

func (s *server) handleStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.obs.status(r.Context())
	reply(w, st, err)
}

func (s *server) handleShutdown(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "stopping"})
	go s.shutdown()
}

// handleDoctor reports every host check banger depends on.
func (s *server) handleDoctor(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.obs.doctor(r.Context()))
}

func (s *server) handleStats(w http.ResponseWriter, r *http.Request) {
	v, err := s.getVM(r)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.obs.stats(r.Context(), v))
}

func (s *server) handleListImages(w http.ResponseWriter, r *http.Request) {
	out, err := s.images.list(r.Context())
	reply(w, out, err)
}

func (s *server) handleGetImage(w http.ResponseWriter, r *http.Request) {
	im, err := s.images.get(r.Context(), r.PathValue("name"))
	reply(w, im, err)
}

func (s *server) handleDeleteImage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.images.delete(r.Context(), name); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"deleted": name})
}

func (s *server) handleBuildImage(w http.ResponseWriter, r *http.Request) {
	streamImageJob(w, r, s.images.buildImage)
}

func (s *server) handleSaveImage(w http.ResponseWriter, r *http.Request) {
	streamImageJob(w, r, s.images.saveImage)
}

// streamImageJob decodes a request body of type T and streams the progress
// and result of job (an image build or save, at most 30 minutes).
func streamImageJob[T any](w http.ResponseWriter, r *http.Request, job func(context.Context, T, api.Reporter) (*api.Image, error)) {
	var req T
	if err := decode(r, &req); err != nil {
		writeError(w, err)
		return
	}
	stream(w, func(rep api.Reporter) (any, error) {
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Minute)
		defer cancel()
		return job(ctx, req, rep)
	})
}

// routes maps every /v1/ route to its handler.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", s.handleStatus)
	mux.HandleFunc("POST /v1/shutdown", s.handleShutdown)
	mux.HandleFunc("GET /v1/doctor", s.handleDoctor)

	mux.HandleFunc("GET /v1/vms", s.handleListVMs)
	mux.HandleFunc("POST /v1/vms", s.handleCreateVM)
	mux.HandleFunc("GET /v1/vms/{name}", s.handleGetVM)
	mux.HandleFunc("PATCH /v1/vms/{name}", s.handleSetVM)
	mux.HandleFunc("DELETE /v1/vms/{name}", s.handleDeleteVM)
	mux.HandleFunc("POST /v1/vms/{name}/start", s.handleStartVM)
	mux.HandleFunc("POST /v1/vms/{name}/stop", s.handleStopVM)
	mux.HandleFunc("POST /v1/vms/{name}/restart", s.handleRestartVM)
	mux.HandleFunc("POST /v1/vms/{name}/kill", s.handleKillVM)
	mux.HandleFunc("POST /v1/vms/{name}/suspend", s.handleSuspendVM)
	mux.HandleFunc("POST /v1/vms/{name}/clone", s.handleCloneVM)
	mux.HandleFunc("GET /v1/vms/{name}/snapshots", s.handleListSnapshots)
	mux.HandleFunc("POST /v1/vms/{name}/snapshots", s.handleCreateSnapshot)
	mux.HandleFunc("DELETE /v1/vms/{name}/snapshots/{snap}", s.handleDeleteSnapshot)
	mux.HandleFunc("POST /v1/vms/{name}/snapshots/{snap}/restore", s.handleRestoreSnapshot)
	mux.HandleFunc("GET /v1/vms/{name}/stats", s.handleStats)
	mux.HandleFunc("GET /v1/vms/{name}/ssh", s.handleSSHTarget)
	mux.HandleFunc("GET /v1/vms/{name}/logs", s.handleLogs)

	mux.HandleFunc("GET /v1/images", s.handleListImages)
	mux.HandleFunc("GET /v1/images/{name}", s.handleGetImage)
	mux.HandleFunc("DELETE /v1/images/{name}", s.handleDeleteImage)
	mux.HandleFunc("POST /v1/images", s.handleBuildImage)
	mux.HandleFunc("POST /v1/images/save", s.handleSaveImage)

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, model.NotFound("bangerd has no route %s %s; is banger newer than bangerd? run 'banger daemon stop'", r.Method, r.URL.Path))
	})
	return mux
}
