package query

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// Referral defaults (docs/metrics.md, "Referrals").
const (
	DefaultInviteEvent      = "referral_sent"
	DefaultReferrerProperty = "referrer"
)

// DefaultReferralChannels are the acquisition channels whose customers
// count as referred in the B2B referral share of new business.
var DefaultReferralChannels = []string{"Referral", "Referral Program"}

// DefaultNewPipelines are the deal pipelines whose won deals are new
// business in the referral share.
var DefaultNewPipelines = []string{"new business"}

// ReferralsRequest asks for the referral and virality analysis.
type ReferralsRequest struct {
	// From and To bound the period by local date, both inclusive.
	From, To time.Time
	// Grain cuts the period ("" for one row).
	Grain string
	// InviteEvent is the events.name of a sent invitation (default
	// DefaultInviteEvent).
	InviteEvent string
	// ReferrerProperty is the events.properties key that holds the
	// referrer's person_id on a referred visitor's events (default
	// DefaultReferrerProperty).
	ReferrerProperty string
	// SignupStage is the stage that counts as signing up (default the
	// report's lead stage, else the first stage).
	SignupStage string
	// ReferralChannels and NewPipelines configure the B2B share (defaults
	// DefaultReferralChannels and DefaultNewPipelines).
	ReferralChannels, NewPipelines []string
}

// ReferralsRow holds the virality figures of one period.
type ReferralsRow struct {
	Period string `json:"period,omitempty"`
	// ActiveUsers counts people with an event in the period; Inviters
	// those who sent an invitation; Invites the invitation events.
	ActiveUsers int64 `json:"active_users"`
	Inviters    int64 `json:"inviters"`
	Invites     int64 `json:"invites"`
	// InvitesPerUser is Invites ÷ ActiveUsers.
	InvitesPerUser *float64 `json:"invites_per_user"`
	// ReferredSignups counts people with a referrer who reached the
	// signup stage in the period; InviteConversion is ReferredSignups ÷
	// Invites; KFactor is InvitesPerUser × InviteConversion.
	ReferredSignups  int64    `json:"referred_signups"`
	InviteConversion *float64 `json:"invite_conversion"`
	KFactor          *float64 `json:"k_factor"`
	// CycleDays is the median of the days from the referrer's signup to
	// the referred person's signup, over CycleN referred signups whose
	// referrer signed up.
	CycleN    int64    `json:"cycle_n"`
	CycleDays *float64 `json:"cycle_days"`
	// NewRevenue sums won new-business deals closed in the period;
	// ReferredRevenue those of customers acquired through a referral
	// channel; ReferredShare is their ratio (B2B).
	NewDeals        int64    `json:"new_deals"`
	NewRevenue      float64  `json:"new_revenue"`
	ReferredDeals   int64    `json:"referred_deals"`
	ReferredRevenue float64  `json:"referred_revenue"`
	ReferredShare   *float64 `json:"referred_share"`
}

// Referrals is the referral and virality analysis.
type Referrals struct {
	Currency         string         `json:"currency"`
	From             string         `json:"from"`
	To               string         `json:"to"`
	Grain            string         `json:"grain"`
	InviteEvent      string         `json:"invite_event"`
	ReferrerProperty string         `json:"referrer_property"`
	SignupStage      string         `json:"signup_stage"`
	ReferralChannels []string       `json:"referral_channels"`
	NewPipelines     []string       `json:"new_pipelines"`
	Rows             []ReferralsRow `json:"rows"`
	Total            ReferralsRow   `json:"total"`
}

// RunReferrals computes the referral and virality analysis. Errors:
// *bowtie.Error with EINVALID for a bad request or deal money without an
// fx rate.
func RunReferrals(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req ReferralsRequest) (*Referrals, error) {
	if err := checkGrain(req.Grain); err != nil {
		return nil, err
	}
	if req.InviteEvent == "" {
		req.InviteEvent = DefaultInviteEvent
	}
	if req.ReferrerProperty == "" {
		req.ReferrerProperty = DefaultReferrerProperty
	}
	if req.SignupStage == "" {
		req.SignupStage = biz.ReportStages.Lead
		if req.SignupStage == "" {
			req.SignupStage = biz.Stages[0]
		}
	}
	if len(req.ReferralChannels) == 0 {
		req.ReferralChannels = DefaultReferralChannels
	}
	if len(req.NewPipelines) == 0 {
		req.NewPipelines = DefaultNewPipelines
	}
	for _, v := range append(append([]string{req.InviteEvent, req.ReferrerProperty, req.SignupStage}, req.ReferralChannels...), req.NewPipelines...) {
		if err := checkText("referrals", v); err != nil {
			return nil, err
		}
	}
	fromD, toD, start, end, err := periodBounds(biz, req.From, req.To)
	if err != nil {
		return nil, err
	}
	out := &Referrals{Currency: biz.Currency, From: fromD.Format(time.DateOnly), To: toD.Format(time.DateOnly), Grain: req.Grain,
		InviteEvent: req.InviteEvent, ReferrerProperty: req.ReferrerProperty, SignupStage: req.SignupStage,
		ReferralChannels: req.ReferralChannels, NewPipelines: req.NewPipelines, Rows: []ReferralsRow{}}
	rows, err := referralRows(ctx, db, d, biz, req, req.Grain, fromD, start, end)
	if err != nil {
		return nil, err
	}
	tot, err := referralRows(ctx, db, d, biz, req, "", fromD, start, end)
	if err != nil {
		return nil, err
	}
	if len(tot) == 1 {
		out.Total = tot[0]
		out.Total.Period = ""
	}
	if req.Grain != "" {
		out.Rows = rows
	} else {
		out.Rows = tot
	}
	return out, nil
}

