package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/bowtie-analytics/bowtie"
)

// DateOrder says how a date written with slashes or dashes, such as
// 03/04/2024, is read: month first (US) or day first (most of the world).
type DateOrder int

// Date orders.
const (
	OrderAuto DateOrder = iota // decide from the column; ambiguous columns are an error
	OrderMDY                   // month/day/year (US)
	OrderDMY                   // day/month/year
)

// ParseDateOrder parses the --date-format flag: us or mdy, eu or dmy.
func ParseDateOrder(s string) (DateOrder, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return OrderAuto, nil
	case "us", "mdy", "m/d/y", "mm/dd/yyyy":
		return OrderMDY, nil
	case "eu", "dmy", "d/m/y", "dd/mm/yyyy":
		return OrderDMY, nil
	}
	return OrderAuto, bowtie.Errorf(bowtie.EINVALID, "--date-format: %q is not us (month first, 03/31/2024) or eu (day first, 31/03/2024)", s)
}

func (o DateOrder) String() string {
	switch o {
	case OrderMDY:
		return "month first (us)"
	case OrderDMY:
		return "day first (eu)"
	}
	return "auto"
}

// errAmbiguousDate is wrapped by errors for dates such as 03/04/2024 that
// read both ways.
var errAmbiguousDate = errors.New("ambiguous date")

// when is a parsed date-time before a time zone is applied.
type when struct {
	y, mo, d, h, mi, s, ns int
	hasTime                bool
	zone                   *time.Location // the value's own zone; nil when it has none
	instant                *time.Time     // set for Unix times
}

// ParseTimestamp parses a date-time in any of the accepted formats and
// returns it in UTC. Values without a zone are read in loc; slashed dates
// are read in order (OrderAuto accepts only unambiguous ones).
func ParseTimestamp(s string, loc *time.Location, order DateOrder) (time.Time, error) {
	w, err := parseWhen(s, order)
	if err != nil {
		return time.Time{}, err
	}
	if w.instant != nil {
		return w.instant.UTC(), nil
	}
	z := loc
	if w.zone != nil {
		z = w.zone
	}
	return time.Date(w.y, time.Month(w.mo), w.d, w.h, w.mi, w.s, w.ns, z).UTC(), nil
}

// ParseDate parses a calendar date and returns it as midnight UTC. A value
// with a time and a zone (or a Unix time) is converted to loc first and
// then cut to its day; a value without a zone keeps the day it names.
func ParseDate(s string, loc *time.Location, order DateOrder) (time.Time, error) {
	w, err := parseWhen(s, order)
	if err != nil {
		return time.Time{}, err
	}
	var y, mo, d int
	switch {
	case w.instant != nil:
		t := w.instant.In(loc)
		y, mo, d = t.Year(), int(t.Month()), t.Day()
	case w.zone != nil && w.hasTime:
		t := time.Date(w.y, time.Month(w.mo), w.d, w.h, w.mi, w.s, w.ns, w.zone).In(loc)
		y, mo, d = t.Year(), int(t.Month()), t.Day()
	default:
		y, mo, d = w.y, w.mo, w.d
	}
	return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC), nil
}

