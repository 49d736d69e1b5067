package bowtie

import "time"

// LTVPolicy holds the settings of lifetime value and unit economics
// (`ltv:` in bowtie.yaml). Every field has a documented default
// (docs/metrics.md, "Lifetime value").
type LTVPolicy struct {
	// DiscountRate is the annual discount rate applied to future gross
	// profit (0.10 = 10 % a year), converted to the model's period as
	// (1+r)^(1/12)-1 a month. 0 means undiscounted.
	DiscountRate float64 `yaml:"discount_rate" json:"discount_rate"`
	// HorizonMonths caps projected lifetimes (sBG, BG/NBD CLV) and the
	// historical matrix: value beyond it is not counted.
	HorizonMonths int `yaml:"horizon_months" json:"horizon_months"`
	// DefaultMargin is the gross margin (a fraction of revenue) used for
	// revenue whose gross margin is unknown: won deals, subscriptions and
	// orders without gross_margin.
	DefaultMargin float64 `yaml:"default_margin" json:"default_margin"`
	// TimeUnit is the BG/NBD time unit: days or weeks.
	TimeUnit string `yaml:"time_unit" json:"time_unit"`
	// CalibrationEnd ends the BG/NBD calibration period (a date,
	// YYYY-MM-DD, inclusive); empty: the hold-out period before the last
	// day with revenue.
	CalibrationEnd string `yaml:"calibration_end" json:"calibration_end"`
	// HoldoutDays is the length of the BG/NBD hold-out period after the
	// calibration end; 0 turns the calibration/hold-out check off.
	HoldoutDays int `yaml:"holdout_days" json:"holdout_days"`
	// ChurnBasis is the churn the simple formula divides by: "customers"
	// (logo churn: customers at the start of a month who have no active
	// subscription at its end ÷ customers at its start, averaged over the
	// window) or "mrr" (gross MRR churn: MRR lost to cancellations and
	// contractions ÷ opening MRR).
	ChurnBasis string `yaml:"churn_basis" json:"churn_basis"`
	// WindowMonths is the trailing window (whole months up to the last
	// complete one) over which the formula averages ARPA and churn.
	WindowMonths int `yaml:"window_months" json:"window_months"`
	// MinCohortSize is the smallest acquisition cohort (or channel) the
	// sBG and BG/NBD models are fitted to on their own; smaller groups
	// are reported with the pooled fit only.
	MinCohortSize int `yaml:"min_cohort_size" json:"min_cohort_size"`

	calEnd time.Time
}

// defaultLTVPolicy returns the preset's lifetime-value settings.
func defaultLTVPolicy(preset string) LTVPolicy {
	p := LTVPolicy{
		DiscountRate: 0.10, HorizonMonths: 36, DefaultMargin: 0.70, TimeUnit: "weeks",
		HoldoutDays: 182, ChurnBasis: "customers", WindowMonths: 6, MinCohortSize: 50,
	}
	if preset == "b2b" {
		// Equipment makers plan service and parts revenue over the
		// machine's life; margins on machines and service are lower.
		p.HorizonMonths, p.DefaultMargin, p.WindowMonths, p.MinCohortSize = 60, 0.45, 12, 30
	}
	return p
}

// CalibrationDate returns CalibrationEnd parsed (zero when empty).
func (p *LTVPolicy) CalibrationDate() time.Time { return p.calEnd }

// init validates p.
func (p *LTVPolicy) init() error {
	switch {
	case p.DiscountRate < 0 || p.DiscountRate > 1:
		return Errorf(EINVALID, "ltv: discount_rate: %g must be between 0 and 1 (a yearly rate, 0.10 = 10 %%)", p.DiscountRate)
	case p.HorizonMonths < 1 || p.HorizonMonths > 240:
		return Errorf(EINVALID, "ltv: horizon_months: %d must be between 1 and 240", p.HorizonMonths)
	case p.DefaultMargin <= 0 || p.DefaultMargin > 1:
		return Errorf(EINVALID, "ltv: default_margin: %g must be in (0, 1] (a fraction of revenue)", p.DefaultMargin)
	case p.TimeUnit != "days" && p.TimeUnit != "weeks":
		return Errorf(EINVALID, "ltv: time_unit: %q must be days or weeks", p.TimeUnit)
	case p.HoldoutDays < 0 || p.HoldoutDays > 3660:
		return Errorf(EINVALID, "ltv: holdout_days: %d must be between 0 and 3660", p.HoldoutDays)
	case p.ChurnBasis != "customers" && p.ChurnBasis != "mrr":
		return Errorf(EINVALID, "ltv: churn_basis: %q must be customers or mrr", p.ChurnBasis)
	case p.WindowMonths < 1 || p.WindowMonths > 36:
		return Errorf(EINVALID, "ltv: window_months: %d must be between 1 and 36", p.WindowMonths)
	case p.MinCohortSize < 1:
		return Errorf(EINVALID, "ltv: min_cohort_size: %d must be at least 1", p.MinCohortSize)
	}
	p.calEnd = time.Time{}
	if p.CalibrationEnd != "" {
		t, err := time.Parse(time.DateOnly, p.CalibrationEnd)
		if err != nil {
			return Errorf(EINVALID, "ltv: calibration_end: %q is not a date like 2024-03-31", p.CalibrationEnd)
		}
		p.calEnd = t
	}
	return nil
}
