package importer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// Row is one record of the file as a converter sees it: cells by input
// name.
type Row struct {
	run *run
	rec *record
}

// Line is where the record starts in the file.
func (r *Row) Line() int { return r.rec.line }

// Get returns the trimmed cell of the named input ("" when empty or when
// the file has no such column).
func (r *Row) Get(input string) string {
	c := r.run.byName[input]
	if c == nil {
		return ""
	}
	v, _ := r.run.value(r.rec, c)
	return v
}

// Has reports whether the file has the input's column (for JSON lines:
// whether this record has the key).
func (r *Row) Has(input string) bool {
	c := r.run.byName[input]
	if c == nil {
		return false
	}
	_, ok := r.run.value(r.rec, c)
	return ok
}

// Capture returns what the input's header pattern captured ("eur" from
// "Amount spent (EUR)").
func (r *Row) Capture(input string) string {
	if c := r.run.byName[input]; c != nil {
		return c.capture
	}
	return ""
}

// Context is what a converter works with during one import.
type Context struct {
	run *run
	// Business is the business model (channel rules, time zone).
	Business *bowtie.Business
	// Currency is --currency ("" when not given).
	Currency string

	pending []*Out
	errs    []pendingErr
}

type pendingErr struct {
	rec *record
	err RowError
}

// New starts a row of table for the record r. The table must be one the
// preset writes.
func (c *Context) New(table string, r *Row) *Out {
	ts := c.run.tables[table]
	if ts == nil {
		panic("importer: preset " + c.run.preset.Name + " emits undeclared table " + table)
	}
	return &Out{table: ts, vals: make([]val, len(ts.t.Fields)), rec: r.rec, run: c.run}
}

// Emit hands a finished row to the import. Rows of one record are stored
// together or not at all.
func (c *Context) Emit(o *Out) { c.pending = append(c.pending, o) }

// Skip counts the record as skipped on purpose, for the summary.
func (c *Context) Skip(reason string) { c.run.skip(reason) }

// Error rejects the record r for a reason about field.
func (c *Context) Error(r *Row, field, reason string) {
	c.errs = append(c.errs, pendingErr{r.rec, RowError{File: c.run.file, Line: r.rec.line, Field: field, Reason: reason}})
}

// Time parses the input's cell as a timestamp the way the import reads
// that column. ok is false when the cell is empty or does not parse (the
// field the cell is stored in reports the problem).
func (c *Context) Time(r *Row, input string) (t time.Time, ok bool) {
	col := c.run.byName[input]
	v := r.Get(input)
	if col == nil || v == "" {
		return time.Time{}, false
	}
	t, err := c.run.timeOf(v, col, false)
	return t, err == nil
}

// Float parses the input's cell as a number (money cells too: the
// currency is ignored). ok is false when it is empty or does not parse.
func (c *Context) Float(r *Row, input string) (float64, bool) {
	v := r.Get(input)
	if v == "" || v == "--" {
		return 0, false
	}
	if f, _, err := ParseMoney(v); err == nil {
		return f, true
	}
	f, err := ParseFloat(v)
	return f, err == nil
}

// Out is one row on its way to a table.
type Out struct {
	run   *run
	table *tableState
	vals  []val
	rec   *record
	// Medium is the medium the channel rules see for a spend row without
	// a channel ("paid" when empty).
	Medium string
}

// val is one field of an Out: text to parse (from a column, or derived),
// or a value that needs no parsing.
type val struct {
	set   bool
	text  string
	col   *column // the column the text comes from; nil when derived
	typed any
	ok    bool // typed holds the value
}

func (o *Out) index(field string) int {
	i, ok := o.table.fieldIdx[field]
	if !ok {
		panic(fmt.Sprintf("importer: %s has no field %s", o.table.t.Name, field))
	}
	return i
}

// From sets field from the input's cell; it stays unset (NULL) when the
// file has no such column.
func (o *Out) From(field, input string) *Out {
	c := o.run.byName[input]
	if c == nil {
		return o
	}
	v, ok := o.run.value(o.rec, c)
	if !ok {
		return o
	}
	o.vals[o.index(field)] = val{set: true, text: v, col: c}
	return o
}

// Set sets field to a derived text value, parsed like a cell.
func (o *Out) Set(field, text string) *Out {
	o.vals[o.index(field)] = val{set: true, text: text}
	return o
}

// Put sets field to a value that needs no parsing (string, int64, float64,
// bool, time.Time in UTC).
func (o *Out) Put(field string, v any) *Out {
	o.vals[o.index(field)] = val{set: true, typed: v, ok: true}
	return o
}

