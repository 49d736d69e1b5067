// Package attribution builds attribution paths from the store (or from an
// imported path table), hands them to the models of model/attribution and
// joins the credited conversions and revenue to spend: cost per attributed
// conversion, attributed ROAS and ROMI, every model side by side, the
// platforms' self-reported conversions, lead quality by source, top paths
// and the path length and time-to-convert distributions
// (docs/metrics.md, "Attribution").
package attribution

import "time"

// Levels are the units a path belongs to: one person, or one account with
// the touches of all its people.
var Levels = []string{"person", "account"}

// Breakdowns are the row keys of the result: channel, or channel and
// campaign.
var Breakdowns = []string{"channel", "campaign"}

// Request asks for an attribution analysis. The zero value of every
// optional field takes the documented default.
type Request struct {
	// From and To bound the conversions by local calendar date in the
	// business time zone, both inclusive. Spend is summed over the same
	// dates.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Conversion says what a conversion is: "stage:<name>",
	// "event:<name>", "deal:won" or "payment:first". Empty: "deal:won"
	// for a business whose customers are accounts (B2B), "payment:first"
	// otherwise.
	Conversion string `json:"conversion"`
	// Level is "person" or "account" (see Levels). Empty: the business's
	// customer entity.
	Level string `json:"level"`
	// By is "channel" (default) or "campaign" (rows per channel and
	// campaign).
	By string `json:"by"`
	// Models lists the models to run by name (first, last,
	// last_non_direct, linear, position, w_shaped, time_decay, custom,
	// markov, shapley); empty or "all" runs every one.
	Models []string `json:"models"`
	// Lookback is how far before a conversion touches count, as "30d",
	// "12w" or a Go duration; empty: 365 days for a B2B business, 30 days
	// otherwise. Zero or negative is an error.
	Lookback string `json:"lookback"`
	// TouchEvents restricts touches to events with these names (and a
	// channel); empty: every event with a channel.
	TouchEvents []string `json:"touch_events"`
	// KeepRepeats keeps consecutive touches of the same channel (and
	// campaign with By campaign, and person at account level) apart;
	// by default such runs collapse into their first touch.
	KeepRepeats bool `json:"keep_repeats"`
	// ExcludeDirect drops Direct touches from every path that has another
	// touch.
	ExcludeDirect bool `json:"exclude_direct"`
	// DealWindow says where the path of a deal conversion ends: "created"
	// (default: the touches before the deal was created) or "closed" (the
	// touches up to its close).
	DealWindow string `json:"deal_window"`
	// HalfLife is the time-decay half-life ("7d" by default).
	HalfLife string `json:"half_life"`
	// Custom are the weights of the custom model.
	Custom CustomWeights `json:"custom"`
	// MarkovOrder is the Markov chain's order, 1 to 3 (0 means 1).
	MarkovOrder int `json:"markov_order"`
	// ShapleyMaxExact is the largest number of channels whose Shapley
	// values are computed exactly (0: the model's default); beyond it they
	// are sampled with ShapleySamples permutations (0: the model's
	// default) drawn with ShapleySeed.
	ShapleyMaxExact int   `json:"shapley_max_exact"`
	ShapleySamples  int   `json:"shapley_samples"`
	ShapleySeed     int64 `json:"shapley_seed"`
	// Dataset, when set, reads the aggregated paths imported under this
	// name (table paths) instead of building them from events.
	Dataset string `json:"dataset"`
	// TopPaths is how many top paths are listed (0: 20).
	TopPaths int `json:"top_paths"`
}

// CustomWeights are the shares of the custom rule-based model: First and
// Last go to the first and last touch, Middle is spread evenly over the
// touches between (docs/metrics.md).
type CustomWeights struct {
	First  float64 `json:"first"`
	Middle float64 `json:"middle"`
	Last   float64 `json:"last"`
}

// Result is an attribution analysis. Money is in Currency; ratios are nil
// where their denominator is zero.
type Result struct {
	Currency   string   `json:"currency"`
	TimeZone   string   `json:"time_zone"`
	From       string   `json:"from"`
	To         string   `json:"to"`
	Conversion string   `json:"conversion"`
	Level      string   `json:"level"`
	By         string   `json:"by"`
	Models     []string `json:"models"`
	// LookbackDays and HalfLifeDays are the resolved settings.
	LookbackDays  float64 `json:"lookback_days"`
	HalfLifeDays  float64 `json:"half_life_days"`
	KeepRepeats   bool    `json:"keep_repeats"`
	ExcludeDirect bool    `json:"exclude_direct"`
	DealWindow    string  `json:"deal_window,omitempty"`
	MarkovOrder   int     `json:"markov_order"`
	Dataset       string  `json:"dataset,omitempty"`

	// Totals are the conversions, revenue and paths attributed.
	Totals Totals `json:"totals"`
	// Rows hold one line per channel (By channel) or per channel and
	// campaign, with every model's credit side by side, ordered by cost
	// then by the first model's credited conversions.
	Rows []Row `json:"rows"`
	// LeadQuality is how each first-touch channel's leads went on to the
	// later stages (empty for imported paths).
	LeadQuality []LeadQualityRow `json:"lead_quality"`
	// TopPaths are the most frequent channel sequences.
	TopPaths []PathRow `json:"top_paths"`
	// PathLengths and TimeToConvert are distributions of the converting
	// paths (touches per path; days from first touch to conversion).
	PathLengths   []Bucket `json:"path_lengths"`
	TimeToConvert []Bucket `json:"time_to_convert"`
	// Markov and Shapley hold the data-driven models' own figures when
	// they ran.
	Markov  *MarkovReport  `json:"markov,omitempty"`
	Shapley *ShapleyReport `json:"shapley,omitempty"`
	// Notes say what a reader must know to read the figures (fallbacks,
	// sampled values, conversions with no touch).
	Notes []string `json:"notes"`
}

