package query

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/model/gammagamma"
)

// The real-data check (docs/ltv-online-retail.md): the UCI Online Retail II
// orders, 2009-12-01 to 2010-12-09, calibration to 2010-08-31, hold-out to
// 2010-12-09 (100 days), in weeks.
//
// go test ./query -run OnlineRetail -update-retail rebuilds the fixture
// from ../shared/data (when present) and the chart.

var updateRetail = flag.Bool("update-retail", false, "rebuild testdata/online_retail_rfm.txt from ../shared/data and docs/ltv-online-retail.svg")

const (
	retailParquet = "../../shared/data/online_retail_II_2009-2010.parquet"
	retailFixture = "testdata/online_retail_rfm.txt"
	retailSVG     = "../docs/ltv-online-retail.svg"
)

var (
	retailCal = time.Date(2010, 8, 31, 0, 0, 0, 0, time.UTC)
	retailEnd = time.Date(2010, 12, 10, 0, 0, 0, 0, time.UTC) // exclusive
)

// retailStore loads the parquet's invoices as orders: invoice → order,
// amount Σ quantity × price, cancelled invoices (C...) and rows without a
// customer id left out, invoices with a total ≤ 0 dropped.
func retailStore(t *testing.T) *duckdb.Store {
	s, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	q := `INSERT INTO orders (order_id, customer_id, ts, amount, currency, status)
	SELECT Invoice, CAST(CAST("Customer ID" AS BIGINT) AS VARCHAR), min(InvoiceDate), round(sum(Quantity * Price), 2), 'GBP', 'paid'
	FROM read_parquet('` + retailParquet + `')
	WHERE "Customer ID" IS NOT NULL AND NOT starts_with(CAST(Invoice AS VARCHAR), 'C')
	GROUP BY ALL HAVING sum(Quantity * Price) > 0`
	if _, err := s.DB().Exec(q); err != nil {
		t.Fatal(err)
	}
	return s
}

// readRetailFixture reads the summary rows (x tx T hx count, days) and
// spend rows (x m count).
func readRetailFixture(t *testing.T) ([]RFMRow, []SpendRow) {
	f, err := os.Open(retailFixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []RFMRow
	var spend []SpendRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		fs := strings.Fields(line)
		switch {
		case fs[0] == "r" && len(fs) == 6:
			var v [5]int64
			for i := range v {
				v[i], err = strconv.ParseInt(fs[i+1], 10, 64)
				if err != nil {
					t.Fatal(err)
				}
			}
			rows = append(rows, RFMRow{X: v[0], TX: v[1], T: v[2], HX: v[3], Count: v[4]})
		case fs[0] == "s" && len(fs) == 4:
			x, _ := strconv.ParseInt(fs[1], 10, 64)
			m, _ := strconv.ParseFloat(fs[2], 64)
			n, _ := strconv.ParseInt(fs[3], 10, 64)
			spend = append(spend, SpendRow{X: x, M: m, Count: n})
		default:
			t.Fatalf("%s: bad line %q", retailFixture, line)
		}
	}
	return rows, spend
}

