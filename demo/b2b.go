package demo

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// b2bEventsPerAccount is the average number of events one account unit
// yields over the default 18 months (measured; it sets the account count).
const b2bEventsPerAccount = 532.0

// B2B source kinds (what a first touch through them looks like).
const (
	kWeb = iota
	kShow
	kWebinar
	kWhitepaper
	kCalculator
	kPartner
	kReferral
)

// Audience bits of B2B campaigns: region and whether the account is on the
// target-account list.
const (
	audEU       uint8 = 1
	audEUTarget uint8 = 2
	audNA       uint8 = 4
	audNATarget uint8 = 8
	audEUAll          = audEU | audEUTarget
	audNAAll          = audNA | audNATarget
)

const site = "https://www.kessler-automation.example/"

// b2b generates Kessler Automation, a maker of machining centres, robot
// cells and packaging lines selling to manufacturers in Europe and North
// America. One unit is an account: its buying committee, their touches and
// anonymous look-alike visitors, stages, deals, spare-parts orders and
// surveys.
type b2b struct {
	*gen
	p         *plan
	fx        *fx
	nAcc      int
	countries []country
	cntCum    []float64
	t0Cum     []float64
	perDay    [4]*dayTable
	rates     map[string]*rates
	ret       []*source
	retCum    []float64
	direct    *source
	tools     []tool
	pages     []any
	props     struct{ whitepaper, calc, form, parts []any }
	sbuf      []byte
	names     struct{ gated [7]any }
}

var b2bRates = map[string]*rates{
	// visitor→lead, lead→MQL, MQL→SQL, opportunity→won
	"Paid Social":    {p: [4]float64{0.025, 0.32, 0.20, 0.22}},
	"Paid Search":    {p: [4]float64{0.035, 0.42, 0.30, 0.26}},
	"Events":         {p: [4]float64{0.22, 0.50, 0.34, 0.31}},
	"Webinars":       {p: [4]float64{0.30, 0.38, 0.24, 0.20}},
	"Content":        {p: [4]float64{0.16, 0.25, 0.14, 0.15}},
	"Organic Search": {p: [4]float64{0.014, 0.30, 0.27, 0.25}},
	"Display":        {p: [4]float64{0.007, 0.18, 0.10, 0.12}},
	"Partners":       {p: [4]float64{0.20, 0.58, 0.45, 0.38}},
	"Email":          {p: [4]float64{0.04, 0.28, 0.18, 0.18}},
	"Direct":         {p: [4]float64{0.018, 0.40, 0.30, 0.27}},
	"Referral":       {p: [4]float64{0.40, 0.65, 0.55, 0.46}},
	"Organic Social": {p: [4]float64{0.012, 0.22, 0.16, 0.16}},
}

func newB2B(g *gen) *b2b {
	b := &b2b{gen: g, rates: b2bRates}
	b.fx = newFX(g)
	b.countries = append([]country(nil), b2bCountries...)
	zones := map[string]*zone{}
	var w []float64
	for i := range b.countries {
		c := &b.countries[i]
		if zones[c.zone] == nil {
			zones[c.zone] = g.cal.newZone(c.zone)
		}
		c.z = zones[c.zone]
		w = append(w, c.weight)
	}
	b.cntCum = cumulative(w...)
	for _, p := range []string{"", "products/cnc-5x", "products/robot-cells", "products/packaging-lines", "products/assembly-lines",
		"service", "service/spare-parts", "case-studies/brandt-packaging", "case-studies/nordwerk-automotive", "knowledge/5-axis-machining",
		"knowledge/oee", "resources/whitepapers", "webinars", "events", "about", "contact", "tools/roi-calculator", "careers"} {
		b.pages = append(b.pages, site+p)
	}
	for _, wp := range whitepapers {
		b.props.whitepaper = append(b.props.whitepaper, `{"asset":"`+wp+`"}`)
	}
	for _, m := range []int{9, 11, 14, 17, 22, 28} {
		b.props.calc = append(b.props.calc, `{"payback_months":`+itoa(m)+`}`)
	}
	for _, f := range []string{"contact", "quote-request", "demo-request", "newsletter"} {
		b.props.form = append(b.props.form, `{"form":"`+f+`"}`)
	}
	for i := 1; i <= 12; i++ {
		b.props.parts = append(b.props.parts, `{"lines":`+itoa(i)+`}`)
	}
	b.names.gated = [7]any{"form_submitted", "tradeshow_badge_scan", "webinar_registered", "whitepaper_download", "roi_calculator_used", "partner_lead_received", "form_submitted"}
	b.buildPlan()
	b.nAcc = max(1, int(math.Round(float64(g.opts.Events)/b2bEventsPerAccount)))
	g.truth.Units = b.nAcc
	return b
}

func (b *b2b) passes() []pass {
	return []pass{
		{"fx", b.writeFX(b.fx)},
		{"accounts", b.accounts},
		{"people", b.people},
		{"identities", b.identities},
		{"stages", b.stages},
		{"deals", b.deals},
		{"orders", b.orders},
		{"surveys", b.surveys},
		{"events", b.events},
		{"spend", b.writeSpend(b.p, b.fx, b.tools)},
	}
}

// chT returns the truth of a channel with its planted rates.
func (b *b2b) chT(name string) *ChannelTruth {
	c := b.ch(name)
	if r := b.rates[name]; r != nil && c.VisitorToLead == 0 {
		c.VisitorToLead, c.LeadToMQL, c.MQLToSQL, c.SQLToWon = r.p[0], r.p[1], r.p[2], r.p[3]
	}
	return c
}

