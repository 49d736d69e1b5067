package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/query"
)

// TestRevenueCommand_MatchesDemoTruth checks `bowtie revenue` on the B2C
// demo against the billing truth the generator tallied from its own
// segments: every month's MRR movements, customer counts and trials
// exactly; the realised trial → paid rate against the planted
// probability within sampling error (3 standard errors); the movement
// log's rows against the counts; and the win-back, discount and churn
// plants are present (else the comparison proves little).
func TestRevenueCommand_MatchesDemoTruth(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "b2c.duckdb")
	cfg := filepath.Join(dir, "b2c.yaml")
	if err := os.WriteFile(cfg, []byte("preset: b2c\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := demoCLI(t, "demo", "--business", "b2c", "--events", "60000", "--no-serve", "--db", db); code != 0 {
		t.Fatalf("demo: exit %d: %s", code, errs)
	}
	tr := readTruth(t, db+".truth.json")
	if tr.Billing == nil || len(tr.Billing.Months) == 0 {
		t.Fatal("no billing truth")
	}
	loc, err := time.LoadLocation(tr.TimeZone)
	if err != nil {
		t.Fatal(err)
	}
	from := tr.Start.In(loc).Format(time.DateOnly)
	to := tr.End.In(loc).AddDate(0, 0, -1).Format(time.DateOnly)
	code, out, errs := demoCLI(t, "revenue", "retention", "--db", db, "--config", cfg, "--from", from, "--to", to, "--format", "json")
	if code != 0 {
		t.Fatalf("revenue: exit %d: %s", code, errs)
	}
	var rev query.Revenue
	if err := json.Unmarshal([]byte(out), &rev); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rev.Periods) != len(tr.Billing.Months) {
		t.Fatalf("%d periods, truth has %d months", len(rev.Periods), len(tr.Billing.Months))
	}
	var tot struct{ churn, react, exp, trials, conv int64 }
	var planted float64
	for i, p := range rev.Periods {
		m := tr.Billing.Months[i]
		if p.Period != m.Month {
			t.Fatalf("period %s, truth month %s", p.Period, m.Month)
		}
		got := []float64{p.OpeningMRR, p.NewMRR, p.Expansion, p.Contraction, p.Churn, p.Reactivation, p.ClosingMRR}
		want := []float64{m.OpeningMRR, m.NewMRR, m.ExpansionMRR, m.ContractionMRR, m.ChurnedMRR, m.ReactivationMRR, m.ClosingMRR}
		for j := range got {
			if math.Abs(got[j]-want[j]) > 1e-6 {
				t.Errorf("%s: MRR opening/new/expansion/contraction/churn/reactivation/closing %v, truth %v", m.Month, got, want)
				break
			}
		}
		gc := [5]int64{p.OpeningCustomers, p.NewCustomers, p.ReactivatedCustomers, p.ChurnedCustomers, p.ClosingCustomers}
		wc := [5]int64{m.OpeningCustomers, m.NewCustomers, m.ReactivatedCustomers, m.ChurnedCustomers, m.ClosingCustomers}
		if gc != wc {
			t.Errorf("%s: customers %v, truth %v", m.Month, gc, wc)
		}
		if p.TrialsStarted != m.TrialsStarted || p.TrialsConverted != m.TrialsConverted {
			t.Errorf("%s: trials %d → %d, truth %d → %d", m.Month, p.TrialsStarted, p.TrialsConverted, m.TrialsStarted, m.TrialsConverted)
		}
		tot.churn += m.ChurnedCustomers
		tot.react += m.ReactivatedCustomers
		if m.ExpansionMRR > 0 {
			tot.exp++
		}
		// Trials of the months that end more than 7 days before End could all convert.
		next, _ := time.ParseInLocation(time.DateOnly, m.Month, loc)
		if next.AddDate(0, 1, 7).Before(tr.End) {
			tot.trials += p.TrialsStarted
			tot.conv += p.TrialsConverted
		}
	}
	planted = tr.Billing.TrialToPaidPlanted
	if tot.churn == 0 || tot.react == 0 || tot.exp == 0 || tot.trials < 100 {
		t.Fatalf("the demo lacks a plant: churned %d, reactivated %d, months with expansion %d, trials %d", tot.churn, tot.react, tot.exp, tot.trials)
	}
	rate := float64(tot.conv) / float64(tot.trials)
	se := math.Sqrt(planted * (1 - planted) / float64(tot.trials))
	if math.Abs(rate-planted) > 3*se {
		t.Errorf("trial → paid %.4f over %d trials, planted %.4f (±3 SE = %.4f)", rate, tot.trials, planted, 3*se)
	}
	t.Logf("trial → paid %.4f over %d trials, planted %.4f; %d churned, %d reactivated", rate, tot.trials, planted, tot.churn, tot.react)

	// The movement log has one row per movement.
	code, out, errs = demoCLI(t, "revenue", "log", "--db", db, "--config", cfg, "--from", from, "--to", to, "--format", "csv")
	if code != 0 {
		t.Fatalf("revenue log: exit %d: %s", code, errs)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int64{}
	for _, r := range recs[1:] {
		n[r[2]]++
	}
	if n["churn"] != tot.churn || n["reactivation"] != tot.react {
		t.Errorf("log: %v, truth churned %d, reactivated %d", n, tot.churn, tot.react)
	}

	// Table and CSV outputs, and a breakdown that adds up.
	for _, args := range [][]string{{"revenue"}, {"revenue", "--format", "csv", "--by", "channel"}, {"revenue", "retention"}} {
		code, out, errs = demoCLI(t, append(args, "--db", db, "--config", cfg, "--from", from, "--to", to)...)
		if code != 0 || !strings.Contains(out, "2026-10-01") {
			t.Errorf("%v: exit %d: %s\n%s", args, code, errs, out)
		}
	}
	code, out, _ = demoCLI(t, "revenue", "--by", "channel", "--db", db, "--config", cfg, "--from", from, "--to", to, "--format", "json")
	if code != 0 {
		t.Fatal(out)
	}
	var byCh query.Revenue
	json.Unmarshal([]byte(out), &byCh)
	sum := map[string]float64{}
	for _, g := range byCh.Groups {
		sum[g.Period] += g.ClosingMRR
	}
	for _, p := range byCh.Periods {
		if math.Abs(sum[p.Period]-p.ClosingMRR) > 1e-6 {
			t.Errorf("%s: channels' closing MRR add up to %.4f, total %.4f", p.Period, sum[p.Period], p.ClosingMRR)
		}
	}
	if code, _, errs := demoCLI(t, "revenue", "--grain", "year", "--db", db, "--config", cfg); code == 0 || !strings.Contains(errs, "grain") {
		t.Errorf("--grain year: exit %d: %s", code, errs)
	}
}
