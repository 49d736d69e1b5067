package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestBrowser_Script loads a page of another origin that includes
// /bowtie.js in headless Chromium, arriving from a referring page with UTM
// parameters and a click id, and checks that the page view, a track call
// and an identify call land with them.
func TestBrowser_Script(t *testing.T) {
	bin := chromium(t)
	c := mustCollector(t, "b2c", nil)
	site := http.NewServeMux()
	site.HandleFunc("/from", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><title>Ad</title><script>location.href = "/landing?utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale&gclid=GCLID-42";</script>`)
	})
	site.HandleFunc("/landing", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><title>Landing</title>
<script>
window.bowtie = window.bowtie || function () { (bowtie.q = bowtie.q || []).push(arguments); };
bowtie('track', 'Signup Started', {plan: 'pro'});
bowtie('identify', 'browser-user-1', {email: 'Pat@Example.org', name: 'Pat'});
</script>
<script async src="%s/bowtie.js" data-write-key="%s"></script>
<p id="done">landing</p>`, c.ts.URL, testKey)
	})
	siteTS := httptest.NewServer(site)
	defer siteTS.Close()

	runChromium(t, bin, siteTS.URL+"/from", "--dump-dom")
	deadline := time.Now().Add(15 * time.Second)
	for c.count(t, "SELECT count(*) FROM events") < 3 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}

	type ev struct{ typ, name, anon, person, src, med, camp, clickType, click, referrer, url, channel string }
	rows, err := c.st.DB().Query(`SELECT type, coalesce(name, ''), coalesce(anonymous_id, ''), coalesce(person_id, ''),
		coalesce(utm_source, ''), coalesce(utm_medium, ''), coalesce(utm_campaign, ''), coalesce(click_id_type, ''),
		coalesce(click_id, ''), coalesce(referrer, ''), coalesce(url, ''), coalesce(channel, '') FROM events ORDER BY ts`)
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string]ev{}
	for rows.Next() {
		var e ev
		rows.Scan(&e.typ, &e.name, &e.anon, &e.person, &e.src, &e.med, &e.camp, &e.clickType, &e.click, &e.referrer, &e.url, &e.channel)
		byType[e.typ] = e
	}
	rows.Close()
	if len(byType) != 3 {
		t.Fatalf("stored events by type %v, want page, track and identify; server log:\n%s", byType, c.logs)
	}
	for typ, e := range byType {
		if e.anon == "" || e.src != "newsletter" || e.med != "email" || e.camp != "spring-sale" || e.clickType != "gclid" ||
			e.click != "GCLID-42" || e.referrer != siteTS.URL+"/from" || e.url == "" || e.channel != "Email" {
			t.Errorf("%s: %+v", typ, e)
		}
	}
	if e := byType["track"]; e.name != "Signup Started" {
		t.Errorf("track: %+v", e)
	}
	if e := byType["identify"]; e.person != "browser-user-1" {
		t.Errorf("identify: %+v", e)
	}
	if n := c.count(t, "SELECT count(*) FROM identities WHERE kind = 'anonymous' AND person_id = 'browser-user-1'"); n != 1 {
		t.Errorf("%d anonymous links to the identified user, want 1", n)
	}
	if n := c.count(t, "SELECT count(*) FROM events WHERE properties->>'_user_agent' LIKE '%Chrome%'"); n != 3 {
		t.Errorf("%d events keep the user agent, want 3", n)
	}
}