// buildPlan lays out the sources and campaign calendar over the range.
func (b *b2b) buildPlan() {
	cal := b.cal
	p := &plan{cal: cal}
	b.p = p
	start, end := b.opts.Start.In(cal.loc), b.opts.End.In(cal.loc)
	land := func(paths ...string) []any {
		var out []any
		for _, s := range paths {
			out = append(out, site+s)
		}
		return out
	}

	// LinkedIn: always-on ABM per quarter for the target accounts (EU in
	// EUR, North America in USD) and lead-generation flights.
	li := p.addSource(&source{name: "linkedin", medium: "paid_social", referrer: "https://www.linkedin.com/", click: "li_fat_id",
		share: 0.16, weekend: 0.15, paid: true, convMul: 1.3, defaultCur: "EUR",
		landing: land("lp/abm-case-studies", "lp/predictive-maintenance", "lp/robot-cells", "products/cnc-5x")})
	for q := quarterStart(start); q.Before(end); q = q.AddDate(0, 3, 0) {
		c := p.addCampaign(li, "li_abm_tier-a_"+quarter(q), p.flight(q, q.AddDate(0, 3, 0), 1.2),
			[]string{"carousel-case-study", "video-plant-tour", "document-tco"},
			spendModel{kind: spendClicks, cpc: 9.5, ctr: 0.0055, visit: 0.8, adGroup: "target-accounts"})
		c.aud = audEUTarget
		c = p.addCampaign(li, "li_abm_na_"+quarter(q), p.flight(q, q.AddDate(0, 3, 0), 0.5),
			[]string{"carousel-case-study", "video-plant-tour"},
			spendModel{kind: spendClicks, cpc: 12, ctr: 0.005, visit: 0.8, adGroup: "target-accounts-na"})
		c.aud, c.currency = audNATarget, "USD"
	}
	themes := []string{"predictive-maintenance", "energy-efficiency", "automation-retrofit", "service-contracts", "robot-cells"}
	for i, f := 0, start; f.Before(end); i, f = i+1, f.AddDate(0, 0, 63) {
		t := themes[i%len(themes)]
		c := p.addCampaign(li, "li_leadgen_"+t+"_"+ym(f), p.flight(f, f.AddDate(0, 0, 49), 1.4),
			[]string{"single-image", "lead-gen-form"},
			spendModel{kind: spendClicks, cpc: 8.2, ctr: 0.0048, visit: 0.8, adGroup: "engineers-" + t})
		c.aud = audEUAll
		if i%2 == 0 {
			g := f.AddDate(0, 0, 21)
			c = p.addCampaign(li, "li_na_leadgen_"+t+"_"+ym(g), p.flight(g, g.AddDate(0, 0, 42), 0.6),
				[]string{"single-image"}, spendModel{kind: spendClicks, cpc: 11, ctr: 0.0045, visit: 0.8, adGroup: "engineers-na"})
			c.aud, c.currency = audNAAll, "USD"
		}
	}

	// Google Ads search: always on, EU in EUR and a US campaign in USD.
	gg := p.addSource(&source{name: "google", medium: "cpc", referrer: "https://www.google.com/", click: "gclid",
		share: 0.13, weekend: 0.3, paid: true, convMul: 1.1, defaultCur: "EUR",
		landing: land("products/cnc-5x", "products/robot-cells", "products/packaging-lines", "")})
	for _, s := range []struct {
		name  string
		terms []string
		cpc   float64
		w     float64
		aud   uint8
		cur   string
	}{
		{"gads_search_brand", []string{"kessler automation", "kessler cnc", "kessler service"}, 1.2, 0.5, audEUAll, "EUR"},
		{"gads_search_cnc-machining-centres", []string{"5 axis machining centre", "cnc machining centre price", "horizontal machining centre"}, 4.1, 1, audEUAll, "EUR"},
		{"gads_search_industrial-robots", []string{"industrial robot cell", "robotic palletizer", "cobot welding cell"}, 3.8, 1, audEUAll, "EUR"},
		{"gads_search_packaging-lines", []string{"packaging line automation", "case packer machine", "flow wrapper"}, 3.2, 0.8, audEUAll, "EUR"},
		{"gads_us_search_industrial-robots", []string{"industrial robot cell cost", "robotic palletizing system"}, 5.5, 0.6, audNAAll, "USD"},
	} {
		c := p.addCampaign(gg, s.name, scaled(p.always(), s.w), nil,
			spendModel{kind: spendClicks, cpc: s.cpc, ctr: 0.045, visit: 0.85, adGroup: "exact-and-phrase"})
		for _, t := range s.terms {
			c.terms = append(c.terms, t)
		}
		c.aud, c.currency = s.aud, s.cur
	}

	// Trade shows: a source per show, a campaign per edition; the booth cost
	// is spread over the show days.
	type show struct {
		slug        string
		month       time.Month
		day, days   int
		every, odd  int
		na          bool
		cur         string
		size, perVi float64
	}
	for _, s := range []show{
		{"hannover-messe", time.April, 20, 5, 1, 0, false, "EUR", 3, 190},
		{"automatica", time.June, 23, 4, 1, 0, false, "EUR", 1.5, 170},
		{"emo-hannover", time.September, 22, 6, 2, 1, false, "EUR", 2, 200},
		{"fachpack", time.September, 23, 3, 1, 0, false, "EUR", 1.2, 160},
		{"sps-nuremberg", time.November, 11, 3, 1, 0, false, "EUR", 1.5, 170},
		{"ppma-show", time.September, 30, 3, 1, 0, false, "GBP", 0.8, 140},
		{"fabtech", time.September, 8, 3, 1, 0, true, "USD", 0.8, 210},
		{"imts", time.September, 12, 6, 2, 0, true, "USD", 1.2, 230},
	} {
		src := p.addSource(&source{name: s.slug, medium: "tradeshow", share: 0.10 * s.size / 12, weekend: 1, gated: true, kind: kShow, defaultCur: s.cur,
			landing: land("events/" + s.slug)})
		for y := start.Year(); y <= end.Year(); y++ {
			if s.every == 2 && y%2 != s.odd {
				continue
			}
			d0 := time.Date(y, s.month, s.day, 0, 0, 0, 0, cal.loc)
			shape := p.flight(d0, d0.AddDate(0, 0, s.days), 1)
			follow := p.flight(d0.AddDate(0, 0, s.days), d0.AddDate(0, 0, s.days+3), 0.3)
			if !add(shape, follow) {
				continue
			}
			c := p.addCampaign(src, s.slug+"-"+itoa(y), shape, nil,
				spendModel{kind: spendFixed, perUnit: s.perVi, costType: "events", adGroup: "booth"})
			c.aud = audEUAll
			if s.na {
				c.aud = audNAAll
			}
		}
	}

	// Webinars: one a month on the third Wednesday, promoted for three weeks.
	web := p.addSource(&source{name: "on24", medium: "webinar", share: 0.07, weekend: 0.2, gated: true, kind: kWebinar, defaultCur: "EUR",
		landing: land("webinars")})
	topics := []string{"predictive-maintenance", "robot-cell-roi", "oee-improvement", "retrofit-strategies", "energy-savings", "remote-service"}
	for i, m := 0, monthStart(start); m.Before(end.AddDate(0, 1, 0)); i, m = i+1, m.AddDate(0, 1, 0) {
		wd := thirdWednesday(m)
		shape := make([]float64, cal.n)
		nonzero := false
		for k := 0; k <= 20; k++ {
			d := p.dayIndex(wd) - 20 + k
			if d >= 0 && d < cal.n {
				shape[d] = 0.3 + 0.7*float64(k)/20
				nonzero = true
			}
		}
		if !nonzero {
			continue
		}
		p.addCampaign(web, "webinar_"+topics[i%len(topics)]+"_"+ym(wd), shape, nil,
			spendModel{kind: spendVisitor, perUnit: 18, adGroup: "promotion"})
	}
	b.tools = append(b.tools, tool{source: "on24", adGroup: "platform-licence", perMonth: 2400, currency: "EUR"})

	// Gated white papers through content syndication, and the ROI calculator.
	wp := p.addSource(&source{name: "netline", medium: "whitepaper", share: 0.05, weekend: 0.3, gated: true, kind: kWhitepaper, defaultCur: "USD",
		landing: land("resources/whitepapers")})
	for i, h := 0, halfStart(start); h.Before(end); i, h = i+1, h.AddDate(0, 6, 0) {
		for k := 0; k < 2; k++ {
			t := whitepapers[(2*i+k)%len(whitepapers)]
			p.addCampaign(wp, "wp_"+t, p.flight(h, h.AddDate(0, 6, 0), 1), nil,
				spendModel{kind: spendVisitor, perUnit: 11, adGroup: "syndication"})
		}
	}
	calc := p.addSource(&source{name: "website", medium: "calculator", share: 0.03, weekend: 0.3, gated: true, kind: kCalculator,
		landing: land("tools/roi-calculator")})
	p.addCampaign(calc, "roi-calculator", p.always(), nil, spendModel{})

	// Technical SEO: organic search without campaign parameters.
	seo := p.addSource(&source{referrer: "https://www.google.com/", share: 0.17, weekend: 0.3,
		landing: land("knowledge/5-axis-machining", "knowledge/oee", "knowledge/robot-cell-safety", "products/cnc-5x", "")})
	p.addCampaign(seo, "", p.always(), nil, spendModel{})
	bing := p.addSource(&source{referrer: "https://www.bing.com/", share: 0.02, weekend: 0.3,
		landing: land("knowledge/5-axis-machining", "")})
	p.addCampaign(bing, "", p.always(), nil, spendModel{})
	b.tools = append(b.tools, tool{source: "seo-agency", adGroup: "retainer", perMonth: 3500, currency: "EUR"})

	// Industry publications: quarterly display flights.
	for _, pub := range []struct {
		slug, medium, cur string
		share, cpm        float64
		aud               uint8
	}{
		{"modern-manufacturing", "display", "EUR", 0.025, 12, audEUAll},
		{"the-engineer", "display", "GBP", 0.01, 10, audEUAll},
		{"industryweek", "banner", "USD", 0.015, 14, audNAAll},
	} {
		src := p.addSource(&source{name: pub.slug, medium: pub.medium, share: pub.share, weekend: 0.4, paid: true, defaultCur: pub.cur,
			referrer: "https://www." + pub.slug + ".example/", landing: land("products/cnc-5x", "case-studies/brandt-packaging")})
		for q := quarterStart(start); q.Before(end); q = q.AddDate(0, 3, 0) {
			c := p.addCampaign(src, "pub_"+pub.slug+"_"+quarter(q), p.flight(q.AddDate(0, 0, 7), q.AddDate(0, 2, 21), 1),
				[]string{"leaderboard", "medium-rectangle"},
				spendModel{kind: spendCPM, cpm: pub.cpm, ctr: 0.004, visit: 0.85, adGroup: "run-of-site"})
			c.aud = pub.aud
		}
	}

	// Distributors and integrators: a yearly co-op programme each.
	for _, d := range []struct {
		slug, cur string
		share     float64
		aud       uint8
	}{
		{"dist-kraus-industrietechnik", "EUR", 0.025, audEUAll},
		{"dist-nordic-automation", "EUR", 0.012, audEUAll},
		{"dist-iberica-maquinaria", "EUR", 0.01, audEUAll},
		{"dist-midwest-machinery", "USD", 0.013, audNAAll},
	} {
		src := p.addSource(&source{name: d.slug, medium: "distributor", share: d.share, weekend: 0.1, gated: true, kind: kPartner, defaultCur: d.cur,
			landing: land("partners")})
		for y := start.Year(); y <= end.Year(); y++ {
			f := time.Date(y, 1, 1, 0, 0, 0, 0, cal.loc)
			shape := p.flight(f, f.AddDate(1, 0, 0), 1)
			if !add(shape, nil) {
				continue
			}
			c := p.addCampaign(src, "dist_"+strings.TrimPrefix(d.slug, "dist-")+"_"+itoa(y), shape, nil,
				spendModel{kind: spendMonthly, perUnit: 40, adGroup: "co-op"})
			c.aud = d.aud
		}
	}

	// E-mail newsletter on the second Tuesday of each month.
	nl := p.addSource(&source{name: "newsletter", medium: "email", share: 0.02, weekend: 0.3, landing: land("", "webinars", "case-studies/nordwerk-automotive")})
	for m := monthStart(start); m.Before(end); m = m.AddDate(0, 1, 0) {
		d0 := secondTuesday(m)
		shape := make([]float64, cal.n)
		nonzero := false
		for k, w := range []float64{1, 0.5, 0.25, 0.12, 0.06} {
			if d := p.dayIndex(d0) + k; d >= 0 && d < cal.n {
				shape[d] = w
				nonzero = true
			}
		}
		if nonzero {
			p.addCampaign(nl, "nl_"+ym(m), shape, nil, spendModel{})
		}
	}
	b.tools = append(b.tools, tool{source: "newsletter", adGroup: "email-platform", perMonth: 900, currency: "EUR"})

	// Direct, customer referrals and organic LinkedIn posts.
	b.direct = p.addSource(&source{share: 0.04, weekend: 0.3, landing: land("", "products/cnc-5x")})
	p.addCampaign(b.direct, "", p.always(), nil, spendModel{})
	ref := p.addSource(&source{name: "customer-referral", medium: "referral", share: 0.02, weekend: 0.2, gated: true, kind: kReferral,
		landing: land("contact")})
	p.addCampaign(ref, "customer-referral-programme", p.always(), nil, spendModel{})
	soc := p.addSource(&source{referrer: "https://www.linkedin.com/feed/", share: 0.03, weekend: 0.3, landing: land("case-studies/nordwerk-automotive", "")})
	p.addCampaign(soc, "", p.always(), nil, spendModel{})

	growth := func(d int) float64 {
		f := 1 + 0.45*cal.frac[d]
		switch cal.dates[d].Month() {
		case time.August:
			f *= 0.7
		case time.December:
			if cal.dates[d].Day() > 20 {
				f *= 0.35
			}
		}
		return f
	}
	p.finish(b.gen, growth)
	// Tools take the channel of the source they serve.
	chOf := func(s *source) string {
		return b.biz.Channel(bowtie.Touch{Source: s.name, Medium: s.medium, Referrer: s.referrer})
	}
	for i := range b.tools {
		switch b.tools[i].source {
		case "on24":
			b.tools[i].channel = chOf(web)
		case "seo-agency":
			b.tools[i].channel = chOf(seo)
		case "newsletter":
			b.tools[i].channel = chOf(nl)
		}
	}
	for i, keep := range []uint8{audEU, audEUTarget, audNA, audNATarget} {
		b.perDay[i] = p.perDay(func(c *campaign) bool { return c.aud&keep != 0 })
	}
	b.t0Cum = p.dayCDF()
	for _, c := range p.camps {
		if b.rates[c.channel] == nil {
			panic(fmt.Sprintf("demo: b2b: no planted rates for channel %q (campaign %q): the business rules changed", c.channel, c.name))
		}
	}
	// Return visits of known people.
	b.ret = []*source{b.direct, nl, seo, li, gg, soc, web, bing, calc}
	b.retCum = cumulative(34, 18, 18, 8, 8, 5, 4, 2, 3)
}