func writeRetailFixture(t *testing.T, s *RFMSummary) {
	rows := append([]RFMRow{}, s.Rows...)
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.X != b.X {
			return a.X < b.X
		}
		if a.TX != b.TX {
			return a.TX < b.TX
		}
		if a.T != b.T {
			return a.T < b.T
		}
		return a.HX < b.HX
	})
	sp := append([]SpendRow{}, s.Spend...)
	sort.Slice(sp, func(i, j int) bool {
		if sp[i].X != sp[j].X {
			return sp[i].X < sp[j].X
		}
		return sp[i].M < sp[j].M
	})
	var b strings.Builder
	b.WriteString("# Per-customer BG/NBD summary of the UCI Online Retail II orders (first sheet, 2009-12-01 .. 2010-12-09),\n")
	b.WriteString("# derived by query/ltv_retail_test.go: invoices (not C...) with a customer id, amount = sum(quantity x price) > 0.\n")
	b.WriteString("# Calibration to 2010-08-31, hold-out to 2010-12-09. Source: \"Online Retail II\", UCI Machine Learning Repository\n")
	b.WriteString("# (Chen, Sain & Guo 2012), CC BY 4.0.\n")
	b.WriteString("# r x tx T hx count  (days; x, hx = purchase days)   s x mean_repeat_value_GBP count\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "r %d %d %d %d %d\n", r.X, r.TX, r.T, r.HX, r.Count)
	}
	for _, r := range sp {
		fmt.Fprintf(&b, "s %d %s %d\n", r.X, strconv.FormatFloat(r.M, 'f', 4, 64), r.Count)
	}
	if err := os.WriteFile(retailFixture, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOnlineRetail_HoldoutCheck fits BG/NBD (weeks) to the calibration
// period of the Online Retail II customers and checks the papers' test:
// the predicted hold-out purchases, in total and by calibration frequency,
// against what the customers did. With -update-retail and the parquet
// present, it first recomputes the summary in the store and rewrites the
// fixture.
func TestOnlineRetail_HoldoutCheck(t *testing.T) {
	if *updateRetail {
		if _, err := os.Stat(retailParquet); err != nil {
			t.Fatalf("-update-retail needs %s: %v", retailParquet, err)
		}
		biz, err := bowtie.Preset("b2c")
		if err != nil {
			t.Fatal(err)
		}
		biz.Currency = "GBP"
		st := retailStore(t)
		s, err := RunRFMSummary(context.Background(), st.DB(), DuckDB{}, biz, retailCal, retailEnd, "", false)
		if err != nil {
			t.Fatal(err)
		}
		writeRetailFixture(t, s)
	}
	rows, spend := readRetailFixture(t)
	var n int64
	for _, r := range rows {
		n += r.Count
	}
	if n < 3000 {
		t.Fatalf("%d customers in the fixture", n)
	}
	holdout := float64(retailEnd.AddDate(0, 0, -1).Sub(retailCal).Hours()/24) / 7
	chk, err := bgnbdCheck(rows, 7, holdout)
	if err != nil {
		t.Fatal(err)
	}
	f := chk.Fit
	if !f.Converged {
		t.Errorf("calibration fit did not converge: %+v", f)
	}
	t.Logf("BG/NBD (weeks): r %.4f (%.4f) α %.4f (%.4f) a %.4f (%.4f) b %.4f (%.4f), LL %.2f, n %.0f",
		f.R, f.SE.R, f.Alpha, f.SE.Alpha, f.A, f.SE.A, f.B, f.SE.B, f.LogLik, f.N)
	t.Logf("hold-out %.2f weeks: actual %.0f predicted %.1f", holdout, chk.Actual, *chk.Predicted)
	// The hold-out (September to December) is the gift retailer's
	// Christmas season, which a stationary model does not know: the model
	// under-predicts by about a fifth (docs/ltv-online-retail.md). The
	// bounds pin that finding: within 25 % in total, and the predicted
	// means rise with calibration frequency as the actual ones do.
	if chk.Predicted == nil || math.Abs(*chk.Predicted-chk.Actual) > 0.25*chk.Actual {
		t.Errorf("hold-out purchases: predicted %v, actual %.0f (more than 25 %% apart)", chk.Predicted, chk.Actual)
	}
	for i, r := range chk.ByFrequency {
		if i > 0 && *r.Predicted <= *chk.ByFrequency[i-1].Predicted {
			t.Errorf("x=%d: predicted %.3f does not rise", r.X, *r.Predicted)
		}
		t.Logf("x=%d%s customers %.0f actual %.3f predicted %.3f", r.X, map[bool]string{true: "+"}[r.Plus], r.Customers, r.Actual, *r.Predicted)
		// Mean hold-out purchases per group: within 35 % or 0.25 purchase.
		if r.Predicted == nil || math.Abs(*r.Predicted-r.Actual) > math.Max(0.35*r.Actual, 0.25) {
			t.Errorf("x=%d: predicted %v, actual %.3f", r.X, r.Predicted, r.Actual)
		}
	}
	if len(spend) == 0 {
		t.Fatal("no spend rows")
	}
	var gc []gammagamma.Customer
	var sumM, nM float64
	for _, r := range spend {
		gc = append(gc, gammagamma.Customer{X: float64(r.X), Mean: r.M, Count: float64(r.Count)})
		sumM += r.M * float64(r.Count)
		nM += float64(r.Count)
	}
	gg, err := gammagamma.FitCustomers(gc)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Gamma-Gamma: p %.4f (%.4f) q %.4f (%.4f) γ %.4f (%.4f), LL %.2f, n %.0f; model mean %.2f, observed mean of means %.2f",
		gg.P, gg.SE.P, gg.Q, gg.SE.Q, gg.Gamma, gg.SE.Gamma, gg.LogLik, gg.N, gg.MeanValue(), sumM/nM)
	// The model's population mean spend agrees with the customers' mean
	// of means within 15 % (it shrinks the heavy right tail).
	if mv := gg.MeanValue(); !(math.Abs(mv-sumM/nM) < 0.15*sumM/nM) {
		t.Errorf("Gamma-Gamma mean %.2f, observed %.2f", mv, sumM/nM)
	}
	// bgnbdCheck leaves the dates to its caller (RunBGNBDLTV); the chart's
	// axis label names the calibration end.
	chk.CalibrationEnd, chk.HoldoutEnd = retailCal.Format(time.DateOnly), retailEnd.AddDate(0, 0, -1).Format(time.DateOnly)
	if svg := retailChart(chk); !strings.Contains(svg, "(to "+chk.CalibrationEnd+")") {
		t.Errorf("chart's axis label without the calibration end")
	}
	if *updateRetail {
		if err := os.WriteFile(retailSVG, []byte(retailChart(chk)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// retailChart draws the check by frequency as an SVG line chart: actual
// and predicted mean hold-out purchase days per calibration frequency.
func retailChart(c *BGNBDCheck) string {
	const w, h, l, r, top, bot = 640, 360, 60, 20, 40, 50
	var ymax float64
	for _, p := range c.ByFrequency {
		ymax = math.Max(ymax, math.Max(p.Actual, *p.Predicted))
	}
	ymax = math.Ceil(ymax)
	n := len(c.ByFrequency)
	xs := func(i int) float64 { return l + float64(i)*(w-l-r)/float64(n-1) }
	ys := func(v float64) float64 { return top + (h-top-bot)*(1-v/ymax) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14">Online Retail II: hold-out purchases per customer by calibration frequency (BG/NBD, weeks)</text>`+"\n", l-40)
	for v := 0.0; v <= ymax; v++ {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%.0f</text>`+"\n", l, w-r, ys(v), ys(v), l-6, ys(v)+4, v)
	}
	for i, p := range c.ByFrequency {
		lab := strconv.Itoa(p.X)
		if p.Plus {
			lab += "+"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", xs(i), h-bot+18, lab)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">repeat purchase days in calibration (to %s)</text>`+"\n", (l+w-r)/2, h-12, c.CalibrationEnd)
	series := func(get func(FrequencyCheck) float64, color, dash, name string, ly int) {
		var pts []string
		for i, p := range c.ByFrequency {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", xs(i), ys(get(p))))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s" points="%s"/>`+"\n", color, dash, strings.Join(pts, " "))
		for i, p := range c.ByFrequency {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", xs(i), ys(get(p)), color)
		}
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2" stroke-dasharray="%s"/><text x="%d" y="%d">%s</text>`+"\n", l+10, l+40, ly, ly, color, dash, l+46, ly+4, name)
	}
	series(func(p FrequencyCheck) float64 { return p.Actual }, "#1f77b4", "", "actual", top+10)
	series(func(p FrequencyCheck) float64 { return *p.Predicted }, "#d62728", "6 4", "predicted (BG/NBD)", top+28)
	b.WriteString("</svg>\n")
	return b.String()
}
