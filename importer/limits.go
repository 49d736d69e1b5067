package importer

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits on the size of what an import reads. They bound the memory an
// import takes whatever the file holds, and keep values the store and the
// analyses cannot use (a megabyte-long campaign name) out of it.
const (
	// MaxRecordBytes is the most one record may take in the file: a CSV
	// record (with the newlines inside its quoted cells) or a JSON line.
	// Reading stops at the first longer one, having read at most this
	// much of it, and the import fails (--skip-bad too: where the next
	// record starts is unknown).
	MaxRecordBytes = 4 << 20
	// MaxCellBytes is the longest a cell (a JSON value) may be.
	MaxCellBytes = 1 << 20
	// MaxIDBytes is the longest an identifier may be: the fields named
	// id or ..._id, except click_id.
	MaxIDBytes = 256
	// MaxKeyBytes is the longest the other text fields of a natural key
	// (spend's source, campaign, ad_group and creative; a stage; an
	// identity's kind) and click_id may be.
	MaxKeyBytes = 1024
)

// errRecordTooLong is what recordLimiter returns once the record being
// read has grown past its limit.
var errRecordTooLong = errors.New("record too long")

// recordLimiter sits under the CSV reader's buffer and fails reads once
// more than max bytes were delivered since the current record started
// (mark). The buffer reads ahead, so a record may take up to max plus the
// buffer's size before the limit trips; what matters is that it trips
// long before a huge cell is in memory. The error is sticky.
type recordLimiter struct {
	r   io.Reader
	n   int64 // bytes delivered since mark
	max int64
	err error
}

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if l.n >= l.max {
		l.err = errRecordTooLong
		return 0, l.err
	}
	if rest := l.max - l.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// mark starts a new record.
func (l *recordLimiter) mark() { l.n = 0 }

// tooLong is the error of a record longer than MaxRecordBytes starting on
// line; unit is "record" (CSV) or "line" (JSON lines).
func tooLong(file string, line int, unit string) *RowError {
	return &RowError{File: file, Line: line, Field: "record",
		Reason: fmt.Sprintf("longer than %s, the most a %s may take: reading stopped here", sizeText(MaxRecordBytes), unit)}
}

// cellProblem says what is wrong with a cell as text, or "": longer than
// MaxCellBytes, or holding a NUL byte. col is the cell's column (-1 for a
// JSON value); hint adds what a NUL byte suggests about a text file.
func cellProblem(c string, col int, hint bool) string {
	if len(c) > MaxCellBytes {
		in := ""
		if col >= 0 {
			in = fmt.Sprintf(" (in column %d)", col+1)
		}
		return fmt.Sprintf("is %d bytes long%s: a cell may hold at most %s", len(c), in, sizeText(MaxCellBytes))
	}
	if i := strings.IndexByte(c, 0); i >= 0 {
		at := fmt.Sprintf("at byte %d", i+1)
		if col >= 0 {
			at += fmt.Sprintf(" of column %d", col+1)
		}
		reason := fmt.Sprintf("contains a NUL byte (%s): text may not hold NUL bytes", at)
		if hint {
			reason += "; is the file binary, or UTF-16 without a byte-order mark?"
		}
		return reason
	}
	return ""
}

// jsonProblem looks through a decoded JSON value for a NUL byte (in
// strings and keys) or a string longer than MaxCellBytes.
func jsonProblem(v any) string {
	switch x := v.(type) {
	case string:
		return cellProblem(x, -1, false)
	case map[string]any:
		for k, e := range x {
			if p := cellProblem(k, -1, false); p != "" {
				return p
			}
			if p := jsonProblem(e); p != "" {
				return p
			}
		}
	case []any:
		for _, e := range x {
			if p := jsonProblem(e); p != "" {
				return p
			}
		}
	}
	return ""
}

// sizeText writes a limit in bytes for people: 4 MiB, 1 KiB, 256 bytes.
func sizeText(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
