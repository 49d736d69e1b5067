package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// Checks that span the imported rows and the rows already stored, run
// inside the transaction that moves the imported rows, before it commits:
// a failed check rolls the whole import back.

// overlapLimit caps the overlaps one error lists.
const overlapLimit = 5

// checkMoved runs the cross-row checks of table t after the staged rows
// were moved into it within tx.
func checkMoved(ctx context.Context, tx *sql.Tx, t bowtie.Table, stage string) error {
	if t.Name == "subscriptions" {
		return checkSubscriptionOverlaps(ctx, tx, stage)
	}
	return nil
}

// checkSubscriptionOverlaps refuses an import after which two segments of
// one subscription share an instant (docs/import.md, "Subscriptions"): the
// importer checks a file's segments against each other; this checks them
// against the segments already stored, which the importer does not read.
// Segments sorted by start overlap somewhere exactly when some segment
// ends after (or never ends before) the next one starts.
func checkSubscriptionOverlaps(ctx context.Context, tx *sql.Tx, stage string) error {
	q := `WITH ids AS (SELECT DISTINCT subscription_id FROM ` + quoteIdent(stage) + `),
seg AS (
  SELECT s.subscription_id, s.valid_from, s.valid_to,
         EXISTS (SELECT 1 FROM ` + quoteIdent(stage) + ` n WHERE n.subscription_id = s.subscription_id AND n.valid_from = s.valid_from) AS imported
  FROM subscriptions s WHERE s.subscription_id IN (SELECT subscription_id FROM ids)),
ord AS (
  SELECT *, lead(valid_from) OVER w AS next_from, lead(valid_to) OVER w AS next_to, lead(imported) OVER w AS next_imported
  FROM seg WINDOW w AS (PARTITION BY subscription_id ORDER BY valid_from))
SELECT subscription_id, valid_from, valid_to, imported, next_from, next_to, next_imported
FROM ord WHERE next_from IS NOT NULL AND (valid_to IS NULL OR valid_to > next_from)
ORDER BY subscription_id, valid_from LIMIT ` + fmt.Sprint(overlapLimit+1)
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("duckdb: check subscription overlaps: %w", err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var id string
		var from, nextFrom time.Time
		var to, nextTo sql.NullTime
		var imp, nextImp bool
		if err := rows.Scan(&id, &from, &to, &imp, &nextFrom, &nextTo, &nextImp); err != nil {
			return fmt.Errorf("duckdb: check subscription overlaps: %w", err)
		}
		if len(msgs) == overlapLimit {
			msgs = append(msgs, "…")
			break
		}
		msgs = append(msgs, fmt.Sprintf("subscription %s: segment %s %s overlaps segment %s %s",
			id, segText(from, to), origin(imp), segText(nextFrom, nextTo), origin(nextImp)))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("duckdb: check subscription overlaps: %w", err)
	}
	if len(msgs) == 0 {
		return nil
	}
	return bowtie.Errorf(bowtie.EINVALID,
		"subscriptions: the import would leave overlapping segments (a subscription is in one state at a time; end the earlier segment with valid_to, or re-import it with the same valid_from to replace it): %s",
		strings.Join(msgs, "; "))
}

func segText(from time.Time, to sql.NullTime) string {
	end := "open"
	if to.Valid {
		end = to.Time.UTC().Format(time.RFC3339)
	}
	return "[" + from.UTC().Format(time.RFC3339) + ", " + end + ")"
}

func origin(imported bool) string {
	if imported {
		return "(this import)"
	}
	return "(stored)"
}
