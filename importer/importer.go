// Package importer reads CSV, JSON lines and Parquet exports into the
// canonical tables: plain imports of one table with an optional column map,
// and presets for the real layouts of ad platforms', CRMs' and billing
// systems' exports. Every record is validated; a bad file yields
// file:line: field: reason errors and leaves the store untouched, or, when
// asked, the good records are imported and the bad ones written to a
// rejects file. Re-importing a file changes nothing: rows are upserted by
// their table's natural key.
//
// The package imports no database driver: it writes through a bowtie.Batch
// and reads Parquet through an injected reader (duckdb.Store.OpenParquet).
package importer

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/bowtie-analytics/bowtie"
)

// Beginner starts a batch; bowtie.Store implements it.
type Beginner interface {
	Begin(ctx context.Context, mode bowtie.WriteMode) (bowtie.Batch, error)
}

// Options configures one import.
type Options struct {
	// Kind is the table kind (bowtie import <kind>). With a Preset it may
	// be empty, or must name one of the tables the preset writes.
	Kind string
	// Preset names a preset (see Presets); empty for a plain import.
	Preset string
	// Format is csv, jsonl or parquet; empty picks it from the file's
	// extension (.csv .tsv .txt, .jsonl .ndjson .json, .parquet; .gz on
	// top of csv and jsonl).
	Format string
	// Map renames inputs: input (field) name -> column header.
	Map map[string]string
	// Business provides the channel rules and the default time zone. It is
	// required.
	Business *bowtie.Business
	// Location is the zone of date-times written without one; nil means
	// the business time zone.
	Location *time.Location
	// DateOrder forces how slashed dates are read; OrderAuto decides per
	// column and rejects columns that never tell.
	DateOrder DateOrder
	// Currency is the currency of money cells whose row names none.
	Currency string
	// Rejects, when set, switches to skip-bad mode: good records are
	// imported and each bad one is written here as CSV (line, field,
	// reason, then the original cells).
	Rejects io.Writer
	// DryRun validates the file and writes nothing.
	DryRun bool
	// AllowNegative accepts negative amounts (money fields: spend.cost,
	// events.revenue, deals.amount, subscriptions.amount and mrr,
	// orders.amount), for refunds and credits. Counts are never negative.
	AllowNegative bool
	// Now is the clock that times of things that happened are checked
	// against (they may not lie in the future); nil means time.Now.
	Now func() time.Time
	// OpenParquet reads Parquet files (duckdb.Store.OpenParquet).
	OpenParquet func(ctx context.Context, path string) (TextRows, error)
	// Progress, when set, is called now and then while the file is read.
	Progress func(Progress)
	// Dataset names the dataset of a paths import (docs/import.md,
	// "Paths"); empty means the file's base name without extensions. Other
	// imports refuse it.
	Dataset string
}

// Progress reports how far an import has come.
type Progress struct {
	Phase string // "checking dates" or "importing"
	// Done and Total are bytes of the file (rows for Parquet, where Unit
	// is "rows"); Total is 0 when unknown.
	Done, Total int64
	Unit        string
	Records     int64 // records read in this phase
}

// Result is what an import did.
type Result struct {
	// Tables lists, in the preset's order, how many rows each table got.
	Tables []TableResult
	// Skipped counts records skipped on purpose (totals, footers, empty
	// rows), by reason, in the order first seen.
	Skipped []Skip
	// Rejected is the number of bad records written to Options.Rejects.
	Rejected int
	// Errors are the first problems of the rejected records.
	Errors *Errors
	// Ignored lists the file's columns no input reads.
	Ignored []string
}

// TableResult is the number of rows written to one table.
type TableResult struct {
	Table string
	Rows  int64
}

// Skip is a count of records skipped on purpose.
type Skip struct {
	Reason string
	N      int
}

