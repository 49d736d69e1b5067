package query

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/model/sbg"
)

// SBGPoint compares observed and fitted survival after T renewals.
type SBGPoint struct {
	T        int      `json:"t"`
	Observed *float64 `json:"observed"` // pooled over the cohorts observed T renewals
	Fitted   float64  `json:"fitted"`
	// Retention is the projected renewal rate r_T (T ≥ 1).
	Retention *float64 `json:"retention_rate"`
}

// SBGGroup is the sBG fit and LTV of one group of subscribers.
type SBGGroup struct {
	Group     string `json:"group"`
	Customers int64  `json:"customers"`
	Cohorts   int    `json:"cohorts"`
	// Fit is the group's own fit; nil when the group is smaller than
	// ltv.min_cohort_size or the fit failed, and the pooled fit is used.
	Fit        *sbg.Fit `json:"fit"`
	PooledUsed bool     `json:"pooled_fit_used"`
	FitError   string   `json:"fit_error,omitempty"`
	// MRR is the mean MRR at the start of the first subscription.
	MRR    float64 `json:"mrr"`
	Margin float64 `json:"margin"`
	// DEL is the discounted expected lifetime in periods (no horizon);
	// Lifetime the same sum cut at ltv.horizon_months.
	DEL      *float64   `json:"del"`
	Lifetime *float64   `json:"discounted_lifetime"`
	LTV      *float64   `json:"ltv"`
	Check    []SBGPoint `json:"fit_check"`
}

// SBGLTV is the result of RunSBGLTV.
type SBGLTV struct {
	Model       string         `json:"model"`
	By          string         `json:"by"`
	Interval    string         `json:"interval"`
	Assumptions LTVAssumptions `json:"assumptions"`
	Pooled      SBGGroup       `json:"pooled"`
	Rows        []SBGGroup     `json:"rows"`
	// OtherInterval counts the subscribers left out because their first
	// subscription bills in another interval.
	OtherInterval int64 `json:"other_interval"`
}

