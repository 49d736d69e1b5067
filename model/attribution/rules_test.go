package attribution

import (
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

const day = 86400

func touches(chs ...string) []Touch {
	ts := make([]Touch, len(chs))
	for i, c := range chs {
		ts[i] = Touch{Channel: c, At: int64(i) * day}
	}
	return ts
}

func near(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func TestParseModel(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for _, m := range AllModels {
			got, err := ParseModel(string(m))
			if err != nil || got != m {
				t.Fatalf("ParseModel(%q) = %q, %v", m, got, err)
			}
		}
		if len(AllModels) != len(RuleModels)+2 || AllModels[len(AllModels)-2] != Markov || AllModels[len(AllModels)-1] != Shapley {
			t.Fatalf("AllModels = %v", AllModels)
		}
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		_, err := ParseModel("u_shaped")
		if err == nil || !strings.Contains(err.Error(), `"u_shaped"`) || !strings.Contains(err.Error(), "last_non_direct") || !strings.Contains(err.Error(), "shapley") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestRuleOptions_Validate(t *testing.T) {
	if err := (RuleOptions{}).Validate(); err != nil {
		t.Fatal(err)
	}
	for _, o := range []RuleOptions{
		{HalfLife: -time.Hour},
		{Custom: CustomWeights{First: -1, Last: 1}},
		{Custom: CustomWeights{Middle: math.NaN()}},
		{Custom: CustomWeights{Last: math.Inf(1)}},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("RuleWeights with invalid options did not panic")
		}
	}()
	p := Path{Touches: touches("A")}
	RuleWeights(Custom, &p, RuleOptions{Custom: CustomWeights{First: -1}}, nil)
}

func TestRuleWeights_NonRulePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	p := Path{Touches: touches("A")}
	RuleWeights(Markov, &p, RuleOptions{}, nil)
}

// TestRuleWeights checks every rule model on hand-computed paths.
func TestRuleWeights(t *testing.T) {
	withMilestones := func(ts []Touch, lead, opp int) []Touch {
		if lead >= 0 {
			ts[lead].Milestone |= LeadCreation
		}
		if opp >= 0 {
			ts[opp].Milestone |= OpportunityCreation
		}
		return ts
	}
	hd := RuleOptions{}
	cases := []struct {
		name string
		m    Model
		o    RuleOptions
		ts   []Touch
		want []float64
	}{
		{"first/one", First, hd, touches("A"), []float64{1}},
		{"first/repeated", First, hd, touches("A", "A", "B"), []float64{1, 0, 0}},
		{"last/repeated", Last, hd, touches("A", "B", "B"), []float64{0, 0, 1}},
		{"last_non_direct/skip", LastNonDirect, hd, touches("A", "B", DirectChannel, DirectChannel), []float64{0, 1, 0, 0}},
		{"last_non_direct/all_direct", LastNonDirect, hd, touches(DirectChannel, DirectChannel), []float64{0, 1}},
		{"last_non_direct/last_not_direct", LastNonDirect, hd, touches(DirectChannel, "A"), []float64{0, 1}},
		{"linear/4", Linear, hd, touches("A", "B", "A", "C"), []float64{.25, .25, .25, .25}},
		{"position/1", Position, hd, touches("A"), []float64{1}},
		{"position/2", Position, hd, touches("A", "B"), []float64{.5, .5}},
		{"position/3", Position, hd, touches("A", "B", "C"), []float64{.4, .2, .4}},
		{"position/5", Position, hd, touches("A", "B", "C", "D", "E"), []float64{.4, .2 / 3, .2 / 3, .2 / 3, .4}},
		{"w_shaped/full", WShaped, hd, withMilestones(touches("A", "B", "C", "D", "E"), 2, 3), []float64{.3, .05, .3, .3, .05}},
		{"w_shaped/no_milestone", WShaped, hd, touches("A", "B", "C"), []float64{.75, .125, .125}},
		{"w_shaped/one", WShaped, hd, withMilestones(touches("A"), 0, 0), []float64{1}},
		{"w_shaped/lead_is_first", WShaped, hd, withMilestones(touches("A", "B", "C", "D"), 0, 2), []float64{3. / 7, 1. / 14, 3. / 7, 1. / 14}},
		{"w_shaped/lead_is_opp_no_rest", WShaped, hd, withMilestones(touches("A", "B"), 1, 1), []float64{.5, .5}},
		{"w_shaped/no_rest", WShaped, hd, withMilestones(touches("A", "B", "C"), 1, 2), []float64{1. / 3, 1. / 3, 1. / 3}},
		{"w_shaped/opp_only", WShaped, hd, withMilestones(touches("A", "B", "C", "D"), -1, 3), []float64{.3 / .7, .05 / .7, .05 / .7, .3 / .7}},
		// Ages 14, 7 and 0 days with a 7-day half-life: 1/4, 1/2, 1.
		{"time_decay/halves", TimeDecay, hd, []Touch{{Channel: "A", At: 0}, {Channel: "B", At: 7 * day}, {Channel: "C", At: 14 * day}}, []float64{1. / 7, 2. / 7, 4. / 7}},
		{"time_decay/ties", TimeDecay, RuleOptions{HalfLife: 14 * 24 * time.Hour},
			[]Touch{{Channel: "A", At: 0}, {Channel: "B", At: 14 * day}, {Channel: "C", At: 14 * day}}, []float64{.2, .4, .4}},
		{"time_decay/two_years", TimeDecay, hd, []Touch{{Channel: "A", At: 0}, {Channel: "B", At: 730 * day}}, []float64{math.Exp2(-730./7) / (1 + math.Exp2(-730./7)), 1 / (1 + math.Exp2(-730./7))}},
		{"custom/default_is_position", Custom, hd, touches("A", "B", "C"), []float64{.4, .2, .4}},
		{"custom/first_only", Custom, RuleOptions{Custom: CustomWeights{First: 1}}, touches("A", "B", "C"), []float64{1, 0, 0}},
		{"custom/middle_only_two", Custom, RuleOptions{Custom: CustomWeights{Middle: 1}}, touches("A", "B"), []float64{.5, .5}},
		{"custom/middle_only_four", Custom, RuleOptions{Custom: CustomWeights{Middle: 1}}, touches("A", "B", "C", "D"), []float64{0, .5, .5, 0}},
		{"custom/two", Custom, RuleOptions{Custom: CustomWeights{First: 2, Middle: 1, Last: 1}}, touches("A", "B"), []float64{2. / 3, 1. / 3}},
		{"custom/unnormalised", Custom, RuleOptions{Custom: CustomWeights{First: 5, Middle: 2, Last: 3}}, touches("A", "B", "C", "D"), []float64{.5, .1, .1, .3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := Path{Touches: c.ts, ConvAt: c.ts[len(c.ts)-1].At, Conversions: 1}
			got := RuleWeights(c.m, &p, c.o, make([]float64, 1))
			if len(got) != len(c.want) {
				t.Fatalf("len = %d, want %d", len(got), len(c.want))
			}
			for i := range got {
				if !near(got[i], c.want[i], 1e-12) {
					t.Fatalf("weights = %v, want %v", got, c.want)
				}
			}
		})
	}
}

// TestRuleWeights_Reference compares the position, custom and W-shaped
// shares on random paths with a straightforward re-statement of their
// definitions, and checks that every model's shares sum to 1.
func TestRuleWeights_Reference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for it := 0; it < 2000; it++ {
		p := randomPath(rng, 8, 12)
		if len(p.Touches) == 0 {
			continue
		}
		n := len(p.Touches)
		cw := CustomWeights{First: float64(rng.IntN(4)), Middle: float64(rng.IntN(4)), Last: float64(rng.IntN(4))}
		o := RuleOptions{HalfLife: time.Duration(1+rng.IntN(20)) * 24 * time.Hour, Custom: cw}
		for _, m := range RuleModels {
			w := RuleWeights(m, &p, o, nil)
			s := 0.0
			for _, x := range w {
				if x < 0 {
					t.Fatalf("%s: negative share %v", m, w)
				}
				s += x
			}
			if !near(s, 1, 1e-12) {
				t.Fatalf("%s: shares %v sum to %v", m, w, s)
			}
		}
		// W-shaped: role per touch, then normalise.
		ref := make([]float64, n)
		lead, opp := -1, -1
		for i, tc := range p.Touches {
			if tc.Milestone&LeadCreation != 0 {
				lead = i
			}
			if tc.Milestone&OpportunityCreation != 0 {
				opp = i
			}
		}
		anchor := map[int]bool{0: true}
		if lead >= 0 {
			anchor[lead] = true
		}
		if opp >= 0 {
			anchor[opp] = true
		}
		rest := n - len(anchor)
		tot := 0.0
		for i := range ref {
			if anchor[i] {
				ref[i] = 0.3
			} else {
				ref[i] = 0.1 / float64(rest)
			}
			tot += ref[i]
		}
		got := RuleWeights(WShaped, &p, o, nil)
		for i := range ref {
			if !near(got[i], ref[i]/tot, 1e-12) {
				t.Fatalf("w_shaped %v lead %d opp %d: got %v want %v/%v", n, lead, opp, got, ref, tot)
			}
		}
		// Custom: shares of the positions present, renormalised.
		cw = cw.orDefault()
		for i := range ref {
			switch {
			case i == 0:
				ref[i] = cw.First
			case i == n-1:
				ref[i] = cw.Last
			default:
				ref[i] = cw.Middle / float64(n-2)
			}
		}
		tot = 0
		for _, x := range ref {
			tot += x
		}
		got = RuleWeights(Custom, &p, o, nil)
		for i := range ref {
			want := 1 / float64(n)
			if tot > 0 {
				want = ref[i] / tot
			}
			if !near(got[i], want, 1e-12) {
				t.Fatalf("custom %+v n %d: got %v", cw, n, got)
			}
		}
	}
}

