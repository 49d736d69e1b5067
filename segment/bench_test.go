package segment

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkDecode decodes a batch of 100 browser-like messages (~55 KB).
func BenchmarkDecode(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"sentAt":"2025-06-01T12:00:01.000Z","batch":[`)
	for i := 0; i < 100; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"type":"track","event":"Video Played","messageId":"m-%d","anonymousId":"anon-1","timestamp":"2025-06-01T12:00:00.000Z",`+
			`"properties":{"video":"intro","position":12},"context":{"ip":"203.0.113.9","userAgent":"Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0",`+
			`"page":{"url":"https://shop.example/pricing?utm_source=tiktok&utm_medium=paid-social&utm_campaign=june&ttclid=T1","referrer":"https://www.tiktok.com/"},`+
			`"library":{"name":"analytics.js","version":"2.0"},"locale":"en-US","screen":{"width":1920,"height":1080}}}`, i)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if r := Decode("batch", body); len(r.Messages) != 100 {
			b.Fatal(r.Problems)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "msgs/s")
}
