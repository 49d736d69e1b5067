package bowtie

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Touch is what channel grouping looks at: the campaign parameters of a
// visit, its click id and its referrer.
type Touch struct {
	Source, Medium, Campaign string
	ClickIDType              string // gclid, fbclid, ... ("" when none)
	Referrer                 string // a URL or a bare host
}

// ChannelRule assigns Channel to a touch when all of its non-empty
// conditions match. Conditions are regular expressions matched against the
// whole lower-cased field (they are anchored); ClickID names click id types.
type ChannelRule struct {
	Channel  string   `yaml:"channel" json:"channel"`
	Source   string   `yaml:"source,omitempty" json:"source,omitempty"`
	Medium   string   `yaml:"medium,omitempty" json:"medium,omitempty"`
	Campaign string   `yaml:"campaign,omitempty" json:"campaign,omitempty"`
	ClickID  []string `yaml:"click_id,omitempty" json:"click_id,omitempty"`
	// NoUTM restricts the rule to touches without utm_source and utm_medium.
	NoUTM bool `yaml:"no_utm,omitempty" json:"no_utm,omitempty"`

	source, medium, campaign *regexp.Regexp
}

// ChannelRules is an ordered list of rules: the first match wins; a touch no
// rule matches is "Unassigned".
type ChannelRules []ChannelRule

// Unassigned is the channel of a touch that no rule matches.
const Unassigned = "Unassigned"

// Site lists used by GA4's default channel definitions ("source matches a
// list of search/social/video/shopping sites"). Google publishes the full
// lists as a spreadsheet; these are the entries that matter in practice,
// written here. Extend them with your own rules in bowtie.yaml.
const (
	searchSites   = `(.*\.)?(google|bing|yahoo|baidu|duckduckgo|yandex|ecosia|naver|seznam|ask|aol|startpage|qwant|search\.brave)(\.[a-z.]+)?|google|bing|yahoo|baidu|duckduckgo|yandex|ecosia`
	socialSites   = `(.*\.)?(facebook|fb|instagram|linkedin|lnkd|twitter|t|x|tiktok|pinterest|reddit|snapchat|quora|tumblr|vk|weibo|threads|discord|whatsapp|telegram|messenger|meta|xing)(\.[a-z.]+)?|ig|fb|li|tt`
	videoSites    = `(.*\.)?(youtube|youtu|vimeo|twitch|dailymotion|wistia)(\.[a-z.]+)?|youtube|yt`
	shoppingSites = `(.*\.)?(amazon|ebay|etsy|shopify|walmart|aliexpress|idealo|shopping\.google)(\.[a-z.]+)?|google shopping|igshopping`
	paidMedium    = `.*cp.*|ppc|retargeting|paid.*`
	shopCampaign  = `(.*(([^a-df-z]|^)shop|shopping).*)`
)

// DefaultChannelRules returns GA4's default channel group definitions in
// their documented order (support.google.com/analytics/answer/9756891),
// preceded by click-id rules for visits that carry a click id but no UTM
// parameters: gclid, gbraid, wbraid, msclkid and yclid are paid search;
// fbclid, ttclid and li_fat_id are paid social.
func DefaultChannelRules() ChannelRules {
	return ChannelRules{
		{Channel: "Paid Search", ClickID: []string{"gclid", "gbraid", "wbraid", "msclkid", "yclid"}, NoUTM: true},
		{Channel: "Paid Social", ClickID: []string{"fbclid", "ttclid", "li_fat_id"}, NoUTM: true},
		{Channel: "Direct", Source: `\(direct\)|direct`, Medium: `\(not set\)|\(none\)|none|`},
		{Channel: "Cross-network", Campaign: `.*cross-network.*`},
		{Channel: "Paid Shopping", Source: shoppingSites, Medium: paidMedium},
		{Channel: "Paid Shopping", Campaign: shopCampaign, Medium: paidMedium},
		{Channel: "Paid Search", Source: searchSites, Medium: paidMedium},
		{Channel: "Paid Social", Source: socialSites, Medium: paidMedium},
		{Channel: "Paid Video", Source: videoSites, Medium: paidMedium},
		{Channel: "Display", Medium: `display|banner|expandable|interstitial|cpm`},
		{Channel: "Paid Other", Medium: paidMedium},
		{Channel: "Organic Shopping", Source: shoppingSites},
		{Channel: "Organic Shopping", Campaign: shopCampaign},
		{Channel: "Organic Social", Source: socialSites},
		{Channel: "Organic Social", Medium: `social|social-network|social-media|sm|social network|social media`},
		{Channel: "Organic Video", Source: videoSites},
		{Channel: "Organic Video", Medium: `.*video.*`},
		{Channel: "Organic Search", Source: searchSites},
		{Channel: "Organic Search", Medium: `organic`},
		{Channel: "Referral", Medium: `referral|app|link`},
		{Channel: "Email", Source: `email|e-mail|e_mail|e mail`},
		{Channel: "Email", Medium: `email|e-mail|e_mail|e mail`},
		{Channel: "Affiliates", Medium: `affiliate`},
		{Channel: "Audio", Medium: `audio`},
		{Channel: "SMS", Source: `sms`},
		{Channel: "SMS", Medium: `sms`},
		{Channel: "Mobile Push Notifications", Medium: `.*push$|.*mobile.*|.*notification.*`},
		{Channel: "Mobile Push Notifications", Source: `firebase`},
	}
}