// RunSBGLTV fits the shifted-beta-geometric model to the survival of
// subscribers by acquisition cohort (the month of their first active
// segment) and computes LTV = margin × MRR per period × discounted
// expected lifetime. Errors: EINVALID for a bad request or money without
// an exchange rate.
func RunSBGLTV(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req LTVRequest) (*SBGLTV, error) {
	if err := checkLTVBy(req.By); err != nil {
		return nil, err
	}
	interval := req.Interval
	if interval == "" {
		interval = "month"
	}
	if interval != "month" && interval != "year" {
		return nil, bowtie.Errorf(bowtie.EINVALID, "interval: %q is not month or year", interval)
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	loc := biz.Location()
	pol := biz.LTV
	asOf := asOfInstant(now, loc)
	if err := checkRevenueFX(ctx, db, d, biz, asOf); err != nil {
		return nil, err
	}
	per := 1
	if interval == "year" {
		per = 12
	}
	span, err := dataSpan(ctx, db, asOf)
	if err != nil {
		return nil, err
	}
	var ps params
	ctes := append(ltvBaseCTEs(d, biz, &ps, asOf, span), subsCTEs(d, biz, &ps, span)...)
	pAsOf := ps.p("as_of", asOf.UTC())
	pInt := ps.p("interval", interval)
	grp := ltvGroupExpr(req.By, "c")
	// A spell is the first run of active or paused segments without a
	// gap of more than a day; a customer is alive at renewal k while
	// start + k periods falls inside it.
	q := "-- query.RunSBGLTV\nWITH " + strings.Join(ctes, ",\n") + `,
	seg AS (SELECT customer_id, valid_from, coalesce(valid_to, TIMESTAMP '9999-12-31') AS valid_to,
		max(coalesce(valid_to, TIMESTAMP '9999-12-31')) OVER (PARTITION BY customer_id ORDER BY valid_from ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
		FROM subscriptions WHERE status IN ('active', 'paused') AND customer_id IN (SELECT customer_id FROM subcust)),
	brk AS (SELECT customer_id, min(valid_from) FILTER (WHERE prev_end IS NOT NULL AND valid_from > prev_end + INTERVAL 1 DAY) AS gap FROM seg GROUP BY customer_id),
	spell AS (SELECT c.customer_id, c.start, ` + grp + ` AS grp, c.cohort,
		least(max(s.valid_to) FILTER (WHERE s.valid_from >= c.start AND (b.gap IS NULL OR s.valid_from < b.gap)), ` + pAsOf + `) AS stop,
		max(s.valid_to) FILTER (WHERE s.valid_from >= c.start AND (b.gap IS NULL OR s.valid_from < b.gap)) >= ` + pAsOf + ` AS censored,
		(SELECT arg_min(x.interval, x.valid_from) FROM sub x WHERE x.customer_id = c.customer_id) AS interval,
		(SELECT arg_min(x.mrr, x.valid_from) FROM sub x WHERE x.customer_id = c.customer_id) AS mrr0
		FROM subcust c JOIN seg s ON s.customer_id = c.customer_id JOIN brk b ON b.customer_id = c.customer_id
		WHERE c.start < ` + pAsOf + ` GROUP BY ALL),
	life AS (SELECT grp, cohort, censored, mrr0, interval,
		date_diff('month', start, stop) - CASE WHEN start + to_months(date_diff('month', start, stop)) >= stop THEN 1 ELSE 0 END AS months
		FROM spell)
	SELECT grp, cohort, CAST(floor(months / ` + fmt.Sprint(per) + `) AS BIGINT) AS renewals, censored, count(*), sum(mrr0)
	FROM life WHERE interval = ` + pInt + ` GROUP BY ALL
	UNION ALL SELECT '#other', NULL, 0, false, count(*), 0 FROM life WHERE interval IS DISTINCT FROM ` + pInt + `
	UNION ALL SELECT '#margin', NULL, 0, false, count(*), coalesce(sum(gp), 0) / nullif(sum(amount), 0) FROM rev WHERE gm_known`
	rs, err := db.QueryContext(ctx, q, ps.args...)
	if err != nil {
		return nil, fmt.Errorf("query: sbg ltv: %w", err)
	}
	defer rs.Close()
	type life struct {
		renewals int
		censored bool
		n        int64
	}
	type cohortKey struct {
		grp    string
		cohort time.Time
	}
	lives := map[cohortKey][]life{}
	mrr := map[string][2]float64{}
	out := &SBGLTV{Model: "sbg", By: req.By, Interval: interval, Rows: []SBGGroup{}}
	margin, marginNote := pol.DefaultMargin, fmt.Sprintf("ltv.default_margin %.0f %% (no order has a gross margin)", pol.DefaultMargin*100)
	for rs.Next() {
		var g string
		var c sql.NullTime
		var l life
		var sum sql.NullFloat64
		if err := rs.Scan(&g, &c, &l.renewals, &l.censored, &l.n, &sum); err != nil {
			return nil, fmt.Errorf("query: sbg ltv: %w", err)
		}
		switch {
		case !c.Valid && g == "#other":
			out.OtherInterval = l.n
		case !c.Valid && g == "#margin":
			if l.n > 0 && sum.Valid {
				margin = sum.Float64
				marginNote = fmt.Sprintf("measured: Σ orders.gross_margin ÷ Σ amount of the %d orders with a known margin = %.1f %%", l.n, margin*100)
			}
		default:
			k := cohortKey{g, c.Time}
			lives[k] = append(lives[k], l)
			m := mrr[g]
			mrr[g] = [2]float64{m[0] + sum.Float64, m[1] + float64(l.n)}
		}
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("query: sbg ltv: %w", err)
	}
	last := monthStart(now.In(loc))
	// cohortOf builds the sBG cohort of one acquisition month: everyone
	// was observed for K renewals, K counted from the month's end.
	cohortOf := func(c time.Time, ls []life) (sbg.Cohort, int64) {
		k := (monthIndex(c, last) - 1) / per
		if k < 0 {
			k = 0
		}
		alive := make([]float64, k+1)
		var n int64
		for _, l := range ls {
			n += l.n
			for t := 0; t <= min(l.renewals, k); t++ {
				alive[t] += float64(l.n)
			}
		}
		return sbg.Cohort{Alive: alive}, n
	}
	groups := map[string][]sbg.Cohort{}
	sizes := map[string]int64{}
	var pooled []sbg.Cohort
	var pooledN int64
	var pooledMRR [2]float64
	keys := make([]cohortKey, 0, len(lives))
	for k := range lives {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].grp != keys[j].grp {
			return keys[i].grp < keys[j].grp
		}
		return keys[i].cohort.Before(keys[j].cohort)
	})
	for _, k := range keys {
		c, n := cohortOf(k.cohort, lives[k])
		groups[k.grp] = append(groups[k.grp], c)
		sizes[k.grp] += n
		pooled = append(pooled, c)
		pooledN += n
	}
	for _, m := range mrr {
		pooledMRR[0] += m[0]
		pooledMRR[1] += m[1]
	}
	rate := math.Pow(1+pol.DiscountRate, float64(per)/12) - 1
	horizon := max(pol.HorizonMonths/per, 1)
	build := func(name string, cs []sbg.Cohort, n int64, m [2]float64, own bool, pooledFit *sbg.Fit) SBGGroup {
		g := SBGGroup{Group: name, Customers: n, Cohorts: len(cs), Margin: margin, Check: []SBGPoint{}}
		if m[1] > 0 {
			g.MRR = round4(m[0] / m[1])
		}
		var fit *sbg.Fit
		if own {
			f, err := sbg.FitCohorts(cs)
			if err != nil {
				g.FitError = err.Error()
			} else {
				fit = &f
				g.Fit = &f
			}
		}
		if fit == nil && pooledFit != nil {
			fit, g.PooledUsed = pooledFit, true
		}
		if fit == nil {
			return g
		}
		p := fit.Params
		if rate > 0 {
			g.DEL = fnum(p.DEL(rate))
		}
		var life float64
		for t := 0; t < horizon; t++ {
			life += p.Survival(t) / math.Pow(1+rate, float64(t))
		}
		g.Lifetime = fnum(life)
		g.LTV = fnum(round4(margin * g.MRR * float64(per) * life))
		// Fit check: observed survival pooled over the cohorts observed
		// T renewals, against S(T).
		maxT := 0
		for _, c := range cs {
			maxT = max(maxT, len(c.Alive)-1)
		}
		for t := 0; t <= max(maxT, 12/per); t++ {
			pt := SBGPoint{T: t, Fitted: p.Survival(t)}
			var num, den float64
			for _, c := range cs {
				if t < len(c.Alive) {
					num += c.Alive[t]
					den += c.Alive[0]
				}
			}
			pt.Observed = div(num, den)
			if t >= 1 {
				pt.Retention = fnum(p.RetentionRate(t))
			}
			g.Check = append(g.Check, pt)
		}
		return g
	}
	out.Pooled = build("Total", pooled, pooledN, pooledMRR, true, nil)
	if pooledN == 0 {
		out.Pooled.FitError = "no subscriber with a " + interval + "ly first plan observed for one renewal"
	}
	if req.By != "" {
		names := make([]string, 0, len(groups))
		for g := range groups {
			names = append(names, g)
		}
		sort.Strings(names)
		for _, g := range names {
			out.Rows = append(out.Rows, build(g, groups[g], sizes[g], mrr[g], sizes[g] >= int64(pol.MinCohortSize), out.Pooled.Fit))
		}
	}
	out.Assumptions = ltvAssumptions(biz, now)
	out.Assumptions.Margin = marginNote
	out.Assumptions.Notes = append(out.Assumptions.Notes,
		fmt.Sprintf("period: the billing period (%s); subscribers whose first plan bills otherwise are left out (%d; --interval year fits the annual ones)", interval, out.OtherInterval),
		"cohort: the local month of the first active subscription segment; alive after k renewals while start + k periods falls inside the first spell of active or paused segments (gaps of a day or less joined); a cohort counts the renewals every member had time to make by today",
		fmt.Sprintf("fit: sBG (Fader & Hardie 2007) by maximum likelihood per group with at least %d subscribers (ltv.min_cohort_size), else the pooled fit", pol.MinCohortSize),
		fmt.Sprintf("LTV = margin × MRR at start × %d × Σ_{t<%d} S(t)/(1+d)^t with d = %.4f per period (the annual %.1f %%); DEL is the same sum without the horizon", per, horizon, rate, pol.DiscountRate*100))
	return out, nil
}
