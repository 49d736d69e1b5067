package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/ingest"
	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/segment"
	"github.com/bowtie-analytics/bowtie/server"
)

// The ingestion benchmarks run the whole path on loopback against a store
// file (so every commit syncs the WAL): HTTP, decoding, enrichment, dedupe,
// group commit. See BENCHMARKS.md, section Ingestion.

const benchBatch = 100

// benchFile is the store file of the last benchServer.
var benchFile string

// benchServer starts a server with a collection API on a temporary store
// file and returns its URL. The file's path is in benchFile.
func benchServer(b *testing.B) (string, *duckdb.Store, *ingest.Metrics) {
	b.Helper()
	benchFile = filepath.Join(b.TempDir(), "bench.duckdb")
	st, err := duckdb.Open(benchFile)
	if err != nil {
		b.Fatal(err)
	}
	sink, err := st.IngestSink(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	biz := MustBusiness(b, "b2c")
	m := ingest.NewMetrics()
	in, err := ingest.New(context.Background(), ingest.Config{Business: biz, Sink: sink, Metrics: m,
		Sources: []bowtie.Source{{Name: "web", WriteKey: testKey}}})
	if err != nil {
		b.Fatal(err)
	}
	s, err := server.New(server.Config{Workspaces: []server.Workspace{{Name: "b", DB: st.DB(), Dialect: query.DuckDB{}, Business: biz, Ingest: in}}})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s)
	b.Cleanup(func() {
		ts.Close()
		in.Close(context.Background())
		sink.Close()
		st.Close()
	})
	return ts.URL, st, m
}

// batchBody appends a batch of benchBatch page and track messages, ids
// prefix-0 ... prefix-99, shaped like what a browser SDK sends.
func batchBody(buf []byte, prefix string) []byte {
	buf = append(buf, `{"sentAt":"2025-06-01T12:00:01.000Z","batch":[`...)
	for i := 0; i < benchBatch; i++ {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"type":"`...)
		if i%4 == 0 {
			buf = append(buf, `page","name":"Pricing`...)
		} else {
			buf = append(buf, `track","event":"Video Played`...)
		}
		buf = append(buf, `","messageId":"`...)
		buf = append(buf, prefix...)
		buf = append(buf, '-')
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, `","anonymousId":"anon-`...)
		buf = append(buf, prefix...)
		buf = append(buf, `","timestamp":"2025-06-01T12:00:00.000Z","properties":{"video":"intro","position":12},`+
			`"context":{"ip":"203.0.113.9","userAgent":"Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0",`+
			`"page":{"url":"https://shop.example/pricing?utm_source=tiktok&utm_medium=paid-social&utm_campaign=june&ttclid=T1","referrer":"https://www.tiktok.com/"}}}`...)
	}
	return append(buf, `]}`...)
}

// post sends one batch and reports whether it was acknowledged.
func benchPost(client *http.Client, url string, body []byte) error {
	req, _ := http.NewRequest("POST", url+"/v1/batch", bytes.NewReader(body))
	req.SetBasicAuth(testKey, "")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("status %s", res.Status)
	}
	return nil
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
}

// BenchmarkIngest_HTTP measures end-to-end throughput: $BOWTIE_BENCH_CLIENTS
// (default 8) clients post batches of 100 messages as fast as they are
// acknowledged. One op is one batch.
func BenchmarkIngest_HTTP(b *testing.B) {
	url, st, m := benchServer(b)
	clients := envInt("BOWTIE_BENCH_CLIENTS", 8)
	client := benchClient()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			var buf []byte
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				buf = batchBody(buf[:0], "r"+strconv.FormatInt(n, 36))
				if err := benchPost(client, url, buf); err != nil {
					b.Error(err)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.N*benchBatch)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(b.N*benchBatch)/cpu.Seconds(), "events/cpu-s")
	b.ReportMetric(float64(m.Stored())/float64(m.Commits()), "events/commit")
	// The WAL left at the end: small when DuckDB kept checkpointing while
	// the writer held a second transaction open.
	if fi, err := os.Stat(benchFile + ".wal"); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "wal-MB")
	}
	var n int
	st.DB().QueryRow("SELECT count(*) FROM events").Scan(&n)
	if n != b.N*benchBatch {
		b.Fatalf("%d events stored, want %d", n, b.N*benchBatch)
	}
}

