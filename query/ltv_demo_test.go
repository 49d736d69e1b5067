package query_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/query"
)

// TestLTV_Demos runs every LTV method and the payback analysis on both
// demo businesses and checks their definitions hold: cumulative figures
// never fall, CAC agrees with the acquisition report, ratios are in range,
// fits converge and the hold-out check predicts the hold-out purchases.
func TestLTV_Demos(t *testing.T) {
	if testing.Short() {
		t.Skip("demo stores")
	}
	ctx := context.Background()
	for _, name := range []string{"b2c", "b2b"} {
		t.Run(name, func(t *testing.T) {
			f := demoStore(t, name)
			db := f.store.DB()
			last, err := query.LastDataDate(ctx, db, query.DuckDB{}, f.biz, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			now := last.Add(12 * time.Hour)
			h, err := query.RunHistoricalLTV(ctx, db, query.DuckDB{}, f.biz, query.LTVRequest{By: "channel", Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if len(h.Totals) == 0 {
				t.Fatal("historical: no group")
			}
			for _, r := range append(h.Rows, h.Totals...) {
				for m := 1; m < len(r.Cells); m++ {
					if r.Cohort != "" && r.Cells[m].GrossProfit < r.Cells[m-1].GrossProfit-1e-9 {
						t.Errorf("historical %s %s: cumulative gross profit falls at month %d", r.Group, r.Cohort, m)
					}
				}
				for _, c := range r.Cells {
					if c.GrossProfit > c.Revenue+1e-9 || c.GrossProfit < 0 {
						t.Errorf("historical %s %s: gross profit %v outside [0, revenue %v]", r.Group, r.Cohort, c.GrossProfit, c.Revenue)
					}
				}
			}
			// CAC per channel agrees with the acquisition report over the
			// same months.
			pb, err := query.RunPayback(ctx, db, query.DuckDB{}, f.biz, query.PaybackRequest{By: "channel", Now: now, Models: []string{"formula", "sbg", "bgnbd"}})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := query.RunReport(ctx, db, query.DuckDB{}, f.biz, query.ReportRequest{By: []string{"channel"}, From: date(pb.From), To: date(pb.To)})
			if err != nil {
				t.Fatal(err)
			}
			cac := map[string]*float64{}
			for _, r := range rep.Rows {
				cac[r.Channel] = r.CAC
			}
			for _, r := range pb.Rows {
				w := cac[r.Group]
				if (w == nil) != (r.CAC == nil) || (w != nil && *w-*r.CAC > 1e-6*(*w)+1e-6) {
					t.Errorf("%s: CAC %v, report %v", r.Group, r.CAC, w)
				}
				for m := 1; m < len(r.Curve); m++ {
					if r.Curve[m].Cohorts > r.Curve[m-1].Cohorts {
						t.Errorf("%s: curve month %d has more cohorts than month %d", r.Group, m, m-1)
					}
				}
			}
			if pb.Total.CAC == nil || pb.Total.PaybackMonths == nil || *pb.Total.PaybackMonths <= 0 {
				t.Errorf("total: CAC %v payback %v", pb.Total.CAC, pb.Total.PaybackMonths)
			}
			t.Logf("%s: CAC %.2f, monthly GP %.2f, payback %.1f months, LTV %v", name, *pb.Total.CAC, *pb.Total.MonthlyGP, *pb.Total.PaybackMonths, pb.Total.LTV)

			bg, err := query.RunBGNBDLTV(ctx, db, query.DuckDB{}, f.biz, query.LTVRequest{By: "channel", Now: now})
			if err != nil {
				t.Fatal(err)
			}
			// The B2C demo's orders are monthly subscription payments:
			// nobody drops out between them, the fit runs a and b to
			// infinity and the model's forecasts are not finite; only the
			// B2B demo's parts orders are a non-contractual setting.
			// The B2C demo's monthly payments make dropout homogeneous: the
			// fit runs to a, b → ∞, says so, and the forecasts stay finite.
			if bg.Fit == nil || bg.Total.CLV == nil || *bg.Total.CLV <= 0 || *bg.Total.PAlive <= 0 || *bg.Total.PAlive > 1 || bg.Fit.A+bg.Fit.B > 1e4 && bg.Fit.Note == "" {
				t.Errorf("bgnbd: fit %+v total %+v", bg.Fit, bg.Total)
			}
			if c := bg.Check; c == nil {
				t.Errorf("bgnbd: no hold-out check: %+v", c)
			} else {
				t.Logf("%s: bgnbd hold-out actual %.0f predicted %v; fit %+v %s; CLV %v", name, c.Actual, c.Predicted, c.Fit.Params, bg.Fit.Note, *bg.Total.CLV)
				if c.Predicted == nil || !(*c.Predicted > 0) {
					t.Errorf("bgnbd: hold-out predicted %v", c.Predicted)
				}
				// The tracking curve ends with every repeat purchase day of
				// the calibration customers: Σ (x + hold-out) over them.
				if len(c.Tracking) == 0 {
					t.Error("bgnbd: no tracking curve")
				} else {
					last := c.Tracking[len(c.Tracking)-1].Actual
					var want float64
					for _, f := range c.ByFrequency {
						want += f.Actual * f.Customers
					}
					for i := 1; i < len(c.Tracking); i++ {
						if c.Tracking[i].Actual < c.Tracking[i-1].Actual {
							t.Errorf("tracking falls at %s", c.Tracking[i].Week)
						}
					}
					if last < want {
						t.Errorf("tracking ends at %.0f repeat days, below the hold-out's %.0f", last, want)
					}
				}
				if _, err := json.Marshal(bg); err != nil {
					t.Errorf("bgnbd: JSON: %v", err)
				}
			}
			if name != "b2c" {
				return
			}
			fo, err := query.RunFormulaLTV(ctx, db, query.DuckDB{}, f.biz, query.LTVRequest{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if c := fo.Total.Churn; c == nil || *c <= 0 || *c >= 1 || fo.Total.LTV == nil {
				t.Errorf("formula: %+v", fo.Total)
			}
			sb, err := query.RunSBGLTV(ctx, db, query.DuckDB{}, f.biz, query.LTVRequest{By: "channel", Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if sb.Pooled.Fit == nil || sb.Pooled.LTV == nil {
				t.Fatalf("sbg: %+v", sb.Pooled)
			}
			for i := 1; i < len(sb.Pooled.Check); i++ {
				p := sb.Pooled.Check[i]
				if p.Fitted > sb.Pooled.Check[i-1].Fitted {
					t.Errorf("sbg: fitted survival rises at %d", p.T)
				}
				if p.Observed != nil && i <= 6 && (*p.Observed-p.Fitted > 0.08 || p.Fitted-*p.Observed > 0.08) {
					t.Errorf("sbg: survival after %d renewals observed %.3f fitted %.3f", p.T, *p.Observed, p.Fitted)
				}
			}
			t.Logf("formula LTV %.2f (churn %.4f); sbg LTV %.2f (α %.3f β %.3f)", *fo.Total.LTV, *fo.Total.Churn, *sb.Pooled.LTV, sb.Pooled.Fit.Alpha, sb.Pooled.Fit.Beta)
		})
	}
}

// TestLTV_SameFigures runs every LTV method and the payback analysis,
// each with a breakdown, several times on the B2C demo and demands
// byte-identical JSON: DuckDB's parallel grouping returns rows in any
// order and adds floats in any order, and a fit's optimiser path follows
// its input's order, so a sum or a fit over unordered input would change
// the last digits from run to run.
func TestLTV_SameFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("demo stores")
	}
	ctx := context.Background()
	f := demoStore(t, "b2c")
	db := f.store.DB()
	last, err := query.LastDataDate(ctx, db, query.DuckDB{}, f.biz, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	now := last.Add(12 * time.Hour)
	runs := map[string]func() (any, error){
		"payback": func() (any, error) {
			return query.RunPayback(ctx, db, query.DuckDB{}, f.biz, query.PaybackRequest{By: "campaign", Now: now, Models: []string{"historical", "formula", "sbg", "bgnbd"}})
		},
	}
	for _, m := range query.LTVModels {
		runs["ltv "+m] = func() (any, error) {
			return query.RunLTV(ctx, db, query.DuckDB{}, f.biz, query.LTVRequest{Model: m, By: "channel", Now: now})
		}
	}
	for name, run := range runs {
		var first []byte
		for i := 0; i < 5; i++ {
			res, err := run()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			b, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = b
			} else if string(b) != string(first) {
				at := 0
				for at < len(b) && at < len(first) && b[at] == first[at] {
					at++
				}
				lo := max(at-120, 0)
				t.Errorf("%s: run %d differs from the first at byte %d:\n%s\n%s", name, i+1, at,
					first[lo:min(at+40, len(first))], b[lo:min(at+40, len(b))])
				break
			}
		}
	}
}
