// Package ingest turns calls of Segment's tracking API into rows of the
// canonical tables and stores them durably: write-key auth, enrichment
// (campaign parameters, click ids, channel, identity, IP policy), dedupe by
// messageId, and group commit through one writer goroutine that drains a
// bounded queue.
//
// Submit returns only after the transaction holding the messages has
// committed, so a caller may acknowledge them. The store is behind the Sink
// interface; duckdb.IngestSink is the embedded one.
package ingest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/segment"
)

// Error codes of ingestion, completing bowtie's codes. The server answers
// both with 503 and a Retry-After header.
const (
	EOVERLOADED  = "overloaded"  // the queue is full: retry later
	EUNAVAILABLE = "unavailable" // the ingester is shutting down
)

// Sink stores group commits. Implementations: duckdb.IngestSink.
type Sink interface {
	// Write stores c in one transaction and returns once it has committed
	// durably: all of c or, with an error, none of it.
	Write(ctx context.Context, c *Commit) error
	// RecentIDs calls yield with the ids of the newest stored events
	// received at or after since, at most limit of them, newest first. The
	// dedupe set is loaded from it at start.
	RecentIDs(ctx context.Context, since time.Time, limit int, yield func(id string, receivedAt time.Time)) error
}

// Commit is what one transaction stores: new events, and the people,
// accounts and identity links the messages create or update.
type Commit struct {
	// Events are rows of the events table in bowtie.Tables field order.
	Events [][]any
	// People and Accounts hold one merged update per id.
	People   []*PersonUpdate
	Accounts []*AccountUpdate
	// Identities link ids to people; a link whose (kind, alias_id) is
	// already stored is kept as it is.
	Identities []Identity
}

// PersonUpdate is what identify, group and alias calls say about a person.
// Empty fields leave the stored value unchanged; Properties (traits, JSON
// object text or "") are merged key by key into the stored ones.
type PersonUpdate struct {
	ID, EmailHash, AccountID, Role, Country string
	FirstSeen                               time.Time // created_at for a new person
	Properties                              string
	props                                   map[string]any
}

// AccountUpdate is what group calls say about an account (group traits).
type AccountUpdate struct {
	ID, Name, Domain, Industry, Country, Region, Tier string
	Employees                                         int64 // 0: unchanged
	FirstSeen                                         time.Time
	Properties                                        string
	props                                             map[string]any
}

// Identity is a row of the identities table.
type Identity struct {
	Kind, AliasID, PersonID, Source string
	TS                              time.Time
}

