package main

import (
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bowtie-analytics/bowtie/query"
)

// TestLTVCommands runs bowtie ltv (every model, table, JSON and CSV) and
// bowtie payback on both demos: each exits 0, the JSON decodes into the
// query type, the CSV parses with one header, and payback's CAC per
// channel agrees with bowtie report's over the same acquisition months.
func TestLTVCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the demos")
	}
	for _, business := range []string{"b2c", "b2b"} {
		t.Run(business, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), business+".duckdb")
			if code, _, errs := demoCLI(t, "demo", "--business", business, "--events", "60000", "--no-serve", "--db", db); code != 0 {
				t.Fatalf("demo: exit %d: %s", code, errs)
			}
			cfg := filepath.Join(t.TempDir(), "bowtie.yaml")
			writeFile(t, cfg, "preset: "+business+"\n")
			for _, model := range query.LTVModels {
				for _, format := range []string{"table", "json", "csv"} {
					code, out, errs := demoCLI(t, "ltv", "--model", model, "--by", "channel", "--format", format, "--db", db, "--config", cfg)
					if code != 0 {
						t.Errorf("ltv --model %s --format %s: exit %d: %s", model, format, code, errs)
						continue
					}
					switch format {
					case "json":
						var v map[string]any
						if err := json.Unmarshal([]byte(out), &v); err != nil || v["model"] != model || v["assumptions"] == nil {
							t.Errorf("ltv --model %s: JSON %v: %.300s", model, err, out)
						}
					case "csv":
						if _, err := csv.NewReader(strings.NewReader(out)).ReadAll(); err != nil {
							t.Errorf("ltv --model %s: CSV: %v", model, err)
						}
					default:
						if !strings.Contains(out, "margin:") {
							t.Errorf("ltv --model %s: the table does not state its margin:\n%s", model, out)
						}
					}
				}
			}
			code, out, errs := demoCLI(t, "payback", "--by", "channel", "--format", "json", "--db", db, "--config", cfg)
			if code != 0 {
				t.Fatalf("payback: exit %d: %s", code, errs)
			}
			var pb query.Payback
			if err := json.Unmarshal([]byte(out), &pb); err != nil {
				t.Fatal(err)
			}
			code, out, errs = demoCLI(t, "report", "--by", "channel", "--from", pb.From, "--to", pb.To, "--format", "json", "--db", db, "--config", cfg)
			if code != 0 {
				t.Fatalf("report: exit %d: %s", code, errs)
			}
			var rep query.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			cac := map[string]*float64{}
			for _, r := range rep.Rows {
				cac[r.Channel] = r.CAC
			}
			for _, r := range pb.Rows {
				if w := cac[r.Group]; (w == nil) != (r.CAC == nil) || w != nil && (*w-*r.CAC > 1e-6 || *r.CAC-*w > 1e-6) {
					t.Errorf("payback %s: CAC %v, report %v", r.Group, r.CAC, w)
				}
			}
			if code, _, errs := demoCLI(t, "ltv", "--model", "pareto", "--db", db, "--config", cfg); code == 0 || !strings.Contains(errs, "pareto") {
				t.Errorf("ltv --model pareto: exit %d: %s", code, errs)
			}
		})
	}
}
