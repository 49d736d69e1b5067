package bowtie

// RevenuePolicy holds the settings of MRR movements, churn and revenue
// retention (`revenue:` in bowtie.yaml). Every field has a documented
// default (docs/metrics.md, "Revenue").
type RevenuePolicy struct{}

// defaultRevenuePolicy returns the preset's revenue settings.
func defaultRevenuePolicy(preset string) RevenuePolicy { return RevenuePolicy{} }

// init validates p.
func (p *RevenuePolicy) init() error { return nil }
