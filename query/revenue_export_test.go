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

// RevenueSQL returns the movements query and its arguments.
func RevenueSQL(biz *bowtie.Business, opts RevenueOptions) (string, []any, error) {
	g, err := newRevenueGrid(opts.Grain, biz.Location(), opts.From, opts.To, 0)
	if err != nil {
		return "", nil, err
	}
	return buildRevenueSQL(biz, g, opts.By)
}

// RevenuePart runs one of the queries of RevenueQuery.
func RevenuePart(ctx context.Context, db *sql.DB, biz *bowtie.Business, opts RevenueOptions, part string) error {
	g, err := newRevenueGrid(opts.Grain, biz.Location(), opts.From, opts.To, 0)
	if err != nil {
		return err
	}
	periods := make([]RevenuePeriod, g.n())
	switch part {
	case "overlaps":
		return checkOverlaps(ctx, db)
	case "movements":
		_, err = revenueRows(ctx, db, biz, g, "")
	case "daily":
		err = revenueDaily(ctx, db, biz, g, periods)
	case "trials":
		err = revenueTrials(ctx, db, biz, g, periods)
	}
	return err
}

// SetRevenueSnapshotsOnly makes RevenueQuery use the snapshot query for
// every breakdown (true) or the change-based one where it can (false).
func SetRevenueSnapshotsOnly(on bool) { revenueSnapshotsOnly = on }

// RevenueFastSQL returns the change-based movements query.
func RevenueFastSQL(biz *bowtie.Business, opts RevenueOptions) (string, []any, error) {
	g, err := newRevenueGrid(opts.Grain, biz.Location(), opts.From, opts.To, 0)
	if err != nil {
		return "", nil, err
	}
	return buildRevenueFastSQL(biz, g, opts.By)
}
