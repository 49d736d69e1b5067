package demo

import (
	"slices"
	"sort"
)

// This file tallies the revenue mix, the contract renewals and the
// referral counts the generators realise, for the planted-truth checks of
// the orders, renewals and referrals analyses (docs/demo.md). The tallies
// are taken from the generator's own plan as rows are written, never from
// the store.

// PlantedRenewalRate is the probability with which the B2B demo renews a
// service contract at each anniversary.
const PlantedRenewalRate = 0.88

// RevenueMixTruth is the realised revenue by product line and the B2B
// contract renewals.
type RevenueMixTruth struct {
	// ByLine is the revenue of won deals (B2B) and paid orders closed in
	// range, by product line, in the reporting currency.
	ByLine map[string]float64 `json:"by_line"`
	// ServiceShare is ByLine["service"] ÷ all revenue; PartsShare the
	// same for "parts".
	ServiceShare float64 `json:"service_share"`
	PartsShare   float64 `json:"parts_share"`
	// RenewalsDue counts renewal deals closed in range; RenewalsWon and
	// RenewalsLost split them; RenewalsOpen are still open at End.
	RenewalsDue  int64 `json:"renewals_due"`
	RenewalsWon  int64 `json:"renewals_won"`
	RenewalsLost int64 `json:"renewals_lost"`
	RenewalsOpen int64 `json:"renewals_open"`
	// RenewalRate is the planted probability (PlantedRenewalRate);
	// RenewalRateRealised is RenewalsWon ÷ RenewalsDue.
	RenewalRate         float64 `json:"renewal_rate"`
	RenewalRateRealised float64 `json:"renewal_rate_realised"`
	// UpliftMean and UpliftMedian summarise renewal amount ÷ the
	// previous contract's amount − 1 over won renewals (planted uniform
	// on [0, 6 %] before rounding down to 100 €).
	UpliftMean   float64 `json:"uplift_mean"`
	UpliftMedian float64 `json:"uplift_median"`

	lineCents map[string]int64
	uplifts   []float64
}

// ReferralTruth counts the B2C referral programme's realised flows.
type ReferralTruth struct {
	// Invites counts referral_sent events; ReferredSignups the referred
	// friends who signed up in range.
	Invites         int64 `json:"invites"`
	ReferredSignups int64 `json:"referred_signups"`
	// CycleDaysMedian is the median time from the referrer's signup to
	// the referred friend's signup, in days.
	CycleDaysMedian float64 `json:"cycle_days_median"`

	cycles []float64
}

// mix returns the truth's revenue mix, creating it.
func (g *gen) mix() *RevenueMixTruth {
	if g.truth.RevenueMix == nil {
		g.truth.RevenueMix = &RevenueMixTruth{lineCents: map[string]int64{}}
	}
	return g.truth.RevenueMix
}

// tallyLine adds revenue to a product line.
func (g *gen) tallyLine(line string, cents int64) { g.mix().lineCents[line] += cents }

// tallyB2BDeals adds an account's deals to the revenue mix and the
// renewals: won deals closed in range by product line, and each renewal
// against the contract it renews (the account's latest won service or
// renewal deal before it, in plan order).
func (b *b2b) tallyB2BDeals(a *acct) {
	m := b.mix()
	var prev int64
	for i := range a.deals {
		d := &a.deals[i]
		if d.closed > 0 && d.won {
			m.lineCents[dealLines[d.kind]] += d.euros * 100
		}
		if d.kind == dRenewal {
			switch {
			case d.closed == 0:
				m.RenewalsOpen++
			case d.won:
				m.RenewalsDue++
				m.RenewalsWon++
				if prev > 0 {
					m.uplifts = append(m.uplifts, float64(d.euros)/float64(prev)-1)
				}
			default:
				m.RenewalsDue++
				m.RenewalsLost++
			}
		}
		if (d.kind == dService || d.kind == dRenewal) && d.closed > 0 && d.won {
			prev = d.euros
		}
	}
}

// tallyReferral counts a signed-up user: a root's invitations, and a
// referred friend's signup with its cycle time from root's signup.
func (b *b2c) tallyReferral(root, u *user) {
	if b.truth.Referrals == nil {
		b.truth.Referrals = &ReferralTruth{}
	}
	r := b.truth.Referrals
	if u.child < 0 {
		r.Invites += int64(len(u.refs))
		return
	}
	r.ReferredSignups++
	if root.signup {
		r.cycles = append(r.cycles, float64(u.signupAt-root.signupAt)/86400)
	}
}

// finishRevenue converts the tallies; finish calls it.
func (g *gen) finishRevenue() {
	if m := g.truth.RevenueMix; m != nil {
		m.ByLine = map[string]float64{}
		var total int64
		for _, c := range m.lineCents {
			total += c
		}
		for l, c := range m.lineCents {
			m.ByLine[l] = float64(c) / 100
		}
		if total > 0 {
			m.ServiceShare = round6(float64(m.lineCents["service"]) / float64(total))
			m.PartsShare = round6(float64(m.lineCents["parts"]) / float64(total))
		}
		if g.opts.Business == "b2b" {
			m.RenewalRate = PlantedRenewalRate
		}
		if m.RenewalsDue > 0 {
			m.RenewalRateRealised = round6(float64(m.RenewalsWon) / float64(m.RenewalsDue))
		}
		m.UpliftMean, m.UpliftMedian = meanMedian(m.uplifts)
	}
	if r := g.truth.Referrals; r != nil {
		_, r.CycleDaysMedian = meanMedian(r.cycles)
	}
}

// meanMedian returns the mean and median of xs (0 for none), the median
// interpolated between the middle two as quantile_cont does.
func meanMedian(xs []float64) (mean, median float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	var sum float64
	for _, x := range s {
		sum += x
	}
	mean = sum / float64(len(s))
	n := len(s)
	median = s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return mean, median
}
