package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
)

// importFixtures is where the importer's fixtures live.
const importFixtures = "../../importer/testdata"

// importCLI runs `bowtie args...` and returns the exit status and output.
func importCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb, Config: DefaultConfig()}
	code = run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

// importWorkdir returns a temporary store path and a b2b business file.
func importWorkdir(t *testing.T) (db, config string) {
	t.Helper()
	dir := t.TempDir()
	config = filepath.Join(dir, "bowtie.yaml")
	if err := os.WriteFile(config, []byte("preset: b2b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "bowtie.duckdb"), config
}

// importState summarises every canonical table: row count and a checksum
// of its contents, to compare a store before and after an import.
func importState(t *testing.T, db string) map[string]string {
	t.Helper()
	st, err := duckdb.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[string]string{}
	for _, tab := range bowtie.Tables {
		var n int64
		var sum string
		q := fmt.Sprintf("SELECT count(*), coalesce(bit_xor(hash(t))::VARCHAR, '') FROM %s t", tab.Name)
		if err := st.DB().QueryRow(q).Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		out[tab.Name] = fmt.Sprintf("%d rows, hash %s", n, sum)
	}
	return out
}

func importQuery(t *testing.T, db, q string, dst ...any) {
	t.Helper()
	st, err := duckdb.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.DB().QueryRow(q).Scan(dst...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestImportCommand_Presets imports every preset's fixture into a real
// DuckDB store, checks the summary and the stored figures, and re-imports
// to check that nothing changes.
func TestImportCommand_Presets(t *testing.T) {
	tests := []struct {
		preset  string
		flags   []string
		summary string
		query   string // one row of figures
		want    string // the figures, joined by |
	}{
		{"google-ads", nil, "imported 7 rows into spend (3 skipped total rows)\n",
			"SELECT count(*), sum(cost), sum(impressions), count(DISTINCT channel) FROM spend", "7|1971.65|196679|4"},
		{"meta-ads", nil, "imported 4 rows into spend (1 skipped summary rows)\n",
			"SELECT count(*), sum(cost), sum(clicks), min(currency) FROM spend", "4|310.27|835|EUR"},
		{"linkedin-ads", nil, "imported 3 rows into spend\n",
			"SELECT count(*), sum(cost), min(date)::VARCHAR, max(date)::VARCHAR FROM spend", "3|675.34|2024-03-01|2024-03-02"},
		{"hubspot-contacts", nil, "imported 4 rows into people\nimported 12 rows into stage_changes\n",
			"SELECT (SELECT count(*) FROM people), (SELECT count(*) FROM stage_changes WHERE stage = 'mql'), (SELECT count(*) FROM people WHERE email_hash IS NOT NULL), (SELECT min(channel) FROM people)",
			"4|3|3|Offline"},
		{"hubspot-deals", []string{"--currency", "EUR"}, "imported 3 rows into deals\n",
			"SELECT count(*), sum(amount), count(closed_at), string_agg(status, ',' ORDER BY deal_id) FROM deals", "3|191500.5|2|won,lost,open"},
		{"salesforce-opportunity-history", nil, "imported 5 rows into stage_changes (5 skipped footer lines, 1 skipped history rows without a stage change)\n",
			"SELECT count(*), count(DISTINCT entity_id), min(entity_type), max(ts)::VARCHAR FROM stage_changes", "5|2|deal|2024-04-02 09:00:00"},
		{"stripe-subscriptions", nil, "imported 8 rows into subscriptions (1 skipped incomplete subscriptions (the first payment never succeeded))\n",
			"SELECT count(*), sum(mrr) FILTER (WHERE valid_to IS NULL), count(*) FILTER (WHERE status = 'trialing') FROM subscriptions", "8|164|4"},
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			db, config := importWorkdir(t)
			args := append([]string{"import", "--db", db, "--config", config, "--preset", tt.preset}, tt.flags...)
			args = append(args, filepath.Join(importFixtures, tt.preset+".csv"))
			code, stdout, stderr := importCLI(t, args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			if stdout != tt.summary {
				t.Errorf("summary %q, want %q", stdout, tt.summary)
			}
			cols := strings.Count(tt.want, "|") + 1
			vals := make([]any, cols)
			ptrs := make([]any, cols)
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			importQuery(t, db, tt.query, ptrs...)
			var got []string
			for _, v := range vals {
				got = append(got, fmt.Sprint(v))
			}
			if strings.Join(got, "|") != tt.want {
				t.Errorf("figures %q, want %q", strings.Join(got, "|"), tt.want)
			}
			before := importState(t, db)
			if code, _, stderr := importCLI(t, args...); code != 0 {
				t.Fatalf("re-import: exit %d\n%s", code, stderr)
			}
			if after := importState(t, db); !reflect.DeepEqual(before, after) {
				t.Errorf("re-import changed the store:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// TestImportCommand_BadFiles checks, on a real store, that every bad file
// fails with file:line: field: reason lines, exit status 1 and the store
// untouched.
func TestImportCommand_BadFiles(t *testing.T) {
	db, config := importWorkdir(t)
	if code, _, stderr := importCLI(t, "import", "--db", db, "--config", config, "--preset", "google-ads", filepath.Join(importFixtures, "google-ads.csv")); code != 0 {
		t.Fatal(stderr)
	}
	before := importState(t, db)
	kinds := map[string]string{"bad-enum.csv": "deals", "events.jsonl": "events", "bad-timestamp.csv": "orders"}
	files, _ := filepath.Glob(filepath.Join(importFixtures, "bad", "*"))
	if len(files) < 10 {
		t.Fatalf("found %d bad files", len(files))
	}
	lineRE := regexp.MustCompile(`^.+:\d+: [^:]+: .+$`)
	for _, f := range files {
		base := filepath.Base(f)
		if base == "mixed.csv" {
			continue // has good rows: see TestImportCommand_SkipBad
		}
		t.Run(base, func(t *testing.T) {
			kind := kinds[base]
			if kind == "" {
				kind = "spend"
			}
			code, stdout, stderr := importCLI(t, "import", "--db", db, "--config", config, kind, f)
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstdout %s\nstderr %s", code, stdout, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if !lineRE.MatchString(lines[0]) || !strings.HasPrefix(lines[0], f+":") {
				t.Errorf("first line %q is not %s:line: field: reason", lines[0], f)
			}
			if last := lines[len(lines)-1]; last != "bowtie import: "+f+": nothing was imported" {
				t.Errorf("last line %q", last)
			}
			if after := importState(t, db); !reflect.DeepEqual(before, after) {
				t.Errorf("the store changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

func TestImportCommand_SkipBad(t *testing.T) {
	db, config := importWorkdir(t)
	rejects := filepath.Join(t.TempDir(), "rejects.csv")
	code, stdout, stderr := importCLI(t, "import", "spend", filepath.Join(importFixtures, "bad", "mixed.csv"),
		"--db", db, "--config", config, "--skip-bad", rejects)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if want := "imported 2 rows into spend\nrejected 2 bad rows: written to " + rejects + "\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	if !strings.Contains(stderr, `mixed.csv:3: cost: "oops" is not an amount`) {
		t.Errorf("stderr does not list the rejected rows:\n%s", stderr)
	}
	body, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(body)), "\n"); len(lines) != 3 || lines[0] != "line,field,reason,date,source,campaign,cost,currency" {
		t.Errorf("rejects file:\n%s", body)
	}
	var n int
	importQuery(t, db, "SELECT count(*) FROM spend", &n)
	if n != 2 {
		t.Errorf("%d rows stored, want 2", n)
	}
}

func TestImportCommand_Parquet(t *testing.T) {
	db, config := importWorkdir(t)
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "spend.parquet"), filepath.Join(dir, "bad.parquet")
	mem, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	for path, cost := range map[string]string{good: "'1.234,50'", bad: "CASE WHEN i = 2 THEN 'lots' ELSE '1' END"} {
		q := fmt.Sprintf(`COPY (SELECT DATE '2024-03-01' + i::INT AS "Date", 'google' AS Source, 'C' || i AS campaign, %s AS cost,
			'EUR' AS currency, (i * 1000)::BIGINT AS clicks FROM range(1, 4) r(i)) TO '%s' (FORMAT parquet)`, cost, path)
		if _, err := mem.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	mem.Close()
	code, stdout, stderr := importCLI(t, "import", "--db", db, "--config", config, "spend", good)
	if code != 0 || stdout != "imported 3 rows into spend\n" {
		t.Fatalf("exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	var sum float64
	var clicks int64
	importQuery(t, db, "SELECT sum(cost)::DOUBLE, sum(clicks) FROM spend", &sum, &clicks)
	if sum != 3703.5 || clicks != 6000 {
		t.Errorf("sum(cost) %v, sum(clicks) %d; want 3703.5 and 6000", sum, clicks)
	}
	code, _, stderr = importCLI(t, "import", "--db", db, "--config", config, "spend", bad)
	if want := bad + `:2: cost: "lots" is not an amount`; code != 1 || !strings.HasPrefix(stderr, want) {
		t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, want)
	}
}

func TestChannelsCommand(t *testing.T) {
	db, config := importWorkdir(t)
	events := filepath.Join(t.TempDir(), "events.jsonl")
	os.WriteFile(events, []byte(`{"id":"e1","ts":"2024-03-01T10:00:00Z","type":"page","utm_source":"newsletter","utm_medium":"email"}
{"id":"e2","ts":"2024-03-01T10:00:00Z","type":"page","utm_source":"fair","utm_medium":"tradeshow"}
{"id":"e3","ts":"2024-03-01T10:00:00Z","type":"page"}
`), 0o644)
	if code, _, stderr := importCLI(t, "import", "--db", db, "--config", config, "events", events); code != 0 {
		t.Fatal(stderr)
	}
	// A new rule for the newsletter, tried before the defaults.
	os.WriteFile(config, []byte("preset: b2b\nchannels:\n  - channel: Newsletter\n    source: newsletter\n"), 0o644)
	code, stdout, stderr := importCLI(t, "channels", "apply", "--db", db, "--config", config)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if want := "events: 1 row changed channel\npeople: 0 rows changed channel\naccounts: 0 rows changed channel\n1 row changed channel in all\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	var e1, e2, e3 string
	importQuery(t, db, "SELECT (SELECT channel FROM events WHERE id='e1'), (SELECT channel FROM events WHERE id='e2'), (SELECT channel FROM events WHERE id='e3')", &e1, &e2, &e3)
	if e1 != "Newsletter" || e2 != "Direct" && e2 != "Unassigned" || e3 != "Direct" {
		t.Errorf("channels %q %q %q", e1, e2, e3)
	}
	code, stdout, _ = importCLI(t, "channels", "list", "--config", config)
	if code != 0 || !regexp.MustCompile(`(?m)^1 +Newsletter +custom +source ~ newsletter$`).MatchString(stdout) ||
		!regexp.MustCompile(`(?m)^8 +Paid Search +default \(GA4\) +source ~ `).MatchString(stdout) {
		t.Errorf("channels list: exit %d\n%s", code, stdout)
	}
}

func TestImportCommand_Usage(t *testing.T) {
	db, config := importWorkdir(t)
	csv := filepath.Join(importFixtures, "google-ads.csv")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"Presets", []string{"import", "presets"}, 0, "stripe-subscriptions"},
		{"UnknownKind", []string{"import", "--db", db, "--config", config, "ads", csv}, 2, `unknown kind "ads"`},
		{"UnknownPreset", []string{"import", "--db", db, "--config", config, "--preset", "bing-ads", csv}, 2, `unknown preset "bing-ads"`},
		{"MissingFile", []string{"import", "--db", db, "--config", config, "spend", "nope.csv"}, 2, "nope.csv"},
		{"BadDateFormat", []string{"import", "--db", db, "--date-format", "iso", "spend", csv}, 2, "--date-format"},
		{"BadMap", []string{"import", "--db", db, "--map", "cost", "spend", csv}, 2, "field=column"},
		{"NoFile", []string{"import", "spend"}, 2, "usage: bowtie import"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := importCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit %d (want %d)\nstdout %s\nstderr %s\nwant %q", code, tt.code, stdout, stderr, tt.want)
			}
		})
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a failed invocation created the store")
	}
}
