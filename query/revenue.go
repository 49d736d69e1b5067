package query

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// RevenueOptions select the periods and breakdown of Revenue.
type RevenueOptions struct {
	// From and To are local dates (inclusive); the periods are the whole
	// periods of Grain that contain them.
	From, To time.Time
	// Grain is day, week (ISO, Monday) or month (default).
	Grain string
	// By is "" or one of RevenueGroupings.
	By string
	// Trailing adds the trailing-12-month GRR and NRR (month grain only).
	Trailing bool
}

// Revenue is the result of the MRR movement analysis (docs/metrics.md,
// "Revenue"; the JSON shape is documented in docs/api.md).
type Revenue struct {
	From     string               `json:"from"`
	To       string               `json:"to"`
	Grain    string               `json:"grain"`
	By       string               `json:"by,omitempty"`
	Currency string               `json:"currency"`
	TimeZone string               `json:"time_zone"`
	Policy   bowtie.RevenuePolicy `json:"policy"`
	// Periods are the totals per period, oldest first.
	Periods []RevenuePeriod `json:"periods"`
	// Groups (with By) are the movements per period and group, ordered
	// by period then group; they add up to Periods.
	Groups []RevenuePeriod `json:"groups,omitempty"`
}

// RevenuePeriod holds one period's movements (money in the reporting
// currency) and the rates derived from them; a rate is null when its
// denominator is zero.
type RevenuePeriod struct {
	Period string `json:"period"` // local start date of the period
	Group  string `json:"group,omitempty"`

	OpeningMRR   float64 `json:"opening_mrr"`
	NewMRR       float64 `json:"new_mrr"`
	Expansion    float64 `json:"expansion_mrr"`
	Contraction  float64 `json:"contraction_mrr"`
	Churn        float64 `json:"churned_mrr"`
	Reactivation float64 `json:"reactivation_mrr"`
	ClosingMRR   float64 `json:"closing_mrr"`
	NetNewMRR    float64 `json:"net_new_mrr"`
	ClosingARR   float64 `json:"closing_arr"`

	OpeningCustomers     int64 `json:"opening_customers"`
	NewCustomers         int64 `json:"new_customers"`
	ReactivatedCustomers int64 `json:"reactivated_customers"`
	ChurnedCustomers     int64 `json:"churned_customers"`
	ClosingCustomers     int64 `json:"closing_customers"`

	ARPA        *float64 `json:"arpa"`         // closing MRR ÷ closing customers
	ARPAAverage *float64 `json:"arpa_average"` // (opening + closing MRR) ÷ (opening + closing customers)
	QuickRatio  *float64 `json:"quick_ratio"`

	LogoChurn              *float64 `json:"logo_churn"`
	LogoChurnDailyWeighted *float64 `json:"logo_churn_daily_weighted"` // totals only
	AverageDailyCustomers  *float64 `json:"average_daily_customers"`   // totals only
	GrossMRRChurn          *float64 `json:"gross_mrr_churn"`
	NetMRRChurn            *float64 `json:"net_mrr_churn"`
	GRR                    *float64 `json:"grr"`
	NRR                    *float64 `json:"nrr"`
	GRRT12M                *float64 `json:"grr_t12m"` // Trailing only
	NRRT12M                *float64 `json:"nrr_t12m"`

	TrialsStarted   int64    `json:"trials_started"` // totals only
	TrialsConverted int64    `json:"trials_converted"`
	TrialToPaid     *float64 `json:"trial_to_paid"`
}

// RevenueQuery computes the MRR movements of biz's subscriptions.
func RevenueQuery(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, opts RevenueOptions) (*Revenue, error) {
	if opts.Grain == "" {
		opts.Grain = "month"
	}
	if opts.Trailing && opts.Grain != "month" {
		return nil, bowtie.Errorf(bowtie.EINVALID, "revenue: trailing-12-month retention needs --grain month")
	}
	// The overlap check runs alongside the movements (it is a separate
	// scan in the engine, the walk mostly Go): its error wins.
	overlaps := make(chan error, 1)
	go func() { overlaps <- checkOverlaps(ctx, db) }()
	out, err := revenueQuery(ctx, db, biz, opts)
	if oerr := <-overlaps; oerr != nil {
		return nil, oerr
	}
	return out, err
}