func scaled(s []float64, w float64) []float64 {
	for i := range s {
		s[i] *= w
	}
	return s
}

// add adds b into a and reports whether a has any weight.
func add(a, b []float64) bool {
	any := false
	for i := range a {
		if b != nil {
			a[i] += b[i]
		}
		any = any || a[i] > 0
	}
	return any
}

func quarterStart(t time.Time) time.Time {
	return time.Date(t.Year(), time.Month((int(t.Month())-1)/3*3+1), 1, 0, 0, 0, 0, t.Location())
}

func halfStart(t time.Time) time.Time {
	return time.Date(t.Year(), time.Month((int(t.Month())-1)/6*6+1), 1, 0, 0, 0, 0, t.Location())
}

func monthStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location())
}

func nthWeekday(m time.Time, wd time.Weekday, n int) time.Time {
	d := monthStart(m)
	for d.Weekday() != wd {
		d = d.AddDate(0, 0, 1)
	}
	return d.AddDate(0, 0, 7*(n-1))
}

func thirdWednesday(m time.Time) time.Time { return nthWeekday(m, time.Wednesday, 3) }
func secondTuesday(m time.Time) time.Time  { return nthWeekday(m, time.Tuesday, 2) }

// Account plans.

type member struct {
	present bool // first touch inside the range
	role    int
	title   int
	first   int // name indices
	last    int
	t       touch
	z       *zone
	firstAt int64 // first touch
	leadAt  int64 // identification (0: not in range)
	mqlAt   int64 // reached MQL (0: not in range)
	sqlAt   int64
	skipMQL bool // the MQL row is skipped (sales hand-raise)
	idLater bool // identified in a later session
	until   int64
	sibs    int
	mql     bool // drew MQL (the rates' denominators)
}

// Deal kinds.
const (
	dNew = iota
	dPilot
	dService
	dRenewal
	dUpgrade
)

var dealPipelines = [...]string{"new business", "pilot", "service", "renewal", "expansion"}
var dealLines = [...]string{"equipment", "equipment", "service", "service", "equipment"}

type b2bDeal struct {
	kind    int
	seq     int
	created int64
	closed  int64 // 0: open at End
	won     bool
	euros   int64
	lost    int
	product int
	frac    float64
	person  int
}

