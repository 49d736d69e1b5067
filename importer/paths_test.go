package importer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/importer"
)

// The paths import on a real DuckDB store (docs/import.md, "Paths"). The
// bad-input corpus with each exact message is testdata/import/paths, run by
// cmd/bowtie's TestImportCommand_Corpus.

func openStore(t *testing.T) *duckdb.Store {
	t.Helper()
	st, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func b2b(t *testing.T) *bowtie.Business {
	t.Helper()
	b, err := bowtie.Preset("b2b") // EUR
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// importPaths writes body to dir/name and imports it as kind paths.
func importPaths(t *testing.T, st *duckdb.Store, dir, name, body string, opts importer.Options) (*importer.Result, error) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	opts.Kind = "paths"
	if opts.Business == nil {
		opts.Business = b2b(t)
	}
	opts.OpenParquet = func(ctx context.Context, p string) (importer.TextRows, error) { return st.OpenParquet(ctx, p) }
	return importer.Import(context.Background(), st, path, opts)
}

// storedPaths renders the paths table, one row a line, in key order.
func storedPaths(t *testing.T, st *duckdb.Store) []string {
	t.Helper()
	rows, err := st.DB().Query(`SELECT dataset, path, conversions, value::VARCHAR, currency, nulls FROM paths ORDER BY dataset, path`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ds, path, value, cur string
		var conv, nulls float64
		if err := rows.Scan(&ds, &path, &conv, &value, &cur, &nulls); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s|%s|%g|%s|%s|%g", ds, path, conv, value, cur, nulls))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func wantRows(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("paths:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

// errorLines returns err's lines with dir cut off, or fails.
func errorLines(t *testing.T, err error, dir string) []string {
	t.Helper()
	var errs *importer.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v, want *importer.Errors", err)
	}
	var out []string
	for _, l := range errs.Lines() {
		out = append(out, strings.TrimPrefix(l, dir+string(filepath.Separator)))
	}
	return out
}

func TestImport_Paths(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		// ChannelAttribution's column names, odd spacing, a value with its
		// currency, a touchless path; no currency column: the business's.
		st, dir := openStore(t), t.TempDir()
		body := "path,total_conversions,total_conversion_value,total_null\n" +
			"Paid Search>Email >  Direct,12,1440.5,30\n" +
			"  Email  ,3,€90.25,41\n" +
			",4,120,0\n" +
			"Display,0,0,17.5\n"
		res, err := importPaths(t, st, dir, "q3-export.csv", body, importer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Tables) != 1 || res.Tables[0].Table != "paths" || res.Tables[0].Rows != 4 {
			t.Errorf("result %+v, want 4 rows into paths", res.Tables)
		}
		wantRows(t, storedPaths(t, st),
			"q3-export||4|120.0000|EUR|0",
			"q3-export|Display|0|0.0000|EUR|17.5",
			"q3-export|Email|3|90.2500|EUR|41",
			"q3-export|Paid Search > Email > Direct|12|1440.5000|EUR|30")
	})
	t.Run("OKOptionalColumns", func(t *testing.T) {
		// Only path and conversions: value and nulls are 0; --currency
		// beats the business's; --dataset names the dataset.
		st, dir := openStore(t), t.TempDir()
		if _, err := importPaths(t, st, dir, "p.csv", "Path;Conv\nA > B;2\nB;1\n", importer.Options{Dataset: " ga4 ", Currency: "usd"}); err != nil {
			t.Fatal(err)
		}
		wantRows(t, storedPaths(t, st), "ga4|A > B|2|0.0000|USD|0", "ga4|B|1|0.0000|USD|0")
	})
	t.Run("OKCurrencies", func(t *testing.T) {
		st, dir := openStore(t), t.TempDir()
		body := "path,conversions,value,nulls,currency\n" +
			"A,1,£10,0,\n" + // from the value
			"B,1,10,0,gbp\n" + // from the column
			"C,1,$10,0,USD\n" + // an ambiguous symbol, said by the column
			"D,1,10 EUR,0,EUR\n"
		if _, err := importPaths(t, st, dir, "cur.csv", body, importer.Options{}); err != nil {
			t.Fatal(err)
		}
		wantRows(t, storedPaths(t, st), "cur|A|1|10.0000|GBP|0", "cur|B|1|10.0000|GBP|0",
			"cur|C|1|10.0000|USD|0", "cur|D|1|10.0000|EUR|0")
	})
	t.Run("OKReimportReplacesByKey", func(t *testing.T) {
		// A second import of the same dataset replaces the rows of the
		// paths it holds and keeps the others; another dataset is apart.
		st, dir := openStore(t), t.TempDir()
		if _, err := importPaths(t, st, dir, "a.csv", "path,conversions,value,nulls\nA,1,10,5\nB,2,20,0\n", importer.Options{}); err != nil {
			t.Fatal(err)
		}
		if _, err := importPaths(t, st, dir, "b.csv", "path,conversions,value,nulls\nA,7,70,1\n", importer.Options{}); err != nil {
			t.Fatal(err)
		}
		if _, err := importPaths(t, st, dir, "a2.csv", "path,conversions,value,nulls\nA , 3 ,30,4\n", importer.Options{Dataset: "a"}); err != nil {
			t.Fatal(err)
		}
		wantRows(t, storedPaths(t, st), "a|A|3|30.0000|EUR|4", "a|B|2|20.0000|EUR|0", "b|A|7|70.0000|EUR|1")
		before := storedPaths(t, st)
		if _, err := importPaths(t, st, dir, "a2.csv", "path,conversions,value,nulls\nA , 3 ,30,4\n", importer.Options{Dataset: "a"}); err != nil {
			t.Fatal(err)
		}
		wantRows(t, storedPaths(t, st), before...)
	})
	t.Run("OKParquet", func(t *testing.T) {
		st, dir := openStore(t), t.TempDir()
		path := filepath.Join(dir, "tool.parquet")
		q := fmt.Sprintf(`COPY (SELECT * FROM (VALUES ('x > y', 2.0::DOUBLE, 12.5::DECIMAL(18,4), 3::BIGINT), ('y', 1.5, 0.0, 0))
			t(path, total_conversions, total_conversion_value, total_null)) TO '%s' (FORMAT parquet)`, path)
		if _, err := st.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
		opts := importer.Options{Kind: "paths", Business: b2b(t),
			OpenParquet: func(ctx context.Context, p string) (importer.TextRows, error) { return st.OpenParquet(ctx, p) }}
		if _, err := importer.Import(context.Background(), st, path, opts); err != nil {
			t.Fatal(err)
		}
		wantRows(t, storedPaths(t, st), "tool|x > y|2|12.5000|EUR|3", "tool|y|1.5|0.0000|EUR|0")
	})
	t.Run("ErrAtomic", func(t *testing.T) {
		// Every problem is reported, one line each, and nothing is
		// stored, though most rows are good.
		st, dir := openStore(t), t.TempDir()
		body := "path,conversions,value,nulls,currency\n" +
			"A,1,10,0,EUR\n" +
			"B > > C,1,10,0,EUR\n" +
			"C,-1,10,0,EUR\n" +
			"D,1,10,-0.5,EUR\n" +
			"E,1,-10,0,EUR\n" +
			"F,inf,10,0,EUR\n" +
			"G,1,10,1e999,EUR\n" +
			"H,0,0,0,EUR\n" +
			"I,1,10,0,ABC\n" +
			" A ,1,10,0,EUR\n" +
			"J,0,5,2,EUR\n" +
			"K,x,y,z,EUR\n" +
			"L,2,20,0,EUR\n"
		_, err := importPaths(t, st, dir, "bad.csv", body, importer.Options{AllowNegative: true})
		got := errorLines(t, err, dir)
		want := []string{
			`bad.csv:3: path: "B > > C": touch 2 of 3 is empty: channels are separated by ">" and none may be blank (a path without any touch is an empty cell)`,
			`bad.csv:4: conversions: "-1" is negative: a count cannot be`,
			`bad.csv:5: nulls: "-0.5" is negative: a count cannot be`,
			`bad.csv:6: value: "-10" is negative: a path's conversion value cannot be`,
			`bad.csv:7: conversions: "inf" is not a number`,
			`bad.csv:8: nulls: "1e999" is not a number`,
			`bad.csv:9: conversions: conversions and nulls are both 0: the path never occurred; remove the row`,
			`bad.csv:10: currency: "ABC" is not an ISO 4217 currency code (EUR, USD, GBP, ...)`,
			`bad.csv:11: path: "A" is already on line 2 (channels are compared trimmed): a file holds each path once; add the rows up into one`,
			`bad.csv:12: value: "5" with 0 conversions: the value is what the path's conversions earned`,
			`bad.csv:13: conversions: "x" is not a number`,
			`bad.csv:13: value: "y" is not an amount`,
			`bad.csv:13: nulls: "z" is not a number`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("errors:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
		}
		if rows := storedPaths(t, st); len(rows) != 0 {
			t.Errorf("stored %v after a failed import", rows)
		}
	})
	t.Run("ErrColumnNamed", func(t *testing.T) {
		// Errors name the file's column when it is an alias.
		st, dir := openStore(t), t.TempDir()
		_, err := importPaths(t, st, dir, "ca.csv", "path,total_conversions,total_null\nA,-2,\n", importer.Options{})
		got := strings.Join(errorLines(t, err, dir), "\n")
		want := "ca.csv:2: conversions: \"-2\" is negative: a count cannot be (column \"total_conversions\")\n" +
			"ca.csv:2: nulls: empty: write 0 when there were none (column \"total_null\")"
		if got != want {
			t.Errorf("errors:\n got %s\nwant %s", got, want)
		}
	})
	t.Run("ErrSkipBad", func(t *testing.T) {
		// --skip-bad stores the good rows and writes the bad ones out.
		st, dir := openStore(t), t.TempDir()
		var rejects bytes.Buffer
		res, err := importPaths(t, st, dir, "s.csv", "path,conversions\nA,1\nB>,1\nC,2\n", importer.Options{Rejects: &rejects})
		if err != nil {
			t.Fatal(err)
		}
		if res.Rejected != 1 {
			t.Errorf("rejected %d, want 1", res.Rejected)
		}
		wantRows(t, storedPaths(t, st), "s|A|1|0.0000|EUR|0", "s|C|2|0.0000|EUR|0")
		if !strings.Contains(rejects.String(), `3,path,"""B>"": touch 2 of 2 is empty`) {
			t.Errorf("rejects file:\n%s", rejects.String())
		}
	})
	t.Run("ErrDatasetOption", func(t *testing.T) {
		st, dir := openStore(t), t.TempDir()
		for _, c := range []struct {
			name, kind, dataset, want string
		}{
			{"p.csv", "paths", "  ", "--dataset: the name is blank"},
			{".csv", "paths", "", "the file name gives no dataset name: pass --dataset NAME"},
			{"p.csv", "paths", "a\x00b", `dataset "a\x00b": contains a NUL byte (at byte 2): text may not hold NUL bytes`},
			{"o.csv", "orders", "x", `--dataset "x": only a paths import has datasets`},
		} {
			path := filepath.Join(dir, c.name)
			os.WriteFile(path, []byte("path,conversions\nA,1\n"), 0o644)
			err := importer.Check(path, importer.Options{Kind: c.kind, Dataset: c.dataset, Business: b2b(t)})
			var be *bowtie.Error
			if !errors.As(err, &be) || be.Code != bowtie.EINVALID || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s %s --dataset %q: err = %v, want EINVALID %q", c.kind, c.name, c.dataset, err, c.want)
			}
		}
		if rows := storedPaths(t, st); len(rows) != 0 {
			t.Errorf("stored %v", rows)
		}
	})
}