// BenchmarkIngest_Latency offers a steady load of $BOWTIE_BENCH_RATE
// events/s (default 50 000) in batches of 100 for $BOWTIE_BENCH_SECONDS
// (default 10) and reports the p50, p99 and maximum acknowledgement
// latency. Run it with -benchtime=1x: each op is one whole run.
//
// $BOWTIE_BENCH_SENDERS (default 256) goroutines share the schedule: batch
// i is due at start + i/rate, and sender i%N sends it when due, or at
// once when its previous batch was acknowledged late. Latency runs from
// the due time, not from the send, so a sender held up by a slow
// acknowledgement does not hide the wait (no coordinated omission). Each
// sender rebuilds the body in its own buffer; events/s is what was
// acknowledged over the run, and behind-ms how late the last batches were
// sent (near zero when the generator and server kept up).
func BenchmarkIngest_Latency(b *testing.B) {
	url, _, _ := benchServer(b)
	rate := envInt("BOWTIE_BENCH_RATE", 50_000)
	secs := envInt("BOWTIE_BENCH_SECONDS", 10)
	senders := envInt("BOWTIE_BENCH_SENDERS", 256)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders, DisableCompression: true}}
	interval := float64(time.Second) * benchBatch / float64(rate)
	total := int(float64(secs) * float64(time.Second) / interval)
	b.ResetTimer()
	for op := 0; op < b.N; op++ {
		lat := make([]time.Duration, total) // by batch; each written by one sender
		var failed atomic.Int64
		var behind atomic.Int64 // the largest send delay of the last second, ns
		var wg sync.WaitGroup
		start, cpu0 := time.Now(), cpuTime()
		for w := 0; w < senders; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				var buf []byte
				for i := w; i < total; i += senders {
					due := start.Add(time.Duration(float64(i) * interval))
					buf = batchBody(buf[:0], "l"+strconv.Itoa(op)+"-"+strconv.Itoa(i))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					} else if i >= total-rate/benchBatch {
						if late := int64(-d); late > behind.Load() {
							behind.Store(late) // racy max: good enough for a report
						}
					}
					if err := benchPost(client, url, buf); err != nil {
						failed.Add(1)
						continue
					}
					lat[i] = time.Since(due)
				}
			}(w)
		}
		wg.Wait()
		elapsed, cpu := time.Since(start), cpuTime()-cpu0
		if failed.Load() > 0 {
			b.Fatalf("%d batches failed", failed.Load())
		}
		slices.Sort(lat)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		pct := func(p float64) float64 { return ms(lat[int(p*float64(len(lat)-1))]) }
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
		b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
		b.ReportMetric(ms(time.Duration(behind.Load())), "behind-ms")
		b.ReportMetric(float64(total*benchBatch)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(total*benchBatch)/cpu.Seconds(), "events/cpu-s")
	}
}

// BenchmarkIngest_Submit is the path without HTTP and JSON: the same
// messages, decoded once up front, go through Ingester.Submit (enrichment,
// dedupe, group commit) from $BOWTIE_BENCH_CLIENTS goroutines.
func BenchmarkIngest_Submit(b *testing.B) {
	st, err := duckdb.Open(filepath.Join(b.TempDir(), "bench.duckdb"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sink, err := st.IngestSink(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	in, err := ingest.New(context.Background(), ingest.Config{Business: MustBusiness(b, "b2c"), Sink: sink})
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close(context.Background())
	template := segment.Decode("batch", batchBody(nil, "t")).Messages
	clients := envInt("BOWTIE_BENCH_CLIENTS", 8)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msgs := slices.Clone(template)
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				for i := range msgs {
					msgs[i].MessageID = strconv.FormatInt(n, 36) + "-" + strconv.Itoa(i)
				}
				if err := in.Submit(context.Background(), "web", msgs, time.Now(), 40_000, ""); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N*benchBatch)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(b.N*benchBatch)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
}

// BenchmarkIngest_SinkOnly is the baseline: the store alone, appending the
// same rows (already enriched) in commits of 10 000 through IngestSink,
// with the same WAL sync per commit. One op is one commit.
func BenchmarkIngest_SinkOnly(b *testing.B) {
	st, err := duckdb.Open(filepath.Join(b.TempDir(), "bench.duckdb"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sink, err := st.IngestSink(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	const per = 10_000
	ts := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	props := `{"_ip":"203.0.113.0","_source":"web","_user_agent":"Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0","video":"intro","position":12}`
	// The rows are built once (the sink does not dedupe), so the loop
	// measures the store alone.
	c := &ingest.Commit{Events: make([][]any, per)}
	for i := range c.Events {
		c.Events[i] = []any{fmt.Sprintf("s-%d", i), ts, ts, "track", "Video Played", "anon-1", nil, nil,
			"tiktok", "paid-social", "june", nil, nil, "ttclid", "T1", "https://www.tiktok.com/",
			"https://shop.example/pricing?utm_source=tiktok&utm_medium=paid-social&utm_campaign=june&ttclid=T1",
			"Paid Social", nil, nil, props}
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for op := 0; op < b.N; op++ {
		if err := sink.Write(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*per)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(b.N*per)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
}

// cpuTime is the CPU time (user and system) this process has used. On a
// shared machine events per CPU-second measure the cost of the path where
// wall-clock rates measure the neighbours too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