type acct struct {
	idx       int
	c         *country
	industry  int
	employees int
	tier      byte
	target    bool
	stem      int
	noun      int
	nm        int
	m         [8]member
	first     int // the identified member with the earliest first touch, -1
	exists    bool
	createdAt int64
	oppAt     int64
	oppBy     int
	main      int // index of the new-business deal in deals, -1
	wonAt     int64
	installAt int64
	deals     []b2bDeal
	sat       float64
}

func (a *acct) channel() string { return a.m[a.first].t.c.channel }

// bizTime returns a business-hours instant on day d in zone z, moving
// weekend days to Monday unless keep says otherwise; ok is false outside the
// range.
func (b *b2b) bizTime(r *rnd, z *zone, d int, keepWeekend float64) (int64, bool) {
	if d < 0 || d >= b.cal.n {
		return 0, false
	}
	if d = b.workday(r, d, keepWeekend); d >= b.cal.n {
		return 0, false
	}
	sec := 8*3600 + int((r.Float64()+r.Float64())/2*10*3600)
	ts := z.at(b.cal, d, sec)
	return ts, b.cal.in(ts)
}

// workday moves a weekend day d to one of the next Monday to Wednesday,
// unless keep says the touch happens at the weekend.
func (b *b2b) workday(r *rnd, d int, keep float64) int {
	if !b.cal.weekend(d) || r.chance(keep) {
		return d
	}
	shift := 1 + r.IntN(3)
	if b.cal.wd[d] == time.Saturday {
		shift++
	}
	return d + shift
}

// after returns a business-hours instant about delay seconds after ts.
func (b *b2b) after(r *rnd, z *zone, ts int64, delay float64) (int64, bool) {
	t := ts + int64(delay)
	if t >= b.cal.end {
		return 0, false
	}
	d := b.cal.dayOf(t)
	if t < b.cal.dayStart[d] {
		return 0, false
	}
	x, ok := b.bizTime(r, z, d, 0.05)
	if x <= ts {
		x = ts + 600
		ok = b.cal.in(x)
	}
	return x, ok
}

const (
	hour  = 3600
	days  = 86400.0
	month = 30.4375 * days
)

// plan derives account idx. It is a pure function of the seed and idx.
func (b *b2b) plan(a *acct, idx int, r *rnd) {
	r.seed(b.opts.Seed, stPlan, uint64(idx))
	deals := a.deals[:0]
	*a = acct{idx: idx, first: -1, main: -1, oppBy: -1, deals: deals}
	a.c = &b.countries[r.pick(b.cntCum)]
	a.industry = r.IntN(len(industries))
	a.stem = r.IntN(len(companyStems))
	a.noun = r.IntN(4)
	a.employees = int(min(max(r.lognormal(420, 1.25), 20), 60000))
	switch {
	case a.employees >= 2500:
		a.tier = 'A'
	case a.employees >= 500:
		a.tier = 'B'
	default:
		a.tier = 'C'
	}
	if r.chance(0.1) && a.tier > 'A' {
		a.tier-- // strategic fit beats size
	}
	a.target = r.chance(byTier(a.tier, 0.7, 0.35, 0.05))
	a.sat = min(max(7.6+1.5*r.NormFloat64(), 1), 10)
	engaged := !a.target || r.chance(0.6)
	if !engaged {
		a.exists = true
		a.createdAt = b.cal.start
		return
	}
	aud := 0
	if a.c.na {
		aud = 2
	}
	if a.target {
		aud++
	}
	t0 := r.pick(b.t0Cum)
	k := int(byTier(a.tier, 5, 4, 3)) + r.IntN(4)
	a.nm = k
	z := a.c.z
	for j := 0; j < k; j++ {
		m := &a.m[j]
		m.z = z
		off := 0
		if j > 0 {
			off = min(int(r.ExpFloat64()*35), 240)
		}
		if j == 0 {
			m.role = r.pick(firstRoleCum)
		} else {
			m.role = r.pick(roleCum)
		}
		m.title = r.IntN(len(roleTitles[m.role]))
		m.first, m.last = r.IntN(len(firstNames)), r.IntN(len(lastNames))
		d := t0 + off
		if d >= b.cal.n {
			continue
		}
		if d = b.workday(r, d, 0.1); d >= b.cal.n {
			continue
		}
		ci := b.perDay[aud].draw(r, d)
		if ci < 0 {
			continue
		}
		c := b.p.camps[ci]
		m.t = touch{c: c, cr: r.IntN(len(c.creatives)), tm: -1}
		if len(c.terms) > 0 {
			m.t.tm = r.IntN(len(c.terms))
		}
		sec := 8*3600 + int((r.Float64()+r.Float64())/2*10*3600)
		m.firstAt = z.at(b.cal, d, sec)
		if !b.cal.in(m.firstAt) {
			continue
		}
		for i := 0; i < j; i++ { // first touches are distinct instants
			if a.m[i].present && a.m[i].firstAt == m.firstAt {
				m.firstAt++
			}
		}
		m.present = true
		rt := b.rates[c.channel]
		m.sibs = r.geom(rt.p[0])
		// Identification: gated touches identify at once, others in the
		// same session or a later visit.
		ok := true
		switch {
		case c.src.gated || r.chance(0.45):
			m.leadAt = m.firstAt + int64(r.intBetween(90, 1500))
			ok = b.cal.in(m.leadAt)
		default:
			m.idLater = true
			m.leadAt, ok = b.bizTime(r, z, b.cal.dayOf(m.firstAt)+1+int(r.ExpFloat64()*9), 0.1)
			if ok && m.leadAt <= m.firstAt {
				m.leadAt = m.firstAt + 3600
			}
		}
		m.until = m.firstAt + int64(r.lognormal(80, 0.6)*days)
		m.mql = r.chance(rt.p[1])
		mqlDelay := min(max(r.lognormal(6, 0.9)*days, hour), 45*days)
		sql := r.chance(rt.p[2])
		sqlDelay := min(max(r.lognormal(10, 0.8)*days, days), 60*days)
		m.skipMQL = r.chance(0.1)
		if !ok {
			m.leadAt = 0
			continue
		}
		if m.mql {
			m.mqlAt = m.leadAt + int64(mqlDelay)
			if !b.cal.in(m.mqlAt) {
				m.mqlAt = 0
			} else if sql {
				if t, ok := b.after(r, z, m.mqlAt, sqlDelay); ok {
					m.sqlAt = t
				}
			}
		}
		if m.sqlAt == 0 {
			m.skipMQL = false
		}
	}
	// The account's acquisition is its earliest identified member's first
	// touch; its first SQL opens the opportunity.
	var minSQL int64
	for j := 0; j < a.nm; j++ {
		m := &a.m[j]
		if !m.present || m.leadAt == 0 {
			continue
		}
		if a.first < 0 || m.firstAt < a.m[a.first].firstAt {
			a.first = j
		}
		if a.createdAt == 0 || m.leadAt < a.createdAt {
			a.createdAt = m.leadAt
		}
		if m.sqlAt > 0 && (minSQL == 0 || m.sqlAt < minSQL) {
			minSQL, a.oppBy = m.sqlAt, j
		}
	}
	a.exists = a.target || a.first >= 0
	if a.first < 0 {
		a.createdAt = b.cal.start
		return
	}
	if minSQL == 0 {
		return
	}
	opp, ok := b.after(r, z, minSQL, r.between(1, 5)*days)
	if !ok {
		return
	}
	a.oppAt = opp
	rt := b.rates[a.channel()]
	seq := 0
	addDeal := func(d b2bDeal) *b2bDeal {
		seq++
		d.seq = seq
		a.deals = append(a.deals, d)
		return &a.deals[len(a.deals)-1]
	}
	// The new-business equipment deal.
	cycle := min(max(r.lognormal(150, 0.55), 30), 540) * days
	won := r.chance(rt.p[3])
	median := byTier(a.tier, 420_000, 240_000, 130_000)
	euros := int64(min(max(r.lognormal(median, 0.4), 80_000), 900_000)/500) * 500
	lost := r.pick(lostWeights)
	product := r.IntN(len(equipment))
	d := b2bDeal{kind: dNew, created: opp, won: won, euros: euros, lost: lost, product: product, person: a.oppBy}
	if t, ok := b.after(r, z, opp, cycle); ok {
		d.closed = t
	} else {
		d.frac = float64(b.cal.end-opp) / cycle
	}
	addDeal(d)
	a.main = 0
	// A paid pilot before the big decision, for a quarter of opportunities.
	if r.chance(0.25) {
		c1, c2 := r.between(7, 20)*days, r.between(30, 75)*days
		pw := r.chance(0.85)
		pe := int64(r.between(15_000, 60_000)/500) * 500
		if t, ok := b.after(r, z, opp, c1); ok {
			p := b2bDeal{kind: dPilot, created: t, won: pw, euros: pe, lost: 5, product: product, person: a.oppBy}
			if t2, ok := b.after(r, z, t, c2); ok {
				p.closed = t2
			} else {
				p.frac = 0.5
			}
			addDeal(p)
		}
	}
	m := a.deals[0]
	if m.closed > 0 && m.won {
		a.installAt = m.closed + int64(r.between(45, 90)*days)
		// A service contract after the sale, renewed every year.
		s1, s2 := r.between(20, 40)*days, r.between(10, 40)*days
		sw := r.chance(0.9)
		se := int64(float64(m.euros)*r.between(0.09, 0.13)/100) * 100
		if t, ok := b.after(r, z, m.closed, s1); ok {
			s := b2bDeal{kind: dService, created: t, won: sw, euros: se, lost: 0, person: pickRole(a, 3)}
			if t2, ok := b.after(r, z, t, s2); ok {
				s.closed = t2
			} else {
				s.frac = 0.6
			}
			addDeal(s)
			if s.closed > 0 && s.won {
				prev := se
				for y := 1; y <= 10; y++ {
					anniv := s.closed + int64(365*y)*day
					rw := r.chance(0.88)
					re := int64(float64(prev)*(1+r.between(0, 0.06))/100) * 100
					shift := r.between(-10, 5) * days
					created := anniv - 60*day
					if created >= b.cal.end {
						break
					}
					rd := b2bDeal{kind: dRenewal, created: created, won: rw, euros: re, lost: 1, person: pickRole(a, 1)}
					if t := anniv + int64(shift); b.cal.in(t) {
						rd.closed = t
					} else {
						rd.frac = 0.7
					}
					addDeal(rd)
					if rd.closed == 0 || !rw {
						break
					}
					prev = re
				}
			}
		}
		// Sometimes an upgrade a year or so later.
		if r.chance(0.3) {
			u1, u2 := r.between(150, 420)*days, r.between(30, 90)*days
			uw := r.chance(0.6)
			ue := int64(r.between(20_000, 150_000)/500) * 500
			if t, ok := b.after(r, z, m.closed, u1); ok {
				u := b2bDeal{kind: dUpgrade, created: t, won: uw, euros: ue, lost: r.pick(lostWeights), product: r.IntN(len(equipment)), person: pickRole(a, 0)}
				if t2, ok := b.after(r, z, t, u2); ok {
					u.closed = t2
				} else {
					u.frac = 0.4
				}
				addDeal(u)
			}
		}
	}
	for i := range a.deals {
		d := &a.deals[i]
		if d.won && d.closed > 0 && (a.wonAt == 0 || d.closed < a.wonAt) {
			a.wonAt = d.closed
		}
	}
	// The committee stays engaged through the sales cycle.
	endCycle := b.cal.end
	if m.closed > 0 {
		endCycle = m.closed + 30*day
	}
	for j := 0; j < a.nm; j++ {
		if mm := &a.m[j]; mm.present && mm.leadAt > 0 && mm.until < endCycle {
			mm.until = endCycle
		}
	}
}

