package query

import (
	"strconv"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// ParseMatch parses a funnel step or exclusion written as
// "EVENT NAME [KEY=VALUE ...]": the name runs up to the first KEY=VALUE
// item (names may hold spaces), and each item is a property filter. With
// exclusion set, a between=I-J item sets the steps the exclusion applies
// between. label names the input in error messages ("--step" on the
// command line, "step" in the API).
func ParseMatch(label, s string, exclusion bool) (Exclusion, error) {
	var x Exclusion
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return x, bowtie.Errorf(bowtie.EINVALID, "%s: empty", label)
	}
	i := 0
	for i < len(fields) && !strings.Contains(fields[i], "=") {
		i++
	}
	x.Event = strings.Join(fields[:i], " ")
	if x.Event == "" {
		return x, bowtie.Errorf(bowtie.EINVALID, "%s %q: the event name comes first", label, s)
	}
	for _, f := range fields[i:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return x, bowtie.Errorf(bowtie.EINVALID, "%s %q: %q is not KEY=VALUE", label, s, f)
		}
		if exclusion && k == "between" {
			a, b, ok := strings.Cut(v, "-")
			i, err1 := strconv.Atoi(a)
			j, err2 := strconv.Atoi(b)
			if !ok || err1 != nil || err2 != nil {
				return x, bowtie.Errorf(bowtie.EINVALID, "%s %q: between=%s is not two step numbers like 1-3", label, s, v)
			}
			x.From, x.To = i, j
			continue
		}
		if x.Where == nil {
			x.Where = map[string]string{}
		}
		x.Where[k] = v
	}
	return x, nil
}

// ParseWindow parses a conversion window: a positive duration in d (days)
// or w (weeks), or in Go's h, m and s ("14d", "2w", "36h"). label names
// the input in error messages.
func ParseWindow(label, s string) (time.Duration, error) {
	bad := bowtie.Errorf(bowtie.EINVALID, "%s: %q is not a duration like 14d, 36h or 2w", label, s)
	for suf, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suf); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v <= 0 {
				return 0, bad
			}
			return time.Duration(v * float64(unit)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, bad
	}
	return d, nil
}
