// Package ingest turns calls of Segment's tracking API into rows of the
// canonical tables and stores them durably: write-key auth, enrichment
// (campaign parameters, click ids, channel, identity, IP policy), dedupe by
// messageId, and group commit from a bounded queue, the next group built
// while the previous one commits.
//
// Submit returns only after the transaction holding the messages has
// committed, so a caller may acknowledge them. The store is behind the Sink
// interface; duckdb.IngestSink is the embedded one.
package ingest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
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

// TxSink is a Sink that can build a transaction while another one
// commits, so that appending a group overlaps the commit (and WAL sync) of
// the one before. The ingester commits the transactions in the order they
// began and runs identity updates only in a transaction that began while
// no other was open.
type TxSink interface {
	Sink
	// Begin opens a transaction. At most two are open at once: Begin
	// waits for one to end (or for ctx).
	Begin(ctx context.Context) (Tx, error)
}

// Tx is a transaction of a TxSink, used by one goroutine at a time.
type Tx interface {
	// Write adds c to the transaction; nothing is visible or durable
	// before Commit. After an error the transaction can only be rolled
	// back.
	Write(ctx context.Context, c *Commit) error
	// Commit commits durably everything written: all of it or, with an
	// error, none of it. It ends the transaction either way.
	Commit(ctx context.Context) error
	// Rollback discards the transaction, if Commit did not end it.
	Rollback()
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

	sink TxSink // cfg.Sink, or serialSink around it

	dmu      sync.Mutex          // guards dedupe and inflight
	dedupe   *dedupeSet          // ids stored
	inflight map[[2]uint64]int64 // ids in groups not yet resolved -> group seq
	seq      int64               // of the last group begun; owned by writer
}

