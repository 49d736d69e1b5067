package duckdb

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/bowtie-analytics/bowtie"
	duck "github.com/duckdb/duckdb-go/v2"
)

// channelSource is a table whose rows carry a derived channel: the SQL
// expressions of the touch fields channel grouping reads (NULL read as the empty string),
// written against the alias x, and the filter on rows that have a touch.
type channelSource struct {
	table                                string
	source, medium, campaign, click, ref string
	filter                               string
}

// noTouch keeps people and accounts without any UTM field out of the
// update: they keep the channel they were imported with (a CRM's own source
// field, say).
const noTouch = "(trim(coalesce(x.utm_source, '')) <> '' OR trim(coalesce(x.utm_medium, '')) <> '' OR trim(coalesce(x.utm_campaign, '')) <> '')"

var channelSources = []channelSource{
	{
		table:  "events",
		source: "coalesce(x.utm_source, '')", medium: "coalesce(x.utm_medium, '')", campaign: "coalesce(x.utm_campaign, '')",
		click: "coalesce(x.click_id_type, '')",
		// The referrer only matters without UTM source, medium and click
		// id; it is reduced to its host (what classification reads) so
		// that the distinct touches stay few.
		ref: "(CASE WHEN trim(coalesce(x.utm_source, '')) = '' AND trim(coalesce(x.utm_medium, '')) = '' AND trim(coalesce(x.click_id_type, '')) = '' THEN " +
			refHostSQL("lower(trim(coalesce(x.referrer, '')))") + " ELSE '' END)",
		filter: "true",
	},
	{
		table:  "people",
		source: "coalesce(x.utm_source, '')", medium: "coalesce(x.utm_medium, '')", campaign: "coalesce(x.utm_campaign, '')",
		click: "''", ref: "''", filter: noTouch,
	},
	{
		table:  "accounts",
		source: "coalesce(x.utm_source, '')", medium: "coalesce(x.utm_medium, '')", campaign: "coalesce(x.utm_campaign, '')",
		click: "''", ref: "''", filter: noTouch,
	},
}

// refHostSQL reduces the referrer expression r to the host channel grouping
// looks at: the authority of a URL with a scheme (or "//"), without user
// info, else everything before the first '/' or '?'. A referrer with no
// host part is kept whole, so that classifying the result gives what
// classifying the full referrer gives.
func refHostSQL(r string) string {
	return "(CASE WHEN regexp_matches(" + r + ", '^([a-z][a-z0-9+.-]*:)?//') " +
		"THEN coalesce(nullif(regexp_replace(regexp_extract(" + r + ", '^(?:[a-z][a-z0-9+.-]*:)?//([^/?#]*)', 1), '^.*@', ''), ''), " + r + ") " +
		"ELSE coalesce(nullif(regexp_extract(" + r + ", '^([^/?]*)', 1), ''), " + r + ") END)"
}

// ApplyChannels re-classifies the stored events, people and accounts with
// classify (normally the business's current channel rules). Each distinct
// touch — UTM source, medium and campaign, click id type and referrer host —
// is classified once in Go; the rows are then updated by a join, in one
// transaction. It returns, per table, how many rows changed channel.
func (s *Store) ApplyChannels(ctx context.Context, classify func(bowtie.Touch) string) (map[string]int64, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()

	stage := fmt.Sprintf("_stage_channels_%d", s.seq.Add(1))
	if _, err := conn.ExecContext(ctx, "CREATE TABLE "+quoteIdent(stage)+
		" (tbl VARCHAR, utm_source VARCHAR, utm_medium VARCHAR, utm_campaign VARCHAR, click_id_type VARCHAR, ref VARCHAR, channel VARCHAR)"); err != nil {
		return nil, fmt.Errorf("duckdb: create channel map: %w", err)
	}
	defer conn.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+quoteIdent(stage))

	// Classify every distinct touch.
	type touch struct{ table, source, medium, campaign, click, ref string }
	var touches []touch
	for _, cs := range channelSources {
		q := fmt.Sprintf("SELECT DISTINCT %s, %s, %s, %s, %s FROM %s AS x WHERE %s", cs.source, cs.medium, cs.campaign, cs.click, cs.ref, cs.table, cs.filter)
		rows, err := conn.QueryContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("duckdb: distinct touches of %s: %w", cs.table, err)
		}
		for rows.Next() {
			t := touch{table: cs.table}
			if err := rows.Scan(&t.source, &t.medium, &t.campaign, &t.click, &t.ref); err != nil {
				rows.Close()
				return nil, fmt.Errorf("duckdb: distinct touches of %s: %w", cs.table, err)
			}
			touches = append(touches, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("duckdb: distinct touches of %s: %w", cs.table, err)
		}
	}
	err = conn.Raw(func(dc any) error {
		app, err := duck.NewAppenderFromConn(dc.(driver.Conn), "", stage)
		if err != nil {
			return err
		}
		for _, t := range touches {
			ch := classify(bowtie.Touch{Source: t.source, Medium: t.medium, Campaign: t.campaign, ClickIDType: t.click, Referrer: t.ref})
			if err := app.AppendRow(t.table, t.source, t.medium, t.campaign, t.click, t.ref, ch); err != nil {
				app.Close()
				return err
			}
		}
		return app.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("duckdb: fill channel map: %w", err)
	}

	// Update every table by a join on the touch, in one transaction.
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	changed := map[string]int64{}
	for _, cs := range channelSources {
		q := fmt.Sprintf(`UPDATE %[1]s AS x SET channel = m.channel FROM %[2]s AS m
			WHERE m.tbl = '%[1]s' AND (%[3]s)
			AND %[4]s = m.utm_source AND %[5]s = m.utm_medium AND %[6]s = m.utm_campaign
			AND %[7]s = m.click_id_type AND %[8]s = m.ref
			AND x.channel IS DISTINCT FROM m.channel`,
			cs.table, quoteIdent(stage), cs.filter, cs.source, cs.medium, cs.campaign, cs.click, cs.ref)
		res, err := tx.ExecContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("duckdb: update channels of %s: %w", cs.table, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		changed[cs.table] = n
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("duckdb: commit channels: %w", err)
	}
	return changed, nil
}
