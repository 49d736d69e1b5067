package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/ingest"
)

// Transport-level error codes. They complete the domain codes of package
// bowtie for conditions only HTTP has.
const (
	eUnauthorized     = "unauthorized"       // no or a wrong read token
	eForbidden        = "forbidden"          // a Host the server does not answer to
	eMethodNotAllowed = "method_not_allowed" // the path exists, the method does not
	eTimeout          = "timeout"            // the query ran past Config.QueryTimeout
	eCanceled         = "canceled"           // the client went away
)

// statusOf is the one table from error code to HTTP status. A code that is
// not here is answered with 500.
var statusOf = map[string]int{
	bowtie.EINVALID:     http.StatusBadRequest,
	bowtie.ENOTFOUND:    http.StatusNotFound,
	bowtie.ECONFLICT:    http.StatusConflict,
	bowtie.EINTERNAL:    http.StatusInternalServerError,
	eUnauthorized:       http.StatusUnauthorized,
	eForbidden:          http.StatusForbidden,
	eTooLarge:           http.StatusRequestEntityTooLarge,
	ingest.EOVERLOADED:  http.StatusServiceUnavailable,
	ingest.EUNAVAILABLE: http.StatusServiceUnavailable,
	eMethodNotAllowed:   http.StatusMethodNotAllowed,
	eTimeout:            http.StatusServiceUnavailable,
	eCanceled:           499, // nginx's "client closed request"; nobody reads it
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Error writes err as a JSON error response. Its code picks the status from
// statusOf; internal errors are logged with the request and answered with a
// generic message, so no detail of the store or the SQL leaks.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	code := bowtie.ErrorCode(err)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		code = eTimeout
		err = bowtie.Errorf(eTimeout, "the query took longer than %s: narrow the date range or the breakdown", s.cfg.QueryTimeout)
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		code = eCanceled
	}
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	msg := bowtie.ErrorMessage(err)
	switch {
	case code == eCanceled:
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "request canceled", slog.String("path", r.URL.Path))
		return
	case status == http.StatusInternalServerError:
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
		code, msg = bowtie.EINTERNAL, "internal error: the server log has the details"
	}
	var body errorBody
	body.Error.Code, body.Error.Message = code, msg
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "2")
	}
	if code == eUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="bowtie"`)
	}
	s.writeJSON(w, r, status, body)
}

// writeJSON writes v as the JSON response with the given status.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		// Only a bug (a NaN, a channel) gets here.
		s.log.LogAttrs(r.Context(), slog.LevelError, "encode response",
			slog.String("path", r.URL.Path), slog.Any("err", err))
		status = http.StatusInternalServerError
		data = []byte(`{"error":{"code":"internal","message":"internal error: the server log has the details"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}
