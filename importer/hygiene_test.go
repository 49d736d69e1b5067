package importer

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// importText writes body to a file called name in a temporary directory
// and imports it as kind; it returns the error lines (nil when the import
// succeeded) and the store.
func importText(t *testing.T, kind, name, body string, opts Options) ([]string, *fakeStore) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	st := newFakeStore()
	opts.Kind = kind
	if opts.Business == nil {
		opts.Business = business(t)
	}
	_, err := Import(context.Background(), st, path, opts)
	if err == nil {
		return nil, st
	}
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v, want *Errors", err)
	}
	var out []string
	for _, l := range errs.Lines() {
		out = append(out, strings.TrimPrefix(l, path))
	}
	return out, st
}

// wantErrors checks that got (errors with the path cut off) equals want.
func wantErrors(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

func TestImport_Negative(t *testing.T) {
	spend := "date,source,campaign,cost,currency,impressions,clicks,platform_conversions\n" +
		"2024-03-01,google,A,-5.50,EUR,10,2,1\n" +
		"2024-03-02,google,A,5,EUR,-10,-2,-1\n" +
		"2024-03-03,google,A,(3.00),EUR,,,\n"
	t.Run("ErrRejected", func(t *testing.T) {
		got, _ := importText(t, "spend", "spend.csv", spend, Options{})
		wantErrors(t, got,
			`:2: cost: "-5.50" is negative: an amount may be negative only with --allow-negative (refunds, credits)`,
			`:3: impressions: "-10" is negative: a count cannot be`,
			`:3: clicks: "-2" is negative: a count cannot be`,
			`:3: platform_conversions: "-1" is negative: a count cannot be`,
			`:4: cost: "(3.00)" is negative: an amount may be negative only with --allow-negative (refunds, credits)`)
	})
	t.Run("AllowNegativeCoversAmountsOnly", func(t *testing.T) {
		got, _ := importText(t, "spend", "spend.csv", spend, Options{AllowNegative: true})
		wantErrors(t, got,
			`:3: impressions: "-10" is negative: a count cannot be`,
			`:3: clicks: "-2" is negative: a count cannot be`,
			`:3: platform_conversions: "-1" is negative: a count cannot be`)
	})
	t.Run("OKAllowNegative", func(t *testing.T) {
		got, st := importText(t, "orders", "orders.csv", "order_id,customer_id,ts,amount,gross_margin,currency,status\no1,c1,2024-03-01,-20,-3,EUR,refunded\n", Options{AllowNegative: true})
		wantErrors(t, got)
		if rows := st.rowsOf("orders"); len(rows) != 1 || field("orders", "amount", rows[0]) != -20.0 {
			t.Errorf("orders: %v", rows)
		}
	})
	t.Run("OKNegativeMargin", func(t *testing.T) {
		// A margin is a difference: a sale at a loss has a negative one.
		got, _ := importText(t, "orders", "orders.csv", "order_id,customer_id,ts,amount,gross_margin,currency\no1,c1,2024-03-01,20,-3,EUR\n", Options{})
		wantErrors(t, got)
	})
	t.Run("ErrOtherFields", func(t *testing.T) {
		got, _ := importText(t, "subscriptions", "subs.csv", "subscription_id,valid_from,customer_id,status,billing_interval,interval_count,quantity,amount,currency\n"+
			"s1,2024-03-01,c1,active,month,0,-1,-9,EUR\n", Options{AllowNegative: true})
		wantErrors(t, got,
			`:2: interval_count: "0" must be at least 1`,
			`:2: quantity: "-1" is negative: a count cannot be`)
		got, _ = importText(t, "accounts", "accounts.csv", "account_id,employees\na1,-3\n", Options{})
		wantErrors(t, got, `:2: employees: "-3" is negative: a count cannot be`)
		got, _ = importText(t, "fx", "fx.csv", "date,currency,base,rate\n2024-03-01,USD,EUR,0\n2024-03-02,USD,EUR,-1.1\n", Options{AllowNegative: true})
		wantErrors(t, got,
			`:2: rate: "0" must be above 0`,
			`:3: rate: "-1.1" must be above 0`)
		got, _ = importText(t, "events", "events.jsonl", `{"id":"e1","ts":"2024-03-01T10:00:00Z","type":"track","name":"refund","revenue":-12.5,"currency":"EUR"}`+"\n", Options{})
		wantErrors(t, got, `:1: revenue: "-12.5" is negative: an amount may be negative only with --allow-negative (refunds, credits)`)
	})
}

func TestImport_NUL(t *testing.T) {
	t.Run("ErrCSV", func(t *testing.T) {
		got, _ := importText(t, "spend", "spend.csv", "date,source,campaign,cost,currency,note\n2024-03-01,goo\x00gle,A,1,EUR,x\n2024-03-02,google,A,1,EUR,\x00\n", Options{})
		wantErrors(t, got,
			`:2: source: contains a NUL byte (at byte 4 of column 2): text may not hold NUL bytes; is the file binary, or UTF-16 without a byte-order mark?`,
			`:3: note: contains a NUL byte (at byte 1 of column 6): text may not hold NUL bytes; is the file binary, or UTF-16 without a byte-order mark?`)
	})
	t.Run("ErrJSONL", func(t *testing.T) {
		got, _ := importText(t, "spend", "spend.jsonl", `{"date":"2024-03-01","source":"goo\u0000gle","campaign":"A","cost":1,"currency":"EUR"}`+"\n"+
			`{"date":"2024-03-02","source":"google","campaign":"A","cost":1,"currency":"EUR","extra":{"k\u0000":1}}`+"\n", Options{})
		wantErrors(t, got,
			`:1: source: contains a NUL byte (at byte 4): text may not hold NUL bytes`,
			`:2: extra: contains a NUL byte (at byte 2): text may not hold NUL bytes`)
	})
	t.Run("ErrParquet", func(t *testing.T) {
		rows := &fakeRows{cols: []string{"date", "source", "campaign", "cost", "currency"}, rows: [][]string{
			{"2024-03-01", "goo\x00gle", "A", "1", "EUR"},
			{"2024-03-02", "g\xfcgle", "A", "1", "EUR"},
		}}
		got, _ := importText(t, "spend", "spend.parquet", "", Options{OpenParquet: func(context.Context, string) (TextRows, error) { return rows, nil }})
		wantErrors(t, got,
			`:1: source: contains a NUL byte (at byte 4 of column 2): text may not hold NUL bytes`,
			`:2: source: invalid UTF-8 (byte 0xFC in column 2): the file is not UTF-8`)
	})
}

// fakeRows is a Parquet file as TextRows.
type fakeRows struct {
	cols []string
	rows [][]string
}

func (f *fakeRows) Columns() []string { return f.cols }
func (f *fakeRows) Total() int64      { return int64(len(f.rows)) }
func (f *fakeRows) Close() error      { return nil }
func (f *fakeRows) Next() ([]string, error) {
	if len(f.rows) == 0 {
		return nil, io.EOF
	}
	r := f.rows[0]
	f.rows = f.rows[1:]
	return r, nil
}

func TestImport_AbsurdValues(t *testing.T) {
	now := func() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }
	tests := []struct {
		name, kind, file, body string
		want                   []string
	}{
		{"Year9999", "spend", "s.csv", "date,source,cost,currency\n9999-12-31,google,1,EUR\n", []string{
			`:2: date: "9999-12-31" is out of range: dates must lie in the years 1900 to 2099`}},
		{"Year0001", "spend", "s.csv", "date,source,cost,currency\n0001-01-01,google,1,EUR\n", []string{
			`:2: date: "0001-01-01" is out of range: dates must lie in the years 1900 to 2099`}},
		{"Year1899", "orders", "o.csv", "order_id,customer_id,ts,amount,currency\no1,c1,1899-12-31 23:00,1,EUR\n", []string{
			`:2: ts: "1899-12-31 23:00" is out of range: dates must lie in the years 1900 to 2099`}},
		{"February31", "spend", "s.csv", "date,source,cost,currency\n2024-02-31,google,1,EUR\n", []string{
			`:2: date: "2024-02-31" is not a date: February has no day 31`}},
		{"FarFutureEvent", "events", "e.jsonl", `{"id":"e1","ts":"2031-01-01T00:00:00Z","type":"page"}` + "\n", []string{
			`:1: ts: "2031-01-01T00:00:00Z" is in the future (after 2025-06-03): an event cannot have happened yet`}},
		{"FutureUnixSeconds", "stages", "st.csv", "entity_type,entity_id,stage,ts\nperson,p1,mql,99999999999\n", []string{
			`:2: ts: "99999999999" is out of range: dates must lie in the years 1900 to 2099`}},
		{"Inf", "spend", "s.csv", "date,source,cost,currency\n2024-03-01,google,1e400,EUR\n", []string{
			`:2: cost: "1e400" is not an amount`}},
		{"NaN", "fx", "fx.csv", "date,currency,base,rate\n2024-03-01,USD,EUR,NaN\n", []string{
			`:2: rate: "NaN" is not a number`}},
		{"HugeInteger", "spend", "s.csv", "date,source,cost,currency,clicks\n2024-03-01,google,1,EUR,99999999999999999999\n", []string{
			`:2: clicks: "99999999999999999999" is too large`}},
		{"HugeAmount", "orders", "o.csv", "order_id,customer_id,ts,amount,currency\no1,c1,2024-03-01,1e15,EUR\n", []string{
			`:2: amount: "1e15" is too large for an amount`}},
		{"HugeInt32", "accounts", "a.csv", "account_id,employees\na1,3000000000\n", []string{
			`:2: employees: "3000000000" is too large`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := importText(t, tt.kind, tt.file, tt.body, Options{Now: now})
			wantErrors(t, got, tt.want...)
		})
	}
	t.Run("OKFutureSubscriptionEnd", func(t *testing.T) {
		// A contract may end, or start, after today.
		got, _ := importText(t, "subscriptions", "s.csv", "subscription_id,valid_from,valid_to,customer_id,status\ns1,2025-07-01,2027-06-30,c1,active\n", Options{Now: now})
		wantErrors(t, got)
	})
}

