package formats

// Generic CSV read through a saved column mapping.

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/belfry-cert/belfry/internal/feeds"
)

// Mapping says how to read one kind of CSV file: its delimiter, whether
// it has a header, which column fills which IntelMQ key, the constant
// fields and the classification of its events. It is stored as JSON.
type Mapping struct {
	// Delimiter is one character; "" is a comma, "\t" or "tab" a tab.
	Delimiter string `json:"delimiter,omitempty"`
	// Header: the first row names the columns.
	Header bool `json:"header"`
	// Columns maps a column (its header name, or its number counted
	// from 1) to an IntelMQ key ("source.ip", "extra.note").
	Columns map[string]string `json:"columns"`
	// Constants are fields every event gets ("protocol.transport": "tcp").
	Constants map[string]string `json:"constants,omitempty"`
	// TimeFormat reads time.source: "" or "rfc3339" (RFC 3339 and ISO
	// forms, UTC when without a zone), "unix", "unix_ms", or a Go layout
	// such as "02/01/2006 15:04".
	TimeFormat string `json:"time_format,omitempty"`
	// Classification is the default classification of the events.
	Classification Classification `json:"classification"`
	// Feed is Event.Feed ("" is "csv"); FeedName is feed.name.
	Feed     string `json:"feed,omitempty"`
	FeedName string `json:"feed_name,omitempty"`
}

// Classification is classification.taxonomy, .type and .identifier.
type Classification struct {
	Taxonomy   string `json:"taxonomy,omitempty"`
	Type       string `json:"type,omitempty"`
	Identifier string `json:"identifier,omitempty"`
}

// FieldError is one fault of a mapping: the field ("columns.ip",
// "delimiter"), a message key of the feedmapping catalog and the message
// in English.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// MappingError lists every fault of a mapping.
type MappingError struct {
	Fields []FieldError
}

func (e *MappingError) Error() string {
	var b strings.Builder
	b.WriteString("invalid mapping:")
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	return b.String()
}

// addressKeys are the keys one of which a mapping must fill: an event
// without an address cannot be matched to anyone.
var addressKeys = []string{"source.ip", "source.fqdn", "source.url", "source.network",
	"destination.ip", "destination.fqdn", "destination.url", "destination.network", "source.asn", "destination.asn"}