var roleCum = cumulative(25, 25, 20, 15, 15)

// byTier returns the value for an account tier.
func byTier(tier byte, a, b, c float64) float64 {
	switch tier {
	case 'A':
		return a
	case 'B':
		return b
	}
	return c
}

var firstRoleCum = cumulative(45, 10, 10, 10, 25)

// pickRole returns an identified member with the role, else the first.
func pickRole(a *acct, role int) int {
	for j := 0; j < a.nm; j++ {
		if a.m[j].present && a.m[j].leadAt > 0 && a.m[j].role == role {
			return j
		}
	}
	return a.first
}

// Table passes.

type b2bPass struct {
	b   *b2b
	a   acct
	r   *rnd
	r2  *rnd
	buf []byte
}

func (b *b2b) each(s *sink, fn func(p *b2bPass, a *acct)) error {
	p := &b2bPass{b: b, r: newRnd()}
	for i := 0; i < b.nAcc; i++ {
		b.plan(&p.a, i, p.r)
		fn(p, &p.a)
		if s.stopped {
			return nil
		}
	}
	return nil
}

func (p *b2bPass) accountID(a *acct) string { return idOf(p.buf, "acct-", a.idx, -1) }
func (p *b2bPass) personID(a *acct, j int) string {
	return idOf(p.buf, "per-", a.idx, j)
}

func (b *b2b) accounts(s *sink) error {
	return b.each(s, func(p *b2bPass, a *acct) {
		if !a.exists {
			return
		}
		ind := industries[a.industry]
		stem, noun := companyStems[a.stem], companyNouns[ind][a.noun]
		row := s.row()
		row[0] = p.accountID(a)
		row[1] = stem + " " + noun + " " + a.c.suffix
		row[2] = slug(stem+" "+noun) + "." + a.c.tld
		row[3] = ind
		row[4] = int64(a.employees)
		row[5] = a.c.region
		row[6] = a.c.code
		row[7] = string(a.tier)
		row[8] = a.target
		row[9] = utc(a.createdAt)
		if a.first >= 0 {
			t := &a.m[a.first].t
			row[10] = t.c.vChannel
			row[11] = t.c.src.vSource
			row[12] = t.c.src.vMedium
			row[13] = t.c.vName
			b.chT(t.c.channel).Accounts++
		}
		row[14] = `{"plants":` + itoa(1+a.employees/1500) + `,"abm_list":` + boolStr(a.target) + `}`
	})
}

func boolStr(v bool) string {
	if v {
		return "true"
	}
	return "false"
}

// slug lower-cases s into a domain label.
func slug(s string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			sb.WriteRune(r)
		case r == 'ä':
			sb.WriteString("ae")
		case r == 'ö':
			sb.WriteString("oe")
		case r == 'ü':
			sb.WriteString("ue")
		case r == ' ' || r == '-':
			sb.WriteByte('-')
		}
	}
	return strings.ReplaceAll(sb.String(), "--", "-")
}

