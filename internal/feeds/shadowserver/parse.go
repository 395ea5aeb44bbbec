package shadowserver

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/belfry-cert/belfry/internal/feeds"
)

// MaxRecord is the largest record (row) the parser reads, in bytes; a
// longer one is a problem ("record too long").
const MaxRecord = 4 << 20

// maxProblemRaw is how much of a bad row a Problem keeps.
const maxProblemRaw = 4096

// Problem reasons. The reason of a row that fails a required field names
// the key: "missing time.source", "invalid source.ip".
const (
	ReasonColumns      = "wrong number of columns"
	ReasonUnterminated = "unterminated quoted field"
	ReasonAfterQuote   = "text after a closing quote"
	ReasonTooLong      = "record too long"
)

// Stats counts what a parse read.
type Stats struct {
	Rows     int            `json:"rows"`     // data rows (the header not counted)
	Events   int            `json:"events"`   // events emitted
	Problems int            `json:"problems"` // rows kept as problems
	Reasons  map[string]int `json:"reasons,omitempty"`
}

// Parser parses the files of one report type. It is not safe for
// concurrent use; use one per goroutine.
type Parser struct {
	report *Report
	// OnProblem, when set, receives every row that could not be made
	// into an event. Its error stops the parse.
	OnProblem func(feeds.Problem) error

	header   []string
	rec      []string
	plan     *plan
	ev       feeds.Event
	fields   []feeds.Field // scratch, copied to each event at its size
	rejected []bool        // per column: a value the harmonisation rejected

	// Lazy, when set, leaves Event.Fields nil: emit gets the typed members
	// (all that matching needs) and calls Fields for the events it keeps.
	Lazy bool
}

// NewParser returns a parser for the report type.
func NewParser(r *Report) *Parser { return &Parser{report: r} }

// Report returns the parser's report type.
func (p *Parser) Report() *Report { return p.report }

// target is where a step's value goes.
type target uint8

const (
	tField target = iota
	tDrop         // overridden by a constant: read, then discarded
	tTime
	tSeverity
	tTaxonomy
	tType
	tIdentifier
	tSrcIP
	tSrcPort
	tSrcASN
	tSrcFQDN
	tDstIP
	tDstPort
	tDstASN
	tDstFQDN
)

var typedKeys = map[string]target{
	"time.source":               tTime,
	"severity":                  tSeverity,
	"classification.taxonomy":   tTaxonomy,
	"classification.type":       tType,
	"classification.identifier": tIdentifier,
	"source.ip":                 tSrcIP,
	"source.port":               tSrcPort,
	"source.asn":                tSrcASN,
	"source.fqdn":               tSrcFQDN,
	"destination.ip":            tDstIP,
	"destination.port":          tDstPort,
	"destination.asn":           tDstASN,
	"destination.fqdn":          tDstFQDN,
}

// step is one mapping of a column, resolved for a header.
type step struct {
	key      string // the output key ("extra.tag" for ["extra.", "tag"])
	conv     convFunc
	extra    bool // key is extra.*: no harmonisation
	required bool
	target   target
	hk       hkind
}

// plan is the work per column of a file, computed once from its header.
type plan struct {
	cols     []colPlan
	index    map[string]int
	consts   []feeds.Field // constant fields outside the typed members, sorted
	typed    []constTyped
	required []string // required keys, for messages
}

type colPlan struct {
	steps      []step
	keySteps   []int  // typed or required: the first pass
	fieldSteps []int  // the others (and required fields outside the typed members)
	extraKey   string // "extra.<column>" for text no mapping took
}

type constTyped struct {
	t target
	v string
}

