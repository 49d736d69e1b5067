package query_test

import (
	"context"
	"time"

	"github.com/bowtie-analytics/bowtie/query"
)

func stageReq(stages []string, from, to time.Time) query.StageFunnelRequest {
	return query.StageFunnelRequest{Stages: stages, From: from, To: to, By: "channel"}
}

func runStage(f *demoFixture, req query.StageFunnelRequest) (*query.StageFunnel, error) {
	return query.RunStageFunnel(context.Background(), f.store.DB(), query.DuckDB{}, f.biz, req)
}
