package importer

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/bowtie-analytics/bowtie"
)

// Paths: the aggregated format attribution tools exchange (R's and
// Python's ChannelAttribution, GA's conversion-path reports): one row per
// distinct path, the channels in order joined by ">", with how many times
// it ended in a conversion, the value of those conversions and how many
// times it ended without one. docs/import.md, "Paths", says what is
// accepted and what is refused; docs/schema.md, paths, what is stored.

// PathSeparator joins the channels of a stored path.
const PathSeparator = " > "

// pathsPreset is the import of kind paths. Its headers are, in order, the
// canonical name and the names ChannelAttribution's documentation and
// example data (path, total_conversions, total_conversion_value,
// total_null) and other tools' exports use.
var pathsPreset = &Preset{
	Name:   "paths",
	Title:  "aggregated attribution paths: path, conversions, value, nulls (ChannelAttribution's input)",
	Writes: []string{"paths"},
	Inputs: []Input{
		{Name: "path", Headers: []string{"path", "paths", "channel_path", "conversion path", "path_sequence", "journey"}, Required: true},
		{Name: "conversions", Headers: []string{"conversions", "total_conversions", "conv", "conversion", "num_conversions", "total_conversion"},
			Type: bowtie.Float, Required: true},
		{Name: "value", Headers: []string{"value", "total_conversion_value", "conversion_value", "conversion value", "conv_value",
			"conv. value", "total_value", "revenue"}, Type: bowtie.Money},
		{Name: "nulls", Headers: []string{"nulls", "total_null", "null", "total_nulls", "null_conversions", "non_conversions"}, Type: bowtie.Float},
		{Name: "currency", Headers: []string{"currency"}, Type: bowtie.Currency},
	},
	New: func() Converter { return &pathsConverter{} },
}

// pathsConverter converts the rows of one paths import.
type pathsConverter struct {
	dataset string         // the dataset every row goes to
	seen    map[string]int // normalised path -> line of the row emitted for it
}

// setDataset resolves --dataset for a paths import, and refuses it for any
// other.
func (r *run) setDataset() error {
	pc, ok := r.conv.(*pathsConverter)
	if !ok {
		if r.opts.Dataset != "" {
			return bowtie.Errorf(bowtie.EINVALID, "--dataset %q: only a paths import has datasets", r.opts.Dataset)
		}
		return nil
	}
	name := strings.TrimSpace(r.opts.Dataset)
	if name == "" && r.opts.Dataset != "" {
		return bowtie.Errorf(bowtie.EINVALID, "--dataset: the name is blank")
	}
	if name == "" {
		name = DatasetOf(r.path)
		if name == "" {
			return bowtie.Errorf(bowtie.EINVALID, "%s: the file name gives no dataset name: pass --dataset NAME", r.path)
		}
	}
	f, _ := r.tables["paths"].t.Field("dataset")
	if reason := textProblem(f, name); reason != "" {
		return bowtie.Errorf(bowtie.EINVALID, "dataset %q: %s", abbreviate(name, 40), reason)
	}
	pc.dataset = name
	return nil
}

// DatasetOf is the dataset a paths file is imported into without
// --dataset: its base name without its extensions (.csv, .csv.gz).
func DatasetOf(path string) string {
	base := filepath.Base(path)
	if strings.HasSuffix(strings.ToLower(base), ".gz") {
		base = base[:len(base)-len(".gz")]
	}
	return strings.TrimSpace(strings.TrimSuffix(base, filepath.Ext(base)))
}

// NormalizePath returns the path s as stored: its channels trimmed and
// joined by PathSeparator, "" for a blank s (a conversion without a
// touch). It says why s is refused instead when a channel is empty.
func NormalizePath(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	parts := strings.Split(s, ">")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
		if parts[i] == "" {
			return "", fmt.Errorf("%q: touch %d of %d is empty: channels are separated by \">\" and none may be blank "+
				"(a path without any touch is an empty cell)", abbreviate(s, 60), i+1, len(parts))
		}
	}
	return strings.Join(parts, PathSeparator), nil
}

