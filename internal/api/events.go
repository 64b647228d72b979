package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
)

// Event kinds carried in a progress stream.
const (
	EventStep     = "step"
	EventProgress = "progress"
	EventLog      = "log"
	EventResult   = "result"
	EventError    = "error"
)

// Event is one JSON line of a streamed long operation (VM create, start,
// image build). The stream ends with exactly one result or error event.
type Event struct {
	Kind    string          `json:"kind"`
	Step    string          `json:"step,omitempty"`
	Index   int             `json:"index,omitempty"`
	Total   int             `json:"total,omitempty"`
	Done    int64           `json:"done,omitempty"`
	Size    int64           `json:"size,omitempty"`
	Message string          `json:"message,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	// Status is the HTTP status an error event stands for (400, 404,
	// 409, 424, 500, ...): a streamed operation that fails after its
	// first progress line cannot change the response status any more.
	Status int `json:"status,omitempty"`
}

// VersionHeader carries the sender's banger version on every request and
// response, so client and daemon can tell a version mismatch.
const VersionHeader = "X-Banger-Version"

// StreamContentType marks a response body as a stream of Event lines.
const StreamContentType = "application/x-ndjson"

// Reporter receives progress from a long operation.
type Reporter interface {
	// Step announces that step i of n, described by name, begins.
	Step(i, n int, name string)
	// Logf sends a free-form line.
	Logf(format string, args ...any)
}

// NopReporter discards progress.
type NopReporter struct{}

// Step implements Reporter.
func (NopReporter) Step(int, int, string) {}

// Logf implements Reporter.
func (NopReporter) Logf(string, ...any) {}

// StreamWriter writes Events as JSON lines to an HTTP response, flushing
// after each so the client sees progress as it happens. The 200 header is
// sent with the first event, so an operation that fails before reporting
// anything can still answer with its real status (see Started).
type StreamWriter struct {
	mu      sync.Mutex
	w       http.ResponseWriter
	enc     *json.Encoder
	started bool
}

// NewStreamWriter prepares a stream on w; nothing is written yet.
func NewStreamWriter(w http.ResponseWriter) *StreamWriter {
	return &StreamWriter{w: w, enc: json.NewEncoder(w)}
}

// Started reports whether the stream's header and a first event went out.
func (s *StreamWriter) Started() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// Send writes one event, starting the stream first when needed.
func (s *StreamWriter) Send(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		s.w.Header().Set("Content-Type", StreamContentType)
		s.w.WriteHeader(http.StatusOK)
		s.started = true
	}
	_ = s.enc.Encode(e)
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
}

// Step implements Reporter.
func (s *StreamWriter) Step(i, n int, name string) {
	s.Send(Event{Kind: EventStep, Index: i, Total: n, Step: name})
}

// Logf implements Reporter.
func (s *StreamWriter) Logf(format string, args ...any) {
	s.Send(Event{Kind: EventLog, Message: sprintf(format, args...)})
}

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}
