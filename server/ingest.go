package server

import (
	"compress/gzip"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/ingest"
	"github.com/bowtie-analytics/bowtie/segment"
)

// eTooLarge is a request or message over Segment's size limits.
const eTooLarge = "too_large"

// collectPaths maps the collection API's paths to the call they make.
// /v1/b is the short batch path some SDKs use; /v1/import is Segment's
// other name for batch.
var collectPaths = map[string]string{
	"/v1/track": segment.Track, "/v1/identify": segment.Identify, "/v1/page": segment.Page,
	"/v1/screen": segment.Screen, "/v1/group": segment.Group, "/v1/alias": segment.Alias,
	"/v1/batch": "batch", "/v1/b": "batch", "/v1/import": "batch",
}

// problemBody is the JSON of a refused collection request: the error and
// every bad message.
type problemBody struct {
	Error struct {
		Code     string            `json:"code"`
		Message  string            `json:"message"`
		Problems []segment.Problem `json:"problems"`
	} `json:"error"`
}

// handleCollect answers POST /v1/<call>: Segment's tracking API. It
// answers 200 {"success": true} only once every message of the request is
// stored durably (or was already stored: a retry).
func (s *Server) handleCollect(w http.ResponseWriter, r *http.Request) {
	recv := s.cfg.Now().UTC()
	cors(w)
	typ, ok := collectPaths[strings.TrimSuffix(r.URL.Path, "/")]
	if !ok {
		s.Error(w, r, bowtie.Errorf(bowtie.ENOTFOUND, "no collection endpoint %s: use /v1/track, identify, page, screen, group, alias or batch", r.URL.Path))
		return
	}
	switch r.Method {
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		s.Error(w, r, bowtie.Errorf(eMethodNotAllowed, "%s is not allowed on %s: send events with POST", r.Method, r.URL.Path))
		return
	}
	if !s.collecting {
		s.metrics.Reject("disabled", 1)
		s.Error(w, r, bowtie.Errorf(bowtie.ENOTFOUND,
			"event collection is disabled: no write key is configured (add ingest.sources to bowtie.yaml or start with --write-key NAME=KEY)"))
		return
	}
	// Bound the memory of the requests being read and decoded: each holds
	// its declared length (the 500 KB limit when it declares none) until
	// it is answered.
	reserve := r.ContentLength
	if reserve < 0 || reserve > segment.MaxBatchBytes {
		reserve = segment.MaxBatchBytes
	}
	if s.inflight.Add(reserve) > s.cfg.MaxCollectBytes {
		s.inflight.Add(-reserve)
		s.metrics.Reject(ingest.EOVERLOADED, 1)
		s.Error(w, r, bowtie.Errorf(ingest.EOVERLOADED, "too many event requests at once: retry later"))
		return
	}
	defer s.inflight.Add(-reserve)
	buf := bodyPool.Get().(*[]byte)
	defer bodyPool.Put(buf)
	body, err := readBody(r, buf)
	if err != nil {
		s.metrics.Reject(bowtie.ErrorCode(err), 1)
		s.Error(w, r, err)
		return
	}
	req := segment.DecodeAt(typ, body, recv)
	n := max(len(req.Messages)+len(req.Problems), 1)
	s.metrics.Received(n)

	key, _, hasAuth := r.BasicAuth()
	if !hasAuth {
		key = req.WriteKey
	}
	ws, source := s.writeKey(key)
	if ws == nil {
		s.metrics.Reject("unauthorized", n)
		w.Header().Set("WWW-Authenticate", `Basic realm="bowtie"`)
		msg := "a write key is required: send it as the basic-auth user name (password empty), or as writeKey in the body"
		if key != "" {
			msg = "unknown write key: check the source's key in bowtie.yaml (ingest.sources) or --write-key"
		}
		var b errorBody
		b.Error.Code, b.Error.Message = eUnauthorized, msg
		s.writeJSON(w, r, http.StatusUnauthorized, b)
		return
	}
	if len(req.Problems) > 0 {
		status, code := http.StatusBadRequest, bowtie.EINVALID
		if req.TooLarge() {
			status, code = http.StatusRequestEntityTooLarge, eTooLarge
		}
		s.metrics.Reject(code, n)
		var b problemBody
		b.Error.Code = code
		b.Error.Message = fmt.Sprintf("%s; nothing from this request was stored", req.Problems[0])
		if len(req.Problems) > 1 {
			b.Error.Message = fmt.Sprintf("%d problems, the first: %s; nothing from this request was stored", len(req.Problems), req.Problems[0])
		}
		b.Error.Problems = req.Problems
		s.writeJSON(w, r, status, b)
		return
	}
	if err := ws.Ingest.Submit(r.Context(), source, req.Messages, recv, len(body), s.remoteIP(r)); err != nil {
		if errors.Is(err, context.Canceled) {
			// The client left; whatever was committed is absorbed by its retry.
			return
		}
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, successBody)
}

