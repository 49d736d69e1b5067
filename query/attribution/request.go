package attribution

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
	model "github.com/bowtie-analytics/bowtie/model/attribution"
	"github.com/bowtie-analytics/bowtie/query"
)

// ModelNames are the model names a request may give, in display order
// (model/attribution.AllModels).
var ModelNames = func() []string {
	out := make([]string, len(model.AllModels))
	for i, m := range model.AllModels {
		out[i] = string(m)
	}
	return out
}()

// Conversion kinds.
const (
	kindStage   = "stage"
	kindEvent   = "event"
	kindDeal    = "deal"
	kindPayment = "payment"
)

// conversion is a parsed Request.Conversion.
type conversion struct {
	kind, name string
}

func (c conversion) String() string { return c.kind + ":" + c.name }

// parseConversion parses "stage:<name>", "event:<name>", "deal:won" or
// "payment:first".
func parseConversion(s string) (conversion, error) {
	kind, name, ok := strings.Cut(strings.TrimSpace(s), ":")
	kind = strings.ToLower(strings.TrimSpace(kind))
	name = strings.TrimSpace(name)
	bad := func(why string) error {
		return bowtie.Errorf(bowtie.EINVALID, "conversion: %q %s (use stage:<name>, event:<name>, deal:won or payment:first)", s, why)
	}
	if !ok || name == "" {
		return conversion{}, bad("is not kind:name")
	}
	if err := query.CheckText("conversion", name); err != nil {
		return conversion{}, err
	}
	switch kind {
	case kindStage, kindEvent:
	case kindDeal:
		if name != "won" {
			return conversion{}, bad("is not a deal conversion")
		}
	case kindPayment:
		if name != "first" {
			return conversion{}, bad("is not a payment conversion")
		}
	default:
		return conversion{}, bad("has an unknown kind " + strconv.Quote(kind))
	}
	return conversion{kind: kind, name: name}, nil
}

// ParseDays parses a duration as a number of days: "30d", "12w", "36h"
// or a Go duration ("720h"). what names the setting in errors.
func ParseDays(what, s string) (float64, error) {
	s = strings.TrimSpace(s)
	bad := func() (float64, error) {
		return 0, bowtie.Errorf(bowtie.EINVALID, "%s: %q is not a duration like 30d, 12w or 36h", what, s)
	}
	if s == "" {
		return bad()
	}
	unit := 1.0
	num := s
	switch {
	case strings.HasSuffix(s, "d"):
		num = s[:len(s)-1]
	case strings.HasSuffix(s, "w"):
		num, unit = s[:len(s)-1], 7
	default:
		d, err := time.ParseDuration(s)
		if err != nil {
			return bad()
		}
		return d.Hours() / 24, nil
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return bad()
	}
	return v * unit, nil
}

// settings is a validated request with its defaults filled in.
type settings struct {
	from, to     time.Time // local dates (civil, UTC midnight)
	start, end   time.Time // UTC instants bounding [from, to+1day)
	conv         conversion
	level, by    string
	models       []string
	lookbackDays float64
	lookback     int64 // seconds
	halfLifeDays float64
	dealWindow   string
	markovOrder  int
	topPaths     int
	req          Request
}