// Convert implements Converter: it checks every cell of the record and
// emits its row only when all are good, so that each problem is reported
// once, here.
func (p *pathsConverter) Convert(c *Context, r *Row) {
	ok := true
	fail := func(field, reason string) {
		c.Error(r, field, reason)
		ok = false
	}
	path, err := NormalizePath(r.Get("path"))
	if err != nil {
		fail("path", err.Error())
	} else if line, dup := p.seen[path]; dup {
		// The store's key would catch it too; this says why in terms of
		// paths. Summing the rows instead could hide an export that
		// repeats rows or mixes segments.
		what := fmt.Sprintf("%q", path)
		if path == "" {
			what = "the empty path (no touch)"
		}
		fail("path", fmt.Sprintf("%s is already on line %d (channels are compared trimmed): a file holds each path once; add the rows up into one", what, line))
	}
	conv, convOK := pathCount(c, r, "conversions", fail)
	value, valueCur, valueOK := pathValue(c, r, fail)
	nulls, nullsOK := pathCount(c, r, "nulls", fail)
	if valueOK && convOK && value > 0 && conv == 0 {
		fail("value", fmt.Sprintf("%q with 0 conversions: the value is what the path's conversions earned", r.Get("value")))
	}
	if convOK && nullsOK && conv == 0 && nulls == 0 {
		fail("conversions", "conversions and nulls are both 0: the path never occurred; remove the row")
	}
	cur, curOK := pathCurrency(c, r, valueCur, fail)
	if !ok || !curOK {
		return
	}
	o := c.New("paths", r)
	o.Put("dataset", p.dataset).Put("path", path).Put("conversions", conv).Put("value", value).
		Put("currency", cur).Put("nulls", nulls)
	c.Emit(o)
	if p.seen == nil {
		p.seen = map[string]int{}
	}
	p.seen[path] = r.Line()
}

// Finish implements Converter.
func (p *pathsConverter) Finish(*Context) {}

// headerNote names the file's column of input in a message, when its header
// is not the input's own name.
func headerNote(c *Context, input string) string {
	if col := c.run.byName[input]; col != nil && col.header != "" && normHeader(col.header) != input {
		return fmt.Sprintf(" (column %q)", strings.TrimSpace(col.header))
	}
	return ""
}

// pathCount reads a count of the record: conversions (required) or nulls
// (0 when the file has no such column). A count is a finite number of at
// least 0; fractions are allowed (weighted or sampled counts).
func pathCount(c *Context, r *Row, input string, fail func(field, reason string)) (float64, bool) {
	if !r.Has(input) {
		if input == "nulls" {
			return 0, true
		}
		fail(input, "required, but missing")
		return 0, false
	}
	s := r.Get(input)
	if s == "" {
		fail(input, "empty: write 0 when there were none"+headerNote(c, input))
		return 0, false
	}
	v, err := ParseFloat(s)
	if err != nil {
		fail(input, err.Error()+headerNote(c, input))
		return 0, false
	}
	if v < 0 {
		fail(input, fmt.Sprintf("%q is negative: a count cannot be", s)+headerNote(c, input))
		return 0, false
	}
	return v + 0, true // no negative zero
}

// pathValue reads the record's conversion value (0 when the file has no
// value column) and the currency written in it, if any. A value is never
// negative, --allow-negative or not: it is what conversions earned.
func pathValue(c *Context, r *Row, fail func(field, reason string)) (float64, string, bool) {
	if !r.Has("value") {
		return 0, "", true
	}
	s := r.Get("value")
	if s == "" {
		fail("value", "empty: write 0 when the path's conversions earned nothing"+headerNote(c, "value"))
		return 0, "", false
	}
	v, cur, err := ParseMoney(s)
	if err != nil {
		fail("value", err.Error()+headerNote(c, "value"))
		return 0, "", false
	}
	if v < 0 {
		fail("value", fmt.Sprintf("%q is negative: a path's conversion value cannot be", s)+headerNote(c, "value"))
		return 0, "", false
	}
	return v + 0, cur, true
}

// pathCurrency decides the record's currency: its currency cell, else the
// one written in the value, else --currency, else the business currency.
// A currency cell and a value naming another currency contradict each
// other; a symbol several currencies use ($) needs a currency cell or
// --currency.
func pathCurrency(c *Context, r *Row, valueCur string, fail func(field, reason string)) (string, bool) {
	cur := ""
	if s := r.Get("currency"); s != "" {
		code, err := ParseCurrency(s)
		if err != nil {
			fail("currency", err.Error())
			return "", false
		}
		cur = code
	}
	switch {
	case valueCur == "":
	case isAmbiguousSymbol(valueCur):
		if cur == "" && c.Currency == "" {
			fail("currency", fmt.Sprintf("value %q uses %q, the symbol of several currencies: add a currency column or pass --currency", r.Get("value"), valueCur))
			return "", false
		}
	case cur == "":
		cur = valueCur
	case cur != valueCur:
		fail("value", fmt.Sprintf("%q is in %s but the row's currency is %s", r.Get("value"), valueCur, cur))
		return "", false
	}
	if cur == "" {
		cur = c.Currency
	}
	if cur == "" {
		cur = c.Business.Currency
	}
	return cur, true
}
