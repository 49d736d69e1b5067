// Package attribution splits the credit for conversions over the touches
// that preceded them: rule-based models (first, last, last non-direct,
// linear, position-based, W-shaped, time decay, custom weights) and
// data-driven ones (Markov chain removal effect of order 1–3, Shapley
// values). It imports no database: the query layer builds the paths in
// the store and hands them over as plain values (docs/metrics.md,
// "Attribution"; docs/models.md for the data-driven variants).
package attribution

// DirectChannel is the channel that gets the credit of a conversion with
// no touch, and the channel name the last-non-direct rule skips.
const DirectChannel = "Direct"

// Milestone flags mark the touches the W-shaped model weights: the touch
// at which the lead was created and the one at which the opportunity was
// created. The path builder sets them (at most one touch each per path).
const (
	LeadCreation uint8 = 1 << iota
	OpportunityCreation
)

// Touch is one touch of a path.
type Touch struct {
	// Channel is the touch's channel grouping; Campaign its utm_campaign
	// ("" when none).
	Channel, Campaign string
	// At is the touch's time in Unix seconds.
	At int64
	// Person is who touched (account-level paths hold the touches of
	// several people); "" when unknown.
	Person string
	// Milestone holds LeadCreation / OpportunityCreation flags.
	Milestone uint8
}

// Path is the ordered touches (oldest first) before one conversion, or
// of one person or account that did not convert. A path read from an
// aggregated path file stands for many occurrences: Conversions, Value
// and Nulls then carry the totals.
type Path struct {
	Touches []Touch
	// ConvAt is the conversion time in Unix seconds (0 for a path that
	// did not convert); time decay measures each touch's age from it.
	ConvAt int64
	// Conversions is the number of conversions the path ends in (1 for
	// one converting person or account, 0 for a non-converting one);
	// Value the revenue that travels with them; Nulls the number of
	// non-converting occurrences of the same path.
	Conversions, Value, Nulls float64
}
