package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
)

func TestParseWriteKey(t *testing.T) {
	for _, tt := range []struct {
		in, ws, name, key string
		ok                bool
	}{
		{"web=abcdefgh", "", "web", "abcdefgh", true},
		{"b2b/web=abc=defgh", "b2b", "web", "abc=defgh", true},
		{"web", "", "", "", false},
		{"web=short", "", "", "", false},
		{"bad name=abcdefgh", "", "", "", false},
	} {
		k, err := parseWriteKey(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("%q: err %v", tt.in, err)
			continue
		}
		if err != nil {
			if strings.Contains(err.Error(), "short") || strings.Contains(err.Error(), "abcdefgh") {
				t.Errorf("%q: the error shows the key: %v", tt.in, err)
			}
			continue
		}
		if k.workspace != tt.ws || k.source.Name != tt.name || k.source.WriteKey != tt.key {
			t.Errorf("%q: %+v", tt.in, k)
		}
	}
}

func TestSourcesByWorkspace(t *testing.T) {
	b2b, _ := bowtie.Preset("b2b")
	b2c, _ := bowtie.Preset("b2c")
	ws := []workspace{{Name: "b2b"}, {Name: "b2c"}}
	key := func(v string) writeKey {
		k, err := parseWriteKey(v)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	got, err := sourcesByWorkspace(ws, []*bowtie.Business{b2b, b2c}, []writeKey{key("b2b/web=key-one-1"), key("b2c/app=key-two-2")})
	if err != nil || len(got[0]) != 1 || got[0][0].Name != "web" || len(got[1]) != 1 || got[1][0].Name != "app" {
		t.Errorf("%v %v", got, err)
	}
	for name, keys := range map[string][]writeKey{
		"ErrNoWorkspace":      {key("web=key-one-1")},
		"ErrUnknownWorkspace": {key("b2x/web=key-one-1")},
		"ErrDuplicateKey":     {key("b2b/web=key-one-1"), key("b2c/app=key-one-1")},
	} {
		if _, err := sourcesByWorkspace(ws, []*bowtie.Business{b2b, b2c}, keys); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestServe_Collect runs bowtie serve with a write key from the
// environment, sends an event and checks it is stored once the server
// has stopped (the stop drains and flushes).
func TestServe_Collect(t *testing.T) {
	path := mustStoreFile(t, "shop.duckdb")
	t.Setenv(writeKeysEnv, "web=env-write-key-1")
	base, stop, stderr := startServe(t, "--db", path, "--addr", "127.0.0.1:0", "--write-key", "backend=flag-write-key-2")
	if !strings.Contains(stderr.String(), "collecting events for shop from web, backend") &&
		!strings.Contains(stderr.String(), "collecting events for shop from backend, web") {
		t.Errorf("no collection line:\n%s", stderr)
	}
	for i, key := range []string{"env-write-key-1", "flag-write-key-2"} {
		req, _ := http.NewRequest("POST", base+"/v1/track", strings.NewReader(`{"userId":"u","event":"Signed Up","messageId":"m`+string(rune('0'+i))+`"}`))
		req.SetBasicAuth(key, "")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("key %d: %s", i, res.Status)
		}
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	st, err := duckdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var sources string
	st.DB().QueryRow("SELECT string_agg(properties->>'_source', ',' ORDER BY id) FROM events").Scan(&sources)
	if sources != "web,backend" {
		t.Errorf("stored sources %q, want web,backend", sources)
	}
}

// TestServe_CollectOff checks that a server without write keys refuses
// events, and that a bad key in the environment stops the start.
func TestServe_CollectOff(t *testing.T) {
	path := mustStoreFile(t, "shop.duckdb")
	t.Setenv(writeKeysEnv, "")
	base, stop, _ := startServe(t, "--db", path, "--addr", "127.0.0.1:0")
	res, err := http.Post(base+"/v1/track", "application/json", strings.NewReader(`{"userId":"u","event":"e"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("collection without a key: %s", res.Status)
	}
	stop()

	t.Setenv(writeKeysEnv, "web=short")
	env := &Env{Stdout: &lockedBuffer{}, Stderr: &lockedBuffer{}, Config: DefaultConfig()}
	if code := run(t.Context(), env, []string{"serve", "--db", path, "--addr", "127.0.0.1:0"}); code != 2 {
		t.Errorf("a too short key in the environment: exit %d, want 2", code)
	}
}
