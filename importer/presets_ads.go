package importer

import (
	"regexp"
	"strings"

	"github.com/bowtie-analytics/bowtie"
)

// Ad platforms' campaign reports → spend.

func init() {
	register(googleAds)
	register(metaAds)
	register(linkedinAds)
}

// googleAdsChannels maps Google Ads campaign types to channels (Demand Gen,
// formerly Discovery, runs across YouTube, Discover and Gmail: GA4 counts it
// as Cross-network); other types (App, Smart, Hotel, Local, ...) go through
// the channel rules as source google, medium cpc.
var googleAdsChannels = map[string]string{
	"search":          "Paid Search",
	"display":         "Display",
	"video":           "Paid Video",
	"shopping":        "Paid Shopping",
	"performance max": "Cross-network",
	"demand gen":      "Cross-network",
	"discovery":       "Cross-network",
}

var googleAds = &Preset{
	Name:   "google-ads",
	Title:  "Google Ads campaign report (Reports › Campaigns, segmented by Day), downloaded as CSV",
	Writes: []string{"spend"},
	Inputs: []Input{
		{Name: "date", Headers: []string{"Day", "Date"}, Type: bowtie.Date, Required: true},
		{Name: "campaign", Headers: []string{"Campaign"}, Required: true},
		{Name: "campaign_type", Headers: []string{"Campaign type", "Advertising channel type"}},
		{Name: "ad_group", Headers: []string{"Ad group"}},
		{Name: "currency", Headers: []string{"Currency code", "Currency"}},
		{Name: "impressions", Headers: []string{"Impr.", "Impressions"}, Type: bowtie.Int},
		{Name: "clicks", Headers: []string{"Clicks"}, Type: bowtie.Int},
		{Name: "cost", Headers: []string{"Cost"}, Type: bowtie.Money, Required: true},
		{Name: "conversions", Headers: []string{"Conversions"}, Type: bowtie.Float},
	},
	// The report ends with total rows ("Total: Account", "Total: Search",
	// "Total: Campaigns", ...): they would double the spend.
	SkipRaw: func(cells []string) string {
		for _, c := range cells {
			c = strings.TrimSpace(c)
			if c == "" {
				continue
			}
			if l := strings.ToLower(c); strings.HasPrefix(l, "total:") || l == "total" {
				return "total rows"
			}
			return ""
		}
		return ""
	},
	New: func() Converter {
		return ConvertFunc(func(c *Context, r *Row) {
			o := c.New("spend", r).
				From("date", "date").Set("source", "google").
				From("campaign", "campaign").From("ad_group", "ad_group").
				From("impressions", "impressions").From("clicks", "clicks").
				From("cost", "cost").From("currency", "currency").
				From("platform_conversions", "conversions")
			typ := strings.ReplaceAll(strings.ToLower(r.Get("campaign_type")), "_", " ")
			if ch, ok := googleAdsChannels[typ]; ok {
				o.Set("channel", ch)
			} else {
				o.Medium = "cpc"
			}
			c.Emit(o)
		})
	},
}

