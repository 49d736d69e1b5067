package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/demo"
	"github.com/bowtie-analytics/bowtie/duckdb"
)

// demoCLI runs `bowtie args...` and returns the exit status and output.
func demoCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb, Config: DefaultConfig()}
	code = run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func readTruth(t *testing.T, path string) *demo.Truth {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tr demo.Truth
	if err := json.Unmarshal(data, &tr); err != nil {
		t.Fatal(err)
	}
	return &tr
}

func storeEvents(t *testing.T, path string) int64 {
	t.Helper()
	st, err := duckdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var n int64
	if err := st.DB().QueryRow("SELECT count(*) FROM events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDemoCommand_Both(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "bowtie.duckdb")
	code, out, errs := demoCLI(t, "demo", "--events", "20000", "--no-serve", "--db", db)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, b := range []string{"b2b", "b2c"} {
		path := filepath.Join(dir, "bowtie-"+b+".duckdb")
		tr := readTruth(t, path+".truth.json")
		if tr.Business != b || tr.Seed != 1 || tr.Target != 20000 {
			t.Errorf("%s truth: business %s, seed %d, target %d", b, tr.Business, tr.Seed, tr.Target)
		}
		if n := storeEvents(t, path); n != tr.Rows["events"] || n == 0 {
			t.Errorf("%s: %d events stored, truth says %d", b, n, tr.Rows["events"])
		}
		if !strings.Contains(out, path) {
			t.Errorf("summary does not name %s:\n%s", path, out)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("%s written although both businesses have their own file", db)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if !strings.Contains(out, "events/s") || !strings.Contains(out, "stage_changes") {
		t.Errorf("summary lacks rows or speed:\n%s", out)
	}
	if errs != "" {
		t.Errorf("stderr not quiet off a terminal: %q", errs)
	}
}

func TestDemoCommand_Force(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "shop.duckdb")
	if code, _, errs := demoCLI(t, "demo", "--business", "b2c", "--events", "5000", "--no-serve", "--db", db); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	before := storeEvents(t, db)
	code, _, errs := demoCLI(t, "demo", "--business", "b2c", "--events", "20000", "--no-serve", "--db", db)
	if code != 2 || !strings.Contains(errs, "--force") {
		t.Errorf("existing store without --force: exit %d, %q", code, errs)
	}
	if n := storeEvents(t, db); n != before {
		t.Errorf("the refused run changed the store: %d events, had %d", n, before)
	}
	if code, _, errs := demoCLI(t, "demo", "--business", "b2c", "--events", "20000", "--seed", "3", "--no-serve", "--force", "--db", db); code != 0 {
		t.Fatalf("--force: exit %d: %s", code, errs)
	}
	tr := readTruth(t, db+".truth.json")
	if n := storeEvents(t, db); n == before || n != tr.Rows["events"] || tr.Seed != 3 {
		t.Errorf("after --force: %d events (before %d), truth %d events seed %d", n, before, tr.Rows["events"], tr.Seed)
	}
}

func TestDemoCommand_Usage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.duckdb")
	for _, args := range [][]string{
		{"demo", "--business", "b2x", "--db", db},
		{"demo", "--events", "0", "--db", db},
		{"demo", "--db", db, "extra"},
		{"demo", "--nope"},
	} {
		if code, _, _ := demoCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("a refused run wrote %s", db)
	}
}

// TestDemoCommand_ReportMatchesTruth checks that `bowtie report` over the
// whole generated range reproduces the planted revenue and customers per
// channel.
func TestDemoCommand_ReportMatchesTruth(t *testing.T) {
	dir := t.TempDir()
	for _, b := range []string{"b2b", "b2c"} {
		db := filepath.Join(dir, b+".duckdb")
		cfg := filepath.Join(dir, b+".yaml")
		if err := os.WriteFile(cfg, []byte("preset: "+b+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, errs := demoCLI(t, "demo", "--business", b, "--events", "30000", "--no-serve", "--db", db); code != 0 {
			t.Fatalf("%s: exit %d: %s", b, code, errs)
		}
		tr := readTruth(t, db+".truth.json")
		loc, err := time.LoadLocation(tr.TimeZone)
		if err != nil {
			t.Fatal(err)
		}
		from := tr.Start.In(loc).Format(time.DateOnly)
		to := tr.End.In(loc).AddDate(0, 0, -1).Format(time.DateOnly)
		code, out, errs := demoCLI(t, "report", "--db", db, "--config", cfg, "--from", from, "--to", to, "--format", "json")
		if code != 0 {
			t.Fatalf("%s report: exit %d: %s", b, code, errs)
		}
		var rep struct {
			Rows []struct {
				Channel      string  `json:"channel"`
				Revenue      float64 `json:"revenue"`
				Cost         float64 `json:"cost"`
				NewCustomers int64   `json:"new_customers"`
			} `json:"rows"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%s report: %v\n%s", b, err, out)
		}
		got := map[string]bool{}
		for _, r := range rep.Rows {
			c := tr.Channels[r.Channel]
			if c == nil {
				if r.Revenue != 0 {
					t.Errorf("%s: report has revenue %.2f for %q, unknown to the truth", b, r.Revenue, r.Channel)
				}
				continue
			}
			got[r.Channel] = true
			if math.Abs(r.Revenue-c.Revenue) > 0.01 {
				t.Errorf("%s %s: report revenue %.2f, truth %.2f", b, r.Channel, r.Revenue, c.Revenue)
			}
			if math.Abs(r.Cost-c.CACSpend) > 0.05 {
				t.Errorf("%s %s: report cost %.2f, truth CAC spend %.2f", b, r.Channel, r.Cost, c.CACSpend)
			}
			if r.NewCustomers != c.Customers {
				t.Errorf("%s %s: report %d new customers, truth %d", b, r.Channel, r.NewCustomers, c.Customers)
			}
		}
		for name, c := range tr.Channels {
			if !got[name] && (c.Revenue != 0 || c.Customers != 0) {
				t.Errorf("%s: channel %s (revenue %.2f) missing from the report", b, name, c.Revenue)
			}
		}
	}
}

// TestDemoCommand_NeverDestroys checks that the demo writes over nothing but
// a store it is told to replace: --force does not replace a file that is not
// a DuckDB store, a left-over write-ahead log is refused without --force,
// and a file that happens to be named like the demo's temporary file is
// left alone.
func TestDemoCommand_NeverDestroys(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "leads.csv")
	writeFile(t, csv, "email,stage\na@example.com,lead\n")
	code, _, errs := demoCLI(t, "demo", "--business", "b2c", "--events", "2000", "--no-serve", "--force", "--db", csv)
	if code != 2 || !strings.Contains(errs, "not a DuckDB store") {
		t.Errorf("--force over a CSV: exit %d, %q", code, errs)
	}
	if got := readFile(t, csv); got != "email,stage\na@example.com,lead\n" {
		t.Errorf("the CSV changed: now %d bytes", len(got))
	}

	db := filepath.Join(dir, "shop.duckdb")
	writeFile(t, db+".wal", "a log of another store")
	code, _, errs = demoCLI(t, "demo", "--business", "b2c", "--events", "2000", "--no-serve", "--db", db)
	if code != 2 || !strings.Contains(errs, db+".wal already exists") {
		t.Errorf("left-over log without --force: exit %d, %q", code, errs)
	}
	if got := readFile(t, db+".wal"); got != "a log of another store" {
		t.Errorf("the log changed: now %d bytes", len(got))
	}
	os.Remove(db + ".wal")

	writeFile(t, db+".tmp", "somebody's file")
	if code, _, errs := demoCLI(t, "demo", "--business", "b2c", "--events", "2000", "--no-serve", "--db", db); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got := readFile(t, db+".tmp"); got != "somebody's file" {
		t.Errorf("%s.tmp changed: now %d bytes", db, len(got))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}
