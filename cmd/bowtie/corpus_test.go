package main

import (
	"bufio"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/importer"
)

// corpusDir holds the bad-input corpus of bowtie import.
const corpusDir = "../../testdata/import"

// corpusCase is one line of testdata/import/cases.txt.
type corpusCase struct {
	line                       int
	kind, file, flags, outcome string
	detail                     string
	generated                  bool // written by the test (gen:)
	table                      string
	rows                       string // accept: the rows reported
}

func readCorpus(t *testing.T) []corpusCase {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "cases.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		parts := strings.SplitN(text, " | ", 5)
		if len(parts) != 5 {
			t.Fatalf("cases.txt:%d: want kind | file | flags | outcome | detail", n)
		}
		for i := range parts[:4] {
			parts[i] = strings.TrimSpace(parts[i])
		}
		c := corpusCase{line: n, kind: parts[0], file: parts[1], flags: parts[2], outcome: parts[3], detail: parts[4]}
		c.file, c.generated = strings.CutPrefix(c.file, "gen:")
		switch c.outcome {
		case "accept":
			var ok bool
			if c.table, c.rows, ok = strings.Cut(c.detail, "="); !ok {
				t.Fatalf("cases.txt:%d: accept wants table=rows", n)
			}
		case "reject":
			if !strings.HasPrefix(c.detail, ":") {
				t.Fatalf("cases.txt:%d: reject wants :line: field: reason", n)
			}
		default:
			t.Fatalf("cases.txt:%d: outcome %q is not accept or reject", n, c.outcome)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// storeHash returns a SHA-256 over the rows of every canonical table, each
// table's rows rendered as text by DuckDB and sorted: equal hashes mean
// equal contents.
func storeHash(t *testing.T, db string) string {
	t.Helper()
	st, err := duckdb.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := sha256.New()
	for _, tab := range bowtie.Tables {
		fmt.Fprintf(h, "table %s\n", tab.Name)
		rows, err := st.DB().Query(fmt.Sprintf("SELECT COLUMNS(*)::VARCHAR FROM %s ORDER BY ALL", tab.Name))
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if v.Valid {
					fmt.Fprintf(h, "%d:%s,", len(v.String), v.String)
				} else {
					h.Write([]byte("NULL,"))
				}
			}
			h.Write([]byte("\n"))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeGenerated writes the corpus files too big (or too binary) to
// commit into dir, under the names cases.txt gives them.
func writeGenerated(t *testing.T, dir string, c corpusCase) string {
	t.Helper()
	path := filepath.Join(dir, c.file)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("x", 6<<20)
	firstLines := func(name string, n int) string {
		b, err := os.ReadFile(filepath.Join(corpusDir, c.kind, name))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(string(b), "\n")
		return strings.Join(lines[:n], "")
	}
	var body string
	switch base := filepath.Base(c.file); {
	case base == "huge-cell.csv":
		body = firstLines("good.csv", 2) + huge + ",1\n"
	case base == "huge-line.jsonl":
		body = firstLines("good.jsonl", 1) + `{"x":"` + huge + "\"}\n"
	case strings.HasSuffix(base, ".parquet"):
		date, campaign, cost := "DATE '2024-05-01' + i::INT", "'C' || i", "(10 * i)::DECIMAL(18,4)"
		rows := "range(1, 3)"
		switch base {
		case "empty.parquet":
			rows = "range(0)"
		case "negative.parquet":
			cost = "(CASE i WHEN 2 THEN -5 ELSE 10 END)::DECIMAL(18,4)"
		case "nul.parquet":
			campaign = "CASE i WHEN 2 THEN 'C' || chr(0) || 'x' ELSE 'C1' END"
		case "far-future.parquet":
			date = "CASE i WHEN 2 THEN DATE '9999-12-31' ELSE DATE '2024-05-01' END"
		case "far-past.parquet":
			date = "CASE i WHEN 2 THEN DATE '0001-01-01' ELSE DATE '2024-05-01' END"
		case "good.parquet":
		default:
			t.Fatalf("cases.txt:%d: no generator for %s", c.line, c.file)
		}
		mem, err := duckdb.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		defer mem.Close()
		q := fmt.Sprintf(`COPY (SELECT %s AS date, 'yahoo' AS source, %s AS campaign, %s AS cost, 'EUR' AS currency
			FROM %s r(i)) TO '%s' (FORMAT parquet)`, date, campaign, cost, rows, path)
		if _, err := mem.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
		return path
	default:
		t.Fatalf("cases.txt:%d: no generator for %s", c.line, c.file)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestImportCommand_Corpus runs every case of testdata/import/cases.txt
// through `bowtie import` on a real store: each rejected file must fail
// with its error (file:line: field: reason) and leave the store's content
// hash unchanged; each accepted file must report its rows.
func TestImportCommand_Corpus(t *testing.T) {
	cases := readCorpus(t)

	// Every kind has the cases the corpus is about, and every file in the
	// corpus is a case.
	listed := map[string]bool{}
	for _, c := range cases {
		if !c.generated {
			listed[c.file] = true
		}
		listed[c.kind+"/"+strings.TrimSuffix(filepath.Base(c.file), filepath.Ext(c.file))] = true
	}
	for _, kind := range importer.Kinds() {
		for _, name := range []string{"good", "bom-crlf", "header-only", "empty", "bad-date", "february-31", "latin1",
			"truncated", "open-quote", "duplicate-key", "missing-column", "missing-cell", "extra-cell", "nul",
			"huge-cell", "far-future", "far-past", "future"} {
			if dateCase(name) && !hasDates(kind) {
				continue // paths: no dates to get wrong
			}
			if !listed[kind+"/"+name] {
				t.Errorf("cases.txt has no case %s/%s", kind, name)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*"))
	for _, f := range files {
		rel, _ := filepath.Rel(corpusDir, f)
		if !listed[filepath.ToSlash(rel)] {
			t.Errorf("%s is not in cases.txt", rel)
		}
	}

	// The store under test starts with every kind's good file; accepted
	// files go to a store of their own, so that the rows of the bad files
	// (other keys than the good ones) are never in the store under test.
	// Each kind runs on its own copy of the store, in parallel.
	baseline, config := importWorkdir(t)
	for _, kind := range importer.Kinds() {
		if code, _, stderr := importCLI(t, "import", "--db", baseline, "--config", config, kind, filepath.Join(corpusDir, kind, "good.csv")); code != 0 {
			t.Fatalf("baseline %s: %s", kind, stderr)
		}
	}
	hash := storeHash(t, baseline)
	byKind := map[string][]corpusCase{}
	for _, c := range cases {
		byKind[c.kind] = append(byKind[c.kind], c)
	}
	for _, kind := range importer.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			db := filepath.Join(dir, "bowtie.duckdb")
			copyStore(t, baseline, db)
			runCorpus(t, byKind[kind], db, filepath.Join(dir, "accept.duckdb"), config, hash)
		})
	}
}

// fileHash hashes the bytes of the store's file and WAL: when they are
// unchanged, so is the content, and storeHash need not open the store.
func fileHash(t *testing.T, db string) string {
	t.Helper()
	h := sha256.New()
	for _, suffix := range []string{"", ".wal"} {
		b, err := os.ReadFile(db + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s %d\n", suffix, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// runCorpus runs cases on the store db, whose content hash is hash;
// accepted files go to acceptDB.
func runCorpus(t *testing.T, cases []corpusCase, db, acceptDB, config, hash string) {
	gen := t.TempDir()
	lineRE := regexp.MustCompile(`^.+:\d+: [^:]+: .+$`)
	bytesHash := fileHash(t, db)
	for _, c := range cases {
		name := filepath.Base(c.file)
		if c.flags != "" {
			name += " " + c.flags
		}
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(corpusDir, c.file)
			if c.generated {
				path = writeGenerated(t, gen, c)
			}
			store := db
			if c.outcome == "accept" {
				// Each accepted file gets a store of its own: files of one
				// kind share keys, and an accepted subscription segment
				// would make a later file's segment of the same
				// subscription overlap it (refused since the store checks
				// imports against stored segments).
				store = fmt.Sprintf("%s-%d", acceptDB, c.line)
			}
			args := []string{"import", "--db", store, "--config", config}
			args = append(args, strings.Fields(c.flags)...)
			code, stdout, stderr := importCLI(t, append(args, c.kind, path)...)
			if c.outcome == "accept" {
				want := fmt.Sprintf("imported %s rows into %s", c.rows, c.table)
				if c.rows == "1" {
					want = "imported 1 row into " + c.table
				}
				if code != 0 || !strings.HasPrefix(stdout, want+"\n") && !strings.HasPrefix(stdout, want+" (") {
					t.Errorf("cases.txt:%d: exit %d, stdout %q, want 0 and %q\nstderr %s", c.line, code, stdout, want, stderr)
				}
				return
			}
			if code != 1 || !strings.Contains(stderr, path+c.detail) {
				t.Errorf("cases.txt:%d: exit %d, want 1 and an error %q\nstderr %s", c.line, code, path+c.detail, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if !lineRE.MatchString(lines[0]) || !strings.HasPrefix(lines[0], path+":") {
				t.Errorf("first line %q is not %s:line: field: reason", lines[0], path)
			}
			if last := lines[len(lines)-1]; last != "bowtie import: "+path+": nothing was imported" {
				t.Errorf("last line %q", last)
			}
			// Equal bytes are equal contents; DuckDB may rewrite its file
			// without changing what it holds, so different bytes are
			// compared by content.
			if b := fileHash(t, db); b != bytesHash {
				if after := storeHash(t, db); after != hash {
					t.Errorf("cases.txt:%d: the store changed (hash %s, was %s)", c.line, after, hash)
				}
				bytesHash = b
			}
		})
	}
}

// dateCase reports whether a corpus case is about dates.
func dateCase(name string) bool {
	switch name {
	case "bad-date", "february-31", "far-future", "far-past", "future":
		return true
	}
	return false
}

// hasDates reports whether the table of an import kind has a date field.
func hasDates(kind string) bool {
	t, _ := bowtie.TableByKind(kind)
	for _, f := range t.Fields {
		if f.Type == bowtie.Date || f.Type == bowtie.Timestamp {
			return true
		}
	}
	return false
}
