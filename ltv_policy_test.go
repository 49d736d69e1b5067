package bowtie

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLTVPolicy_Defaults(t *testing.T) {
	for _, name := range []string{"b2b", "b2c"} {
		b, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		p := b.LTV
		if p.DiscountRate != 0.10 || p.TimeUnit != "weeks" || p.ChurnBasis != "customers" || p.HoldoutDays != 182 {
			t.Errorf("%s: defaults %+v", name, p)
		}
	}
	b2b, _ := Preset("b2b")
	b2c, _ := Preset("b2c")
	if b2b.LTV.HorizonMonths != 60 || b2c.LTV.HorizonMonths != 36 || b2b.LTV.DefaultMargin != 0.45 || b2c.LTV.DefaultMargin != 0.70 {
		t.Errorf("preset defaults: b2b %+v b2c %+v", b2b.LTV, b2c.LTV)
	}
}

func TestLTVPolicy_Load(t *testing.T) {
	load := func(yaml string) (*Business, error) {
		p := filepath.Join(t.TempDir(), "bowtie.yaml")
		os.WriteFile(p, []byte(yaml), 0o644)
		return LoadBusiness(p, false)
	}
	t.Run("OK", func(t *testing.T) {
		b, err := load("preset: b2b\nltv: {discount_rate: 0.08, time_unit: days, calibration_end: 2025-06-30, holdout_days: 90, churn_basis: mrr}\n")
		if err != nil {
			t.Fatal(err)
		}
		p := b.LTV
		if p.DiscountRate != 0.08 || p.TimeUnit != "days" || p.HoldoutDays != 90 || p.ChurnBasis != "mrr" ||
			p.CalibrationDate().Format("2006-01-02") != "2025-06-30" || p.HorizonMonths != 60 {
			t.Errorf("loaded %+v", p)
		}
	})
	for _, c := range []struct{ yaml, want string }{
		{"ltv: {discount_rate: 1.5}", "discount_rate"},
		{"ltv: {discount_rate: -0.1}", "discount_rate"},
		{"ltv: {horizon_months: 0}", "horizon_months"},
		{"ltv: {default_margin: 0}", "default_margin"},
		{"ltv: {default_margin: 1.2}", "default_margin"},
		{"ltv: {time_unit: months}", "time_unit"},
		{"ltv: {holdout_days: -1}", "holdout_days"},
		{"ltv: {churn_basis: logos}", "churn_basis"},
		{"ltv: {window_months: 0}", "window_months"},
		{"ltv: {min_cohort_size: 0}", "min_cohort_size"},
		{"ltv: {calibration_end: 2025-13-01}", "calibration_end"},
		{"ltv: {discount: 0.1}", "discount"},
	} {
		_, err := load(c.yaml)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %s", c.yaml, err, c.want)
		}
	}
}
