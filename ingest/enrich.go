package ingest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/segment"
)

// ClickIDs are the ad platforms' click id parameters read from page URLs,
// in the order they are looked for.
var ClickIDs = []string{"gclid", "gbraid", "wbraid", "msclkid", "yclid", "fbclid", "ttclid", "li_fat_id"}

// enriched is one message ready for the writer: its events row and the
// identity facts it carries.
type enriched struct {
	id      string
	row     []any
	person  *PersonUpdate
	account *AccountUpdate
	links   []Identity
}

// pageProps are the properties read from a message besides storing them.
type pageProps struct {
	URL      string          `json:"url"`
	Referrer string          `json:"referrer"`
	Revenue  json.RawMessage `json:"revenue"`
	Currency string          `json:"currency"`
}

// enrich builds the events row of m (field order of bowtie's events table)
// and its identity facts.
func (in *Ingester) enrich(m *segment.Message, source string, recv time.Time, remoteIP string) *enriched {
	e := &enriched{id: m.MessageID}
	if e.id == "" {
		e.id = newID()
	}
	ts := m.EventTime(recv)
	var pp pageProps
	if p := m.Properties; len(p) > 2 && (bytes.Contains(p, []byte(`"revenue"`)) ||
		m.Context.Page.URL == "" && bytes.Contains(p, []byte(`"url"`)) ||
		m.Context.Page.Referrer == "" && bytes.Contains(p, []byte(`"referrer"`))) {
		json.Unmarshal(p, &pp) // a field of the wrong type stays empty
	}
	pageURL := firstNonEmpty(m.Context.Page.URL, pp.URL)
	referrer := firstNonEmpty(m.Context.Page.Referrer, pp.Referrer)
	// context.campaign wins as a whole; without it the page URL's utm_*
	// parameters describe the visit.
	camp := m.Context.Campaign
	var clickType, clickID string
	if pageURL != "" {
		rawQuery, ok := "", false
		if _, rq, quick := quickURL(pageURL); quick {
			rawQuery, ok = rq, true
		} else if u, err := url.Parse(pageURL); err == nil {
			rawQuery, ok = u.RawQuery, true
		}
		if ok {
			q := parseQuery(rawQuery)
			q.toText()
			if camp == (segment.Campaign{}) {
				camp = segment.Campaign{Source: q.utm[0], Medium: q.utm[1], Name: q.utm[2], Term: q.utm[3], Content: q.utm[4]}
			}
			for i, k := range ClickIDs {
				if v := q.click[i]; v != "" {
					clickType, clickID = k, v
					break
				}
			}
		}
	}
	var channel any
	if pageURL != "" || referrer != "" || camp.Source != "" || camp.Medium != "" || camp.Name != "" || clickType != "" {
		channel = in.channel(bowtie.Touch{Source: camp.Source, Medium: camp.Medium, Campaign: camp.Name,
			ClickIDType: clickType, Referrer: referrer})
	}
	var name string
	switch m.Type {
	case segment.Track:
		name = m.Event
	case segment.Page, segment.Screen:
		name = m.Name
	}
	var revenue, currency any
	if r, ok, err := segment.Revenue(pp.Revenue); ok && err == nil && m.Type == segment.Track {
		revenue = float64(int64(r*1e4)) / 1e4
		currency = "USD" // the spec's default
		if c := strings.ToUpper(strings.TrimSpace(pp.Currency)); bowtie.IsCurrency(c) {
			currency = c
		}
	}
	accountID := m.Context.GroupID
	if m.Type == segment.Group {
		accountID = m.GroupID
	}
	props := m.Properties
	traits := m.Traits
	if len(traits) == 0 || string(traits) == "null" {
		traits = m.Context.Traits
	}
	if m.Type == segment.Identify || m.Type == segment.Group {
		props = stripEmail(traits)
	}
	// Keys in sorted order; empty values are left out.
	extra := [...]keyValue{{`"_category"`, m.Category}, {`"_ip"`, in.ip(firstNonEmpty(m.Context.IP, remoteIP))},
		{`"_source"`, source}, {`"_user_agent"`, m.Context.UserAgent}}
	if in.biz.Ingest.UserAgent != "keep" {
		extra[3].value = ""
	}
	e.row = []any{
		e.id, ts, recv, m.Type, nullable(name), nullable(m.AnonymousID), nullable(m.UserID), nullable(accountID),
		nullable(camp.Source), nullable(camp.Medium), nullable(camp.Name), nullable(camp.Term), nullable(camp.Content),
		nullable(clickType), nullable(clickID), nullable(referrer), nullable(pageURL), channel, revenue, currency,
		withExtras(props, extra[:]),
	}

	// Identity facts.
	if m.UserID != "" && m.AnonymousID != "" {
		e.links = append(e.links, Identity{Kind: "anonymous", AliasID: m.AnonymousID, PersonID: m.UserID, Source: m.Type, TS: ts})
	}
	switch m.Type {
	case segment.Identify:
		if m.UserID != "" {
			e.person = personFromTraits(m.UserID, traits, ts)
		}
	case segment.Group:
		e.account = accountFromTraits(m.GroupID, m.Traits, ts)
		if m.UserID != "" {
			e.person = &PersonUpdate{ID: m.UserID, AccountID: m.GroupID, FirstSeen: ts}
		}
	case segment.Alias:
		e.links = append(e.links, Identity{Kind: "alias", AliasID: m.PreviousID, PersonID: m.UserID, Source: "alias", TS: ts})
		e.person = &PersonUpdate{ID: m.UserID, FirstSeen: ts}
	}
	return e
}