// Text returns field's text as set so far.
func (o *Out) Text(field string) string { return o.vals[o.index(field)].text }

// typed parses every field of o and completes the row: currency,
// defaults, enumerations, channel and required fields.
func (r *run) typed(o *Out) ([]any, []RowError) {
	t := o.table.t
	row := make([]any, len(t.Fields))
	var errs []RowError
	fail := func(field, reason string) {
		errs = append(errs, RowError{File: r.file, Line: o.rec.line, Field: field, Reason: reason})
	}
	type moneyCur struct {
		field, text, cur string
	}
	var moneyCurs []moneyCur
	for i, f := range t.Fields {
		v := o.vals[i]
		if !v.set {
			continue
		}
		if v.ok {
			if str, ok := v.typed.(string); ok {
				if reason := textProblem(f, str); reason != "" {
					fail(f.Name, reason)
					continue
				}
			}
			row[i] = v.typed
			continue
		}
		s := strings.TrimSpace(v.text)
		if s == "" {
			continue
		}
		if reason := textProblem(f, s); reason != "" {
			fail(f.Name, reason)
			continue
		}
		if f.Type != bowtie.Text && f.Type != bowtie.JSON && len(s) > maxScalarBytes {
			// Errors quote the value: not all of it.
			fail(f.Name, fmt.Sprintf("%q is %d bytes long: too long for a %s field", abbreviate(s, 40), len(s), f.Type))
			continue
		}
		var err error
		switch f.Type {
		case bowtie.Text:
			row[i] = s
		case bowtie.Timestamp:
			row[i], err = r.timeOf(s, v.col, false)
		case bowtie.Date:
			row[i], err = r.timeOf(s, v.col, true)
		case bowtie.Int:
			if s == "--" {
				continue
			}
			var n int64
			n, err = ParseInt(s)
			if err == nil && int32Fields[t.Name+"."+f.Name] && (n > math.MaxInt32 || n < math.MinInt32) {
				err = fmt.Errorf("%q is too large", s)
			}
			row[i] = n
		case bowtie.Money:
			if s == "--" {
				continue
			}
			var m float64
			var cur string
			m, cur, err = ParseMoney(s)
			row[i] = m
			if err == nil && cur != "" {
				moneyCurs = append(moneyCurs, moneyCur{f.Name, s, cur})
			}
		case bowtie.Float:
			if s == "--" {
				continue
			}
			row[i], err = ParseFloat(s)
		case bowtie.Bool:
			row[i], err = ParseBool(s)
		case bowtie.Currency:
			row[i], err = ParseCurrency(s)
		case bowtie.JSON:
			row[i], err = ParseJSON(s)
		}
		if err != nil {
			row[i] = nil
			reason := err.Error()
			if v.col != nil && v.col.header != "" && normHeader(v.col.header) != f.Name {
				reason += fmt.Sprintf(" (column %q)", strings.TrimSpace(v.col.header))
			}
			fail(f.Name, reason)
		}
	}

	// Values that parse but cannot be: negative counts, amounts without
	// --allow-negative, dates out of range or in the future.
	for i, f := range t.Fields {
		if row[i] == nil || hasError(errs, f.Name) {
			continue
		}
		if reason := r.rangeProblem(t.Name, f, row[i]); reason != "" {
			text := strings.TrimSpace(o.vals[i].text)
			if o.vals[i].ok {
				text = keyText(row[i])
			}
			fail(f.Name, fmt.Sprintf("%q %s", text, reason))
		}
	}

	// Currency: the row's own, else the one written in an amount, else
	// --currency.
	if ci, ok := o.table.fieldIdx["currency"]; ok && !hasError(errs, "currency") {
		cur, _ := row[ci].(string)
		for _, mc := range moneyCurs {
			if isAmbiguousSymbol(mc.cur) {
				continue
			}
			switch {
			case cur == "":
				cur = mc.cur
			case cur != mc.cur:
				fail(mc.field, fmt.Sprintf("%q is in %s but the row's currency is %s", mc.text, mc.cur, cur))
			}
		}
		if cur == "" {
			cur = r.opts.Currency
		}
		ambiguous := false
		if cur == "" {
			for _, mc := range moneyCurs {
				if isAmbiguousSymbol(mc.cur) && !ambiguous {
					ambiguous = true
					fail("currency", fmt.Sprintf("%s %q uses %q, the symbol of several currencies: add a currency column or pass --currency", mc.field, mc.text, mc.cur))
				}
			}
		}
		if cur != "" {
			row[ci] = cur
		} else if !ambiguous {
			for _, f := range t.Fields {
				if f.Type == bowtie.Money && row[o.table.fieldIdx[f.Name]] != nil {
					amount := strconv.FormatFloat(row[o.table.fieldIdx[f.Name]].(float64), 'f', -1, 64)
					fail("currency", fmt.Sprintf("%s %s has no currency: add a currency column, write it in the amount (€12.50, 12.50 EUR) or pass --currency", f.Name, amount))
					break
				}
			}
		}
	}

	// Defaults the schema declares, so that NOT NULL columns get them.
	for field, v := range defaults[t.Name] {
		if i := o.table.fieldIdx[field]; row[i] == nil {
			row[i] = v
		}
	}

	// Enumerations, stored lower-case.
	for _, e := range enums[t.Name] {
		field, allowed := e.field, e.allowed
		i := o.table.fieldIdx[field]
		s, ok := row[i].(string)
		if !ok {
			continue
		}
		norm := strings.ToLower(strings.TrimSpace(s))
		if alias, ok := enumAliases[t.Name+"."+field][norm]; ok {
			norm = alias
		}
		if !contains(allowed, norm) {
			fail(field, fmt.Sprintf("%q is not one of %s", abbreviate(s, 40), strings.Join(allowed, ", ")))
			continue
		}
		row[i] = norm
	}

	// Only track, page and screen events have a name (docs/schema.md); the
	// analyses select events by name alone.
	if t.Name == "events" && !hasError(errs, "type") {
		if typ, _ := row[o.table.fieldIdx["type"]].(string); row[o.table.fieldIdx["name"]] != nil && typ != "" && typ != "track" && typ != "page" && typ != "screen" {
			a := "a"
			if strings.ContainsRune("aeiou", rune(typ[0])) {
				a = "an"
			}
			fail("name", fmt.Sprintf("%q: %s %s event has no name (only track, page and screen events do); leave it empty", row[o.table.fieldIdx["name"]], a, typ))
		}
	}

	r.complete(o, row)

	for i, f := range t.Fields {
		if f.Required && row[i] == nil && !hasError(errs, f.Name) {
			reason := "required, but empty"
			if !o.vals[i].set {
				reason = "required, but missing"
			}
			fail(f.Name, reason)
		}
	}
	return row, errs
}

