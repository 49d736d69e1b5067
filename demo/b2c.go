package demo

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// b2cEventsPerVisitor is the average number of events a first-touch visitor
// yields over the default 18 months, referred friends included (measured; it
// sets the visitor count).
const b2cEventsPerVisitor = 13.6

const appSite = "https://fitflow.example/"

// RetentionDays are the days of the B2C truth's retention curve.
var RetentionDays = []int{1, 2, 3, 7, 14, 30, 60, 90, 180, 365}

// Prices in cents and their MRR.
const (
	monthlyCents  = 1499
	annualCents   = 9999
	discountCents = 749 // first month at half price
	winbackCents  = 999 // win-back offer, first month
	monthlyMRR    = 14.99
	annualMRR     = 8.3325 // 99.99 / 12
)

// b2c generates FitFlow, a fitness-video subscription app: visitors from
// social ads, influencers, app-store search and friends' referrals install,
// sign up, try, pay monthly or yearly, work out (or stop), pause, churn and
// sometimes come back. One unit is a first-touch visitor; the friends a
// user refers are generated inside the referrer's unit.
type b2c struct {
	*gen
	p          *plan
	fx         *fx
	n          int
	countries  []b2cCountry
	cntCum     []float64
	joint      *jointTable
	rates      map[string]*rates
	ref        *campaign
	direct     *campaign
	tools      []tool
	appChannel any
	pages      []any
	workouts   []any
	planProps  [2][2]any // [annual][android]
	sbuf       []byte
}

var b2cRates = map[string]*rates{
	// visitor→signup, signup→trial, trial→paid; early drop-off, lifetime scale
	"Paid Social":      {p: [4]float64{0.09, 0.45, 0.38}, early: 0.45, scale: 55},
	"Paid Video":       {p: [4]float64{0.06, 0.40, 0.32}, early: 0.50, scale: 45},
	"Influencers":      {p: [4]float64{0.14, 0.50, 0.28}, early: 0.40, scale: 65},
	"App Store Search": {p: [4]float64{0.30, 0.55, 0.50}, early: 0.30, scale: 110},
	"Organic Search":   {p: [4]float64{0.12, 0.48, 0.44}, early: 0.32, scale: 95},
	"Organic Social":   {p: [4]float64{0.10, 0.42, 0.35}, early: 0.42, scale: 70},
	"Organic Video":    {p: [4]float64{0.08, 0.44, 0.40}, early: 0.40, scale: 75},
	"Direct":           {p: [4]float64{0.20, 0.52, 0.47}, early: 0.30, scale: 120},
	"Referral Program": {p: [4]float64{0.35, 0.60, 0.55}, early: 0.25, scale: 140},
}

func newB2C(g *gen) *b2c {
	b := &b2c{gen: g, rates: b2cRates}
	b.fx = newFX(g)
	b.countries = append([]b2cCountry(nil), b2cCountries...)
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
	for _, p := range []string{"", "programs/30-day-challenge", "programs/yoga", "pricing", "trainers", "blog/home-workouts"} {
		b.pages = append(b.pages, appSite+p)
	}
	for _, wk := range workouts {
		b.workouts = append(b.workouts, `{"workout":"`+wk.name+`","minutes":`+itoa(wk.min)+`}`)
	}
	for a, plan := range []string{"monthly", "annual"} {
		for d, store := range []string{"app_store", "google_play"} {
			b.planProps[a][d] = `{"plan":"` + plan + `","store":"` + store + `"}`
		}
	}
	b.appChannel = g.biz.Channel(bowtie.Touch{})
	b.buildPlan()
	b.n = max(1, int(math.Round(float64(g.opts.Events)/b2cEventsPerVisitor)))
	g.truth.Units = b.n
	g.truth.Retention = newRetention()
	return b
}

func newRetention() []RetentionPoint {
	out := make([]RetentionPoint, len(RetentionDays))
	for i, d := range RetentionDays {
		out[i].Day = d
	}
	return out
}

func (b *b2c) passes() []pass {
	return []pass{
		{"fx", b.writeFX(b.fx)},
		{"people", b.people},
		{"identities", b.identities},
		{"stages", b.stages},
		{"subscriptions", b.subscriptions},
		{"orders", b.orders},
		{"surveys", b.surveys},
		{"events", b.events},
		{"spend", b.writeSpend(b.p, b.fx, b.tools)},
	}
}

func (b *b2c) chT(name string) *ChannelTruth {
	c := b.ch(name)
	if r := b.rates[name]; r != nil && c.VisitorToLead == 0 {
		c.VisitorToLead, c.SignupToTrial, c.TrialToPaid = r.p[0], r.p[1], r.p[2]
		c.Retention = newRetention()
	}
	return c
}