var channelNames = []string{"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S", "T"}

// randomPath draws a path of up to maxTouches touches over nch channels
// (the first of which may be Direct), sometimes with equal times, people
// and milestones.
func randomPath(rng *rand.Rand, nch, maxTouches int) Path {
	n := rng.IntN(maxTouches + 1)
	p := Path{}
	at := int64(rng.IntN(1000)) * 3600
	for i := 0; i < n; i++ {
		ch := channelNames[rng.IntN(nch)]
		if rng.IntN(6) == 0 {
			ch = DirectChannel
		}
		if rng.IntN(3) > 0 {
			at += int64(rng.IntN(30 * 24 * 3600))
		}
		p.Touches = append(p.Touches, Touch{Channel: ch, Campaign: "c" + string(rune('0'+rng.IntN(3))), At: at, Person: string(rune('p' + rng.IntN(3)))})
	}
	if n > 0 {
		if rng.IntN(2) == 0 {
			p.Touches[rng.IntN(n)].Milestone |= LeadCreation
		}
		if rng.IntN(2) == 0 {
			p.Touches[rng.IntN(n)].Milestone |= OpportunityCreation
		}
	}
	if rng.IntN(2) == 0 {
		p.Conversions = float64(1 + rng.IntN(3))
		p.Value = float64(rng.IntN(100000)) / 100
		p.ConvAt = at + int64(rng.IntN(3600))
	}
	if rng.IntN(2) == 0 || p.Conversions == 0 {
		p.Nulls = float64(rng.IntN(5))
	}
	return p
}