// referralRows runs the referral query for one grain.
func referralRows(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req ReferralsRequest, grain string, fromD, start, end time.Time) ([]ReferralsRow, error) {
	var ps params
	rep := ps.p("currency", biz.Currency)
	pStart, pEnd := ps.p("start", start), ps.p("end", end)
	pInvite, pPath, pStage := ps.p("invite", req.InviteEvent), ps.p("path", "$."+req.ReferrerProperty), ps.p("stage", req.SignupStage)
	bucket := func(ts string) (string, error) { return periodExpr(d, biz, grain, ts, &ps, fromD, start, end) }
	pe, err := bucket("e.ts")
	if err != nil {
		return nil, err
	}
	ps2, err := bucket("s.ts")
	if err != nil {
		return nil, err
	}
	pd, err := bucket("n.ts")
	if err != nil {
		return nil, err
	}
	cust, acq := "person_id", "acq_person"
	if biz.CustomerEntity == "account" {
		cust, acq = "account_id", "acq_account"
	}
	// A referred person is the person of the earliest event carrying the
	// referrer property (an anonymous visitor's event is resolved through
	// identities); the referrer is that property's value.
	q := `-- query.RunReferrals
WITH ` + fxCTE(rep) + `,
` + acquisitionCTEs + `,
signup AS (SELECT entity_id AS person_id, min(ts) AS ts FROM stage_changes
	WHERE entity_type = 'person' AND stage = ` + pStage + ` GROUP BY entity_id),
tagged AS (SELECT coalesce(e.person_id, i.person_id) AS person_id, e.ts,
		json_extract_string(e.properties, ` + pPath + `) AS referrer
	FROM events e LEFT JOIN identities i ON i.kind = 'anonymous' AND i.alias_id = e.anonymous_id AND e.person_id IS NULL
	WHERE e.properties IS NOT NULL AND json_extract_string(e.properties, ` + pPath + `) <> ''),
referred AS (SELECT person_id, arg_min(referrer, ts) AS referrer FROM tagged WHERE person_id IS NOT NULL GROUP BY person_id),
ev AS (SELECT ` + pe + ` AS period, count(DISTINCT e.person_id) AS active,
		count(DISTINCT e.person_id) FILTER (WHERE e.name = ` + pInvite + `) AS inviters,
		count(*) FILTER (WHERE e.name = ` + pInvite + `) AS invites
	FROM events e WHERE e.person_id IS NOT NULL AND e.ts >= ` + pStart + ` AND e.ts < ` + pEnd + ` GROUP BY 1),
rs AS (SELECT ` + ps2 + ` AS period, count(*) AS signups, count(rs.ts) AS cycle_n,
		quantile_cont(epoch(s.ts - rs.ts) / 86400.0, 0.5) FILTER (WHERE rs.ts IS NOT NULL) AS cycle
	FROM referred r JOIN signup s ON s.person_id = r.person_id LEFT JOIN signup rs ON rs.person_id = r.referrer
	WHERE s.ts >= ` + pStart + ` AND s.ts < ` + pEnd + ` GROUP BY 1),
n AS (SELECT dl.closed_at AS ts, ` + convert("dl.amount", "dl.currency", rep) + ` AS amount,
		coalesce(a.channel, 'Unassigned') IN ` + ps.list("channels", req.ReferralChannels) + ` AS referred
	FROM deals dl ` + d.FXJoin("dl.currency", "CAST(dl.closed_at AS DATE)") + ` LEFT JOIN ` + acq + ` a ON a.id = dl.` + cust + `
	WHERE dl.status = 'won' AND dl.closed_at >= ` + pStart + ` AND dl.closed_at < ` + pEnd + ` AND dl.amount IS NOT NULL
		AND dl.pipeline IN ` + ps.list("pipelines", req.NewPipelines) + `),
nb AS (SELECT ` + pd + ` AS period, count(*) AS deals, CAST(sum(amount) AS DOUBLE) AS revenue,
		count(*) FILTER (WHERE referred) AS rdeals, CAST(sum(amount) FILTER (WHERE referred) AS DOUBLE) AS rrevenue,
		count(*) FILTER (WHERE amount IS NULL) AS missing
	FROM n GROUP BY 1),
p AS (SELECT period FROM ev UNION SELECT period FROM rs UNION SELECT period FROM nb)
SELECT p.period, coalesce(ev.active, 0), coalesce(ev.inviters, 0), coalesce(ev.invites, 0),
	coalesce(rs.signups, 0), coalesce(rs.cycle_n, 0), rs.cycle,
	coalesce(nb.deals, 0), coalesce(nb.revenue, 0), coalesce(nb.rdeals, 0), coalesce(nb.rrevenue, 0), coalesce(nb.missing, 0)
FROM p LEFT JOIN ev ON ev.period = p.period LEFT JOIN rs ON rs.period = p.period LEFT JOIN nb ON nb.period = p.period
ORDER BY 1`
	rows, err := db.QueryContext(ctx, q, ps.args...)
	if err != nil {
		return nil, fmt.Errorf("query: referrals: %w", err)
	}
	defer rows.Close()
	out := []ReferralsRow{}
	var missing int64
	for rows.Next() {
		var r ReferralsRow
		var p time.Time
		var cycle sql.NullFloat64
		var miss int64
		if err := rows.Scan(&p, &r.ActiveUsers, &r.Inviters, &r.Invites, &r.ReferredSignups, &r.CycleN, &cycle,
			&r.NewDeals, &r.NewRevenue, &r.ReferredDeals, &r.ReferredRevenue, &miss); err != nil {
			return nil, fmt.Errorf("query: referrals: %w", err)
		}
		missing += miss
		if grain != "" {
			r.Period = p.Format(time.DateOnly)
		}
		if cycle.Valid {
			r.CycleDays = &cycle.Float64
		}
		r.NewRevenue, r.ReferredRevenue = round4(r.NewRevenue), round4(r.ReferredRevenue)
		r.InvitesPerUser = div(float64(r.Invites), float64(r.ActiveUsers))
		r.InviteConversion = div(float64(r.ReferredSignups), float64(r.Invites))
		if r.InvitesPerUser != nil && r.InviteConversion != nil {
			k := *r.InvitesPerUser * *r.InviteConversion
			r.KFactor = &k
		}
		r.ReferredShare = div(r.ReferredRevenue, r.NewRevenue)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query: referrals: %w", err)
	}
	if missing > 0 {
		return nil, missingFX(ctx, db, biz, start, end)
	}
	return out, nil
}

