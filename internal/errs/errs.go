// Package errs defines the small, closed set of error kinds that every
// capability returns and that the web layer maps, once, to HTTP statuses and
// to messages in the user's language.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the people and machines that receive it. The
// list is append-only: kinds are mapped to HTTP statuses in package web.
type Kind int

const (
	Internal        Kind = iota // a fault of ours; details are logged, never shown
	Invalid                     // the input is wrong; Fields say where
	NotFound                    // absent, or hidden from this principal
	Forbidden                   // known principal, not allowed
	Unauthenticated             // no or bad credentials
	Conflict                    // the state does not allow it (duplicate, stale)
	TooLarge                    // the request body exceeds its limit
	Unsupported                 // the media type is not accepted
	RateLimited                 // too many attempts; try again later
)

var kindNames = [...]string{"internal", "invalid", "not_found", "forbidden", "unauthenticated", "conflict", "too_large", "unsupported", "rate_limited"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// FieldError says which input field is at fault and why. Code is a message
// key of package i18n (for example "err.email.invalid"); Args fill its named
// placeholders.
type FieldError struct {
	Field string
	Code  string
	Args  map[string]any
}

// Error is the error type that crosses package boundaries. Code is a message
// key for people; Err is the underlying cause, logged but never shown.
type Error struct {
	Kind   Kind
	Code   string
	Args   map[string]any
	Fields []FieldError
	Err    error
}

func (e *Error) Error() string {
	s := e.Kind.String()
	if e.Code != "" {
		s += ": " + e.Code
	}
	for _, f := range e.Fields {
		s += fmt.Sprintf(" [%s: %s]", f.Field, f.Code)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// E returns an error of kind k with message key code.
func E(k Kind, code string) *Error { return &Error{Kind: k, Code: code} }

// KindOf reports the kind of err: the kind of the first *Error in its chain,
// or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Field returns an Invalid error for a single field.
func Field(field, code string, args map[string]any) *Error {
	return &Error{Kind: Invalid, Code: "err.invalid", Fields: []FieldError{{Field: field, Code: code, Args: args}}}
}

// Validator collects field errors so that a form reports all of them at once.
type Validator struct{ fields []FieldError }

// Add records that field is at fault with message key code.
func (v *Validator) Add(field, code string, args map[string]any) {
	v.fields = append(v.fields, FieldError{Field: field, Code: code, Args: args})
}

// Check adds the field error when ok is false, and reports ok.
func (v *Validator) Check(ok bool, field, code string) bool {
	if !ok {
		v.Add(field, code, nil)
	}
	return ok
}

// Has reports whether field already has an error.
func (v *Validator) Has(field string) bool {
	for _, f := range v.fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Err returns an Invalid error carrying every recorded field error, or nil.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Code: "err.invalid", Fields: v.fields}
}

// KindCode returns the message key of err, or "err.internal".
func KindCode(err error) string {
	if e, ok := As(err); ok && e.Code != "" {
		return e.Code
	}
	return "err.internal"
}
