package daemon

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/store"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// reply answers with v, or with err and its status.
func reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
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