func (rf *Referrals) grid(human bool) *grid {
	g := &grid{head: []string{"period", "active_users", "inviters", "invites", "invites_per_user", "referred_signups", "invite_conversion",
		"k_factor", "cycle_n", "cycle_days", "new_deals", "new_revenue", "referred_deals", "referred_revenue", "referred_share"}}
	if human {
		g.head = []string{"Period", "Active users", "Inviters", "Invites", "Invites/user", "Referred signups", "Invite conv.",
			"K-factor", "Cycles", "Cycle days", "New deals", "New revenue", "Referred deals", "Referred revenue", "Referred share"}
	}
	add := func(r *ReferralsRow, period string) {
		if human {
			g.add(period, FormatCount(r.ActiveUsers), FormatCount(r.Inviters), FormatCount(r.Invites), fmtOpt(r.InvitesPerUser, "ratio"),
				FormatCount(r.ReferredSignups), fmtOpt(r.InviteConversion, "percent"), fmtOpt(r.KFactor, "ratio"),
				FormatCount(r.CycleN), fmtOpt(r.CycleDays, "ratio"), FormatCount(r.NewDeals), formatValue(r.NewRevenue, true, "money"),
				FormatCount(r.ReferredDeals), formatValue(r.ReferredRevenue, true, "money"), fmtOpt(r.ReferredShare, "percent"))
			return
		}
		g.add(period, count(r.ActiveUsers), count(r.Inviters), count(r.Invites), cell(r.InvitesPerUser), count(r.ReferredSignups),
			cell(r.InviteConversion), cell(r.KFactor), count(r.CycleN), cell(r.CycleDays), count(r.NewDeals), num(r.NewRevenue),
			count(r.ReferredDeals), num(r.ReferredRevenue), cell(r.ReferredShare))
	}
	if rf.Grain != "" {
		for i := range rf.Rows {
			add(&rf.Rows[i], rf.Rows[i].Period)
		}
	}
	add(&rf.Total, "Total")
	return g
}

// WriteCSV writes the rows and a final "Total" row as CSV.
func (rf *Referrals) WriteCSV(w io.Writer) error { return rf.grid(false).writeCSV(w) }

// WriteTable writes the analysis as an aligned text table.
func (rf *Referrals) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Referrals and virality, %s to %s (invites: %q events; referrer: properties.%s; signup: stage %q; referral channels: %s; new business: %s)\n\n",
		rf.From, rf.To, rf.InviteEvent, rf.ReferrerProperty, rf.SignupStage, strings.Join(rf.ReferralChannels, ", "), strings.Join(rf.NewPipelines, ", "))
	return rf.grid(true).writeTable(w)
}
