package query_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/query"
)

const ordersSmall = `
INSERT INTO fx_rates VALUES ('2024-01-01', 'EUR', 'USD', 1.1);
INSERT INTO people (person_id, channel, segment) VALUES ('u1', 'Paid Social', 'pro'), ('u2', NULL, 'pro'), ('u3', 'Referral Program', NULL);
INSERT INTO events (id, type, name, ts, received_at, anonymous_id, person_id, channel) VALUES
 ('e1', 'page', 'Landing', '2023-12-01 10:00', '2023-12-01 10:00', 'a2', 'u2', 'Organic Search');
INSERT INTO orders (order_id, customer_id, ts, amount, gross_margin, currency, status, product_line) VALUES
 ('o1', 'u1', '2024-01-05 10:00', 100, 40, 'USD', 'paid', 'app'),
 ('o2', 'u1', '2024-01-20 10:00', 50, NULL, 'USD', 'paid', 'app'),
 ('o3', 'u2', '2024-01-10 10:00', 90, 30, 'EUR', 'paid', 'merch'),
 ('o4', 'u2', '2024-02-03 10:00', 60, 20, 'USD', 'paid', 'app'),
 ('o5', 'u3', '2024-02-10 10:00', 40, 10, 'USD', 'refunded', 'app'),
 ('o6', 'u3', '2023-12-20 10:00', 10, 5, 'USD', 'paid', 'app'),
 ('o7', 'u3', '2024-02-15 10:00', 30, 15, 'USD', 'paid', 'merch');
`