// newPlan resolves the report's mappings against a header. A required
// column missing from the header is an error: the file is not of this
// report type, or Shadowserver changed it.
func newPlan(r *Report, header []string) (*plan, error) {
	pl := &plan{cols: make([]colPlan, len(header)), index: make(map[string]int, len(header))}
	for i, h := range header {
		if _, dup := pl.index[h]; !dup {
			pl.index[h] = i
		}
		pl.cols[i].extraKey = "extra." + h
	}
	add := func(m Mapping, required bool) error {
		i, ok := pl.index[m.Column]
		if !ok {
			if required {
				return fmt.Errorf("report %s: required column %q is not in the header", r.Stem, m.Column)
			}
			return nil // IntelMQ only warns
		}
		s := step{key: m.Key, required: required}
		if m.Key == "" { // [false, column]: ignore the column
			s.target = tDrop
		}
		if m.Key == "extra." {
			s.key = "extra." + m.Column
		}
		if m.Converter != "" {
			s.conv = converters[m.Converter]
		}
		s.extra = strings.HasPrefix(s.key, "extra.")
		if !s.extra && s.target != tDrop {
			s.hk = keyKind(s.key)
			if t, ok := typedKeys[s.key]; ok {
				s.target = t
			}
			if _, isConst := r.Constant[s.key]; isConst && !required {
				s.target = tDrop // the constant wins, as in IntelMQ
			}
		}
		pl.cols[i].steps = append(pl.cols[i].steps, s)
		if required {
			pl.required = append(pl.required, s.key)
		}
		return nil
	}
	for _, m := range r.Required {
		if err := add(m, true); err != nil {
			return nil, err
		}
	}
	for _, m := range r.Optional {
		if err := add(m, false); err != nil {
			return nil, err
		}
	}
	for k, v := range r.Constant {
		if t, ok := typedKeys[k]; ok {
			pl.typed = append(pl.typed, constTyped{t, v})
			continue
		}
		hv, ok := harmonise(keyKind(k), str(v))
		if !ok || hv.k == kNone {
			hv = str(v)
		}
		pl.consts = append(pl.consts, feeds.Field{Key: k, Value: boxed(hv)})
	}
	slices.SortFunc(pl.consts, func(a, b feeds.Field) int { return strings.Compare(a.Key, b.Key) })
	for i := range pl.cols {
		c := &pl.cols[i]
		for si, s := range c.steps {
			typed := s.target != tField && s.target != tDrop
			if typed || s.required {
				c.keySteps = append(c.keySteps, si)
			}
			if !typed {
				c.fieldSteps = append(c.fieldSteps, si)
			}
		}
	}
	return pl, nil
}

// boxed returns a value as an event field value: string, int64, float64
// or bool.
func boxed(v value) any {
	switch v.k {
	case kInt:
		return v.i
	case kFloat:
		return v.float()
	case kBool:
		return v.bool()
	case kTime:
		return formatTime(v.time())
	}
	return v.s
}

// Parse reads one CSV file of the parser's report type (a header row,
// then data rows) and calls emit once per event, in row order. Rows that
// cannot be made into events are counted as problems and passed to
// OnProblem; they never stop the file. Parse stops early only on a read
// error, a header that lacks a required column, or an error of emit or
// OnProblem, which it returns.
//
// emit receives the parser's own Event, which is overwritten by the next
// row: copy it (e := *ev) to keep it. The copy shares nothing that the
// parser changes later: each row gets its own Fields slice and strings.
// Memory use does not depend on the size of the file.
func (p *Parser) Parse(r io.Reader, emit func(*feeds.Event) error) (Stats, error) {
	st := Stats{}
	cr := newCSVReader(r, MaxRecord)
	header, err := cr.next()
	if err == io.EOF {
		return st, nil // an empty file: no rows
	}
	if err != nil {
		return st, fmt.Errorf("reading the header: %w", err)
	}
	p.header = slices.Clone(header)
	if len(p.header) > 0 {
		p.header[0] = strings.TrimPrefix(p.header[0], "\ufeff")
	}
	p.plan, err = newPlan(p.report, p.header)
	if err != nil {
		return st, err
	}
	view := rowView{index: p.plan.index}
	for {
		rec, err := cr.next()
		if err == io.EOF {
			return st, nil
		}
		var reason string
		switch {
		case errors.Is(err, errUnterminated):
			reason = ReasonUnterminated
		case errors.Is(err, errAfterQuote):
			reason = ReasonAfterQuote
		case errors.Is(err, errTooLong):
			reason = ReasonTooLong
		case err != nil:
			return st, err
		}
		st.Rows++
		if reason == "" && len(rec) != len(p.header) {
			reason = ReasonColumns
		}
		if reason == "" {
			p.rec = rec
			view.rec = rec
			if reason = p.build(&view, st.Rows); reason == "" {
				st.Events++
				if err := emit(&p.ev); err != nil {
					return st, err
				}
				continue
			}
		}
		st.Problems++
		if st.Reasons == nil {
			st.Reasons = map[string]int{}
		}
		st.Reasons[reason]++
		if p.OnProblem != nil {
			raw := cr.raw
			if reason == ReasonUnterminated || reason == ReasonTooLong {
				raw = raw[:min(cr.firstLine, len(raw))]
			}
			if err := p.OnProblem(feeds.Problem{Row: st.Rows, Reason: reason, Raw: problemRaw(raw)}); err != nil {
				return st, err
			}
		}
	}
}