func (b *b2b) people(s *sink) error {
	return b.each(s, func(p *b2bPass, a *acct) {
		if a.first < 0 {
			return
		}
		domain := slug(companyStems[a.stem]+" "+companyNouns[industries[a.industry]][a.noun]) + "." + a.c.tld
		for j := 0; j < a.nm; j++ {
			m := &a.m[j]
			if !m.present || m.leadAt == 0 {
				continue
			}
			row := s.row()
			row[0] = p.personID(a, j)
			row[1] = hashEmail(firstNames[m.first] + "." + lastNames[m.last] + "@" + domain)
			row[2] = p.accountID(a)
			row[3] = roles[m.role]
			row[4] = "tier " + string(a.tier)
			row[5] = a.c.code
			row[6] = utc(m.leadAt)
			stage := "lead"
			switch {
			case a.wonAt > 0:
				stage = "won"
			case a.oppAt > 0:
				stage = "opportunity"
			case m.sqlAt > 0:
				stage = "sql"
			case m.mqlAt > 0:
				stage = "mql"
			}
			row[7] = stage
			row[8] = m.t.c.vChannel
			row[9] = m.t.c.src.vSource
			row[10] = m.t.c.src.vMedium
			row[11] = m.t.c.vName
			row[12] = `{"title":"` + roleTitles[m.role][m.title] + `"}`
			ch := b.chT(m.t.c.channel)
			ch.People++
			rt := b.rates[m.t.c.channel]
			ch.rateW[1] += rt.p[1]
			ch.rateW[4]++
			if m.mql {
				ch.rateW[2] += rt.p[2]
				ch.rateW[5]++
			}
		}
	})
}

func (b *b2b) identities(s *sink) error {
	return b.each(s, func(p *b2bPass, a *acct) {
		for j := 0; j < a.nm; j++ {
			m := &a.m[j]
			if !m.present || m.leadAt == 0 {
				continue
			}
			row := s.row()
			row[0] = "anonymous"
			row[1] = idOf(p.buf, "anon-", a.idx, j)
			row[2] = p.personID(a, j)
			row[3] = utc(m.leadAt)
			row[4] = "web"
			if m.t.c.src.kind == kShow && !m.idLater {
				row[4] = "tradeshow-import"
			}
		}
	})
}

var (
	eTypePerson any = "person"
	eTypeAcct   any = "account"
	eTypeDeal   any = "deal"
)

// dealStages are the pipeline stages of a deal between opportunity and
// won or lost.
var dealStages = [...]string{"qualification", "solution design", "proposal", "negotiation"}

// openStage is the stage an open deal is in, from how far through its
// expected cycle it is.
func openStage(frac float64) int {
	switch {
	case frac < 0.25:
		return 0
	case frac < 0.5:
		return 1
	case frac < 0.8:
		return 2
	}
	return 3
}

// mix64 scrambles h (splitmix64's finaliser).
func mix64(h uint64) uint64 {
	h ^= h >> 31
	h *= 0xBF58476D1CE4E5B9
	h ^= h >> 29
	h *= 0x94D049BB133111EB
	return h ^ h>>32
}