func (b *b2c) buildPlan() {
	cal := b.cal
	p := &plan{cal: cal}
	b.p = p
	start, end := b.opts.Start.In(cal.loc), b.opts.End.In(cal.loc)
	land := func(paths ...string) []any {
		var out []any
		for _, s := range paths {
			out = append(out, appSite+s)
		}
		return out
	}
	themes := []string{"30-day-challenge", "home-abs", "beginner-hiit", "yoga-for-stress", "strong-at-home"}
	social := func(name, prefix, click, ref string, share, cpc, ctr float64, creatives []string, every, length int) *source {
		s := p.addSource(&source{name: name, medium: "paid_social", referrer: ref, click: click, share: share, weekend: 1.15, paid: true,
			installMul: 1.15, defaultCur: "USD", landing: land("get", "programs/30-day-challenge", "lp/free-trial")})
		for i, f := 0, start; f.Before(end); i, f = i+1, f.AddDate(0, 0, every) {
			t := themes[i%len(themes)]
			p.addCampaign(s, prefix+"_"+t+"_"+ym(f), p.flight(f, f.AddDate(0, 0, length), 1), creatives,
				spendModel{kind: spendClicks, cpc: cpc, ctr: ctr, visit: 0.75, adGroup: "broad-" + t})
		}
		return s
	}
	tt := social("tiktok", "tt_ugc", "ttclid", "https://www.tiktok.com/", 0.22, 0.55, 0.011, []string{"ugc-01", "ugc-02", "ugc-03", "creator-duet"}, 35, 42)
	p.addCampaign(tt, "tt_always-on_prospecting", scaled(p.always(), 0.6), []string{"ugc-evergreen"},
		spendModel{kind: spendClicks, cpc: 0.5, ctr: 0.01, visit: 0.75, adGroup: "prospecting"})
	ig := social("instagram", "ig_reels", "fbclid", "https://www.instagram.com/", 0.13, 0.85, 0.009, []string{"reel-01", "reel-02", "story-01"}, 42, 35)
	fb := p.addSource(&source{name: "facebook", medium: "paid_social", referrer: "https://www.facebook.com/", click: "fbclid", share: 0.09, weekend: 1.1,
		paid: true, installMul: 1.2, defaultCur: "USD", landing: land("get", "lp/free-trial")})
	p.addCampaign(fb, "fb_lookalike_trial-starters", p.always(), []string{"video-15s", "carousel"},
		spendModel{kind: spendClicks, cpc: 1.05, ctr: 0.012, visit: 0.75, adGroup: "lookalike-1pct"})
	p.addCampaign(fb, "fb_broad_30-day-challenge", scaled(p.always(), 0.5), []string{"video-15s"},
		spendModel{kind: spendClicks, cpc: 0.95, ctr: 0.011, visit: 0.75, adGroup: "broad-25-45"})
	yt := p.addSource(&source{name: "youtube", medium: "paid_video", referrer: "https://www.youtube.com/", click: "gclid", share: 0.07, weekend: 1.1,
		paid: true, installMul: 1.1, defaultCur: "USD", landing: land("get")})
	for q := quarterStart(start); q.Before(end); q = q.AddDate(0, 3, 0) {
		p.addCampaign(yt, "yt_preroll_home-workouts_"+quarter(q), p.flight(q, q.AddDate(0, 3, 0), 1), []string{"preroll-6s", "preroll-15s"},
			spendModel{kind: spendClicks, cpc: 0.4, ctr: 0.02, visit: 0.7, adGroup: "fitness-intenders"})
	}
	// New-year pushes.
	for y := start.Year(); y <= end.Year()+1; y++ {
		f := time.Date(y-1, time.December, 26, 0, 0, 0, 0, cal.loc)
		for _, x := range []struct {
			s    *source
			pre  string
			w    float64
			crs  []string
			cpc  float64
			ctr  float64
			adgr string
		}{{tt, "tt_new-year_", 1.5, []string{"ny-ugc-01", "ny-ugc-02"}, 0.7, 0.012, "new-year"}, {ig, "ig_new-year_", 1, []string{"ny-reel-01"}, 1.1, 0.01, "new-year"}} {
			shape := p.flight(f, f.AddDate(0, 0, 37), x.w)
			if add(shape, nil) {
				p.addCampaign(x.s, x.pre+itoa(y), shape, x.crs, spendModel{kind: spendClicks, cpc: x.cpc, ctr: x.ctr, visit: 0.75, adGroup: x.adgr})
			}
		}
	}
	// Influencers post every few weeks; a post pulls visitors for ten days.
	for i, inf := range []struct {
		slug, ref string
		every     int
		share     float64
	}{
		{"fitwithmara", "https://www.instagram.com/", 30, 0.03},
		{"coachdre", "https://www.youtube.com/", 42, 0.025},
		{"yogabyleah", "https://www.instagram.com/", 35, 0.015},
		{"liftwithsam", "https://www.tiktok.com/", 28, 0.02},
		{"runjess", "https://www.tiktok.com/", 45, 0.01},
	} {
		s := p.addSource(&source{name: inf.slug, medium: "influencer", referrer: inf.ref, share: inf.share, weekend: 1.2, defaultCur: "USD",
			landing: land("lp/" + inf.slug)})
		for post := start.AddDate(0, 0, 3+5*i); post.Before(end); post = post.AddDate(0, 0, inf.every) {
			shape := make([]float64, cal.n)
			d0 := p.dayIndex(post)
			for k := 0; k < 10; k++ {
				if d := d0 + k; d >= 0 && d < cal.n {
					shape[d] = math.Exp(-float64(k) / 1.5)
				}
			}
			if add(shape, nil) {
				p.addCampaign(s, "inf_"+inf.slug+"_"+ymd(post), shape, nil,
					spendModel{kind: spendPost, perUnit: 1.2, visit: 0.8, adGroup: "sponsored-post"})
			}
		}
	}
	// App-store search, organic and direct.
	var aso *campaign
	for _, x := range []struct {
		name  string
		share float64
	}{{"app-store", 0.09}, {"google-play", 0.05}} {
		s := p.addSource(&source{name: x.name, medium: "aso", share: x.share, weekend: 1.1, landing: land("get")})
		c := p.addCampaign(s, "", p.always(), nil, spendModel{})
		if aso == nil {
			aso = c
		}
	}
	b.tools = append(b.tools, tool{source: "aso-tool", adGroup: "licence", perMonth: 600, currency: "USD"})
	for _, x := range []struct {
		ref   string
		share float64
	}{{"https://www.google.com/", 0.05}, {"https://www.tiktok.com/", 0.06}, {"https://www.instagram.com/", 0.03}, {"https://www.youtube.com/", 0.03}, {"", 0.04}} {
		s := p.addSource(&source{referrer: x.ref, share: x.share, weekend: 1.1, landing: land("", "blog/home-workouts", "programs/yoga")})
		c := p.addCampaign(s, "", p.always(), nil, spendModel{})
		if x.ref == "" {
			b.direct = c
		}
	}
	// The referral programme: friends invited by users (share 0: they come
	// from their referrer's unit), credited $10 when they sign up.
	rs := p.addSource(&source{name: "referral", medium: "referral-program", share: 0, defaultCur: "USD", landing: land("invite")})
	b.ref = p.addCampaign(rs, "refer-a-friend", p.always(), nil, spendModel{kind: spendIncentive, perUnit: 10, costType: "incentives", adGroup: "friend-credit"})

	season := func(d int) float64 {
		f := 1 + 1.0*cal.frac[d]
		dt := cal.dates[d]
		switch dt.Month() {
		case time.January:
			f *= 1.3
			if dt.Day() <= 21 {
				f *= 1.1
			}
		case time.February:
			f *= 1.15
		case time.June, time.July, time.August:
			f *= 0.85
		case time.December:
			if dt.Day() < 26 {
				f *= 0.8
			}
		}
		return f
	}
	p.finish(b.gen, season)
	b.tools[0].channel = aso.channel
	b.joint = p.joint(func(c *campaign) bool { return c.src.share > 0 })
	for _, c := range p.camps {
		if b.rates[c.channel] == nil {
			panic(fmt.Sprintf("demo: b2c: no planted rates for channel %q (campaign %q): the business rules changed", c.channel, c.name))
		}
	}
}

