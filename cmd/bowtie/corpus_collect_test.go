package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// collectCorpusDir holds the bad-input corpus of the collection API.
const collectCorpusDir = "../../testdata/collect"

// collectCase is one line of testdata/collect/cases.txt.
type collectCase struct {
	line           int
	call, file     string
	generated      bool
	status         int
	detail         string
	gzip           bool
	acceptedEvents int
}

func readCollectCorpus(t *testing.T) []collectCase {
	t.Helper()
	f, err := os.Open(filepath.Join(collectCorpusDir, "cases.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []collectCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		parts := strings.SplitN(text, " | ", 4)
		if len(parts) != 4 {
			t.Fatalf("cases.txt:%d: want call | file | status | detail", n)
		}
		c := collectCase{line: n, call: strings.TrimSpace(parts[0]), file: strings.TrimSpace(parts[1]), detail: strings.TrimSpace(parts[3])}
		c.file, c.generated = strings.CutPrefix(c.file, "gen:")
		c.gzip = strings.Contains(c.file, "gzip")
		if c.status, err = strconv.Atoi(strings.TrimSpace(parts[2])); err != nil {
			t.Fatalf("cases.txt:%d: status %q", n, parts[2])
		}
		switch {
		case c.status == 200:
			if c.acceptedEvents, err = strconv.Atoi(c.detail); err != nil {
				t.Fatalf("cases.txt:%d: a 200 wants the number of events added", n)
			}
		case c.detail == "":
			t.Fatalf("cases.txt:%d: a refusal wants a part of its message", n)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 20 {
		t.Fatalf("only %d cases read", len(out))
	}
	return out
}

// collectBody returns the request body of c: the committed file, or the
// generated one for gen: cases.
func collectBody(t *testing.T, c collectCase) []byte {
	t.Helper()
	if !c.generated {
		b, err := os.ReadFile(filepath.Join(collectCorpusDir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	track := func(i int, pad int) string {
		return fmt.Sprintf(`{"type":"track","userId":"u-%d","event":"Signed Up","messageId":"gen-%d","timestamp":"2024-03-01T10:00:00Z","properties":{"pad":%q}}`,
			i, i, strings.Repeat("x", pad))
	}
	switch c.file {
	case "huge-message.json":
		return []byte(track(0, 40_000))
	case "huge-batch.json":
		var b strings.Builder
		b.WriteString(`{"batch":[`)
		for i := 0; b.Len() < 600_000; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(track(i, 1000))
		}
		b.WriteString(`]}`)
		return []byte(b.String())
	case "gzip-bomb.json":
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(`{"batch":[{"type":"track","userId":"u","event":"e","properties":{"pad":"`))
		zw.Write(bytes.Repeat([]byte("0"), 8<<20))
		zw.Write([]byte(`"}}]}`))
		zw.Close()
		return buf.Bytes()
	}
	t.Fatalf("cases.txt:%d: no generator for %s", c.line, c.file)
	return nil
}

// TestServe_CollectCorpus sends every request of testdata/collect/cases.txt
// to a running `bowtie serve`: each must get its status and error, the
// refused ones must leave the store's content hash unchanged, and the
// accepted ones must add the events they hold.
func TestServe_CollectCorpus(t *testing.T) {
	cases := readCollectCorpus(t)
	path := mustStoreFile(t, "collect.duckdb")
	const key = "corpus-write-key-1"
	t.Setenv(writeKeysEnv, "")
	args := []string{"--db", path, "--addr", "127.0.0.1:0", "--write-key", "web=" + key}

	// A few events first, so that a refusal has rows to leave alone.
	base, stop, stderr := startServe(t, args...)
	post(t, base, "batch", []byte(`{"batch":[{"type":"track","userId":"u-0","event":"Signed Up","messageId":"seed-1","timestamp":"2024-02-01T10:00:00Z"},
		{"type":"identify","userId":"u-0","traits":{"email":"a@example.com"},"messageId":"seed-2","timestamp":"2024-02-01T10:00:00Z"}]}`), key, false, 200)
	if code := stop(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	before := storeHash(t, path)
	events := countEvents(t, path)

	base, stop, stderr = startServe(t, args...)
	refused := 0
	for _, c := range cases {
		if c.status == 200 {
			continue
		}
		refused++
		msg := post(t, base, c.call, collectBody(t, c), key, c.gzip, c.status)
		if !strings.Contains(msg, c.detail) {
			t.Errorf("cases.txt:%d: %s: error %q does not contain %q", c.line, c.file, msg, c.detail)
		}
		if !strings.Contains(msg, "nothing from this request was stored") && c.status == 400 {
			t.Errorf("cases.txt:%d: %s: error %q does not say nothing was stored", c.line, c.file, msg)
		}
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if after := storeHash(t, path); after != before {
		t.Errorf("the store changed after %d refused requests", refused)
	}

	base, stop, stderr = startServe(t, args...)
	for _, c := range cases {
		if c.status != 200 {
			continue
		}
		post(t, base, c.call, collectBody(t, c), key, c.gzip, 200)
		events += c.acceptedEvents
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if got := countEvents(t, path); got != events {
		t.Errorf("%d events stored after the accepted requests, want %d", got, events)
	}
}

// post sends body to /v1/call with the write key and checks the status;
// it returns the error message of a refusal.
func post(t *testing.T, base, call string, body []byte, key string, gz bool, status int) string {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/v1/"+call, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(key, "")
	req.Header.Set("Content-Type", "application/json")
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		t.Errorf("/v1/%s: %s, want %d: %.300s", call, res.Status, status, text)
	}
	var e struct {
		Error struct{ Message string } `json:"error"`
	}
	if json.Unmarshal(text, &e) == nil && e.Error.Message != "" {
		return e.Error.Message
	}
	return string(text)
}