// normalFromHash turns the low 32 bits of h into a standard normal draw
// (Box–Muller on two 16-bit uniforms).
func normalFromHash(h uint64) float64 {
	u1 := (float64(h&0xFFFF) + 0.5) / 65536
	u2 := (float64(h>>16&0xFFFF) + 0.5) / 65536
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// salesTouches are the names of a followed-up MQL's two sales touches.
func salesTouches(h uint64) [2]string {
	names := [...]string{"sales_call", "sales_email", "sales_meeting"}
	return [2]string{names[h>>50%2], names[1+h>>52%2]}
}

// lostStage is the stage a lost deal was lost in (35 %, 30 %, 20 %, 15 %
// from qualification to negotiation), from a hash of the deal so that the
// generator's random streams are untouched.
func lostStage(acct, seq int) int {
	h := uint64(acct)*0x9E3779B97F4A7C15 ^ uint64(seq+1)*0xC2B2AE3D27D4EB4F
	h ^= h >> 31
	h *= 0xBF58476D1CE4E5B9
	h ^= h >> 29
	switch u := h % 100; {
	case u < 35:
		return 0
	case u < 65:
		return 1
	case u < 85:
		return 2
	}
	return 3
}

func (b *b2b) stages(s *sink) error {
	return b.each(s, func(p *b2bPass, a *acct) {
		stage := func(typ any, id string, name string, ts int64, src string) {
			row := s.row()
			row[0], row[1], row[2], row[3], row[4] = typ, id, name, utc(ts), src
		}
		// The contact whose SQL opened the account's opportunity carries the
		// opportunity and the win in their own lifecycle too, as CRMs record
		// a contact's lifecycle stage (HubSpot: opportunity, customer).
		opener := -1
		for j := 0; j < a.nm; j++ {
			m := &a.m[j]
			if m.present && m.leadAt != 0 && m.sqlAt > 0 && a.oppAt >= m.sqlAt && (opener < 0 || m.sqlAt < a.m[opener].sqlAt) {
				opener = j
			}
		}
		for j := 0; j < a.nm; j++ {
			m := &a.m[j]
			if !m.present || m.leadAt == 0 {
				continue
			}
			id := p.personID(a, j)
			ch := b.chT(m.t.c.channel)
			if j == opener && a.oppAt > 0 {
				stage(eTypePerson, id, "opportunity", a.oppAt, "crm")
				if a.wonAt > 0 {
					stage(eTypePerson, id, "won", a.wonAt, "crm")
				}
			}
			stage(eTypePerson, id, "lead", m.leadAt, "marketing-automation")
			ch.Leads++
			if m.mqlAt > 0 && !m.skipMQL {
				stage(eTypePerson, id, "mql", m.mqlAt, "marketing-automation")
				ch.MQLs++
			}
			if m.sqlAt > 0 {
				stage(eTypePerson, id, "sql", m.sqlAt, "crm")
				ch.SQLs++
			}
		}
		if a.oppAt == 0 {
			return
		}
		aid := p.accountID(a)
		ch := b.chT(a.channel())
		stage(eTypeAcct, aid, "opportunity", a.oppAt, "crm")
		ch.Opportunities++
		ch.rateW[3] += b.rates[a.channel()].p[3]
		if a.wonAt > 0 {
			stage(eTypeAcct, aid, "won", a.wonAt, "crm")
			ch.Customers++
		}
		for i := range a.deals {
			d := &a.deals[i]
			id := idOf(p.buf, "deal-", a.idx, d.seq)
			stage(eTypeDeal, id, "opportunity", d.created, "crm")
			// The pipeline stages the deal went through (those open deals
			// are in, in deals.stage): all four before a win, up to the one
			// a lost deal was lost in, up to the current one of an open
			// deal; spread evenly from creation to the close (or the end).
			last, end := openStage(d.frac), b.cal.end
			if d.closed > 0 {
				last, end = len(dealStages)-1, d.closed
				if !d.won {
					last = lostStage(a.idx, d.seq)
				}
			}
			for k := 0; k <= last; k++ {
				stage(eTypeDeal, id, dealStages[k], d.created+(end-d.created)*int64(k+1)/int64(last+2), "crm")
			}
			if d.closed > 0 {
				if d.won {
					stage(eTypeDeal, id, "won", d.closed, "crm")
				} else {
					stage(eTypeDeal, id, "lost", d.closed, "crm")
				}
			}
		}
	})
}

func (b *b2b) deals(s *sink) error {
	return b.each(s, func(p *b2bPass, a *acct) {
		if len(a.deals) == 0 {
			return
		}
		ch := b.chT(a.channel())
		ind := industries[a.industry]
		company := companyStems[a.stem] + " " + companyNouns[ind][a.noun]
		reps := salesReps[a.c.repGroup]
		owner := reps[a.idx%len(reps)]
		for i := range a.deals {
			d := &a.deals[i]
			row := s.row()
			row[0] = idOf(p.buf, "deal-", a.idx, d.seq)
			row[1] = p.accountID(a)
			if d.person >= 0 {
				row[2] = p.personID(a, d.person)
			}
			what := equipment[d.product]
			switch d.kind {
			case dPilot:
				what += " pilot"
			case dService:
				what = "service contract"
			case dRenewal:
				what = "service renewal " + itoa(utc(d.created).Year()+1)
			case dUpgrade:
				what += " upgrade"
			}
			row[3] = company + " – " + what
			row[4] = owner
			row[5] = dealPipelines[d.kind]
			switch {
			case d.closed > 0 && d.won:
				row[6], row[7] = "won", "won"
			case d.closed > 0:
				row[6], row[7] = "lost", "lost"
				row[13] = lostReasons[d.lost]
			default:
				row[7] = "open"
				row[6] = dealStages[openStage(d.frac)]
			}
			row[8] = utc(d.created)
			if d.closed > 0 {
				row[9] = utc(d.closed)
			}
			row[10] = float64(d.euros)
			row[11] = "EUR"
			row[12] = dealLines[d.kind]
			row[14] = `{"units":` + itoa(1+int(d.euros/400_000)) + `}`
			if d.closed > 0 && d.won {
				ch.revenueCents += d.euros * 100
			}
		}
		b.tallyB2BDeals(a)
	})
}

func (b *b2b) orders(s *sink) error {
	return b.each(s, func(p *b2bPass, a *acct) {
		if a.installAt == 0 || a.installAt >= b.cal.end {
			return
		}
		r := newRndOnce(p)
		r.seed(b.opts.Seed, stOrders, uint64(a.idx))
		ch := b.chT(a.channel())
		lambda := 1 + 3*min(float64(a.employees)/3000, 1) // orders per month
		t := a.installAt
		for n := 0; ; n++ {
			t += int64(r.ExpFloat64() * month / lambda)
			if t >= b.cal.end {
				break
			}
			ts, ok := b.after(r, a.c.z, t, 0)
			if !ok {
				break
			}
			t = ts
			cents := int64(min(max(r.lognormal(1500, 0.9), 120), 25_000) * 100)
			margin := int64(float64(cents) * r.between(0.42, 0.58))
			row := s.row()
			row[0] = idOf(p.buf, "ord-"+itoa(a.idx)+"-", n, -1)
			row[1] = p.accountID(a)
			row[2] = utc(ts)
			row[3] = float64(cents) / 100
			row[4] = float64(margin) / 100
			row[5] = "EUR"
			row[6] = "paid"
			row[7] = "parts"
			row[8] = b.props.parts[min(int(cents/150_000), len(b.props.parts)-1)]
			ch.revenueCents += cents
			b.tallyLine("parts", cents)
		}
	})
}

// newRndOnce returns the pass's secondary stream (allocated once).
func newRndOnce(p *b2bPass) *rnd {
	if p.r2 == nil {
		p.r2 = newRnd()
	}
	return p.r2
}

func (b *b2b) surveys(s *sink) error {
	return b.each(s, func(p *b2bPass, a *acct) {
		if a.installAt == 0 || a.installAt >= b.cal.end {
			return
		}
		r := newRndOnce(p)
		r.seed(b.opts.Seed, stSurveys, uint64(a.idx))
		aid := p.accountID(a)
		// Onboarding CSAT (1–5) once the machine runs.
		if r.chance(0.8) {
			j := pickRole(a, 0)
			if ts, ok := b.after(r, a.c.z, a.installAt, r.between(14, 30)*days); ok {
				score := 5
				switch x := a.sat + r.NormFloat64(); {
				case x < 4:
					score = 2
				case x < 6:
					score = 3
				case x < 8:
					score = 4
				}
				row := s.row()
				row[0] = "csat-" + aid[5:]
				row[1] = "csat"
				row[2] = p.personID(a, j)
				row[3] = aid
				row[4] = utc(ts)
				row[5] = itoa(score)
				row[6] = "1-5"
				row[7] = float64(score)
			}
		}
		// NPS three months after installation, then every six months.
		for k := 1; k <= 6; k++ {
			base := a.installAt + int64(90+(k-1)*182)*day
			if base >= b.cal.end {
				break
			}
			for j := 0; j < a.nm; j++ {
				m := &a.m[j]
				if !m.present || m.leadAt == 0 || !r.chance(0.45) {
					continue
				}
				ts, ok := b.after(r, a.c.z, base, r.between(0, 10)*days)
				if !ok {
					continue
				}
				score := int(math.Round(min(max(a.sat+1.3*r.NormFloat64(), 0), 10)))
				row := s.row()
				row[0] = "nps-" + aid[5:] + "-" + itoa(k) + "-" + itoa(j)
				row[1] = "nps"
				row[2] = p.personID(a, j)
				row[3] = aid
				row[4] = utc(ts)
				row[5] = itoa(score)
				row[6] = "0-10"
				row[7] = float64(score)
				if r.chance(0.55) {
					band := npsBand(score)
					row[8] = b2bNPSComments[band][r.IntN(len(b2bNPSComments[band]))]
				}
			}
		}
	})
}

func npsBand(score int) int {
	switch {
	case score <= 6:
		return 0
	case score <= 8:
		return 1
	}
	return 2
}

// events writes the touches of every account's people and of the anonymous
// visitors who came through the same sources without converting.
func (b *b2b) events(s *sink) error {
	er := newRnd()
	sr := newRnd()
	e := &emitter{s: s, r: er}
	return b.each(s, func(p *b2bPass, a *acct) {
		if a.nm == 0 {
			return
		}
		er.seed(b.opts.Seed, stEvents, uint64(a.idx))
		e.begin("ev-", a.idx)
		aid := p.accountID(a)
		for j := 0; j < a.nm; j++ {
			m := &a.m[j]
			if !m.present {
				continue
			}
			b.memberEvents(e, a, j, aid)
			// Look-alike visitors of the same source, around the same time,
			// who never convert: the failures before this member's success,
			// so that leads/visitors per channel estimates the planted rate.
			sr.seed(b.opts.Seed, stSiblings, uint64(a.idx)<<4|uint64(j))
			for k := 0; k < m.sibs; k++ {
				b.siblingEvents(e, sr, m, a.idx, j, k)
			}
		}
	})
}

func (b *b2b) visitor(c *campaign) {
	ch := b.chT(c.channel)
	ch.Visitors++
	ch.rateW[0] += b.rates[c.channel].p[0]
}

// session writes a visit: a landing event through t, then pages.
func (b *b2b) session(e *emitter, ts int64, t *touch, anon, person, account any, pages int, landing bool) int64 {
	c := t.c
	var row []any
	if landing && c.src.kind == kShow {
		row = e.ev(ts, tTrack, "tradeshow_booth_visit")
	} else {
		row = e.ev(ts, tPage, "Landing Page")
		row[evURL] = c.src.landing[e.r.IntN(len(c.src.landing))]
	}
	row[evAnon], row[evPerson], row[evAccount] = anon, person, account
	setTouch(row, t)
	if c.src.vClick != nil {
		row[evClickType] = c.src.vClick
		row[evClickID] = e.clickID()
	}
	c.count(t.cr, b.cal.dayOf(ts))
	for i := 0; i < pages; i++ {
		ts += int64(20 + e.r.IntN(240))
		if ts >= b.cal.end {
			break
		}
		row = e.ev(ts, tPage, "Page Viewed")
		row[evAnon], row[evPerson], row[evAccount] = anon, person, account
		row[evURL] = b.pages[e.r.IntN(len(b.pages))]
		setTouch(row, t)
		if e.r.IntN(16) == 0 {
			row = e.ev(ts+5, tTrack, "whitepaper_download")
			row[evAnon], row[evPerson], row[evAccount] = anon, person, account
			row[evProperties] = b.props.whitepaper[e.r.IntN(len(b.props.whitepaper))]
			setTouch(row, t)
		} else if e.r.IntN(24) == 0 {
			row = e.ev(ts+5, tTrack, "roi_calculator_used")
			row[evAnon], row[evPerson], row[evAccount] = anon, person, account
			row[evProperties] = b.props.calc[e.r.IntN(len(b.props.calc))]
			row[evURL] = b.pages[16]
			setTouch(row, t)
		}
	}
	return ts
}

// returnTouch picks the touch of a later visit on day d.
func (b *b2b) returnTouch(r *rnd, d int) touch {
	s := b.ret[r.pick(b.retCum)]
	c := s.returnCampaign(r, d)
	if c == nil {
		c = b.direct.camps[0]
	}
	t := touch{c: c, cr: r.IntN(len(c.creatives)), tm: -1}
	if len(c.terms) > 0 {
		t.tm = r.IntN(len(c.terms))
	}
	return t
}

func (b *b2b) memberEvents(e *emitter, a *acct, j int, aid string) {
	m := &a.m[j]
	r := e.r
	cal := b.cal
	anon := any(idOf(nil, "anon-", a.idx, j))
	b.visitor(m.t.c)
	var person, account any
	if m.leadAt > 0 {
		person, account = any(idOf(nil, "per-", a.idx, j)), any(aid)
		m.t.c.count2(m.t.cr, cal.dayOf(m.firstAt))
	}
	extra := 1 + r.IntN(4)
	if m.leadAt > 0 && !m.idLater {
		// Identified in the first visit.
		b.session(e, m.firstAt, &m.t, anon, nil, nil, min(extra, 2), true)
		b.identify(e, a, m, anon, person, account, &m.t)
	} else {
		end := b.session(e, m.firstAt, &m.t, anon, nil, nil, extra, true)
		limit := cal.end
		if m.leadAt > 0 {
			limit = m.leadAt - 1800
		}
		// Anonymous return visits before the form.
		for k, n := 0, r.IntN(3); k < n; k++ {
			t := end + int64(r.between(0.5, 6)*days)
			if t >= limit {
				break
			}
			rt := b.returnTouch(r, cal.dayOf(t))
			end = b.session(e, t, &rt, anon, nil, nil, r.IntN(3), true)
		}
		if m.leadAt > 0 {
			rt := b.returnTouch(r, cal.dayOf(m.leadAt))
			b.session(e, m.leadAt-int64(r.intBetween(120, 1200)), &rt, anon, nil, nil, 1, true)
			b.identify(e, a, m, anon, person, account, &rt)
		}
	}
	if m.leadAt == 0 {
		return
	}
	// Visits of a known person until their interest fades.
	limit := min(m.until, cal.end)
	t := m.leadAt
	gap := 4.0
	for k := 0; k < 40; k++ {
		t += int64((0.3 + r.ExpFloat64()*gap) * days)
		gap *= 1.15
		if t >= limit {
			break
		}
		ts, ok := b.bizTime(r, m.z, cal.dayOf(t), 0.12)
		if !ok || ts >= limit || ts <= m.leadAt {
			continue
		}
		t = ts
		rt := b.returnTouch(r, cal.dayOf(ts))
		b.session(e, ts, &rt, anon, person, account, r.IntN(5), true)
	}
	if m.sqlAt > 0 && m.skipMQL {
		row := e.ev(m.sqlAt-300, tTrack, "contact_sales_submitted")
		row[evAnon], row[evPerson], row[evAccount] = anon, person, account
		row[evURL] = b.pages[15]
		setTouch(row, &touch{c: b.direct.camps[0], tm: -1})
	}
	if m.mqlAt > 0 && !m.skipMQL {
		// Sales follows up on the MQL: 85 % get a call, e-mail or meeting,
		// a lognormal delay after it (median 5 hours), then a second touch
		// a few days later. Drawn from a hash of the person so the
		// generator's random streams keep their order.
		h := mix64(uint64(m.mqlAt)*0x9E3779B97F4A7C15 ^ uint64(a.idx)<<16 ^ uint64(j))
		if h%100 < 85 {
			delay := 5 * 3600 * math.Exp(0.9*normalFromHash(h>>8))
			for k, name := range salesTouches(h) {
				ts := m.mqlAt + int64(delay) + int64(k)*int64(2+h>>40%5)*int64(days)
				if !cal.in(ts) {
					break
				}
				row := e.ev(ts, tTrack, name)
				row[evPerson], row[evAccount] = person, account
				// Logged by the CRM: no campaign, referrer or click id.
				row[evChannel] = b.biz.Channel(bowtie.Touch{})
			}
		}
	}
	if m.t.c.src.kind == kWebinar && !m.idLater && r.chance(0.55) {
		// Attend the webinar on its day (the last day of the flight).
		last := -1
		for d, w := range m.t.c.shape {
			if w > 0 {
				last = d
			}
		}
		if last >= 0 {
			ts := m.z.at(cal, last, 16*3600)
			if ts > m.leadAt && cal.in(ts) {
				row := e.ev(ts, tTrack, "webinar_attended")
				row[evAnon], row[evPerson], row[evAccount] = anon, person, account
				setTouch(row, &m.t)
			}
		}
	}
}

// identify writes the conversion: the gated action, identify and group.
func (b *b2b) identify(e *emitter, a *acct, m *member, anon, person, account any, t *touch) {
	ts := m.leadAt
	row := e.ev(ts, tIdentify, nil)
	row[evAnon], row[evPerson] = anon, person
	setTouch(row, t)
	row = e.ev(ts+1, tGroup, nil)
	row[evAnon], row[evPerson], row[evAccount] = anon, person, account
	setTouch(row, t)
	kind := kWeb
	if !m.idLater {
		kind = m.t.c.src.kind
	}
	row = e.ev(ts+2, tTrack, b.names.gated[kind])
	row[evAnon], row[evPerson], row[evAccount] = anon, person, account
	setTouch(row, t)
	switch kind {
	case kWhitepaper:
		row[evProperties] = b.props.whitepaper[e.r.IntN(len(b.props.whitepaper))]
	case kCalculator:
		row[evProperties] = b.props.calc[e.r.IntN(len(b.props.calc))]
	case kWeb:
		row[evProperties] = b.props.form[e.r.IntN(len(b.props.form))]
	}
}

func (b *b2b) siblingEvents(e *emitter, r *rnd, m *member, idx, j, k int) {
	base := b.cal.dayOf(m.firstAt)
	var c *campaign
	var d int
	src := m.t.c.src
	for try := 0; try < 6 && c == nil; try++ {
		if d = base + r.IntN(43) - 21; d >= 0 && d < b.cal.n && (!b.cal.weekend(d) || r.chance(src.weekend)) {
			c = src.returnCampaign(r, d)
		}
	}
	if c == nil {
		d, c = base, m.t.c
	}
	t := touch{c: c, cr: r.IntN(len(c.creatives)), tm: -1}
	if len(c.terms) > 0 {
		t.tm = r.IntN(len(c.terms))
	}
	z := b.countries[r.pick(b.cntCum)].z
	sec := 7*3600 + int((r.Float64()+r.Float64())/2*13*3600)
	ts := z.at(b.cal, d, sec)
	pages := r.geom(0.55)
	back := r.chance(0.18)
	backDays := r.between(1, 20)
	if !b.cal.in(ts) {
		return
	}
	b.visitor(c)
	b.sbuf = append(b.sbuf[:0], "anon-"...)
	b.sbuf = strconv.AppendInt(b.sbuf, int64(idx), 10)
	b.sbuf = append(b.sbuf, '-')
	b.sbuf = strconv.AppendInt(b.sbuf, int64(j), 10)
	b.sbuf = append(b.sbuf, '-')
	b.sbuf = strconv.AppendInt(b.sbuf, int64(k), 10)
	anon := any(string(b.sbuf))
	saved := e.r
	e.r = r
	b.session(e, ts, &t, anon, nil, nil, min(pages, 6), true)
	if back {
		t2 := ts + int64(backDays*days)
		if b.cal.in(t2) {
			rt := b.returnTouch(r, b.cal.dayOf(t2))
			b.session(e, t2, &rt, anon, nil, nil, r.IntN(2), true)
		}
	}
	e.r = saved
}
