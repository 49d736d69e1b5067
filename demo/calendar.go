package demo

import (
	"math"
	"time"

	"github.com/bowtie-analytics/bowtie"
	_ "time/tzdata" // the demo's time zones must not depend on the host
)

const day = 86400 // seconds

// calendar is the day grid of the generated range in the business time
// zone. Days are indexed from 0; day i starts at dayStart[i].
type calendar struct {
	loc        *time.Location
	start, end int64 // unix seconds, [start, end)
	n          int   // number of days
	dayStart   []int64
	dateUnix   []int64     // UTC midnight of each business date
	dates      []time.Time // the same, as DATE values
	wd         []time.Weekday
	frac       []float64 // position of the day in the range, 0..1
}

func newCalendar(loc *time.Location, start, end time.Time) *calendar {
	c := &calendar{loc: loc, start: start.Unix(), end: end.Unix()}
	ls := start.In(loc)
	y, m, d := ls.Date()
	for i := 0; ; i++ {
		mid := time.Date(y, m, d+i, 0, 0, 0, 0, loc)
		c.dayStart = append(c.dayStart, mid.Unix())
		if !mid.Before(end) {
			break
		}
		date := time.Date(y, m, d+i, 0, 0, 0, 0, time.UTC)
		c.dateUnix = append(c.dateUnix, date.Unix())
		c.dates = append(c.dates, date)
		c.wd = append(c.wd, date.Weekday())
	}
	c.n = len(c.dates)
	c.frac = make([]float64, c.n)
	for i := range c.frac {
		c.frac[i] = float64(i) / float64(max(c.n-1, 1))
	}
	return c
}

// dayOf returns the index of the day holding ts, clamped to the range.
func (c *calendar) dayOf(ts int64) int {
	i := int((ts - c.dayStart[0]) / day)
	i = min(max(i, 0), c.n-1)
	for i > 0 && c.dayStart[i] > ts {
		i--
	}
	for i < c.n-1 && c.dayStart[i+1] <= ts {
		i++
	}
	return i
}

// in reports whether ts is inside the range.
func (c *calendar) in(ts int64) bool { return ts >= c.start && ts < c.end }

func (c *calendar) weekend(d int) bool { return c.wd[d] == time.Saturday || c.wd[d] == time.Sunday }

// zone is a time zone people live in, with its UTC offset on each day.
type zone struct {
	name string
	off  []int32 // seconds east of UTC at local noon of each business date
}

func (c *calendar) newZone(name string) *zone {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // the names are constants and tzdata is embedded
	}
	z := &zone{name: name, off: make([]int32, c.n)}
	for i, d := range c.dates {
		_, off := time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, loc).Zone()
		z.off[i] = int32(off)
	}
	return z
}

// at returns the instant of local time sec (seconds after local midnight) on
// business date d in zone z.
func (z *zone) at(c *calendar, d int, sec int) int64 {
	return c.dateUnix[d] + int64(sec) - int64(z.off[d])
}

// next returns the first instant at or after ts whose local time of day in z
// is sec.
func (z *zone) next(c *calendar, ts int64, sec int) int64 {
	off := int64(z.off[c.dayOf(ts)])
	local := ((ts+off)%day + day) % day
	delta := ((int64(sec)-local)%day + day) % day
	return ts + delta
}

// utc returns ts as a UTC time value.
func utc(ts int64) time.Time { return time.Unix(ts, 0).UTC() }

// utcMs returns ts plus ms milliseconds as a UTC time value.
func utcMs(ts int64, ms int64) time.Time { return time.Unix(ts, ms*1e6).UTC() }

// source is a place first touches come from: a utm_source/utm_medium pair,
// or a referrer without campaign parameters. Its campaigns carry the
// utm_campaign values (a single unnamed campaign when it has none).
type source struct {
	idx                    int
	name, medium, referrer string
	click                  string  // click id type on landing, "" for none
	share                  float64 // share of first touches
	weekend                float64 // weight of Saturdays and Sundays
	gated                  bool    // B2B: the first visit identifies (a form, a badge scan)
	landing                []any   // landing page URLs
	camps                  []*campaign
	vSource, vMedium, vRef any
	vClick                 any
	kind                   int // business-specific tag
	paid                   bool
	installMul, convMul    float64 // B2C: platform-reported over-counting
	defaultCur             string
}

// campaign is one utm_campaign of a source, with its flight (a weight per
// day, 0 when it does not run) and how its spend is computed.
type campaign struct {
	idx       int
	src       *source
	name      string
	channel   string
	vName     any
	vChannel  any
	creatives []any // utm_content values (a single nil for none)
	crNames   []string
	terms     []any // utm_term values (nil for none)
	shape     []float64
	aud       uint8 // audience mask (B2B)
	currency  string
	vCur      any
	spend     spendModel
	// tally counts landing sessions per creative and day; tally2 counts
	// conversions per day (installs, signups) for platform-reported figures
	// and incentives.
	tally  []int32
	tally2 []int32
	tally3 []int32
}

