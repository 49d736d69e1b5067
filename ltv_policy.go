package bowtie

// LTVPolicy holds the settings of lifetime value and unit economics
// (`ltv:` in bowtie.yaml). Every field has a documented default
// (docs/metrics.md, "Lifetime value").
type LTVPolicy struct{}

// defaultLTVPolicy returns the preset's lifetime-value settings.
func defaultLTVPolicy(preset string) LTVPolicy { return LTVPolicy{} }

// init validates p.
func (p *LTVPolicy) init() error { return nil }
