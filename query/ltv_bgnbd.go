package query

import (
	"context"
	"database/sql"
	"io"

	"github.com/bowtie-analytics/bowtie"
)

// BGNBDRow is the BG/NBD + Gamma-Gamma CLV of one group.
type BGNBDRow struct {
	Group string   `json:"group"`
	CLV   *float64 `json:"clv"`
}

// BGNBDLTV is the result of RunBGNBDLTV.
type BGNBDLTV struct {
	Rows  []BGNBDRow `json:"rows"`
	Total BGNBDRow   `json:"total"`
}

func (*BGNBDLTV) WriteTable(io.Writer) error { return nil }
func (*BGNBDLTV) WriteCSV(io.Writer) error   { return nil }

// RunBGNBDLTV is not wired yet.
func RunBGNBDLTV(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req LTVRequest) (*BGNBDLTV, error) {
	return nil, bowtie.Errorf(bowtie.EINVALID, "model: bgnbd is not available yet")
}
