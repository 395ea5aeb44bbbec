package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
)

// MaxJSONBytes bounds API request bodies.
const MaxJSONBytes = 1 << 20

// DecodeJSON reads a JSON object into v. It refuses other media types (415),
// bodies over the limit (413), malformed JSON (400), unknown fields and
// values of the wrong type (422, naming the field), and trailing data.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return errs.E(errs.Unsupported, "err.unsupported_media_type")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxJSONBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("err.json_trailing")
	}
	return nil
}

func jsonError(err error) error {
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return errs.E(errs.TooLarge, "err.too_large")
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(body)"
		}
		return errs.Field(field, "err.json_type", map[string]any{"type": te.Type.String()})
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return badRequest("err.json_malformed")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errs.Field(name, "err.json_unknown_field", nil)
	default:
		return badRequest("err.json_malformed")
	}
}

// Paging reads the offset (default 0) and limit (1–500, default 50) query
// parameters of a list route.
func Paging(r *http.Request) (offset, limit int, err error) {
	q := r.URL.Query()
	var v errs.Validator
	offset, limit = 0, 50
	if s := q.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if v.Check(err == nil && n >= 0, "offset", "err.offset.invalid") {
			offset = n
		}
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if v.Check(err == nil && n >= 1 && n <= 500, "limit", "err.limit.invalid") {
			limit = n
		}
	}
	return offset, limit, v.Err()
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("web: encode json: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}

// PageSize is the number of rows on one page of a portal list.
const PageSize = 50

// PageOffset reads the 1-based page query parameter of a portal list and
// returns the offset of its first row.
func PageOffset(r *http.Request) int {
	n, _ := strconv.Atoi(r.URL.Query().Get("page"))
	return (max(n, 1) - 1) * PageSize
}

// Pager describes the position in a portal list for the pagination
// links: page Page of Pages, rows From–To of Total, and the filter query
// without page=.
type Pager struct {
	Page, Pages, From, To, Total int
	Query                        string
}

// NewPager describes the page of r in a list of total rows.
func NewPager(r *http.Request, total int) Pager {
	off := PageOffset(r)
	q := r.URL.Query()
	q.Del("page")
	p := Pager{Page: off/PageSize + 1, Pages: (total + PageSize - 1) / PageSize, Total: total, From: off + 1, To: min(off+PageSize, total), Query: q.Encode()}
	if total == 0 {
		p.From = 0
	}
	return p
}
