package query_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/query"
)

// TestRunReferrals_RandomAgainstReference compares the monthly virality
// figures with a brute-force Go computation on random people: repeated
// signups (the first counts), invitations, referrer tags on identified and
// on anonymous events (resolved through identities; the earliest tag
// wins), empty tags, and referrers who never signed up.
func TestRunReferrals_RandomAgainstReference(t *testing.T) {
	biz := business(t, "preset: b2c\ncurrency: USD\ntime_zone: UTC\n")
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 5))
			s := openWith(t, "")
			n := 40 + r.IntN(60)
			type ev struct {
				person, anon, name, ref string
				ts                      time.Time
			}
			var evs []ev
			signup := map[string]time.Time{}
			var stages, idents []string
			seq := 0
			at := func() time.Time {
				seq++
				return base.Add(time.Duration(r.IntN(240*24*60))*time.Minute + time.Duration(seq)*time.Second)
			}
			for i := 0; i < n; i++ {
				p := fmt.Sprintf("p%d", i)
				if r.Float64() < 0.75 {
					for k := 0; k < 1+r.IntN(2); k++ {
						ts := at()
						stages = append(stages, fmt.Sprintf("('person', '%s', 'signup', '%s', 'app')", p, ts.Format(time.DateTime)))
						if old, ok := signup[p]; !ok || ts.Before(old) {
							signup[p] = ts
						}
					}
				}
				for k := 0; k < r.IntN(6); k++ {
					name := "workout"
					if r.Float64() < 0.4 {
						name = "referral_sent"
					}
					evs = append(evs, ev{person: p, name: name, ts: at()})
				}
				if r.Float64() < 0.5 {
					idents = append(idents, fmt.Sprintf("('anonymous', 'anon-%s', '%s', '2024-01-01', 'app')", p, p))
					for k := 0; k < 1+r.IntN(2); k++ {
						ref := fmt.Sprintf("p%d", r.IntN(n+5)) // some referrers do not exist
						if r.Float64() < 0.15 {
							ref = ""
						}
						e := ev{name: "Landing", ref: ref, ts: at()}
						if r.Float64() < 0.5 {
							e.anon = "anon-" + p
						} else {
							e.person = p
						}
						evs = append(evs, e)
					}
				}
			}
			var rows []string
			for i, e := range evs {
				nul := func(s string) string {
					if s == "" {
						return "NULL"
					}
					return "'" + s + "'"
				}
				props := "NULL"
				if e.name == "Landing" {
					props = `'{"referrer": "` + e.ref + `"}'`
				}
				rows = append(rows, fmt.Sprintf("('e%d', 'track', '%s', '%s', %s, %s, %s)", i, e.name, e.ts.Format(time.DateTime), nul(e.anon), nul(e.person), props))
			}
			q := "INSERT INTO events (id, type, name, ts, anonymous_id, person_id, properties) VALUES " + strings.Join(rows, ", ") + ";"
			if len(stages) > 0 {
				q += "INSERT INTO stage_changes VALUES " + strings.Join(stages, ", ") + ";"
			}
			if len(idents) > 0 {
				q += "INSERT INTO identities VALUES " + strings.Join(idents, ", ") + ";"
			}
			if _, err := s.DB().Exec(q); err != nil {
				t.Fatal(err)
			}
			from, to := date("2024-02-01"), date("2024-07-31")
			got, err := query.RunReferrals(context.Background(), s.DB(), query.DuckDB{}, biz, query.ReferralsRequest{From: from, To: to, Grain: "month"})
			if err != nil {
				t.Fatal(err)
			}

			// Reference.
			end := to.AddDate(0, 0, 1)
			in := func(ts time.Time) bool { return !ts.Before(from) && ts.Before(end) }
			month := func(ts time.Time) string {
				return time.Date(ts.Year(), ts.Month(), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
			}
			type agg struct {
				active, inviters map[string]bool
				invites, signups int64
				cycles           []float64
			}
			ref := map[string]*agg{}
			get := func(m string) *agg {
				if ref[m] == nil {
					ref[m] = &agg{active: map[string]bool{}, inviters: map[string]bool{}}
				}
				return ref[m]
			}
			firstTag := map[string]ev{}
			for _, e := range evs {
				if e.person != "" && in(e.ts) {
					a := get(month(e.ts))
					a.active[e.person] = true
					if e.name == "referral_sent" {
						a.invites++
						a.inviters[e.person] = true
					}
				}
				if e.name == "Landing" && e.ref != "" {
					who := e.person
					if who == "" {
						who = strings.TrimPrefix(e.anon, "anon-")
					}
					if f, ok := firstTag[who]; !ok || e.ts.Before(f.ts) {
						firstTag[who] = e
					}
				}
			}
			for who, e := range firstTag {
				st, ok := signup[who]
				if !ok || !in(st) {
					continue
				}
				a := get(month(st))
				a.signups++
				if rs, ok := signup[e.ref]; ok {
					a.cycles = append(a.cycles, st.Sub(rs).Hours()/24)
				}
			}
			if len(got.Rows) != len(ref) {
				t.Fatalf("%d rows, reference %d", len(got.Rows), len(ref))
			}
			for _, row := range got.Rows {
				a := ref[row.Period]
				if a == nil {
					t.Fatalf("unexpected period %s", row.Period)
				}
				ok := row.ActiveUsers == int64(len(a.active)) && row.Inviters == int64(len(a.inviters)) && row.Invites == a.invites &&
					row.ReferredSignups == a.signups && row.CycleN == int64(len(a.cycles))
				if len(a.cycles) > 0 {
					slices.Sort(a.cycles)
					ok = ok && near(row.CycleDays, median(a.cycles))
				}
				if a.invites > 0 && len(a.active) > 0 {
					k := float64(a.signups) / float64(len(a.active))
					ok = ok && near(row.KFactor, k)
				}
				if !ok {
					t.Errorf("%s: got %+v (cycle %v), reference active %d inviters %d invites %d signups %d cycles %v",
						row.Period, row, deref(row.CycleDays), len(a.active), len(a.inviters), a.invites, a.signups, a.cycles)
				}
			}
		})
	}
}