func revenueQuery(ctx context.Context, db *sql.DB, biz *bowtie.Business, opts RevenueOptions) (*Revenue, error) {
	loc := biz.Location()
	g, err := newRevenueGrid(opts.Grain, loc, opts.From, opts.To, 0)
	if err != nil {
		return nil, err
	}
	out := &Revenue{From: opts.From.Format(time.DateOnly), To: opts.To.Format(time.DateOnly), Grain: opts.Grain, By: opts.By,
		Currency: biz.Currency, TimeZone: biz.TimeZone, Policy: biz.Revenue}
	// The walk gives the totals and the daily customer counts in one pass.
	walk := !revenueSnapshotsOnly && !revenueSQLOnly
	var tot []RevenuePeriod
	if walk {
		tot, err = revenueWalkRows(ctx, db, biz, g, true)
	} else {
		tot, err = revenueRows(ctx, db, biz, g, "")
	}
	if err != nil {
		return nil, err
	}
	out.Periods = tot
	if opts.By != "" {
		out.Groups, err = revenueRows(ctx, db, biz, g, opts.By)
		if err != nil {
			return nil, err
		}
	}
	if !walk {
		if err := revenueDaily(ctx, db, biz, g, out.Periods); err != nil {
			return nil, err
		}
	}
	if err := revenueTrials(ctx, db, biz, g, out.Periods); err != nil {
		return nil, err
	}
	if opts.Trailing {
		if err := revenueT12M(ctx, db, biz, opts, out.Periods); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// revenueRows runs the movements query and returns one row per period
// (and group), periods without any customer included as zeros when by is
// "".
func revenueRows(ctx context.Context, db *sql.DB, biz *bowtie.Business, g *revenueGrid, by string) ([]RevenuePeriod, error) {
	if by == "" && !revenueSnapshotsOnly && !revenueSQLOnly {
		return revenueWalkRows(ctx, db, biz, g, false)
	}
	if by != "plan" && !revenueSnapshotsOnly {
		return revenueFastRows(ctx, db, biz, g, by)
	}
	q, args, err := buildRevenueSQL(biz, g, by)
	if err != nil {
		return nil, err
	}
	rs, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query: revenue: %w", err)
	}
	defer rs.Close()
	byK := map[int]*RevenuePeriod{}
	var out []RevenuePeriod
	var nofx float64
	for rs.Next() {
		var k int
		var grp string
		var v [7]sql.NullFloat64
		var c [5]int64
		var nf sql.NullFloat64
		if err := rs.Scan(&k, &grp, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &c[0], &c[1], &c[2], &c[3], &c[4], &nf); err != nil {
			return nil, fmt.Errorf("query: revenue: %w", err)
		}
		nofx += nf.Float64
		r := RevenuePeriod{Period: g.starts[k].Format(time.DateOnly), Group: grp,
			OpeningMRR: v[0].Float64, ClosingMRR: v[1].Float64, NewMRR: v[2].Float64, Expansion: v[3].Float64,
			Contraction: v[4].Float64, Churn: v[5].Float64, Reactivation: v[6].Float64,
			OpeningCustomers: c[0], ClosingCustomers: c[1], NewCustomers: c[2], ReactivatedCustomers: c[3], ChurnedCustomers: c[4]}
		out = append(out, r)
		if by == "" {
			byK[k] = &out[len(out)-1]
		}
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("query: revenue: %w", err)
	}
	if nofx > 0 {
		return nil, revenueMissingFX(ctx, db, biz, g)
	}
	if by == "" {
		full := make([]RevenuePeriod, g.n())
		for k := 1; k <= g.n(); k++ {
			if r := byK[k]; r != nil {
				full[k-1] = *r
			} else {
				full[k-1] = RevenuePeriod{Period: g.starts[k].Format(time.DateOnly)}
			}
		}
		out = full
	}
	for i := range out {
		out[i].derive()
	}
	return out, nil
}

// revenueSnapshotsOnly makes every breakdown use the snapshot query
// (revenueMoves), for the tests that compare both.
var revenueSnapshotsOnly = false

// derive rounds the money and fills the derived figures.
func (r *RevenuePeriod) derive() {
	for _, p := range []*float64{&r.OpeningMRR, &r.NewMRR, &r.Expansion, &r.Contraction, &r.Churn, &r.Reactivation, &r.ClosingMRR} {
		*p = round4(*p)
	}
	r.NetNewMRR = round4(r.ClosingMRR - r.OpeningMRR)
	r.ClosingARR = round4(12 * r.ClosingMRR)
	r.ARPA = ratio(r.ClosingMRR, float64(r.ClosingCustomers))
	r.ARPAAverage = ratio(r.OpeningMRR+r.ClosingMRR, float64(r.OpeningCustomers+r.ClosingCustomers))
	r.QuickRatio = ratio(r.NewMRR+r.Expansion+r.Reactivation, r.Churn+r.Contraction)
	r.LogoChurn = ratio(float64(r.ChurnedCustomers), float64(r.OpeningCustomers))
	r.GrossMRRChurn = ratio(r.Churn+r.Contraction, r.OpeningMRR)
	r.NetMRRChurn = ratio(r.Churn+r.Contraction-r.Expansion-r.Reactivation, r.OpeningMRR)
	r.GRR = ratio(r.OpeningMRR-r.Churn-r.Contraction, r.OpeningMRR)
	r.NRR = ratio(r.OpeningMRR-r.Churn-r.Contraction+r.Expansion, r.OpeningMRR)
}

// ratio returns a ÷ b, or nil when b is 0.
func ratio(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	v := a / b
	if math.Abs(v) < 1e-12 {
		v = 0
	}
	return &v
}

// checkOverlaps refuses subscriptions whose segments overlap in time
// (the same subscription_id twice at one instant), naming up to ten ids.
// With a subscription's segments sorted by start (starts are unique: they
// are the key), some two overlap exactly when some segment starts before
// the one just before it ends: if segment i overlaps a later j, segment
// i+1 starts no later than j, so before i ends. So the previous segment's
// end (lag) suffices; a running maximum of the ends costs 1.3–2.6× more
// (1 M subscriptions: 0.36 s against 0.47–0.94 s).
func checkOverlaps(ctx context.Context, db *sql.DB) error {
	q := `-- query.revenue overlaps
	SELECT DISTINCT subscription_id FROM (
		SELECT subscription_id, valid_from, lag(coalesce(valid_to, TIMESTAMP '9999-12-31 00:00:00')) OVER (
			PARTITION BY subscription_id ORDER BY valid_from) AS pe
		FROM subscriptions)
	WHERE valid_from < pe ORDER BY 1 LIMIT 11`
	rs, err := db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("query: revenue: check overlaps: %w", err)
	}
	defer rs.Close()
	var ids []string
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
	}
	if err := rs.Err(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	more := ""
	if len(ids) > 10 {
		ids, more = ids[:10], " and more"
	}
	return bowtie.Errorf(bowtie.EINVALID, "subscriptions: overlapping segments (a segment starts before the previous one of the same subscription_id ends) in subscription_id %s%s",
		strings.Join(ids, ", "), more)
}