// parseWhen recognises the accepted date and time formats:
//
//	2024-03-31T14:05:00Z, 2024-03-31T14:05:00.123+02:00, 2024-03-31 14:05:00, 2024-03-31 14:05, 2024-03-31
//	03/31/2024, 31/03/2024, 3/31/2024 2:05 PM, 31.03.2024, 31.03.2024 14:05, 31-03-2024
//	Mar 31, 2024, March 31, 2024 2:05 PM, 31 Mar 2024
//	1711893900 (Unix seconds), 1711893900000 (Unix milliseconds), 20240331
//
// A time may be followed by Z, UTC, GMT or an offset (+02, +0200, +02:00).
func parseWhen(s string, order DateOrder) (when, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return when{}, errors.New("empty")
	}
	if allDigits(s) {
		return parseDigits(s)
	}
	p := &scanner{s: s}
	var w when
	switch {
	case p.isDigitAt(0) && p.isDigitAt(1) && p.isDigitAt(2) && p.isDigitAt(3) && strings.IndexByte("-/.", p.byteAt(4)) >= 0:
		// ISO 8601: 2024-03-31 (also 2024/03/31 and 2024.03.31)
		w.y, _ = p.number(4, 4)
		sep := p.byteAt(p.i)
		p.i++
		var ok bool
		if w.mo, ok = p.number(1, 2); !ok || !p.consume(sep) {
			return w, badDate(s)
		}
		if w.d, ok = p.number(1, 2); !ok {
			return w, badDate(s)
		}
	case p.isDigitAt(0):
		// 03/31/2024, 31.03.2024, 31-03-2024 or 31 Mar 2024
		a, _ := p.number(1, 2)
		sep := p.byteAt(p.i)
		if sep == ' ' {
			p.spaces()
			mo, ok := p.monthName()
			if !ok {
				return w, badDate(s)
			}
			p.consume('.')
			p.consume(',')
			p.spaces()
			y, ok := p.number(4, 4)
			if !ok {
				return w, badDate(s)
			}
			w.y, w.mo, w.d = y, mo, a
			break
		}
		if sep != '/' && sep != '.' && sep != '-' {
			return w, badDate(s)
		}
		p.i++
		b, ok := p.number(1, 2)
		if !ok || !p.consume(sep) {
			return w, badDate(s)
		}
		start := p.i
		y, ok := p.number(2, 4)
		if !ok || p.i-start == 3 {
			return w, badDate(s)
		}
		if p.i-start == 2 {
			y = twoDigitYear(y)
		}
		w.y = y
		switch {
		case sep == '.':
			w.d, w.mo = a, b // 31.03.2024 is always day first
		case order == OrderMDY && a > 12:
			return w, fmt.Errorf("%q is not a date when read month first (%s); pass --date-format eu if the column is day first", s, "us")
		case order == OrderDMY && b > 12:
			return w, fmt.Errorf("%q is not a date when read day first (%s); pass --date-format us if the column is month first", s, "eu")
		case order == OrderMDY:
			w.mo, w.d = a, b
		case order == OrderDMY:
			w.d, w.mo = a, b
		case a > 12 && b <= 12:
			w.d, w.mo = a, b
		case b > 12 && a <= 12:
			w.mo, w.d = a, b
		case a == b && a <= 12:
			w.mo, w.d = a, b // 03/03/2024 reads the same both ways
		case a <= 12 && b <= 12:
			return w, fmt.Errorf("%q could be month/day or day/month: %w", s, errAmbiguousDate)
		default:
			return w, badDate(s)
		}
	default:
		// Mar 31, 2024
		mo, ok := p.monthName()
		if !ok {
			return w, badDate(s)
		}
		p.consume('.')
		p.spaces()
		d, ok := p.number(1, 2)
		if !ok {
			return w, badDate(s)
		}
		p.consume(',')
		p.spaces()
		y, ok := p.number(4, 4)
		if !ok {
			return w, badDate(s)
		}
		w.y, w.mo, w.d = y, mo, d
	}
	if err := w.checkDate(s); err != nil {
		return w, err
	}
	if p.done() {
		return w, nil
	}
	// The time of day.
	if p.byteAt(p.i) == 'T' || p.byteAt(p.i) == 't' {
		p.i++
	} else {
		p.consume(',')
		if !p.spaces() {
			return w, badDate(s)
		}
	}
	h, ok := p.number(1, 2)
	if !ok || !p.consume(':') {
		return w, badTime(s)
	}
	mi, ok := p.number(2, 2)
	if !ok {
		return w, badTime(s)
	}
	w.h, w.mi, w.hasTime = h, mi, true
	if p.consume(':') {
		if w.s, ok = p.number(2, 2); !ok {
			return w, badTime(s)
		}
		if p.consume('.') || p.consume(',') {
			start := p.i
			for p.isDigitAt(p.i) {
				p.i++
			}
			frac := p.s[start:p.i]
			if frac == "" {
				return w, badTime(s)
			}
			if len(frac) > 9 {
				frac = frac[:9]
			}
			n, _ := strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
			w.ns = n
		}
	}
	p.spaces()
	if ampm, ok := p.ampm(); ok {
		if w.h < 1 || w.h > 12 {
			return w, badTime(s)
		}
		w.h %= 12
		if ampm == 'p' {
			w.h += 12
		}
		p.spaces()
	}
	if w.h > 23 || w.mi > 59 || w.s > 60 {
		return w, badTime(s)
	}
	if w.s == 60 {
		w.s = 59 // a leap second lands on the second before
	}
	if !p.done() {
		z, ok := p.zone()
		if !ok || !p.done() {
			return w, badTime(s)
		}
		w.zone = z
	}
	return w, nil
}