// request is one Submit waiting for its commit.
type request struct {
	msgs     []*enriched
	bytes    int64
	identity bool // some message updates people, accounts or identities
	done     chan error
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
		keys:     map[string]string{},
		chCache:  map[bowtie.Touch]string{},
		queue:    make(chan *request, 4096),
		done:     make(chan struct{}),
		dedupe:   newDedupeSet(cfg.DedupeIDs, cfg.DedupeWindow),
		inflight: map[[2]uint64]int64{},
	}
	if ts, ok := cfg.Sink.(TxSink); ok {
		in.sink = ts
	} else {
		in.sink = serialSink{cfg.Sink}
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

// Submit enriches msgs (already validated by package segment, best by
// segment.DecodeAt with the same receivedAt), queues them and waits until
// the transaction that holds them has committed; then it returns nil and
// the caller may acknowledge. receivedAt is when the request arrived, size
// its body length (it counts against the queue bound), remoteIP the
// sender's address (used when a message has no context.ip). Errors:
// EINVALID, storing nothing, when a message's event time is outside the
// window segment accepts at receivedAt (Message.CheckTime); EOVERLOADED
// when the queue is full, EUNAVAILABLE after Close, ctx's error if the
// caller gives up before the commit (the messages may still be stored: a
// retry is deduplicated), or the store's.
func (in *Ingester) Submit(ctx context.Context, source string, msgs []segment.Message, receivedAt time.Time, size int, remoteIP string) error {
	if len(msgs) == 0 {
		return nil
	}
	for i := range msgs {
		if field, reason := msgs[i].CheckTime(receivedAt); reason != "" {
			in.m.Reject(bowtie.EINVALID, len(msgs))
			return bowtie.Errorf(bowtie.EINVALID, "message %d: %s: %s; nothing from this request was stored", i, field, reason)
		}
	}
	req := &request{msgs: make([]*enriched, len(msgs)), bytes: int64(size), done: make(chan error, 1)}
	for i := range msgs {
		e := in.enrich(&msgs[i], source, receivedAt, remoteIP)
		req.msgs[i] = e
		req.identity = req.identity || e.person != nil || e.account != nil || len(e.links) > 0
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

// writer is the goroutine that builds the group commits; commitLoop is the
// one that commits them, in order. The writer adds every request that
// arrives to the open group (up to MaxCommitEvents messages), appending
// its events to the group's transaction at once; it hands the group over
// as soon as the committer is free. So the next group is built and
// appended while the previous one commits and syncs the WAL, and the size
// of a group adapts to the load.
//
// Dedupe: a message is left out when its id was stored (the dedupe set)
// or is in a group not yet resolved (inflight, this group included). If a
// group fails, the next group fails too when it left out a copy of one of
// its messages, so no acknowledged message can be missing.
//
// Identity updates (people, accounts, identity links) must run in a
// transaction that began after every earlier commit: a transaction begun
// while another commits does not see that one's rows, and an upsert of a
// row the other wrote would be a write-write conflict in DuckDB. A group begun while nothing was committing is clean and
// takes any request; a request with identity facts that arrives while
// the open group is not clean waits for the next group, which then begins
// only once the committer is idle.
func (in *Ingester) writer() {
	defer close(in.done)
	commits := make(chan *group) // unbuffered: taken when the committer is idle
	resolved := make(chan struct{}, 2)
	go in.commitLoop(commits, resolved)
	defer close(commits)

	queue := in.queue
	var cur *group
	var deferred []*request // requests with identity facts, for the next clean group
	pending := 0            // groups handed over and not yet resolved
	for {
		if queue == nil && cur == nil && len(deferred) == 0 {
			for ; pending > 0; pending-- {
				<-resolved
			}
			return
		}
		if cur == nil && len(deferred) > 0 && pending == 0 {
			cur = in.newGroup(true)
			n := 0
			for ; n < len(deferred) && cur.msgs < in.cfg.MaxCommitEvents; n++ {
				in.add(cur, deferred[n])
			}
			deferred = slices.Delete(deferred, 0, n)
		}
		var send chan<- *group
		if cur != nil && len(cur.reqs) > 0 {
			send = commits
		}
		recv := queue
		if cur != nil && cur.msgs >= in.cfg.MaxCommitEvents || len(deferred) > 0 && cur == nil {
			recv = nil // full, or waiting for the committer to be idle
		}
		select {
		case r, ok := <-recv:
			if !ok {
				queue = nil
				continue
			}
			if r.identity && (cur == nil && pending > 0 || cur != nil && !cur.clean) {
				deferred = append(deferred, r)
				continue
			}
			if cur == nil {
				cur = in.newGroup(pending == 0)
			}
			in.add(cur, r)
		case send <- cur:
			cur = nil
			pending++
		case <-resolved:
			pending--
		}
	}
}

// group is one transaction being built or committed.
type group struct {
	seq   int64
	dep   int64 // seq of the other group a message was a duplicate of, or 0
	clean bool  // begun while no other group was unresolved
	tx    Tx    // nil until the first event to store
	err   error
	reqs  []*request
	keys  [][2]uint64 // dedupe keys of the messages stored
	msgs  int         // messages in reqs
	dups  int
	bytes int64
	c     Commit // the identity updates (Events stay empty)

	people   map[string]*PersonUpdate
	accounts map[string]*AccountUpdate
	links    map[[2]string]bool
	rows     [][]any // scratch
}

func (in *Ingester) newGroup(clean bool) *group {
	in.seq++
	return &group{seq: in.seq, clean: clean}
}

// add puts r into g: its new messages' events go into g's transaction,
// its duplicates (of a stored message, or of one in a group not yet
// resolved) are left out, its identity updates are merged per id in
// message order.
func (in *Ingester) add(g *group, r *request) {
	g.reqs = append(g.reqs, r)
	g.msgs += len(r.msgs)
	g.bytes += r.bytes
	rows := g.rows[:0]
	in.dmu.Lock()
	for _, e := range r.msgs {
		k := in.dedupe.key(e.id)
		if seq, ok := in.inflight[k]; ok || in.dedupe.seenKey(k) {
			if ok && seq != g.seq {
				g.dep = seq
			}
			g.dups++
			continue
		}
		in.inflight[k] = g.seq
		g.keys = append(g.keys, k)
		rows = append(rows, e.row)
		if e.person != nil {
			if g.people == nil {
				g.people = map[string]*PersonUpdate{}
			}
			if p := g.people[e.person.ID]; p != nil {
				p.merge(e.person)
			} else {
				g.people[e.person.ID] = e.person
				g.c.People = append(g.c.People, e.person)
			}
		}
		if e.account != nil {
			if g.accounts == nil {
				g.accounts = map[string]*AccountUpdate{}
			}
			if a := g.accounts[e.account.ID]; a != nil {
				a.merge(e.account)
			} else {
				g.accounts[e.account.ID] = e.account
				g.c.Accounts = append(g.c.Accounts, e.account)
			}
		}
		for _, l := range e.links {
			if g.links == nil {
				g.links = map[[2]string]bool{}
			}
			k := [2]string{l.Kind, l.AliasID}
			if !g.links[k] {
				g.links[k] = true
				g.c.Identities = append(g.c.Identities, l)
			}
		}
	}
	in.dmu.Unlock()
	g.rows = rows[:0]
	if len(rows) == 0 || g.err != nil {
		return
	}
	if g.tx == nil {
		g.tx, g.err = in.sink.Begin(context.Background())
		if g.err != nil {
			return
		}
	}
	g.err = g.tx.Write(context.Background(), &Commit{Events: rows})
}

// commitLoop commits the groups it receives, in order, and answers their
// requests.
func (in *Ingester) commitLoop(commits <-chan *group, resolved chan<- struct{}) {
	var failed int64 // seq of the last group that failed
	for g := range commits {
		err := g.err
		if err == nil && g.dep != 0 && g.dep == failed {
			err = errors.New("an earlier commit failed")
		}
		if err == nil && g.tx != nil {
			start := time.Now()
			if len(g.c.People)+len(g.c.Accounts)+len(g.c.Identities) > 0 {
				for _, p := range g.c.People {
					p.Properties = encodeProps(p.props)
				}
				for _, a := range g.c.Accounts {
					a.Properties = encodeProps(a.props)
				}
				err = g.tx.Write(context.Background(), &g.c)
			}
			if err == nil {
				err = g.tx.Commit(context.Background())
				g.tx = nil
			}
			in.m.observeCommit(time.Since(start), err)
		}
		if g.tx != nil {
			g.tx.Rollback()
		}
		if err != nil {
			failed = g.seq
		}
		now := in.cfg.Now()
		in.dmu.Lock()
		for _, k := range g.keys {
			delete(in.inflight, k)
			if err == nil {
				in.dedupe.addKey(k, now)
			}
		}
		in.dmu.Unlock()
		if err == nil {
			in.m.stored.Add(int64(len(g.keys)))
			in.m.duplicates.Add(int64(g.dups))
		} else {
			in.log.Error("ingest: commit failed", slog.Int("events", len(g.keys)), slog.Any("err", err))
			in.m.Reject("store_error", g.msgs)
			err = fmt.Errorf("ingest: store: %w", err)
		}
		in.queued.Add(-g.bytes)
		for _, r := range g.reqs {
			r.done <- err
		}
		resolved <- struct{}{}
	}
}

// serialTx adapts a Sink without transactions of its own: it gathers a
// group and stores it with one Write at Commit.
type serialTx struct {
	s Sink
	c Commit
}

func (t *serialTx) Write(ctx context.Context, c *Commit) error {
	t.c.Events = append(t.c.Events, c.Events...)
	t.c.People = append(t.c.People, c.People...)
	t.c.Accounts = append(t.c.Accounts, c.Accounts...)
	t.c.Identities = append(t.c.Identities, c.Identities...)
	return nil
}

func (t *serialTx) Commit(ctx context.Context) error { return t.s.Write(ctx, &t.c) }
func (t *serialTx) Rollback()                        {}

type serialSink struct{ Sink }

func (s serialSink) Begin(context.Context) (Tx, error) { return &serialTx{s: s.Sink}, nil }

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