// spendModel says how a campaign's spend rows are derived from the visits it
// brought (so that cost per visitor stays realistic at every scale).
type spendModel struct {
	kind     int     // spendNone, spendClicks, ...
	cpc      float64 // cost per click (clicks model) or per visitor
	ctr      float64 // click-through rate, for impressions
	cpm      float64 // display: cost per thousand impressions
	visit    float64 // landing sessions per click
	perUnit  float64 // fixed models: cost per visitor over the flight
	costType string
	adGroup  string
}

const (
	spendNone      = iota
	spendClicks    // a row per day and creative: clicks, impressions, cost per click
	spendCPM       // display: cost per thousand impressions
	spendFixed     // trade shows: the booth's cost spread over the show days
	spendPost      // influencers: a fee on the post day
	spendVisitor   // cost per registered visitor (webinar promotion, syndication)
	spendMonthly   // distributor co-op funds on the first of each month
	spendIncentive // a credit per converted visitor (tally3)
)

// rates are the planted conversion probabilities of a channel.
type rates struct {
	p [4]float64 // B2B: visitor→lead, lead→MQL, MQL→SQL, opportunity→won; B2C: visitor→signup, signup→trial, trial→paid
	// B2C retention: early drop-off probability and Weibull scale (days).
	early, scale float64
}

// plan is the campaign plan of a business: sources, campaigns and the draw
// tables derived from their intensities.
type plan struct {
	cal     *calendar
	sources []*source
	camps   []*campaign
	// intensity is the expected share of first touches per day and campaign.
	intensity [][]float64 // [campaign][day]
}

func (p *plan) addSource(s *source) *source {
	s.idx = len(p.sources)
	s.vSource = nilIfEmpty(s.name)
	s.vMedium = nilIfEmpty(s.medium)
	s.vRef = nilIfEmpty(s.referrer)
	s.vClick = nilIfEmpty(s.click)
	if s.weekend == 0 {
		s.weekend = 1
	}
	p.sources = append(p.sources, s)
	return s
}