// Users.

const (
	segTrial = iota
	segActive
	segPaused
)

var segStatus = [...]any{"trialing", "active", "paused"}

type seg struct {
	from, to int64 // to 0: runs at End
	status   int
	annual   bool
	cents    int64
	canceled int64
}

type payment struct {
	ts     int64
	cents  int64
	annual bool
}

type window struct{ n0, l int }

type user struct {
	root, child int // child -1 for the root visitor
	present     bool
	t           touch
	z           *zone
	country     string
	visitAt     int64
	signup      bool
	installAt   int64
	signupAt    int64
	trial       bool
	trialAt     int64
	annual      bool
	paid        bool
	paidAt      int64
	android     bool
	goal        int
	act         float64
	pref        int
	nw          int
	w           [4]window
	segs        []seg
	pays        []payment
	refs        []int64 // referral_sent times
	kids        []int64 // visit times of referred friends
	back        bool    // non-signup visitor returns once
	backDays    float64
}

// activeProb is the planted probability of a workout on day N after signup:
// the latest engagement window holding N decides.
func (u *user) activeProb(n int) float64 {
	for i := u.nw - 1; i >= 0; i-- {
		w := u.w[i]
		if n >= w.n0 && n < w.n0+w.l {
			x := float64(n - w.n0)
			return min(u.act*(0.85+0.35*math.Exp(-x/10)), 0.95)
		}
	}
	return 0
}

