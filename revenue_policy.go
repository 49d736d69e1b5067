package bowtie

// RevenuePolicy holds the settings of MRR movements, churn and revenue
// retention (`revenue:` in bowtie.yaml). Every field has a documented
// default (docs/metrics.md, "Revenue").
//
// Movements are always net per customer per period (ChartMogul's
// method): a customer's MRR at the end of the previous period is compared
// with its MRR at the end of this one.
type RevenuePolicy struct {
	// ReactivationWindowDays: a customer whose MRR returns from zero after
	// an earlier paid spell is a reactivation when the gap since that
	// spell ended is at most this many days, and new after a longer gap.
	// 0 (the default, ChartMogul's rule) makes any return a reactivation.
	ReactivationWindowDays int `yaml:"reactivation_window_days" json:"reactivation_window_days"`
	// SamePeriod is what a customer who starts paying and stops within one
	// period (zero MRR at both of its ends) shows: "net" (the default:
	// nothing, as the net comparison of period ends sees) or "split" (a new
	// or reactivation movement and a churn movement of the MRR it started
	// with).
	SamePeriod string `yaml:"same_period" json:"same_period"`
	// MRRStop is when a canceled segment stops counting: "period_end" (the
	// default: at valid_to, the end of the paid-up period) or
	// "cancel_request" (at canceled_at, when the cancellation was asked
	// for, if earlier).
	MRRStop string `yaml:"mrr_stop" json:"mrr_stop"`
	// TrialsInMRR and PausesInMRR count trialing and paused segments at
	// their normalised price (amount normalised to a month, as the
	// subscriptions.mrr column is for active segments). Default: false, they
	// are out of MRR.
	TrialsInMRR bool `yaml:"trials_in_mrr" json:"trials_in_mrr"`
	PausesInMRR bool `yaml:"pauses_in_mrr" json:"pauses_in_mrr"`
	// DiscountWindowDays: an MRR increase in a period whose previous end lies
	// within this many days of the start of the customer's paid spell (a
	// discounted first month reverting to full price) counts as new (or
	// reactivation) MRR instead of expansion. 0 (the default) counts it as
	// expansion.
	DiscountWindowDays int `yaml:"discount_window_days" json:"discount_window_days"`
	// TrialConversionDays: a trial converts when its subscription has a paid
	// active segment starting within this many days of the trial's start
	// (default 30).
	TrialConversionDays int `yaml:"trial_conversion_days" json:"trial_conversion_days"`
}

// defaultRevenuePolicy returns the preset's revenue settings (the same
// for both presets).
func defaultRevenuePolicy(preset string) RevenuePolicy {
	return RevenuePolicy{SamePeriod: "net", MRRStop: "period_end", TrialConversionDays: 30}
}

// init validates p.
func (p *RevenuePolicy) init() error {
	if p.SamePeriod == "" {
		p.SamePeriod = "net"
	}
	if p.MRRStop == "" {
		p.MRRStop = "period_end"
	}
	if p.SamePeriod != "net" && p.SamePeriod != "split" {
		return Errorf(EINVALID, "revenue.same_period: %q must be net or split", p.SamePeriod)
	}
	if p.MRRStop != "period_end" && p.MRRStop != "cancel_request" {
		return Errorf(EINVALID, "revenue.mrr_stop: %q must be period_end or cancel_request", p.MRRStop)
	}
	if p.ReactivationWindowDays < 0 || p.ReactivationWindowDays > 36600 {
		return Errorf(EINVALID, "revenue.reactivation_window_days: %d must be between 0 (any time) and 36600", p.ReactivationWindowDays)
	}
	if p.DiscountWindowDays < 0 || p.DiscountWindowDays > 3660 {
		return Errorf(EINVALID, "revenue.discount_window_days: %d must be between 0 (off) and 3660", p.DiscountWindowDays)
	}
	if p.TrialConversionDays < 1 || p.TrialConversionDays > 3660 {
		return Errorf(EINVALID, "revenue.trial_conversion_days: %d must be between 1 and 3660", p.TrialConversionDays)
	}
	return nil
}
