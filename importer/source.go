package importer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf16"
	"unicode/utf8"
)

// TextRows is a table read by another engine (Parquet through DuckDB) with
// every value already rendered as text, NULL as "". duckdb.ParquetRows
// implements it.
type TextRows interface {
	Columns() []string
	// Total is the number of rows announced by the file, for progress.
	Total() int64
	// Next returns the next row, or io.EOF after the last.
	Next() ([]string, error)
	Close() error
}

// record is one record of the input file.
type record struct {
	line  int
	cells []string       // CSV and Parquet: by column
	obj   map[string]any // JSON lines: the object, keys lower-cased
	raw   string         // JSON lines: the line as read
	err   *RowError      // a problem of the record itself (quoting, cell count, encoding)
	// truncated says that err may come from the file ending early: the
	// reader adds a hint when it turns out to be the last record.
	truncated bool
}

// source reads records from a file.
type source interface {
	// columns returns the header (nil for JSON lines, whose objects name
	// their own fields).
	columns() []string
	// headerLine is the physical line of the header (0 without one).
	headerLine() int
	// next returns the next record, or io.EOF.
	next() (*record, error)
	close() error
}

// countingReader counts the bytes read through it, for progress.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// openText opens path for reading text: it counts bytes into n, inflates
// .gz files, strips a UTF-8 byte order mark and decodes UTF-16 (which
// spreadsheet programs write as "Unicode text") to UTF-8.
func openText(path string, n *atomic.Int64) (*bufio.Reader, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	var r io.Reader = countingReader{f, n}
	if strings.HasSuffix(strings.ToLower(path), ".gz") {
		zr, err := gzip.NewReader(bufio.NewReader(r))
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("not a gzip file: %v", err)
		}
		r = zr
	}
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		br.Discard(3)
	case bytes.HasPrefix(head, []byte("\xff\xfe")):
		br.Discard(2)
		br = bufio.NewReaderSize(&utf16Reader{r: br, little: true}, 1<<16)
	case bytes.HasPrefix(head, []byte("\xfe\xff")):
		br.Discard(2)
		br = bufio.NewReaderSize(&utf16Reader{r: br}, 1<<16)
	}
	return br, f, nil
}

// utf16Reader decodes UTF-16 to UTF-8.
type utf16Reader struct {
	r      *bufio.Reader
	little bool
	out    []byte
	err    error
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		var units []uint16
		for len(units) < 2048 {
			var b [2]byte
			if _, err := io.ReadFull(u.r, b[:]); err != nil {
				if err == io.ErrUnexpectedEOF {
					err = errors.New("UTF-16 text with an odd number of bytes")
				}
				u.err = err
				break
			}
			if u.little {
				units = append(units, uint16(b[0])|uint16(b[1])<<8)
			} else {
				units = append(units, uint16(b[1])|uint16(b[0])<<8)
			}
		}
		// Keep a high surrogate for the next round.
		if n := len(units); n > 0 && utf16.IsSurrogate(rune(units[n-1])) && units[n-1] < 0xdc00 && u.err == nil {
			var b [2]byte
			if _, err := io.ReadFull(u.r, b[:]); err == nil {
				if u.little {
					units = append(units, uint16(b[0])|uint16(b[1])<<8)
				} else {
					units = append(units, uint16(b[1])|uint16(b[0])<<8)
				}
			}
		}
		for _, r := range utf16.Decode(units) {
			u.out = utf8.AppendRune(u.out, r)
		}
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}

// CSV.

// csvSource reads delimited text with encoding/csv (strict quoting), one
// record ahead so that it can tell when a bad record is the file's last.
type csvSource struct {
	file   string
	r      *csv.Reader
	closer io.Closer
	header []string
	hline  int
	skip   int // lines before the csv.Reader's first line
	// buf is the csv.Reader's buffer, over lim, which bounds the bytes
	// one record may take.
	buf *bufio.Reader
	lim *recordLimiter
	// nextLine is the csv.Reader's line where the next record starts.
	nextLine int

	started  bool
	ahead    *record
	aheadErr error
}

// headerScore tells how many of an import's inputs a candidate header
// line names.
type headerScore func(cells []string) int