// lastDay returns the last day with a positive activity probability.
func (u *user) lastDay() int {
	m := 0
	for i := 0; i < u.nw; i++ {
		m = max(m, u.w[i].n0+u.w[i].l-1)
	}
	return m
}

// lifetime draws an engagement length in days.
func lifetime(r *rnd, rt *rates, paid bool) int {
	early := rt.early
	scale := rt.scale
	if paid {
		early *= 0.5
		scale *= 2.2
	}
	e := r.chance(early)
	x := r.Float64()
	if e {
		return 1 + int(x*6)
	}
	// Weibull with shape 0.8.
	return 7 + int(scale*math.Pow(-math.Log(1-x), 1/0.8))
}

// planRoot derives visitor idx.
func (b *b2c) planRoot(u *user, idx int, r *rnd) {
	r.seed(b.opts.Seed, stPlan, uint64(idx))
	b.reset(u, idx, -1)
	d, ci := b.joint.draw(r)
	c := b.p.camps[ci]
	u.t = touch{c: c, cr: r.IntN(len(c.creatives)), tm: -1}
	cn := &b.countries[r.pick(b.cntCum)]
	u.z, u.country = cn.z, cn.code
	for try := 0; try < 4; try++ {
		u.visitAt = u.z.at(b.cal, d, visitSecond(r))
		if b.cal.in(u.visitAt) {
			u.present = true
			break
		}
	}
	if !u.present {
		return
	}
	b.lifecycle(u, r, true)
}

// planChild derives the k-th friend referred by root, who visits at ts.
func (b *b2c) planChild(u *user, root, k int, ts int64, z *zone, country string, r *rnd) {
	r.seed(b.opts.Seed, stChild, uint64(root)<<8|uint64(k))
	b.reset(u, root, k)
	u.t = touch{c: b.ref, tm: -1}
	u.z, u.country = z, country
	u.visitAt = ts
	u.present = b.cal.in(ts)
	if u.present {
		b.lifecycle(u, r, false)
	}
}

func (b *b2c) reset(u *user, root, child int) {
	segs, pays, refs, kids := u.segs[:0], u.pays[:0], u.refs[:0], u.kids[:0]
	*u = user{root: root, child: child, segs: segs, pays: pays, refs: refs, kids: kids}
}

// visitSecond draws a local time of day for a visit, mostly evenings.
func visitSecond(r *rnd) int {
	h := r.pick(visitHourCum)
	return h*3600 + r.IntN(3600)
}

var visitHourCum = cumulative(1, 0.5, 0.3, 0.2, 0.3, 0.8, 2, 3, 3, 3, 3, 3.5, 4, 4, 3.5, 3.5, 4, 5, 6, 7, 7.5, 7, 5, 2.5)

func (b *b2c) lifecycle(u *user, r *rnd, root bool) {
	cal := b.cal
	rt := b.rates[u.t.c.channel]
	u.goal = r.pick(goalWeights)
	u.android = r.chance(0.38)
	u.back = r.chance(0.15)
	u.backDays = r.between(1, 10)
	signup := r.chance(rt.p[0])
	var delay float64
	if r.chance(0.7) {
		delay = r.between(120, 2400)
	} else {
		delay = r.between(1, 3) * days
	}
	u.installAt = u.visitAt + int64(delay)
	u.signupAt = u.installAt + int64(r.intBetween(60, 300))
	u.signup = signup && cal.in(u.signupAt)
	if !u.signup {
		return
	}
	trial := r.chance(rt.p[1])
	if r.chance(0.6) {
		u.trialAt = u.signupAt + int64(r.intBetween(30, 600))
	} else {
		u.trialAt = u.signupAt + int64(r.between(1, 10)*days)
	}
	u.annual = r.chance(0.3)
	u.trial = trial && cal.in(u.trialAt)
	paid := r.chance(rt.p[2])
	discount := !u.annual && r.chance(0.2)
	u.paidAt = u.trialAt + 7*day
	u.paid = u.trial && paid && cal.in(u.paidAt)
	// Engagement: how long and how often this user works out.
	u.act = r.between(0.25, 0.7)
	if r.chance(0.45) {
		u.pref = 6*3600 + r.IntN(2*3600)
	} else {
		u.pref = 17*3600 + r.IntN(4*3600)
	}
	u.w[0] = window{0, lifetime(r, rt, trial && paid)}
	u.nw = 1
	if u.trial {
		b.subscription(u, r, rt, discount, trial && paid)
	}
	if root {
		// Referrals while engaged; a third of invitations bring a friend.
		rho := 0.003
		if u.paid {
			rho = 0.012
		}
		w := u.w[0]
		lo := u.signupAt + int64(w.n0)*day
		hi := min(u.signupAt+int64(w.n0+w.l)*day, cal.end)
		if hi > lo {
			n := r.poisson(rho * float64(hi-lo) / days)
			for i := 0; i < n && i < 12; i++ {
				ts := lo + int64(r.Float64()*float64(hi-lo))
				u.refs = append(u.refs, ts)
				if r.chance(0.35) && len(u.kids) < 8 {
					u.kids = append(u.kids, ts+int64(r.ExpFloat64()*1.5*days)+60)
				}
			}
		}
	}
}

