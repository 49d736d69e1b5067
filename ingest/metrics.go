package ingest

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// commitBuckets are the upper bounds (seconds) of the commit latency
// histogram.
var commitBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Metrics counts what the ingesters sharing it do. Its methods are safe
// for concurrent use; WritePrometheus renders it.
type Metrics struct {
	received, stored, duplicates atomic.Int64
	commits, commitErrors        atomic.Int64

	mu        sync.Mutex // guards the fields below
	rejected  map[string]int64
	buckets   []int64 // cumulative counts per commitBuckets, plus +Inf
	latSum    float64
	latCount  int64
	queueFunc []func() int64
}

// NewMetrics returns an empty set of metrics.
func NewMetrics() *Metrics {
	return &Metrics{rejected: map[string]int64{}, buckets: make([]int64, len(commitBuckets)+1)}
}

// Reject counts n messages refused for reason (unauthorized, invalid,
// too_large, overloaded, unavailable, store_error, ...).
func (m *Metrics) Reject(reason string, n int) {
	m.mu.Lock()
	m.rejected[reason] += int64(n)
	m.mu.Unlock()
}

// Received counts n messages that arrived (the server counts them, valid
// or not, before authentication).
func (m *Metrics) Received(n int) { m.received.Add(int64(n)) }

func (m *Metrics) observeCommit(d time.Duration, err error) {
	m.commits.Add(1)
	if err != nil {
		m.commitErrors.Add(1)
	}
	s := d.Seconds()
	m.mu.Lock()
	for i, b := range commitBuckets {
		if s <= b {
			m.buckets[i]++
		}
	}
	m.buckets[len(commitBuckets)]++
	m.latSum += s
	m.latCount++
	m.mu.Unlock()
}

// trackQueue adds a queue whose bytes the queue-depth gauge sums.
func (m *Metrics) trackQueue(f func() int64) {
	m.mu.Lock()
	m.queueFunc = append(m.queueFunc, f)
	m.mu.Unlock()
}

// Commits returns the number of group commits so far.
func (m *Metrics) Commits() int64 { return m.commits.Load() }

// Stored returns the number of messages stored so far.
func (m *Metrics) Stored() int64 { return m.stored.Load() }

// WritePrometheus writes the metrics in Prometheus' text exposition format.
func (m *Metrics) WritePrometheus(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var depth int64
	for _, f := range m.queueFunc {
		depth += f()
	}
	counter := func(name, help string, v int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	counter("bowtie_ingest_received_total", "Messages received by the collection API.", m.received.Load())
	counter("bowtie_ingest_stored_total", "Messages stored (committed durably).", m.stored.Load())
	counter("bowtie_ingest_duplicates_total", "Messages dropped as duplicates of a stored messageId.", m.duplicates.Load())
	fmt.Fprintf(w, "# HELP bowtie_ingest_rejected_total Messages refused, by reason.\n# TYPE bowtie_ingest_rejected_total counter\n")
	reasons := make([]string, 0, len(m.rejected))
	for r := range m.rejected {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(w, "bowtie_ingest_rejected_total{reason=%q} %d\n", r, m.rejected[r])
	}
	fmt.Fprintf(w, "# HELP bowtie_ingest_queue_bytes Bytes of messages waiting for the writer.\n# TYPE bowtie_ingest_queue_bytes gauge\nbowtie_ingest_queue_bytes %d\n", depth)
	counter("bowtie_ingest_commits_total", "Group commits.", m.commits.Load())
	counter("bowtie_ingest_commit_errors_total", "Group commits that failed (their messages were answered 500).", m.commitErrors.Load())
	fmt.Fprintf(w, "# HELP bowtie_ingest_commit_seconds Time to commit one group of messages.\n# TYPE bowtie_ingest_commit_seconds histogram\n")
	for i, b := range commitBuckets {
		fmt.Fprintf(w, "bowtie_ingest_commit_seconds_bucket{le=\"%g\"} %d\n", b, m.buckets[i])
	}
	fmt.Fprintf(w, "bowtie_ingest_commit_seconds_bucket{le=\"+Inf\"} %d\n", m.buckets[len(commitBuckets)])
	fmt.Fprintf(w, "bowtie_ingest_commit_seconds_sum %g\nbowtie_ingest_commit_seconds_count %d\n", m.latSum, m.latCount)
}
