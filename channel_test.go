package bowtie

import (
	"os"
	"path/filepath"
	"testing"
)

func TestChannelRules_Classify(t *testing.T) {
	rules := DefaultChannelRules()
	if err := rules.Compile(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		touch Touch
		want  string
	}{
		{Touch{}, "Direct"},
		{Touch{Source: "(direct)", Medium: "(none)"}, "Direct"},
		{Touch{Source: "google", Medium: "cpc"}, "Paid Search"},
		{Touch{Source: "Google", Medium: "CPC"}, "Paid Search"}, // case-insensitive
		{Touch{Source: "bing", Medium: "ppc"}, "Paid Search"},
		{Touch{Source: "facebook", Medium: "paid_social"}, "Paid Social"},
		{Touch{Source: "linkedin", Medium: "cpc"}, "Paid Social"},
		{Touch{Source: "tiktok", Medium: "paid"}, "Paid Social"},
		{Touch{Source: "youtube", Medium: "cpv"}, "Paid Video"},
		{Touch{Source: "google", Medium: "cpc", Campaign: "Brand Cross-Network"}, "Cross-network"},
		{Touch{Source: "amazon", Medium: "cpc"}, "Paid Shopping"},
		{Touch{Source: "google", Medium: "cpc", Campaign: "summer shopping"}, "Paid Shopping"},
		{Touch{Source: "criteo", Medium: "display"}, "Display"},
		{Touch{Source: "taboola", Medium: "cpm"}, "Display"}, // Display precedes Paid Other
		{Touch{Source: "taboola", Medium: "cpa"}, "Paid Other"},
		{Touch{Source: "newsletter", Medium: "email"}, "Email"},
		{Touch{Source: "facebook", Medium: "social"}, "Organic Social"},
		{Touch{Source: "instagram.com", Medium: "referral"}, "Organic Social"},
		{Touch{Source: "partner.example", Medium: "affiliate"}, "Affiliates"},
		{Touch{Source: "sms", Medium: "text"}, "SMS"},
		{Touch{Source: "app", Medium: "push"}, "Mobile Push Notifications"},
		{Touch{Referrer: "https://www.google.com/search?q=x"}, "Organic Search"},
		{Touch{Referrer: "https://blog.example.org/post"}, "Referral"},
		{Touch{Referrer: "https://m.youtube.com/watch"}, "Organic Video"},
		{Touch{ClickIDType: "gclid"}, "Paid Search"},
		{Touch{ClickIDType: "fbclid", Referrer: "https://facebook.com"}, "Paid Social"},
		{Touch{ClickIDType: "gclid", Source: "newsletter", Medium: "email"}, "Email"}, // UTM wins over click id
		{Touch{Source: "weird", Medium: "thing"}, Unassigned},
	}
	for _, tt := range tests {
		if got := rules.Classify(tt.touch); got != tt.want {
			t.Errorf("Classify(%+v) = %q, want %q", tt.touch, got, tt.want)
		}
	}
}

func TestChannelRules_CompileErr(t *testing.T) {
	for _, rs := range []ChannelRules{
		{{Channel: "", Medium: "x"}},
		{{Channel: "X"}},
		{{Channel: "X", Source: "("}},
	} {
		if err := rs.Compile(); err == nil || ErrorCode(err) != EINVALID {
			t.Errorf("Compile(%+v) = %v, want an EINVALID error", rs, err)
		}
	}
}

func TestLoadBusiness(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "bowtie.yaml")
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	t.Run("MissingIsDefault", func(t *testing.T) {
		b, err := LoadBusiness(filepath.Join(dir, "none.yaml"), true)
		if err != nil || b.Preset != "b2c" || b.Currency != "USD" {
			t.Fatalf("got %v, %v", b, err)
		}
	})
	t.Run("B2BWithOverrides", func(t *testing.T) {
		b, err := LoadBusiness(write("preset: b2b\ncurrency: CHF\nchannels:\n  - channel: Trade Press\n    source: 'industrial-weekly|machinery-news'\n"), false)
		if err != nil {
			t.Fatal(err)
		}
		if b.Currency != "CHF" || b.TimeZone != "Europe/Berlin" || b.CustomerEntity != "account" {
			t.Fatalf("got %+v", b)
		}
		if got := b.Channel(Touch{Source: "Machinery-News", Medium: "banner"}); got != "Trade Press" {
			t.Fatalf("custom rule not first: %q", got)
		}
		if got := b.Channel(Touch{Source: "google", Medium: "cpc"}); got != "Paid Search" {
			t.Fatalf("defaults lost: %q", got)
		}
	})
	for name, body := range map[string]string{
		"ErrUnknownKey":      "preset: b2b\ncurency: EUR\n",
		"ErrCurrency":        "currency: EURO\n",
		"ErrZone":            "time_zone: Mars/Olympus\n",
		"ErrPreset":          "preset: b2x\n",
		"ErrStage":           "report_stages: {lead: prospect}\n",
		"ErrRule":            "channels: [{channel: X, source: '('}]\n",
		"ErrRevenueSource":   "revenue_sources: [invoices]\n",
		"ErrCustomerEntitiy": "customer_entity: household\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadBusiness(write(body), false); ErrorCode(err) != EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
		})
	}
}