// subscription lays out the segments and payments of a user who started a
// trial: trial, paid periods, pauses, churn and a possible win-back.
func (b *b2c) subscription(u *user, r *rnd, rt *rates, discount, willPay bool) {
	end := b.cal.end
	trialEnd := u.trialAt + 7*day
	s := seg{from: u.trialAt, status: segTrial, annual: u.annual, cents: price(u.annual)}
	if !u.paid {
		// A trial that would convert after End is still running then.
		if !willPay {
			s.canceled = u.trialAt + int64(r.between(1.0/24, 6.5)*days)
			s.to = trialEnd
		}
		u.segs = append(u.segs, s)
		return
	}
	s.to = u.paidAt
	u.segs = append(u.segs, s)
	engagedUntil := u.signupAt + int64(u.w[0].n0+u.w[0].l)*day
	anchor, k := u.paidAt, 0
	cur := seg{from: u.paidAt, status: segActive, annual: u.annual, cents: price(u.annual)}
	if discount {
		cur.cents = discountCents
	}
	firstLapse, winback := true, false
	for iter := 0; iter < 1200; iter++ {
		pStart := addPeriod(anchor, k, cur.annual)
		pEnd := addPeriod(anchor, k+1, cur.annual)
		if pStart < end {
			// A purchase is paid when it is made (the conversion is the
			// first payment); renewals go through the billing run.
			pay, delay := pStart, int64(r.intBetween(60, 1800))
			if k > 0 {
				pay += delay
			}
			if pay < end {
				u.pays = append(u.pays, payment{ts: pay, cents: cur.cents, annual: cur.annual})
			}
		}
		if pEnd >= end {
			u.segs = append(u.segs, cur)
			return
		}
		engaged := pEnd < engagedUntil
		x := r.Float64()
		var cancel, pause float64
		switch {
		case cur.annual && engaged:
			cancel = 0.2
		case cur.annual:
			cancel = 0.65
		case engaged:
			cancel = 0.04
		case firstLapse:
			cancel, pause = 0.45, 0.12
		default:
			cancel, pause = 0.3, 0.08
		}
		if !engaged {
			firstLapse = false
		}
		switch {
		case x < cancel:
			cur.to = pEnd
			cur.canceled = max(pEnd-int64(r.between(1, 20)*days), pStart+hour)
			u.segs = append(u.segs, cur)
			if winback || !r.chance(0.15) {
				return
			}
			winback = true
			back := pEnd + int64(r.between(30, 150)*days)
			if back >= end {
				return
			}
			b.reengage(u, r, rt, back)
			engagedUntil = u.signupAt + int64(u.w[u.nw-1].n0+u.w[u.nw-1].l)*day
			anchor, k = back, 0
			cur = seg{from: back, status: segActive, cents: monthlyCents}
			if r.chance(0.4) {
				cur.cents = winbackCents
			}
		case x < cancel+pause:
			cur.to = pEnd
			u.segs = append(u.segs, cur)
			months := 1 + r.IntN(2)
			pz := seg{from: pEnd, to: addPeriod(pEnd, months, false), status: segPaused, cents: monthlyCents}
			resume := r.chance(0.55)
			if pz.to >= end {
				pz.to = 0
				u.segs = append(u.segs, pz)
				return
			}
			if !resume {
				pz.canceled = pz.to - int64(r.between(1, 10)*days)
				u.segs = append(u.segs, pz)
				return
			}
			u.segs = append(u.segs, pz)
			b.reengage(u, r, rt, pz.to)
			engagedUntil = u.signupAt + int64(u.w[u.nw-1].n0+u.w[u.nw-1].l)*day
			anchor, k = pz.to, 0
			cur = seg{from: pz.to, status: segActive, cents: monthlyCents}
		default:
			if cur.cents != price(cur.annual) {
				// The offer month is over: full price from now on.
				cur.to = pEnd
				u.segs = append(u.segs, cur)
				cur = seg{from: pEnd, status: segActive, annual: cur.annual, cents: price(cur.annual)}
			}
			k++
		}
	}
	u.segs = append(u.segs, cur)
}

// reengage opens a new engagement window at ts (a resumed or won-back user).
func (b *b2c) reengage(u *user, r *rnd, rt *rates, ts int64) {
	if u.nw == len(u.w) {
		return
	}
	n0 := int((ts - u.signupAt) / day)
	u.w[u.nw] = window{n0, 7 + int(rt.scale*1.2*math.Pow(-math.Log(1-r.Float64()), 1/0.8))}
	u.nw++
}

