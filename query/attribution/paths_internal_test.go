package attribution

import (
	"testing"
	"time"
)

// TestAssemble_HashCollision gives two units the same hash: their touches
// must not merge, and each conversion must find its own unit's touches.
func TestAssemble_HashCollision(t *testing.T) {
	keys := &keyArena{}
	key := func(h uint64, k string) unitKey {
		u, err := keys.add(h, []byte(k))
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	chans, camps, whos := newDict(), newDict(), newDict()
	camps.id(nil)
	a, b := chans.id([]byte("A")), chans.id([]byte("B"))
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).Unix()
	touches := []touchRow{
		{unitKey: key(5, "pY"), ts: base + 30, ch: b, who: -1},
		{unitKey: key(5, "pX"), ts: base + 20, ch: a, who: -1},
		{unitKey: key(5, "pY"), ts: base + 10, ch: a, who: -1},
		{unitKey: key(3, "pZ"), ts: base + 40, ch: b, who: -1},
		{unitKey: key(5, "pX"), ts: base + 50, ch: b, who: -1},
	}
	g := groupTouches(keys, append([]touchRow(nil), touches...))
	var got []string
	for _, r := range g {
		got = append(got, string(keys.get(r.unitKey))+"@"+time.Unix(r.ts, 0).UTC().Format("05"))
	}
	want := []string{"pZ@40", "pX@20", "pX@50", "pY@10", "pY@30"}
	if len(got) != len(want) {
		t.Fatalf("grouped %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("grouped %v, want %v", got, want)
		}
	}
	s := &settings{start: time.Unix(base, 0), end: time.Unix(base+86400, 0), lookback: 86400, by: "channel", req: Request{KeepRepeats: true}}
	convs := []convRow{{unitKey: key(5, "pY"), known: true, conv: base + 35, win: base + 35, valueE4: 10000, inPeriod: true}}
	bp := assemble(s, keys, convs, nil, touches, chans, camps, whos)
	var conv, nulls int
	for _, p := range bp.paths {
		if p.Conversions > 0 {
			conv++
			if len(p.Touches) != 2 || p.Touches[0].Channel != "A" || p.Touches[1].Channel != "B" || p.Value != 1 {
				t.Errorf("pY's path %+v, want A > B worth 1", p)
			}
		} else {
			nulls++
		}
	}
	if conv != 1 || nulls != 2 {
		t.Errorf("%d converting and %d null paths, want 1 and 2 (pX, pZ)", conv, nulls)
	}
}
