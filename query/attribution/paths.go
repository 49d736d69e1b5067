package attribution

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/internal/rawscan"
	model "github.com/bowtie-analytics/bowtie/model/attribution"
	"github.com/bowtie-analytics/bowtie/query"
)

// Path building (docs/metrics.md, "Attribution — paths").
//
// DuckDB selects three row sets and rawscan hands them to Go without
// per-value conversion: the conversions (unit, conversion time, window
// end, value, opportunity time), the milestones of each unit (first lead
// and opportunity), and the touches (unit, who, time, channel,
// campaign). Go numbers the units, groups the touches by unit (counting
// sort), orders each unit's touches by time and cuts them into paths.

// phaseTimer, when set (by benchmarks), is told how long each phase of
// path building took.
var phaseTimer func(phase string, d time.Duration)

func phase(name string, start time.Time) time.Time {
	now := time.Now()
	if phaseTimer != nil {
		phaseTimer(name, now.Sub(start))
	}
	return now
}

// builtPaths is the outcome of path building.
type builtPaths struct {
	paths []model.Path
	// valueE4 is the total value of the converting paths in 1e-4 units
	// of the reporting currency (an exact sum).
	valueE4 int64
	// direct counts conversions with no touch; unknownUnit those that no
	// person or account could be found for (also direct).
	direct, unknownUnit int
	// droppedDirect counts Direct touches ExcludeDirect dropped.
	droppedDirect int
}

type convRow struct {
	unit      int32 // -1: no unit
	conv, win int64 // Unix seconds
	valueE4   int64
	opp       int64 // 0: none known for the conversion
	inPeriod  bool
}

type touchRow struct {
	unit          int32
	ts            int64
	ch, camp, who int32
}

// dict numbers strings.
type dict struct {
	ids   map[string]int32
	names []string
}

func newDict() *dict { return &dict{ids: map[string]int32{}} }

// id returns b's number, adding it (copied) on first sight.
func (d *dict) id(b []byte) int32 {
	if i, ok := d.ids[string(b)]; ok {
		return i
	}
	s := string(b)
	i := int32(len(d.names))
	d.ids[s] = i
	d.names = append(d.names, s)
	return i
}

func micros(v int64) int64 {
	if v >= 0 {
		return v / 1e6
	}
	return -((-v + 999999) / 1e6)
}