// resolve validates req against biz and fills in the defaults.
func resolve(biz *bowtie.Business, req Request) (*settings, error) {
	s := &settings{req: req}
	s.from, s.to = civil(req.From), civil(req.To)
	if s.from.IsZero() || s.to.IsZero() {
		return nil, bowtie.Errorf(bowtie.EINVALID, "from and to are required")
	}
	if s.to.Before(s.from) {
		return nil, bowtie.Errorf(bowtie.EINVALID, "from %s is after to %s", s.from.Format(time.DateOnly), s.to.Format(time.DateOnly))
	}
	loc := biz.Location()
	s.start = time.Date(s.from.Year(), s.from.Month(), s.from.Day(), 0, 0, 0, 0, loc).UTC()
	s.end = time.Date(s.to.Year(), s.to.Month(), s.to.Day()+1, 0, 0, 0, 0, loc).UTC()

	s.level = strings.ToLower(strings.TrimSpace(req.Level))
	if s.level == "" {
		s.level = biz.CustomerEntity
	}
	if !slices.Contains(Levels, s.level) {
		return nil, bowtie.Errorf(bowtie.EINVALID, "level: %q is not person or account", req.Level)
	}
	s.by = strings.ToLower(strings.TrimSpace(req.By))
	if s.by == "" {
		s.by = "channel"
	}
	if !slices.Contains(Breakdowns, s.by) {
		return nil, bowtie.Errorf(bowtie.EINVALID, "by: %q is not channel or campaign", req.By)
	}
	cs := req.Conversion
	if strings.TrimSpace(cs) == "" {
		cs = "payment:first"
		if biz.CustomerEntity == "account" {
			cs = "deal:won"
		}
	}
	if req.Dataset == "" {
		c, err := parseConversion(cs)
		if err != nil {
			return nil, err
		}
		if c.kind == kindPayment && s.level != biz.CustomerEntity {
			return nil, bowtie.Errorf(bowtie.EINVALID,
				"conversion payment:first: payments belong to customers, who are %ss in this business (customer_entity); use --level %s or another conversion",
				biz.CustomerEntity, biz.CustomerEntity)
		}
		s.conv = c
	} else if err := query.CheckText("dataset", req.Dataset); err != nil {
		return nil, err
	}

	models, err := parseModels(req.Models)
	if err != nil {
		return nil, err
	}
	s.models = models

	if req.Lookback == "" {
		s.lookbackDays = 30
		if biz.Preset == "b2b" {
			s.lookbackDays = 365
		}
	} else {
		d, err := ParseDays("lookback", req.Lookback)
		if err != nil {
			return nil, err
		}
		if d <= 0 {
			return nil, bowtie.Errorf(bowtie.EINVALID, "lookback must be positive (got %q)", req.Lookback)
		}
		s.lookbackDays = d
	}
	s.lookback = int64(math.Round(s.lookbackDays * 86400))
	if s.lookback <= 0 {
		return nil, bowtie.Errorf(bowtie.EINVALID, "lookback must be positive (got %q)", req.Lookback)
	}
	s.halfLifeDays = 7
	if req.HalfLife != "" {
		d, err := ParseDays("half_life", req.HalfLife)
		if err != nil {
			return nil, err
		}
		if d <= 0 {
			return nil, bowtie.Errorf(bowtie.EINVALID, "half_life must be positive (got %q)", req.HalfLife)
		}
		s.halfLifeDays = d
	}
	switch req.DealWindow {
	case "", "created":
		s.dealWindow = "created"
	case "closed":
		s.dealWindow = "closed"
	default:
		return nil, bowtie.Errorf(bowtie.EINVALID, "deal_window: %q is not created or closed", req.DealWindow)
	}
	s.markovOrder = req.MarkovOrder
	if s.markovOrder == 0 {
		s.markovOrder = 1
	}
	if s.markovOrder < 1 || s.markovOrder > 3 {
		return nil, bowtie.Errorf(bowtie.EINVALID, "markov_order: %d is not 1, 2 or 3", req.MarkovOrder)
	}
	c := req.Custom
	for _, w := range []float64{c.First, c.Middle, c.Last} {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, bowtie.Errorf(bowtie.EINVALID, "custom weights: %v, %v, %v must be finite and not negative", c.First, c.Middle, c.Last)
		}
	}
	if req.ShapleyMaxExact < 0 || req.ShapleySamples < 0 {
		return nil, bowtie.Errorf(bowtie.EINVALID, "shapley: max_exact and samples must not be negative")
	}
	s.topPaths = req.TopPaths
	if s.topPaths <= 0 {
		s.topPaths = 20
	}
	for i, n := range req.TouchEvents {
		if err := query.CheckText(fmt.Sprintf("touch_events[%d]", i), n); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// parseModels checks model names; empty or "all" gives every model.
func parseModels(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		for _, m := range strings.Split(n, ",") {
			m = strings.ToLower(strings.TrimSpace(m))
			if m == "" {
				continue
			}
			if m == "all" {
				for _, a := range ModelNames {
					if !slices.Contains(out, a) {
						out = append(out, a)
					}
				}
				continue
			}
			if !slices.Contains(ModelNames, m) {
				return nil, bowtie.Errorf(bowtie.EINVALID, "model: unknown model %q (use %s or all)", m, strings.Join(ModelNames, ", "))
			}
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	if len(out) == 0 {
		return parseModels([]string{"all"})
	}
	return out, nil
}

// civil returns t's calendar date as midnight UTC.
func civil(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
