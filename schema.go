package bowtie

// FieldType is how an imported value is parsed and stored.
type FieldType int

// Field types, from the loosest to the strictest parse.
const (
	Text      FieldType = iota // any UTF-8 text; empty means NULL
	Timestamp                  // a date-time in one of the accepted formats, stored in UTC
	Date                       // a calendar date
	Int                        // an integer; thousands separators allowed
	Money                      // a decimal amount; currency symbols, codes and separators allowed
	Float                      // a decimal number
	Bool                       // true/false, yes/no, 1/0
	Currency                   // an ISO 4217 code, upper-cased
	JSON                       // a JSON value, kept as text
)

// String returns the type's name as the docs use it.
func (t FieldType) String() string {
	return [...]string{"text", "timestamp", "date", "integer", "money", "number", "boolean", "currency", "json"}[t]
}

// Field is one column of a canonical table as imports see it.
type Field struct {
	Name     string
	Type     FieldType
	Required bool // an import row without it is rejected
	Key      bool // part of the natural key that makes re-imports idempotent
	// Default is the SQL literal stored when the value is NULL (the
	// column's DEFAULT in the migrations); "" means NULL stays NULL.
	Default string
}

// Table describes a canonical table: its name, the import kind that writes
// it and its fields in storage order. Columns not listed (none today) are
// filled by defaults.
type Table struct {
	Name   string
	Kind   string // the name used by `bowtie import <kind>`
	Fields []Field
}

// FieldNames returns the names of t's fields in storage order.
func (t Table) FieldNames() []string {
	out := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		out[i] = f.Name
	}
	return out
}

// Field returns the field called name and whether it exists.
func (t Table) Field(name string) (Field, bool) {
	for _, f := range t.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// KeyIndexes returns the positions of t's key fields.
func (t Table) KeyIndexes() []int {
	var out []int
	for i, f := range t.Fields {
		if f.Key {
			out = append(out, i)
		}
	}
	return out
}

func req(name string, t FieldType) Field { return Field{Name: name, Type: t, Required: true} }
func key(name string, t FieldType) Field {
	return Field{Name: name, Type: t, Required: true, Key: true}
}
func opt(name string, t FieldType) Field { return Field{Name: name, Type: t} }

// def is an optional field with a default.
func def(name string, t FieldType, sqlDefault string) Field {
	return Field{Name: name, Type: t, Default: sqlDefault}
}

// optKey is a key field that may be empty; it is stored as ”.
func optKey(name string, t FieldType) Field { return Field{Name: name, Type: t, Key: true} }

// Tables lists the canonical tables in the order an import of everything
// should write them. The migrations in duckdb/migrations create them; a test
// checks that both agree.
var Tables = []Table{
	{Name: "accounts", Kind: "accounts", Fields: []Field{
		key("account_id", Text), opt("name", Text), opt("domain", Text), opt("industry", Text),
		opt("employees", Int), opt("region", Text), opt("country", Text), opt("tier", Text),
		def("is_target", Bool, "false"), opt("created_at", Timestamp), opt("channel", Text),
		opt("utm_source", Text), opt("utm_medium", Text), opt("utm_campaign", Text), opt("properties", JSON),
	}},
	{Name: "people", Kind: "people", Fields: []Field{
		key("person_id", Text), opt("email_hash", Text), opt("account_id", Text), opt("role", Text),
		opt("segment", Text), opt("country", Text), opt("created_at", Timestamp), opt("lifecycle_stage", Text),
		opt("channel", Text), opt("utm_source", Text), opt("utm_medium", Text), opt("utm_campaign", Text),
		opt("properties", JSON),
	}},
	{Name: "identities", Kind: "identities", Fields: []Field{
		key("kind", Text), key("alias_id", Text), req("person_id", Text), req("ts", Timestamp), opt("source", Text),
	}},
	{Name: "events", Kind: "events", Fields: []Field{
		key("id", Text), req("ts", Timestamp), opt("received_at", Timestamp), req("type", Text), opt("name", Text),
		opt("anonymous_id", Text), opt("person_id", Text), opt("account_id", Text),
		opt("utm_source", Text), opt("utm_medium", Text), opt("utm_campaign", Text), opt("utm_term", Text),
		opt("utm_content", Text), opt("click_id_type", Text), opt("click_id", Text), opt("referrer", Text),
		opt("url", Text), opt("channel", Text), opt("revenue", Money), opt("currency", Currency),
		opt("properties", JSON),
	}},
	{Name: "spend", Kind: "spend", Fields: []Field{
		key("date", Date), key("source", Text), opt("channel", Text), optKey("campaign", Text),
		optKey("ad_group", Text), optKey("creative", Text), opt("impressions", Int), opt("clicks", Int),
		req("cost", Money), req("currency", Currency), opt("platform_conversions", Float),
		opt("platform_installs", Int), def("cost_type", Text, "'media'"),
	}},
	{Name: "stage_changes", Kind: "stages", Fields: []Field{
		key("entity_type", Text), key("entity_id", Text), key("stage", Text), key("ts", Timestamp), opt("source", Text),
	}},
	{Name: "deals", Kind: "deals", Fields: []Field{
		key("deal_id", Text), opt("account_id", Text), opt("person_id", Text), opt("name", Text), opt("owner", Text),
		opt("pipeline", Text), opt("stage", Text), req("status", Text), req("created_at", Timestamp),
		opt("closed_at", Timestamp), opt("amount", Money), opt("currency", Currency), opt("product_line", Text),
		opt("lost_reason", Text), opt("properties", JSON),
	}},
	{Name: "subscriptions", Kind: "subscriptions", Fields: []Field{
		key("subscription_id", Text), key("valid_from", Timestamp), opt("valid_to", Timestamp),
		req("customer_id", Text), opt("plan", Text), req("status", Text), opt("billing_interval", Text),
		def("interval_count", Int, "1"), opt("amount", Money), def("quantity", Int, "1"), opt("mrr", Money),
		opt("currency", Currency), opt("canceled_at", Timestamp),
	}},
	{Name: "orders", Kind: "orders", Fields: []Field{
		key("order_id", Text), req("customer_id", Text), req("ts", Timestamp), req("amount", Money),
		opt("gross_margin", Money), req("currency", Currency), def("status", Text, "'paid'"), opt("product_line", Text),
		opt("properties", JSON),
	}},
	{Name: "survey_responses", Kind: "surveys", Fields: []Field{
		key("response_id", Text), req("survey", Text), opt("person_id", Text), opt("account_id", Text),
		req("ts", Timestamp), opt("answer", Text), opt("scale", Text), opt("score", Float), opt("comment", Text),
	}},
	{Name: "fx_rates", Kind: "fx", Fields: []Field{
		key("date", Date), key("currency", Currency), key("base", Currency), req("rate", Float),
	}},
	// paths holds aggregated paths imported from other attribution tools
	// (docs/schema.md, paths): path is the channels joined by " > ", ""
	// for no touch.
	{Name: "paths", Kind: "paths", Fields: []Field{
		key("dataset", Text), optKey("path", Text), req("conversions", Float), req("value", Money),
		req("currency", Currency), req("nulls", Float),
	}},
}

// TableByKind returns the table written by the import kind (or named) k.
func TableByKind(k string) (Table, bool) {
	for _, t := range Tables {
		if t.Kind == k || t.Name == k {
			return t, true
		}
	}
	return Table{}, false
}
