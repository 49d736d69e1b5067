package query_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/demo"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/query"
)

// demoRange returns the demo's whole history as local dates.
func demoRange(f *demoFixture) (from, to time.Time) {
	loc := f.biz.Location()
	return localDay(f.truth.Start, loc), localDay(f.truth.End.Add(-time.Second), loc)
}

// TestRunOrders_DemoRevenueMix checks the B2B demo's revenue by product
// line (won equipment and service deals, paid parts orders) and its
// service share against the generator's tallies, to the cent, and that
// the lines add up to the acquisition report's revenue.
func TestRunOrders_DemoRevenueMix(t *testing.T) {
	f := demoStore(t, "b2b")
	ctx := context.Background()
	from, to := demoRange(f)
	o, err := query.RunOrders(ctx, f.store.DB(), query.DuckDB{}, f.biz, query.OrdersRequest{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	mix := f.truth.RevenueMix
	if mix == nil || len(mix.ByLine) != 3 {
		t.Fatalf("truth revenue mix %+v", mix)
	}
	var sum float64
	got := map[string]query.LineRevenue{}
	for _, l := range o.Lines {
		got[l.ProductLine] = l
		sum += l.Revenue
	}
	for line, want := range mix.ByLine {
		if !closeTo(got[line].Revenue, want) {
			t.Errorf("%s: revenue %.2f, truth %.2f", line, got[line].Revenue, want)
		}
	}
	if s := got["service"].Share; s == nil || math.Abs(*s-mix.ServiceShare) > 1e-6 {
		t.Errorf("service share %v, truth %v", deref(s), mix.ServiceShare)
	}
	rep, err := query.RunReport(ctx, f.store.DB(), query.DuckDB{}, f.biz, query.ReportRequest{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	if !closeTo(sum, rep.Total.Revenue) || !closeTo(sum, f.truth.Total.Revenue) {
		t.Errorf("lines sum %.2f, report %.2f, truth %.2f", sum, rep.Total.Revenue, f.truth.Total.Revenue)
	}
	t.Logf("service share %.4f, parts share %.4f", mix.ServiceShare, mix.PartsShare)
}

// TestRunRenewals_DemoPlanted checks the B2B demo's renewals: counts and
// uplifts exactly as the generator realised them, and the renewal rate
// within four binomial standard errors of the planted 88 %.
func TestRunRenewals_DemoPlanted(t *testing.T) {
	// Renewals start a year after the first service contract: the
	// default 18-month history holds few, so this store covers 6 years.
	f := longB2B(t)
	from, to := demoRange(f)
	r, err := query.RunRenewals(context.Background(), f.store.DB(), query.DuckDB{}, f.biz, query.RenewalsRequest{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	m := f.truth.RevenueMix
	tot := r.Total
	if tot.Due != m.RenewalsDue || tot.Won != m.RenewalsWon || tot.Lost != m.RenewalsLost || r.Open != m.RenewalsOpen {
		t.Errorf("due/won/lost/open %d/%d/%d/%d, truth %d/%d/%d/%d", tot.Due, tot.Won, tot.Lost, r.Open, m.RenewalsDue, m.RenewalsWon, m.RenewalsLost, m.RenewalsOpen)
	}
	if m.RenewalsWon > 0 && (!near(tot.UpliftMean, m.UpliftMean) || !near(tot.UpliftMedian, m.UpliftMedian)) {
		t.Errorf("uplift mean %v median %v, truth %v %v", deref(tot.UpliftMean), deref(tot.UpliftMedian), m.UpliftMean, m.UpliftMedian)
	}
	if tot.Due < 30 {
		t.Fatalf("only %d renewals due: too few to check the planted rate", tot.Due)
	}
	// The Wilson score interval at z = 3.29 (99.9 %) around the realised
	// rate must hold the planted probability.
	lo, hi := wilson(tot.Won, tot.Due, 3.29)
	if p := demo.PlantedRenewalRate; p < lo || p > hi {
		t.Errorf("renewal rate %d/%d: 99.9 %% interval [%.4f, %.4f] misses the planted %.2f", tot.Won, tot.Due, lo, hi, p)
	}
	t.Logf("renewals due %d, won %d, rate %.4f (planted %.2f); uplift mean %.4f median %.4f", tot.Due, tot.Won, *tot.Rate, demo.PlantedRenewalRate, *tot.UpliftMean, *tot.UpliftMedian)
}

// TestRunReferrals_DemoCounts checks the B2C demo's invitations, referred
// signups and viral cycle time against the generator's counts.
func TestRunReferrals_DemoCounts(t *testing.T) {
	f := demoStore(t, "b2c")
	from, to := demoRange(f)
	r, err := query.RunReferrals(context.Background(), f.store.DB(), query.DuckDB{}, f.biz, query.ReferralsRequest{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	want := f.truth.Referrals
	tot := r.Total
	if want == nil || tot.Invites != want.Invites || tot.ReferredSignups != want.ReferredSignups {
		t.Fatalf("invites %d, referred signups %d; truth %+v", tot.Invites, tot.ReferredSignups, want)
	}
	if !near(tot.CycleDays, want.CycleDaysMedian) {
		t.Errorf("cycle days %v, truth %v", deref(tot.CycleDays), want.CycleDaysMedian)
	}
	t.Logf("invites %d, referred signups %d, invites/user %.4f, conversion %.4f, K %.4f, cycle %.2f days",
		tot.Invites, tot.ReferredSignups, *tot.InvitesPerUser, *tot.InviteConversion, *tot.KFactor, *tot.CycleDays)
}

// longB2B generates a B2B demo over the 6 years before the reference date.
func longB2B(t *testing.T) *demoFixture {
	t.Helper()
	s, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	end := demo.ReferenceDate
	tr, err := demo.Generate(context.Background(), s, demo.Options{Business: "b2b", Seed: 3, Events: 800_000, Start: end.AddDate(-6, 0, 0), End: end})
	if err != nil {
		t.Fatal(err)
	}
	biz, err := bowtie.Preset("b2b")
	if err != nil {
		t.Fatal(err)
	}
	return &demoFixture{store: s, truth: tr, biz: biz}
}

// wilson returns the Wilson score interval of k successes in n trials.
func wilson(k, n int64, z float64) (lo, hi float64) {
	p, nf := float64(k)/float64(n), float64(n)
	c := (p + z*z/(2*nf)) / (1 + z*z/nf)
	h := z / (1 + z*z/nf) * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	return c - h, c + h
}
