package query

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/model/bgnbd"
	"github.com/bowtie-analytics/bowtie/model/gammagamma"
)

// BGNBDRow is the BG/NBD CLV of one group.
type BGNBDRow struct {
	Group     string `json:"group"`
	Customers int64  `json:"customers"`
	// Purchases is the expected discounted number of purchases per
	// customer over the horizon; PAlive the mean probability of being
	// alive today.
	Purchases *float64 `json:"expected_purchases"`
	PAlive    *float64 `json:"p_alive"`
	// Value is the mean value of a future purchase; CLV is margin ×
	// Purchases × Value per customer.
	Value *float64 `json:"purchase_value"`
	CLV   *float64 `json:"clv"`
}

// BGNBDLTV is the result of RunBGNBDLTV.
type BGNBDLTV struct {
	Model       string         `json:"model"`
	By          string         `json:"by"`
	TimeUnit    string         `json:"time_unit"`
	Assumptions LTVAssumptions `json:"assumptions"`
	// Fit is the fit on all purchases up to today (the forecast); Check
	// the fit on the calibration period, with the hold-out comparison
	// (nil without a hold-out).
	Fit *bgnbd.Fit `json:"fit"`
	// Spend is the Gamma-Gamma fit of the mean repeat purchase values
	// (nil when fewer than two customers bought again).
	Spend    *gammagamma.Fit `json:"spend_fit"`
	SpendErr string          `json:"spend_fit_error,omitempty"`
	Check    *BGNBDCheck     `json:"check"`
	// CheckError says why there is no check (the calibration period
	// cannot be fitted).
	CheckError string      `json:"check_error,omitempty"`
	Margin     float64     `json:"margin"`
	Rows       []BGNBDRow  `json:"rows"`
	Total      BGNBDRow    `json:"total"`
	Summary    *RFMSummary `json:"-"`
}

// BGNBDCheck is the papers' calibration/hold-out check.
type BGNBDCheck struct {
	CalibrationEnd string    `json:"calibration_end"`
	HoldoutEnd     string    `json:"holdout_end"`
	Holdout        float64   `json:"holdout"` // in time units
	Fit            bgnbd.Fit `json:"fit"`
	Customers      int64     `json:"customers"`
	// ByFrequency compares the mean hold-out purchases, actual and
	// predicted, by calibration frequency 0..6 and 7+.
	ByFrequency []FrequencyCheck `json:"by_frequency"`
	// Tracking is the cumulative repeat purchase days of the calibration
	// customers, week by week from the first purchase to the hold-out's
	// end: actual, and expected by the calibration fit (Fader, Hardie &
	// Lee 2005, figure 2).
	Tracking []TrackPoint `json:"tracking"`
	// Actual and Predicted are total hold-out repeat purchase days.
	Actual    float64  `json:"actual"`
	Predicted *float64 `json:"predicted"`
}

// FrequencyCheck is one line of the check by calibration frequency: the
// customers with X repeat purchase days (X or more when Plus) and their
// mean hold-out purchase days, actual and predicted (nil when the model
// cannot evaluate it).
type FrequencyCheck struct {
	X         int      `json:"x"`
	Plus      bool     `json:"plus"`
	Customers float64  `json:"customers"`
	Actual    float64  `json:"actual"`
	Predicted *float64 `json:"predicted"`
}

// TrackPoint is the cumulative repeat purchase days by the end of Week
// (a local date, exclusive), actual and expected.
type TrackPoint struct {
	Week      string   `json:"week"`
	Actual    float64  `json:"actual"`
	Predicted *float64 `json:"predicted"`
}

// tracking computes the tracking curve of the calibration customers:
// weekly from the first start to hEnd (inclusive).
func tracking(p bgnbd.Params, s *RFMSummary, unit float64, hEnd time.Time) []TrackPoint {
	if len(s.Starts) == 0 {
		return nil
	}
	sort.Slice(s.Starts, func(i, j int) bool { return s.Starts[i].Day.Before(s.Starts[j].Day) })
	sort.Slice(s.Repeats, func(i, j int) bool { return s.Repeats[i].Day.Before(s.Repeats[j].Day) })
	origin := s.Starts[0].Day
	starts := make([]bgnbd.Start, len(s.Starts))
	for i, st := range s.Starts {
		// A purchase on day d happens during it: the process starts at the
		// end of the first day, as T counts whole days from it.
		starts[i] = bgnbd.Start{At: st.Day.Sub(origin).Hours() / 24 / unit, Count: float64(st.Count)}
	}
	var times []float64
	var labels []time.Time
	for w := origin.AddDate(0, 0, 7); !w.After(hEnd.AddDate(0, 0, 7)); w = w.AddDate(0, 0, 7) {
		times = append(times, (w.Sub(origin).Hours()/24-1)/unit)
		labels = append(labels, w)
	}
	pred := p.ExpectedCumulativeRepeat(starts, times)
	out := make([]TrackPoint, len(times))
	var cum float64
	j := 0
	for i, w := range labels {
		for j < len(s.Repeats) && s.Repeats[j].Day.Before(w) {
			cum += float64(s.Repeats[j].Count)
			j++
		}
		out[i] = TrackPoint{Week: w.Format(time.DateOnly), Actual: cum, Predicted: fnum(pred[i])}
	}
	return out
}