func TestImport_LongValues(t *testing.T) {
	long := strings.Repeat("x", MaxIDBytes+1)
	got, _ := importText(t, "people", "p.csv", "person_id,account_id\n"+long+",a1\np2,"+long+"\n", Options{})
	wantErrors(t, got,
		`:2: person_id: is 257 bytes long: an identifier may hold at most 256 bytes`,
		`:3: account_id: is 257 bytes long: an identifier may hold at most 256 bytes`)
	name := strings.Repeat("é", MaxKeyBytes/2+1)
	got, _ = importText(t, "spend", "s.csv", "date,source,campaign,cost,currency\n2024-03-01,google,"+name+",1,EUR\n", Options{})
	wantErrors(t, got, `:2: campaign: is 1026 bytes long: a key field may hold at most 1024 bytes`)
	cell := strings.Repeat("y", MaxCellBytes+1)
	got, _ = importText(t, "surveys", "s.csv", "response_id,survey,ts,comment\nr1,nps,2024-03-01,"+cell+"\n", Options{})
	wantErrors(t, got, `:2: comment: is 1048577 bytes long (in column 4): a cell may hold at most 1 MiB`)
	got, _ = importText(t, "surveys", "s.jsonl", `{"response_id":"r1","survey":"nps","ts":"2024-03-01","comment":"`+cell+`"}`+"\n", Options{})
	wantErrors(t, got, `:1: comment: is 1048577 bytes long: a cell may hold at most 1 MiB`)
}

