package importer

import (
	"fmt"
	"strings"
)

// MaxErrors is how many errors an import reports in full; the rest are
// counted.
const MaxErrors = 20

// RowError is one problem found in an import file.
type RowError struct {
	File string
	// Line is the physical line where the record starts (CSV), the line
	// (JSON lines) or the row number (Parquet); 0 for the file as a whole.
	Line int
	// Field is the canonical field (or, for problems of the record itself,
	// "record", "header" or the column) the problem is about.
	Field  string
	Reason string
}

// String formats e as file:line: field: reason.
func (e RowError) String() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Field, e.Reason)
}

// Errors is returned when a file has bad records and nothing was imported:
// the first MaxErrors problems in file order, and how many there were in
// all.
type Errors struct {
	List  []RowError
	Total int
}

// Lines returns the report to print: one line per listed error, then
// "... and N more errors" when some were left out.
func (e *Errors) Lines() []string {
	out := make([]string, 0, len(e.List)+1)
	for _, re := range e.List {
		out = append(out, re.String())
	}
	if more := e.Total - len(e.List); more > 0 {
		noun := "errors"
		if more == 1 {
			noun = "error"
		}
		out = append(out, fmt.Sprintf("... and %d more %s", more, noun))
	}
	return out
}

func (e *Errors) Error() string { return strings.Join(e.Lines(), "\n") }

// add records one error, keeping the first MaxErrors.
func (e *Errors) add(re RowError) {
	e.Total++
	if len(e.List) < MaxErrors {
		e.List = append(e.List, re)
	}
}

// Error makes a single RowError usable as an error.
func (e *RowError) Error() string { return e.String() }
