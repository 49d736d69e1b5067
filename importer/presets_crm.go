package importer

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// CRM exports → people, stage_changes, deals.

func init() {
	register(hubspotContacts)
	register(hubspotDeals)
	register(salesforceOpportunityHistory)
}

// hubspotStages maps HubSpot's "Became a ... Date" columns to stages.
var hubspotStages = []struct{ input, header, stage string }{
	{"became_lead", "Became a Lead Date", "lead"},
	{"became_mql", "Became a Marketing Qualified Lead Date", "mql"},
	{"became_sql", "Became a Sales Qualified Lead Date", "sql"},
	{"became_opportunity", "Became an Opportunity Date", "opportunity"},
	{"became_customer", "Became a Customer Date", "won"},
}

// hubspotLifecycle maps lifecycle stage labels and internal values.
var hubspotLifecycle = map[string]string{
	"subscriber": "subscriber", "lead": "lead",
	"marketing qualified lead": "mql", "marketingqualifiedlead": "mql", "mql": "mql",
	"sales qualified lead": "sql", "salesqualifiedlead": "sql", "sql": "sql",
	"opportunity": "opportunity", "customer": "won", "evangelist": "evangelist", "other": "other",
}

// hubspotSources maps HubSpot's Original Source (label or internal value)
// to channels.
var hubspotSources = map[string]string{
	"organic search": "Organic Search", "paid search": "Paid Search", "email marketing": "Email",
	"organic social": "Organic Social", "social media": "Organic Social", "paid social": "Paid Social",
	"referrals": "Referral", "ai referrals": "Referral", "other campaigns": "Unassigned",
	"direct traffic": "Direct", "offline sources": "Offline", "offline": "Offline", "display ads": "Display",
}

var hubspotContacts = &Preset{
	Name:   "hubspot-contacts",
	Title:  "HubSpot contacts export (CRM › Contacts › Export, all properties or a view), CSV",
	Writes: []string{"people", "stage_changes"},
	Inputs: append([]Input{
		{Name: "id", Headers: []string{"Record ID", "Contact ID"}, Required: true},
		{Name: "email", Headers: []string{"Email"}},
		{Name: "created", Headers: []string{"Create Date"}, Type: bowtie.Timestamp},
		{Name: "lifecycle_stage", Headers: []string{"Lifecycle Stage"}},
		{Name: "company", Headers: []string{"Associated Company ID", "Associated Company IDs", "Associated Company IDs (Primary)"}},
		{Name: "job_title", Headers: []string{"Job Title"}},
		{Name: "source", Headers: []string{"Original Source", "Original Traffic Source"}},
		{Name: "drill_down_1", Headers: []string{"Original Source Drill-Down 1", "Original Traffic Source Drill-Down 1"}},
		{Name: "drill_down_2", Headers: []string{"Original Source Drill-Down 2", "Original Traffic Source Drill-Down 2"}},
		{Name: "country", Headers: []string{"Country/Region", "Country"}},
	}, hubspotStageInputs()...),
	New: func() Converter {
		return ConvertFunc(func(c *Context, r *Row) {
			id := r.Get("id")
			p := c.New("people", r).From("person_id", "id").From("role", "job_title").
				From("country", "country").From("created_at", "created")
			if e := r.Get("email"); e != "" {
				p.Set("email_hash", HashEmail(e))
			}
			if co := firstID(r.Get("company")); co != "" {
				p.Set("account_id", co)
			}
			if ls := r.Get("lifecycle_stage"); ls != "" {
				if st, ok := hubspotLifecycle[strings.ToLower(ls)]; ok {
					p.Set("lifecycle_stage", st)
				} else {
					p.Set("lifecycle_stage", strings.ToLower(ls))
				}
			}
			src := strings.ToLower(strings.ReplaceAll(r.Get("source"), "_", " "))
			if src != "" {
				if ch, ok := hubspotSources[src]; ok {
					p.Set("channel", ch)
				} else {
					p.Set("channel", bowtie.Unassigned)
				}
			}
			p.Set("properties", jsonObject(map[string]string{
				"original_source": r.Get("source"), "original_source_drill_down_1": r.Get("drill_down_1"),
				"original_source_drill_down_2": r.Get("drill_down_2"),
			}))
			c.Emit(p)
			for _, s := range hubspotStages {
				if r.Get(s.input) == "" {
					continue
				}
				c.Emit(c.New("stage_changes", r).Set("entity_type", "person").Set("entity_id", id).
					Set("stage", s.stage).From("ts", s.input).Set("source", "hubspot"))
			}
		})
	},
}

func hubspotStageInputs() []Input {
	var out []Input
	for _, s := range hubspotStages {
		out = append(out, Input{Name: s.input, Headers: []string{s.header}, Type: bowtie.Timestamp})
	}
	return out
}

