package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/importer"
	"github.com/bowtie-analytics/bowtie/query"
)

func init() {
	commands["import"] = command{
		summary: "import a CSV, JSON lines or Parquet file into a table (bowtie import <kind> <file>)",
		run:     runImport,
	}
}

const importUsage = `import [flags] <kind> <file>
       bowtie import --preset NAME [flags] <file>
       bowtie import presets

kinds: ` + "accounts, people, identities, events, spend, stages, deals, subscriptions, orders, surveys, fx, paths" + `
Docs: docs/import.md`

func runImport(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlagSet("import", importUsage)
	var (
		maps                                                  mapFlag
		preset, format, tz, dateFormat, cur, skipBad, dataset string
		dryRun, allowNegative                                 bool
	)
	fs.Var(&maps, "map", "column map `field=column,...` (repeatable; headers match case-insensitively)")
	fs.StringVar(&preset, "preset", "", "read the export layout `NAME` (list: bowtie import presets)")
	fs.StringVar(&format, "format", "", "file `format`: csv, jsonl or parquet (default: from the extension)")
	fs.StringVar(&tz, "timezone", "", "IANA time `zone` of date-times written without one (default: the business time zone)")
	fs.StringVar(&dateFormat, "date-format", "", "read slashed dates as `us` (03/31/2024) or eu (31/03/2024) (default: detect per column)")
	fs.StringVar(&cur, "currency", "", "ISO 4217 `code` of amounts whose row names no currency")
	fs.StringVar(&skipBad, "skip-bad", "", "import the good rows and write the bad ones to this CSV `file`")
	fs.BoolVar(&dryRun, "dry-run", false, "check the file and write nothing")
	fs.StringVar(&dataset, "dataset", "", "paths: the `NAME` of the dataset the paths go to (default: the file's base name)")
	fs.BoolVar(&allowNegative, "allow-negative", false, "accept negative amounts (refunds, credits); counts are never negative")
	pos, err := parseArgsAnywhere(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 1 && pos[0] == "presets" && preset == "" {
		return listPresets(env.Stdout)
	}
	var kind, path string
	switch {
	case len(pos) == 2:
		kind, path = pos[0], pos[1]
	case len(pos) == 1 && preset != "":
		path = pos[0]
	default:
		fs.Usage()
		return errUsage
	}
	order, err := importer.ParseDateOrder(dateFormat)
	if err != nil {
		return err
	}
	var loc *time.Location
	if tz != "" {
		if loc, err = time.LoadLocation(tz); err != nil {
			return bowtie.Errorf(bowtie.EINVALID, "--timezone: unknown time zone %q (use an IANA name such as Europe/Berlin)", tz)
		}
	}
	if _, err := os.Stat(path); err != nil {
		return bowtie.Errorf(bowtie.EINVALID, "%s: %v", path, errors.Unwrap(err))
	}
	b, err := env.Business()
	if err != nil {
		return err
	}
	opts := importer.Options{
		Kind: kind, Preset: preset, Format: format, Map: maps.m, Business: b, Location: loc,
		DateOrder: order, Currency: cur, DryRun: dryRun, AllowNegative: allowNegative, Dataset: dataset,
	}
	if err := importer.Check(path, opts); err != nil {
		return err // before the store is opened (and perhaps created)
	}
	var rejects *atomicFile
	if skipBad != "" {
		protected := append(storeFiles(env.Config.DB),
			protectedFile{path, "the input file"}, protectedFile{env.Config.BusinessFile, "the configuration"})
		if rejects, err = createOutput("--skip-bad", skipBad, rejectsHeader, protected); err != nil {
			return err
		}
		defer rejects.Abort() // after Commit, nothing
		opts.Rejects = rejects
	}
	st, err := env.OpenStore()
	if err != nil {
		return err
	}
	defer st.Close()
	opts.OpenParquet = func(ctx context.Context, p string) (importer.TextRows, error) { return st.OpenParquet(ctx, p) }
	bar := newProgressBar(env.Stderr)
	if bar != nil {
		opts.Progress = bar.update
	}
	res, err := importer.Import(ctx, st, path, opts)
	if bar != nil {
		bar.clear()
	}
	if rejects != nil && err == nil {
		if cerr := rejects.Commit(); cerr != nil {
			err = fmt.Errorf("--skip-bad: %w", cerr)
		}
	}
	if err != nil {
		var errs *importer.Errors
		if errors.As(err, &errs) {
			for _, l := range errs.Lines() {
				fmt.Fprintln(env.Stderr, l)
			}
			fmt.Fprintf(env.Stderr, "bowtie import: %s: nothing was imported\n", path)
			return errReported
		}
		return err
	}
	printImportResult(env, res, path, skipBad, dryRun)
	return nil
}

// printImportResult prints one line per table, then what was rejected.
func printImportResult(env *Env, res *importer.Result, path, rejectsPath string, dryRun bool) {
	if res.Errors != nil {
		for _, l := range res.Errors.Lines() {
			fmt.Fprintln(env.Stderr, l)
		}
	}
	if len(res.Ignored) > 0 {
		names := res.Ignored
		more := ""
		if len(names) > 10 {
			more = fmt.Sprintf(" and %d more", len(names)-10)
			names = names[:10]
		}
		fmt.Fprintf(env.Stderr, "note: %s: ignored columns %q%s\n", path, names, more)
	}
	verb := "imported"
	if dryRun {
		verb = "would import"
	}
	for i, t := range res.Tables {
		line := fmt.Sprintf("%s %s %s into %s", verb, query.FormatCount(t.Rows), importNoun(t.Rows, "row", "rows"), t.Table)
		if i == 0 && len(res.Skipped) > 0 {
			var parts []string
			for _, s := range res.Skipped {
				parts = append(parts, fmt.Sprintf("%s skipped %s", query.FormatCount(int64(s.N)), s.Reason))
			}
			line += " (" + strings.Join(parts, ", ") + ")"
		}
		fmt.Fprintln(env.Stdout, line)
	}
	if rejectsPath != "" {
		fmt.Fprintf(env.Stdout, "rejected %s bad %s: written to %s\n", query.FormatCount(int64(res.Rejected)), importNoun(int64(res.Rejected), "row", "rows"), rejectsPath)
	}
	if dryRun {
		fmt.Fprintln(env.Stdout, "dry run: nothing was written")
	}
}

func importNoun(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// listPresets prints the presets with the columns each reads.
func listPresets(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PRESET\tWRITES\tEXPORT")
	for _, p := range importer.Presets() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Name, strings.Join(p.Writes, ", "), p.Title)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nColumns each preset reads (* required; --map INPUT=COLUMN renames):")
	for _, p := range importer.Presets() {
		var cols []string
		for _, in := range p.Inputs {
			name := in.Name
			switch {
			case in.Pattern != nil:
				name += " ~ " + in.Pattern.String()
			case len(in.Headers) > 0:
				name += `="` + strings.Join(in.Headers, `" or "`) + `"`
			}
			if in.Required {
				name += " *"
			}
			cols = append(cols, name)
		}
		fmt.Fprintf(w, "\n%s:\n  %s\n", p.Name, strings.Join(cols, "\n  "))
	}
	return nil
}

// parseArgsAnywhere parses flags that may come before, between or after
// the positional arguments; "--" ends the flags.
func parseArgsAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// mapFlag collects --map field=column pairs; a piece without "=" belongs
// to the previous column (a header with a comma).
type mapFlag struct {
	m    map[string]string
	last string
}

func (f *mapFlag) String() string {
	if f == nil || f.m == nil {
		return ""
	}
	var parts []string
	for k, v := range f.m {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (f *mapFlag) Set(s string) error {
	if f.m == nil {
		f.m = map[string]string{}
	}
	for _, piece := range strings.Split(s, ",") {
		field, col, ok := strings.Cut(piece, "=")
		if !ok {
			if f.last == "" {
				return fmt.Errorf("%q is not field=column", piece)
			}
			f.m[f.last] += "," + piece
			continue
		}
		field, col = strings.TrimSpace(field), strings.TrimSpace(col)
		if field == "" || col == "" {
			return fmt.Errorf("%q is not field=column", piece)
		}
		if _, dup := f.m[field]; dup {
			return fmt.Errorf("%s is mapped twice", field)
		}
		f.m[field], f.last = col, field
	}
	return nil
}

// progressBar draws import progress on a terminal.
type progressBar struct {
	w          io.Writer
	phase      string
	phaseStart time.Time
	last       time.Time
	drawn      bool
}

// newProgressBar returns a bar when w is a terminal, else nil.
func newProgressBar(w io.Writer) *progressBar {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progressBar{w: w}
}

func (p *progressBar) update(pr importer.Progress) {
	now := time.Now()
	if pr.Phase != p.phase {
		p.phase, p.phaseStart = pr.Phase, now
	} else if now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	const width = 30
	bar, pct := strings.Repeat(" ", width), ""
	if pr.Total > 0 {
		frac := float64(pr.Done) / float64(pr.Total)
		if frac > 1 {
			frac = 1
		}
		n := int(frac * width)
		bar = strings.Repeat("=", n) + strings.Repeat(" ", width-n)
		if n < width {
			bar = bar[:n] + ">" + bar[n+1:]
		}
		pct = fmt.Sprintf("%3.0f%%", frac*100)
	}
	amount := query.FormatCount(pr.Done) + " rows"
	if pr.Unit == "bytes" {
		amount = importBytes(pr.Done)
		if pr.Total > 0 {
			amount += " / " + importBytes(pr.Total)
		}
	}
	rate := ""
	if secs := now.Sub(p.phaseStart).Seconds(); secs > 0.2 {
		rate = fmt.Sprintf("  %s rows/s", query.FormatCount(int64(float64(pr.Records)/secs)))
	}
	fmt.Fprintf(p.w, "\r%s [%s] %s  %s  %s rows%s\x1b[K", pr.Phase, bar, pct, amount, query.FormatCount(pr.Records), rate)
	p.drawn = true
}

func (p *progressBar) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func importBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