// TestImport_HugeCell imports a file whose third line is one cell of 300
// MB (32 MB with -short): the import must fail on that line having
// allocated a bounded amount of memory, not the cell's size several times.
func TestImport_HugeCell(t *testing.T) {
	size := 300 << 20
	if testing.Short() {
		size = 32 << 20
	}
	dir := t.TempDir()
	write := func(name, head, tail string) string {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		w.WriteString(head)
		chunk := strings.Repeat("a", 1<<20)
		for n := 0; n < size; n += len(chunk) {
			w.WriteString(chunk)
		}
		w.WriteString(tail)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name, kind, path, want string
	}{
		{"CSV", "spend", write("huge.csv", "date,source,campaign,cost,currency\n2024-03-01,google,A,1,EUR\n2024-03-02,google,", ",1,EUR\n2024-03-03,google,B,1,EUR\n"),
			":3: record: longer than 4 MiB, the most a record may take: reading stopped here"},
		{"QuotedCSV", "spend", write("quoted.csv", "date,source,campaign,cost,currency\n2024-03-01,google,A,1,EUR\n\n2024-03-02,google,\"", "\",1,EUR\n"),
			":4: record: longer than 4 MiB, the most a record may take: reading stopped here"},
		{"JSONL", "spend", write("huge.jsonl", `{"date":"2024-03-01","source":"google","cost":1,"currency":"EUR"}`+"\n\n"+`{"date":"2024-03-02","source":"`, `","cost":1,"currency":"EUR"}`+"\n"),
			":3: record: longer than 4 MiB, the most a line may take: reading stopped here"},
	}
	for _, tt := range tests {
		for _, skipBad := range []bool{false, true} {
			name := tt.name
			opts := Options{Kind: tt.kind, Business: business(t)}
			if skipBad {
				name += "/SkipBad"
				opts.Rejects = io.Discard
			}
			t.Run(name, func(t *testing.T) {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				start := time.Now()
				_, err := Import(context.Background(), newFakeStore(), tt.path, opts)
				runtime.ReadMemStats(&after)
				var errs *Errors
				if !errors.As(err, &errs) {
					t.Fatalf("err = %v, want *Errors", err)
				}
				if got := errs.Lines(); len(got) != 1 || got[0] != tt.path+tt.want {
					t.Errorf("errors %q, want %q", got, tt.path+tt.want)
				}
				// TotalAlloc only grows: it bounds the peak heap.
				alloc := after.TotalAlloc - before.TotalAlloc
				t.Logf("%d MB file: %.1f MB allocated, %v", size>>20, float64(alloc)/(1<<20), time.Since(start))
				if alloc > 64<<20 {
					t.Errorf("allocated %d MB to reject a %d MB cell, want < 64 MB", alloc>>20, size>>20)
				}
			})
		}
	}
}

