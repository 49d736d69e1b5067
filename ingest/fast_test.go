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