// channelCacheSize bounds the channel cache; it is emptied when full.
const channelCacheSize = 50_000

// channel classifies t with the business's rules, through a cache: the
// rules are regular expressions and real traffic repeats few touches.
func (in *Ingester) channel(t bowtie.Touch) string {
	if h, _, ok := quickURL(t.Referrer); ok {
		if h != "" {
			t.Referrer = h // classification only looks at the host
		}
	} else if u, err := url.Parse(t.Referrer); err == nil && u.Host != "" {
		t.Referrer = u.Host
	}
	in.chMu.RLock()
	c, ok := in.chCache[t]
	in.chMu.RUnlock()
	if ok {
		return c
	}
	c = in.biz.Channel(t)
	in.chMu.Lock()
	if len(in.chCache) >= channelCacheSize {
		clear(in.chCache)
	}
	in.chCache[t] = c
	in.chMu.Unlock()
	return c
}

// toText makes the decoded parameters text the store takes: a %-escape
// may decode to a byte that is not UTF-8 (a Latin-1 link: caf%E9), which
// becomes U+FFFD, or to NUL, which is dropped.
func (p *queryParams) toText() {
	for i := range p.utm {
		p.utm[i] = validText(p.utm[i])
	}
	for i := range p.click {
		p.click[i] = validText(p.click[i])
	}
}

func validText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// ip applies the IP policy to a sender address; an unparsable one is dropped.
func (in *Ingester) ip(s string) string {
	policy := in.biz.Ingest.IP
	if s == "" || policy == "drop" {
		return ""
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return ""
	}
	a = a.Unmap()
	switch policy {
	case "keep":
		return a.String()
	case "hash":
		mac := hmac.New(sha256.New, []byte(in.biz.Ingest.IPHashKey))
		mac.Write([]byte(a.String()))
		return hex.EncodeToString(mac.Sum(nil))[:32]
	}
	bits := 24
	if a.Is6() {
		bits = 48
	}
	p, _ := a.Prefix(bits)
	return p.Addr().String()
}

// personFromTraits maps identify traits to a people update: email is only
// kept hashed; title (or role) and country (or address.country) fill their
// columns; every other trait goes to properties.
func personFromTraits(id string, traits json.RawMessage, ts time.Time) *PersonUpdate {
	p := &PersonUpdate{ID: id, FirstSeen: ts}
	t := decodeObject(traits)
	if t == nil {
		return p
	}
	if email, ok := t["email"].(string); ok && strings.TrimSpace(email) != "" {
		p.EmailHash = HashEmail(email)
	}
	delete(t, "email")
	p.Role = firstNonEmpty(str(t["title"]), str(t["role"]))
	p.Country = str(t["country"])
	if addr, ok := t["address"].(map[string]any); ok && p.Country == "" {
		p.Country = str(addr["country"])
	}
	if c, ok := t["company"].(map[string]any); ok {
		p.AccountID = str(c["id"])
	}
	if created := str(t["createdAt"]); created != "" {
		if ct, err := time.Parse(time.RFC3339Nano, created); err == nil {
			p.FirstSeen = ct.UTC()
		}
	}
	p.props = t
	return p
}

