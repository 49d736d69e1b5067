// Package cdnow reads the CDNOW calibration summary shipped in
// model/testdata/cdnow_summary.txt, the published data set on which the
// model tests reproduce the published BG/NBD and Gamma-Gamma estimates.
package cdnow

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Row is one customer: X repeat purchases, the last at week TX, of mean
// value Zbar dollars, T weeks after the first purchase.
type Row struct {
	X, TX, T, Zbar float64
}

// Load parses the file at path (format in its header) and checks that each
// block starts at the customer id it names.
func Load(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []Row
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		head, items, ok := strings.Cut(s, ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d: no ':'", path, line)
		}
		hf := strings.Fields(head)
		if len(hf) != 2 {
			return nil, fmt.Errorf("%s:%d: header %q, want \"T firstID\"", path, line, head)
		}
		T, err1 := strconv.ParseFloat(hf[0], 64)
		id, err2 := strconv.Atoi(hf[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s:%d: header %q", path, line, head)
		}
		if id != len(rows)+1 {
			return nil, fmt.Errorf("%s:%d: block starts at id %d but %d customers precede it", path, line, id, len(rows))
		}
		for _, it := range strings.Fields(items) {
			if it == "0" {
				rows = append(rows, Row{T: T})
				continue
			}
			if k, ok := strings.CutPrefix(it, "0*"); ok {
				n, err := strconv.Atoi(k)
				if err != nil || n < 1 {
					return nil, fmt.Errorf("%s:%d: item %q", path, line, it)
				}
				for range n {
					rows = append(rows, Row{T: T})
				}
				continue
			}
			p := strings.Split(it, "/")
			if len(p) != 3 {
				return nil, fmt.Errorf("%s:%d: item %q, want x/tx/zbar", path, line, it)
			}
			var v [3]float64
			for i := range p {
				if v[i], err = strconv.ParseFloat(p[i], 64); err != nil {
					return nil, fmt.Errorf("%s:%d: item %q: %w", path, line, it, err)
				}
			}
			rows = append(rows, Row{X: v[0], TX: v[1], T: T, Zbar: v[2]})
		}
	}
	return rows, sc.Err()
}
