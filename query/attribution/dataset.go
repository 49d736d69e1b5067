package attribution

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"

	"github.com/bowtie-analytics/bowtie"
	model "github.com/bowtie-analytics/bowtie/model/attribution"
	"github.com/bowtie-analytics/bowtie/query"
)

// readDataset reads the aggregated paths imported under s.req.Dataset
// (table paths: dataset, path, conversions, value, currency, nulls).
// Values are converted to the business currency at the rate of the
// period's last date (an imported path has no date of its own). A path is
// its channels joined by ">" (spaces around each name are trimmed); ""
// is a path with no touch. Touches carry no time and no milestone.
func readDataset(ctx context.Context, db *sql.DB, d query.Dialect, biz *bowtie.Business, s *settings) (*builtPaths, error) {
	var exists int
	if err := db.QueryRowContext(ctx, "-- attribution.readDataset (table)\nSELECT count(*) FROM information_schema.tables WHERE table_name = 'paths'").Scan(&exists); err != nil {
		return nil, fmt.Errorf("attribution: paths: %w", err)
	}
	if exists == 0 {
		return nil, bowtie.Errorf(bowtie.EINVALID, "dataset %q: the store has no imported paths (table paths is missing): import a path file first", s.req.Dataset)
	}
	var ps params
	rep := ps.p(biz.Currency)
	conv := query.ConvertSQL("p.value", "p.currency", rep)
	q := "-- attribution.readDataset\nWITH " + query.FXCTE(rep) + "\nSELECT p.path, p.conversions, p.nulls, CAST(round(" + conv + " * 10000) AS BIGINT), " +
		"p.value IS NOT NULL AND p.value <> 0 AND " + conv + " IS NULL, p.currency\nFROM paths p LEFT JOIN (SELECT cur, arg_max(rate, date) AS rate FROM fx WHERE date <= CAST(" + ps.p(s.to) + " AS DATE) GROUP BY cur) fx ON fx.cur = p.currency" +
		" WHERE p.dataset = " + ps.p(s.req.Dataset) + " ORDER BY p.path"
	rows, err := db.QueryContext(ctx, q, ps.args...)
	if err != nil {
		return nil, fmt.Errorf("attribution: paths: %w", err)
	}
	defer rows.Close()
	out := &builtPaths{}
	for rows.Next() {
		var path string
		var conv, nulls sql.NullFloat64
		var v sql.NullInt64
		var missing bool
		var cur sql.NullString
		if err := rows.Scan(&path, &conv, &nulls, &v, &missing, &cur); err != nil {
			return nil, fmt.Errorf("attribution: paths: %w", err)
		}
		where := fmt.Sprintf("dataset %q, path %q", s.req.Dataset, path)
		if missing {
			return nil, bowtie.Errorf(bowtie.EINVALID, "%s: no exchange rate %s→%s on or before %s: import rates with `bowtie import fx`",
				where, cur.String, biz.Currency, s.to.Format("2006-01-02"))
		}
		p := model.Path{Conversions: conv.Float64, Nulls: nulls.Float64, Value: float64(v.Int64) / 1e4}
		for _, f := range []struct {
			name string
			v    float64
		}{{"conversions", p.Conversions}, {"nulls", p.Nulls}} {
			if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
				return nil, bowtie.Errorf(bowtie.EINVALID, "%s: %s = %v must be a finite number ≥ 0", where, f.name, f.v)
			}
		}
		if strings.TrimSpace(path) != "" {
			for i, ch := range strings.Split(path, ">") {
				ch = strings.TrimSpace(ch)
				if ch == "" {
					return nil, bowtie.Errorf(bowtie.EINVALID, "%s: touch %d has no channel name (channels are joined by \" > \")", where, i+1)
				}
				p.Touches = append(p.Touches, model.Touch{Channel: ch})
			}
		}
		if !s.req.KeepRepeats {
			p.Touches = collapseNames(p.Touches)
		}
		if s.req.ExcludeDirect {
			var kept []model.Touch
			for _, t := range p.Touches {
				if t.Channel != model.DirectChannel {
					kept = append(kept, t)
				}
			}
			if len(kept) > 0 && len(kept) < len(p.Touches) {
				out.droppedDirect += len(p.Touches) - len(kept)
				p.Touches = collapseNames(kept)
			}
		}
		if len(p.Touches) == 0 && p.Conversions > 0 {
			out.direct += int(p.Conversions)
		}
		if v.Valid {
			out.valueE4 += v.Int64
		}
		out.paths = append(out.paths, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("attribution: paths: %w", err)
	}
	if len(out.paths) == 0 {
		return nil, datasetMissing(ctx, db, s.req.Dataset)
	}
	return out, nil
}

// collapseNames merges runs of touches of the same channel.
func collapseNames(ts []model.Touch) []model.Touch {
	out := ts[:0:0]
	for i, t := range ts {
		if i > 0 && t.Channel == ts[i-1].Channel {
			continue
		}
		out = append(out, t)
	}
	return out
}

// datasetMissing is the error for a dataset with no path, naming the
// datasets the store has.
func datasetMissing(ctx context.Context, db *sql.DB, name string) error {
	rows, err := db.QueryContext(ctx, "-- attribution.datasetMissing\nSELECT DISTINCT dataset FROM paths ORDER BY 1")
	if err != nil {
		return fmt.Errorf("attribution: paths: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		names = append(names, s)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return bowtie.Errorf(bowtie.EINVALID, "dataset %q: no imported path has this dataset name%s", name, closest("datasets", name, names))
}
