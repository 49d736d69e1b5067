package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/segment"
)

// memSink records commits in memory.
type memSink struct {
	mu      sync.Mutex
	commits []*Commit
	ids     map[string]int
	delay   time.Duration
	fail    error
}

func (s *memSink) Write(ctx context.Context, c *Commit) error {
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.commits = append(s.commits, c)
	for _, r := range c.Events {
		s.ids[r[0].(string)]++
	}
	return nil
}

func (s *memSink) RecentIDs(ctx context.Context, since time.Time, limit int, yield func(string, time.Time)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.ids {
		yield(id, time.Now())
	}
	return nil
}

func mustIngester(t *testing.T, sink Sink, mod func(*Config)) *Ingester {
	t.Helper()
	biz, err := bowtie.Preset("b2c")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Business: biz, Sink: sink, Sources: []bowtie.Source{{Name: "web", WriteKey: "key-12345"}}}
	if mod != nil {
		mod(&cfg)
	}
	in, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(context.Background()) })
	return in
}

func decode(t *testing.T, body string) []segment.Message {
	t.Helper()
	r := segment.Decode("batch", []byte(body))
	if len(r.Problems) > 0 {
		t.Fatal(r.Problems)
	}
	return r.Messages
}

// TestIngester_GroupCommit checks that concurrent requests share commits,
// that every Submit returns only after its commit, and that duplicates
// (in a commit and across commits) are stored once.
func TestIngester_GroupCommit(t *testing.T) {
	sink := &memSink{ids: map[string]int{}, delay: 20 * time.Millisecond}
	in := mustIngester(t, sink, nil)
	var wg sync.WaitGroup
	const clients = 20
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			body := fmt.Sprintf(`{"batch":[{"type":"track","userId":"u","event":"e","messageId":"m%d"},{"type":"track","userId":"u","event":"e","messageId":"shared"}]}`, c)
			if err := in.Submit(context.Background(), "web", decode(t, body), time.Now(), len(body), ""); err != nil {
				t.Error(err)
				return
			}
			sink.mu.Lock()
			stored := sink.ids[fmt.Sprintf("m%d", c)]
			sink.mu.Unlock()
			if stored != 1 {
				t.Errorf("Submit returned before m%d was committed", c)
			}
		}(c)
	}
	wg.Wait()
	if len(sink.ids) != clients+1 || sink.ids["shared"] != 1 {
		t.Errorf("stored %v", sink.ids)
	}
	if len(sink.commits) >= clients {
		t.Errorf("%d commits for %d concurrent requests: no group commit", len(sink.commits), clients)
	}
	if d := in.m.duplicates.Load(); d != clients-1 {
		t.Errorf("%d duplicates counted, want %d", d, clients-1)
	}
}

// TestIngester_StoreError checks that a failed commit fails its requests
// and stores nothing, and that the ids are not remembered as stored.
func TestIngester_StoreError(t *testing.T) {
	sink := &memSink{ids: map[string]int{}, fail: fmt.Errorf("disk full")}
	in := mustIngester(t, sink, nil)
	msgs := decode(t, `{"batch":[{"type":"track","userId":"u","event":"e","messageId":"x"}]}`)
	if err := in.Submit(context.Background(), "web", msgs, time.Now(), 10, ""); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Submit = %v", err)
	}
	sink.fail = nil
	if err := in.Submit(context.Background(), "web", msgs, time.Now(), 10, ""); err != nil {
		t.Fatal(err)
	}
	if sink.ids["x"] != 1 {
		t.Errorf("the retry after a failure was not stored: %v", sink.ids)
	}
}

// gateSink holds each Write until a value arrives on results, and returns
// it (storing the commit when it is nil).
type gateSink struct {
	memSink
	entered chan struct{}
	results chan error
}

func (s *gateSink) Write(ctx context.Context, c *Commit) error {
	s.entered <- struct{}{}
	if err := <-s.results; err != nil {
		return err
	}
	return s.memSink.Write(ctx, c)
}