// problemRaw cuts a row to a reasonable length, on a character boundary,
// without its line end.
func problemRaw(b []byte) string {
	b = []byte(strings.TrimRight(string(b), "\r\n"))
	if len(b) > maxProblemRaw {
		n := maxProblemRaw
		for n > 0 && !utf8.RuneStart(b[n]) {
			n--
		}
		b = b[:n]
	}
	return string(b)
}

// build fills p.ev from the current record, returning the reason when a
// required field fails. It runs in two passes: the typed members and the
// required fields first (all that matching needs), then, unless the
// parser is lazy, the other fields.
func (p *Parser) build(row *rowView, n int) string {
	pl := p.plan
	ev := &p.ev
	*ev = feeds.Event{Feed: p.report.Stem, FeedName: p.report.FeedName, Row: n}
	if cap(p.rejected) < len(row.rec) {
		p.rejected = make([]bool, len(row.rec))
	}
	p.rejected = p.rejected[:len(row.rec)]
	for i, text := range row.rec {
		c := &pl.cols[i]
		p.rejected[i] = false
		for _, si := range c.keySteps {
			s := &c.steps[si]
			v := str(text)
			if s.conv != nil {
				var err error
				if v, err = s.conv(text, row); err != nil {
					if s.required {
						return invalidOrMissing(s.key, text)
					}
					p.rejected[i] = true
					continue
				}
			}
			if v.k == kNone || s.target == tDrop {
				if s.required {
					return invalidOrMissing(s.key, text)
				}
				continue
			}
			if s.target == tField { // a required field outside the typed members
				if hv, ok := harmonise(s.hk, v); !ok || hv.k == kNone {
					return invalidOrMissing(s.key, text)
				}
				continue
			}
			set, valid := p.setTyped(s.target, s.hk, v)
			if !set && s.required {
				return invalidOrMissing(s.key, text)
			}
			p.rejected[i] = p.rejected[i] || !valid
		}
	}
	for _, c := range pl.typed {
		p.setTyped(c.t, hString, str(c.v))
	}
	if !p.Lazy {
		ev.Fields = p.Fields()
	}
	return ""
}