// openCSV finds the header among the first lines (exports often put title
// lines above it), picks the delimiter that makes the best header out of
// that line (",", ";" or tab), and positions the reader on it.
func openCSV(file string, br *bufio.Reader, closer io.Closer, score headerScore) (*csvSource, error) {
	prefix, _ := br.Peek(1 << 16)
	type line struct {
		text   string
		offset int
	}
	var lines []line
	for off := 0; off < len(prefix) && len(lines) < 30; {
		i := bytes.IndexByte(prefix[off:], '\n')
		if i < 0 {
			if len(prefix) < 1<<16 { // the whole file is in the prefix
				lines = append(lines, line{string(prefix[off:]), off})
			}
			break
		}
		lines = append(lines, line{strings.TrimSuffix(string(prefix[off:off+i]), "\r"), off})
		off += i + 1
	}
	best, bestScore, bestCells, delim := -1, 0, 0, byte(',')
	for i, l := range lines {
		if strings.TrimSpace(l.text) == "" {
			continue
		}
		for _, d := range []byte{',', ';', '\t'} {
			cells := splitLine(l.text, d)
			s := score(cells)
			if s > bestScore || (s == bestScore && s > 0 && i == best && len(cells) > bestCells) {
				best, bestScore, bestCells, delim = i, s, len(cells), d
			}
		}
	}
	if best < 0 {
		// No line names a known column: the header is the first non-empty
		// line, split by the delimiter that gives it the most cells.
		for i, l := range lines {
			if strings.TrimSpace(l.text) == "" {
				continue
			}
			best = i
			for _, d := range []byte{',', ';', '\t'} {
				if n := len(splitLine(l.text, d)); n > bestCells {
					bestCells, delim = n, d
				}
			}
			break
		}
	}
	if best < 0 {
		return nil, &RowError{File: file, Line: 1, Field: "header", Reason: "the file is empty"}
	}
	if _, err := br.Discard(lines[best].offset); err != nil {
		return nil, err
	}
	// encoding/csv keeps a record in memory however long it is: the
	// limiter under its buffer stops it at MaxRecordBytes.
	lim := &recordLimiter{r: br, max: MaxRecordBytes}
	buf := bufio.NewReaderSize(lim, 1<<16)
	r := csv.NewReader(buf)
	r.Comma = rune(delim)
	r.FieldsPerRecord = -1
	s := &csvSource{file: file, r: r, closer: closer, skip: best, buf: buf, lim: lim, nextLine: 1}
	header, err := r.Read()
	if err != nil {
		if lim.err != nil {
			return nil, tooLong(file, best+1, "record")
		}
		if err == io.EOF {
			return nil, &RowError{File: file, Line: best + 1, Field: "header", Reason: "the file has no header line"}
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &RowError{File: file, Line: best + pe.StartLine, Field: "header", Reason: csvReason(pe)}
		}
		return nil, err
	}
	s.hline = best + 1
	for i, h := range header {
		if !utf8.ValidString(h) {
			return nil, &RowError{File: file, Line: s.hline, Field: "header", Reason: encodingReason(file, h, i)}
		}
		if p := cellProblem(h, i, true); p != "" {
			return nil, &RowError{File: file, Line: s.hline, Field: "header", Reason: p}
		}
	}
	s.header = header
	s.recordDone(header)
	return s, nil
}

// recordDone notes where the record just read ends, for the line of an
// error in the next one, and restarts the limiter.
func (s *csvSource) recordDone(cells []string) {
	line, _ := s.r.FieldPos(len(cells) - 1)
	s.nextLine = line + strings.Count(cells[len(cells)-1], "\n") + 1 + s.blankAhead()
	s.lim.mark()
}

// blankAhead counts the empty lines buffered at the start of the next
// record, which the csv.Reader skips.
func (s *csvSource) blankAhead() int {
	b, _ := s.buf.Peek(s.buf.Buffered())
	n := 0
	for i := 0; i < len(b) && (b[i] == '\n' || b[i] == '\r'); i++ {
		if b[i] == '\n' {
			n++
		}
	}
	return n
}

// splitLine splits one line for header detection (quotes are honoured
// loosely: this is a guess, the real parse is strict).
func splitLine(text string, d byte) []string {
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = rune(d)
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	cells, err := r.Read()
	if err != nil {
		return strings.Split(text, string(d))
	}
	return cells
}

func (s *csvSource) columns() []string { return s.header }
func (s *csvSource) headerLine() int   { return s.hline }
func (s *csvSource) close() error      { return s.closer.Close() }

func (s *csvSource) next() (*record, error) {
	if !s.started {
		s.started = true
		s.ahead, s.aheadErr = s.read()
	}
	rec, err := s.ahead, s.aheadErr
	if err != nil {
		return nil, err
	}
	s.ahead, s.aheadErr = s.read()
	if s.aheadErr == io.EOF && rec.truncated {
		if rec.cells == nil { // an open quote ran to the end of the file
			rec.err.Reason = "a quoted cell opened on this line is never closed: the file ends inside it; is it truncated?"
		} else {
			rec.err.Reason += "; the file ends here: is it truncated?"
		}
	}
	return rec, nil
}