// successBody is the answer to a stored request.
var successBody = json.RawMessage(`{"success":true}`)

// bodyPool holds the buffers request bodies are read into. A body is only
// used while its request is handled: the decoded messages point into it,
// but Submit copies what it keeps before it returns.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// readBody reads a collection request's body into *buf (grown as needed),
// gunzipping it if needed, within Segment's 500 KB limit.
func readBody(r *http.Request, buf *[]byte) ([]byte, error) {
	tooLarge := bowtie.Errorf(eTooLarge, "the request body is over %d bytes (500 KB): send smaller batches", segment.MaxBatchBytes)
	if r.ContentLength > segment.MaxBatchBytes {
		return nil, tooLarge
	}
	var src io.Reader = io.LimitReader(r.Body, segment.MaxBatchBytes+1)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, bowtie.Errorf(bowtie.EINVALID, "Content-Encoding is gzip but the body is not: %v", err)
		}
		defer zr.Close()
		src = zr
	}
	body, err := readAll(io.LimitReader(src, segment.MaxBatchBytes+1), (*buf)[:0], r.ContentLength)
	*buf = body[:0]
	if err != nil {
		return nil, bowtie.Errorf(bowtie.EINVALID, "reading the request body: %v", err)
	}
	if len(body) > segment.MaxBatchBytes {
		return nil, tooLarge
	}
	return body, nil
}

// readAll appends what src holds to b, as io.ReadAll does, growing b once
// to the declared length (n) first.
func readAll(src io.Reader, b []byte, n int64) ([]byte, error) {
	if n > 0 && n <= segment.MaxBatchBytes && int64(cap(b)) < n+1 {
		b = make([]byte, 0, n+1) // +1: room to see the end of the body
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		m, err := src.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// writeKey returns the workspace and source name that key belongs to.
func (s *Server) writeKey(key string) (*Workspace, string) {
	if key == "" {
		return nil, ""
	}
	for i := range s.cfg.Workspaces {
		ws := &s.cfg.Workspaces[i]
		if ws.Ingest == nil {
			continue
		}
		if name, ok := ws.Ingest.Source(key); ok {
			return ws, name
		}
	}
	return nil, ""
}

// remoteIP is the sender's address. Behind a trusted proxy it is the
// right-most X-Forwarded-For entry, the address the proxy saw: entries to
// its left came from the client and may be forged. An entry that is no
// address (with or without a port) counts as none. Else, and without the
// header, it is the connection's peer.
func (s *Server) remoteIP(r *http.Request) string {
	if s.cfg.TrustProxy {
		ip := lastListItem(r.Header.Values("X-Forwarded-For"))
		if h, _, err := net.SplitHostPort(ip); err == nil {
			ip = h
		}
		if a, err := netip.ParseAddr(ip); err == nil {
			return a.Unmap().String()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// cors lets pages on any origin send events: write keys of browser sources
// are public by nature, and the endpoints only write.
func cors(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding")
	h.Set("Access-Control-Max-Age", "86400")
}

// handleMetrics answers GET /metrics in Prometheus' text format.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	s.metrics.WritePrometheus(w)
}

//go:embed bowtie.js
var bowtieJS []byte

// handleScript serves the first-party tracking script.
func (s *Server) handleScript(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	w.Write(bowtieJS)
}