// textProblem says what is wrong with s as a value of f regardless of
// its type, or "": a NUL byte, or longer than its limit (MaxCellBytes;
// MaxIDBytes for identifiers; MaxKeyBytes for other key fields).
func textProblem(f bowtie.Field, s string) string {
	if reason := cellProblem(s, -1, false); reason != "" {
		return reason
	}
	if f.Type != bowtie.Text {
		return ""
	}
	switch {
	case isID(f.Name) && len(s) > MaxIDBytes:
		return fmt.Sprintf("is %d bytes long: an identifier may hold at most %d bytes", len(s), MaxIDBytes)
	case (f.Key || f.Name == "click_id") && len(s) > MaxKeyBytes:
		return fmt.Sprintf("is %d bytes long: a key field may hold at most %d bytes", len(s), MaxKeyBytes)
	}
	return ""
}

// maxScalarBytes is the longest a date, number, boolean or currency cell
// may be: longer ones are errors without being parsed (and quoted whole).
const maxScalarBytes = 256

// isID reports whether a field holds an identifier: id, or a name ending
// in _id, except click_id (a platform's click token).
func isID(name string) bool {
	return name == "id" || strings.HasSuffix(name, "_id") && name != "click_id"
}

// Dates must lie in [minTime, maxTime).
var (
	minTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// futureSlack is how far after the import's clock a time of something
// that happened may lie: a day in the zone furthest ahead (UTC+14) and
// clocks that are off.
const futureSlack = 48 * time.Hour

// happened are the times of things that happened, which cannot lie in the
// future, with what the error says. Others may: a subscription that starts
// next month, a deal's expected close, a budget rate.
var happened = map[string]string{
	"events.ts":           "an event cannot have happened yet",
	"events.received_at":  "an event cannot have been received yet",
	"identities.ts":       "an identity cannot have been seen yet",
	"spend.date":          "money cannot have been spent yet",
	"stage_changes.ts":    "a stage cannot have been reached yet",
	"orders.ts":           "an order cannot have been placed yet",
	"survey_responses.ts": "a survey cannot have been answered yet",
	"people.created_at":   "a record cannot have been created yet",
	"accounts.created_at": "a record cannot have been created yet",
	"deals.created_at":    "a record cannot have been created yet",
}

// mayBeNegative are the money fields that are negative without being
// refunds or credits: a sale at a loss has a negative margin.
var mayBeNegative = map[string]bool{"orders.gross_margin": true}

// rangeProblem says why v, a parsed value of table's field f, cannot be,
// or "". Integers (all counts) and spend.platform_conversions are never
// negative, interval_count is at least 1, a rate is above 0; amounts are
// negative only with --allow-negative; dates lie within [minTime,
// maxTime) and times of things that happened not after the clock plus
// futureSlack.
func (r *run) rangeProblem(table string, f bowtie.Field, v any) string {
	switch x := v.(type) {
	case int64:
		switch {
		case f.Name == "interval_count" && x < 1:
			return "must be at least 1"
		case x < 0:
			return "is negative: a count cannot be"
		}
	case float64:
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0):
			return "is not a number"
		case f.Type == bowtie.Money && math.Abs(x) >= maxMoney:
			return "is too large for an amount"
		case f.Type == bowtie.Money && x < 0 && !r.opts.AllowNegative && !mayBeNegative[table+"."+f.Name]:
			return "is negative: an amount may be negative only with --allow-negative (refunds, credits)"
		case table == "fx_rates" && f.Name == "rate" && x <= 0:
			return "must be above 0"
		case f.Name == "platform_conversions" && x < 0:
			return "is negative: a count cannot be"
		}
	case time.Time:
		if x.Before(minTime) || !x.Before(maxTime) {
			return fmt.Sprintf("is out of range: dates must lie in the years %d to %d", minTime.Year(), maxTime.Year()-1)
		}
		if what, ok := happened[table+"."+f.Name]; ok && x.After(r.latest) {
			return fmt.Sprintf("is in the future (after %s): %s", r.latest.Format("2006-01-02"), what)
		}
	}
	return ""
}

