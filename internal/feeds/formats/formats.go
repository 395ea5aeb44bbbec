// Package formats parses the feed formats other than Shadowserver's
// reports into harmonised feeds.Event values: plain lists of addresses,
// domains and URLs, MISP feeds (manifest and events), STIX 2.1 bundles
// and CSV files read through a saved column mapping. It also keeps the
// mappings (feed_mappings) and serves them on the API.
//
// Every parser streams its input in bounded memory and has the shape of
// the Shadowserver parser: events go to emit, what cannot be read goes to
// problem with the reason (never dropped silently), and Stats count both.
// See docs/feeds.md, "Other formats".
package formats

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/belfry-cert/belfry/internal/feeds"
)

// Format names, as --format takes them.
const (
	List = "list"
	MISP = "misp"
	STIX = "stix"
	CSV  = "csv"
)

// Names lists the formats of this package.
var Names = []string{List, MISP, STIX, CSV}

// Options set what the input itself does not say.
type Options struct {
	// Feed is Event.Feed (default: the format's name); FeedName is
	// IntelMQ's feed.name (default: none, or the mapping's).
	Feed, FeedName string
	// Taxonomy, Type and Identifier classify events whose input does not
	// (every line of a list; MISP and STIX items the tables do not map).
	// Default: other, blacklist, and the format's name.
	Taxonomy, Type, Identifier string
	// Mapping reads CSV input; required for the csv format.
	Mapping *Mapping
	// KeepRed emits MISP attributes and STIX objects marked TLP:RED
	// (with the "tlp" field) instead of withholding them as problems.
	KeepRed bool
	// KeepNonIDS emits MISP attributes whose to_ids is false instead of
	// withholding them as problems.
	KeepNonIDS bool
}

// Stats count what a parse read.
type Stats struct {
	Rows     int            `json:"rows"`     // lines, attributes or objects read that may give events
	Events   int            `json:"events"`   // events emitted
	Problems int            `json:"problems"` // items kept as problems (unreadable or withheld)
	Reasons  map[string]int `json:"reasons,omitempty"`
}

// maxProblemRaw is how much of an item a Problem keeps.
const maxProblemRaw = 4096

// sink counts events and problems on their way out.
type sink struct {
	st      *Stats
	emit    func(*feeds.Event) error
	problem func(feeds.Problem) error
}

func (s *sink) event(ev *feeds.Event) error {
	s.st.Events++
	return s.emit(ev)
}

func (s *sink) fail(row int, reason, raw string) error {
	s.st.Problems++
	if s.st.Reasons == nil {
		s.st.Reasons = map[string]int{}
	}
	s.st.Reasons[reason]++
	if s.problem == nil {
		return nil
	}
	return s.problem(feeds.Problem{Row: row, Reason: reason, Raw: cut(raw)})
}

// cut shortens s to maxProblemRaw bytes on a character boundary.
func cut(s string) string {
	if len(s) <= maxProblemRaw {
		return s
	}
	n := maxProblemRaw
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// classify fills the classification the input did not give from o, then
// from the defaults.
func (o *Options) classify(ev *feeds.Event, format string) {
	if ev.Taxonomy == "" {
		ev.Taxonomy = or(o.Taxonomy, "other")
	}
	if ev.Type == "" {
		ev.Type = or(o.Type, "blacklist")
	}
	if ev.Identifier == "" {
		ev.Identifier = or(o.Identifier, format)
	}
}

func (o *Options) feed(format string) string { return or(o.Feed, format) }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ParseClassification reads "taxonomy/type/identifier" (the identifier
// may be left out) into o.
func (o *Options) ParseClassification(s string) error {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return fmt.Errorf("classification %q: want taxonomy/type or taxonomy/type/identifier", s)
	}
	tax, typ := strings.ToLower(strings.TrimSpace(parts[0])), strings.TrimSpace(parts[1])
	if !validTaxonomy(tax) {
		return fmt.Errorf("classification %q: unknown taxonomy %q (want one of %s)", s, tax, strings.Join(taxonomies, ", "))
	}
	if typ == "" {
		return fmt.Errorf("classification %q: the type is empty", s)
	}
	o.Taxonomy, o.Type = tax, typ
	if len(parts) == 3 {
		o.Identifier = strings.TrimSpace(parts[2])
	}
	return nil
}

// ParseFunc returns the pipeline's parse function for one input of the
// format read from r (plain or gzip-compressed). A MISP input given as a
// reader is a single event, or a feed in a zip archive when r is also an
// io.ReaderAt with a Size method; a feed directory is read with
// ParseMISPDir. The csv format needs o.Mapping.
func ParseFunc(format string, o Options, r io.Reader) (feeds.Parse, error) {
	run, err := Parser(format, o)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, emit func(*feeds.Event) error, problem func(feeds.Problem) error) error {
		_, err := run(ctx, r, emit, problem)
		return err
	}, nil
}

