package bowtie

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadBusiness_Ingest(t *testing.T) {
	write := func(body string) string {
		p := filepath.Join(t.TempDir(), "bowtie.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("TEST_WEB_KEY", "from-the-env-1")
	b, err := LoadBusiness(write(`preset: b2b
ingest:
  sources:
    - {name: web, write_key_env: TEST_WEB_KEY}
    - {name: backend, write_key: inline-key-2}
  user_agent: drop
`), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Ingest.Sources) != 2 || b.Ingest.Sources[0].WriteKey != "from-the-env-1" || b.Ingest.IP != "truncate" || b.Ingest.UserAgent != "drop" {
		t.Errorf("ingest %+v", b.Ingest)
	}
	if d, _ := Preset("b2c"); d.Ingest.IP != "truncate" || d.Ingest.UserAgent != "keep" || len(d.Ingest.Sources) != 0 {
		t.Errorf("defaults %+v", d.Ingest)
	}
	for name, tt := range map[string]struct{ body, want string }{
		"ErrPolicy":    {"ingest: {ip: mask}", "ingest.ip"},
		"ErrHashKey":   {"ingest: {ip: hash}", "ip_hash_key"},
		"ErrShortKey":  {"ingest: {sources: [{name: web, write_key: abc}]}", "at least 8"},
		"ErrDupKey":    {"ingest: {sources: [{name: a, write_key: abcdefgh}, {name: b, write_key: abcdefgh}]}", "twice"},
		"ErrEmptyEnv":  {"ingest: {sources: [{name: a, write_key_env: TEST_NOT_SET_ANYWHERE}]}", "is empty"},
		"ErrName":      {"ingest: {sources: [{name: 'a b', write_key: abcdefgh}]}", "name"},
		"ErrUnknownKy": {"ingest: {source: []}", "not found"},
	} {
		_, err := LoadBusiness(write(tt.body), false)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error about %q", name, err, tt.want)
		}
	}
}