func randomPaths(rng *rand.Rand, n, nch, maxTouches int) []Path {
	ps := make([]Path, n)
	for i := range ps {
		ps[i] = randomPath(rng, nch, maxTouches)
	}
	return ps
}

// TestAllRuleCredits_Hand checks the aggregation on an account-level path
// with several people, a direct conversion and a non-converting path.
func TestAllRuleCredits_Hand(t *testing.T) {
	paths := []Path{
		{Touches: []Touch{
			{Channel: "LinkedIn", Campaign: "abm", At: 0, Person: "eng", Milestone: LeadCreation},
			{Channel: "Trade show", Campaign: "hannover", At: 30 * day, Person: "buyer"},
			{Channel: "Webinar", Campaign: "tco", At: 60 * day, Person: "mgmt", Milestone: OpportunityCreation},
			{Channel: DirectChannel, At: 60 * day, Person: "buyer"},
		}, ConvAt: 60 * day, Conversions: 1, Value: 1000},
		{ConvAt: 5, Conversions: 2, Value: 50},
		{Touches: touches("Paid Search"), Nulls: 7},
	}
	got := AllRuleCredits(paths, RuleOptions{}, false)
	names := []string{DirectChannel, "LinkedIn", "Paid Search", "Trade show", "Webinar"}
	// Conversions per model in the order of names; the value is 1000× the
	// first path's share + 50 for Direct's two direct conversions.
	// Time decay: ages 60, 30, 0 and 0 days, half-life 7 days.
	td := []float64{math.Exp2(-60. / 7), math.Exp2(-30. / 7), 1, 1}
	s := td[0] + td[1] + td[2] + td[3]
	want := map[Model][]float64{
		First:         {0, 1, 0, 0, 0},
		Last:          {1, 0, 0, 0, 0},
		LastNonDirect: {0, 0, 0, 0, 1},
		Linear:        {.25, .25, 0, .25, .25},
		Position:      {.4, .4, 0, .1, .1},
		// Lead creation coincides with the first touch: anchors first and
		// opportunity (0.3 each), rest Trade show and Direct (0.05 each), /0.7.
		WShaped:   {.05 / .7, .3 / .7, 0, .05 / .7, .3 / .7},
		TimeDecay: {1 / s, td[0] / s, 0, td[1] / s, 1 / s},
		Custom:    {.4, .4, 0, .1, .1},
	}
	for m, w := range want {
		cr := got[m]
		if len(cr) != len(names) {
			t.Fatalf("%s: %d rows %+v", m, len(cr), cr)
		}
		for i, c := range cr {
			direct := 0.0
			if i == 0 {
				direct = 2
			}
			if c.Channel != names[i] || c.Campaign != "" || !near(c.Conversions, w[i]+direct, 1e-12) || !near(c.Value, 1000*w[i]+25*direct, 1e-9) {
				t.Errorf("%s row %d = %+v, want %s %v conversions", m, i, c, names[i], w[i]+direct)
			}
		}
	}
	byCamp := AllRuleCredits(paths, RuleOptions{}, true)
	var keys []string
	for _, c := range byCamp[Linear] {
		keys = append(keys, c.Channel+"/"+c.Campaign)
	}
	// touches() sets no campaign: Paid Search's is "".
	if strings.Join(keys, ",") != "Direct/,LinkedIn/abm,Paid Search/,Trade show/hannover,Webinar/tco" {
		t.Errorf("campaign rows = %v", keys)
	}
}

