package attribution

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Model names an attribution model. The names are the values the CLI's
// --model flag and the JSON API accept.
type Model string

// The models. RuleModels are computed per path by RuleWeights; Markov and
// Shapley are fitted on all paths at once (RunMarkov, RunShapley).
const (
	First         Model = "first"
	Last          Model = "last"
	LastNonDirect Model = "last_non_direct"
	Linear        Model = "linear"
	Position      Model = "position"
	WShaped       Model = "w_shaped"
	TimeDecay     Model = "time_decay"
	Custom        Model = "custom"
	Markov        Model = "markov"
	Shapley       Model = "shapley"
)

// RuleModels lists the rule-based models in the order reports show them.
var RuleModels = []Model{First, Last, LastNonDirect, Linear, Position, WShaped, TimeDecay, Custom}

// AllModels lists every model: RuleModels, then Markov and Shapley.
var AllModels = []Model{First, Last, LastNonDirect, Linear, Position, WShaped, TimeDecay, Custom, Markov, Shapley}

// ParseModel returns the model named s (exact, lower-case name). An
// unknown name is an error that lists the valid ones.
func ParseModel(s string) (Model, error) {
	for _, m := range AllModels {
		if string(m) == s {
			return m, nil
		}
	}
	names := make([]string, len(AllModels))
	for i, m := range AllModels {
		names[i] = string(m)
	}
	return "", fmt.Errorf("attribution: unknown model %q: valid models are %s", s, strings.Join(names, ", "))
}

// IsRule reports whether m is one of RuleModels.
func (m Model) IsRule() bool {
	return ruleIndex(m) >= 0
}

func ruleIndex(m Model) int {
	for i, r := range RuleModels {
		if r == m {
			return i
		}
	}
	return -1
}

// DefaultHalfLife is the time-decay half-life used when RuleOptions.HalfLife
// is zero.
const DefaultHalfLife = 7 * 24 * time.Hour

// DefaultCustomWeights are the custom model's weights when none are set
// (the zero CustomWeights): the position-based 40-20-40.
var DefaultCustomWeights = CustomWeights{First: 0.4, Middle: 0.2, Last: 0.4}

// RuleOptions are the settings of the rule-based models.
type RuleOptions struct {
	// HalfLife is the time-decay half-life; 0 means DefaultHalfLife.
	// Negative is invalid.
	HalfLife time.Duration `json:"half_life"`
	// Custom holds the custom model's weights; the zero value means
	// DefaultCustomWeights.
	Custom CustomWeights `json:"custom"`
}

// CustomWeights are the custom model's shares: First for the first touch,
// Middle for all middle touches together (split equally between them),
// Last for the last touch. They need not sum to 1: they are normalised
// over the positions a path has (docs/models.md, "Custom weights"). Each
// must be finite and ≥ 0; all three zero means "unset" (DefaultCustomWeights).
type CustomWeights struct {
	First  float64 `json:"first"`
	Middle float64 `json:"middle"`
	Last   float64 `json:"last"`
}

// Validate reports the first invalid weight: negative, NaN or infinite.
func (c CustomWeights) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"first", c.First}, {"middle", c.Middle}, {"last", c.Last}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return fmt.Errorf("attribution: custom weight %s = %v: each weight must be a finite number ≥ 0 (shares of the first touch, the middle touches together and the last touch)", f.name, f.v)
		}
	}
	return nil
}

func (c CustomWeights) orDefault() CustomWeights {
	if c.First == 0 && c.Middle == 0 && c.Last == 0 {
		return DefaultCustomWeights
	}
	return c
}

// Validate reports options the models cannot use: a negative half-life or
// an invalid custom weight.
func (o RuleOptions) Validate() error {
	if o.HalfLife < 0 {
		return fmt.Errorf("attribution: time-decay half-life %v is negative: give a positive duration (0 means the default, %v)", o.HalfLife, DefaultHalfLife)
	}
	return o.Custom.Validate()
}

func (o RuleOptions) halfLifeSeconds() float64 {
	if o.HalfLife == 0 {
		return DefaultHalfLife.Seconds()
	}
	return o.HalfLife.Seconds()
}
