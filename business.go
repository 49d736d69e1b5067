package bowtie

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"gopkg.in/yaml.v3"
)

// Business is the business model every analysis reads: reporting currency
// and time zone, the stage list, channel rules and metric policies. It is
// loaded from an optional bowtie.yaml; every field has a default.
type Business struct {
	// Preset is "b2b" or "b2c"; it sets the defaults the other fields
	// override.
	Preset string `yaml:"preset" json:"preset"`
	// Currency is the ISO 4217 code all money is reported in.
	Currency string `yaml:"currency" json:"currency"`
	// TimeZone is the IANA zone that days, weeks and months are cut in.
	TimeZone string `yaml:"time_zone" json:"time_zone"`
	// CustomerEntity says who a customer is: "account" (B2B: the buying
	// company) or "person" (B2C).
	CustomerEntity string `yaml:"customer_entity" json:"customer_entity"`
	// Stages is the lifecycle stage list in order, as stored in
	// stage_changes.stage.
	Stages []string `yaml:"stages" json:"stages"`
	// ReportStages names the stages the acquisition report counts as leads,
	// MQLs and SQLs (an empty name leaves that column empty).
	ReportStages ReportStages `yaml:"report_stages" json:"report_stages"`
	// SalesTouchEvents are the event names (events.name, logged against the
	// person) that count as a sales touch: a call, an e-mail, a meeting
	// from the CRM. The MQL follow-up figures (docs/metrics.md) measure
	// the time from MQL to the first of them.
	SalesTouchEvents []string `yaml:"sales_touch_events" json:"sales_touch_events"`
	// Channels are custom channel rules tried before the defaults (or
	// instead of them, with ReplaceDefaultChannels).
	Channels               ChannelRules `yaml:"channels" json:"channels"`
	ReplaceDefaultChannels bool         `yaml:"replace_default_channels" json:"replace_default_channels"`
	// CACCostTypes lists the spend.cost_type values that count toward CAC
	// and ROAS: "media" alone, or also "sales", "marketing", "tools", ...
	CACCostTypes []string `yaml:"cac_cost_types" json:"cac_cost_types"`
	// RevenueSources lists where revenue comes from: "orders" (paid orders
	// and invoices) and "deals" (won deals at their close date).
	RevenueSources []string `yaml:"revenue_sources" json:"revenue_sources"`
	// Targets are goals shown next to the figures, by metric name
	// (cpl, cac, roas, romi, mql_to_sql, ...).
	Targets map[string]float64 `yaml:"targets" json:"targets"`
	// Ingest configures the collection API: write keys and what is kept
	// of IP addresses and user agents.
	Ingest IngestConfig `yaml:"ingest" json:"ingest"`
	// Revenue holds the policies of MRR movements, churn and revenue
	// retention.
	Revenue RevenuePolicy `yaml:"revenue" json:"revenue"`
	// LTV holds the settings of lifetime value and unit economics.
	LTV LTVPolicy `yaml:"ltv" json:"ltv"`

	loc   *time.Location
	rules ChannelRules
}

// ReportStages maps the acquisition report's stage columns to stage names.
type ReportStages struct {
	Lead string `yaml:"lead" json:"lead"`
	MQL  string `yaml:"mql" json:"mql"`
	SQL  string `yaml:"sql" json:"sql"`
}

// Preset returns the defaults of the named preset ("b2b" or "b2c"; "" is
// b2c), validated and ready to use.
func Preset(name string) (*Business, error) {
	b := preset(name)
	if b == nil {
		return nil, Errorf(EINVALID, "unknown preset %q (use b2b or b2c)", name)
	}
	return b, b.init()
}

func preset(name string) *Business {
	b := basePreset(name)
	if b != nil {
		b.Revenue = defaultRevenuePolicy(b.Preset)
		b.LTV = defaultLTVPolicy(b.Preset)
	}
	return b
}