func hasError(errs []RowError, field string) bool {
	for _, e := range errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

func isAmbiguousSymbol(cur string) bool {
	for _, s := range ambiguousSymbols {
		if s == cur {
			return true
		}
	}
	return false
}

// int32Fields are Int fields stored as INTEGER.
var int32Fields = map[string]bool{
	"accounts.employees": true, "subscriptions.interval_count": true, "subscriptions.quantity": true,
}

// defaults are the schema's column defaults, applied to empty cells.
var defaults = map[string]map[string]any{
	"accounts":      {"is_target": false},
	"spend":         {"cost_type": "media"},
	"subscriptions": {"interval_count": int64(1), "quantity": int64(1)},
	"orders":        {"status": "paid"},
}

// enums are the fields whose values come from a fixed list.
var enums = map[string][]enum{
	"events":        {{"type", []string{"track", "page", "screen", "identify", "group", "alias"}}},
	"stage_changes": {{"entity_type", []string{"person", "account", "deal"}}},
	"deals":         {{"status", []string{"open", "won", "lost"}}},
	"subscriptions": {{"status", []string{"trialing", "active", "paused", "canceled"}}, {"billing_interval", []string{"day", "week", "month", "year"}}},
	"orders":        {{"status", []string{"paid", "refunded"}}},
}

type enum struct {
	field   string
	allowed []string
}

// enumAliases accept common spellings of enumeration values.
var enumAliases = map[string]map[string]string{
	"subscriptions.status": {"cancelled": "canceled", "trial": "trialing"},
	"subscriptions.billing_interval": {"daily": "day", "days": "day", "weekly": "week", "weeks": "week", "monthly": "month",
		"months": "month", "yearly": "year", "annual": "year", "annually": "year", "years": "year"},
	"stage_changes.entity_type": {"contact": "person", "lead": "person", "company": "account", "opportunity": "deal"},
	"deals.status":              {"closed won": "won", "closedwon": "won", "closed lost": "lost", "closedlost": "lost"},
	"orders.status":             {"refund": "refunded", "succeeded": "paid"},
}

// complete derives what a row can derive from itself: channels, event
// campaign parameters from the URL, MRR.
func (r *run) complete(o *Out, row []any) {
	t := o.table.t
	idx := o.table.fieldIdx
	str := func(field string) string { s, _ := row[idx[field]].(string); return s }
	switch t.Name {
	case "events":
		fillFromURL(row, idx)
		if row[idx["channel"]] == nil {
			row[idx["channel"]] = r.channel(bowtie.Touch{
				Source: str("utm_source"), Medium: str("utm_medium"), Campaign: str("utm_campaign"),
				ClickIDType: str("click_id_type"), Referrer: str("referrer"),
			})
		}
	case "people", "accounts":
		if row[idx["channel"]] == nil && (str("utm_source") != "" || str("utm_medium") != "" || str("utm_campaign") != "") {
			row[idx["channel"]] = r.channel(bowtie.Touch{Source: str("utm_source"), Medium: str("utm_medium"), Campaign: str("utm_campaign")})
		}
	case "spend":
		if row[idx["channel"]] == nil && str("source") != "" {
			medium := o.Medium
			if medium == "" {
				medium = "paid"
			}
			row[idx["channel"]] = r.channel(bowtie.Touch{Source: str("source"), Medium: medium, Campaign: str("campaign")})
		}
	case "subscriptions":
		if row[idx["mrr"]] == nil {
			amount, ok := row[idx["amount"]].(float64)
			interval := str("billing_interval")
			count, _ := row[idx["interval_count"]].(int64)
			if ok && interval != "" {
				switch str("status") {
				case "trialing", "paused", "canceled":
					row[idx["mrr"]] = 0.0
				default:
					if m, ok := MonthlyAmount(amount, interval, count); ok {
						row[idx["mrr"]] = m
					}
				}
			}
		}
	}
}

// channelCacheSize bounds the memo of classified touches.
const channelCacheSize = 1 << 16

// channel classifies t with the business's rules, remembering the answers:
// files repeat the same few touches over and over.
func (r *run) channel(t bowtie.Touch) string {
	if ch, ok := r.channels[t]; ok {
		return ch
	}
	ch := r.opts.Business.Channel(t)
	if r.channels == nil || len(r.channels) >= channelCacheSize {
		r.channels = make(map[bowtie.Touch]string)
	}
	r.channels[t] = ch
	return ch
}

// clickIDs are the click id parameters channel grouping knows.
var clickIDs = []string{"gclid", "gbraid", "wbraid", "msclkid", "yclid", "fbclid", "ttclid", "li_fat_id", "twclid", "dclid"}

// fillFromURL fills an event's empty UTM and click id fields from the
// query of its URL, when the row has none of them.
func fillFromURL(row []any, idx map[string]int) {
	for _, f := range []string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "click_id", "click_id_type"} {
		if row[idx[f]] != nil {
			return
		}
	}
	raw, _ := row[idx["url"]].(string)
	if !strings.Contains(raw, "?") {
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		return
	}
	q := u.Query()
	for _, f := range []string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"} {
		if v := strings.TrimSpace(q.Get(f)); v != "" {
			row[idx[f]] = v
		}
	}
	for _, id := range clickIDs {
		if v := strings.TrimSpace(q.Get(id)); v != "" {
			row[idx["click_id_type"]], row[idx["click_id"]] = id, v
			break
		}
	}
}