// LoadMapping reads a mapping from JSON; unknown members are refused, so
// that a misspelt one is not silently ignored. The mapping is validated.
func LoadMapping(r io.Reader) (*Mapping, error) {
	dec := json.NewDecoder(io.LimitReader(r, 1<<20))
	dec.DisallowUnknownFields()
	var m Mapping
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("reading the mapping: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// delimiter returns the delimiter as a rune, and whether it is usable.
func (m *Mapping) delimiter() (rune, bool) {
	switch m.Delimiter {
	case "":
		return ',', true
	case "\t", "tab", `\t`:
		return '\t', true
	}
	r, n := utf8.DecodeRuneInString(m.Delimiter)
	if n != len(m.Delimiter) || r == utf8.RuneError || r == '"' || r == '\r' || r == '\n' || r == ' ' {
		return 0, false
	}
	return r, true
}

// Validate checks the mapping and returns a *MappingError listing every
// fault, or nil.
func (m *Mapping) Validate() error {
	var errs []FieldError
	add := func(field, code, msg string, args ...any) {
		errs = append(errs, FieldError{Field: field, Code: "err.feedmapping." + code, Message: fmt.Sprintf(msg, args...)})
	}
	if _, ok := m.delimiter(); !ok {
		add("delimiter", "delimiter", "the delimiter must be one character other than a quote, a space or a line end (\"tab\" for a tab)")
	}
	if len(m.Columns) == 0 {
		add("columns", "columns_empty", "map at least one column to an IntelMQ key")
	}
	used := map[string]string{}
	address := false
	for _, col := range slices.Sorted(maps.Keys(m.Columns)) {
		key := m.Columns[col]
		field := "columns." + col
		switch n, err := strconv.Atoi(col); {
		case strings.TrimSpace(col) == "":
			add("columns", "column_empty", "a column name is empty")
			continue
		case !m.Header && (err != nil || n < 1):
			add(field, "column_number", "without a header, name columns by their number, counted from 1 (not %q)", col)
		}
		if !knownKey(key) {
			add(field, "key_unknown", "%q is not an IntelMQ key Belfry knows; use extra.NAME for other data", key)
			continue
		}
		if other, dup := used[key]; dup && !strings.HasPrefix(key, "extra.") {
			add(field, "key_twice", "%s is already filled by %s", key, other)
		}
		used[key] = field
		address = address || slices.Contains(addressKeys, key)
	}
	for _, key := range slices.Sorted(maps.Keys(m.Constants)) {
		field := "constants." + key
		if !knownKey(key) {
			add(field, "key_unknown", "%q is not an IntelMQ key Belfry knows; use extra.NAME for other data", key)
			continue
		}
		if other, dup := used[key]; dup {
			add(field, "key_twice", "%s is already filled by %s", key, other)
		}
		used[key] = field
		var ev feeds.Event
		if !set(&ev, key, m.Constants[key], m.TimeFormat) {
			add(field, "value_invalid", "%q is not a valid %s", m.Constants[key], key)
		}
		address = address || slices.Contains(addressKeys, key)
	}
	if len(m.Columns) > 0 && !address {
		add("columns", "no_address", "map a column to an address (source.ip, source.fqdn, source.url, source.network, source.asn or their destination.*): events without one cannot be matched")
	}
	switch f := m.TimeFormat; {
	case f == "", f == "rfc3339", f == "unix", f == "unix_ms":
	case !strings.Contains(f, "2006") || !strings.Contains(f, "01") && !strings.Contains(f, "Jan") || !strings.Contains(f, "02"):
		add("time_format", "time_format", "the time format must be rfc3339, unix, unix_ms or a Go layout of the reference time 2006-01-02 15:04:05")
	}
	if t := m.Classification.Taxonomy; t != "" && !validTaxonomy(t) {
		add("classification.taxonomy", "taxonomy", "unknown taxonomy %q (want one of %s)", t, strings.Join(taxonomies, ", "))
	}
	if m.Classification.Taxonomy != "" && m.Classification.Type == "" {
		add("classification.type", "type_missing", "give the classification type with the taxonomy")
	}
	if len(errs) > 0 {
		return &MappingError{Fields: errs}
	}
	return nil
}

// csvStep is one column's key, resolved for a file.
type csvStep struct {
	col int
	key string
}

// CSV problem reasons; a value the harmonisation rejects is "invalid KEY".
const (
	ReasonCSVColumns   = "wrong number of columns"
	ReasonCSVSyntax    = "invalid CSV"
	ReasonCSVNoAddress = "no address"
)

// ParseCSV reads a CSV file through o.Mapping (validated by Parser, or
// by the caller). With a header, a mapped column missing from it is an
// error for the file. A row with too few columns, a CSV syntax error or
// a value the harmonisation rejects is a problem. Event.Row is the row
// number, 1 for the first row after the header.
func ParseCSV(ctx context.Context, r io.Reader, o Options, emit func(*feeds.Event) error, problem func(feeds.Problem) error) (Stats, error) {
	var st Stats
	m := o.Mapping
	if m == nil {
		return st, errors.New("the csv format needs a mapping")
	}
	s := &sink{st: &st, emit: emit, problem: problem}
	delim, _ := m.delimiter()
	cr := csv.NewReader(r)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var steps []csvStep
	need := 0
	if m.Header {
		header, err := cr.Read()
		if err == io.EOF {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("reading the header: %w", err)
		}
		idx := map[string]int{}
		for i, h := range header {
			h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
			if _, dup := idx[h]; !dup {
				idx[h] = i
			}
		}
		for _, col := range slices.Sorted(maps.Keys(m.Columns)) {
			i, ok := idx[col]
			if !ok {
				n, err := strconv.Atoi(col)
				if err != nil || n < 1 {
					return st, fmt.Errorf("the header lacks the mapped column %q", col)
				}
				i = n - 1
			}
			steps = append(steps, csvStep{i, m.Columns[col]})
		}
	} else {
		for _, col := range slices.Sorted(maps.Keys(m.Columns)) {
			n, _ := strconv.Atoi(col)
			steps = append(steps, csvStep{n - 1, m.Columns[col]})
		}
	}
	for _, step := range steps {
		need = max(need, step.col+1)
	}
	tax := o
	tax.Taxonomy, tax.Type, tax.Identifier = or(m.Classification.Taxonomy, o.Taxonomy), or(m.Classification.Type, o.Type), or(m.Classification.Identifier, o.Identifier)
	feed, feedName := or(m.Feed, o.feed(CSV)), or(m.FeedName, o.FeedName)
	sep := string(delim)
	for n := 1; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return st, err
			}
		}
		rec, err := cr.Read()
		if err == io.EOF {
			return st, nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			st.Rows++
			if err := s.fail(n, ReasonCSVSyntax, pe.Error()); err != nil {
				return st, err
			}
			continue
		}
		if err != nil {
			return st, err
		}
		st.Rows++
		raw := strings.Join(rec, sep)
		if len(rec) < need {
			if err := s.fail(n, ReasonCSVColumns, raw); err != nil {
				return st, err
			}
			continue
		}
		ev := feeds.Event{Feed: feed, FeedName: feedName, Row: n}
		reason := ""
		for _, step := range steps {
			if !set(&ev, step.key, rec[step.col], m.TimeFormat) {
				reason = "invalid " + step.key
				break
			}
		}
		if reason == "" {
			for _, key := range slices.Sorted(maps.Keys(m.Constants)) {
				set(&ev, key, m.Constants[key], m.TimeFormat)
			}
			if !hasAddress(&ev) {
				reason = ReasonCSVNoAddress
			}
		}
		if reason != "" {
			if err := s.fail(n, reason, raw); err != nil {
				return st, err
			}
			continue
		}
		tax.classify(&ev, CSV)
		if err := s.event(&ev); err != nil {
			return st, err
		}
	}
}

// hasAddress reports whether ev has something to be matched on.
func hasAddress(ev *feeds.Event) bool {
	if ev.SrcIP.IsValid() || ev.DstIP.IsValid() || ev.SrcFQDN != "" || ev.DstFQDN != "" || ev.SrcASN != 0 || ev.DstASN != 0 {
		return true
	}
	for _, f := range ev.Fields {
		if f.Key == "source.network" || f.Key == "destination.network" || f.Key == "source.url" || f.Key == "destination.url" {
			return true
		}
	}
	return false
}
