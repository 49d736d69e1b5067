package attribution

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

// rowKey identifies a result row: the channel, and the campaign with By
// campaign ("" when none).
type rowKey struct{ channel, campaign string }

// spendRow is a row's spend in the period.
type spendRow struct {
	cost, platform float64
}

// readSpend sums the spend of the local dates [from, to] per channel (and
// campaign): the cost of the business's cac_cost_types converted to its
// currency (the acquisition report's cost, docs/metrics.md) and the
// platforms' self-reported conversions (every cost type).
func readSpend(ctx context.Context, db *sql.DB, d query.Dialect, biz *bowtie.Business, s *settings) (map[rowKey]*spendRow, error) {
	var ps params
	rep := ps.p(biz.Currency)
	camp := "''"
	if s.by == "campaign" {
		camp = "s.campaign"
	}
	types := ps.list(biz.CACCostTypes)
	conv := query.ConvertSQL("s.cost", "s.currency", rep)
	q := "-- attribution.readSpend\nWITH " + query.FXCTE(rep) + "\nSELECT coalesce(s.channel, 'Unassigned'), " + camp + ", " +
		"CAST(sum(CASE WHEN s.cost_type IN " + types + " THEN " + conv + " ELSE 0 END) AS DOUBLE), " +
		"coalesce(sum(s.platform_conversions), 0), " +
		"count(*) FILTER (WHERE s.cost_type IN " + types + " AND " + conv + " IS NULL)\n" +
		"FROM spend s " + d.FXJoin("s.currency", "s.date") + " WHERE s.date BETWEEN " + ps.p(s.from) + " AND " + ps.p(s.to) +
		"\nGROUP BY ALL"
	rows, err := db.QueryContext(ctx, q, ps.args...)
	if err != nil {
		return nil, fmt.Errorf("attribution: spend: %w", err)
	}
	defer rows.Close()
	out := map[rowKey]*spendRow{}
	var missing int64
	for rows.Next() {
		var k rowKey
		var cost sql.NullFloat64
		var r spendRow
		var miss int64
		if err := rows.Scan(&k.channel, &k.campaign, &cost, &r.platform, &miss); err != nil {
			return nil, fmt.Errorf("attribution: spend: %w", err)
		}
		r.cost = cost.Float64
		missing += miss
		out[k] = &r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("attribution: spend: %w", err)
	}
	if missing > 0 {
		return nil, query.MissingFX(ctx, db, biz, s.from, s.to)
	}
	return out, nil
}

// leadQuality counts, per first-touch channel (the person's acquisition
// channel as in the acquisition report: people.channel, else the channel
// of the person's first event with one), the people whose first lead
// stage entry falls in the period, and how many of them have reached
// MQL, SQL and the last configured stage (won) by now. Stages follow the
// "skipped stages count as passed" policy (a later stage counts).
func leadQuality(ctx context.Context, db *sql.DB, biz *bowtie.Business, s *settings) ([]LeadQualityRow, error) {
	if biz.ReportStages.Lead == "" {
		return []LeadQualityRow{}, nil
	}
	var ps params
	set := func(name string) string {
		if name == "" {
			return "(NULL)"
		}
		return ps.list(query.StagesFrom(biz.Stages, name))
	}
	won := biz.Stages[len(biz.Stages)-1]
	q := `-- attribution.leadQuality
	WITH st AS (SELECT entity_id,
		min(ts) FILTER (WHERE stage IN ` + set(biz.ReportStages.Lead) + `) AS lead_ts,
		count(*) FILTER (WHERE stage IN ` + set(biz.ReportStages.MQL) + `) > 0 AS mql,
		count(*) FILTER (WHERE stage IN ` + set(biz.ReportStages.SQL) + `) > 0 AS sql,
		count(*) FILTER (WHERE stage IN ` + set(won) + `) > 0 AS won
		FROM stage_changes WHERE entity_type = 'person' GROUP BY entity_id),
	leads AS (SELECT * FROM st WHERE lead_ts >= ` + ps.p(s.start) + ` AND lead_ts < ` + ps.p(s.end) + `),
	fe AS (SELECT person_id, arg_min(channel, ts) AS channel FROM events
		WHERE channel IS NOT NULL AND person_id IN (SELECT entity_id FROM leads) GROUP BY person_id)
	SELECT coalesce(p.channel, fe.channel, 'Unassigned') AS ch, count(*), count(*) FILTER (WHERE l.mql),
		count(*) FILTER (WHERE l.sql), count(*) FILTER (WHERE l.won)
	FROM leads l LEFT JOIN people p ON p.person_id = l.entity_id LEFT JOIN fe ON fe.person_id = l.entity_id
	GROUP BY ch ORDER BY 2 DESC, ch`
	rows, err := db.QueryContext(ctx, q, ps.args...)
	if err != nil {
		return nil, fmt.Errorf("attribution: lead quality: %w", err)
	}
	defer rows.Close()
	out := []LeadQualityRow{}
	for rows.Next() {
		var r LeadQualityRow
		if err := rows.Scan(&r.Channel, &r.Leads, &r.MQLs, &r.SQLs, &r.Won); err != nil {
			return nil, fmt.Errorf("attribution: lead quality: %w", err)
		}
		r.ToMQL = div(float64(r.MQLs), float64(r.Leads))
		if biz.ReportStages.SQL != "" {
			r.ToSQL = div(float64(r.SQLs), float64(r.Leads))
		}
		r.ToWon = div(float64(r.Won), float64(r.Leads))
		out = append(out, r)
	}
	return out, rows.Err()
}

// div returns a/b, or nil when b is zero.
func div(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	v := a / b
	return &v
}