// TestRunOrders_HandComputed checks every figure of the orders analysis
// on seven orders worked out by hand: a refund, an order before the
// range (u3's first), a EUR order converted at 1.1, a missing margin and
// a channel taken from the first event.
func TestRunOrders_HandComputed(t *testing.T) {
	s := openWith(t, "")
	if _, err := s.DB().Exec(ordersSmall); err != nil {
		t.Fatal(err)
	}
	biz := business(t, "preset: b2c\ncurrency: USD\ntime_zone: UTC\n")
	ctx := context.Background()
	run := func(grain, by string) *query.Orders {
		t.Helper()
		o, err := query.RunOrders(ctx, s.DB(), query.DuckDB{}, biz, query.OrdersRequest{From: date("2024-01-01"), To: date("2024-02-29"), Grain: grain, By: by})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	type want struct {
		orders              int64
		revenue, aov        float64
		cust, newc, rep     int64
		rate, freq, gm, gmp float64
		refunds             int64
		refunded            float64
	}
	check := func(what string, r query.OrdersRow, w want) {
		t.Helper()
		if r.Orders != w.orders || !closeTo(r.Revenue, w.revenue) || !near(r.AOV, w.aov) || r.Customers != w.cust ||
			r.NewCustomers != w.newc || r.RepeatCustomers != w.rep || !near(r.RepeatRate, w.rate) || !near(r.Frequency, w.freq) ||
			!closeTo(r.GrossMargin, w.gm) || !near(r.MarginPct, w.gmp) || r.Refunds != w.refunds || !closeTo(r.RefundedAmount, w.refunded) {
			t.Errorf("%s: got %+v (aov %v rate %v freq %v gm%% %v), want %+v", what, r, deref(r.AOV), deref(r.RepeatRate), deref(r.Frequency), deref(r.MarginPct), w)
		}
	}
	t.Run("Months", func(t *testing.T) {
		o := run("month", "")
		if len(o.Rows) != 2 || o.Rows[0].Period != "2024-01-01" || o.Rows[1].Period != "2024-02-01" {
			t.Fatalf("rows %+v", o.Rows)
		}
		check("january", o.Rows[0], want{3, 249, 83, 2, 2, 1, 0.5, 1.5, 73, 73.0 / 199, 0, 0})
		check("february", o.Rows[1], want{2, 90, 45, 2, 0, 2, 1, 1, 35, 35.0 / 90, 1, 40})
		check("total", o.Total, want{5, 339, 67.8, 3, 2, 3, 1, 5.0 / 3, 108, 108.0 / 289, 1, 40})
	})
	t.Run("Channel", func(t *testing.T) {
		o := run("", "channel")
		got := map[string]query.OrdersRow{}
		for _, r := range o.Rows {
			got[r.Group] = r
		}
		check("Paid Social", got["Paid Social"], want{2, 150, 75, 1, 1, 1, 1, 2, 40, 0.4, 0, 0})
		check("Organic Search", got["Organic Search"], want{2, 159, 79.5, 1, 1, 1, 1, 2, 53, 53.0 / 159, 0, 0})
		check("Referral Program", got["Referral Program"], want{1, 30, 30, 1, 0, 1, 1, 1, 15, 0.5, 1, 40})
	})
	t.Run("Segment", func(t *testing.T) {
		o := run("", "person.segment")
		if len(o.Rows) != 2 || o.Rows[0].Group != "pro" || o.Rows[1].Group != "(not set)" {
			t.Fatalf("rows %+v", o.Rows)
		}
		check("pro", o.Rows[0], want{4, 309, 77.25, 2, 2, 2, 1, 2, 93, 93.0 / 259, 0, 0})
		check("(not set)", o.Rows[1], want{1, 30, 30, 1, 0, 1, 1, 1, 15, 0.5, 1, 40})
	})
	t.Run("Lines", func(t *testing.T) {
		o := run("", "")
		if len(o.Lines) != 2 || o.Lines[0].ProductLine != "app" || !closeTo(o.Lines[0].Revenue, 210) || !near(o.Lines[0].Share, 210.0/339) ||
			o.Lines[1].ProductLine != "merch" || !closeTo(o.Lines[1].Revenue, 129) {
			t.Errorf("lines %+v", o.Lines)
		}
	})
	t.Run("ErrBadRequest", func(t *testing.T) {
		for _, req := range []query.OrdersRequest{
			{From: date("2024-01-01"), To: date("2024-02-01"), Grain: "hour"},
			{From: date("2024-01-01"), To: date("2024-02-01"), By: "planet"},
			{From: date("2024-01-01"), To: date("2024-02-01"), By: "person.email_hash"},
			{From: date("2024-02-01"), To: date("2024-01-01")},
		} {
			if _, err := query.RunOrders(ctx, s.DB(), query.DuckDB{}, biz, req); err == nil {
				t.Errorf("%+v: no error", req)
			}
		}
	})
}

func closeTo(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestRunOrders_RandomAgainstReference compares the monthly orders figures
// with a brute-force Go computation on random order histories.
func TestRunOrders_RandomAgainstReference(t *testing.T) {
	biz := business(t, "preset: b2c\ncurrency: USD\ntime_zone: UTC\n")
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			s := openWith(t, "")
			type order struct {
				id, cust string
				ts       time.Time
				amount   float64
				margin   float64
				paid     bool
			}
			base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			var orders []order
			var b strings.Builder
			b.WriteString("INSERT INTO orders (order_id, customer_id, ts, amount, gross_margin, currency, status, product_line) VALUES ")
			nc, n := 5+r.IntN(40), 60+r.IntN(200)
			for i := 0; i < n; i++ {
				o := order{id: fmt.Sprintf("o%d", i), cust: fmt.Sprintf("c%d", r.IntN(nc)),
					ts: base.Add(time.Duration(r.IntN(200*24*60)) * time.Minute), amount: float64(1+r.IntN(50000)) / 100,
					paid: r.Float64() < 0.85}
				o.margin = math.Round(o.amount*0.4*100) / 100
				orders = append(orders, o)
				if i > 0 {
					b.WriteString(", ")
				}
				st := "refunded"
				if o.paid {
					st = "paid"
				}
				fmt.Fprintf(&b, "('%s', '%s', '%s', %.2f, %.2f, 'USD', '%s', 'x')", o.id, o.cust, o.ts.Format(time.DateTime), o.amount, o.margin, st)
			}
			if _, err := s.DB().Exec(b.String()); err != nil {
				t.Fatal(err)
			}
			from, to := date("2024-02-01"), date("2024-05-31")
			got, err := query.RunOrders(context.Background(), s.DB(), query.DuckDB{}, biz, query.OrdersRequest{From: from, To: to, Grain: "month"})
			if err != nil {
				t.Fatal(err)
			}
			// Reference: every paid order ranked per customer.
			sort.Slice(orders, func(i, j int) bool {
				if !orders[i].ts.Equal(orders[j].ts) {
					return orders[i].ts.Before(orders[j].ts)
				}
				return orders[i].id < orders[j].id
			})
			paidN := map[string]int{}
			first, second := map[string]time.Time{}, map[string]time.Time{}
			for _, o := range orders {
				if !o.paid {
					continue
				}
				paidN[o.cust]++
				switch paidN[o.cust] {
				case 1:
					first[o.cust] = o.ts
				case 2:
					second[o.cust] = o.ts
				}
			}
			month := func(t time.Time) string {
				return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
			}
			type agg struct {
				orders, refunds  int64
				revenue, margin  float64
				custs, newc, rep map[string]bool
			}
			ref := map[string]*agg{}
			for _, o := range orders {
				if o.ts.Before(from) || !o.ts.Before(to.AddDate(0, 0, 1)) {
					continue
				}
				m := month(o.ts)
				a := ref[m]
				if a == nil {
					a = &agg{custs: map[string]bool{}, newc: map[string]bool{}, rep: map[string]bool{}}
					ref[m] = a
				}
				if !o.paid {
					a.refunds++
					continue
				}
				a.orders++
				a.revenue += o.amount
				a.margin += o.margin
				a.custs[o.cust] = true
				if first[o.cust].Equal(o.ts) {
					a.newc[o.cust] = true
				}
				if sc, ok := second[o.cust]; ok && month(sc) <= m {
					a.rep[o.cust] = true
				}
			}
			if len(got.Rows) != len(ref) {
				t.Fatalf("%d rows, reference %d", len(got.Rows), len(ref))
			}
			for _, row := range got.Rows {
				a := ref[row.Period]
				if a == nil {
					t.Fatalf("unexpected period %s", row.Period)
				}
				if row.Orders != a.orders || row.Refunds != a.refunds || !closeTo(row.Revenue, a.revenue) || !closeTo(row.GrossMargin, a.margin) ||
					row.Customers != int64(len(a.custs)) || row.NewCustomers != int64(len(a.newc)) || row.RepeatCustomers != int64(len(a.rep)) {
					t.Errorf("%s: got %+v, reference orders %d refunds %d revenue %.2f margin %.2f customers %d new %d repeat %d",
						row.Period, row, a.orders, a.refunds, a.revenue, a.margin, len(a.custs), len(a.newc), len(a.rep))
				}
			}
		})
	}
}
