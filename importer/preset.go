package importer

import (
	"regexp"
	"sort"
	"strings"

	"github.com/bowtie-analytics/bowtie"
)

// Input is one column an import reads.
type Input struct {
	// Name is what --map renames: a canonical field for plain imports, a
	// preset's own input name for presets.
	Name string
	// Headers are the headers the column is found under, in order of
	// preference, compared trimmed and case-insensitively.
	Headers []string
	// Pattern, when set, finds the column by a regular expression on the
	// normalised (lower-case) header instead; its first group is the
	// capture Row.Capture returns ("eur" in "amount spent (eur)").
	Pattern *regexp.Regexp
	// Type says how the column's values parse, for date-order detection
	// and docs; the field it is stored in decides the final parse.
	Type bowtie.FieldType
	// Required inputs must be in the header: a file without one is
	// rejected before any row is read.
	Required bool
	// UTC says values without a zone are UTC whatever --timezone says
	// (Stripe's "(UTC)" columns).
	UTC bool
	// Order is how the export writes ambiguous slashed dates, used when
	// the column itself does not tell and no --date-format is given.
	Order DateOrder
}

// Preset reads one export layout into one or more canonical tables.
type Preset struct {
	Name  string
	Title string // one line for `bowtie import presets`
	// Writes lists the tables the preset fills; the first is the one the
	// import summary reports skipped rows on.
	Writes []string
	Inputs []Input
	// SkipRaw, when set, sees every record's raw cells before anything
	// else (before the cell count is checked) and returns why the record
	// is skipped on purpose ("" keeps it): totals and footers.
	SkipRaw func(cells []string) string
	// New returns the converter of one import run.
	New func() Converter
}

// Converter turns the records of one import run into table rows.
type Converter interface {
	// Convert handles one record: it emits rows with Context.Emit, skips
	// it with Context.Skip, or reports problems with Context.Error.
	Convert(c *Context, r *Row)
	// Finish emits what the converter held back.
	Finish(c *Context)
}

// RawSkipper is a Converter that also skips records on purpose, with state
// (a footer runs to the end of the file); see Preset.SkipRaw.
type RawSkipper interface {
	SkipRaw(cells []string) string
}

// ConvertFunc adapts a stateless function to Converter.
type ConvertFunc func(c *Context, r *Row)

// Convert implements Converter.
func (f ConvertFunc) Convert(c *Context, r *Row) { f(c, r) }

// Finish implements Converter.
func (f ConvertFunc) Finish(*Context) {}

// presets holds the registered presets by name.
var presets = map[string]*Preset{}

func register(p *Preset) {
	if _, dup := presets[p.Name]; dup {
		panic("importer: preset " + p.Name + " registered twice")
	}
	presets[p.Name] = p
}

// Presets returns the registered presets by name.
func Presets() []*Preset {
	out := make([]*Preset, 0, len(presets))
	for _, p := range presets {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupPreset returns the preset called name.
func LookupPreset(name string) (*Preset, bool) {
	p, ok := presets[strings.ToLower(strings.TrimSpace(name))]
	return p, ok
}

// Pseudo-fields: inputs of plain imports that are not columns of the table.
const (
	// pseudoMedium is the medium of spend rows, read by the channel rules
	// when the row has no channel.
	pseudoMedium = "medium"
	// pseudoEmail is a clear-text e-mail address of people rows, stored
	// only as email_hash.
	pseudoEmail = "email"
)

// tablePreset is the plain import of table t: every field is an input found
// under its own name.
func tablePreset(t bowtie.Table) *Preset {
	if t.Name == "paths" {
		return pathsPreset // normalises paths and names the dataset
	}
	p := &Preset{Name: t.Kind, Title: "plain import of " + t.Name, Writes: []string{t.Name}}
	for _, f := range t.Fields {
		// A currency may also come from the amounts (€12) or --currency,
		// so its column is not required; the row still needs one.
		p.Inputs = append(p.Inputs, Input{Name: f.Name, Headers: []string{f.Name}, Type: f.Type, Required: f.Required && f.Type != bowtie.Currency})
	}
	switch t.Name {
	case "spend":
		p.Inputs = append(p.Inputs, Input{Name: pseudoMedium, Headers: []string{"medium", "utm_medium"}})
	case "people":
		p.Inputs = append(p.Inputs, Input{Name: pseudoEmail, Headers: []string{"email", "e-mail", "email address"}})
	}
	p.New = func() Converter {
		return ConvertFunc(func(c *Context, r *Row) {
			o := c.New(t.Name, r)
			for _, f := range t.Fields {
				o.From(f.Name, f.Name)
			}
			switch t.Name {
			case "spend":
				o.Medium = r.Get(pseudoMedium)
			case "people":
				if r.Get("email_hash") == "" {
					if e := r.Get(pseudoEmail); e != "" {
						o.Set("email_hash", HashEmail(e))
					}
				}
			}
			c.Emit(o)
		})
	}
	return p
}
