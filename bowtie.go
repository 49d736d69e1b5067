// Package bowtie holds the domain of the bowtie analytics engine: the
// canonical tables every analysis reads, the business model (stages, channel
// rules, policies) and the error type shared by the CLI and the HTTP API.
//
// The package imports no database driver. Storage lives in duckdb/, analyses
// in query/, transports in server/ and cmd/bowtie.
package bowtie

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in server/ and to one exit
// status in the CLI.
const (
	EINVALID  = "invalid"   // the caller's input is wrong; the message says where
	ENOTFOUND = "not_found" // a named thing does not exist
	ECONFLICT = "conflict"  // the store is busy or held by another process
	EINTERNAL = "internal"  // a bug or an I/O failure
)

// Error is an error meant for a user: Message says what was wrong and, where
// possible, what to do about it.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	}
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err: the *Error's message,
// or a generic text for internal errors so that no internals leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