// TestAllRuleCredits_Property: on random paths, every model's credits sum
// to the paths' conversions and value; AllRuleCredits agrees with a naive
// per-path sum through RuleWeights and with RuleCredits; and the result is
// bit-for-bit the same with one goroutine or several.
func TestAllRuleCredits_Property(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	n := 3*chunkPaths + 123
	if testing.Short() {
		n = chunkPaths + 17
	}
	paths := randomPaths(rng, n, 9, 7)
	o := RuleOptions{HalfLife: 3 * 24 * time.Hour, Custom: CustomWeights{First: 3, Middle: 1, Last: 2}}
	var convs, value float64
	for _, p := range paths {
		convs += p.Conversions
		value += p.Value
	}
	for _, byCampaign := range []bool{false, true} {
		all := AllRuleCredits(paths, o, byCampaign)
		for _, m := range RuleModels {
			var c, v float64
			naive := map[creditKey][2]float64{}
			for i := range paths {
				p := &paths[i]
				if len(p.Touches) == 0 {
					k := creditKey{channel: DirectChannel}
					a := naive[k]
					naive[k] = [2]float64{a[0] + p.Conversions, a[1] + p.Value}
					continue
				}
				for j, s := range RuleWeights(m, p, o, nil) {
					k := creditKey{channel: p.Touches[j].Channel}
					if byCampaign {
						k.campaign = p.Touches[j].Campaign
					}
					a := naive[k]
					naive[k] = [2]float64{a[0] + s*p.Conversions, a[1] + s*p.Value}
				}
			}
			for _, cr := range all[m] {
				c += cr.Conversions
				v += cr.Value
				a := naive[creditKey{cr.Channel, cr.Campaign}]
				if !near(a[0], cr.Conversions, 1e-9) || !near(a[1], cr.Value, 1e-9) {
					t.Fatalf("%s %+v: naive %v", m, cr, a)
				}
			}
			if len(naive) != len(all[m]) {
				t.Fatalf("%s: %d rows, naive %d", m, len(all[m]), len(naive))
			}
			if !near(c, convs, 1e-9) || !near(v, value, 1e-9) {
				t.Fatalf("%s: credits sum to %v conversions, %v value; paths hold %v, %v", m, c, v, convs, value)
			}
			one, err := RuleCredits(paths, m, o, byCampaign)
			if err != nil || !reflect.DeepEqual(one, all[m]) {
				t.Fatalf("%s: RuleCredits differs from AllRuleCredits (err %v)", m, err)
			}
		}
		prev := runtime.GOMAXPROCS(1)
		serial := AllRuleCredits(paths, o, byCampaign)
		runtime.GOMAXPROCS(4)
		par := AllRuleCredits(paths, o, byCampaign)
		runtime.GOMAXPROCS(prev)
		if !reflect.DeepEqual(serial, all) || !reflect.DeepEqual(par, all) {
			t.Fatal("sums differ between runs with 1, 4 and GOMAXPROCS goroutines")
		}
	}
}