// toCustomers converts grouped summary rows (days) into the model's
// customers in unit days, rows with the same (x, tx, T) (differing in the
// hold-out) merged as bgnbd.Collapse does: rows sorted by (X, TX, T)
// (RFMSummary.sort) have them next to each other, so one pass merges
// them, in the same order and with the same sums as Collapse's map.
func toCustomers(rows []RFMRow, unit float64) []bgnbd.Customer {
	sorted := true
	for i := 1; i < len(rows) && sorted; i++ {
		a, b := rows[i-1], rows[i]
		sorted = a.X < b.X || a.X == b.X && (a.TX < b.TX || a.TX == b.TX && a.T <= b.T)
	}
	out := make([]bgnbd.Customer, 0, len(rows))
	for i, r := range rows {
		if sorted && i > 0 && r.X == rows[i-1].X && r.TX == rows[i-1].TX && r.T == rows[i-1].T {
			out[len(out)-1].Count += float64(r.Count)
			continue
		}
		out = append(out, bgnbd.Customer{X: float64(r.X), TX: float64(r.TX) / unit, T: float64(r.T) / unit, Count: float64(r.Count)})
	}
	if !sorted {
		return bgnbd.Collapse(out)
	}
	return out
}

// condExpected evaluates E[Y(t) | x, tx, T] for many (x, tx, T) with one
// hypergeometric evaluation per (x, T, t): in eq. 10 of Fader, Hardie &
// Lee (2005) only the denominator 1 + δ(x>0)·a/(b+x−1)·((α+T)/(α+tx))^(r+x)
// depends on tx, so the value at tx = T (where that ratio is 1), times its
// denominator, is the numerator for every tx.
type condExpected struct {
	p     bgnbd.Params
	cache map[[3]float64]float64
}

// den is the denominator of eq. 10 divided by its value at tx = T.
func (c *condExpected) den(x, tx, T float64) float64 {
	if x == 0 {
		return 1
	}
	d1 := 1 + c.p.A/(c.p.B+x-1)
	return (1 + c.p.A/(c.p.B+x-1)*math.Pow((c.p.Alpha+T)/(c.p.Alpha+tx), c.p.R+x)) / d1
}

// discountedNumerators returns, per distinct (x, T in days), the
// discounted expected purchases over the horizon of a customer with tx =
// T: Σ_i (E[Y(iL)] − E[Y((i−1)L)]) / (1+d)^i; dividing by den gives any
// tx's. The (x, T) pairs are split over GOMAXPROCS goroutines; the pairs
// with the same x and all their months share one quadrature rule where
// eq. 7 has no closed form.
func discountedNumerators(c *condExpected, gs []GroupRFM, unit, monthU, rate float64, months int) map[[2]int64]float64 {
	out := map[[2]int64]float64{}
	var keys [][2]int64
	for _, g := range gs {
		k := [2]int64{g.X, g.T}
		if _, ok := out[k]; !ok {
			out[k] = 0
			keys = append(keys, k)
		}
	}
	// Pairs with the same x share the quadrature rule: sorted by x, the
	// runs of equal x are handed out to the goroutines.
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
	})
	var runs [][2]int
	for i := 0; i < len(keys); {
		j := i
		for j < len(keys) && keys[j][0] == keys[i][0] && j-i < 256 {
			j++
		}
		runs = append(runs, [2]int{i, j})
		i = j
	}
	vals := make([]float64, len(keys))
	ts := make([]float64, months)
	for i := range ts {
		ts[i] = float64(i+1) * monthU
	}
	workers := max(runtime.GOMAXPROCS(0), 1)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ri := int(next.Add(1) - 1)
				if ri >= len(runs) {
					return
				}
				lo, hi := runs[ri][0], runs[ri][1]
				x := float64(keys[lo][0])
				Ts := make([]float64, hi-lo)
				for j := lo; j < hi; j++ {
					Ts[j-lo] = float64(keys[j][1]) / unit
				}
				// E[Y(t) | x, T, T] = E[Y(t) | alive] · P(alive), the
				// months sharing one quadrature rule.
				grid := c.p.ExpectedPurchasesIfAliveGrid(ts, x, Ts)
				for j := lo; j < hi; j++ {
					T := Ts[j-lo]
					es := grid[j-lo]
					pa := c.p.PAlive(x, T, T)
					var disc, prev float64
					for i := 1; i <= months; i++ {
						e := es[i-1] * pa
						disc += (e - prev) / math.Pow(1+rate, float64(i))
						prev = e
					}
					vals[j] = disc
				}
			}
		}()
	}
	wg.Wait()
	for j, k := range keys {
		out[k] = vals[j]
	}
	return out
}

