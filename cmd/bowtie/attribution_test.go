package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bowtie-analytics/bowtie/query/attribution"
)

// TestAttributionCommand runs bowtie attribution on the B2B demo in every
// format and with the error cases: an unknown model, a zero lookback and
// a conversion that matches nothing each exit 2 with a message naming the
// problem.
func TestAttributionCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a demo")
	}
	db := filepath.Join(t.TempDir(), "b2b.duckdb")
	if code, _, errs := demoCLI(t, "demo", "--business", "b2b", "--events", "60000", "--no-serve", "--db", db); code != 0 {
		t.Fatalf("demo: exit %d: %s", code, errs)
	}
	cfg := filepath.Join(t.TempDir(), "bowtie.yaml")
	writeFile(t, cfg, "preset: b2b\n")
	base := []string{"attribution", "--db", db, "--config", cfg, "--from", "2020-01-01", "--to", "2030-12-31"}
	for _, format := range []string{"table", "json", "csv"} {
		code, out, errs := demoCLI(t, append(base, "--format", format, "--model", "first,linear,markov")...)
		if code != 0 {
			t.Fatalf("--format %s: exit %d: %s", format, code, errs)
		}
		switch format {
		case "json":
			var res attribution.Result
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err)
			}
			if res.Conversion != "deal:won" || res.Level != "account" || res.Totals.Conversions == 0 || len(res.Models) != 3 {
				t.Errorf("JSON: conversion %q level %q conversions %v models %v", res.Conversion, res.Level, res.Totals.Conversions, res.Models)
			}
			for _, m := range res.Models {
				var n float64
				for _, r := range res.Rows {
					n += r.Credits[m].Conversions
				}
				if math.Abs(n-res.Totals.Conversions) > 1e-6 {
					t.Errorf("%s credits sum to %v, total %v", m, n, res.Totals.Conversions)
				}
			}
		case "csv":
			recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil || len(recs) < 4 || recs[0][0] != "channel" || recs[0][2] != "model" {
				t.Errorf("CSV: %v, %d records", err, len(recs))
			}
		default:
			for _, want := range []string{"Credited conversions", "Top paths", "Markov chain", "Lead quality"} {
				if !strings.Contains(out, want) {
					t.Errorf("table has no %q:\n%.2000s", want, out)
				}
			}
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", "firstt"}, `unknown model "firstt"`},
		{[]string{"--lookback", "0d"}, "lookback must be positive"},
		{[]string{"--conversion", "stage:wonn"}, `closest stages: "won"`},
		{[]string{"--conversion", "event:webinar_atended"}, `closest event names: "webinar_attended"`},
		{[]string{"--custom", "1,2"}, "--custom"},
		{[]string{"--format", "xml"}, "--format"},
	} {
		code, _, errs := demoCLI(t, append(base, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}