func TestValidatePaths(t *testing.T) {
	ok := []Path{{Touches: touches("A", "B"), ConvAt: 2 * day, Conversions: 1, Value: -5}, {}}
	if err := ValidatePaths(ok); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		p    Path
		want string
	}{
		{Path{Conversions: math.NaN()}, "conversions = NaN"},
		{Path{Nulls: -1}, "nulls = -1 is negative"},
		{Path{Value: math.Inf(1)}, "value = +Inf"},
		{Path{Touches: []Touch{{Channel: "A"}, {}}}, "touch 1 has no channel"},
		{Path{Touches: []Touch{{Channel: "A", At: 5}, {Channel: "B", At: 4}}}, "touch 1 (at 4) is older than touch 0"},
		{Path{Touches: []Touch{{Channel: "A", At: 5}}, ConvAt: 4}, "after the conversion"},
		{Path{Touches: []Touch{{Channel: "A", Milestone: LeadCreation}, {Channel: "B", Milestone: LeadCreation}}}, "touches 0 and 1 both carry the lead-creation"},
		{Path{Touches: []Touch{{Channel: "A", Milestone: OpportunityCreation}, {Channel: "B", Milestone: OpportunityCreation | LeadCreation}}}, "opportunity-creation"},
	}
	for _, b := range bad {
		err := ValidatePaths([]Path{{}, b.p})
		if err == nil || !strings.Contains(err.Error(), "path 1: ") || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%+v: err = %v, want %q", b.p, err, b.want)
		}
		if _, err2 := RuleCredits([]Path{{}, b.p}, Linear, RuleOptions{}, false); err2 == nil {
			t.Errorf("RuleCredits accepted %+v", b.p)
		}
	}
	if _, err := RuleCredits(ok, Markov, RuleOptions{}, false); err == nil {
		t.Error("RuleCredits accepted markov")
	}
}