// accountFromTraits maps group traits to an accounts update.
func accountFromTraits(id string, traits json.RawMessage, ts time.Time) *AccountUpdate {
	a := &AccountUpdate{ID: id, FirstSeen: ts}
	t := decodeObject(traits)
	if t == nil {
		return a
	}
	delete(t, "email")
	a.Name = str(t["name"])
	a.Industry = str(t["industry"])
	a.Tier = firstNonEmpty(str(t["tier"]), str(t["plan"]))
	a.Region = str(t["region"])
	a.Country = str(t["country"])
	if addr, ok := t["address"].(map[string]any); ok && a.Country == "" {
		a.Country = str(addr["country"])
	}
	a.Domain = firstNonEmpty(str(t["domain"]), str(t["website"]))
	if u, err := url.Parse(a.Domain); err == nil && u.Host != "" {
		a.Domain = u.Host
	}
	a.Domain = strings.TrimPrefix(strings.ToLower(a.Domain), "www.")
	if n, ok := number(raw(t["employees"])); ok && n > 0 && n < 1e9 {
		a.Employees = int64(n)
	}
	if created := str(t["createdAt"]); created != "" {
		if ct, err := time.Parse(time.RFC3339Nano, created); err == nil {
			a.FirstSeen = ct.UTC()
		}
	}
	a.props = t
	return a
}

// HashEmail returns the SHA-256 of the trimmed, lower-cased address in hex,
// as people.email_hash stores it.
func HashEmail(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:])
}

// stripEmail returns traits without their email (kept only hashed).
func stripEmail(traits json.RawMessage) json.RawMessage {
	if !bytes.Contains(traits, []byte(`"email"`)) {
		return traits
	}
	t := decodeObject(traits)
	delete(t, "email")
	b, _ := json.Marshal(t)
	return b
}

// keyValue is one key bowtie adds to a message's properties; key is
// quoted JSON.
type keyValue struct{ key, value string }

// withExtras returns the JSON object props with the keys of extra added
// (replacing the message's own keys of the same names).
func withExtras(props json.RawMessage, extra []keyValue) string {
	trimmed := bytes.TrimSpace(props)
	if len(trimmed) > 0 && !bytes.Equal(trimmed, []byte("null")) && bytes.Contains(trimmed, []byte(`"_`)) {
		// Rare: the message may have keys of these names; decode to replace them.
		t := decodeObject(trimmed)
		if t == nil {
			t = map[string]any{}
		}
		for _, kv := range extra {
			if kv.value != "" {
				t[strings.Trim(kv.key, `"`)] = kv.value
			}
		}
		b, _ := json.Marshal(t)
		return string(b)
	}
	b := make([]byte, 0, len(trimmed)+128)
	b = append(b, '{')
	for _, kv := range extra {
		if kv.value == "" {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, kv.key...)
		b = append(b, ':')
		b = appendJSONString(b, kv.value)
	}
	if len(trimmed) > 2 && trimmed[0] == '{' {
		if inner := bytes.TrimSpace(trimmed[1 : len(trimmed)-1]); len(inner) > 0 {
			if len(b) > 1 {
				b = append(b, ',')
			}
			b = append(b, inner...)
		}
	}
	b = append(b, '}')
	return string(b)
}

func decodeObject(raw json.RawMessage) map[string]any {
	var t map[string]any
	if err := json.Unmarshal(raw, &t); err != nil || t == nil {
		return nil
	}
	return t
}

func encodeProps(p map[string]any) string {
	if len(p) == 0 {
		return ""
	}
	b, err := json.Marshal(p)
	if err != nil {
		return ""
	}
	return string(b)
}

// number reads a JSON number or numeric string.
func number(raw json.RawMessage) (float64, bool) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" || s == "null" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != f || f > 1e14 || f < -1e14 {
		return 0, false
	}
	return float64(int64(f*1e4)) / 1e4, true
}

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