// checkDate rejects dates that do not exist (February 30, month 13).
func (w when) checkDate(s string) error {
	if w.mo < 1 || w.mo > 12 || w.d < 1 || w.d > 31 || w.y < 1 {
		return badDate(s)
	}
	t := time.Date(w.y, time.Month(w.mo), w.d, 0, 0, 0, 0, time.UTC)
	if t.Day() != w.d {
		return fmt.Errorf("%q is not a date: %s has no day %d", s, time.Month(w.mo), w.d)
	}
	return nil
}

func badDate(s string) error {
	return fmt.Errorf("%q is not a date (use 2024-03-31, 2024-03-31T14:05:00Z, 03/31/2024, 31.03.2024, Mar 31, 2024 or Unix seconds)", s)
}

func badTime(s string) error {
	return fmt.Errorf("%q has no valid time of day (use 14:05, 14:05:00 or 2:05 PM, optionally with Z or +02:00)", s)
}

// parseDigits reads an all-digit value: 8 digits are yyyymmdd, 9 to 11
// Unix seconds, 12 to 14 Unix milliseconds.
func parseDigits(s string) (when, error) {
	switch n := len(s); {
	case n == 8:
		y, _ := strconv.Atoi(s[:4])
		mo, _ := strconv.Atoi(s[4:6])
		d, _ := strconv.Atoi(s[6:])
		w := when{y: y, mo: mo, d: d}
		return w, w.checkDate(s)
	case n >= 9 && n <= 11:
		v, _ := strconv.ParseInt(s, 10, 64)
		t := time.Unix(v, 0).UTC()
		return when{instant: &t, hasTime: true}, nil
	case n >= 12 && n <= 14:
		v, _ := strconv.ParseInt(s, 10, 64)
		t := time.UnixMilli(v).UTC()
		return when{instant: &t, hasTime: true}, nil
	}
	return when{}, fmt.Errorf("%q is not a date: a number must be yyyymmdd, Unix seconds (10 digits) or Unix milliseconds (13 digits)", s)
}

func twoDigitYear(y int) int {
	if y < 70 {
		return 2000 + y
	}
	return 1900 + y
}

// slashParts returns the first two numbers of a date written like
// 03/04/2024 or 03-04-2024 (not ISO, not dotted), for the column-wide
// detection of the date order.
func slashParts(s string) (a, b int, ok bool) {
	s = strings.TrimSpace(s)
	p := &scanner{s: s}
	a, ok = p.number(1, 2)
	if !ok {
		return 0, 0, false
	}
	sep := p.byteAt(p.i)
	if sep != '/' && sep != '-' {
		return 0, 0, false
	}
	p.i++
	b, ok = p.number(1, 2)
	if !ok || !p.consume(sep) {
		return 0, 0, false
	}
	start := p.i
	if _, ok := p.number(2, 4); !ok || p.i-start == 3 {
		return 0, 0, false
	}
	return a, b, true
}

// scanner walks a value byte by byte.
type scanner struct {
	s string
	i int
}

func (p *scanner) byteAt(i int) byte {
	if i < len(p.s) {
		return p.s[i]
	}
	return 0
}

func (p *scanner) isDigitAt(i int) bool { c := p.byteAt(i); return c >= '0' && c <= '9' }

func (p *scanner) done() bool { return p.i >= len(p.s) }

// number reads min to max digits.
func (p *scanner) number(min, max int) (int, bool) {
	start := p.i
	n := 0
	for p.i-start < max && p.isDigitAt(p.i) {
		n = n*10 + int(p.s[p.i]-'0')
		p.i++
	}
	if p.i-start < min || p.isDigitAt(p.i) {
		return 0, false
	}
	return n, true
}

