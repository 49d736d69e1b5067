package query

import (
	"context"
	"database/sql"

	"github.com/bowtie-analytics/bowtie"
)

// RevenueMovementsOnly runs the movements query alone (no overlap check,
// daily customers or trials), for the benchmark.
func RevenueMovementsOnly(ctx context.Context, db *sql.DB, biz *bowtie.Business, opts RevenueOptions) ([]RevenuePeriod, error) {
	g, err := newRevenueGrid(opts.Grain, biz.Location(), opts.From, opts.To, 0)
	if err != nil {
		return nil, err
	}
	return revenueRows(ctx, db, biz, g, opts.By)
}

// SetRevenueSnapshotsOnly makes RevenueQuery use the snapshot query for
// every breakdown (true) or the change-based one where it can (false).
func SetRevenueSnapshotsOnly(on bool) { revenueSnapshotsOnly = on }

// SetRevenueSQLOnly makes the totals use the SQL change-based query (true)
// instead of the Go walk (false).
func SetRevenueSQLOnly(on bool) { revenueSQLOnly = on }