func basePreset(name string) *Business {
	switch name {
	case "b2b":
		return &Business{
			Preset: "b2b", Currency: "EUR", TimeZone: "Europe/Berlin", CustomerEntity: "account",
			Stages:           []string{"lead", "mql", "sql", "opportunity", "won"},
			ReportStages:     ReportStages{Lead: "lead", MQL: "mql", SQL: "sql"},
			SalesTouchEvents: []string{"sales_call", "sales_email", "sales_meeting"},
			CACCostTypes:     []string{"media", "events"},
			RevenueSources:   []string{"deals", "orders"},
			Targets:          map[string]float64{"mql_to_sql": 0.12, "cac_payback_months": 18},
			Channels: ChannelRules{
				{Channel: "Events", Medium: `event|events|tradeshow|trade-show|conference|fair`},
				{Channel: "Webinars", Medium: `webinar`},
				{Channel: "Partners", Medium: `partner|distributor|reseller|integrator`},
				{Channel: "Content", Medium: `whitepaper|white-paper|content|ebook|calculator`},
			},
		}
	case "b2c", "":
		return &Business{
			Preset: "b2c", Currency: "USD", TimeZone: "UTC", CustomerEntity: "person",
			Stages:         []string{"visitor", "signup", "trial", "paid"},
			ReportStages:   ReportStages{Lead: "signup", MQL: "trial", SQL: ""},
			CACCostTypes:   []string{"media"},
			RevenueSources: []string{"orders"},
			Targets:        map[string]float64{},
			Channels: ChannelRules{
				{Channel: "Influencers", Medium: `influencer|creator|ugc`},
				{Channel: "Referral Program", Medium: `referral-program|refer-a-friend|invite`},
				{Channel: "App Store Search", Medium: `aso|app-store|store-search`},
			},
		}
	}
	return nil
}

// LoadBusiness reads the YAML file at path on top of its preset's defaults.
// A missing file is not an error when optional is true: the b2c defaults
// apply. Unknown keys are errors, so typos do not pass silently.
func LoadBusiness(path string, optional bool) (*Business, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && optional {
		return Preset("")
	}
	if err != nil {
		return nil, Errorf(EINVALID, "config %s: %v", path, err)
	}
	var head struct {
		Preset string `yaml:"preset"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, Errorf(EINVALID, "config %s: %v", path, err)
	}
	b := preset(head.Preset)
	if b == nil {
		return nil, Errorf(EINVALID, "config %s: preset: unknown preset %q (use b2b or b2c)", path, head.Preset)
	}
	// Lists in the file replace the preset's lists; maps are merged.
	b.Channels = nil
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(b); err != nil {
		return nil, Errorf(EINVALID, "config %s: %v", path, err)
	}
	if err := b.init(); err != nil {
		return nil, Errorf(EINVALID, "config %s: %s", path, ErrorMessage(err))
	}
	return b, nil
}

// init validates b and prepares the derived fields.
func (b *Business) init() error {
	if !IsCurrency(b.Currency) {
		return Errorf(EINVALID, "currency: %q is not an ISO 4217 code", b.Currency)
	}
	loc, err := time.LoadLocation(b.TimeZone)
	if err != nil {
		return Errorf(EINVALID, "time_zone: %v", err)
	}
	b.loc = loc
	if b.CustomerEntity != "account" && b.CustomerEntity != "person" {
		return Errorf(EINVALID, "customer_entity: %q must be account or person", b.CustomerEntity)
	}
	if len(b.Stages) == 0 {
		return Errorf(EINVALID, "stages: the list is empty")
	}
	for _, s := range []string{b.ReportStages.Lead, b.ReportStages.MQL, b.ReportStages.SQL} {
		if s != "" && !contains(b.Stages, s) {
			return Errorf(EINVALID, "report_stages: %q is not in stages %v", s, b.Stages)
		}
	}
	for _, r := range b.RevenueSources {
		if r != "orders" && r != "deals" {
			return Errorf(EINVALID, "revenue_sources: %q must be orders or deals", r)
		}
	}
	if len(b.CACCostTypes) == 0 {
		return Errorf(EINVALID, "cac_cost_types: the list is empty")
	}
	if err := b.Ingest.init(); err != nil {
		return err
	}
	if err := b.Revenue.init(); err != nil {
		return err
	}
	if err := b.LTV.init(); err != nil {
		return err
	}
	rules := append(ChannelRules{}, b.Channels...)
	if !b.ReplaceDefaultChannels {
		rules = append(rules, DefaultChannelRules()...)
	}
	if err := rules.Compile(); err != nil {
		return err
	}
	b.rules = rules
	return nil
}

// Location returns the reporting time zone.
func (b *Business) Location() *time.Location { return b.loc }

// ChannelRules returns the effective, compiled channel rules: the custom
// ones, then the defaults.
func (b *Business) ChannelRules() ChannelRules { return b.rules }

// Channel classifies a touch with the effective rules.
func (b *Business) Channel(t Touch) string { return b.rules.Classify(t) }

// String summarises b for logs.
func (b *Business) String() string {
	return fmt.Sprintf("%s business, %s, %s", b.Preset, b.Currency, b.TimeZone)
}
