package demo

import "time"

// BillingTruth (B2C) is the realised billing history month by month,
// tallied from the generator's own subscription segments by the
// definitions of docs/metrics.md ("Revenue", default settings: movements
// net per customer per month, trials and pauses out of MRR, MRR until
// the end of the paid-up period, any return a reactivation), in exact
// integer arithmetic. Every user has one subscription, so a customer is
// a user.
type BillingTruth struct {
	Months []BillingMonth `json:"months"`
	// TrialToPaidPlanted is the trial → paid probability the generator drew
	// with, averaged over the trials started in the months whose trials
	// could all convert before End (weighted by each trial's channel rate).
	TrialToPaidPlanted float64 `json:"trial_to_paid_planted"`
	// WinbackPlanted is the probability that a canceled paying user comes
	// back (once), WinbackMinDays and WinbackMaxDays the planted gap.
	WinbackPlanted float64 `json:"winback_planted"`
	WinbackMinDays int     `json:"winback_min_days"`
	WinbackMaxDays int     `json:"winback_max_days"`

	bt         []int64 // month boundaries (unix seconds); bt[0] is the start of the first month
	end        int64
	mrr        [][7]int64 // per month: opening, new, expansion, contraction, churn, reactivation, closing (1e-4 units)
	cust       [][5]int64 // opening, new, reactivated, churned, closing
	trials     [][2]int64
	plantedSum float64
	plantedN   int64
}

// BillingMonth is one month of BillingTruth, in the reporting currency.
type BillingMonth struct {
	Month                string  `json:"month"` // first day, local
	OpeningMRR           float64 `json:"opening_mrr"`
	NewMRR               float64 `json:"new_mrr"`
	ExpansionMRR         float64 `json:"expansion_mrr"`
	ContractionMRR       float64 `json:"contraction_mrr"`
	ChurnedMRR           float64 `json:"churned_mrr"`
	ReactivationMRR      float64 `json:"reactivation_mrr"`
	ClosingMRR           float64 `json:"closing_mrr"`
	OpeningCustomers     int64   `json:"opening_customers"`
	NewCustomers         int64   `json:"new_customers"`
	ReactivatedCustomers int64   `json:"reactivated_customers"`
	ChurnedCustomers     int64   `json:"churned_customers"`
	ClosingCustomers     int64   `json:"closing_customers"`
	// TrialsStarted counts the trials starting in the month and
	// TrialsConverted those paying within 30 days of their start.
	TrialsStarted   int64 `json:"trials_started"`
	TrialsConverted int64 `json:"trials_converted"`
}

// newBillingTruth cuts the months of [start, end) in loc.
func newBillingTruth(loc *time.Location, start, end int64) *BillingTruth {
	s := time.Unix(start, 0).In(loc)
	m := time.Date(s.Year(), s.Month(), 1, 0, 0, 0, 0, loc)
	bt := &BillingTruth{end: end, WinbackPlanted: 0.15, WinbackMinDays: 30, WinbackMaxDays: 150}
	for k := 0; ; k++ {
		t := m.AddDate(0, k, 0)
		bt.bt = append(bt.bt, t.Unix())
		if t.Unix() >= end {
			break
		}
	}
	n := len(bt.bt) - 1
	bt.mrr, bt.cust, bt.trials = make([][7]int64, n), make([][5]int64, n), make([][2]int64, n)
	return bt
}

// segMRR is a segment's MRR in 1e-4 units as the subscriptions table
// stores it (0 unless active).
func segMRR(sg *seg) int64 {
	if sg.status != segActive {
		return 0
	}
	if sg.annual {
		return sg.cents * 100 / 12 // 9999 cents a year: 83325, exact
	}
	return sg.cents * 100
}