// Config configures an Ingester. Zero values take the defaults noted.
type Config struct {
	// Business gives the channel rules and the ingest policy (IP and
	// user-agent handling). Required.
	Business *bowtie.Business
	// Sources are the write keys accepted (default: Business.Ingest.Sources).
	Sources []bowtie.Source
	// Sink stores the commits. Required.
	Sink Sink
	// Metrics counts what happens (default: a private set).
	Metrics *Metrics
	// Logger receives errors (default: discard).
	Logger *slog.Logger
	// QueueBytes bounds the JSON size of the messages waiting for the
	// writer; beyond it Submit fails with EOVERLOADED (default 64 MiB).
	QueueBytes int64
	// MaxCommitEvents bounds the messages of one group commit (default 20 000).
	MaxCommitEvents int
	// DedupeIDs and DedupeWindow bound the set of recent messageIds that
	// duplicates are detected against: a retry is absorbed when its first
	// copy is among the last DedupeIDs stored and was received less than
	// DedupeWindow ago (defaults 1 000 000 and 24 h).
	DedupeIDs    int
	DedupeWindow time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Ingester validates, enriches and stores messages. Create it with New and
// end it with Close; its methods are safe for concurrent use.
type Ingester struct {
	cfg    Config
	biz    *bowtie.Business
	m      *Metrics
	log    *slog.Logger
	keys   map[string]string // write key -> source name
	queue  chan *request
	queued atomic.Int64 // bytes waiting in queue

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	done   chan struct{} // closed when the writer has exited

	chMu    sync.RWMutex // guards chCache
	chCache map[bowtie.Touch]string

	// dedupe is owned by the writer goroutine.
	dedupe *dedupeSet
}

// request is one Submit waiting for its commit.
type request struct {
	msgs  []*enriched
	bytes int64
	done  chan error
}

// New checks cfg, loads the recent messageIds from the sink and starts the
// writer. Errors: *bowtie.Error EINVALID for a bad config, or the sink's.
func New(ctx context.Context, cfg Config) (*Ingester, error) {
	if cfg.Business == nil || cfg.Sink == nil {
		return nil, bowtie.Errorf(bowtie.EINVALID, "ingest: a Business and a Sink are required")
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.QueueBytes <= 0 {
		cfg.QueueBytes = 64 << 20
	}
	if cfg.MaxCommitEvents <= 0 {
		cfg.MaxCommitEvents = 20_000
	}
	if cfg.DedupeIDs <= 0 {
		cfg.DedupeIDs = 1_000_000
	}
	if cfg.DedupeWindow <= 0 {
		cfg.DedupeWindow = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	in := &Ingester{
		cfg: cfg, biz: cfg.Business, m: cfg.Metrics, log: cfg.Logger,
		keys:    map[string]string{},
		chCache: map[bowtie.Touch]string{},
		queue:   make(chan *request, 4096),
		done:    make(chan struct{}),
		dedupe:  newDedupeSet(cfg.DedupeIDs, cfg.DedupeWindow),
	}
	if cfg.Sources == nil {
		cfg.Sources = cfg.Business.Ingest.Sources
	}
	for _, s := range cfg.Sources {
		if s.WriteKey == "" || !bowtie.ValidSourceName(s.Name) {
			return nil, bowtie.Errorf(bowtie.EINVALID, "ingest: source %q needs a valid name and a write key", s.Name)
		}
		in.keys[s.WriteKey] = s.Name
	}
	// Load newest first, then add oldest first so the ring expires in order.
	type rec struct {
		id string
		at time.Time
	}
	var recent []rec
	err := cfg.Sink.RecentIDs(ctx, cfg.Now().Add(-cfg.DedupeWindow), cfg.DedupeIDs, func(id string, at time.Time) {
		recent = append(recent, rec{id, at})
	})
	if err != nil {
		return nil, fmt.Errorf("ingest: load recent message ids: %w", err)
	}
	for i := len(recent) - 1; i >= 0; i-- {
		in.dedupe.add(recent[i].id, recent[i].at)
	}
	in.m.trackQueue(in.queued.Load)
	go in.writer()
	return in, nil
}

// Enabled reports whether any write key is configured.
func (in *Ingester) Enabled() bool { return len(in.keys) > 0 }

// Source returns the name of the source whose write key is key.
func (in *Ingester) Source(key string) (string, bool) {
	for k, name := range in.keys {
		if constantTimeEqual(k, key) {
			return name, true
		}
	}
	return "", false
}

// Metrics returns the ingester's metrics.
func (in *Ingester) Metrics() *Metrics { return in.m }

// Submit enriches msgs (already validated by package segment), queues them
// and waits until the transaction that holds them has committed; then it
// returns nil and the caller may acknowledge. receivedAt is when the
// request arrived, size its body length (it counts against the queue
// bound), remoteIP the sender's address (used when a message has no
// context.ip). Errors: EOVERLOADED when the queue is full, EUNAVAILABLE
// after Close, ctx's error if the caller gives up before the commit (the
// messages may still be stored: a retry is deduplicated), or the store's.
func (in *Ingester) Submit(ctx context.Context, source string, msgs []segment.Message, receivedAt time.Time, size int, remoteIP string) error {
	if len(msgs) == 0 {
		return nil
	}
	req := &request{msgs: make([]*enriched, len(msgs)), bytes: int64(size), done: make(chan error, 1)}
	for i := range msgs {
		req.msgs[i] = in.enrich(&msgs[i], source, receivedAt, remoteIP)
	}
	if in.queued.Add(req.bytes) > in.cfg.QueueBytes {
		in.queued.Add(-req.bytes)
		in.m.Reject(EOVERLOADED, len(msgs))
		return bowtie.Errorf(EOVERLOADED, "the ingestion queue is full: retry later")
	}
	in.mu.RLock()
	if in.closed {
		in.mu.RUnlock()
		in.queued.Add(-req.bytes)
		in.m.Reject(EUNAVAILABLE, len(msgs))
		return bowtie.Errorf(EUNAVAILABLE, "the server is shutting down: retry later")
	}
	select {
	case in.queue <- req:
	default:
		in.mu.RUnlock()
		in.queued.Add(-req.bytes)
		in.m.Reject(EOVERLOADED, len(msgs))
		return bowtie.Errorf(EOVERLOADED, "the ingestion queue is full: retry later")
	}
	in.mu.RUnlock()
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting messages, lets the writer commit everything queued
// and waits for it (or for ctx). Submit fails with EUNAVAILABLE afterwards.
func (in *Ingester) Close(ctx context.Context) error {
	in.mu.Lock()
	if !in.closed {
		in.closed = true
		close(in.queue)
	}
	in.mu.Unlock()
	select {
	case <-in.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("ingest: close: %w", ctx.Err())
	}
}

// writer is the one goroutine that commits: it takes the first waiting
// request, adds every other one already queued (up to MaxCommitEvents
// messages), stores them in one transaction and answers them all. While a
// commit runs, new requests queue up and go into the next one, so the
// number of commits per second adapts to the load.
func (in *Ingester) writer() {
	defer close(in.done)
	for {
		first, ok := <-in.queue
		if !ok {
			return
		}
		batch := []*request{first}
		n := len(first.msgs)
	fill:
		for n < in.cfg.MaxCommitEvents {
			select {
			case r, ok := <-in.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
				n += len(r.msgs)
			default:
				break fill
			}
		}
		in.commit(batch)
	}
}

// commit stores batch in one transaction and answers its requests.
func (in *Ingester) commit(batch []*request) {
	var bytes int64
	for _, r := range batch {
		bytes += r.bytes
	}
	c, ids, dups := in.build(batch)
	start := time.Now()
	var err error
	if len(c.Events) > 0 {
		err = in.cfg.Sink.Write(context.Background(), c)
		in.m.observeCommit(time.Since(start), err)
	}
	if err == nil {
		now := in.cfg.Now()
		for _, id := range ids {
			in.dedupe.add(id, now)
		}
		in.m.stored.Add(int64(len(c.Events)))
		in.m.duplicates.Add(int64(dups))
	} else {
		in.log.Error("ingest: commit failed", slog.Int("events", len(c.Events)), slog.Any("err", err))
		n := 0
		for _, r := range batch {
			n += len(r.msgs)
		}
		in.m.Reject("store_error", n)
		err = fmt.Errorf("ingest: store: %w", err)
	}
	in.queued.Add(-bytes)
	for _, r := range batch {
		r.done <- err
	}
}

// build turns the requests of one commit into its rows: duplicates (of a
// stored message or of one earlier in the commit) are left out entirely,
// people and account updates are merged per id in message order.
func (in *Ingester) build(batch []*request) (c *Commit, ids []string, dups int) {
	c = &Commit{}
	people := map[string]*PersonUpdate{}
	accounts := map[string]*AccountUpdate{}
	links := map[[2]string]bool{}
	inCommit := map[string]bool{}
	for _, r := range batch {
		for _, e := range r.msgs {
			if inCommit[e.id] || in.dedupe.seen(e.id) {
				dups++
				continue
			}
			inCommit[e.id] = true
			ids = append(ids, e.id)
			c.Events = append(c.Events, e.row)
			if e.person != nil {
				if p := people[e.person.ID]; p != nil {
					p.merge(e.person)
				} else {
					people[e.person.ID] = e.person
					c.People = append(c.People, e.person)
				}
			}
			if e.account != nil {
				if a := accounts[e.account.ID]; a != nil {
					a.merge(e.account)
				} else {
					accounts[e.account.ID] = e.account
					c.Accounts = append(c.Accounts, e.account)
				}
			}
			for _, l := range e.links {
				k := [2]string{l.Kind, l.AliasID}
				if !links[k] {
					links[k] = true
					c.Identities = append(c.Identities, l)
				}
			}
		}
	}
	for _, p := range c.People {
		p.Properties = encodeProps(p.props)
	}
	for _, a := range c.Accounts {
		a.Properties = encodeProps(a.props)
	}
	return c, ids, dups
}

func (p *PersonUpdate) merge(q *PersonUpdate) {
	set(&p.EmailHash, q.EmailHash)
	set(&p.AccountID, q.AccountID)
	set(&p.Role, q.Role)
	set(&p.Country, q.Country)
	if !q.FirstSeen.IsZero() && (p.FirstSeen.IsZero() || q.FirstSeen.Before(p.FirstSeen)) {
		p.FirstSeen = q.FirstSeen
	}
	p.props = mergeProps(p.props, q.props)
}

func (a *AccountUpdate) merge(q *AccountUpdate) {
	set(&a.Name, q.Name)
	set(&a.Domain, q.Domain)
	set(&a.Industry, q.Industry)
	set(&a.Country, q.Country)
	set(&a.Region, q.Region)
	set(&a.Tier, q.Tier)
	if q.Employees != 0 {
		a.Employees = q.Employees
	}
	if !q.FirstSeen.IsZero() && (a.FirstSeen.IsZero() || q.FirstSeen.Before(a.FirstSeen)) {
		a.FirstSeen = q.FirstSeen
	}
	a.props = mergeProps(a.props, q.props)
}

func set(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

func mergeProps(dst, src map[string]any) map[string]any {
	if dst == nil {
		return src
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

// newID returns a random id for a message that came without messageId
// (such a message cannot be deduplicated).
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return "bowtie-" + hex.EncodeToString(b[:])
}
