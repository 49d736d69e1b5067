package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"io"

	"github.com/bowtie-analytics/bowtie"
)

// ParquetRows streams the rows of a Parquet file with every value rendered
// as text by DuckDB (timestamps as "2006-01-02 15:04:05", with "+00" when
// the column has a zone; dates as "2006-01-02"; decimals with their scale;
// lists and structs in DuckDB's literal syntax). NULL is "".
type ParquetRows struct {
	rows  *sql.Rows
	cols  []string
	vals  []sql.NullString
	ptrs  []any
	total int64
}

// OpenParquet opens the Parquet file at path through DuckDB's read_parquet.
// The file is read by the store's engine, but nothing is written to the
// store. Errors: *bowtie.Error with EINVALID when the file is not Parquet or
// cannot be read.
func (s *Store) OpenParquet(ctx context.Context, path string) (*ParquetRows, error) {
	var total int64
	if err := s.db.QueryRowContext(ctx, "SELECT coalesce(sum(num_rows), 0)::BIGINT FROM parquet_file_metadata(?)", path).Scan(&total); err != nil {
		return nil, bowtie.Errorf(bowtie.EINVALID, "%s: cannot read it as Parquet: %v", path, err)
	}
	rows, err := s.db.QueryContext(ctx, "SELECT COLUMNS(*)::VARCHAR FROM read_parquet(?)", path)
	if err != nil {
		return nil, bowtie.Errorf(bowtie.EINVALID, "%s: cannot read it as Parquet: %v", path, err)
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return nil, fmt.Errorf("duckdb: parquet columns of %s: %w", path, err)
	}
	p := &ParquetRows{rows: rows, cols: cols, vals: make([]sql.NullString, len(cols)), ptrs: make([]any, len(cols)), total: total}
	for i := range p.vals {
		p.ptrs[i] = &p.vals[i]
	}
	return p, nil
}

// Columns returns the file's column names.
func (p *ParquetRows) Columns() []string { return p.cols }

// Total returns the number of rows the file's metadata announces.
func (p *ParquetRows) Total() int64 { return p.total }

// Next returns the next row's values, or io.EOF after the last row. The
// slice is reused by the following call.
func (p *ParquetRows) Next() ([]string, error) {
	if !p.rows.Next() {
		if err := p.rows.Err(); err != nil {
			return nil, fmt.Errorf("duckdb: read parquet: %w", err)
		}
		return nil, io.EOF
	}
	if err := p.rows.Scan(p.ptrs...); err != nil {
		return nil, fmt.Errorf("duckdb: read parquet: %w", err)
	}
	out := make([]string, len(p.vals))
	for i, v := range p.vals {
		out[i] = v.String // "" when NULL
	}
	return out, nil
}

// Close releases the query.
func (p *ParquetRows) Close() error { return p.rows.Close() }