// Fields returns the current row's fields beyond the typed members, in
// column order, then the constant fields; it is what Parse puts in
// Event.Fields. A lazy parser's emit calls it for the events it keeps.
// Valid only during emit; the slice is the caller's.
func (p *Parser) Fields() []feeds.Field {
	pl := p.plan
	row := &rowView{index: pl.index, rec: p.rec}
	fields := p.fields[:0]
	for i, text := range p.rec {
		c := &pl.cols[i]
		if len(c.steps) == 0 {
			if text != "" {
				fields = append(fields, feeds.Field{Key: c.extraKey, Value: text})
			}
			continue
		}
		rejected := p.rejected[i]
		for _, si := range c.fieldSteps {
			s := &c.steps[si]
			v := str(text)
			if s.conv != nil {
				var err error
				if v, err = s.conv(text, row); err != nil {
					rejected = true
					continue
				}
			}
			if v.k == kNone || s.target == tDrop {
				continue
			}
			if s.extra {
				if v.k == kString && v.s == "" {
					continue
				}
				fields = append(fields, feeds.Field{Key: s.key, Value: boxed(v)})
				continue
			}
			hv, ok := harmonise(s.hk, v)
			if !ok || hv.k == kNone {
				rejected = rejected || !ok
				continue
			}
			fields = append(fields, feeds.Field{Key: s.key, Value: boxed(hv)})
		}
		if rejected && text != "" {
			// As IntelMQ: a value the harmonisation rejects stays, as
			// text, under extra.<column>.
			fields = append(fields, feeds.Field{Key: c.extraKey, Value: text})
		}
	}
	fields = append(fields, pl.consts...)
	out := make([]feeds.Field, len(fields))
	copy(out, fields)
	clear(fields) // drop references for the collector
	p.fields = fields[:0]
	return out
}

func invalidOrMissing(key, text string) string {
	if strings.TrimSpace(text) == "" {
		return "missing " + key
	}
	return "invalid " + key
}

// setTyped checks a value for a typed member of the event, as harmonise
// does, and stores it. set: the member was set; valid: false when the
// harmonisation rejects the value (nothing, like "-", is valid but not
// set).
func (p *Parser) setTyped(t target, hk hkind, v value) (set, valid bool) {
	ev := &p.ev
	if v.k == kString {
		switch v.s {
		case "", "-", "N/A":
			return false, true
		}
	}
	switch t {
	case tTime:
		switch v.k {
		case kTime:
			ev.Time = v.time()
		case kString:
			tm, ok := parseTime(v.s, true)
			if !ok {
				return false, false
			}
			ev.Time = tm
		default:
			return false, false
		}
		return true, true
	case tSrcIP, tDstIP:
		if v.k != kString {
			return false, false
		}
		a, ok := parseIP(v.s)
		if !ok {
			return false, false
		}
		a = a.Unmap() // ::ffff:192.0.2.1 is matched as 192.0.2.1
		if t == tSrcIP {
			ev.SrcIP = a
		} else {
			ev.DstIP = a
		}
		return true, true
	}
	hv, ok := harmonise(hk, v)
	if !ok || hv.k == kNone {
		return false, ok
	}
	switch t {
	case tSeverity:
		ev.Severity = lower(hv.s)
	case tTaxonomy:
		ev.Taxonomy = hv.s
	case tType:
		ev.Type = hv.s
	case tIdentifier:
		ev.Identifier = hv.s
	case tSrcPort:
		ev.SrcPort = uint16(hv.i)
	case tDstPort:
		ev.DstPort = uint16(hv.i)
	case tSrcASN:
		ev.SrcASN = uint32(hv.i)
	case tDstASN:
		ev.DstASN = uint32(hv.i)
	case tSrcFQDN:
		ev.SrcFQDN = hv.s
	case tDstFQDN:
		ev.DstFQDN = hv.s
	}
	return true, true
}

// AppendRaw appends the current row as IntelMQ's raw field holds it
// before base64: the header line and the row, every field quoted, each
// line ended by \n (Python's csv "unix" dialect). Valid during emit.
func (p *Parser) AppendRaw(dst []byte) []byte {
	dst = appendQuotedRow(dst, p.header)
	return appendQuotedRow(dst, p.rec)
}

func appendQuotedRow(dst []byte, rec []string) []byte {
	for i, f := range rec {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		for j := 0; j < len(f); j++ {
			if f[j] == '"' {
				dst = append(dst, '"')
			}
			dst = append(dst, f[j])
		}
		dst = append(dst, '"')
	}
	return append(dst, '\n')
}
