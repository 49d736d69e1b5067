package query

import (
	"context"
	"database/sql"
	"io"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// LTVModels are the lifetime-value methods of RunLTV.
var LTVModels = []string{"historical", "formula", "sbg", "bgnbd"}

// LTVResult is what RunLTV returns: one of *HistoricalLTV, *FormulaLTV,
// *SBGLTV or *BGNBDLTV, JSON-encodable, with a table and a CSV form.
type LTVResult interface {
	WriteTable(io.Writer) error
	WriteCSV(io.Writer) error
}

// RunLTV runs the lifetime-value method req.Model. Errors: EINVALID for an
// unknown model or a bad request, and those of the method.
func RunLTV(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req LTVRequest) (LTVResult, error) {
	switch req.Model {
	case "historical", "":
		return RunHistoricalLTV(ctx, db, d, biz, req)
	case "formula":
		return RunFormulaLTV(ctx, db, d, biz, req)
	case "sbg":
		return RunSBGLTV(ctx, db, d, biz, req)
	case "bgnbd":
		return RunBGNBDLTV(ctx, db, d, biz, req)
	}
	return nil, bowtie.Errorf(bowtie.EINVALID, "model: %q is not historical, formula, sbg or bgnbd", req.Model)
}

// ltvByGroup returns the LTV of method model per group of by, with the
// whole population under "Total".
func ltvByGroup(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, model, by string, now time.Time) (map[string]*float64, error) {
	out := map[string]*float64{}
	req := LTVRequest{Model: model, By: by, Now: now}
	switch model {
	case "formula":
		res, err := RunFormulaLTV(ctx, db, d, biz, req)
		if err != nil {
			return nil, err
		}
		for _, r := range res.Rows {
			out[r.Group] = r.LTV
		}
		out["Total"] = res.Total.LTV
	case "sbg":
		res, err := RunSBGLTV(ctx, db, d, biz, req)
		if err != nil {
			return nil, err
		}
		for _, r := range res.Rows {
			out[r.Group] = r.LTV
		}
		out["Total"] = res.Pooled.LTV
	case "bgnbd":
		res, err := RunBGNBDLTV(ctx, db, d, biz, req)
		if err != nil {
			return nil, err
		}
		for _, r := range res.Rows {
			out[r.Group] = r.CLV
		}
		out["Total"] = res.Total.CLV
	}
	return out, nil
}