// addCampaign adds a campaign to s with the given per-day shape.
func (p *plan) addCampaign(s *source, name string, shape []float64, creatives []string, sm spendModel) *campaign {
	c := &campaign{idx: len(p.camps), src: s, name: name, vName: nilIfEmpty(name), shape: shape, spend: sm, aud: 0xff}
	if len(creatives) == 0 {
		creatives = []string{""}
	}
	c.crNames = creatives
	for _, cr := range creatives {
		c.creatives = append(c.creatives, nilIfEmpty(cr))
	}
	c.currency = s.defaultCur
	s.camps = append(s.camps, c)
	p.camps = append(p.camps, c)
	return c
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// always returns a shape that runs every day.
func (p *plan) always() []float64 {
	s := make([]float64, p.cal.n)
	for i := range s {
		s[i] = 1
	}
	return s
}

// flight returns a shape running on the days of [from, to) (dates in the
// business calendar), with weight w.
func (p *plan) flight(from, to time.Time, w float64) []float64 {
	s := make([]float64, p.cal.n)
	a, b := p.dayIndex(from), p.dayIndex(to)
	for i := max(a, 0); i < min(b, p.cal.n); i++ {
		s[i] = w
	}
	return s
}

// dayIndex returns the index of a calendar date (may be out of range).
func (p *plan) dayIndex(t time.Time) int {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix()
	return int(math.Floor(float64(d-p.cal.dateUnix[0]) / day))
}

// finish classifies every campaign with the business rules, allocates the
// tallies and computes the intensities: a source's share spread over its
// campaigns' days, weighted by base (trend and seasonality) and weekends.
func (p *plan) finish(g *gen, base func(d int) float64) {
	n := p.cal.n
	p.intensity = make([][]float64, len(p.camps))
	for _, s := range p.sources {
		var total float64
		for _, c := range s.camps {
			for d := 0; d < n; d++ {
				total += p.weight(s, c, d, base)
			}
		}
		for _, c := range s.camps {
			c.channel = g.biz.Channel(touchOf(c))
			c.vChannel = c.channel
			c.vCur = c.currency
			c.tally = make([]int32, len(c.creatives)*n)
			c.tally2 = make([]int32, len(c.creatives)*n)
			c.tally3 = make([]int32, n)
			in := make([]float64, n)
			if total > 0 && s.share > 0 {
				for d := 0; d < n; d++ {
					in[d] = s.share * p.weight(s, c, d, base) / total
				}
			}
			p.intensity[c.idx] = in
		}
	}
}

func (p *plan) weight(s *source, c *campaign, d int, base func(int) float64) float64 {
	w := base(d) * c.shape[d]
	if p.cal.weekend(d) {
		w *= s.weekend
	}
	return w
}

// touchOf returns the touch a landing through c carries.
func touchOf(c *campaign) bowtie.Touch {
	return bowtie.Touch{Source: c.src.name, Medium: c.src.medium, Campaign: c.name, ClickIDType: c.src.click, Referrer: c.src.referrer}
}

// jointTable draws (day, campaign) pairs by intensity.
type jointTable struct {
	cum  []float64
	day  []int32
	camp []int32
}

// joint builds the table over the campaigns accepted by keep.
func (p *plan) joint(keep func(c *campaign) bool) *jointTable {
	t := &jointTable{}
	s := 0.0
	for d := 0; d < p.cal.n; d++ {
		for _, c := range p.camps {
			w := p.intensity[c.idx][d]
			if w <= 0 || !keep(c) {
				continue
			}
			s += w
			t.cum = append(t.cum, s)
			t.day = append(t.day, int32(d))
			t.camp = append(t.camp, int32(c.idx))
		}
	}
	return t
}

func (t *jointTable) draw(r *rnd) (d int, c int) {
	i := r.pick(t.cum)
	return int(t.day[i]), int(t.camp[i])
}

// dayTable draws a campaign given the day, for one audience.
type dayTable struct {
	off  []int32
	cum  []float64
	camp []int32
}

func (p *plan) perDay(keep func(c *campaign) bool) *dayTable {
	t := &dayTable{off: make([]int32, p.cal.n+1)}
	for d := 0; d < p.cal.n; d++ {
		t.off[d] = int32(len(t.cum))
		s := 0.0
		for _, c := range p.camps {
			w := p.intensity[c.idx][d]
			if w <= 0 || !keep(c) {
				continue
			}
			s += w
			t.cum = append(t.cum, s)
			t.camp = append(t.camp, int32(c.idx))
		}
	}
	t.off[p.cal.n] = int32(len(t.cum))
	return t
}

// draw returns a campaign for day d, or -1 when none runs.
func (t *dayTable) draw(r *rnd, d int) int {
	a, b := t.off[d], t.off[d+1]
	if a == b {
		return -1
	}
	return int(t.camp[int(a)+r.pick(t.cum[a:b])])
}

// dayCDF returns cumulative weights over days of all first-touch intensity.
func (p *plan) dayCDF() []float64 {
	cum := make([]float64, p.cal.n)
	s := 0.0
	for d := 0; d < p.cal.n; d++ {
		for _, c := range p.camps {
			s += p.intensity[c.idx][d]
		}
		cum[d] = s
	}
	return cum
}

// returnCampaign picks a running campaign of s on day d by shape, or nil.
func (s *source) returnCampaign(r *rnd, d int) *campaign {
	if len(s.camps) == 1 {
		if s.camps[0].shape[d] > 0 {
			return s.camps[0]
		}
		return nil
	}
	total := 0.0
	for _, c := range s.camps {
		total += c.shape[d]
	}
	if total <= 0 {
		return nil
	}
	u := r.Float64() * total
	for _, c := range s.camps {
		u -= c.shape[d]
		if u < 0 && c.shape[d] > 0 {
			return c
		}
	}
	for i := len(s.camps) - 1; i >= 0; i-- {
		if s.camps[i].shape[d] > 0 {
			return s.camps[i]
		}
	}
	return nil
}

// count records a landing session through creative cr of c on day d;
// count2 a conversion (B2B lead, B2C install) and count3 a credited
// conversion (B2C referral signup).
func (c *campaign) count(cr, d int)  { c.tally[cr*len(c.shape)+d]++ }
func (c *campaign) count2(cr, d int) { c.tally2[cr*len(c.shape)+d]++ }
func (c *campaign) count3(d int)     { c.tally3[d]++ }

// quarter names a quarter like 2025q3.
func quarter(t time.Time) string {
	return itoa(t.Year()) + "q" + itoa((int(t.Month())-1)/3+1)
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	neg := i < 0
	if neg {
		i = -i
	}
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			break
		}
	}
	if neg {
		n--
		b[n] = '-'
	}
	return string(b[n:])
}

func pad2(i int) string {
	if i < 10 {
		return "0" + itoa(i)
	}
	return itoa(i)
}

// ymd formats a date as 2006-01-02 and ym as 2006-01.
func ymd(t time.Time) string {
	return itoa(t.Year()) + "-" + pad2(int(t.Month())) + "-" + pad2(t.Day())
}
func ym(t time.Time) string { return itoa(t.Year()) + "-" + pad2(int(t.Month())) }
