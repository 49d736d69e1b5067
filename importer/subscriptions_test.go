package importer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImport_SubscriptionSegments checks the checks across segments:
// every overlap of two segments of one subscription is found whatever the
// file's order (open segments included; touching ends are fine), each
// reported on the later line, and with --skip-bad only the later segment
// is left out.
func TestImport_SubscriptionSegments(t *testing.T) {
	const head = "subscription_id,valid_from,valid_to,customer_id,status,billing_interval,amount,currency\n"
	write := func(body string) string {
		p := filepath.Join(t.TempDir(), "subs.csv")
		if err := os.WriteFile(p, []byte(head+body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		st := newFakeStore()
		p := write("a,2024-01-01,2024-02-01,c,trialing,month,0,EUR\n" +
			"a,2024-03-01,,c,active,month,9,EUR\n" +
			"a,2024-02-01,2024-03-01,c,active,month,9,EUR\n" +
			"b,2024-01-15,,c,active,month,9,EUR\n")
		if _, err := Import(ctx, st, p, Options{Kind: "subscriptions", Business: business(t)}); err != nil {
			t.Fatal(err)
		}
		if n := len(st.rowsOf("subscriptions")); n != 4 {
			t.Fatalf("%d rows, want 4", n)
		}
	})
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"Contained", "a,2024-01-01,2024-12-31,c,active,month,9,EUR\na,2024-03-01,2024-04-01,c,paused,month,0,EUR\n",
			[]string{":3: valid_from: subscription a: segment [2024-03-01, 2024-04-01) overlaps the segment [2024-01-01, 2024-12-31) on line 2"}},
		{"OpenBefore", "a,2024-05-01,2024-06-01,c,active,month,9,EUR\na,2024-01-01,,c,active,month,9,EUR\n",
			[]string{":3: valid_from: subscription a: segment [2024-01-01, open) overlaps the segment [2024-05-01, 2024-06-01) on line 2"}},
		{"TwoOpen", "a,2024-01-01,,c,active,month,9,EUR\na,2024-05-01,,c,active,month,9,EUR\n",
			[]string{":3: valid_from: subscription a: segment [2024-05-01, open) overlaps"}},
		{"Backwards", "a,2024-05-01,2024-04-01,c,active,month,9,EUR\n",
			[]string{":2: valid_to: 2024-04-01 is before valid_from 2024-05-01"}},
		{"SameStartIsDuplicate", "a,2024-01-01,,c,active,month,9,EUR\na,2024-01-01,2024-02-01,c,active,month,9,EUR\n",
			[]string{":3: subscription_id: duplicate subscriptions key"}},
	} {
		t.Run("Err"+tc.name, func(t *testing.T) {
			st := newFakeStore()
			p := write(tc.body)
			_, err := Import(ctx, st, p, Options{Kind: "subscriptions", Business: business(t)})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), p+w) {
					t.Errorf("error %q, want %q", err, w)
				}
			}
			if strings.Count(err.Error(), "\n") >= len(tc.want) {
				t.Errorf("more errors than expected: %q", err)
			}
			if n := len(st.rowsOf("subscriptions")); n != 0 {
				t.Errorf("%d rows stored: nothing may be half-imported", n)
			}
		})
	}
	t.Run("SkipBad", func(t *testing.T) {
		st := newFakeStore()
		var rejects bytes.Buffer
		p := write("a,2024-01-01,2024-03-01,c,active,month,9,EUR\na,2024-02-01,,c,active,month,9,EUR\na,2024-03-01,,c,active,month,9,EUR\n")
		res, err := Import(ctx, st, p, Options{Kind: "subscriptions", Business: business(t), Rejects: &rejects})
		if err != nil {
			t.Fatal(err)
		}
		if res.Rejected != 1 || len(st.rowsOf("subscriptions")) != 2 || !strings.HasPrefix(strings.SplitN(rejects.String(), "\n", 3)[1], "3,valid_from,") {
			t.Errorf("rejected %d, stored %d, rejects:\n%s", res.Rejected, len(st.rowsOf("subscriptions")), rejects.String())
		}
	})
}
