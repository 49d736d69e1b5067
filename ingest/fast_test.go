package ingest

import (
	"encoding/json"
	"net/url"
	"testing"
)

// FuzzParseQuery checks parseQuery against url.ParseQuery and
// appendJSONString against json.Marshal.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"utm_source=tiktok&utm_medium=paid-social&utm_campaign=june&ttclid=T1",
		"utm_source=&utm_source=x&gclid=G", "utm%5Fsource=a%20b&fbclid=F+1", "utm_source=a;b&utm_source=c",
		"utm_source=%zz&utm_source=ok", "%zz=1&utm_term=t&utm_content=c&msclkid=M&li_fat_id=L", "", "&&=&utm_medium",
		"a<b>&\"\\\u2028\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		p := parseQuery(q)
		want, _ := url.ParseQuery(q)
		for i, k := range utmKeys {
			if p.utm[i] != want.Get(k) {
				t.Fatalf("%q: %s = %q, url.ParseQuery %q", q, k, p.utm[i], want.Get(k))
			}
		}
		for i, k := range ClickIDs {
			if p.click[i] != want.Get(k) {
				t.Fatalf("%q: %s = %q, url.ParseQuery %q", q, k, p.click[i], want.Get(k))
			}
		}
		j, _ := json.Marshal(q)
		if got := appendJSONString(nil, q); string(got) != string(j) {
			t.Fatalf("appendJSONString(%q) = %s, json.Marshal %s", q, got, j)
		}
	})
}

// quickURLAgrees checks quickURL against url.Parse on s.
func quickURLAgrees(t *testing.T, s string) {
	host, q, ok := quickURL(s)
	if !ok {
		return
	}
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("quickURL(%q) accepted what url.Parse rejects: %v", s, err)
	}
	if host != u.Host || q != u.RawQuery {
		t.Fatalf("quickURL(%q) = %q, %q; url.Parse: %q, %q", s, host, q, u.Host, u.RawQuery)
	}
}

func TestQuickURL(t *testing.T) {
	for _, c := range []struct {
		s      string
		plain  bool
		host   string
		rawQry string
	}{
		{"https://www.example.com/pricing?utm_source=google&gclid=abc#top", true, "www.example.com", "utm_source=google&gclid=abc"},
		{"http://example.com:8080?x=1", true, "example.com:8080", "x=1"},
		{"HTTPS://Example.com", true, "Example.com", ""},
		{"https://example.com/a?q=50%25", true, "example.com", "q=50%25"},
		{"https://example.com/50%off?utm_source=x", false, "", ""},
		{"https://user@example.com/", false, "", ""},
		{"https://[::1]/", false, "", ""},
		{"https://exa mple.com/", false, "", ""},
		{"https://example.com:8a/", false, "", ""},
		{"ftp://example.com/", false, "", ""},
		{"/relative?utm_source=x", false, "", ""},
		{"https://exämple.com/", false, "", ""},
	} {
		host, q, ok := quickURL(c.s)
		if ok != c.plain || host != c.host || q != c.rawQry {
			t.Errorf("quickURL(%q) = %q, %q, %v; want %q, %q, %v", c.s, host, q, ok, c.host, c.rawQry, c.plain)
		}
		quickURLAgrees(t, c.s)
	}
}

func FuzzQuickURL(f *testing.F) {
	for _, s := range []string{"https://a.com/p?utm_source=x#f", "http://a.b:1?", "https://a.com/%zz", "https://a.com#%", "http://"} {
		f.Add(s)
	}
	f.Fuzz(quickURLAgrees)
}