func (p *scanner) consume(c byte) bool {
	if p.byteAt(p.i) == c {
		p.i++
		return true
	}
	return false
}

// spaces skips blanks and reports whether there were any.
func (p *scanner) spaces() bool {
	start := p.i
	for p.byteAt(p.i) == ' ' || p.byteAt(p.i) == '\t' {
		p.i++
	}
	return p.i > start
}

var monthNames = map[string]int{
	"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
	"may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
	"september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}

// monthName reads an English month name or abbreviation.
func (p *scanner) monthName() (int, bool) {
	start := p.i
	for p.i < len(p.s) && (p.s[p.i]|0x20 >= 'a' && p.s[p.i]|0x20 <= 'z') {
		p.i++
	}
	m, ok := monthNames[strings.ToLower(p.s[start:p.i])]
	return m, ok
}

// ampm reads AM or PM (also a.m., p.m.).
func (p *scanner) ampm() (byte, bool) {
	rest := strings.ToLower(p.s[p.i:])
	for _, form := range []string{"am", "a.m.", "pm", "p.m."} {
		if strings.HasPrefix(rest, form) {
			p.i += len(form)
			return form[0], true
		}
	}
	return 0, false
}

// zone reads Z, UTC, GMT or a numeric offset (+02, +0200, +02:00).
func (p *scanner) zone() (*time.Location, bool) {
	rest := p.s[p.i:]
	for _, name := range []string{"Z", "z", "UTC", "GMT"} {
		if rest == name {
			p.i = len(p.s)
			return time.UTC, true
		}
	}
	sign := p.byteAt(p.i)
	if sign != '+' && sign != '-' {
		return nil, false
	}
	p.i++
	start := p.i
	for p.isDigitAt(p.i) {
		p.i++
	}
	var h, m int
	switch digits := p.s[start:p.i]; len(digits) {
	case 2: // +02 or +02:00
		h, _ = strconv.Atoi(digits)
		if p.consume(':') {
			var ok bool
			if m, ok = p.number(2, 2); !ok {
				return nil, false
			}
		}
	case 4: // +0200
		h, _ = strconv.Atoi(digits[:2])
		m, _ = strconv.Atoi(digits[2:])
	default:
		return nil, false
	}
	if h > 14 || m > 59 {
		return nil, false
	}
	off := h*3600 + m*60
	if sign == '-' {
		off = -off
	}
	if off == 0 {
		return time.UTC, true
	}
	return time.FixedZone("", off), true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Numbers.

// maxMoney is the largest magnitude DECIMAL(18,4) holds.
const maxMoney = 1e14

// ParseMoney parses a money cell: an amount with optional thousands
// separators (1,234.56, 1.234,56, 1 234,56, 1'234.56), a decimal comma, a
// sign or accounting parentheses, and a currency symbol or ISO code before
// or after it (€1,234.50, 1.234,50 EUR, -$12). It returns the amount rounded
// to four decimals and the currency the cell names: an ISO code, or "$",
// "¥" or "kr" for symbols several currencies share, or "".
func ParseMoney(s string) (v float64, currency string, err error) {
	body := strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(body, "(") && strings.HasSuffix(body, ")") {
		neg, body = true, strings.TrimSpace(body[1:len(body)-1])
	}
	for i := 0; i < 2; i++ {
		var sign bool
		body, sign = cutSign(body)
		neg = neg != sign
		var cur string
		if body, cur = cutCurrency(body); cur != "" {
			if currency != "" {
				return 0, "", fmt.Errorf("%q names two currencies", s)
			}
			currency = cur
		}
	}
	if strings.HasSuffix(body, "%") {
		return 0, "", fmt.Errorf("%q is a percentage, not an amount", s)
	}
	v, err = parseNumber(body, false)
	if err != nil {
		return 0, "", fmt.Errorf("%q is not an amount", s)
	}
	if neg {
		v = -v
	}
	if math.Abs(v) >= maxMoney {
		return 0, "", fmt.Errorf("%q is too large for an amount", s)
	}
	return roundMoney(v), currency, nil
}

// roundMoney rounds to the four decimals the store keeps.
func roundMoney(v float64) float64 {
	r := math.Round(v*1e4) / 1e4
	if r == 0 {
		return 0 // no negative zero
	}
	return r
}

// ParseFloat parses a decimal number with the separators ParseMoney
// accepts; a trailing % divides by 100.
func ParseFloat(s string) (float64, error) {
	body, neg := cutSign(strings.TrimSpace(s))
	pct := false
	if strings.HasSuffix(body, "%") {
		pct, body = true, strings.TrimSpace(strings.TrimSuffix(body, "%"))
	}
	v, err := parseNumber(body, false)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if neg {
		v = -v
	}
	if pct {
		v /= 100
	}
	return v, nil
}

// ParseInt parses an integer with thousands separators; a lone "." or ","
// followed by three digits is a thousands separator here (1.234 is 1234).
func ParseInt(s string) (int64, error) {
	body, neg := cutSign(strings.TrimSpace(s))
	v, err := parseNumber(body, true)
	if err != nil || v != math.Trunc(v) {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	if v >= 1<<63 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	if neg {
		v = -v
	}
	return int64(v), nil
}

// cutSign removes a leading minus (ASCII or U+2212) or plus.
func cutSign(s string) (string, bool) {
	switch {
	case strings.HasPrefix(s, "-"):
		return strings.TrimSpace(s[1:]), true
	case strings.HasPrefix(s, "−"):
		return strings.TrimSpace(s[len("−"):]), true
	case strings.HasPrefix(s, "+"):
		return strings.TrimSpace(s[1:]), false
	}
	return s, false
}

// ambiguousSymbols are currency symbols several currencies use.
var ambiguousSymbols = []string{"$", "¥", "kr"}

// cutCurrency removes a currency symbol or ISO code at either end of s.
func cutCurrency(s string) (rest, currency string) {
	// ISO codes: three letters, separated from the number by a space or not.
	if len(s) > 3 {
		if code := strings.ToUpper(s[:3]); bowtie.IsCurrency(code) && !isLetter(s[3]) {
			return strings.TrimSpace(s[3:]), code
		}
		if code := strings.ToUpper(s[len(s)-3:]); bowtie.IsCurrency(code) && !isLetter(s[len(s)-4]) {
			return strings.TrimSpace(s[:len(s)-3]), code
		}
	}
	for _, sym := range currencySymbolList {
		if strings.HasPrefix(s, sym) {
			code, _ := bowtie.CurrencySymbol(sym)
			return strings.TrimSpace(s[len(sym):]), code
		}
		if strings.HasSuffix(s, sym) {
			code, _ := bowtie.CurrencySymbol(sym)
			return strings.TrimSpace(s[:len(s)-len(sym)]), code
		}
	}
	for _, sym := range ambiguousSymbols {
		if strings.HasPrefix(s, sym) {
			return strings.TrimSpace(s[len(sym):]), sym
		}
		if strings.HasSuffix(s, sym) {
			return strings.TrimSpace(s[:len(s)-len(sym)]), sym
		}
	}
	return s, ""
}

// currencySymbolList holds the unambiguous symbols bowtie knows, longest
// first so that "US$" wins over "$" and "R$" over "$".
var currencySymbolList = []string{"US$", "CA$", "CHF", "Fr.", "R$", "A$", "C$", "zł", "€", "£", "₹", "₽", "₩", "₺", "₪", "₫", "₴", "₱", "₦"}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// parseNumber parses an unsigned decimal number written with any of the
// usual grouping and decimal separators. When the separator is ambiguous (a
// single "," or "." followed by exactly three digits) a comma groups
// thousands and a point is decimal, unless intOnly says the value is a whole
// number, in which case both group.
func parseNumber(s string, intOnly bool) (float64, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	var b strings.Builder
	b.Grow(len(s))
	// Remove space-like and apostrophe group separators, which are never
	// decimal separators; they must sit between digits.
	var groupSep bool
	for i, r := range s {
		switch r {
		case ' ', '\u00a0', '\u202f', '\u2009', '\'', '’':
			prev, next := i > 0 && isDigit(s[i-1]), false
			if j := i + len(string(r)); j < len(s) {
				next = isDigit(s[j])
			}
			if !prev || !next {
				return 0, errors.New("misplaced separator")
			}
			groupSep = true
			continue
		}
		b.WriteRune(r)
	}
	t := b.String()
	// Scientific notation and plain numbers.
	if isPlain(t) {
		v, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			return 0, errors.New("out of range")
		}
		if !groupSep && !intOnly {
			return v, nil
		}
	}
	commas, dots := strings.Count(t, ","), strings.Count(t, ".")
	lastComma, lastDot := strings.LastIndexByte(t, ','), strings.LastIndexByte(t, '.')
	dec := byte(0) // the decimal separator, 0 for none
	switch {
	case commas > 0 && dots > 0:
		if lastComma > lastDot {
			dec = ','
		} else {
			dec = '.'
		}
	case commas == 1 || dots == 1:
		sep, at := byte(','), lastComma
		if dots == 1 {
			sep, at = '.', lastDot
		}
		threeAfter := len(t)-at-1 == 3 && at > 0 && at <= 3 && t[0] != '0'
		switch {
		case groupSep:
			dec = sep // 1 234,5 or 1'234.50
		case threeAfter && (intOnly || sep == ','):
			dec = 0 // 1,234 (or 1.234 for whole numbers)
		default:
			dec = sep
		}
	}
	var digits strings.Builder
	intPart, frac := t, ""
	if dec != 0 {
		i := strings.LastIndexByte(t, dec)
		intPart, frac = t[:i], t[i+1:]
		if frac == "" || !allDigits(frac) {
			return 0, errors.New("bad fraction")
		}
	}
	group := byte(',')
	if dec == ',' || (dec == 0 && dots > 0) {
		group = '.'
	}
	// Group separators must split the integer part into groups of three.
	parts := strings.Split(intPart, string(group))
	for i, part := range parts {
		if !allDigits(part) || (i > 0 && len(part) != 3) || (i == 0 && len(parts) > 1 && len(part) > 3) {
			if !(i == 0 && part == "" && len(parts) == 1 && frac != "") { // ".5"
				return 0, errors.New("bad grouping")
			}
		}
		digits.WriteString(part)
	}
	if frac != "" {
		digits.WriteByte('.')
		digits.WriteString(frac)
	}
	v, err := strconv.ParseFloat(digits.String(), 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, errors.New("out of range")
	}
	return v, nil
}

// isPlain reports whether s is digits with at most one '.', optionally
// followed by an exponent: what strconv.ParseFloat should read, and nothing
// it reads beyond (no hex, inf, nan or underscores).
func isPlain(s string) bool {
	i, n := 0, len(s)
	digits := 0
	for i < n && isDigit(s[i]) {
		i++
		digits++
	}
	if i < n && s[i] == '.' {
		i++
		for i < n && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < n && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < n && isDigit(s[i]) {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == n
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// ParseBool parses true/false, yes/no, y/n, t/f, 1/0 and on/off.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "t", "yes", "y", "1", "on", "x":
		return true, nil
	case "false", "f", "no", "n", "0", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (use true/false, yes/no or 1/0)", s)
}

// ParseCurrency returns s as an upper-case ISO 4217 code.
func ParseCurrency(s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(s))
	if code, ok := bowtie.CurrencySymbol(strings.TrimSpace(s)); ok {
		return code, nil
	}
	if !bowtie.IsCurrency(c) {
		return "", fmt.Errorf("%q is not an ISO 4217 currency code (EUR, USD, GBP, ...)", s)
	}
	return c, nil
}

// ParseJSON checks that s is one JSON value and returns it compacted.
func ParseJSON(s string) (string, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return "", fmt.Errorf("%q is not valid JSON", abbreviate(s, 40))
	}
	return b.String(), nil
}

// abbreviate shortens s for an error message.
func abbreviate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// normHeader is how column headers are compared: trimmed, lower-cased,
// inner blanks collapsed.
func normHeader(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), unicode.IsSpace), " ")
}