func TestNormalizePath(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"", "", ""},
		{"   ", "", ""},
		{"Email", "Email", ""},
		{"a>b>c", "a > b > c", ""},
		{" Paid  Search >Email>   Direct ", "Paid  Search > Email > Direct", ""},
		{"a > b > a", "a > b > a", ""}, // repeats are kept: models decide
		{"a >> b", "", `"a >> b": touch 2 of 3 is empty`},
		{"> a", "", `"> a": touch 1 of 2 is empty`},
		{"a >", "", `"a >": touch 2 of 2 is empty`},
		{">", "", `">": touch 1 of 2 is empty`},
	} {
		got, err := importer.NormalizePath(c.in)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("NormalizePath(%q) err = %v, want %q", c.in, err, c.err)
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("NormalizePath(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// TestNormalizePath_Random checks, on random channel lists written with
// random spacing, that the stored path splits on ">" (trimmed, as the
// query layer reads it) back into exactly the channels.
func TestNormalizePath_Random(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	names := []string{"Email", "Paid Search", "Direct", "Organic Social", "a", "Ünïcode"}
	spaces := []string{"", " ", "  ", "\t"}
	for i := 0; i < 2000; i++ {
		n := rng.Intn(6)
		var chans, written []string
		for j := 0; j < n; j++ {
			ch := names[rng.Intn(len(names))]
			chans = append(chans, ch)
			written = append(written, spaces[rng.Intn(len(spaces))]+ch+spaces[rng.Intn(len(spaces))])
		}
		got, err := importer.NormalizePath(strings.Join(written, ">"))
		if err != nil {
			t.Fatalf("%q: %v", written, err)
		}
		var back []string
		if got != "" {
			for _, p := range strings.Split(got, ">") {
				back = append(back, strings.TrimSpace(p))
			}
		}
		if strings.Join(back, "\x00") != strings.Join(chans, "\x00") || (n > 0 && got != strings.Join(chans, " > ")) {
			t.Fatalf("%q -> %q, want the channels %q", written, got, chans)
		}
	}
}

// FuzzNormalizePath: a path either is refused or normalises to a fixed
// point whose channels are trimmed, non-empty and free of ">".
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"", "a", "a > b", " a>b ", "a >> b", ">", "Paid Search > Email > Direct"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := importer.NormalizePath(s)
		if err != nil {
			return
		}
		again, err := importer.NormalizePath(got)
		if err != nil || again != got {
			t.Fatalf("%q -> %q -> %q, %v: not a fixed point", s, got, again, err)
		}
		if got == "" {
			if strings.TrimSpace(s) != "" {
				t.Fatalf("%q normalised to the empty path", s)
			}
			return
		}
		for _, p := range strings.Split(got, importer.PathSeparator) {
			if p == "" || p != strings.TrimSpace(p) || strings.Contains(p, ">") {
				t.Fatalf("%q -> %q: channel %q", s, got, p)
			}
		}
	})
}

