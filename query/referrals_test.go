package query_test

import (
	"context"
	"testing"

	"github.com/bowtie-analytics/bowtie/query"
)

const referralsSmall = `
INSERT INTO people (person_id, channel) VALUES ('r1', 'Paid Social'), ('r2', 'Organic Search'), ('f1', 'Referral Program'), ('f2', 'Referral Program'), ('f3', 'Referral Program');
INSERT INTO identities VALUES ('anonymous', 'anon-f1', 'f1', '2024-01-12 10:00', 'app'), ('anonymous', 'anon-f2', 'f2', '2024-02-02 10:00', 'app');
INSERT INTO stage_changes VALUES
 ('person', 'r1', 'signup', '2024-01-01 00:00', 'app'),
 ('person', 'r2', 'signup', '2023-12-01 00:00', 'app'),
 ('person', 'f1', 'signup', '2024-01-11 00:00', 'app'),
 ('person', 'f2', 'signup', '2024-02-02 00:00', 'app'),
 ('person', 'f3', 'signup', '2024-03-05 00:00', 'app');
INSERT INTO events (id, type, name, ts, anonymous_id, person_id, properties) VALUES
 ('1', 'track', 'referral_sent', '2024-01-05 10:00', NULL, 'r1', NULL),
 ('2', 'track', 'referral_sent', '2024-01-06 10:00', NULL, 'r1', NULL),
 ('3', 'track', 'referral_sent', '2024-01-07 10:00', NULL, 'r2', NULL),
 ('4', 'track', 'referral_sent', '2024-01-08 10:00', NULL, 'r2', NULL),
 ('5', 'track', 'workout', '2024-01-09 10:00', NULL, 'r2', '{"kind":"yoga"}'),
 ('6', 'page', 'Landing', '2024-01-10 10:00', 'anon-f1', NULL, '{"referrer":"user-x"}'),
 ('6b', 'page', 'Landing', '2024-01-09 10:00', 'anon-f1', NULL, '{"referrer":"r1"}'),
 ('7', 'page', 'Landing', '2024-02-01 10:00', 'anon-f2', NULL, '{"referrer":"r2"}'),
 ('8', 'track', 'workout', '2024-01-20 10:00', NULL, 'f1', NULL),
 ('9', 'track', 'workout', '2024-02-05 10:00', NULL, 'f2', NULL),
 ('10', 'page', 'Landing', '2024-03-01 10:00', NULL, 'f3', '{"referrer":"nobody"}');
INSERT INTO accounts (account_id, channel) VALUES ('A', 'Referral'), ('B', 'Events');
INSERT INTO deals (deal_id, account_id, pipeline, status, created_at, closed_at, amount, currency) VALUES
 ('d1', 'A', 'new business', 'won', '2023-12-01', '2024-01-15', 300, 'EUR'),
 ('d2', 'B', 'new business', 'won', '2023-12-01', '2024-01-20', 700, 'EUR'),
 ('d3', 'A', 'service', 'won', '2023-12-01', '2024-01-25', 50, 'EUR'),
 ('d4', 'B', 'new business', 'lost', '2023-12-01', '2024-01-25', 900, 'EUR');
`

// TestRunReferrals_HandComputed checks invites per user, invite
// conversion, the K-factor, the viral cycle time and the B2B referral
// share on hand-worked data: a friend whose anonymous visit carries the
// referrer (earliest tagged event wins), a referrer who signed up before
// the period, and a referred signup whose referrer never signed up.
func TestRunReferrals_HandComputed(t *testing.T) {
	s := openWith(t, "")
	if _, err := s.DB().Exec(referralsSmall); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Run("B2C", func(t *testing.T) {
		biz := business(t, "preset: b2c\ncurrency: EUR\ntime_zone: UTC\n")
		r, err := query.RunReferrals(ctx, s.DB(), query.DuckDB{}, biz, query.ReferralsRequest{From: date("2024-01-01"), To: date("2024-03-31"), Grain: "month"})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Rows) != 3 {
			t.Fatalf("rows %+v", r.Rows)
		}
		jan, feb := r.Rows[0], r.Rows[1]
		// January: active r1, r2, f1; 4 invites by 2 people; f1 signs up
		// (referrer r1, 10 days after r1's signup).
		if jan.ActiveUsers != 3 || jan.Inviters != 2 || jan.Invites != 4 || !near(jan.InvitesPerUser, 4.0/3) ||
			jan.ReferredSignups != 1 || !near(jan.InviteConversion, 0.25) || !near(jan.KFactor, 1.0/3) || jan.CycleN != 1 || !near(jan.CycleDays, 10) {
			t.Errorf("january %+v", jan)
		}
		// February: f2 is active and signs up, referred by r2 (63 days).
		if feb.ActiveUsers != 1 || feb.Invites != 0 || feb.ReferredSignups != 1 || feb.InviteConversion != nil || feb.CycleN != 1 || !near(feb.CycleDays, 63) {
			t.Errorf("february %+v", feb)
		}
		// Total: 3 referred signups (f3's referrer never signed up), cycle
		// median of 10 and 63.
		tot := r.Total
		if tot.ActiveUsers != 5 || tot.Invites != 4 || tot.ReferredSignups != 3 || !near(tot.InviteConversion, 0.75) ||
			!near(tot.KFactor, 0.6) || tot.CycleN != 2 || !near(tot.CycleDays, 36.5) {
			t.Errorf("total %+v", tot)
		}
	})
	t.Run("B2B", func(t *testing.T) {
		biz := business(t, "preset: b2b\ncurrency: EUR\ntime_zone: UTC\n")
		r, err := query.RunReferrals(ctx, s.DB(), query.DuckDB{}, biz, query.ReferralsRequest{From: date("2024-01-01"), To: date("2024-01-31")})
		if err != nil {
			t.Fatal(err)
		}
		tot := r.Total
		if tot.NewDeals != 2 || !closeTo(tot.NewRevenue, 1000) || tot.ReferredDeals != 1 || !closeTo(tot.ReferredRevenue, 300) || !near(tot.ReferredShare, 0.3) {
			t.Errorf("b2b %+v", tot)
		}
	})
}
