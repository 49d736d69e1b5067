package importer

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		cur  string
	}{
		{"12", 12, ""},
		{"1,234.56", 1234.56, ""},
		{"1.234,56", 1234.56, ""},
		{"1 234,56", 1234.56, ""},
		{"1\u00a0234,56", 1234.56, ""},
		{"1'234.50", 1234.5, ""},
		{"1’234.50", 1234.5, ""},
		{"1,234", 1234, ""},
		{"1,5", 1.5, ""},
		{"0,123", 0.123, ""},
		{"1.234", 1.234, ""},
		{"1,234,567.891", 1234567.891, ""},
		{"1.234.567,89", 1234567.89, ""},
		{".5", 0.5, ""},
		{"€1,234.50", 1234.5, "EUR"},
		{"1.234,50 EUR", 1234.5, "EUR"},
		{"1.234,50 €", 1234.5, "EUR"},
		{"EUR 120,000.00", 120000, "EUR"},
		{"usd12", 12, "USD"},
		{"$12", 12, "$"},
		{"-$12.5", -12.5, "$"},
		{"$-12.5", -12.5, "$"},
		{"(1,000.00)", -1000, ""},
		{"−3", -3, ""},
		{"£0.99", 0.99, "GBP"},
		{"R$ 10,00", 10, "BRL"},
		{"US$5", 5, "USD"},
		{"CHF 1'000.–", 0, "bad"},
		{"12.34567", 12.3457, ""},
		{"1e3", 1000, ""},
		{"12.50%", 0, "bad"},
		{"twelve", 0, "bad"},
		{"12,5,0", 0, "bad"},
		{"1,23,456", 0, "bad"},
		{"€€12", 0, "bad"},
		{"EUR 12 USD", 0, "bad"},
		{"0x10", 0, "bad"},
		{"Inf", 0, "bad"},
		{"NaN", 0, "bad"},
		{"1e20", 0, "bad"},
		{"", 0, "bad"},
		{"-", 0, "bad"},
		{"1 ,5", 0, "bad"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, cur, err := ParseMoney(tt.in)
			if tt.cur == "bad" {
				if err == nil {
					t.Fatalf("ParseMoney(%q) = %v %q, want an error", tt.in, got, cur)
				}
				return
			}
			if err != nil || got != tt.want || cur != tt.cur {
				t.Fatalf("ParseMoney(%q) = %v %q %v, want %v %q", tt.in, got, cur, err, tt.want, tt.cur)
			}
		})
	}
}

