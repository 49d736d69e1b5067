package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

func init() {
	commands["channels"] = command{
		summary: "list the channel rules, or re-apply them to stored events, people and accounts",
		run:     runChannels,
	}
}

const channelsUsage = `channels list | apply [flags]

  list   print the effective channel rules, in the order they are tried
  apply  re-classify stored events, people and accounts with the current
         rules (after editing bowtie.yaml) and print how many rows changed`

func runChannels(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlagSet("channels", channelsUsage)
	pos, err := parseArgsAnywhere(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (pos[0] != "list" && pos[0] != "apply") {
		fs.Usage()
		return errUsage
	}
	b, err := env.Business()
	if err != nil {
		return err
	}
	if pos[0] == "list" {
		printChannelRules(env, b)
		return nil
	}
	st, err := env.OpenStore()
	if err != nil {
		return err
	}
	defer st.Close()
	changed, err := st.ApplyChannels(ctx, b.Channel)
	if err != nil {
		return err
	}
	var total int64
	for _, t := range []string{"events", "people", "accounts"} {
		n := changed[t]
		total += n
		fmt.Fprintf(env.Stdout, "%s: %s %s changed channel\n", t, query.FormatCount(n), importNoun(n, "row", "rows"))
	}
	fmt.Fprintf(env.Stdout, "%s %s changed channel in all\n", query.FormatCount(total), importNoun(total, "row", "rows"))
	return nil
}

// printChannelRules prints the effective rules: the custom ones (from the
// preset and bowtie.yaml), then GA4's defaults unless replaced.
func printChannelRules(env *Env, b *bowtie.Business) {
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tCHANNEL\tFROM\tWHEN")
	custom := len(b.Channels)
	for i, r := range b.ChannelRules() {
		from := "default (GA4)"
		if i < custom {
			from = "custom"
		}
		when := strings.TrimPrefix(r.String(), r.Channel+" if ")
		if r.NoUTM {
			when += " and no utm_source/utm_medium"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", i+1, r.Channel, from, when)
	}
	fmt.Fprintf(tw, "-\t%s\t\tno rule matches\n", bowtie.Unassigned)
	tw.Flush()
	fmt.Fprintf(env.Stdout, "\nbusiness: %s; rules are tried in order, the first match wins, fields compared lower-cased.\n", b)
}