// Import reads the file at path into the store as opts say. Errors:
// *Errors when the file has bad records (nothing is written unless
// opts.Rejects is set), *bowtie.Error with EINVALID for bad options or an
// unreadable file, and the store's own errors.
func Import(ctx context.Context, st Beginner, path string, opts Options) (*Result, error) {
	r, err := newRun(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	defer r.closeSource()
	if err := r.open(); err != nil {
		return nil, err
	}
	if !opts.DryRun {
		b, err := st.Begin(ctx, bowtie.Upsert)
		if err != nil {
			return nil, err
		}
		r.batch = b
		defer b.Rollback()
	}
	if err := r.readAll(); err != nil {
		return nil, err
	}
	if r.errs.Total > 0 && opts.Rejects == nil {
		errs := r.errs
		return nil, &errs
	}
	res := &Result{Skipped: r.skips(), Rejected: r.rejected, Ignored: r.ignored()}
	if r.errs.Total > 0 {
		errs := r.errs
		res.Errors = &errs
	}
	if r.rejects != nil {
		r.rejects.Flush()
		if err := r.rejects.Error(); err != nil {
			return nil, fmt.Errorf("write rejects: %w", err)
		}
	}
	counts := map[string]int64{}
	for name, ts := range r.tables {
		counts[name] = ts.rows
	}
	if r.batch != nil {
		c, err := r.batch.Commit()
		if err != nil {
			if bowtie.ErrorCode(err) == bowtie.EINVALID {
				// The store refused the rows as a whole (a check against
				// what is already stored, such as overlapping
				// subscription segments): a problem of the file's data,
				// reported like its row errors.
				return nil, &Errors{List: []RowError{{File: r.file, Field: "store", Reason: bowtie.ErrorMessage(err)}}, Total: 1}
			}
			return nil, err
		}
		for name, n := range c {
			counts[name] = n
		}
	}
	for _, name := range r.preset.Writes {
		res.Tables = append(res.Tables, TableResult{Table: name, Rows: counts[name]})
	}
	return res, nil
}

// Check validates opts for importing path (kind, preset, map, format,
// currency) without reading the file, so that a caller can refuse a bad
// invocation before opening anything. Import checks the same.
func Check(path string, opts Options) error {
	_, err := newRun(context.Background(), path, opts)
	return err
}

// run is the state of one import.
type run struct {
	ctx    context.Context
	opts   Options
	path   string
	file   string // the name used in messages
	format string
	preset *Preset
	conv   Converter
	loc    *time.Location

	src      source
	inputs   []*column          // in preset order
	byName   map[string]*column // by input name
	tables   map[string]*tableState
	batch    bowtie.Batch
	cx       *Context
	rejects  *csv.Writer
	rejected int
	errs     Errors
	skipped  map[string]int
	skipSeq  []string
	read     atomic.Int64 // bytes (rows for Parquet) read
	total    int64
	records  int64
	line     int             // the line of the record being converted
	jsonSeen map[string]bool // JSON lines: top-level keys seen
	channels map[bowtie.Touch]string
	segs     map[string][]segment // subscriptions: accepted segments by subscription_id
	// scanned says the date orders were looked up in the whole file.
	scanned bool
	// fatal ends the import: a problem of the whole file found mid-way.
	fatal *Errors
	// latest is the latest time a thing that happened may have (the
	// clock plus futureSlack).
	latest time.Time
}

// column is an input resolved against the file.
type column struct {
	in      *Input
	idx     int    // CSV and Parquet: the column; -1 when the file has none
	key     string // JSON lines: the normalised key or dotted path
	header  string // the header as written ("" when absent)
	capture string
	order   DateOrder
	loc     *time.Location
}

// tableState tracks one table the import writes.
type tableState struct {
	t        bowtie.Table
	fieldIdx map[string]int
	keys     map[string]int // natural key -> line first seen
	rows     int64
}

func newRun(ctx context.Context, path string, opts Options) (*run, error) {
	if opts.Business == nil {
		return nil, errors.New("importer: Options.Business is required")
	}
	r := &run{ctx: ctx, opts: opts, path: path, file: path, tables: map[string]*tableState{}, skipped: map[string]int{}}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	r.latest = now().Add(futureSlack).UTC()
	r.loc = opts.Location
	if r.loc == nil {
		r.loc = opts.Business.Location()
	}
	if opts.Currency != "" {
		c, err := ParseCurrency(opts.Currency)
		if err != nil {
			return nil, bowtie.Errorf(bowtie.EINVALID, "--currency: %v", err)
		}
		r.opts.Currency = c
	}
	// What to import.
	if opts.Preset != "" {
		p, ok := LookupPreset(opts.Preset)
		if !ok {
			return nil, bowtie.Errorf(bowtie.EINVALID, "unknown preset %q (run `bowtie import presets` for the list)", opts.Preset)
		}
		if opts.Kind != "" {
			t, ok := bowtie.TableByKind(opts.Kind)
			if !ok || !contains(p.Writes, t.Name) {
				return nil, bowtie.Errorf(bowtie.EINVALID, "preset %s writes %s, not %q", p.Name, strings.Join(p.Writes, " and "), opts.Kind)
			}
		}
		r.preset = p
	} else {
		t, ok := bowtie.TableByKind(opts.Kind)
		if !ok {
			return nil, bowtie.Errorf(bowtie.EINVALID, "unknown kind %q (use one of %s, or --preset)", opts.Kind, strings.Join(Kinds(), ", "))
		}
		r.preset = tablePreset(t)
	}
	for _, name := range r.preset.Writes {
		t, ok := bowtie.TableByKind(name)
		if !ok {
			return nil, fmt.Errorf("importer: preset %s writes unknown table %s", r.preset.Name, name)
		}
		ts := &tableState{t: t, fieldIdx: map[string]int{}, keys: map[string]int{}}
		for i, f := range t.Fields {
			ts.fieldIdx[f.Name] = i
		}
		r.tables[name] = ts
	}
	// Inputs, renamed by --map.
	known := map[string]bool{}
	for _, in := range r.preset.Inputs {
		known[in.Name] = true
	}
	for name, col := range opts.Map {
		if !known[name] {
			var names []string
			for _, in := range r.preset.Inputs {
				names = append(names, in.Name)
			}
			return nil, bowtie.Errorf(bowtie.EINVALID, "--map %s=%s: %s has no input %q (inputs: %s)", name, col, r.preset.Name, name, strings.Join(names, ", "))
		}
	}
	r.byName = map[string]*column{}
	for i := range r.preset.Inputs {
		in := r.preset.Inputs[i] // a copy: --map changes it
		if col, ok := opts.Map[in.Name]; ok {
			in.Headers, in.Pattern = []string{col}, nil
		}
		c := &column{in: &in, idx: -1, loc: r.loc, order: opts.DateOrder}
		if in.UTC {
			c.loc = time.UTC
		}
		if in.Pattern == nil && len(in.Headers) > 0 {
			c.key = normHeader(in.Headers[0])
		}
		r.inputs = append(r.inputs, c)
		r.byName[in.Name] = c
	}
	// Format.
	r.format = strings.ToLower(opts.Format)
	if r.format == "" {
		r.format = formatOf(path)
	}
	switch r.format {
	case "csv", "jsonl", "parquet":
	case "json", "ndjson":
		r.format = "jsonl"
	case "":
		return nil, bowtie.Errorf(bowtie.EINVALID, "%s: cannot tell the format from the extension: pass --format csv, jsonl or parquet", path)
	default:
		return nil, bowtie.Errorf(bowtie.EINVALID, "--format: %q is not csv, jsonl or parquet", opts.Format)
	}
	r.conv = r.preset.New()
	if err := r.setDataset(); err != nil {
		return nil, err
	}
	r.cx = &Context{run: r, Business: opts.Business, Currency: r.opts.Currency}
	return r, nil
}

// Kinds returns the import kinds, one per canonical table.
func Kinds() []string {
	out := make([]string, len(bowtie.Tables))
	for i, t := range bowtie.Tables {
		out[i] = t.Kind
	}
	return out
}

// formatOf guesses a file's format from its extension.
func formatOf(path string) string {
	ext := strings.ToLower(filepath.Ext(strings.TrimSuffix(strings.ToLower(path), ".gz")))
	switch ext {
	case ".csv", ".tsv", ".txt", ".tab":
		return "csv"
	case ".jsonl", ".ndjson", ".json":
		return "jsonl"
	case ".parquet", ".pq":
		return "parquet"
	}
	return ""
}

// openSource opens the file from the start; done counts progress.
func (r *run) openSource(done *atomic.Int64) (source, error) {
	if r.format == "parquet" {
		s, err := openParquet(r.ctx, r.path, r.opts.OpenParquet, done)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	br, closer, err := openText(r.path, done)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, bowtie.Errorf(bowtie.EINVALID, "%s: no such file", r.path)
		}
		return nil, bowtie.Errorf(bowtie.EINVALID, "%s: %v", r.path, err)
	}
	if r.format == "jsonl" {
		return &jsonlSource{file: r.file, br: br, closer: closer}, nil
	}
	s, err := openCSV(r.file, br, closer, r.headerScore)
	if err != nil {
		closer.Close()
		return nil, err
	}
	return s, nil
}

