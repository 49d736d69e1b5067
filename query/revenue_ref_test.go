package query_test

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// This file is the brute-force reference of the MRR movements: the
// definitions of docs/metrics.md ("Revenue") computed segment by segment
// in Go, independently of the SQL.

// refSeg is one subscription segment as inserted.
type refSeg struct {
	sub, cust, plan, status, interval, cur string
	count                                  int
	amount, mrr                            float64
	from, to, canceled                     time.Time // to, canceled zero: NULL
}

// refFX gives 1 cur in the reporting currency on a civil date (the
// newest quote on or before it), ok false when there is none.
type refFX func(cur string, d time.Time) (float64, bool)

var farFuture = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// refNorm is a segment's price normalised to a month.
func refNorm(s refSeg) float64 {
	f := 1.0
	switch s.interval {
	case "year":
		f = 1.0 / 12
	case "week":
		f = 52.0 / 12
	case "day":
		f = 365.25 / 12
	}
	return s.amount / float64(max(s.count, 1)) * f
}

// refCounted returns the segment's counted MRR (unconverted) and its
// end under the policy.
func refCounted(s refSeg, pol bowtie.RevenuePolicy) (m float64, end time.Time) {
	end = s.to
	if end.IsZero() {
		end = farFuture
	}
	if pol.MRRStop == "cancel_request" && !s.canceled.IsZero() && s.canceled.Before(end) {
		end = s.canceled
	}
	switch {
	case s.status == "active":
		m = s.mrr
	case s.status == "trialing" && pol.TrialsInMRR, s.status == "paused" && pol.PausesInMRR:
		m = refNorm(s)
	}
	return m, end
}

type refSpell struct {
	ss, se time.Time
	kind   string
}

// refMove is one customer's change in one period (bv > 0: a spell inside
// the period under split).
type refMove struct {
	c, typ, pb, pa string
	before, after  float64
	bv             float64
}

// refPeriod is the reference of one period's totals.
type refPeriod struct {
	moves                   []refMove // every customer with MRR at either end, and blips
	avgDaily                float64
	trials, trialsConverted int64
	grr12, nrr12            float64
	has12                   bool
}

// refState is what the reference derives from the segments.
type refState struct {
	pos    map[string][]refSeg // customer → counted segments with m > 0 (end in .to, m in .mrr)
	spells map[string][]refSpell
}

func refBuild(segs []refSeg, pol bowtie.RevenuePolicy) *refState {
	st := &refState{pos: map[string][]refSeg{}, spells: map[string][]refSpell{}}
	for _, s := range segs {
		m, e := refCounted(s, pol)
		if m > 0 && e.After(s.from) {
			s.mrr, s.to = m, e
			st.pos[s.cust] = append(st.pos[s.cust], s)
		}
	}
	for c, ps := range st.pos {
		slices.SortFunc(ps, func(a, b refSeg) int {
			return cmp.Or(a.from.Compare(b.from), a.to.Compare(b.to))
		})
		var sp []refSpell
		for _, s := range ps {
			if n := len(sp); n > 0 && !s.from.After(sp[n-1].se) {
				if s.to.After(sp[n-1].se) {
					sp[n-1].se = s.to
				}
				continue
			}
			sp = append(sp, refSpell{ss: s.from, se: s.to})
		}
		for i := range sp {
			switch {
			case i == 0:
				sp[i].kind = "new"
			case pol.ReactivationWindowDays == 0 || !sp[i].ss.After(sp[i-1].se.AddDate(0, 0, pol.ReactivationWindowDays)):
				sp[i].kind = "reactivation"
			default:
				sp[i].kind = "new"
			}
		}
		st.spells[c] = sp
	}
	return st
}

// mrrAt is customer c's converted MRR at instant t (rate of date d) and
// its largest plan.
func (st *refState) mrrAt(c string, t, d time.Time, fx refFX, fxMissing *bool) (float64, string) {
	var sum, best float64
	plan := ""
	first := true
	for _, s := range st.pos[c] {
		if s.from.After(t) || !t.Before(s.to) {
			continue
		}
		r, ok := fx(s.cur, d)
		if !ok {
			*fxMissing = true
		}
		v := math.Round(s.mrr*r*1e6) / 1e6 // each segment rounded to a millionth
		sum += v
		if first || v > best || v == best && s.plan > plan {
			best, plan, first = v, s.plan, false
		}
	}
	return sum, plan
}

