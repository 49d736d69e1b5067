package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRetentionCommand(t *testing.T) {
	db := analysisStore(t)
	code, out, errs := demoCLI(t, "retention", "--db", db, "--return", "workout_completed", "--rolling", "--by", "channel",
		"--from", "2025-05-01", "--to", "2026-10-31", "--as-of", "2026-10-31", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r struct {
		CohortStage string `json:"cohort_stage"`
		AsOf        string `json:"as_of"`
		Headline    []struct {
			Group string `json:"group"`
			D1    struct {
				Eligible int64    `json:"eligible"`
				Rate     *float64 `json:"rate"`
			} `json:"d1"`
		} `json:"headline"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.CohortStage != "signup" || r.AsOf != "2026-11-01T00:00:00Z" || len(r.Headline) < 2 || r.Headline[0].Group != "" || r.Headline[0].D1.Rate == nil {
		t.Errorf("unexpected retention: %.400s", out)
	}
	code, out, errs = demoCLI(t, "retention", "--db", db, "--cohort-event", "signup_completed", "--grain", "week", "--periods", "4", "--mode", "on_or_after", "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "group,cohort,size,n,eligible,retained,rate\n") {
		t.Errorf("csv: exit %d: %.300s%s", code, out, errs)
	}
	code, out, errs = demoCLI(t, "retention", "--db", db, "--grain", "month", "--periods", "3")
	if code != 0 || !strings.Contains(out, "on month N, calendar months") || !strings.Contains(out, "D30") {
		t.Errorf("table: exit %d: %s%s", code, out, errs)
	}
	code, out, errs = demoCLI(t, "retention", "activity", "--db", db, "--event", "workout_completed", "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "date,dau,wau,mau,stickiness\n") || strings.Count(out, "\n") != 91 {
		t.Errorf("activity: exit %d: %.300s%s", code, out, errs)
	}
	code, out, errs = demoCLI(t, "retention", "activity", "--db", db, "--lifecycle", "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "period,active,new,returning,resurrecting,dormant\n") {
		t.Errorf("lifecycle: exit %d: %.300s%s", code, out, errs)
	}
	for _, args := range [][]string{{"--grain", "hour"}, {"--mode", "after"}, {"--as-of", "yesterday"}, {"--cohort-event", "a", "--cohort-stage", "b"}} {
		if code, _, errs := demoCLI(t, append([]string{"retention", "--db", db}, args...)...); code != 2 {
			t.Errorf("%v: exit %d: %s", args, code, errs)
		}
	}
}