// MonthlyAmount normalises an amount billed every count intervals to a
// month: a year is 12 months, a week 52/12 of a month's worth per week
// (amount × 52 / 12), a day 365.25/12. It is rounded to four decimals.
func MonthlyAmount(amount float64, interval string, count int64) (float64, bool) {
	if count <= 0 {
		count = 1
	}
	var perMonth float64
	switch interval {
	case "day":
		perMonth = amount * 365.25 / 12
	case "week":
		perMonth = amount * 52 / 12
	case "month":
		perMonth = amount
	case "year":
		perMonth = amount / 12
	default:
		return 0, false
	}
	return roundMoney(perMonth / float64(count)), true
}

// HashEmail returns the SHA-256 of the trimmed, lower-cased address, in
// hex: the only form in which bowtie stores e-mail addresses.
func HashEmail(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:])
}

// naturalKey renders the key fields of a typed row.
func naturalKey(t bowtie.Table, row []any) string {
	var b strings.Builder
	for i, f := range t.Fields {
		if !f.Key {
			continue
		}
		b.WriteString(keyText(row[i]))
		b.WriteByte(0x1f)
	}
	return b.String()
}

func keyText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format("2006-01-02")
		}
		return x.Format(time.RFC3339Nano)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// keyField names the first key field, where duplicate errors are filed.
func keyField(t bowtie.Table) string {
	for _, f := range t.Fields {
		if f.Key {
			return f.Name
		}
	}
	return "record"
}

// keyDesc describes a row's key for an error message.
func keyDesc(t bowtie.Table, row []any) string {
	var parts []string
	for i, f := range t.Fields {
		if f.Key {
			parts = append(parts, f.Name+"="+keyText(row[i]))
		}
	}
	return strings.Join(parts, ", ")
}
