// Package demo generates the two reference businesses of the design brief —
// a B2B maker of industrial equipment and a B2C fitness-subscription app —
// as realistic, deterministic data in the canonical tables, together with the
// ground truth the generator drew them from.
//
// Generation is streamed: every table is written with one
// Store.Write(Append) call, and the data of each account (B2B) or visitor
// (B2C) is derived from a random stream seeded by the seed and that entity's
// index alone. Each table's pass re-derives the small per-entity plan it
// needs instead of keeping it, so memory does not grow with the number of
// events; the same seed and options give the same rows in the same order
// (the DuckDB store may keep them in another order: it inserts on several
// threads).
package demo

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// DefaultEvents is the event count Generate aims at when Options.Events is 0.
const DefaultEvents = 1_000_000

// ReferenceDate is the default end of the generated history: midnight
// starting 2026-11-01 in the business time zone. The default start is 18
// months earlier, so output does not depend on the day the demo runs.
var ReferenceDate = time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC)

// Options configure a generation.
type Options struct {
	// Business is "b2b" (industrial equipment) or "b2c" (fitness app).
	Business string
	// Seed selects the random world; the same seed and options give the same
	// rows.
	Seed uint64
	// Events is the approximate number of events to generate (default
	// DefaultEvents). The number of accounts, people and everything else
	// scales with it.
	Events int
	// Start and End bound the history: every timestamp is in [Start, End).
	// Zero values default to the 18 months before ReferenceDate (midnights
	// in the business time zone).
	Start, End time.Time
	// Progress, if set, is called from the writing goroutine as rows are
	// written: done rows so far and the estimated total (total grows if the
	// estimate is passed; the last call has done == total).
	Progress func(done, total int64)
}