func TestParseInt_Float(t *testing.T) {
	ints := map[string]int64{"1,204": 1204, "1.204": 1204, "1 204": 1204, "12": 12, "-3": -3, "12.0": 12, "1,234,567": 1234567}
	for in, want := range ints {
		if got, err := ParseInt(in); err != nil || got != want {
			t.Errorf("ParseInt(%q) = %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"1.5", "1,5", "x", "1e400", "99999999999999999999"} {
		if got, err := ParseInt(in); err == nil {
			t.Errorf("ParseInt(%q) = %v, want an error", in, got)
		}
	}
	floats := map[string]float64{"12.5%": 0.125, "0,90%": 0.009, "3.00": 3, "1.234,5": 1234.5, "-0.5": -0.5}
	for in, want := range floats {
		if got, err := ParseFloat(in); err != nil || math.Abs(got-want) > 1e-12 {
			t.Errorf("ParseFloat(%q) = %v %v, want %v", in, got, err, want)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tests := []struct {
		in    string
		order DateOrder
		want  string // RFC 3339 in UTC, or "ambiguous" / "bad"
	}{
		{"2024-03-31T14:05:00Z", OrderAuto, "2024-03-31T14:05:00Z"},
		{"2024-03-31T14:05:00.123+02:00", OrderAuto, "2024-03-31T12:05:00.123Z"},
		{"2024-03-31 14:05:00 +0200", OrderAuto, "2024-03-31T12:05:00Z"},
		{"2024-03-01 10:00:00+00", OrderAuto, "2024-03-01T10:00:00Z"},
		{"2024-03-31 14:05:00 UTC", OrderAuto, "2024-03-31T14:05:00Z"},
		{"2024-03-31 14:05:00", OrderAuto, "2024-03-31T12:05:00Z"}, // Berlin, summer time
		{"2024-01-15 09:30", OrderAuto, "2024-01-15T08:30:00Z"},
		{"2024-03-31", OrderAuto, "2024-03-30T23:00:00Z"},
		{"2024/03/31", OrderAuto, "2024-03-30T23:00:00Z"},
		{"03/31/2024", OrderAuto, "2024-03-30T23:00:00Z"},
		{"31/03/2024", OrderAuto, "2024-03-30T23:00:00Z"},
		{"03/04/2024", OrderMDY, "2024-03-03T23:00:00Z"},
		{"03/04/2024", OrderDMY, "2024-04-02T22:00:00Z"},
		{"03/04/2024", OrderAuto, "ambiguous"},
		{"03/03/2024", OrderAuto, "2024-03-02T23:00:00Z"},
		{"31/03/2024", OrderMDY, "bad"},
		{"31.03.2024", OrderAuto, "2024-03-30T23:00:00Z"},
		{"31.03.2024 14:05", OrderAuto, "2024-03-31T12:05:00Z"},
		{"3/31/2024 2:05 PM", OrderAuto, "2024-03-31T12:05:00Z"},
		{"3/31/2024, 12:05 AM", OrderAuto, "2024-03-30T23:05:00Z"}, // before the switch to summer time,
		{"1/2/24", OrderMDY, "2024-01-01T23:00:00Z"},
		{"Jan 2, 2006", OrderAuto, "2006-01-01T23:00:00Z"},
		{"January 2, 2006 3:04 PM", OrderAuto, "2006-01-02T14:04:00Z"},
		{"2 Jan 2006", OrderAuto, "2006-01-01T23:00:00Z"},
		{"1711893900", OrderAuto, "2024-03-31T14:05:00Z"},
		{"1711893900123", OrderAuto, "2024-03-31T14:05:00.123Z"},
		{"20240331", OrderAuto, "2024-03-30T23:00:00Z"},
		{"2024-02-30", OrderAuto, "bad"},
		{"2024-13-01", OrderAuto, "bad"},
		{"2024-03-31 24:00", OrderAuto, "bad"},
		{"2024-03-31 13:00 PM", OrderAuto, "bad"},
		{"2024-03-31T14:05:00+25:00", OrderAuto, "bad"},
		{"yesterday", OrderAuto, "bad"},
		{"123", OrderAuto, "bad"},
		{"Foo 2, 2006", OrderAuto, "bad"},
		{"2024-03-31 14:05 garbage", OrderAuto, "bad"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTimestamp(tt.in, berlin, tt.order)
			switch tt.want {
			case "ambiguous":
				if !errors.Is(err, errAmbiguousDate) {
					t.Fatalf("ParseTimestamp(%q) = %v, %v; want an ambiguous-date error", tt.in, got, err)
				}
			case "bad":
				if err == nil {
					t.Fatalf("ParseTimestamp(%q) = %v, want an error", tt.in, got)
				}
			default:
				if err != nil || got.Format(time.RFC3339Nano) != tt.want {
					t.Fatalf("ParseTimestamp(%q) = %v, %v; want %s", tt.in, got.Format(time.RFC3339Nano), err, tt.want)
				}
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	tests := map[string]string{
		"2024-03-31":           "2024-03-31",
		"2024-03-31 23:30":     "2024-03-31", // no zone: the day written
		"2024-04-01T02:00:00Z": "2024-03-31", // a zone: the day in New York
		"1711940400":           "2024-03-31", // 2024-04-01 03:00 UTC
	}
	for in, want := range tests {
		got, err := ParseDate(in, ny, OrderAuto)
		if err != nil || got.Format("2006-01-02") != want || got.Location() != time.UTC || got.Hour() != 0 {
			t.Errorf("ParseDate(%q) = %v, %v; want %s at midnight UTC", in, got, err, want)
		}
	}
}

func TestMonthlyAmount(t *testing.T) {
	tests := []struct {
		amount   float64
		interval string
		count    int64
		want     float64
	}{
		{29, "month", 1, 29},
		{240, "year", 1, 20},
		{90, "month", 3, 30},
		{12, "week", 1, 52},
		{1, "day", 1, 30.4375},
		{100, "year", 2, 4.1667},
	}
	for _, tt := range tests {
		if got, ok := MonthlyAmount(tt.amount, tt.interval, tt.count); !ok || got != tt.want {
			t.Errorf("MonthlyAmount(%v, %s, %d) = %v, want %v", tt.amount, tt.interval, tt.count, got, tt.want)
		}
	}
	if _, ok := MonthlyAmount(1, "fortnight", 1); ok {
		t.Error("unknown interval accepted")
	}
}

// FuzzParseMoney checks that the money parser never panics, never returns
// a non-finite or over-precise amount, and reads its own output back.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"12", "1,234.56", "1.234,56", "1 234,56", "1'234.50", "€1,234.50", "1.234,50 EUR",
		"$12", "(12.00)", "-€0,5", "12.50%", "1e3", ".5", "CHF 1'000.50", "R$ 10,00", "", "-", "0x1p3", "1,2,3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, cur, err := ParseMoney(s)
		if err != nil {
			return
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) >= maxMoney {
			t.Fatalf("ParseMoney(%q) = %v", s, v)
		}
		if roundMoney(v) != v {
			t.Fatalf("ParseMoney(%q) = %v has more than four decimals", s, v)
		}
		if cur != "" && !isAmbiguousSymbol(cur) && len(cur) != 3 {
			t.Fatalf("ParseMoney(%q) currency %q", s, cur)
		}
		back, _, err := ParseMoney(strconv.FormatFloat(v, 'f', -1, 64))
		if err != nil || back != v {
			t.Fatalf("ParseMoney(%q) = %v, which reads back as %v, %v", s, v, back, err)
		}
	})
}

// FuzzParseTimestamp checks that the date-time parser never panics, gives
// UTC, and reads its own RFC 3339 output back to the same instant.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2024-03-31T14:05:00Z", "2024-03-31 14:05:00", "2024-03-31", "03/31/2024", "31/03/2024",
		"31.03.2024 14:05", "3/31/2024 2:05 PM", "Jan 2, 2006", "2 Jan 2006", "1711893900", "1711893900123",
		"20240331", "2024-03-31T14:05:00.123456789+05:45", "2024-02-30", "12/13/14 1:00 am", ""} {
		f.Add(s)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	f.Fuzz(func(t *testing.T, s string) {
		for _, order := range []DateOrder{OrderAuto, OrderMDY, OrderDMY} {
			ts, err := ParseTimestamp(s, berlin, order)
			if err != nil {
				continue
			}
			if ts.Location() != time.UTC {
				t.Fatalf("ParseTimestamp(%q) not in UTC", s)
			}
			if ts.Year() < 1 || ts.Year() > 9999 {
				return // outside what RFC 3339 writes
			}
			back, err := ParseTimestamp(ts.Format(time.RFC3339Nano), berlin, OrderAuto)
			if err != nil || !back.Equal(ts) {
				t.Fatalf("ParseTimestamp(%q) = %v, which reads back as %v, %v", s, ts, back, err)
			}
			if _, err := ParseDate(s, berlin, order); err != nil && !strings.Contains(err.Error(), "date") {
				t.Fatalf("ParseDate(%q): %v", s, err)
			}
		}
	})
}
