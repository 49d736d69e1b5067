package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// analysisStore returns a small B2C demo store for the analysis command
// tests.
func analysisStore(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "analysis-b2c.duckdb")
	if code, _, errs := demoCLI(t, "demo", "--business", "b2c", "--events", "20000", "--no-serve", "--db", db); code != 0 {
		t.Fatal(errs)
	}
	return db
}

func TestStagesCommand(t *testing.T) {
	db := analysisStore(t)
	code, out, errs := demoCLI(t, "stages", "--db", db, "--stages", "signup,trial,paid", "--by", "channel", "--from", "2025-05-01", "--to", "2026-10-31", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var f struct {
		Mode  string `json:"mode"`
		Total struct {
			Steps []struct {
				Name  string `json:"name"`
				Count int64  `json:"count"`
			} `json:"steps"`
		} `json:"total"`
		Groups []json.RawMessage `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if f.Mode != "cohort" || len(f.Total.Steps) != 3 || f.Total.Steps[0].Count == 0 || f.Total.Steps[2].Count > f.Total.Steps[0].Count || len(f.Groups) < 2 {
		t.Errorf("unexpected funnel: %s", out)
	}
	code, out, errs = demoCLI(t, "stages", "--db", db, "--stages", "signup,trial,paid", "--mode", "period", "--from", "2025-05-01", "--to", "2026-10-31", "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "group,step,name,count,step_conversion") || strings.Count(out, "\n") != 4 {
		t.Errorf("csv: exit %d: %s%s", code, out, errs)
	}
	code, out, errs = demoCLI(t, "stages", "--db", db, "--stages", "signup,trial,paid", "--within", "14")
	if code != 0 || !strings.Contains(out, "Stage funnel (person, cohort-based, within 14 days") || !strings.Contains(out, "3. paid") {
		t.Errorf("table: exit %d: %s%s", code, out, errs)
	}
	code, out, errs = demoCLI(t, "stages", "sales", "--db", db, "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "metric,value\nwon,") {
		t.Errorf("sales: exit %d: %s%s", code, out, errs)
	}
	for _, args := range [][]string{{"--mode", "x"}, {"--format", "xml"}, {"--by", "person.email_hash"}, {"--entity", "lead"}} {
		if code, _, errs := demoCLI(t, append([]string{"stages", "--db", db}, args...)...); code != 2 || !strings.HasPrefix(errs, "bowtie stages: ") {
			t.Errorf("%v: exit %d: %s", args, code, errs)
		}
	}
}

func TestFunnelCommand(t *testing.T) {
	db := analysisStore(t)
	code, out, errs := demoCLI(t, "funnel", "--db", db, "--step", "Landing Page", "--step", "signup_completed", "--step", "trial_started",
		"--window", "7d", "--from", "2025-05-01", "--to", "2026-10-31", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var f struct {
		Window string `json:"window"`
		Total  struct {
			Steps []struct {
				Count int64 `json:"count"`
			} `json:"steps"`
		} `json:"total"`
	}
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if f.Window != "168h0m0s" || len(f.Total.Steps) != 3 || f.Total.Steps[1].Count == 0 {
		t.Errorf("unexpected funnel: %s", out)
	}
	code, out, errs = demoCLI(t, "funnel", "--db", db, "--step", "signup_completed", "--step", "workout_completed", "--exclude", "trial_started between=1-2", "--mode", "any")
	if code != 0 || !strings.Contains(out, "Event funnel signup_completed → workout_completed (person, any, window 336h0m0s, 1 exclusions)") {
		t.Errorf("table: exit %d: %s%s", code, out, errs)
	}
	for _, args := range [][]string{{"--step", "a"}, {"--step", "a", "--step", "b", "--window", "3x"}, {"--step", "a", "--step", "b c=d e"},
		{"--step", "a", "--step", "b", "--exclude", "c between=2"}, {"--step", "a", "--step", "b", "--mode", "loose"}} {
		if code, _, errs := demoCLI(t, append([]string{"funnel", "--db", db}, args...)...); code != 2 {
			t.Errorf("%v: exit %d: %s", args, code, errs)
		}
	}
}
