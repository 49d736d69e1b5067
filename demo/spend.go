package demo

import (
	"math"
)

// fx holds the daily exchange rates the demo writes to fx_rates: 1 unit of
// the currency is worth rate units of the base. Rates are rounded to six
// decimals, and conversions in the truth use the rounded values.
type fx struct {
	usdEUR, gbpEUR, eurUSD, gbpUSD []float64
}

// newFX draws mean-reverting random walks for USD and GBP against EUR.
func newFX(g *gen) *fx {
	n := g.cal.n
	f := &fx{usdEUR: make([]float64, n), gbpEUR: make([]float64, n), eurUSD: make([]float64, n), gbpUSD: make([]float64, n)}
	r := newRnd()
	r.seed(g.opts.Seed, stFX, 0)
	usd, gbp := math.Log(0.87), math.Log(1.16)
	for d := 0; d < n; d++ {
		usd += 0.05*(math.Log(0.87)-usd) + 0.0045*r.NormFloat64()
		gbp += 0.05*(math.Log(1.16)-gbp) + 0.0035*r.NormFloat64()
		f.usdEUR[d] = round6(math.Exp(usd))
		f.gbpEUR[d] = round6(math.Exp(gbp))
		f.eurUSD[d] = round6(1 / f.usdEUR[d])
		f.gbpUSD[d] = round6(f.gbpEUR[d] / f.usdEUR[d])
	}
	return f
}

// rate returns what 1 unit of cur is worth in base on day d.
func (f *fx) rate(cur, base string, d int) float64 {
	switch {
	case cur == base:
		return 1
	case base == "EUR" && cur == "USD":
		return f.usdEUR[d]
	case base == "EUR" && cur == "GBP":
		return f.gbpEUR[d]
	case base == "USD" && cur == "EUR":
		return f.eurUSD[d]
	case base == "USD" && cur == "GBP":
		return f.gbpUSD[d]
	}
	panic("demo: no rate " + cur + "/" + base)
}

// writeFX produces the fx_rates rows: every day, USD and GBP in EUR and EUR
// and GBP in USD.
func (g *gen) writeFX(f *fx) func(s *sink) error {
	return func(s *sink) error {
		for d := 0; d < g.cal.n; d++ {
			date := g.cal.dates[d]
			for _, x := range [...]struct {
				cur, base string
				rate      float64
			}{{"USD", "EUR", f.usdEUR[d]}, {"GBP", "EUR", f.gbpEUR[d]}, {"EUR", "USD", f.eurUSD[d]}, {"GBP", "USD", f.gbpUSD[d]}} {
				row := s.row()
				row[0], row[1], row[2], row[3] = date, x.cur, x.base, x.rate
			}
		}
		return nil
	}
}

// tool is a monthly cost that is not bought per campaign (software
// licences, agency retainers): cost_type "tools" unless said otherwise.
type tool struct {
	source, channel, adGroup string
	perMonth                 float64 // at DefaultEvents; scaled with Options.Events
	currency, costType       string
}