var metaAds = &Preset{
	Name:   "meta-ads",
	Title:  "Meta Ads Manager export (campaigns, ad sets or ads, broken down by Day), CSV",
	Writes: []string{"spend"},
	Inputs: []Input{
		{Name: "day", Headers: []string{"Day"}, Type: bowtie.Date},
		{Name: "date", Headers: []string{"Reporting starts"}, Type: bowtie.Date, Required: true},
		{Name: "date_end", Headers: []string{"Reporting ends"}, Type: bowtie.Date},
		{Name: "campaign", Headers: []string{"Campaign name"}},
		{Name: "ad_set", Headers: []string{"Ad set name"}},
		{Name: "ad", Headers: []string{"Ad name"}},
		{Name: "impressions", Headers: []string{"Impressions"}, Type: bowtie.Int},
		{Name: "clicks", Headers: []string{"Link clicks", "Clicks (all)"}, Type: bowtie.Int},
		// "Amount spent (EUR)": the currency is in the header.
		{Name: "cost", Pattern: regexp.MustCompile(`^amount spent(?: \(([a-z]{3})\))?$`), Type: bowtie.Money, Required: true},
		{Name: "currency", Headers: []string{"Currency"}},
		{Name: "results", Headers: []string{"Results"}, Type: bowtie.Float},
	},
	New: func() Converter {
		return ConvertFunc(func(c *Context, r *Row) {
			names := r.Has("campaign") || r.Has("ad_set") || r.Has("ad")
			if names && r.Get("campaign") == "" && r.Get("ad_set") == "" && r.Get("ad") == "" {
				c.Skip("summary rows")
				return
			}
			o := c.New("spend", r).Set("source", "facebook").Set("channel", "Paid Social").
				From("campaign", "campaign").From("ad_group", "ad_set").From("creative", "ad").
				From("impressions", "impressions").From("clicks", "clicks").
				From("cost", "cost").From("platform_conversions", "results")
			if r.Get("day") != "" {
				o.From("date", "day")
			} else {
				o.From("date", "date")
				start, end := r.Get("date"), r.Get("date_end")
				if end != "" && start != "" && !sameDay(c, r, "date", "date_end") {
					c.Error(r, "date", "the row covers "+start+" to "+end+": export with the breakdown By time › Day so that spend lands on the days it was spent")
				}
			}
			if cur := r.Get("currency"); cur != "" {
				o.From("currency", "currency")
			} else if cur := r.Capture("cost"); cur != "" {
				o.Set("currency", strings.ToUpper(cur))
			}
			c.Emit(o)
		})
	},
}

// sameDay reports whether two date inputs name the same day (or do not
// parse, which the date field reports).
func sameDay(c *Context, r *Row, a, b string) bool {
	da, err1 := c.run.timeOf(r.Get(a), c.run.byName[a], true)
	db, err2 := c.run.timeOf(r.Get(b), c.run.byName[b], true)
	return err1 != nil || err2 != nil || da.Equal(db)
}

var linkedinAds = &Preset{
	Name:   "linkedin-ads",
	Title:  "LinkedIn Campaign Manager campaign performance report (time breakdown Daily), CSV",
	Writes: []string{"spend"},
	Inputs: []Input{
		// LinkedIn writes dates month first (3/31/2024) for every locale.
		{Name: "date", Headers: []string{"Start Date (in UTC)", "Start Date"}, Type: bowtie.Date, Required: true, Order: OrderMDY},
		{Name: "campaign", Headers: []string{"Campaign Name", "Campaign"}, Required: true},
		{Name: "campaign_group", Headers: []string{"Campaign Group Name", "Campaign Group"}},
		{Name: "currency", Headers: []string{"Currency"}},
		{Name: "cost", Headers: []string{"Total Spent", "Amount Spent"}, Type: bowtie.Money, Required: true},
		{Name: "impressions", Headers: []string{"Impressions"}, Type: bowtie.Int},
		{Name: "clicks", Headers: []string{"Clicks"}, Type: bowtie.Int},
		{Name: "conversions", Headers: []string{"Conversions"}, Type: bowtie.Float},
		{Name: "leads", Headers: []string{"Leads"}, Type: bowtie.Float},
	},
	New: func() Converter {
		return ConvertFunc(func(c *Context, r *Row) {
			o := c.New("spend", r).Set("source", "linkedin").Set("channel", "Paid Social").
				From("date", "date").From("campaign", "campaign").
				From("impressions", "impressions").From("clicks", "clicks").
				From("cost", "cost").From("currency", "currency")
			if r.Get("conversions") != "" {
				o.From("platform_conversions", "conversions")
			} else {
				o.From("platform_conversions", "leads")
			}
			c.Emit(o)
		})
	},
}