// Totals are the attributed totals; every model's credits sum to
// Conversions and Revenue.
type Totals struct {
	Conversions float64 `json:"conversions"`
	Revenue     float64 `json:"revenue"`
	// ConvertingPaths and NullPaths count the paths that ended in a
	// conversion and those that did not.
	ConvertingPaths float64 `json:"converting_paths"`
	NullPaths       float64 `json:"null_paths"`
	// DirectConversions are the conversions whose path had no touch
	// (credited to Direct by every model).
	DirectConversions float64 `json:"direct_conversions"`
	// Touches counts the touches on converting paths.
	Touches float64 `json:"touches"`
	// Cost is the spend of the period (the report's cost: cac_cost_types,
	// converted to Currency), over every channel.
	Cost float64 `json:"cost"`
	// PlatformConversions sums spend.platform_conversions in the period;
	// OverClaim is PlatformConversions ÷ Conversions.
	PlatformConversions float64  `json:"platform_conversions"`
	OverClaim           *float64 `json:"over_claim"`
}

// Row is one channel (or channel and campaign) with the credit of every
// model.
type Row struct {
	Channel  string `json:"channel"`
	Campaign string `json:"campaign,omitempty"`
	// Cost is the row's spend in the period.
	Cost float64 `json:"cost"`
	// PlatformConversions sums the row's spend.platform_conversions;
	// OverClaim divides it by the row's last-touch conversions.
	PlatformConversions float64  `json:"platform_conversions"`
	OverClaim           *float64 `json:"over_claim"`
	// Credits maps each model name to its credit for the row.
	Credits map[string]*Credit `json:"credits"`
	// Spread is the largest credited conversions of any model divided by
	// the smallest (nil when the smallest is zero); MaxModel and MinModel
	// name them.
	Spread   *float64 `json:"spread"`
	MaxModel string   `json:"max_model"`
	MinModel string   `json:"min_model"`
}

// Credit is one model's credit for one row.
type Credit struct {
	Conversions float64 `json:"conversions"`
	Revenue     float64 `json:"revenue"`
	// CostPerConversion is cost ÷ conversions, ROAS revenue ÷ cost, ROMI
	// (revenue − cost) ÷ cost.
	CostPerConversion *float64 `json:"cost_per_conversion"`
	ROAS              *float64 `json:"roas"`
	ROMI              *float64 `json:"romi"`
}

// LeadQualityRow is one first-touch channel's leads and how many of them
// reached the later stages (cohort-based: of the leads created in the
// period, those that reached the stage by now).
type LeadQualityRow struct {
	Channel string   `json:"channel"`
	Leads   int64    `json:"leads"`
	MQLs    int64    `json:"mqls"`
	SQLs    int64    `json:"sqls"`
	Won     int64    `json:"won"`
	ToMQL   *float64 `json:"to_mql"`
	ToSQL   *float64 `json:"to_sql"`
	ToWon   *float64 `json:"to_won"`
}

// PathRow is one channel sequence ("A > B > C"; "(none)" for no touch).
type PathRow struct {
	Path           string   `json:"path"`
	Conversions    float64  `json:"conversions"`
	Nulls          float64  `json:"nulls"`
	ConversionRate *float64 `json:"conversion_rate"`
	Revenue        float64  `json:"revenue"`
}

// Bucket is one bin of a distribution of converting paths.
type Bucket struct {
	Label       string  `json:"label"`
	Conversions float64 `json:"conversions"`
	Revenue     float64 `json:"revenue"`
}

// MarkovReport is the Markov model's own output.
type MarkovReport struct {
	Order int `json:"order"`
	// ConversionProb is the chain's probability of conversion from start.
	ConversionProb float64 `json:"conversion_prob"`
	// RemovalEffects are per channel (or channel / campaign key), largest
	// first.
	RemovalEffects []RemovalEffect `json:"removal_effects"`
	// Transitions are the most frequent transitions of the chain.
	Transitions []Transition `json:"transitions"`
	// States is the number of states of the chain.
	States int `json:"states"`
}

// RemovalEffect is one channel's removal effect and credit share.
type RemovalEffect struct {
	Channel       string  `json:"channel"`
	RemovalEffect float64 `json:"removal_effect"`
	Share         float64 `json:"share"`
}

// Transition is one edge of the Markov chain.
type Transition struct {
	From  string  `json:"from"`
	To    string  `json:"to"`
	P     float64 `json:"p"`
	Count float64 `json:"count"`
}

// ShapleyReport is the Shapley model's own output.
type ShapleyReport struct {
	Exact   bool           `json:"exact"`
	Samples int            `json:"samples"`
	Values  []ShapleyValue `json:"values"`
}

// ShapleyValue is one channel's Shapley value (conversions) and its
// standard error when sampled.
type ShapleyValue struct {
	Channel string   `json:"channel"`
	Value   float64  `json:"value"`
	StdErr  *float64 `json:"std_err"`
}