func TestImport_DuplicateColumn(t *testing.T) {
	got, _ := importText(t, "spend", "s.csv", "date,source,Cost,currency,cost \n2024-03-01,google,1,EUR,2\n", Options{})
	wantErrors(t, got, `:1: header: columns 3 and 5 are both "cost": which one holds cost? Remove or rename the other`)
	// A column no input reads may repeat.
	got, _ = importText(t, "spend", "s.csv", "date,source,cost,currency,note,note\n2024-03-01,google,1,EUR,a,b\n", Options{})
	wantErrors(t, got)
}

func TestImport_EmptyFiles(t *testing.T) {
	for _, body := range []string{"", "\n  \n"} {
		got, _ := importText(t, "spend", "s.jsonl", body, Options{})
		wantErrors(t, got, `:1: record: the file is empty: no JSON object in it`)
		got, _ = importText(t, "spend", "s.csv", body, Options{})
		wantErrors(t, got, `:1: header: the file is empty`)
	}
	// A header and no records is an export of nothing: 0 rows.
	got, _ := importText(t, "spend", "s.csv", "date,source,cost,currency\r\n", Options{})
	wantErrors(t, got)
}

func TestImport_JSONLoneSurrogate(t *testing.T) {
	got, _ := importText(t, "spend", "s.jsonl", `{"date":"2024-03-01","source":"g\ud83d\ude00","cost":1,"currency":"EUR"}`+"\n"+
		`{"date":"2024-03-02","source":"g\\udc00","cost":1,"currency":"EUR"}`+"\n"+
		`{"date":"2024-03-03","source":"g\udc00","cost":1,"currency":"EUR"}`+"\n"+
		`{"date":"2024-03-04","source":"g\uD800x","cost":1,"currency":"EUR"}`+"\n", Options{})
	wantErrors(t, got,
		`:3: record: \udc00 at byte 33 is half of a UTF-16 surrogate pair: it is not a character (was the text cut, or not UTF-8 when it was written?)`,
		`:4: record: \uD800 at byte 33 is half of a UTF-16 surrogate pair: it is not a character (was the text cut, or not UTF-8 when it was written?)`)
}

func TestImport_LongValueErrorsAreShort(t *testing.T) {
	long := strings.Repeat("9", 5000)
	got, _ := importText(t, "deals", "d.csv", "deal_id,status,created_at,amount,currency\nd1,"+long+","+long+","+long+",EUR\n", Options{})
	wantErrors(t, got,
		`:2: created_at: "9999999999999999999999999999999999999999…" is 5000 bytes long: too long for a timestamp field`,
		`:2: amount: "9999999999999999999999999999999999999999…" is 5000 bytes long: too long for a money field`,
		`:2: status: "9999999999999999999999999999999999999999…" is not one of open, won, lost`)
}