// Truth is what the generator planted, for checking analyses against. It is
// deterministic (no timings) and JSON-serialisable.
type Truth struct {
	Business string    `json:"business"`
	Currency string    `json:"currency"` // the reporting currency of Revenue and Spend
	TimeZone string    `json:"time_zone"`
	Seed     uint64    `json:"seed"`
	Target   int       `json:"events_target"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	// Units is the number of generation units: accounts (B2B, including the
	// target accounts that never engage) or first-touch visitors (B2C, not
	// counting referred visitors).
	Units int `json:"units"`
	// Rows is the number of rows written per table.
	Rows map[string]int64 `json:"rows"`
	// Channels holds the planted rates and realised counts per acquisition
	// channel (the channel Business.Channel gives the first touch).
	Channels map[string]*ChannelTruth `json:"channels"`
	// Total sums the counts, revenue and spend of all channels (its rates
	// are the realised-mix averages of the channel rates).
	Total ChannelTruth `json:"total"`
	// Retention (B2C) is the true probability that a signed-up user
	// completes at least one workout on day N after signing up, day N being
	// the 24-hour window [signup + N days, signup + N+1 days), among users
	// whose window N ends before End.
	Retention []RetentionPoint `json:"retention,omitempty"`
	// RevenueMix is the revenue by product line and (B2B) the contract
	// renewals (truth_revenue_b2b.go).
	RevenueMix *RevenueMixTruth `json:"revenue_mix,omitempty"`
	// Referrals (B2C) counts the referral programme's invitations and
	// referred signups.
	Referrals *ReferralTruth `json:"referrals,omitempty"`
	// Billing (B2C) is the realised MRR movements month by month
	// (truth_billing.go).
	Billing *BillingTruth `json:"billing,omitempty"`
}

// ChannelTruth is the truth for one acquisition channel.
//
// Rates are the probabilities the generator drew with; a later stage counts
// as passing the earlier ones even when its row was skipped. Counts are
// realised over [Start, End): entities whose first touch is in the channel.
type ChannelTruth struct {
	// VisitorToLead is visitor → lead (B2B) or visitor → signup (B2C).
	VisitorToLead float64 `json:"visitor_to_lead"`
	// LeadToMQL and MQLToSQL are person-level B2B rates.
	LeadToMQL float64 `json:"lead_to_mql,omitempty"`
	MQLToSQL  float64 `json:"mql_to_sql,omitempty"`
	// SQLToWon (B2B) is account-level: of the accounts whose first SQL opened
	// a new-business opportunity, the share whose equipment deal is won, by
	// the account's channel.
	SQLToWon float64 `json:"sql_to_won,omitempty"`
	// SignupToTrial and TrialToPaid are the B2C rates.
	SignupToTrial float64 `json:"signup_to_trial,omitempty"`
	TrialToPaid   float64 `json:"trial_to_paid,omitempty"`

	// Visitors counts distinct first-touch visitors (anonymous ids).
	Visitors int64 `json:"visitors"`
	// People counts rows of people (identified persons) by people.channel.
	People int64 `json:"people"`
	// Leads, MQLs and SQLs count people with a stage_changes row of the
	// business's report stages (B2B lead/mql/sql; B2C signup/trial, and
	// Trials repeats MQLs there).
	Leads int64 `json:"leads"`
	MQLs  int64 `json:"mqls"`
	SQLs  int64 `json:"sqls,omitempty"`
	// Accounts (B2B) counts accounts with this acquisition channel and
	// Opportunities those with an account-level opportunity stage.
	Accounts      int64 `json:"accounts,omitempty"`
	Opportunities int64 `json:"opportunities,omitempty"`
	Trials        int64 `json:"trials,omitempty"`
	// Customers counts new customers: B2B accounts with a won deal (account
	// stage won), B2C people with a paid stage.
	Customers int64 `json:"customers"`
	// Revenue is the exact sum of paid orders and (B2B) won deals closed in
	// range, by the customer's acquisition channel, in the reporting
	// currency (all revenue is generated in it).
	Revenue float64 `json:"revenue"`
	// Spend is the spend rows' cost converted to the reporting currency with
	// the fx_rates row of each spend date; SpendByCurrency is unconverted.
	Spend           float64            `json:"spend"`
	SpendByCurrency map[string]float64 `json:"spend_by_currency,omitempty"`
	// SpendByCostType splits Spend (converted) by spend.cost_type: media,
	// events, tools, incentives.
	SpendByCostType map[string]float64 `json:"spend_by_cost_type,omitempty"`
	// CACSpend is the converted spend of the business's cac_cost_types: what
	// the acquisition report's cost column sums by default.
	CACSpend float64 `json:"cac_spend"`
	// Retention (B2C) is the channel's retention curve (see Truth.Retention).
	Retention []RetentionPoint `json:"retention,omitempty"`

	revenueCents int64
	spendCents   map[string]int64
	rateW        [6]float64 // weighted sums behind the Total's rates
}

// RetentionPoint is the probability of being active on day Day.
type RetentionPoint struct {
	Day         int     `json:"day"`
	Probability float64 `json:"probability"`
	// Eligible is the number of signed-up users whose day-Day window ends
	// before End.
	Eligible int64 `json:"eligible"`

	sum float64
}

// Generate writes the business named by opts.Business into store, which must
// hold no data yet, and returns the planted truth. Every table is written
// with store.Write in Append mode.
func Generate(ctx context.Context, store bowtie.Store, opts Options) (*Truth, error) {
	g, err := newGen(store, opts)
	if err != nil {
		return nil, err
	}
	if err := g.checkEmpty(ctx); err != nil {
		return nil, err
	}
	var m model
	switch opts.Business {
	case "b2b":
		m = newB2B(g)
	default:
		m = newB2C(g)
	}
	for _, p := range m.passes() {
		t, ok := bowtie.TableByKind(p.table)
		if !ok {
			return nil, fmt.Errorf("demo: unknown table %s", p.table)
		}
		n, err := g.write(ctx, t, p.produce)
		if err != nil {
			return nil, fmt.Errorf("demo: %s: write %s: %w", opts.Business, t.Name, err)
		}
		g.truth.Rows[t.Name] = n
	}
	g.finish()
	if g.opts.Progress != nil {
		g.opts.Progress(g.done, g.done)
	}
	return g.truth, nil
}

// model is one business: the passes that write its tables, in order.
type model interface {
	passes() []pass
}

// pass writes one table: produce streams its rows into the sink.
type pass struct {
	table   string
	produce func(s *sink) error
}

// gen holds what both businesses share: options, business rules, the
// calendar, the campaign plan, per-campaign tallies and the truth.
type gen struct {
	store bowtie.Store
	opts  Options
	biz   *bowtie.Business
	cal   *calendar
	truth *Truth
	// estimate is the expected total of rows, for Progress.
	estimate int64
	done     int64
}

func newGen(store bowtie.Store, opts Options) (*gen, error) {
	if opts.Business != "b2b" && opts.Business != "b2c" {
		return nil, bowtie.Errorf(bowtie.EINVALID, "demo: business %q: use b2b or b2c", opts.Business)
	}
	if opts.Events == 0 {
		opts.Events = DefaultEvents
	}
	if opts.Events < 0 {
		return nil, bowtie.Errorf(bowtie.EINVALID, "demo: events must be positive, got %d", opts.Events)
	}
	biz, err := bowtie.Preset(opts.Business)
	if err != nil {
		return nil, err
	}
	loc := biz.Location()
	if opts.End.IsZero() {
		r := ReferenceDate
		opts.End = time.Date(r.Year(), r.Month(), r.Day(), 0, 0, 0, 0, loc)
	}
	if opts.Start.IsZero() {
		opts.Start = opts.End.AddDate(0, -18, 0)
	}
	opts.Start, opts.End = opts.Start.Truncate(time.Second), opts.End.Truncate(time.Second)
	if !opts.End.After(opts.Start.Add(24 * time.Hour)) {
		return nil, bowtie.Errorf(bowtie.EINVALID, "demo: end %s must be at least a day after start %s", opts.End, opts.Start)
	}
	g := &gen{store: store, opts: opts, biz: biz}
	g.cal = newCalendar(loc, opts.Start, opts.End)
	g.truth = &Truth{
		Business: opts.Business, Currency: biz.Currency, TimeZone: biz.TimeZone,
		Seed: opts.Seed, Target: opts.Events, Start: opts.Start.UTC(), End: opts.End.UTC(),
		Rows: map[string]int64{}, Channels: map[string]*ChannelTruth{},
	}
	g.estimate = int64(float64(opts.Events) * 1.06)
	return g, nil
}

// checkEmpty refuses a store that already holds generated data: Append mode
// would duplicate it.
func (g *gen) checkEmpty(ctx context.Context) error {
	db := g.store.DB()
	if db == nil {
		return nil
	}
	for _, t := range []string{"events", "people", "accounts", "spend"} {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return fmt.Errorf("demo: check store: %w", err)
		}
		if n > 0 {
			return bowtie.Errorf(bowtie.EINVALID, "demo: the store already holds data (%d rows in %s): generate into a new store", n, t)
		}
	}
	return nil
}

// ch returns the truth of a channel, creating it.
func (g *gen) ch(name string) *ChannelTruth {
	c := g.truth.Channels[name]
	if c == nil {
		c = &ChannelTruth{spendCents: map[string]int64{}, SpendByCostType: map[string]float64{}}
		g.truth.Channels[name] = c
	}
	return c
}

// finish converts the exact accumulators and fills the totals.
func (g *gen) finish() {
	t := &g.truth.Total
	t.SpendByCurrency = map[string]float64{}
	names := make([]string, 0, len(g.truth.Channels))
	for n := range g.truth.Channels {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := g.truth.Channels[n]
		c.Revenue = float64(c.revenueCents) / 100
		if len(c.spendCents) > 0 {
			c.SpendByCurrency = map[string]float64{}
			for cur, v := range c.spendCents {
				c.SpendByCurrency[cur] = float64(v) / 100
				t.SpendByCurrency[cur] += float64(v) / 100
			}
		}
		c.Spend = round4(c.Spend)
		for _, ct := range slices.Sorted(maps.Keys(c.SpendByCostType)) {
			v := c.SpendByCostType[ct]
			c.SpendByCostType[ct] = round4(v)
			if t.SpendByCostType == nil {
				t.SpendByCostType = map[string]float64{}
			}
			t.SpendByCostType[ct] = round4(t.SpendByCostType[ct] + v)
			if slices.Contains(g.biz.CACCostTypes, ct) {
				c.CACSpend += v
			}
		}
		if len(c.SpendByCostType) == 0 {
			c.SpendByCostType = nil
		}
		c.CACSpend = round4(c.CACSpend)
		t.CACSpend += c.CACSpend
		t.Visitors += c.Visitors
		t.People += c.People
		t.Leads += c.Leads
		t.MQLs += c.MQLs
		t.SQLs += c.SQLs
		t.Accounts += c.Accounts
		t.Opportunities += c.Opportunities
		t.Trials += c.Trials
		t.Customers += c.Customers
		t.revenueCents += c.revenueCents
		t.Spend += c.Spend
		for i := range t.rateW {
			t.rateW[i] += c.rateW[i]
		}
	}
	t.Revenue = float64(t.revenueCents) / 100
	g.finishRevenue()
	g.finishBilling()
	t.Spend = round4(t.Spend)
	t.CACSpend = round4(t.CACSpend)
	// The total's rates are averages weighted by who was exposed to them.
	div := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return round6(a / b)
	}
	t.VisitorToLead = div(t.rateW[0], float64(t.Visitors))
	if g.opts.Business == "b2b" {
		t.LeadToMQL = div(t.rateW[1], t.rateW[4])
		t.MQLToSQL = div(t.rateW[2], t.rateW[5])
		t.SQLToWon = div(t.rateW[3], float64(t.Opportunities))
	} else {
		t.SignupToTrial = div(t.rateW[1], t.rateW[4])
		t.TrialToPaid = div(t.rateW[2], t.rateW[5])
	}
	for _, c := range g.truth.Channels {
		for i := range c.Retention {
			p := &c.Retention[i]
			if p.Eligible > 0 {
				p.Probability = round6(p.sum / float64(p.Eligible))
			}
		}
	}
	for i := range g.truth.Retention {
		p := &g.truth.Retention[i]
		if p.Eligible > 0 {
			p.Probability = round6(p.sum / float64(p.Eligible))
		}
	}
}

// sink is the producer side of a table write: rows are filled in place in
// reusable batches, which a consumer goroutine hands to Store.Write. This
// lets generation run on one core while the store appends on another.
type sink struct {
	width   int
	cur     *batch
	full    chan *batch
	free    chan *batch
	stop    chan struct{}
	stopped bool
}

type batch struct {
	vals []any
	n    int
}

const (
	batchRows = 1024
	batches   = 8
)

func newSink(width int) *sink {
	s := &sink{width: width, full: make(chan *batch, batches), free: make(chan *batch, batches), stop: make(chan struct{})}
	for i := 0; i < batches; i++ {
		s.free <- &batch{vals: make([]any, width*batchRows)}
	}
	s.cur = <-s.free
	return s
}

// row returns the next row to fill, all NULL. After the consumer has stopped
// it returns a scratch row; producers check s.stopped between entities.
func (s *sink) row() []any {
	b := s.cur
	if b.n == batchRows {
		s.send()
		b = s.cur
	}
	r := b.vals[b.n*s.width : (b.n+1)*s.width : (b.n+1)*s.width]
	b.n++
	clear(r)
	return r
}

// send hands the current batch over and takes a free one.
func (s *sink) send() {
	if s.stopped {
		s.cur.n = 0
		return
	}
	select {
	case s.full <- s.cur:
	case <-s.stop:
		s.stopped = true
		s.cur.n = 0
		return
	}
	select {
	case s.cur = <-s.free:
	case <-s.stop:
		s.stopped = true
		s.cur = &batch{vals: make([]any, s.width*batchRows)}
	}
}

// write runs produce in a goroutine and streams its rows into the store.
func (g *gen) write(ctx context.Context, t bowtie.Table, produce func(s *sink) error) (int64, error) {
	s := newSink(len(t.Fields))
	var perr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(s.full)
		defer func() {
			if r := recover(); r != nil {
				perr = fmt.Errorf("demo: generating %s: %v", t.Name, r)
			}
		}()
		perr = produce(s)
		if perr == nil && !s.stopped && s.cur.n > 0 {
			s.send()
		}
	}()
	var once sync.Once
	halt := func() {
		once.Do(func() { close(s.stop) })
		for range s.full {
		}
		<-done
	}
	w := s.width
	n, err := g.store.Write(ctx, t, bowtie.Append, func(yield func(row []any) error) error {
		for b := range s.full {
			if err := ctx.Err(); err != nil {
				halt()
				return err
			}
			for i := 0; i < b.n; i++ {
				if err := yield(b.vals[i*w : (i+1)*w : (i+1)*w]); err != nil {
					halt()
					return err
				}
			}
			g.done += int64(b.n)
			if g.opts.Progress != nil {
				if g.done > g.estimate {
					g.estimate = g.done + g.done/20
				}
				g.opts.Progress(g.done, g.estimate)
			}
			b.n = 0
			s.free <- b
		}
		<-done
		return perr
	})
	halt()
	if err == nil {
		err = perr
	}
	return n, err
}

func round4(x float64) float64 { return float64(int64(x*1e4+copysignHalf(x))) / 1e4 }
func round6(x float64) float64 { return float64(int64(x*1e6+copysignHalf(x))) / 1e6 }

func copysignHalf(x float64) float64 {
	if x < 0 {
		return -0.5
	}
	return 0.5
}