func (c *condExpected) at(t, x, tx, T float64) float64 {
	k := [3]float64{t, x, T}
	num, ok := c.cache[k]
	d1 := 1.0
	if x > 0 {
		d1 += c.p.A / (c.p.B + x - 1)
	}
	if !ok {
		num = c.p.ConditionalExpectedPurchases(t, x, T, T) * d1
		c.cache[k] = num
	}
	den := 1.0
	if x > 0 {
		den += c.p.A / (c.p.B + x - 1) * math.Pow((c.p.Alpha+T)/(c.p.Alpha+tx), c.p.R+x)
	}
	return num / den
}

// RunBGNBDLTV fits BG/NBD to the per-customer purchase summary computed
// in the store and values customers: expected discounted purchases over
// ltv.horizon_months × mean purchase value × margin. With
// ltv.holdout_days > 0 it also fits the calibration period and compares
// predicted with actual hold-out purchases by calibration frequency.
func RunBGNBDLTV(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req LTVRequest) (*BGNBDLTV, error) {
	if err := checkLTVBy(req.By); err != nil {
		return nil, err
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	loc := biz.Location()
	pol := biz.LTV
	end := asOfInstant(now, loc)
	if err := checkRevenueFX(ctx, db, d, biz, end); err != nil {
		return nil, err
	}
	today := civil(now.In(loc))
	unit := 1.0
	if pol.TimeUnit == "weeks" {
		unit = 7
	}
	out := &BGNBDLTV{Model: "bgnbd", By: req.By, TimeUnit: pol.TimeUnit, Rows: []BGNBDRow{}}
	// The calibration/hold-out check.
	if pol.HoldoutDays > 0 || !pol.CalibrationDate().IsZero() {
		cal := pol.CalibrationDate()
		if cal.IsZero() {
			cal = today.AddDate(0, 0, -pol.HoldoutDays)
		}
		hEnd := today
		if pol.HoldoutDays > 0 && cal.AddDate(0, 0, pol.HoldoutDays).Before(hEnd) {
			hEnd = cal.AddDate(0, 0, pol.HoldoutDays)
		}
		if cal.Before(hEnd) {
			endI := time.Date(hEnd.Year(), hEnd.Month(), hEnd.Day()+1, 0, 0, 0, 0, loc)
			s, err := rfmSummary(ctx, db, d, biz, cal, endI, "", false, true)
			if err != nil {
				return nil, err
			}
			chk, err := bgnbdCheck(s.Rows, unit, float64(hEnd.Sub(cal).Hours()/24)/unit)
			if chk != nil {
				chk.Tracking = tracking(chk.Fit.Params, s, unit, hEnd)
			}
			if bowtie.ErrorCode(err) == bowtie.EINVALID {
				out.CheckError, chk, err = bowtie.ErrorMessage(err), nil, nil
			}
			if err != nil {
				return nil, err
			}
			if chk != nil {
				chk.CalibrationEnd, chk.HoldoutEnd = cal.Format(time.DateOnly), hEnd.Format(time.DateOnly)
				out.Check = chk
			}
		}
	}
	s, err := RunRFMSummary(ctx, db, d, biz, today, end, req.By, true)
	if err != nil {
		return nil, err
	}
	out.Summary = s
	// The Gamma-Gamma fit (one core) runs while BG/NBD is fitted and the
	// CLV numerators are computed.
	ggIn := make([]gammagamma.Customer, 0, len(s.Spend))
	for _, r := range s.Spend {
		ggIn = append(ggIn, gammagamma.Customer{X: float64(r.X), Mean: r.M, Count: float64(r.Count)})
	}
	type ggResult struct {
		fit gammagamma.Fit
		err error
	}
	ggDone := make(chan ggResult, 1)
	go func() {
		gf, err := gammagamma.FitCustomers(ggIn)
		ggDone <- ggResult{gf, err}
	}()
	fit, err := bgnbd.FitCustomers(toCustomers(s.Rows, unit))
	if err != nil {
		return nil, bowtie.Errorf(bowtie.EINVALID, "bgnbd: %v", err)
	}
	out.Fit = &fit
	// Margin: measured on orders with a gross margin, else the default.
	margin, marginNote, err := measuredMargin(ctx, db, d, biz, end)
	if err != nil {
		return nil, err
	}
	out.Margin = margin
	// The value of a future purchase: Gamma-Gamma's E[Z | x, mean], or
	// without a fit the customer's own mean repeat value (first-time
	// buyers: the mean over repeat buyers).
	var sumM, nM float64
	for _, r := range s.Spend {
		sumM += r.M * float64(r.Count)
		nM += float64(r.Count)
	}
	popMean := sumM / nM
	// groupValue returns Σ E[Z | x, m_i] over count customers with x
	// repeat purchases whose means sum to sumM: E[Z | x, m] is linear in m,
	// so the sum is count·E[Z | x, 0] + (E[Z | x, 1] − E[Z | x, 0])·sumM.
	groupValue := func(x float64, count int64, sumM float64) float64 {
		if x == 0 {
			return popMean * float64(count)
		}
		return sumM
	}
	valueNote := fmt.Sprintf("purchase value = the customer's mean repeat purchase day value (first-time buyers: the mean over repeat buyers, %.2f); Gamma-Gamma could not be fitted", popMean)
	rate := monthlyRate(pol.DiscountRate)
	ce := &condExpected{p: fit.Params, cache: map[[3]float64]float64{}}
	monthU := 30.4375 / unit
	dnum := discountedNumerators(ce, s.Groups, unit, monthU, rate, pol.HorizonMonths)
	gr := <-ggDone
	if gf, err := gr.fit, gr.err; err != nil {
		out.SpendErr = err.Error()
	} else if mv := gf.MeanValue(); !math.IsNaN(mv) {
		out.Spend = &gf
		gp := gf.Params
		groupValue = func(x float64, count int64, sumM float64) float64 {
			v0 := gp.ConditionalExpectedValue(x, 0)
			if x == 0 {
				return v0 * float64(count)
			}
			return v0*float64(count) + (gp.ConditionalExpectedValue(x, 1)-v0)*sumM
		}
		valueNote = fmt.Sprintf("purchase value = Gamma-Gamma E[Z | x, mean repeat value] (p %.3f, q %.3f, γ %.3f; population mean %.2f), fitted on the %0.f repeat buyers", gp.P, gp.Q, gp.Gamma, mv, gf.N)
		if gp.Homogeneous() {
			valueNote = fmt.Sprintf("purchase value = Gamma-Gamma E[Z | x, mean repeat value] at the boundary of homogeneous spend (p %.3f, ν %.5g, q and γ infinite): %.2f for every customer, fitted on the %0.f repeat buyers", gp.P, gp.Nu, mv, gf.N)
		}
	} else {
		out.SpendErr = "q ≤ 1: the mean purchase value does not exist"
	}
	type acc struct {
		n                        int64
		purch, alive, value, clv float64
	}
	groups := map[string]*acc{}
	total := &acc{}
	for _, g := range s.Groups {
		x, tx, T := float64(g.X), float64(g.TX)/unit, float64(g.T)/unit
		disc := dnum[[2]int64{g.X, g.T}] / ce.den(x, tx, T)
		value := groupValue(x, g.Count, g.SumM)
		pa := fit.PAlive(x, tx, T)
		name := g.Group
		if req.By == "" {
			name = ""
		}
		a := groups[name]
		if a == nil {
			a = &acc{}
			groups[name] = a
		}
		for _, t := range []*acc{a, total} {
			t.n += g.Count
			t.purch += disc * float64(g.Count)
			t.alive += pa * float64(g.Count)
			t.value += value
			t.clv += margin * disc * value
		}
	}
	row := func(name string, a *acc) BGNBDRow {
		n := float64(a.n)
		r := BGNBDRow{Group: name, Customers: a.n, Purchases: fdiv(a.purch, n), PAlive: fdiv(a.alive, n), Value: fdiv(a.value, n)}
		if v := fdiv(a.clv, n); v != nil {
			r.CLV = fnum(round4(*v))
		}
		return r
	}
	if req.By != "" {
		names := make([]string, 0, len(groups))
		for g := range groups {
			names = append(names, g)
		}
		sort.Strings(names)
		for _, g := range names {
			out.Rows = append(out.Rows, row(g, groups[g]))
		}
	}
	out.Total = row("Total", total)
	out.Assumptions = ltvAssumptions(biz, now)
	out.Assumptions.Margin = marginNote
	out.Assumptions.Notes = append(out.Assumptions.Notes,
		"purchases: days with paid revenue (revenue_sources) per customer, several on one day counting once; x = repeat purchase days, tx and T from the first purchase day, in "+pol.TimeUnit,
		"fit: BG/NBD (Fader, Hardie & Lee 2005) by maximum likelihood on every customer's history up to today; P(alive) today",
		fmt.Sprintf("CLV = margin × Σ_{months i ≤ %d} (E[Y(i)] − E[Y(i−1)] | x, tx, T) / (1+%.5f)^i × purchase value (model/clv's method, grouped by identical (x, tx, T))", pol.HorizonMonths, rate),
		valueNote)
	if fit.Note != "" {
		out.Assumptions.Notes = append(out.Assumptions.Notes, "fit at a boundary: "+fit.Note)
	}
	if !fit.Converged {
		out.Assumptions.Notes = append(out.Assumptions.Notes, "the BG/NBD optimiser stopped before it converged: read the parameters and standard errors as indicative")
	}
	if out.Check != nil {
		out.Assumptions.Notes = append(out.Assumptions.Notes, fmt.Sprintf("check: fit on purchases to %s (ltv.calibration_end, or today − ltv.holdout_days), predictions compared with the hold-out to %s", out.Check.CalibrationEnd, out.Check.HoldoutEnd))
	}
	return out, nil
}

// bgnbdCheck fits the calibration rows and compares predicted with
// actual hold-out purchase days by calibration frequency.
func bgnbdCheck(rows []RFMRow, unit, holdout float64) (*BGNBDCheck, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	fit, err := bgnbd.FitCustomers(toCustomers(rows, unit))
	if err != nil {
		return nil, bowtie.Errorf(bowtie.EINVALID, "bgnbd: calibration: %v", err)
	}
	ce := &condExpected{p: fit.Params, cache: map[[3]float64]float64{}}
	chk := &BGNBDCheck{Fit: fit, Holdout: holdout}
	hc := make([]bgnbd.HoldoutCustomer, 0, len(rows))
	var pred float64
	for _, r := range rows {
		c := bgnbd.Customer{X: float64(r.X), TX: float64(r.TX) / unit, T: float64(r.T) / unit, Count: float64(r.Count)}
		hc = append(hc, bgnbd.HoldoutCustomer{Customer: c, Holdout: holdout, HoldoutX: float64(r.HX)})
		chk.Customers += r.Count
		chk.Actual += float64(r.HX * r.Count)
		pred += float64(r.Count) * ce.at(holdout, c.X, c.TX, c.T)
	}
	chk.Predicted = fnum(pred)
	for _, r := range fit.ExpectedRepeatByFrequency(hc, 7) {
		chk.ByFrequency = append(chk.ByFrequency, FrequencyCheck{X: r.X, Plus: r.Plus, Customers: r.Customers, Actual: r.Actual, Predicted: fnum(r.Predicted)})
	}
	return chk, nil
}

// measuredMargin returns Σ gross margin ÷ Σ amount of the orders with a
// gross margin, or ltv.default_margin when none has one, and a note
// saying which. The sums are exact (decimal), so the margin does not
// depend on the order in which the engine's threads add them.
func measuredMargin(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, end time.Time) (float64, string, error) {
	var ps params
	ctes := ltvBaseCTEs(d, biz, &ps, end, [2]time.Time{end, end.Add(time.Second)}) // the local month is not read
	q := "-- query.measuredMargin\nWITH " + joinCTEs(ctes) + "\nSELECT count(*), " + exactSum("gp", "") + " / nullif(" + exactSum("amount", "") + ", 0) FROM rev WHERE gm_known"
	var n int64
	var m sql.NullFloat64
	if err := db.QueryRowContext(ctx, q, ps.args...).Scan(&n, &m); err != nil {
		return 0, "", fmt.Errorf("query: margin: %w", err)
	}
	if n > 0 && m.Valid {
		return m.Float64, fmt.Sprintf("measured: Σ orders.gross_margin ÷ Σ amount of the %d orders with a known margin = %.1f %%", n, m.Float64*100), nil
	}
	p := biz.LTV.DefaultMargin
	return p, fmt.Sprintf("ltv.default_margin %.0f %% (no order has a gross margin)", p*100), nil
}
