package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// asset is one dashboard file, read once at start.
type asset struct {
	name  string
	ctype string
	data  []byte
	gz    []byte // gzip-compressed data, nil when not worth it
	etag  string // strong validator of data; gz gets its own
}

// contentSecurityPolicy allows the dashboard its own scripts and nothing
// else; ECharts sets inline styles, hence 'unsafe-inline' for styles only.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// loadAssets reads every file of fsys into memory with its content type,
// ETag and, for text files, a gzip copy.
func loadAssets(fsys fs.FS) (map[string]*asset, error) {
	out := map[string]*asset{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		a := &asset{name: p, data: data, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		a.ctype = mime.TypeByExtension(path.Ext(p))
		if a.ctype == "" {
			a.ctype = http.DetectContentType(data)
		}
		if len(data) > 1024 && compressible(a.ctype) {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(data)
			if err := zw.Close(); err != nil {
				return err
			}
			a.gz = buf.Bytes()
		}
		out[p] = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out["index.html"] == nil {
		return nil, fs.ErrNotExist
	}
	return out, nil
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") ||
		strings.Contains(ctype, "json") || strings.Contains(ctype, "svg")
}

// handleAsset serves the dashboard: / is index.html, other paths name
// files. The page needs the read token like the API; a visit with
// ?token=<token> stores it in a cookie and redirects to the clean URL.
func (s *Server) handleAsset(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	a := s.assets[name]
	if a == nil {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	if a.name == "index.html" && s.cfg.ReadToken != "" {
		if tok := r.URL.Query().Get("token"); tok != "" && s.tokenOK(tok) {
			http.SetCookie(w, &http.Cookie{
				Name: tokenCookie, Value: tok, Path: "/", HttpOnly: true, Secure: s.overTLS(r),
				SameSite: http.SameSiteStrictMode, MaxAge: int((30 * 24 * time.Hour).Seconds()),
			})
			q := r.URL.Query()
			q.Del("token")
			u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
			http.Redirect(w, r, u.String(), http.StatusSeeOther)
			return
		}
		if !s.authorized(r) {
			h := w.Header()
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Cache-Control", "no-store")
			h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(unauthorizedPage))
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", "no-cache") // revalidate with the ETag
	h.Add("Vary", "Accept-Encoding")
	if a.name == "index.html" {
		h.Set("Content-Security-Policy", contentSecurityPolicy)
	}
	data, etag := a.data, a.etag
	if a.gz != nil && acceptsGzip(r) {
		data, etag = a.gz, strings.TrimSuffix(a.etag, `"`)+`-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(data))
}

// overTLS reports whether the browser reached the server over TLS: the
// connection is TLS, or a trusted proxy (Config.TrustProxy) forwarded it
// and does not say X-Forwarded-Proto: http. A proxy is expected to
// terminate TLS; one that serves plain HTTP must say so.
func (s *Server) overTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !s.cfg.TrustProxy {
		return false
	}
	return !strings.EqualFold(lastListItem(r.Header.Values("X-Forwarded-Proto")), "http")
}

// lastListItem is the right-most item of a comma-separated header sent on
// one or several lines: the one the nearest proxy added.
func lastListItem(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	last := lines[len(lines)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.TrimSpace(last)
}

// acceptsGzip reports whether the client takes gzip-encoded responses.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// unauthorizedPage is shown for the dashboard without a valid token.
const unauthorizedPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bowtie — read token needed</title>
<style>body{font:15px/1.5 system-ui,sans-serif;color:#0a2540;max-width:34rem;margin:15vh auto;padding:0 1.5rem}
code{background:#f0f3f7;padding:.1rem .35rem;border-radius:4px}</style></head>
<body><h1>Read token needed</h1>
<p>This bowtie server asks for a read token. Open the dashboard once as
<code>/?token=&lt;your token&gt;</code>; the browser then keeps it in a cookie.</p>
<p>API clients send <code>Authorization: Bearer &lt;token&gt;</code>.</p></body></html>
`