// headerScore counts the inputs a candidate header line names.
func (r *run) headerScore(cells []string) int {
	n := 0
	for _, c := range r.inputs {
		if c.find(cells) >= 0 {
			n++
		}
	}
	return n
}

// find returns the index of c's column among header cells, or -1.
func (c *column) find(header []string) int {
	if c.in.Pattern != nil {
		for i, h := range header {
			if c.in.Pattern.MatchString(normHeader(h)) {
				return i
			}
		}
		return -1
	}
	for _, want := range c.in.Headers {
		w := normHeader(want)
		for i, h := range header {
			if normHeader(h) == w {
				return i
			}
		}
	}
	return -1
}

// open opens the source, resolves the inputs against its header and
// rejects a file that lacks required columns.
func (r *run) open() error {
	if r.format != "parquet" {
		if fi, err := os.Stat(r.path); err == nil {
			r.total = fi.Size()
		}
	}
	src, err := r.openSource(&r.read)
	if err != nil {
		var re *RowError
		if errors.As(err, &re) {
			return &Errors{List: []RowError{*re}, Total: 1}
		}
		return err
	}
	r.src = src
	if ps, ok := src.(*parquetSource); ok {
		r.total = ps.rows.Total()
	}
	header := src.columns()
	if header == nil {
		r.jsonSeen = map[string]bool{}
		return r.openRejects(nil)
	}
	var missing []string
	for _, c := range r.inputs {
		c.idx = c.find(header)
		if c.idx >= 0 {
			c.header = header[c.idx]
			if c.in.Pattern != nil {
				if m := c.in.Pattern.FindStringSubmatch(normHeader(c.header)); len(m) > 1 {
					c.capture = m[1]
				}
			}
		} else if c.in.Required {
			missing = append(missing, c.display())
		}
	}
	for _, c := range r.inputs {
		if c.idx < 0 {
			continue
		}
		for j, h := range header {
			if j != c.idx && normHeader(h) == normHeader(c.header) {
				return &Errors{Total: 1, List: []RowError{{File: r.file, Line: src.headerLine(), Field: "header",
					Reason: fmt.Sprintf("columns %d and %d are both %q: which one holds %s? Remove or rename the other", c.idx+1, j+1, strings.TrimSpace(h), c.in.Name)}}}
			}
		}
	}
	if len(missing) > 0 {
		noun, hint := "column", "; if it is there under another name, map it with --map field=column"
		if len(missing) > 1 {
			noun, hint = "columns", "; if they are there under other names, map them with --map field=column"
		}
		return &Errors{Total: 1, List: []RowError{{File: r.file, Line: src.headerLine(), Field: "header",
			Reason: fmt.Sprintf("missing required %s %s (the header on line %d has %s)%s", noun, strings.Join(missing, ", "),
				src.headerLine(), quoteList(header, 12), hint)}}}
	}
	return r.openRejects(header)
}