// firstID returns the first of a list of ids separated by ";" or ",".
func firstID(s string) string {
	if i := strings.IndexAny(s, ";,"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// jsonObject renders the non-empty entries of m as a JSON object, or ""
// when there are none.
func jsonObject(m map[string]string) string {
	out := map[string]string{}
	for k, v := range m {
		if v != "" {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return ""
	}
	b, _ := json.Marshal(out)
	return string(b)
}

var hubspotDeals = &Preset{
	Name:   "hubspot-deals",
	Title:  "HubSpot deals export (CRM › Deals › Export), CSV",
	Writes: []string{"deals"},
	Inputs: []Input{
		{Name: "id", Headers: []string{"Record ID", "Deal ID"}, Required: true},
		{Name: "name", Headers: []string{"Deal Name"}},
		{Name: "stage", Headers: []string{"Deal Stage"}, Required: true},
		{Name: "pipeline", Headers: []string{"Pipeline"}},
		{Name: "amount", Headers: []string{"Amount", "Amount in company currency"}, Type: bowtie.Money},
		{Name: "currency", Headers: []string{"Currency", "Deal currency code"}},
		{Name: "created", Headers: []string{"Create Date"}, Type: bowtie.Timestamp, Required: true},
		{Name: "closed", Headers: []string{"Close Date"}, Type: bowtie.Timestamp},
		{Name: "owner", Headers: []string{"Deal owner", "Deal Owner"}},
		{Name: "companies", Headers: []string{"Associated Company IDs", "Associated Company ID", "Associated Company IDs (Primary)"}},
		{Name: "contacts", Headers: []string{"Associated Contact IDs", "Associated Contact ID"}},
		{Name: "deal_type", Headers: []string{"Deal Type"}},
		{Name: "lost_reason", Headers: []string{"Closed Lost Reason"}},
	},
	New: func() Converter {
		return ConvertFunc(func(c *Context, r *Row) {
			status := hubspotDealStatus(r.Get("stage"))
			o := c.New("deals", r).From("deal_id", "id").From("name", "name").From("stage", "stage").
				From("pipeline", "pipeline").From("amount", "amount").From("currency", "currency").
				From("created_at", "created").From("owner", "owner").From("lost_reason", "lost_reason").
				Set("status", status)
			// For open deals the close date is only the expected one.
			if status != "open" {
				o.From("closed_at", "closed")
			}
			if co := firstID(r.Get("companies")); co != "" {
				o.Set("account_id", co)
			}
			if p := firstID(r.Get("contacts")); p != "" {
				o.Set("person_id", p)
			}
			o.Set("properties", jsonObject(map[string]string{"deal_type": r.Get("deal_type")}))
			c.Emit(o)
		})
	},
}

var nonLetters = regexp.MustCompile(`[^a-z]+`)

// hubspotDealStatus reads won or lost from a deal stage: the internal
// values closedwon and closedlost, or labels such as "Closed Won" and
// "Closed won (Sales Pipeline)".
func hubspotDealStatus(stage string) string {
	s := nonLetters.ReplaceAllString(strings.ToLower(stage), "")
	switch {
	case strings.Contains(s, "closedwon"):
		return "won"
	case strings.Contains(s, "closedlost"):
		return "lost"
	}
	return "open"
}

var salesforceOpportunityHistory = &Preset{
	Name:   "salesforce-opportunity-history",
	Title:  "Salesforce Opportunity History report (Reports › Opportunity History), exported as CSV (Details Only)",
	Writes: []string{"stage_changes"},
	Inputs: []Input{
		{Name: "id", Headers: []string{"Opportunity ID", "Opportunity ID (18)"}, Required: true},
		{Name: "name", Headers: []string{"Opportunity Name"}},
		{Name: "account", Headers: []string{"Account ID"}},
		{Name: "stage", Headers: []string{"Stage", "To Stage"}, Required: true},
		{Name: "amount", Headers: []string{"Amount"}, Type: bowtie.Money},
		{Name: "close_date", Headers: []string{"Close Date"}, Type: bowtie.Date},
		// The time of the change: history rows are never edited, so
		// Last Modified Date and Created Date agree; Edit Date is what the
		// Opportunity History report type calls it.
		{Name: "changed_at", Headers: []string{"Last Modified Date", "Created Date", "Edit Date"}, Type: bowtie.Timestamp, Required: true, Order: OrderMDY},
		{Name: "probability", Headers: []string{"Probability (%)"}, Type: bowtie.Float},
	},
	New: func() Converter { return &sfHistory{byOpp: map[string][]sfChange{}} },
}

// sfHistory holds every opportunity's history until the end of the file:
// a history row is written for any change (amount, close date,
// probability), and only the rows where the stage changed are stage
// changes.
type sfHistory struct {
	byOpp  map[string][]sfChange
	opps   []string
	footer bool
}

// SkipRaw skips the footer of report exports: an empty line, then
// copyright, confidentiality, "Generated By" and organisation lines, to the
// end of the file.
func (h *sfHistory) SkipRaw(cells []string) string {
	if len(cells) == 1 {
		first := strings.ToLower(strings.TrimSpace(cells[0]))
		if strings.HasPrefix(first, "copyright") {
			h.footer = true
		}
		if first == "" || h.footer {
			return "footer lines"
		}
	}
	return ""
}

type sfChange struct {
	at    time.Time
	stage string
	out   *Out
}

func (h *sfHistory) Convert(c *Context, r *Row) {
	o := c.New("stage_changes", r).Set("entity_type", "deal").From("entity_id", "id").
		From("stage", "stage").From("ts", "changed_at").Set("source", "salesforce")
	at, ok := c.Time(r, "changed_at")
	id := r.Get("id")
	if !ok || id == "" || r.Get("stage") == "" {
		c.Emit(o) // its errors are reported now
		return
	}
	if _, seen := h.byOpp[id]; !seen {
		h.opps = append(h.opps, id)
	}
	h.byOpp[id] = append(h.byOpp[id], sfChange{at: at, stage: r.Get("stage"), out: o})
}

func (h *sfHistory) Finish(c *Context) {
	for _, id := range h.opps {
		changes := h.byOpp[id]
		sort.SliceStable(changes, func(i, j int) bool { return changes[i].at.Before(changes[j].at) })
		prev := ""
		for _, ch := range changes {
			if strings.EqualFold(ch.stage, prev) {
				c.Skip("history rows without a stage change")
				continue
			}
			prev = ch.stage
			c.Emit(ch.out)
		}
	}
}