func price(annual bool) int64 {
	if annual {
		return annualCents
	}
	return monthlyCents
}

func mrrOf(cents int64, annual bool) float64 {
	if annual {
		return float64(cents) / 1200
	}
	return float64(cents) / 100
}

// addPeriod returns anchor plus k months (or years), keeping the day of
// the month and clamping it to the month's last day, as billing systems do.
func addPeriod(anchor int64, k int, annual bool) int64 {
	t := time.Unix(anchor, 0).UTC()
	y, m, d := t.Date()
	if annual {
		y += k
	} else {
		m += time.Month(k)
	}
	first := time.Date(y, m, 1, t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1).Unix()
}

// Table passes.

type b2cPass struct {
	b     *b2c
	u     user
	kid   user
	r, r2 *rnd
	buf   []byte
}

// each calls fn for every present user: each root visitor, then the friends
// it referred.
func (b *b2c) each(s *sink, fn func(p *b2cPass, u *user)) error {
	p := &b2cPass{b: b, r: newRnd(), r2: newRnd()}
	for i := 0; i < b.n; i++ {
		b.planRoot(&p.u, i, p.r)
		if !p.u.present {
			continue
		}
		fn(p, &p.u)
		for k, ts := range p.u.kids {
			b.planChild(&p.kid, i, k, ts, p.u.z, p.u.country, p.r)
			if p.kid.present {
				fn(p, &p.kid)
			}
		}
		if s.stopped {
			return nil
		}
	}
	return nil
}

func (p *b2cPass) id(prefix string, u *user) string {
	p.buf = append(p.buf[:0], prefix...)
	p.buf = strconv.AppendInt(p.buf, int64(u.root), 10)
	if u.child >= 0 {
		p.buf = append(p.buf, 'r')
		p.buf = strconv.AppendInt(p.buf, int64(u.child), 10)
	}
	return string(p.buf)
}

func (b *b2c) people(s *sink) error {
	return b.each(s, func(p *b2cPass, u *user) {
		if !u.signup {
			return
		}
		pid := p.id("user-", u)
		row := s.row()
		row[0] = pid
		row[1] = hashEmail(pid + "@mail.example")
		row[4] = goals[u.goal]
		row[5] = u.country
		row[6] = utc(u.signupAt)
		switch {
		case u.paid:
			row[7] = "paid"
		case u.trial:
			row[7] = "trial"
		default:
			row[7] = "signup"
		}
		row[8] = u.t.c.vChannel
		row[9] = u.t.c.src.vSource
		row[10] = u.t.c.src.vMedium
		row[11] = u.t.c.vName
		if u.android {
			row[12] = `{"platform":"android"}`
		} else {
			row[12] = `{"platform":"ios"}`
		}
		ch := b.chT(u.t.c.channel)
		ch.People++
		rt := b.rates[u.t.c.channel]
		ch.rateW[1] += rt.p[1]
		ch.rateW[4]++
		if u.trial {
			ch.rateW[2] += rt.p[2]
			ch.rateW[5]++
		}
		// The retention truth: the planted probability of each day, among
		// users whose day window closes before End.
		for i, n := range RetentionDays {
			if u.signupAt+int64(n+1)*day > b.cal.end {
				break
			}
			pr := u.activeProb(n)
			for _, pt := range []*RetentionPoint{&b.truth.Retention[i], &ch.Retention[i]} {
				pt.Eligible++
				pt.sum += pr
			}
		}
	})
}

func (b *b2c) identities(s *sink) error {
	return b.each(s, func(p *b2cPass, u *user) {
		if !u.signup {
			return
		}
		row := s.row()
		row[0] = "anonymous"
		row[1] = p.id("anon-", u)
		row[2] = p.id("user-", u)
		row[3] = utc(u.signupAt)
		row[4] = "app"
	})
}

func (b *b2c) stages(s *sink) error {
	return b.each(s, func(p *b2cPass, u *user) {
		if !u.signup {
			return
		}
		pid := p.id("user-", u)
		ch := b.chT(u.t.c.channel)
		stage := func(name string, ts int64, src string) {
			row := s.row()
			row[0], row[1], row[2], row[3], row[4] = eTypePerson, pid, name, utc(ts), src
		}
		stage("signup", u.signupAt, "app")
		ch.Leads++
		b.tallyReferral(&p.u, u)
		if u.trial {
			stage("trial", u.trialAt, "billing")
			ch.MQLs++
			ch.Trials++
		}
		if u.paid {
			stage("paid", u.paidAt, "billing")
			ch.Customers++
		}
	})
}