// display names c's column for messages.
func (c *column) display() string {
	if c.in.Pattern != nil {
		return fmt.Sprintf("%q (matching %s)", c.in.Name, c.in.Pattern)
	}
	if len(c.in.Headers) > 0 {
		return fmt.Sprintf("%q", c.in.Headers[0])
	}
	return fmt.Sprintf("%q", c.in.Name)
}

func quoteList(list []string, max int) string {
	var parts []string
	for i, s := range list {
		if i == max {
			parts = append(parts, fmt.Sprintf("... (%d in all)", len(list)))
			break
		}
		parts = append(parts, fmt.Sprintf("%q", s))
	}
	if len(parts) == 0 {
		return "no columns"
	}
	return strings.Join(parts, ", ")
}

func (r *run) openRejects(header []string) error {
	if r.opts.Rejects == nil {
		return nil
	}
	r.rejects = csv.NewWriter(r.opts.Rejects)
	cols := []string{"line", "field", "reason"}
	if header == nil {
		cols = append(cols, "record")
	} else {
		cols = append(cols, header...)
	}
	return r.rejects.Write(cols)
}

func (r *run) closeSource() {
	if r.src != nil {
		r.src.close()
	}
}

// ignored lists the header columns no input reads.
func (r *run) ignored() []string {
	var out []string
	if r.src == nil {
		return nil
	}
	header := r.src.columns()
	if header == nil {
		for k := range r.jsonSeen {
			used := false
			for _, c := range r.inputs {
				for _, h := range c.in.Headers {
					if h := normHeader(h); h == k || strings.HasPrefix(h, k+".") {
						used = true
					}
				}
			}
			if !used {
				out = append(out, k)
			}
		}
		sort.Strings(out)
		return out
	}
	used := map[int]bool{}
	for _, c := range r.inputs {
		if c.idx >= 0 {
			used[c.idx] = true
		}
	}
	for i, h := range header {
		if !used[i] && strings.TrimSpace(h) != "" {
			out = append(out, h)
		}
	}
	return out
}