// revenueMissingFX names each currency without a rate and the first
// boundary date whose MRR needs one.
func revenueMissingFX(ctx context.Context, db *sql.DB, biz *bowtie.Business, g *revenueGrid) error {
	var ps params
	rep := ps.p("currency", biz.Currency)
	q := `-- query.revenue missing fx
	WITH ` + revenueBase(&ps, biz, g, false) + `,
	first AS (SELECT cur, min(date) AS first FROM fx GROUP BY cur)
	SELECT p.cur, min(b.d) FROM pos p JOIN bnd b ON b.t >= p.s
	WHERE p.cur <> ` + rep + ` AND p.e > (SELECT min(t) FROM bnd) AND p.s < (SELECT max(t) FROM bnd)
		AND NOT EXISTS (SELECT 1 FROM first f WHERE f.cur = p.cur AND f.first <= b.d)
	GROUP BY p.cur ORDER BY p.cur`
	rows, err := db.QueryContext(ctx, q, ps.args...)
	if err != nil {
		return fmt.Errorf("query: revenue: missing fx: %w", err)
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var cur string
		var d time.Time
		if err := rows.Scan(&cur, &d); err != nil {
			return err
		}
		parts = append(parts, fmt.Sprintf("%s→%s on %s", cur, biz.Currency, d.Format(time.DateOnly)))
	}
	if len(parts) == 0 {
		parts = append(parts, "a subscription currency")
	}
	return bowtie.Errorf(bowtie.EINVALID,
		"no exchange rate for %s (or earlier): import rates with `bowtie import fx` or set currency in bowtie.yaml",
		strings.Join(parts, ", "))
}

// RevenueDefaultFrom is the default first date of the revenue analyses
// for a last date to: the first day of the month eleven months earlier
// (twelve whole months).
func RevenueDefaultFrom(to time.Time) time.Time {
	return time.Date(to.Year(), to.Month()-11, 1, 0, 0, 0, 0, time.UTC)
}