func (b *b2c) subscriptions(s *sink) error {
	return b.each(s, func(p *b2cPass, u *user) {
		if len(u.segs) == 0 {
			return
		}
		b.tallyBilling(u)
		sid := p.id("sub-", u)
		pid := p.id("user-", u)
		for i := range u.segs {
			sg := &u.segs[i]
			row := s.row()
			row[0] = sid
			row[1] = utc(sg.from)
			if sg.to > 0 && sg.to < b.cal.end {
				row[2] = utc(sg.to)
			}
			row[3] = pid
			row[5] = segStatus[sg.status]
			if sg.annual {
				row[4], row[6] = "annual", "year"
			} else {
				row[4], row[6] = "monthly", "month"
			}
			row[7] = int64(1)
			row[8] = float64(sg.cents) / 100
			row[9] = int64(1)
			if sg.status == segActive {
				row[10] = mrrOf(sg.cents, sg.annual)
			} else {
				row[10] = 0.0
			}
			row[11] = "USD"
			if sg.canceled > 0 && sg.canceled < b.cal.end {
				row[12] = utc(sg.canceled)
			}
		}
	})
}

func (b *b2c) orders(s *sink) error {
	return b.each(s, func(p *b2cPass, u *user) {
		if len(u.pays) == 0 {
			return
		}
		ch := b.chT(u.t.c.channel)
		pid := p.id("user-", u)
		margin := 0.62 // app-store fee and content costs
		if !u.android && u.root%5 == 0 {
			margin = 0.87 // paid on the web
		}
		for i, py := range u.pays {
			row := s.row()
			row[0] = p.id("ord-", u) + "-" + itoa(i)
			row[1] = pid
			row[2] = utc(py.ts)
			row[3] = float64(py.cents) / 100
			row[4] = math.Round(float64(py.cents)*margin) / 100
			row[5] = "USD"
			row[6] = "paid"
			row[7] = "subscription"
			a, d := 0, 0
			if py.annual {
				a = 1
			}
			if u.android {
				d = 1
			}
			row[8] = b.planProps[a][d]
			ch.revenueCents += py.cents
		}
	})
}

// subscribedAt reports whether u has an active segment at ts.
func (u *user) subscribedAt(ts int64) bool {
	for _, s := range u.segs {
		if s.status == segActive && ts >= s.from && (s.to == 0 || ts < s.to) {
			return true
		}
	}
	return false
}

func (b *b2c) surveys(s *sink) error {
	return b.each(s, func(p *b2cPass, u *user) {
		if !u.paid {
			return
		}
		r := p.r2
		r.seed(b.opts.Seed, stSurveys, uint64(u.root)<<8|uint64(u.child+1))
		for k, at := 0, u.paidAt+30*day; k < 8 && at < b.cal.end; k, at = k+1, at+90*day {
			prob := 0.3
			if k > 0 {
				prob = 0.2
			}
			if !r.chance(prob) || !u.subscribedAt(at) {
				continue
			}
			ts := at + int64(r.between(0, 3)*days)
			if ts >= b.cal.end {
				continue
			}
			mean, sd := 8.4, 1.4
			if u.activeProb(int((ts-u.signupAt)/day)) == 0 {
				mean, sd = 6.0, 2.2
			}
			score := int(math.Round(min(max(mean+sd*r.NormFloat64(), 0), 10)))
			row := s.row()
			row[0] = "nps-" + strconv.Itoa(u.root) + childSuffix(u.child) + "-" + itoa(k)
			row[1] = "nps"
			row[2] = "user-" + strconv.Itoa(u.root) + childSuffix(u.child)
			row[4] = utc(ts)
			row[5] = itoa(score)
			row[6] = "0-10"
			row[7] = float64(score)
			if r.chance(0.4) {
				band := npsBand(score)
				row[8] = b2cNPSComments[band][r.IntN(len(b2cNPSComments[band]))]
			}
		}
	})
}

func childSuffix(c int) string {
	if c < 0 {
		return ""
	}
	return "r" + itoa(c)
}

var (
	nLanding   any = "Landing Page"
	nPage      any = "Page Viewed"
	nInstall   any = "app_install"
	nOnboard   any = "Onboarding"
	nSignup    any = "signup_completed"
	nTrial     any = "trial_started"
	nSubscribe any = "subscription_started"
	nHome      any = "Home"
	nPlayer    any = "Workout Player"
	nWorkout   any = "workout_completed"
	nReferral  any = "referral_sent"
)

// events writes each visitor's visit and, for those who sign up, the app's
// screens, workouts and referrals.
func (b *b2c) events(s *sink) error {
	er := newRnd()
	e := &emitter{s: s, r: er}
	last := -1
	return b.each(s, func(p *b2cPass, u *user) {
		if u.root != last {
			er.seed(b.opts.Seed, stEvents, uint64(u.root))
			e.begin("ev-", u.root)
			last = u.root
		}
		b.userEvents(e, p, u)
	})
}