// TestIngester_PipelineError checks the group built while another one
// commits: a copy of a message that is in the committing group is left
// out, and when that group fails, the group with the copy fails too (its
// request must not be acknowledged); a group that left nothing out is
// stored. Retries are then stored once.
func TestIngester_PipelineError(t *testing.T) {
	sink := &gateSink{memSink: memSink{ids: map[string]int{}}, entered: make(chan struct{}), results: make(chan error)}
	in := mustIngester(t, sink, nil)
	send := func(ids ...string) chan error {
		var b strings.Builder
		b.WriteString(`{"batch":[`)
		for i, id := range ids {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"type":"track","anonymousId":"a","event":"e","messageId":%q}`, id)
		}
		b.WriteString(`]}`)
		msgs := decode(t, b.String())
		done := make(chan error, 1)
		go func() { done <- in.Submit(context.Background(), "web", msgs, time.Now(), 10, "") }()
		return done
	}
	first := send("x", "y")
	<-sink.entered // the group of first is committing
	second := send("y", "z")
	time.Sleep(50 * time.Millisecond) // second is in the next group
	sink.results <- fmt.Errorf("disk full")
	if err := <-first; err == nil {
		t.Fatal("first: the failed commit was acknowledged")
	}
	if err := <-second; err == nil { // rolled back without a Write
		t.Fatal("second: acknowledged though its copy of y was in the failed commit")
	}
	if len(sink.ids) != 0 {
		t.Fatalf("stored %v", sink.ids)
	}

	// Without a copy, the next group does not depend on the one that fails.
	first = send("x")
	<-sink.entered
	second = send("w")
	time.Sleep(50 * time.Millisecond)
	sink.results <- fmt.Errorf("disk full")
	if err := <-first; err == nil {
		t.Fatal("first: the failed commit was acknowledged")
	}
	<-sink.entered
	sink.results <- nil
	if err := <-second; err != nil {
		t.Fatal(err)
	}

	// The retries.
	go func() {
		for range sink.entered {
			sink.results <- nil
		}
	}()
	for _, done := range []chan error{send("x", "y"), send("y", "z"), send("w")} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if len(sink.ids) != 4 || sink.ids["x"] != 1 || sink.ids["y"] != 1 || sink.ids["z"] != 1 || sink.ids["w"] != 1 {
		t.Errorf("stored %v", sink.ids)
	}
}

// TestIngester_Close checks that Close drains the queue and that Submit
// fails with EUNAVAILABLE afterwards.
func TestIngester_Close(t *testing.T) {
	sink := &memSink{ids: map[string]int{}, delay: 50 * time.Millisecond}
	in := mustIngester(t, sink, nil)
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			in.Submit(context.Background(), "web", decode(t, fmt.Sprintf(`{"batch":[{"type":"page","anonymousId":"a","messageId":"c%d"}]}`, i)), time.Now(), 10, "")
		}(i)
	}
	time.Sleep(10 * time.Millisecond)
	if err := in.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	err := in.Submit(context.Background(), "web", decode(t, `{"batch":[{"type":"page","anonymousId":"a"}]}`), time.Now(), 10, "")
	if bowtie.ErrorCode(err) != EUNAVAILABLE {
		t.Errorf("Submit after Close = %v", err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	n := 0
	for _, c := range sink.commits {
		n += len(c.Events)
	}
	if int64(n) != in.m.stored.Load() {
		t.Errorf("%d stored, metrics say %d", n, in.m.stored.Load())
	}
}

func TestDedupeSet(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	d := newDedupeSet(3, time.Hour)
	for i, id := range []string{"a", "b", "c"} {
		d.add(id, t0.Add(time.Duration(i)*time.Minute))
	}
	if !d.seen("a") || !d.seen("c") || d.seen("z") {
		t.Fatal("membership")
	}
	d.add("d", t0.Add(3*time.Minute)) // over the count: a goes
	if d.seen("a") || !d.seen("b") || !d.seen("d") || d.len() != 3 {
		t.Errorf("count bound: a=%v b=%v d=%v len=%d", d.seen("a"), d.seen("b"), d.seen("d"), d.len())
	}
	d.add("e", t0.Add(63*time.Minute)) // over the window: b and c go
	if d.seen("b") || d.seen("c") || !d.seen("d") || !d.seen("e") {
		t.Errorf("window bound: b=%v c=%v d=%v e=%v", d.seen("b"), d.seen("c"), d.seen("d"), d.seen("e"))
	}
}

func TestIngester_IP(t *testing.T) {
	for _, tt := range []struct{ policy, in, want string }{
		{"truncate", "203.0.113.77", "203.0.113.0"},
		{"truncate", "203.0.113.77:5555", "203.0.113.0"},
		{"truncate", "2001:db8:abcd:12::1", "2001:db8:abcd::"},
		{"truncate", "::ffff:198.51.100.9", "198.51.100.0"},
		{"truncate", "not an ip", ""},
		{"keep", "203.0.113.77", "203.0.113.77"},
		{"drop", "203.0.113.77", ""},
	} {
		biz, _ := bowtie.Preset("b2c")
		biz.Ingest.IP = tt.policy
		in := &Ingester{biz: biz}
		if got := in.ip(tt.in); got != tt.want {
			t.Errorf("%s(%q) = %q, want %q", tt.policy, tt.in, got, tt.want)
		}
	}
	biz, _ := bowtie.Preset("b2c")
	biz.Ingest.IP, biz.Ingest.IPHashKey = "hash", "secret"
	in := &Ingester{biz: biz}
	h1, h2 := in.ip("203.0.113.77"), in.ip("203.0.113.78")
	if len(h1) != 32 || h1 == h2 || h1 != in.ip("203.0.113.77") || strings.Contains(h1, "203") {
		t.Errorf("hash: %q %q", h1, h2)
	}
}

func TestWithExtras(t *testing.T) {
	extra := []keyValue{{`"_ip"`, "1.2.3.0"}, {`"_source"`, "web"}, {`"_user_agent"`, ""}}
	for _, tt := range []struct{ props, want string }{
		{``, `{"_ip":"1.2.3.0","_source":"web"}`},
		{`null`, `{"_ip":"1.2.3.0","_source":"web"}`},
		{`{}`, `{"_ip":"1.2.3.0","_source":"web"}`},
		{` {"a": 1} `, `{"_ip":"1.2.3.0","_source":"web","a": 1}`},
		{`{"_source":"spoofed","b":"x"}`, `{"_ip":"1.2.3.0","_source":"web","b":"x"}`},
	} {
		got := withExtras(json.RawMessage(tt.props), extra)
		if got != tt.want {
			t.Errorf("withExtras(%s) = %s, want %s", tt.props, got, tt.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("withExtras(%s) is not JSON: %s", tt.props, got)
		}
	}
}

func TestIngester_Source(t *testing.T) {
	in := mustIngester(t, &memSink{ids: map[string]int{}}, nil)
	if name, ok := in.Source("key-12345"); !ok || name != "web" {
		t.Errorf("Source = %q %v", name, ok)
	}
	if _, ok := in.Source("key-1234"); ok {
		t.Error("a prefix of the key was accepted")
	}
	if _, ok := in.Source(""); ok {
		t.Error("the empty key was accepted")
	}
}