// Compile checks and compiles every rule's patterns. It must be called
// before Classify; the error names the rule by position.
func (rs ChannelRules) Compile() error {
	for i := range rs {
		r := &rs[i]
		if r.Channel == "" {
			return Errorf(EINVALID, "channel rule %d: channel is empty", i+1)
		}
		var err error
		for _, p := range []struct {
			expr string
			dst  **regexp.Regexp
			name string
		}{{r.Source, &r.source, "source"}, {r.Medium, &r.medium, "medium"}, {r.Campaign, &r.campaign, "campaign"}} {
			if p.expr == "" {
				continue
			}
			if *p.dst, err = regexp.Compile(`^(?:` + p.expr + `)$`); err != nil {
				return Errorf(EINVALID, "channel rule %d (%s): %s: %v", i+1, r.Channel, p.name, err)
			}
		}
		if r.source == nil && r.medium == nil && r.campaign == nil && len(r.ClickID) == 0 {
			return Errorf(EINVALID, "channel rule %d (%s): no condition", i+1, r.Channel)
		}
	}
	return nil
}

// Classify returns the channel of t: the first matching rule's channel, or
// Unassigned. Fields are trimmed and compared case-insensitively. A touch
// with neither source nor medium takes its source from the referrer host
// (medium "referral", or "organic" for search engines), and with no
// referrer either it is (direct) / (none).
func (rs ChannelRules) Classify(t Touch) string {
	src := strings.ToLower(strings.TrimSpace(t.Source))
	med := strings.ToLower(strings.TrimSpace(t.Medium))
	camp := strings.ToLower(strings.TrimSpace(t.Campaign))
	click := strings.ToLower(strings.TrimSpace(t.ClickIDType))
	noUTM := src == "" && med == ""
	if noUTM && click == "" {
		src, med = fromReferrer(t.Referrer)
	}
	for i := range rs {
		r := &rs[i]
		if r.NoUTM && !noUTM {
			continue
		}
		if len(r.ClickID) > 0 && !contains(r.ClickID, click) {
			continue
		}
		if r.source != nil && !r.source.MatchString(src) {
			continue
		}
		if r.medium != nil && !r.medium.MatchString(med) {
			continue
		}
		if r.campaign != nil && !r.campaign.MatchString(camp) {
			continue
		}
		return r.Channel
	}
	return Unassigned
}

var searchHost = regexp.MustCompile(`^(?:` + searchSites + `)$`)

// fromReferrer derives source and medium from a referrer the way analytics
// tools do when a visit has no campaign parameters.
func fromReferrer(ref string) (source, medium string) {
	ref = strings.ToLower(strings.TrimSpace(ref))
	if ref == "" {
		return "(direct)", "(none)"
	}
	host := ref
	if u, err := url.Parse(ref); err == nil && u.Host != "" {
		host = u.Host
	} else if i := strings.IndexAny(ref, "/?"); i >= 0 {
		host = ref[:i]
	}
	host = strings.TrimPrefix(host, "www.")
	if searchHost.MatchString(host) {
		return host, "organic"
	}
	return host, "referral"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// String renders a rule for error messages and the docs.
func (r ChannelRule) String() string {
	var parts []string
	if len(r.ClickID) > 0 {
		parts = append(parts, "click id in "+strings.Join(r.ClickID, ", "))
	}
	for _, p := range [][2]string{{"source", r.Source}, {"medium", r.Medium}, {"campaign", r.Campaign}} {
		if p[1] != "" {
			parts = append(parts, fmt.Sprintf("%s ~ %s", p[0], p[1]))
		}
	}
	return r.Channel + " if " + strings.Join(parts, " and ")
}