// buildPaths builds the converting and non-converting paths of the
// request from the store.
func buildPaths(ctx context.Context, db *sql.DB, d query.Dialect, biz *bowtie.Business, s *settings) (*builtPaths, error) {
	var ps params
	src, err := convSource(ctx, db, biz, s, &ps)
	if err != nil {
		return nil, err
	}
	rep := ps.p(biz.Currency)
	pEnd := ps.p(s.end)
	conv := query.ConvertSQL("c.amount", "c.currency", rep)
	qc := "-- attribution.buildPaths (conversions)\nWITH " + query.FXCTE(rep) +
		",\nsrc (unit, conv_ts, win_ts, amount, currency, opp_ts) AS (" + src + ")\n" +
		"SELECT c.unit, c.conv_ts, c.win_ts, CAST(round(" + conv + " * 10000) AS BIGINT) AS v, c.opp_ts, " +
		"CAST(c.amount IS NOT NULL AND " + conv + " IS NULL AS BIGINT) AS missing\n" +
		"FROM src c " + d.FXJoin("c.currency", "CAST(c.conv_ts AS DATE)") + "\nWHERE c.conv_ts < " + pEnd
	t0 := time.Now()
	units := newDict()
	var convs []convRow
	var missing int64
	startS := s.start.Unix()
	err = rawscan.ScanParallel(ctx, db, qc, ps.args, 1, func(slots int) error {
		convs = make([]convRow, 0, slots)
		units.ids = make(map[string]int32, slots)
		return nil
	}, func(_ int, c *rawscan.Chunk, _ int) error {
		u, err := c.Strings(0)
		if err != nil {
			return err
		}
		ct, _, err := c.Int64(1)
		if err != nil {
			return err
		}
		wt, wv, err := c.Int64(2)
		if err != nil {
			return err
		}
		val, vv, err := c.Int64(3)
		if err != nil {
			return err
		}
		ot, ov, err := c.Int64(4)
		if err != nil {
			return err
		}
		miss, _, err := c.Int64(5)
		if err != nil {
			return err
		}
		for r := 0; r < c.Len(); r++ {
			row := convRow{unit: -1, conv: micros(ct[r])}
			row.win = row.conv
			if wv.Valid(r) {
				row.win = micros(wt[r])
			}
			if u.Valid(r) {
				row.unit = units.id(u.Bytes(r))
			}
			if vv.Valid(r) {
				row.valueE4 = val[r]
			}
			if ov.Valid(r) {
				row.opp = micros(ot[r])
			}
			row.inPeriod = row.conv >= startS
			missing += miss[r]
			convs = append(convs, row)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("attribution: conversions: %w", err)
	}
	if missing > 0 {
		return nil, query.MissingFX(ctx, db, biz, s.from, s.to)
	}
	// Touches are read from the earliest window start any path can have.
	lo := startS
	for _, c := range convs {
		if c.inPeriod && c.win < lo {
			lo = c.win
		}
	}
	lo -= s.lookback

	t0 = phase("conversions", t0)
	lead, opp, err := milestones(ctx, db, biz, s, units)
	if err != nil {
		return nil, err
	}
	t0 = phase("milestones", t0)
	touches, chans, camps, whos, err := readTouches(ctx, db, s, units, time.Unix(lo, 0).UTC())
	if err != nil {
		return nil, err
	}
	t0 = phase("touches", t0)
	bp := assemble(s, units, convs, touches, chans, camps, whos, lead, opp)
	phase("assemble", t0)
	return bp, nil
}

// milestones reads each unit's first lead-stage entry and first
// opportunity (stage entry or deal creation), Unix seconds, 0 for none.
func milestones(ctx context.Context, db *sql.DB, biz *bowtie.Business, s *settings, units *dict) (lead, opp map[int32]int64, err error) {
	lead, opp = map[int32]int64{}, map[int32]int64{}
	var leadSet, oppSet []string
	if biz.ReportStages.Lead != "" {
		leadSet = query.StagesFrom(biz.Stages, biz.ReportStages.Lead)
	}
	oppSet = query.StagesFrom(biz.Stages, "opportunity")
	var ps params
	pl, po := ps.list(leadSet), ps.list(oppSet)
	var parts []string
	if s.level == "person" {
		parts = append(parts,
			"SELECT 'p' || entity_id AS unit, CASE WHEN stage IN "+pl+" THEN ts END AS l, CASE WHEN stage IN "+po+" THEN ts END AS o FROM stage_changes WHERE entity_type = 'person'",
			"SELECT 'p' || person_id, NULL, created_at FROM deals")
	} else {
		parts = append(parts,
			"SELECT 'c' || pe.account_id AS unit, CASE WHEN sc.stage IN "+pl+" THEN sc.ts END AS l, CASE WHEN sc.stage IN "+po+" THEN sc.ts END AS o FROM stage_changes sc JOIN people pe ON pe.person_id = sc.entity_id WHERE sc.entity_type = 'person'",
			"SELECT 'c' || entity_id, CASE WHEN stage IN "+pl+" THEN ts END, CASE WHEN stage IN "+po+" THEN ts END FROM stage_changes WHERE entity_type = 'account'",
			"SELECT 'c' || dl.account_id, NULL, CASE WHEN sc.stage IN "+po+" THEN sc.ts END FROM stage_changes sc JOIN deals dl ON dl.deal_id = sc.entity_id WHERE sc.entity_type = 'deal'",
			"SELECT 'c' || account_id, NULL, created_at FROM deals")
	}
	q := "-- attribution.milestones\nSELECT unit, min(l), min(o) FROM (" + strings.Join(parts, " UNION ALL ") +
		") WHERE unit IS NOT NULL GROUP BY unit HAVING min(l) IS NOT NULL OR min(o) IS NOT NULL"
	err = rawscan.Scan(ctx, db, q, ps.args, func(c *rawscan.Chunk) error {
		u, err := c.Strings(0)
		if err != nil {
			return err
		}
		l, lv, err := c.Int64(1)
		if err != nil {
			return err
		}
		o, ov, err := c.Int64(2)
		if err != nil {
			return err
		}
		for r := 0; r < c.Len(); r++ {
			i, ok := units.ids[string(u.Bytes(r))]
			if !ok { // a unit with no conversion: its null path has no milestone use
				continue
			}
			if lv.Valid(r) {
				lead[i] = micros(l[r])
			}
			if ov.Valid(r) {
				opp[i] = micros(o[r])
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("attribution: milestones: %w", err)
	}
	return lead, opp, nil
}

// readTouches reads the touches in [lo, end).
func readTouches(ctx context.Context, db *sql.DB, s *settings, units *dict, lo time.Time) ([]touchRow, *dict, *dict, *dict, error) {
	var ps params
	who := "NULL::VARCHAR"
	if s.level == "account" {
		who = "coalesce(" + resolvedPerson + ", e.anonymous_id)"
	}
	q := "-- attribution.readTouches\nSELECT " + eventUnit(s.level) + " AS unit, " + who + " AS who, e.ts, e.channel, e.utm_campaign FROM " +
		eventFrom(s.level) + " WHERE e.channel IS NOT NULL AND e.ts >= " + ps.p(lo) + " AND e.ts < " + ps.p(s.end)
	if len(s.req.TouchEvents) > 0 {
		q += " AND e.name IN " + ps.list(s.req.TouchEvents)
	}
	q += " AND " + eventUnit(s.level) + " IS NOT NULL"
	chans, camps, whos := newDict(), newDict(), newDict()
	camps.id(nil) // campaign 0 is none
	var out []touchRow
	err := rawscan.ScanParallel(ctx, db, q, ps.args, 1, func(slots int) error {
		out = make([]touchRow, 0, slots)
		if len(units.ids) < slots {
			grown := make(map[string]int32, slots)
			for k, v := range units.ids {
				grown[k] = v
			}
			units.ids = grown
		}
		return nil
	}, func(_ int, c *rawscan.Chunk, _ int) error {
		u, err := c.Strings(0)
		if err != nil {
			return err
		}
		w, err := c.Strings(1)
		if err != nil {
			return err
		}
		ts, _, err := c.Int64(2)
		if err != nil {
			return err
		}
		ch, err := c.Strings(3)
		if err != nil {
			return err
		}
		cp, err := c.Strings(4)
		if err != nil {
			return err
		}
		for r := 0; r < c.Len(); r++ {
			t := touchRow{unit: units.id(u.Bytes(r)), ts: micros(ts[r]), ch: chans.id(ch.Bytes(r)), who: -1}
			if cp.Valid(r) {
				t.camp = camps.id(cp.Bytes(r))
			}
			if s.level == "account" && w.Valid(r) {
				t.who = whos.id(w.Bytes(r))
			}
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("attribution: touches: %w", err)
	}
	// Number channels, campaigns and people in name order, so that touches
	// at the same instant are ordered by name whatever order DuckDB's
	// threads returned them in.
	rc, rp, rw := chans.sortNames(), camps.sortNames(), whos.sortNames()
	for i := range out {
		t := &out[i]
		t.ch, t.camp = rc[t.ch], rp[t.camp]
		if t.who >= 0 {
			t.who = rw[t.who]
		}
	}
	return out, chans, camps, whos, nil
}

// sortNames renumbers d in name order and returns old → new numbers.
func (d *dict) sortNames() []int32 {
	order := make([]int32, len(d.names))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(d.names[a], d.names[b]) })
	remap := make([]int32, len(order))
	names := make([]string, len(order))
	for n, o := range order {
		remap[o] = int32(n)
		names[n] = d.names[o]
		d.ids[d.names[o]] = int32(n)
	}
	d.names = names
	return remap
}

// assemble cuts each unit's touches into paths.
func assemble(s *settings, units *dict, convs []convRow, touches []touchRow, chans, camps, whos *dict, lead, opp map[int32]int64) *builtPaths {
	n := len(units.names)
	// Units in name order: the paths come out in the same order on every
	// run, so the models' floating-point sums do too.
	ru := units.sortNames()
	for i := range convs {
		if convs[i].unit >= 0 {
			convs[i].unit = ru[convs[i].unit]
		}
	}
	for i := range touches {
		touches[i].unit = ru[touches[i].unit]
	}
	lead, opp = remapKeys(lead, ru), remapKeys(opp, ru)
	// Counting sort of the touches and the conversions by unit.
	tStart := make([]int32, n+1)
	for _, t := range touches {
		tStart[t.unit+1]++
	}
	for i := 1; i <= n; i++ {
		tStart[i] += tStart[i-1]
	}
	byUnit := make([]touchRow, len(touches))
	fill := slices.Clone(tStart[:n])
	for _, t := range touches {
		byUnit[fill[t.unit]] = t
		fill[t.unit]++
	}
	touches = nil
	slices.SortFunc(convs, func(a, b convRow) int {
		if a.unit != b.unit {
			return int(a.unit - b.unit)
		}
		if a.win != b.win {
			return cmp64(a.win, b.win)
		}
		if a.conv != b.conv {
			return cmp64(a.conv, b.conv)
		}
		if a.valueE4 != b.valueE4 {
			return cmp64(a.valueE4, b.valueE4)
		}
		return cmp64(a.opp, b.opp)
	})
	out := &builtPaths{paths: make([]model.Path, 0, len(convs)+n)}
	lookback := s.lookback
	startS, endS := s.start.Unix(), s.end.Unix()
	names := pathNames{chans: chans.names, camps: camps.names, whos: whos.names}
	ci := 0
	// Conversions nobody could be found for come first (unit -1).
	for ci < len(convs) && convs[ci].unit < 0 {
		c := convs[ci]
		ci++
		if c.inPeriod {
			out.paths = append(out.paths, model.Path{ConvAt: c.win, Conversions: 1, Value: float64(c.valueE4) / 1e4})
			out.valueE4 += c.valueE4
			out.direct++
			out.unknownUnit++
		}
	}
	for u := int32(0); u < int32(n); u++ {
		ts := byUnit[tStart[u]:tStart[u+1]]
		slices.SortFunc(ts, func(a, b touchRow) int {
			if a.ts != b.ts {
				return cmp64(a.ts, b.ts)
			}
			if a.ch != b.ch {
				return int(a.ch - b.ch)
			}
			if a.camp != b.camp {
				return int(a.camp - b.camp)
			}
			return int(a.who - b.who)
		})
		c0 := ci
		for ci < len(convs) && convs[ci].unit == u {
			ci++
		}
		cs := convs[c0:ci]
		prev := int64(-1 << 62)
		converted := false
		for _, c := range cs {
			lo := max(c.win-lookback, prev)
			prev = c.win
			if !c.inPeriod {
				continue
			}
			converted = true
			p := model.Path{ConvAt: c.win, Conversions: 1, Value: float64(c.valueE4) / 1e4}
			out.valueE4 += c.valueE4
			om := c.opp
			if om == 0 {
				om = opp[u]
			}
			p.Touches = s.makeTouches(window(ts, lo, c.win), names, lead[u], om, c.win, &out.droppedDirect)
			if len(p.Touches) == 0 {
				out.direct++
			}
			out.paths = append(out.paths, p)
		}
		if converted || len(ts) == 0 {
			continue
		}
		// A unit that did not convert in the period: its touches after its
		// last conversion, within the lookback before the period's end,
		// form a null path when the last of them is in the period.
		w := window(ts, max(endS-lookback, prev), endS)
		if len(w) == 0 || w[len(w)-1].ts < startS {
			continue
		}
		p := model.Path{Nulls: 1}
		p.Touches = s.makeTouches(w, names, 0, 0, endS, &out.droppedDirect)
		out.paths = append(out.paths, p)
	}
	return out
}

func remapKeys(m map[int32]int64, remap []int32) map[int32]int64 {
	out := make(map[int32]int64, len(m))
	for k, v := range m {
		out[remap[k]] = v
	}
	return out
}

func cmp64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// window returns the touches (sorted by time) with lo <= ts < hi.
func window(ts []touchRow, lo, hi int64) []touchRow {
	i, _ := slices.BinarySearchFunc(ts, lo, func(t touchRow, v int64) int { return cmp64(t.ts, v) })
	j, _ := slices.BinarySearchFunc(ts, hi, func(t touchRow, v int64) int { return cmp64(t.ts, v) })
	return ts[i:j]
}

type pathNames struct{ chans, camps, whos []string }

// makeTouches turns a window of touch rows into a path's touches:
// Direct touches dropped when ExcludeDirect and another touch exists,
// runs of the same channel (and campaign with By campaign, and person at
// account level) collapsed into their first touch unless KeepRepeats,
// then the milestones flagged: LeadCreation on the last touch at or
// before the lead time, OpportunityCreation on the last at or before the
// opportunity time, when that time falls within [first touch, end].
func (s *settings) makeTouches(w []touchRow, nm pathNames, leadAt, oppAt, end int64, dropped *int) []model.Touch {
	if len(w) == 0 {
		return nil
	}
	direct := int32(-1)
	if s.req.ExcludeDirect {
		for i, c := range nm.chans {
			if c == model.DirectChannel {
				direct = int32(i)
			}
		}
	}
	keep := w
	if direct >= 0 {
		other := 0
		for _, t := range w {
			if t.ch != direct {
				other++
			}
		}
		if other > 0 && other < len(w) {
			keep = make([]touchRow, 0, other)
			for _, t := range w {
				if t.ch != direct {
					keep = append(keep, t)
				}
			}
			*dropped += len(w) - other
		}
	}
	out := make([]model.Touch, 0, len(keep))
	var last touchRow
	for i, t := range keep {
		if i > 0 && !s.req.KeepRepeats && t.ch == last.ch && (s.by != "campaign" || t.camp == last.camp) && t.who == last.who {
			continue
		}
		last = t
		tc := model.Touch{Channel: nm.chans[t.ch], Campaign: nm.camps[t.camp], At: t.ts}
		if t.who >= 0 {
			tc.Person = nm.whos[t.who]
		}
		out = append(out, tc)
	}
	flag := func(at int64, f uint8) {
		if at == 0 || at < out[0].At || at > end {
			return
		}
		k := len(out) - 1
		for k > 0 && out[k].At > at {
			k--
		}
		out[k].Milestone |= f
	}
	flag(leadAt, model.LeadCreation)
	flag(oppAt, model.OpportunityCreation)
	return out
}

// BuildPaths returns the paths Run would attribute for req: the
// converting paths (Conversions 1, Value the conversion's revenue) and
// the non-converting ones (Nulls 1), built from the store's events or
// read from the imported dataset. The order is by unit, then time.
func BuildPaths(ctx context.Context, db *sql.DB, d query.Dialect, biz *bowtie.Business, req Request) ([]model.Path, error) {
	s, err := resolve(biz, req)
	if err != nil {
		return nil, err
	}
	var bp *builtPaths
	if req.Dataset != "" {
		bp, err = readDataset(ctx, db, d, biz, s)
	} else {
		bp, err = buildPaths(ctx, db, d, biz, s)
	}
	if err != nil {
		return nil, err
	}
	return bp.paths, nil
}
