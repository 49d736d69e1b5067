package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/duckdb"
)

// lockedBuffer is an io.Writer safe for the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// mustStoreFile writes a store file with a little spend and returns its path.
func mustStoreFile(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	st, err := duckdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(`INSERT INTO spend (date, source, channel, cost, currency) VALUES
		('2025-01-10', 'google', 'Paid Search', 100, 'USD'), ('2025-02-10', 'facebook', 'Paid Social', 50, 'USD')`); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

var dashboardLine = regexp.MustCompile(`bowtie: dashboard at (http://[^/\s]+)/\n`)

// startServe runs `bowtie serve args...` and returns the base URL, a stop
// function that cancels it and returns its exit status, and its stderr.
func startServe(t *testing.T, args ...string) (base string, stop func() int, stderr *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &lockedBuffer{}
	env := &Env{Stdout: io.Discard, Stderr: stderr, Config: DefaultConfig()}
	done := make(chan int, 1)
	go func() { done <- run(ctx, env, append([]string{"serve"}, args...)) }()
	stop = func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(20 * time.Second):
			t.Fatal("bowtie serve did not stop within 20 s of the cancel")
			return -1
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := dashboardLine.FindStringSubmatch(stderr.String()); m != nil {
			return m[1], stop, stderr
		}
		select {
		case code := <-done:
			t.Fatalf("bowtie serve exited with %d:\n%s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	stop()
	t.Fatalf("bowtie serve printed no dashboard URL:\n%s", stderr.String())
	return
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	return getHost(t, url, "", token)
}

// testReadToken is a read token of the minimum length.
const testReadToken = "t0ken-0123456789"

func TestServe(t *testing.T) {
	path := mustStoreFile(t, "acme.duckdb")
	base, stop, stderr := startServe(t, "--db", path, "--addr", "127.0.0.1:0", "--token", testReadToken)

	if code, _ := get(t, base+"/healthz", ""); code != 200 {
		t.Errorf("healthz: %d", code)
	}
	if code, _ := get(t, base+"/api/v1/workspaces", ""); code != 401 {
		t.Errorf("workspaces without the token: %d, want 401", code)
	}
	code, body := get(t, base+"/api/v1/workspaces", testReadToken)
	if code != 200 || !strings.Contains(body, `"name":"acme"`) || !strings.Contains(body, `"data":{"from":"2025-01-10","to":"2025-02-10"}`) {
		t.Errorf("workspaces: %d %s", code, body)
	}
	code, body = get(t, base+"/api/v1/report?by=channel", testReadToken)
	if code != 200 || !strings.Contains(body, `"cost":150`) {
		t.Errorf("report: %d %s", code, body)
	}

	if code := stop(); code != 0 {
		t.Fatalf("exit status %d after the cancel:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "bowtie: server stopped") {
		t.Errorf("no stop message:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), testReadToken) {
		t.Errorf("the token leaked into the output:\n%s", stderr.String())
	}
	// The server closed the store: another open succeeds.
	st, err := duckdb.Open(path)
	if err != nil {
		t.Fatalf("reopen after shutdown: %v", err)
	}
	st.Close()
}

func TestServe_Errors(t *testing.T) {
	path := mustStoreFile(t, "acme.duckdb")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"ErrArgument", []string{"--db", path, "extra"}, 2, "unexpected argument"},
		{"ErrFlag", []string{"--port", "80"}, 2, "flag provided but not defined"},
		{"ErrNoStore", []string{"--db", filepath.Join(t.TempDir(), "missing.duckdb")}, 1, "no store at"},
		{"ErrAddrInUse", []string{"--db", path, "--addr", busy.Addr().String()}, 1, "already in use"},
		{"ErrAddr", []string{"--db", path, "--addr", "8080"}, 2, "use HOST:PORT"},
		// Other machines could read the reports: a token is required.
		{"ErrAllInterfacesNoToken", []string{"--db", path, "--addr", "0.0.0.0:0"}, 2, "refusing to serve 0.0.0.0:0 without a read token"},
		{"ErrAllInterfacesEmptyHostNoToken", []string{"--db", path, "--addr", ":0"}, 2, "without a read token"},
		{"ErrAllInterfaces6NoToken", []string{"--db", path, "--addr", "[::]:0"}, 2, "without a read token"},
		{"ErrShortToken", []string{"--db", path, "--addr", "0.0.0.0:0", "--token", "t0ken-012345678"}, 2, "the read token has 15 characters: use at least 16"},
		{"ErrTokenCharacters", []string{"--db", path, "--addr", "127.0.0.1:0", "--token", "t0ken 0123456789"}, 2, "the read token holds ' '"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(tokenEnv, "")
			var stderr lockedBuffer
			env := &Env{Stdout: io.Discard, Stderr: &stderr, Config: DefaultConfig()}
			// A server that starts where it must not stops after a while and fails the test.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if code := run(ctx, env, append([]string{"serve"}, tc.args...)); code != tc.code {
				t.Errorf("exit status %d, want %d:\n%s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, stderr.String())
			}
		})
	}
	// The failed attempts left the store closed.
	st, err := duckdb.Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	st.Close()
}

// TestServeWorkspaces serves two stores under their names, as `bowtie demo`
// does.
func TestServeWorkspaces(t *testing.T) {
	a, b := mustStoreFile(t, "b2b.duckdb"), mustStoreFile(t, "b2c.duckdb")
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &lockedBuffer{}
	env := &Env{Stdout: io.Discard, Stderr: stderr, Config: DefaultConfig()}
	t.Setenv(tokenEnv, "")
	done := make(chan error, 1)
	go func() {
		done <- serveWorkspaces(ctx, env, "127.0.0.1:0", []workspace{{Name: "b2b", Path: a}, {Name: "b2c", Path: b}})
	}()
	var base string
	for i := 0; i < 1500 && base == ""; i++ {
		if m := dashboardLine.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	if base == "" {
		cancel()
		t.Fatalf("no dashboard URL:\n%s", stderr.String())
	}
	code, body := get(t, base+"/api/v1/workspaces", "")
	if code != 200 || !strings.Contains(body, `"name":"b2b"`) || !strings.Contains(body, `"name":"b2c"`) {
		t.Errorf("workspaces: %d %s", code, body)
	}
	if code, _ := get(t, base+"/api/v1/report?workspace=b2c", ""); code != 200 {
		t.Errorf("report of b2c: %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestServe_Host: a server without a token answers only requests for a
// loopback name (a page whose name was rebound to 127.0.0.1 reads nothing);
// one on every interface with a token answers any name that brings the
// token.
func TestServe_Host(t *testing.T) {
	path := mustStoreFile(t, "acme.duckdb")
	t.Setenv(tokenEnv, "")
	base, stop, stderr := startServe(t, "--db", path, "--addr", "127.0.0.1:0")
	port := strings.TrimPrefix(base, "http://127.0.0.1:")
	for host, want := range map[string]int{"evil.example:" + port: 403, "localhost:" + port: 200, "127.0.0.1:" + port: 200, "[::1]:" + port: 200} {
		if code, body := getHost(t, base+"/api/v1/workspaces", host, ""); code != want {
			t.Errorf("Host %s: %d %s, want %d", host, code, body, want)
		}
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit status %d:\n%s", code, stderr.String())
	}

	base, stop, stderr = startServe(t, "--db", path, "--addr", "0.0.0.0:0", "--token", testReadToken)
	base = strings.Replace(base, "0.0.0.0", "127.0.0.1", 1)
	if code, body := getHost(t, base+"/api/v1/workspaces", "bowtie.example.com", testReadToken); code != 200 {
		t.Errorf("with the token: %d %s", code, body)
	}
	if code, _ := getHost(t, base+"/api/v1/workspaces", "bowtie.example.com", ""); code != 401 {
		t.Errorf("without the token: %d, want 401", code)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit status %d:\n%s", code, stderr.String())
	}
}

// getHost is get with the Host header set to host (the URL's when empty).
func getHost(t *testing.T, url, host, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if host != "" {
		req.Host = host
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}
