package bgnbd

import (
	"testing"

	"github.com/bowtie-analytics/bowtie/model/internal/cdnow"
)

// Fader, Hardie & Lee (2005), section 4: on the CDNOW sample (2,357
// customers, 39-week calibration period, 946 of them with 2,457 repeat
// purchases; model/testdata/cdnow_summary.txt) the published BG/NBD
// estimates are r = 0.243, α = 4.414, a = 0.793, b = 2.426 with
// LL = −9582.4.
func TestFitCustomers_CDNOW(t *testing.T) {
	rows, err := cdnow.Load("../testdata/cdnow_summary.txt")
	if err != nil {
		t.Fatal(err)
	}
	cs := make([]Customer, len(rows))
	var repeaters, sx float64
	for i, r := range rows {
		cs[i] = Customer{X: r.X, TX: r.TX, T: r.T}
		if r.X > 0 {
			repeaters++
		}
		sx += r.X
	}
	if len(cs) != 2357 || repeaters != 946 || sx != 2457 {
		t.Fatalf("CDNOW sample: %d customers, %v with repeat purchases; want 2357 and 946", len(cs), repeaters)
	}
	if sx != 2457 {
		t.Fatalf("CDNOW sample: %v repeat purchases, want 2457", sx)
	}
	t.Logf("CDNOW: %d customers, %v repeaters, %v repeat purchases", len(cs), repeaters, sx)
	f, err := FitCustomers(cs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fit: %+v", f)
	near(t, "r", f.R, 0.243, 0.0006)
	near(t, "alpha", f.Alpha, 4.414, 0.006)
	near(t, "a", f.A, 0.793, 0.0006)
	near(t, "b", f.B, 2.426, 0.006)
	near(t, "LL", f.LogLik, -9582.4, 0.06)
	if !f.Converged {
		t.Error("not converged")
	}
	// The paper's worked example (section 5): a customer with x = 2,
	// tx = 30.43, T = 38.86 is expected to make 1.226 purchases in the next
	// 39 weeks.
	near(t, "E[Y(39)|2,30.43,38.86]", f.ConditionalExpectedPurchases(39, 2, 30.43, 38.86), 1.226, 0.002)
}