func (b *b2c) userEvents(e *emitter, p *b2cPass, u *user) {
	r := e.r
	cal := b.cal
	anon := any(p.id("anon-", u))
	c := u.t.c
	ch := b.chT(c.channel)
	ch.Visitors++
	ch.rateW[0] += b.rates[c.channel].p[0]
	d := cal.dayOf(u.visitAt)
	c.count(u.t.cr, d)
	row := e.ev(u.visitAt, tPage, nLanding)
	row[evAnon] = anon
	row[evURL] = c.src.landing[r.IntN(len(c.src.landing))]
	setTouch(row, &u.t)
	if c.src.vClick != nil {
		row[evClickType] = c.src.vClick
		row[evClickID] = e.clickID()
	}
	if u.child >= 0 {
		row[evProperties] = `{"referrer":"user-` + strconv.Itoa(u.root) + `"}`
	}
	ts := u.visitAt
	for i, n := 0, r.IntN(3); i < n; i++ {
		ts += int64(15 + r.IntN(120))
		if ts >= cal.end {
			break
		}
		row = e.ev(ts, tPage, nPage)
		row[evAnon] = anon
		row[evURL] = b.pages[r.IntN(len(b.pages))]
		setTouch(row, &u.t)
	}
	if !u.signup {
		if u.back {
			t := u.visitAt + int64(u.backDays*days)
			if cal.in(t) {
				row = e.ev(t, tPage, nPage)
				row[evAnon] = anon
				row[evURL] = b.pages[0]
				setTouch(row, &touch{c: b.direct, tm: -1})
			}
		}
		return
	}
	person := any(p.id("user-", u))
	c.count2(u.t.cr, cal.dayOf(u.installAt))
	if u.child >= 0 {
		b.ref.count3(cal.dayOf(u.signupAt))
	}
	// Install and onboarding carry the install's attribution.
	row = e.ev(u.installAt, tScreen, nInstall)
	row[evAnon] = anon
	setTouch(row, &u.t)
	for i := int64(1); i <= 2; i++ {
		if t := u.installAt + 20*i; t < u.signupAt {
			row = e.ev(t, tScreen, nOnboard)
			row[evAnon] = anon
			setTouch(row, &u.t)
		}
	}
	row = e.ev(u.signupAt, tIdentify, nil)
	row[evAnon], row[evPerson] = anon, person
	setTouch(row, &u.t)
	row = e.ev(u.signupAt+1, tTrack, nSignup)
	row[evAnon], row[evPerson] = anon, person
	setTouch(row, &u.t)
	app := func(ts int64, typ, name any) []any {
		row := e.ev(ts, typ, name)
		row[evAnon], row[evPerson] = anon, person
		row[evChannel] = b.appChannel
		return row
	}
	ai, di := 0, 0
	if u.annual {
		ai = 1
	}
	if u.android {
		di = 1
	}
	if u.trial {
		app(u.trialAt, tTrack, nTrial)[evProperties] = b.planProps[ai][di]
	}
	if u.paid {
		app(u.paidAt, tTrack, nSubscribe)[evProperties] = b.planProps[ai][di]
	}
	for _, t := range u.refs {
		app(t, tTrack, nReferral)
	}
	// A first workout on the signup day for about half the users.
	workout := func(tc int64, dur int64) {
		app(tc-dur-int64(30+r.IntN(150)), tScreen, nHome)
		app(tc-dur, tScreen, nPlayer)
		app(tc, tTrack, nWorkout)[evProperties] = b.workouts[r.IntN(len(b.workouts))]
	}
	if r.chance(0.55) {
		dur := int64(600 + r.IntN(1800))
		tc := u.signupAt + 240 + dur + int64(r.intBetween(0, 3*3600))
		if tc < cal.end {
			workout(tc, dur)
		}
	}
	// Day N is the 24-hour window [signup + N days, signup + N+1 days).
	lastN := u.lastDay()
	for n := 1; n <= lastN; n++ {
		ws := u.signupAt + int64(n)*day
		if ws >= cal.end {
			break
		}
		pr := u.activeProb(n)
		if pr == 0 || r.Float64() >= pr {
			continue
		}
		sec := u.pref + r.IntN(3600) - 1800
		sec = (sec%day + day) % day
		tc := u.z.next(cal, ws, sec)
		if tc >= cal.end {
			continue
		}
		wi := r.IntN(len(workouts))
		dur := int64(workouts[wi].min*60 + r.IntN(240))
		app(tc-dur-int64(30+r.IntN(150)), tScreen, nHome)
		app(tc-dur, tScreen, nPlayer)
		app(tc, tTrack, nWorkout)[evProperties] = b.workouts[wi]
		if r.IntN(10) == 0 {
			if t2 := tc + int64(r.intBetween(3600, 3*3600)); t2 < ws+day && t2 < cal.end {
				app(t2, tTrack, nWorkout)[evProperties] = b.workouts[r.IntN(len(b.workouts))]
			}
		}
	}
}
