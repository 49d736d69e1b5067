package importer

import (
	"strconv"
	"strings"

	"github.com/bowtie-analytics/bowtie"
)

// Billing exports → subscriptions.

func init() {
	register(stripeSubscriptions)
}

var stripeSubscriptions = &Preset{
	Name:   "stripe-subscriptions",
	Title:  "Stripe Dashboard subscriptions export (Billing › Subscriptions › Export, all columns), CSV",
	Writes: []string{"subscriptions"},
	Inputs: []Input{
		{Name: "id", Headers: []string{"id", "Subscription ID"}, Required: true},
		{Name: "customer", Headers: []string{"Customer ID", "Customer"}, Required: true},
		{Name: "plan", Headers: []string{"Plan", "Price ID", "Plan ID"}},
		{Name: "product", Headers: []string{"Product", "Product ID"}},
		{Name: "quantity", Headers: []string{"Quantity"}, Type: bowtie.Int},
		{Name: "interval", Headers: []string{"Interval"}, Required: true},
		{Name: "interval_count", Headers: []string{"Interval Count"}, Type: bowtie.Int},
		{Name: "amount", Headers: []string{"Amount"}, Type: bowtie.Money, Required: true},
		{Name: "currency", Headers: []string{"Currency"}},
		{Name: "status", Headers: []string{"Status"}, Required: true},
		{Name: "created", Headers: []string{"Created (UTC)"}, Type: bowtie.Timestamp, UTC: true},
		{Name: "start", Headers: []string{"Start Date (UTC)", "Start (UTC)"}, Type: bowtie.Timestamp, UTC: true},
		{Name: "period_start", Headers: []string{"Current Period Start (UTC)"}, Type: bowtie.Timestamp, UTC: true},
		{Name: "period_end", Headers: []string{"Current Period End (UTC)"}, Type: bowtie.Timestamp, UTC: true},
		{Name: "trial_start", Headers: []string{"Trial Start (UTC)"}, Type: bowtie.Timestamp, UTC: true},
		{Name: "trial_end", Headers: []string{"Trial End (UTC)"}, Type: bowtie.Timestamp, UTC: true},
		{Name: "canceled_at", Headers: []string{"Canceled At (UTC)"}, Type: bowtie.Timestamp, UTC: true},
		{Name: "ended_at", Headers: []string{"Ended At (UTC)"}, Type: bowtie.Timestamp, UTC: true},
	},
	New: func() Converter { return ConvertFunc(stripeConvert) },
}

// stripeConvert writes a trial segment when the subscription had a trial,
// then a paid segment (unless it is still trialing or ended during the
// trial). The last segment runs to Ended At (open while the subscription
// runs) and carries Canceled At, which is also set on subscriptions that
// cancel at the period end and have not ended yet.
func stripeConvert(c *Context, r *Row) {
	status := strings.ToLower(r.Get("status"))
	switch status {
	case "incomplete", "incomplete_expired":
		c.Skip("incomplete subscriptions (the first payment never succeeded)")
		return
	}
	segment := func() *Out {
		o := c.New("subscriptions", r).From("subscription_id", "id").From("customer_id", "customer").
			From("billing_interval", "interval").From("interval_count", "interval_count").
			From("quantity", "quantity").From("currency", "currency")
		if r.Get("plan") != "" {
			o.From("plan", "plan")
		} else {
			o.From("plan", "product")
		}
		// Stripe's Amount is the unit price in major units; the stored
		// amount covers every seat.
		unit, okU := c.Float(r, "amount")
		qty := int64(1)
		if q := r.Get("quantity"); q != "" {
			n, err := ParseInt(q)
			okU = okU && err == nil
			qty = n
		}
		if okU {
			o.Set("amount", strconv.FormatFloat(roundMoney(unit*float64(qty)), 'f', -1, 64))
			if _, cur, err := ParseMoney(r.Get("amount")); err == nil && cur != "" && r.Get("currency") == "" {
				o.Set("currency", cur)
			}
		} else {
			o.From("amount", "amount") // reports the problem
		}
		return o
	}
	start := "start"
	if r.Get("start") == "" {
		start = "created"
	}
	end := "ended_at"
	_, hasTrial := c.Time(r, "trial_start")
	trialEnd, hasTrialEnd := c.Time(r, "trial_end")
	ended, hasEnded := c.Time(r, "ended_at")
	if hasTrial {
		t := segment().Set("status", "trialing").From("valid_from", "trial_start")
		switch {
		case hasEnded && (!hasTrialEnd || !ended.After(trialEnd)):
			// Ended during the trial: the trial is the only segment.
			c.Emit(t.From("valid_to", end).From("canceled_at", "canceled_at"))
			return
		case status == "trialing":
			c.Emit(t.From("canceled_at", "canceled_at"))
			return
		case hasTrialEnd:
			c.Emit(t.From("valid_to", "trial_end"))
		default:
			c.Emit(t) // a trial without an end: the paid segment has no start
			return
		}
	}
	paid := segment().From("valid_to", end).From("canceled_at", "canceled_at")
	if hasTrial {
		paid.From("valid_from", "trial_end")
	} else {
		paid.From("valid_from", start)
	}
	switch status {
	case "paused":
		paid.Set("status", "paused")
	case "trialing":
		paid.Set("status", "trialing")
	default: // active, past_due, unpaid, canceled: paid until it ended
		paid.Set("status", "active")
	}
	c.Emit(paid)
}