func (s *csvSource) read() (*record, error) {
	cells, err := s.r.Read()
	if s.lim.err != nil {
		return nil, tooLong(s.file, s.skip+s.nextLine, "record")
	}
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return nil, err
		}
		rec := &record{line: s.skip + pe.StartLine}
		rec.err = &RowError{File: s.file, Line: rec.line, Field: "record", Reason: csvReason(pe)}
		rec.truncated = errors.Is(pe.Err, csv.ErrQuote)
		s.nextLine = pe.Line + 1 + s.blankAhead()
		s.lim.mark()
		return rec, nil
	}
	s.recordDone(cells)
	line, _ := s.r.FieldPos(0)
	rec := &record{line: s.skip + line, cells: cells}
	if rec.err = cellErrors(s.file, rec.line, cells, s.header, true); rec.err != nil {
		return rec, nil
	}
	if len(cells) != len(s.header) {
		rec.err = &RowError{File: s.file, Line: rec.line, Field: "record",
			Reason: fmt.Sprintf("has %d cells but the header (line %d) has %d", len(cells), s.hline, len(s.header))}
		rec.truncated = len(cells) < len(s.header)
	}
	return rec, nil
}

// cellErrors checks the cells of a record read from file at line: UTF-8,
// no NUL bytes, at most MaxCellBytes each. It returns the first problem,
// filed under the column's header.
func cellErrors(file string, line int, cells, header []string, text bool) *RowError {
	for i, c := range cells {
		reason := ""
		if !utf8.ValidString(c) {
			reason = encodingReason(file, c, i)
			if !text {
				reason = reason[:strings.Index(reason, "the file is not UTF-8")+len("the file is not UTF-8")]
			}
		} else if reason = cellProblem(c, i, text); reason == "" {
			continue
		}
		field := "record"
		if i < len(header) {
			field = header[i]
		}
		return &RowError{File: file, Line: line, Field: field, Reason: reason}
	}
	return nil
}

// csvReason explains a CSV syntax error.
func csvReason(pe *csv.ParseError) string {
	switch {
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Sprintf("a quoted cell is not closed properly (line %d, column %d): a quote inside a quoted cell must be doubled", pe.Line, pe.Column)
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf(`a quote inside an unquoted cell (line %d, column %d): quote the whole cell and double the inner quote ("a ""b"" c")`, pe.Line, pe.Column)
	}
	return pe.Err.Error()
}