func (st *refState) spellAt(c string, t time.Time) *refSpell {
	for i, sp := range st.spells[c] {
		if !sp.ss.After(t) && t.Before(sp.se) {
			return &st.spells[c][i]
		}
	}
	return nil
}

// refRevenue computes the periods of boundaries bt (instants) with rate
// dates bd, by the definitions.
func refRevenue(segs []refSeg, pol bowtie.RevenuePolicy, fx refFX, loc *time.Location, bt, bd []time.Time) ([]refPeriod, bool) {
	st := refBuild(segs, pol)
	var custs []string
	for c := range st.pos {
		custs = append(custs, c)
	}
	sort.Strings(custs)
	missing := false
	n := len(bt) - 1
	out := make([]refPeriod, n)
	for k := 1; k <= n; k++ {
		p := &out[k-1]
		for _, c := range custs {
			b, pb := st.mrrAt(c, bt[k-1], bd[k-1], fx, &missing)
			a, pa := st.mrrAt(c, bt[k], bd[k], fx, &missing)
			if b == 0 && a == 0 {
				if pol.SamePeriod == "split" {
					for _, sp := range st.spells[c] {
						if sp.ss.After(bt[k-1]) && !sp.se.After(bt[k]) {
							v, pl := st.mrrAt(c, sp.ss, bd[k], fx, &missing)
							p.moves = append(p.moves, refMove{c: c, typ: sp.kind, pa: pl, bv: v})
						}
					}
				}
				continue
			}
			m := refMove{c: c, before: b, after: a, pb: pb, pa: pa}
			const eps = 1e-9
			switch {
			case b == 0:
				m.typ = st.spellAt(c, bt[k]).kind
			case a == 0:
				m.typ = "churn"
			case a > b+eps && pol.DiscountWindowDays > 0 && bt[k-1].Before(st.spellAt(c, bt[k]).ss.AddDate(0, 0, pol.DiscountWindowDays)):
				m.typ = st.spellAt(c, bt[k]).kind
			case a > b+eps:
				m.typ = "expansion"
			case a < b-eps:
				m.typ = "contraction"
			}
			p.moves = append(p.moves, m)
		}
		// Daily customers: spells covering each local midnight of the period.
		days, sum := 0, 0
		for t := bt[k-1].In(loc); t.Before(bt[k]); t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc) {
			days++
			for _, c := range custs {
				if st.spellAt(c, t) != nil {
					sum++
				}
			}
		}
		p.avgDaily = float64(sum) / float64(days)
	}
	// Trials: a subscription's first trialing segment.
	first := map[string]time.Time{}
	for _, s := range segs {
		if s.status == "trialing" && (first[s.sub].IsZero() || s.from.Before(first[s.sub])) {
			first[s.sub] = s.from
		}
	}
	for sub, ts := range first {
		conv := false
		for _, s := range segs {
			if s.sub == sub && s.status == "active" && s.mrr > 0 && !s.from.Before(ts) && !s.from.After(ts.AddDate(0, 0, pol.TrialConversionDays)) {
				conv = true
			}
		}
		for k := 1; k <= n; k++ {
			if !ts.Before(bt[k-1]) && ts.Before(bt[k]) {
				out[k-1].trials++
				if conv {
					out[k-1].trialsConverted++
				}
			}
		}
	}
	return out, missing
}

// refT12M computes trailing-12-month GRR and NRR at boundary k of a
// month grid that starts 12 months early.
func refT12M(segs []refSeg, pol bowtie.RevenuePolicy, fx refFX, bt, bd []time.Time, k int) (grr, nrr float64, ok bool) {
	st := refBuild(segs, pol)
	miss := false
	var then, now, capped float64
	for c := range st.pos {
		a, _ := st.mrrAt(c, bt[k-12], bd[k-12], fx, &miss)
		if a == 0 {
			continue
		}
		b, _ := st.mrrAt(c, bt[k], bd[k], fx, &miss)
		then += a
		now += b
		capped += math.Min(a, b)
	}
	if then == 0 {
		return 0, 0, false
	}
	return capped / then, now / then, true
}