// value returns c's cell in rec, trimmed, and whether the column exists.
func (r *run) value(rec *record, c *column) (string, bool) {
	if rec.obj != nil {
		if c.key == "" {
			return "", false
		}
		v, ok := jsonLookup(rec.obj, c.key)
		if !ok {
			for _, h := range c.in.Headers[1:] {
				if v, ok = jsonLookup(rec.obj, normHeader(h)); ok {
					break
				}
			}
		}
		if !ok {
			return "", false
		}
		return strings.TrimSpace(jsonText(v)), true
	}
	if c.idx < 0 || c.idx >= len(rec.cells) {
		return "", false
	}
	return strings.TrimSpace(rec.cells[c.idx]), true
}

// timeOf parses s, a cell of column c (nil for a derived value), as a
// timestamp or a date. Slashed dates follow --date-format; without it, each
// column learns its order from the first value that tells (a first number
// above 12 is a day, a second one above 12 is a day), and values that
// contradict it fail. The first ambiguous value (03/04/2024) of a column
// that has not told yet makes the import look through the whole file once
// (detectDateOrders); a column that never tells takes the preset's
// knowledge of the export, else the import stops with one error asking for
// --date-format.
func (r *run) timeOf(s string, c *column, date bool) (time.Time, error) {
	parse := ParseTimestamp
	if date {
		parse = ParseDate
	}
	if c == nil {
		return parse(s, r.loc, r.opts.DateOrder)
	}
	t, err := parse(s, c.loc, c.order)
	if c.order != OrderAuto {
		return t, err
	}
	if err == nil {
		if a, b, ok := slashParts(s); ok {
			if a > 12 {
				c.order = OrderDMY
			} else if b > 12 {
				c.order = OrderMDY
			}
		}
		return t, nil
	}
	if !errors.Is(err, errAmbiguousDate) {
		return t, err
	}
	if !r.scanned {
		if err := r.detectDateOrders(); err != nil {
			return t, err
		}
	}
	if c.order == OrderAuto {
		c.order = c.in.Order
	}
	if c.order != OrderAuto {
		return parse(s, c.loc, c.order)
	}
	col := c.header
	if col == "" {
		col = c.in.Name
	}
	if r.fatal == nil {
		r.fatal = &Errors{Total: 1, List: []RowError{{File: r.file, Line: r.line, Field: c.in.Name,
			Reason: fmt.Sprintf("%q could be month/day or day/month, and no date in column %q has a day above 12 to tell: pass --date-format us (month first) or --date-format eu (day first)", s, col)}}}
	}
	return t, err
}