// BenchmarkImportPaths measures `bowtie import paths` end to end into a
// DuckDB file (parse, normalise and check every path and figure, stage,
// upsert by key, commit) on $BOWTIE_BENCH_ROWS distinct paths (default
// 200,000) of one to eight touches, next to DuckDB's own CSV reader
// inserting the same file into the same table (no checks, no
// normalisation) as the baseline.
func BenchmarkImportPaths(b *testing.B) {
	n := 200_000
	if s := os.Getenv("BOWTIE_BENCH_ROWS"); s != "" {
		fmt.Sscan(s, &n)
	}
	chans := []string{"Paid Search", "Email", "Direct", "Organic Social", "Paid Social", "Referral", "Display", "Webinars"}
	var sb strings.Builder
	sb.WriteString("path,total_conversions,total_conversion_value,total_null\n")
	for i := 0; i < n; i++ {
		// i written in base 8, one channel per digit: distinct paths.
		var p []string
		for x := i; ; x /= 8 {
			p = append(p, chans[x%8])
			if x < 8 {
				break
			}
		}
		conv, value := i%5, "0"
		if conv > 0 {
			value = fmt.Sprintf("%d.50", conv*20)
		}
		fmt.Fprintf(&sb, "%s,%d,%s,%d\n", strings.Join(p, " > "), conv, value, 1+i%7)
	}
	path := filepath.Join(b.TempDir(), "bench.csv")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	biz, _ := bowtie.Preset("b2c")
	open := func(b *testing.B) *duckdb.Store {
		st, err := duckdb.Open(filepath.Join(b.TempDir(), "bench.duckdb"))
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	b.Run("bowtie-import", func(b *testing.B) {
		b.SetBytes(int64(sb.Len()))
		for b.Loop() {
			b.StopTimer()
			st := open(b)
			b.StartTimer()
			res, err := importer.Import(context.Background(), st, path, importer.Options{Kind: "paths", Business: biz})
			if err != nil {
				b.Fatal(err)
			}
			if res.Tables[0].Rows != int64(n) {
				b.Fatalf("imported %d rows, want %d", res.Tables[0].Rows, n)
			}
			b.StopTimer()
			st.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("duckdb-read_csv", func(b *testing.B) {
		b.SetBytes(int64(sb.Len()))
		for b.Loop() {
			b.StopTimer()
			st := open(b)
			b.StartTimer()
			q := fmt.Sprintf(`INSERT INTO paths SELECT 'bench', path, total_conversions, total_conversion_value, 'USD', total_null
				FROM read_csv('%s', header = true, columns = {'path': 'VARCHAR', 'total_conversions': 'DOUBLE', 'total_conversion_value': 'DECIMAL(18,4)', 'total_null': 'DOUBLE'})`, path)
			if _, err := st.DB().Exec(q); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			st.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