// add tallies one user's segments.
func (bt *BillingTruth) add(u *user, trialToPaid float64) {
	if len(u.segs) == 0 {
		return
	}
	end := func(sg *seg) int64 {
		if sg.to == 0 || sg.to >= bt.end { // written as NULL: still running
			return 1 << 62
		}
		return sg.to
	}
	at := func(t int64) int64 {
		var m int64
		for i := range u.segs {
			sg := &u.segs[i]
			if sg.from <= t && t < end(sg) {
				m += segMRR(sg)
			}
		}
		return m
	}
	// Paid spells: maximal runs of touching segments with MRR.
	type spell struct{ from, to int64 }
	var spells []spell
	for i := range u.segs {
		sg := &u.segs[i]
		if segMRR(sg) == 0 || end(sg) <= sg.from {
			continue
		}
		if n := len(spells); n > 0 && sg.from <= spells[n-1].to {
			spells[n-1].to = max(spells[n-1].to, end(sg))
			continue
		}
		spells = append(spells, spell{sg.from, end(sg)})
	}
	returning := func(t int64) bool { // the spell holding t is not the first
		for i, sp := range spells {
			if sp.from <= t && t < sp.to {
				return i > 0
			}
		}
		return false
	}
	prev := at(bt.bt[0])
	for k := 1; k < len(bt.bt); k++ {
		cur := at(bt.bt[k])
		m, c := &bt.mrr[k-1], &bt.cust[k-1]
		m[0] += prev
		m[6] += cur
		if prev > 0 {
			c[0]++
		}
		if cur > 0 {
			c[4]++
		}
		switch {
		case prev == 0 && cur > 0 && returning(bt.bt[k]):
			m[5] += cur
			c[2]++
		case prev == 0 && cur > 0:
			m[1] += cur
			c[1]++
		case prev > 0 && cur == 0:
			m[4] += prev
			c[3]++
		case cur > prev:
			m[2] += cur - prev
		case cur < prev:
			m[3] += prev - cur
		}
		prev = cur
	}
	// The trial: the first segment, trialing.
	if tr := &u.segs[0]; tr.status == segTrial {
		for k := 1; k < len(bt.bt); k++ {
			if tr.from >= bt.bt[k-1] && tr.from < bt.bt[k] {
				bt.trials[k-1][0]++
				for i := range u.segs {
					sg := &u.segs[i]
					if sg.status == segActive && sg.cents > 0 && sg.from >= tr.from && sg.from <= tr.from+30*day {
						bt.trials[k-1][1]++
						break
					}
				}
				// Months whose trials all end (7 days) before End.
				if bt.bt[k]+7*day < bt.end {
					bt.plantedSum += trialToPaid
					bt.plantedN++
				}
			}
		}
	}
}

// finish fills Months.
func (bt *BillingTruth) finish(loc *time.Location) {
	bt.Months = make([]BillingMonth, len(bt.mrr))
	f := func(v int64) float64 { return float64(v) / 1e4 }
	for k := range bt.mrr {
		m, c, tr := bt.mrr[k], bt.cust[k], bt.trials[k]
		bt.Months[k] = BillingMonth{Month: time.Unix(bt.bt[k], 0).In(loc).Format(time.DateOnly),
			OpeningMRR: f(m[0]), NewMRR: f(m[1]), ExpansionMRR: f(m[2]), ContractionMRR: f(m[3]), ChurnedMRR: f(m[4]),
			ReactivationMRR: f(m[5]), ClosingMRR: f(m[6]),
			OpeningCustomers: c[0], NewCustomers: c[1], ReactivatedCustomers: c[2], ChurnedCustomers: c[3], ClosingCustomers: c[4],
			TrialsStarted: tr[0], TrialsConverted: tr[1]}
	}
	if bt.plantedN > 0 {
		bt.TrialToPaidPlanted = bt.plantedSum / float64(bt.plantedN)
	}
}

// tallyBilling adds a user's subscription to the billing truth.
func (b *b2c) tallyBilling(u *user) {
	if b.truth.Billing == nil {
		b.truth.Billing = newBillingTruth(b.cal.loc, b.cal.start, b.cal.end)
	}
	b.truth.Billing.add(u, b.rates[u.t.c.channel].p[2])
}

// finishBilling completes the billing truth (B2C only).
func (g *gen) finishBilling() {
	if g.truth.Billing != nil {
		g.truth.Billing.finish(g.cal.loc)
	}
}