// encodingReason explains a cell that is not UTF-8.
func encodingReason(file, cell string, col int) string {
	at := 0
	for at < len(cell) {
		r, size := utf8.DecodeRuneInString(cell[at:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		at += size
	}
	b := byte(0)
	if at < len(cell) {
		b = cell[at]
	}
	base := filepath.Base(file)
	out := strings.TrimSuffix(base, filepath.Ext(base)) + ".utf8" + filepath.Ext(base)
	return fmt.Sprintf("invalid UTF-8 (byte 0x%02X in column %d): the file is not UTF-8; if it is Latin-1 (ISO-8859-1 or Windows-1252), convert it with: iconv -f latin1 -t utf-8 %s > %s", b, col+1, file, out)
}

// JSON lines.

type jsonlSource struct {
	file   string
	br     *bufio.Reader
	closer io.Closer
	line   int
	buf    []byte // the line being read, reused
	seen   bool   // a line that is not blank was read
}

// readLine reads the next line, at most MaxRecordBytes of it: a longer
// line is an error (tooLong) with only that much of it read.
func (s *jsonlSource) readLine() ([]byte, error) {
	s.buf = s.buf[:0]
	for {
		chunk, err := s.br.ReadSlice('\n')
		if len(s.buf)+len(chunk) > MaxRecordBytes {
			return nil, tooLong(s.file, s.line+1, "line")
		}
		s.buf = append(s.buf, chunk...)
		if err != bufio.ErrBufferFull {
			return s.buf, err
		}
	}
}

func (s *jsonlSource) columns() []string { return nil }
func (s *jsonlSource) headerLine() int   { return 0 }
func (s *jsonlSource) close() error      { return s.closer.Close() }

func (s *jsonlSource) next() (*record, error) {
	for {
		b, err := s.readLine()
		if len(b) == 0 && err != nil {
			return nil, s.end(err)
		}
		s.line++
		last := err == io.EOF
		text := bytes.TrimSpace(b)
		if len(text) == 0 {
			if last {
				return nil, s.end(io.EOF)
			}
			continue
		}
		s.seen = true
		rec := &record{line: s.line, raw: string(text)}
		if !utf8.Valid(text) {
			rec.err = &RowError{File: s.file, Line: s.line, Field: "record", Reason: encodingReason(s.file, string(text), 0)}
			rec.err.Reason = strings.Replace(rec.err.Reason, " in column 1", "", 1)
			return rec, nil
		}
		if i := loneSurrogate(text); i >= 0 {
			rec.err = &RowError{File: s.file, Line: s.line, Field: "record", Reason: fmt.Sprintf(
				"%s at byte %d is half of a UTF-16 surrogate pair: it is not a character (was the text cut, or not UTF-8 when it was written?)", text[i:i+6], i+1)}
			return rec, nil
		}
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil || dec.More() {
			reason := "not a JSON object"
			if err != nil {
				reason += ": " + err.Error()
			}
			if last && err != nil && strings.Contains(err.Error(), "unexpected EOF") {
				reason += "; the file ends here: is it truncated?"
			}
			rec.err = &RowError{File: s.file, Line: s.line, Field: "record", Reason: reason}
			return rec, nil
		}
		if obj == nil {
			rec.err = &RowError{File: s.file, Line: s.line, Field: "record", Reason: "not a JSON object"}
			return rec, nil
		}
		for k, v := range obj {
			p := cellProblem(k, -1, false)
			if p == "" {
				p = jsonProblem(v)
			}
			if p != "" {
				field := strings.TrimSpace(k)
				if strings.IndexByte(field, 0) >= 0 || len(field) > 100 || field == "" {
					field = "record"
				}
				rec.err = &RowError{File: s.file, Line: s.line, Field: field, Reason: p}
				return rec, nil
			}
		}
		rec.obj = lowerKeys(obj)
		return rec, nil
	}
}

// loneSurrogate returns the offset of the first \uXXXX escape in a JSON
// text that is half of a surrogate pair without its other half, or -1.
// encoding/json turns such an escape into U+FFFD silently; it is the JSON
// form of invalid UTF-8, and rejected like it.
func loneSurrogate(text []byte) int {
	if bytes.IndexByte(text, '\\') < 0 {
		return -1
	}
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(text) || text[i+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(text[i+2:i+6]), 16, 16)
		return rune(v), err == nil
	}
	for i := 0; i < len(text); i++ {
		if text[i] != '\\' {
			continue
		}
		r, ok := hex4(i)
		switch {
		case !ok:
			i++ // an escape of one character (\\, \")
		case r >= 0xd800 && r < 0xdc00: // high: a low one must follow
			if lo, ok := hex4(i + 6); !ok || lo < 0xdc00 || lo > 0xdfff {
				return i
			}
			i += 11
		case r >= 0xdc00 && r <= 0xdfff: // low without a high one
			return i
		default:
			i += 5
		}
	}
	return -1
}

// end returns err, the reason reading stopped, unless it is the end of a
// file without any record: an empty file is an error (a failed export),
// as it is for CSV.
func (s *jsonlSource) end(err error) error {
	if err == io.EOF && !s.seen {
		return &RowError{File: s.file, Line: 1, Field: "record", Reason: "the file is empty: no JSON object in it"}
	}
	return err
}

// lowerKeys returns obj with its keys normalised as headers are, nested
// objects included, so that lookups are case-insensitive.
func lowerKeys(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if m, ok := v.(map[string]any); ok {
			v = lowerKeys(m)
		}
		nk := normHeader(k)
		if _, dup := out[nk]; !dup {
			out[nk] = v
		}
	}
	return out
}

// jsonText renders a decoded JSON value as the text a CSV cell would hold.
func jsonText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// jsonLookup finds key in obj: a top-level key, or a dotted path into
// nested objects (context.campaign.source).
func jsonLookup(obj map[string]any, key string) (any, bool) {
	if v, ok := obj[key]; ok {
		return v, true
	}
	if !strings.Contains(key, ".") {
		return nil, false
	}
	cur := any(obj)
	for _, part := range strings.Split(key, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// jsonKeys lists the top-level keys seen, for the ignored-columns note.
func jsonKeys(obj map[string]any) []string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Parquet.

type parquetSource struct {
	file string
	rows TextRows
	n    int
	done *atomic.Int64
}

func (s *parquetSource) columns() []string { return s.rows.Columns() }
func (s *parquetSource) headerLine() int   { return 0 }
func (s *parquetSource) close() error      { return s.rows.Close() }

func (s *parquetSource) next() (*record, error) {
	cells, err := s.rows.Next()
	if err != nil {
		return nil, err
	}
	s.n++
	s.done.Store(int64(s.n))
	rec := &record{line: s.n, cells: cells}
	rec.err = cellErrors(s.file, s.n, cells, s.rows.Columns(), false)
	return rec, nil
}

// openParquet opens path with the injected reader.
func openParquet(ctx context.Context, path string, open func(context.Context, string) (TextRows, error), done *atomic.Int64) (*parquetSource, error) {
	if open == nil {
		return nil, errors.New("reading Parquet needs a store (Options.OpenParquet is not set)")
	}
	rows, err := open(ctx, path)
	if err != nil {
		return nil, err
	}
	return &parquetSource{file: path, rows: rows, done: done}, nil
}