// writeSpend produces the spend rows of every campaign and tool, and adds
// them to the truth.
func (g *gen) writeSpend(p *plan, f *fx, tools []tool) func(s *sink) error {
	return func(s *sink) error {
		r := newRnd()
		base := g.biz.Currency
		cal := g.cal
		add := func(c, cur, costType string, d int, cents int64) {
			ch := g.ch(c)
			ch.spendCents[cur] += cents
			v := float64(cents) / 100 * f.rate(cur, base, d)
			ch.Spend += v
			ch.SpendByCostType[costType] += v
		}
		emit := func(d int, src string, c *campaign, channel string, adGroup string, creative any, impr, clicks, conv, inst int64, cents int64, cur string, costType string) {
			row := s.row()
			row[0] = cal.dates[d]
			row[1] = src
			row[2] = channel
			if c != nil {
				row[3] = c.name
			} else {
				row[3] = ""
			}
			row[4] = adGroup
			if creative == nil {
				row[5] = ""
			} else {
				row[5] = creative
			}
			if impr >= 0 {
				row[6] = impr
			}
			if clicks >= 0 {
				row[7] = clicks
			}
			row[8] = float64(cents) / 100
			row[9] = cur
			if conv >= 0 {
				row[10] = float64(conv)
			}
			if inst >= 0 {
				row[11] = inst
			}
			row[12] = costType
			add(channel, cur, costType, d, cents)
		}
		n := cal.n
		scale := float64(g.opts.Events) / float64(DefaultEvents)
		for _, c := range p.camps {
			sm := c.spend
			if sm.kind == spendNone {
				continue
			}
			src := c.src
			ct := sm.costType
			if ct == "" {
				ct = "media"
			}
			for cr := range c.creatives {
				r.seed(g.opts.Seed, stSpend, uint64(c.idx)<<8|uint64(cr))
				tl := c.tally[cr*n : (cr+1)*n]
				t2 := c.tally2[cr*n : (cr+1)*n]
				switch sm.kind {
				case spendClicks, spendCPM:
					for d := 0; d < n; d++ {
						if c.shape[d] <= 0 && tl[d] == 0 {
							continue
						}
						v := float64(tl[d])
						clicks := int64(math.Round(v / sm.visit * r.lognormal(1, 0.08)))
						if tl[d] == 0 {
							// Clicks that brought no tracked visit; the floor
							// scales with the world so CPC stays realistic.
							clicks = int64(r.poisson(0.4 * scale))
						}
						impr := int64(math.Round(float64(clicks) / (sm.ctr * r.lognormal(1, 0.15))))
						if clicks == 0 {
							impr = int64(r.poisson(0.3 * scale / sm.ctr))
						}
						var cost float64
						if sm.kind == spendCPM {
							cost = float64(impr) / 1000 * sm.cpm * r.lognormal(1, 0.05)
						} else {
							cost = float64(clicks) * sm.cpc * r.lognormal(1, 0.12)
							if clicks == 0 {
								cost = float64(impr) / 1000 * sm.cpc * 2
							}
						}
						cents := int64(math.Round(cost * 100))
						if cents <= 0 {
							continue
						}
						conv, inst := int64(-1), int64(-1)
						if src.convMul > 0 {
							conv = int64(math.Round(float64(t2[d]) * src.convMul * r.lognormal(1, 0.1)))
						}
						if src.installMul > 0 {
							inst = int64(math.Round(float64(t2[d]) * src.installMul * r.lognormal(1, 0.1)))
						}
						emit(d, src.name, c, c.channel, sm.adGroup, c.creatives[cr], impr, clicks, conv, inst, cents, c.currency, ct)
					}
				case spendVisitor:
					for d := 0; d < n; d++ {
						if tl[d] == 0 {
							continue
						}
						cents := int64(math.Round(float64(tl[d]) * sm.perUnit * r.lognormal(1, 0.1) * 100))
						emit(d, src.name, c, c.channel, sm.adGroup, c.creatives[cr], -1, int64(tl[d]), -1, -1, cents, c.currency, ct)
					}
				case spendFixed, spendPost:
					var total int64
					var days []int
					for d := 0; d < n; d++ {
						total += int64(tl[d])
						if c.shape[d] >= 1 {
							days = append(days, d)
						}
					}
					if len(days) == 0 {
						continue
					}
					if sm.kind == spendPost {
						days = days[:1]
					}
					cents := int64(math.Round(float64(max(total, 3)) * sm.perUnit * r.lognormal(1, 0.1) * 100))
					each := cents / int64(len(days))
					for i, d := range days {
						x := each
						if i == 0 {
							x += cents - each*int64(len(days))
						}
						impr, clicks := int64(-1), int64(-1)
						if sm.kind == spendPost {
							impr = int64(math.Round(float64(max(total, 3)) * 55 * r.lognormal(1, 0.3)))
							clicks = int64(math.Round(float64(total) / sm.visit))
						}
						emit(d, src.name, c, c.channel, sm.adGroup, c.creatives[cr], impr, clicks, -1, -1, x, c.currency, ct)
					}
				case spendIncentive:
					// A credit per converted visitor (B2C referral rewards).
					for d := 0; d < n && cr == 0; d++ {
						if c.tally3[d] == 0 {
							continue
						}
						cents := int64(math.Round(float64(c.tally3[d]) * sm.perUnit * 100))
						emit(d, src.name, c, c.channel, sm.adGroup, nil, -1, -1, -1, -1, cents, c.currency, ct)
					}
				case spendMonthly:
					for d := 0; d < n; {
						e := d + 1
						for e < n && cal.dates[e].Day() != 1 {
							e++
						}
						var total int64
						active := false
						for i := d; i < e; i++ {
							total += int64(tl[i])
							active = active || c.shape[i] > 0
						}
						if active {
							cents := int64(math.Round(float64(total) * sm.perUnit * r.lognormal(1, 0.1) * 100))
							if cents > 0 {
								emit(d, src.name, c, c.channel, sm.adGroup, c.creatives[cr], -1, -1, -1, -1, cents, c.currency, ct)
							}
						}
						d = e
					}
				}
				if s.stopped {
					return nil
				}
			}
		}
		for ti, t := range tools {
			r.seed(g.opts.Seed, stSpend, 1<<40|uint64(ti))
			ct := t.costType
			if ct == "" {
				ct = "tools"
			}
			for d := 0; d < n; d++ {
				if d > 0 && cal.dates[d].Day() != 1 {
					continue
				}
				cents := int64(math.Round(t.perMonth * scale * r.lognormal(1, 0.03) * 100))
				if cents <= 0 {
					continue
				}
				emit(d, t.source, nil, t.channel, t.adGroup, nil, -1, -1, -1, -1, cents, t.currency, ct)
			}
		}
		return nil
	}
}