// detectDateOrders reads the whole file once to decide, for every date
// column not decided yet, whether its slashed dates are month or day first.
func (r *run) detectDateOrders() error {
	r.scanned = true
	type evidence struct{ decided bool }
	var cols []*column
	for _, c := range r.inputs {
		if (c.in.Type == bowtie.Date || c.in.Type == bowtie.Timestamp) && (c.idx >= 0 || c.key != "") && c.order == OrderAuto {
			cols = append(cols, c)
		}
	}
	if len(cols) == 0 {
		return nil
	}
	ev := make([]evidence, len(cols))
	var done atomic.Int64
	src, err := r.openSource(&done)
	if err != nil {
		return err
	}
	defer src.close()
	open := len(cols)
	var n int64
	for open > 0 {
		rec, err := src.next()
		var re *RowError
		if err == io.EOF || errors.As(err, &re) {
			break // the import's own pass reports the record
		}
		if err != nil {
			return err
		}
		if n++; n%4096 == 0 {
			if err := r.ctx.Err(); err != nil {
				return err
			}
			r.progress("checking dates", done.Load(), n)
		}
		if rec.err != nil {
			continue
		}
		for i, c := range cols {
			if ev[i].decided {
				continue
			}
			v, _ := r.value(rec, c)
			a, b, ok := slashParts(v)
			if !ok {
				continue
			}
			switch {
			case a > 12 && b <= 12:
				c.order, ev[i].decided = OrderDMY, true
			case b > 12 && a <= 12:
				c.order, ev[i].decided = OrderMDY, true
			}
			if ev[i].decided {
				open--
			}
		}
	}
	return nil
}

func (r *run) progress(phase string, done, records int64) {
	if r.opts.Progress == nil {
		return
	}
	unit := "bytes"
	if r.format == "parquet" {
		unit = "rows"
	}
	r.opts.Progress(Progress{Phase: phase, Done: done, Total: r.total, Unit: unit, Records: records})
}

// readAll reads every record and stages the good ones.
func (r *run) readAll() error {
	for {
		rec, err := r.src.next()
		if err == io.EOF {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			// A record the reader cannot get past (too long): the
			// import fails here, --skip-bad or not.
			r.errs.add(*re)
			errs := r.errs
			return &errs
		}
		if err != nil {
			return fmt.Errorf("%s: %w", r.file, err)
		}
		r.records++
		if r.records%2048 == 0 {
			if err := r.ctx.Err(); err != nil {
				return err
			}
			r.progress("importing", r.read.Load(), r.records)
		}
		r.line = rec.line
		if err := r.record(rec); err != nil {
			return err
		}
		if r.fatal != nil {
			return r.fatal
		}
	}
	r.conv.Finish(r.cx)
	if err := r.flush(); err != nil {
		return err
	}
	if r.fatal != nil {
		return r.fatal
	}
	r.progress("importing", r.read.Load(), r.records)
	return nil
}

// record handles one record.
func (r *run) record(rec *record) error {
	// Totals and footers often have fewer cells than the header: they are
	// recognised before the cell count is held against them.
	if rec.cells != nil && utf8Cells(rec.cells) {
		reason := ""
		if r.preset.SkipRaw != nil {
			reason = r.preset.SkipRaw(rec.cells)
		}
		if rs, ok := r.conv.(RawSkipper); ok && reason == "" {
			reason = rs.SkipRaw(rec.cells)
		}
		if reason != "" {
			r.skip(reason)
			return nil
		}
	}
	if rec.err != nil {
		return r.reject(rec, []RowError{*rec.err})
	}
	if rec.obj != nil {
		for k := range rec.obj {
			r.jsonSeen[k] = true
		}
	}
	if rec.cells != nil {
		empty := true
		for _, c := range rec.cells {
			if strings.TrimSpace(c) != "" {
				empty = false
				break
			}
		}
		if empty {
			r.skip("empty rows")
			return nil
		}
	}
	r.conv.Convert(r.cx, &Row{run: r, rec: rec})
	return r.flush()
}

func (r *run) skip(reason string) {
	if r.skipped[reason] == 0 {
		r.skipSeq = append(r.skipSeq, reason)
	}
	r.skipped[reason]++
}