// Func parses one input; the parsers of this package have this shape.
type Func func(ctx context.Context, r io.Reader, emit func(*feeds.Event) error, problem func(feeds.Problem) error) (Stats, error)

// Parser returns the parser of a format.
func Parser(format string, o Options) (Func, error) {
	switch format {
	case List:
		return func(ctx context.Context, r io.Reader, emit func(*feeds.Event) error, problem func(feeds.Problem) error) (Stats, error) {
			return ParseList(ctx, decompress(r), o, emit, problem)
		}, nil
	case MISP:
		return func(ctx context.Context, r io.Reader, emit func(*feeds.Event) error, problem func(feeds.Problem) error) (Stats, error) {
			return ParseMISP(ctx, r, o, emit, problem)
		}, nil
	case STIX:
		return func(ctx context.Context, r io.Reader, emit func(*feeds.Event) error, problem func(feeds.Problem) error) (Stats, error) {
			return ParseSTIX(ctx, decompress(r), o, emit, problem)
		}, nil
	case CSV:
		if o.Mapping == nil {
			return nil, fmt.Errorf("the csv format needs a mapping")
		}
		if err := o.Mapping.Validate(); err != nil {
			return nil, err
		}
		return func(ctx context.Context, r io.Reader, emit func(*feeds.Event) error, problem func(feeds.Problem) error) (Stats, error) {
			return ParseCSV(ctx, decompress(r), o, emit, problem)
		}, nil
	}
	return nil, fmt.Errorf("unknown feed format %q (want %s)", format, strings.Join(Names, ", "))
}

// decompress returns r, decompressed when it starts as gzip does. A
// broken gzip header leaves r as it is: the parser then reports what it
// reads.
func decompress(r io.Reader) io.Reader {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		if zr, err := gzip.NewReader(br); err == nil {
			return zr
		}
	}
	return br
}

// Detect guesses the format from the start of an input (at most the
// first 64 KiB, as bufio.Reader.Peek gives it): a JSON object with
// "type": "bundle" is STIX, one with "Event" (or "response") at the top,
// or a manifest (event UUIDs as keys), is MISP. It returns "" when the
// content says nothing: the caller's default applies.
func Detect(head []byte) string {
	head = bytes.TrimLeft(head, " \t\r\n\ufeff")
	head = bytes.TrimPrefix(head, []byte("\ufeff"))
	if len(head) == 0 || head[0] != '{' {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(head))
	if _, err := dec.Token(); err != nil {
		return ""
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ""
		}
		key, _ := t.(string)
		switch {
		case key == "Event" || key == "response":
			return MISP
		case isUUID(key):
			return MISP // a manifest
		case key == "type":
			var v string
			if dec.Decode(&v) != nil {
				return ""
			}
			if v == "bundle" {
				return STIX
			}
			continue
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return ""
		}
	}
	return ""
}

// isUUID reports whether s has the form of a UUID (8-4-4-4-12 hex).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