func (r *run) skips() []Skip {
	var out []Skip
	for _, reason := range r.skipSeq {
		out = append(out, Skip{Reason: reason, N: r.skipped[reason]})
	}
	return out
}

// flush validates what the converter emitted, record by record, and
// stages the rows of every record that has no error.
func (r *run) flush() error {
	cx := r.cx
	if len(cx.pending) == 0 && len(cx.errs) == 0 {
		return nil
	}
	var order []*record
	outs := map[*record][]*Out{}
	errs := map[*record][]RowError{}
	for _, pe := range cx.errs {
		if _, ok := outs[pe.rec]; !ok {
			if _, ok := errs[pe.rec]; !ok {
				order = append(order, pe.rec)
			}
		}
		errs[pe.rec] = append(errs[pe.rec], pe.err)
	}
	for _, o := range cx.pending {
		if _, ok := outs[o.rec]; !ok {
			if _, ok := errs[o.rec]; !ok {
				order = append(order, o.rec)
			}
		}
		outs[o.rec] = append(outs[o.rec], o)
	}
	cx.pending, cx.errs = cx.pending[:0], cx.errs[:0]
	sort.SliceStable(order, func(i, j int) bool { return order[i].line < order[j].line })
	for _, rec := range order {
		if err := r.commitRecord(rec, outs[rec], errs[rec]); err != nil {
			return err
		}
	}
	return nil
}

// commitRecord validates the rows of one record and stages them if they
// are all good (a record's rows go in together or not at all).
func (r *run) commitRecord(rec *record, outs []*Out, errs []RowError) error {
	rows := make([][]any, len(outs))
	for i, o := range outs {
		row, ferrs := r.typed(o)
		errs = append(errs, ferrs...)
		rows[i] = row
	}
	type newKey struct {
		ts  *tableState
		key string
	}
	var keys []newKey
	if len(errs) == 0 {
		for i, o := range outs {
			key := naturalKey(o.table.t, rows[i])
			if first, dup := o.table.keys[key]; dup {
				errs = append(errs, RowError{File: r.file, Line: rec.line, Field: keyField(o.table.t),
					Reason: fmt.Sprintf("duplicate %s key (%s) first seen on line %d", o.table.t.Name, keyDesc(o.table.t, rows[i]), first)})
				continue
			}
			for _, k := range keys {
				if k.ts == o.table && k.key == key {
					errs = append(errs, RowError{File: r.file, Line: rec.line, Field: keyField(o.table.t),
						Reason: fmt.Sprintf("this record gives two %s rows with the same key (%s)", o.table.t.Name, keyDesc(o.table.t, rows[i]))})
				}
			}
			keys = append(keys, newKey{o.table, key})
		}
	}
	var segs map[string][]segment
	if len(errs) == 0 {
		errs, segs = r.subscriptionSegments(rec.line, outs, rows)
	}
	if len(errs) > 0 {
		return r.reject(rec, errs)
	}
	r.keepSegments(segs)
	for _, k := range keys {
		k.ts.keys[k.key] = rec.line
	}
	if r.errs.Total > 0 && r.opts.Rejects == nil {
		return nil // the import will fail: stop staging, keep validating
	}
	for i, o := range outs {
		o.table.rows++
		if r.batch != nil {
			if err := r.batch.Add(o.table.t, rows[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// reject records the errors of a bad record and, in skip-bad mode, writes
// it to the rejects file.
func (r *run) reject(rec *record, errs []RowError) error {
	for _, e := range errs {
		if e.File == "" {
			e.File = r.file
		}
		if e.Line == 0 {
			e.Line = rec.line
		}
		r.errs.add(e)
	}
	if r.rejects == nil {
		return nil
	}
	r.rejected++
	var fields, reasons []string
	for _, e := range errs {
		fields = append(fields, e.Field)
		reasons = append(reasons, e.Reason)
	}
	row := []string{fmt.Sprint(rec.line), strings.Join(fields, "; "), strings.Join(reasons, "; ")}
	if rec.cells != nil {
		row = append(row, rec.cells...)
	} else {
		row = append(row, rec.raw)
	}
	return r.rejects.Write(row)
}

func utf8Cells(cells []string) bool {
	for _, c := range cells {
		if !utf8.ValidString(c) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
