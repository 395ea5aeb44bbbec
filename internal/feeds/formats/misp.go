package formats

// MISP feeds: a directory (or zip archive) holding manifest.json and one
// <event-uuid>.json file per event in the MISP core format, or a single
// event. Each attribute of a network or hash type becomes an event.

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/feeds"
)

// maxMISPEvent bounds one event file: an event is decoded whole.
const maxMISPEvent = 256 << 20

// MISP problem reasons. Withheld items are reported too, so that a run
// says how much it did not notify, and why.
const (
	ReasonMISPJSON    = "invalid MISP event JSON"
	ReasonMISPMissing = "event file missing"
	ReasonMISPType    = "unsupported attribute type"
	ReasonMISPValue   = "invalid attribute value"
	ReasonMISPDeleted = "skipped: deleted attribute"
	ReasonMISPNotIDS  = "skipped: to_ids is false"
	ReasonMISPOrgOnly = "withheld: distribution 0 (the creator's organisation only)"
	ReasonWithheldRed = "withheld: TLP:RED"
	mispManifest      = "manifest.json"
)

type mispEvent struct {
	UUID          string                `json:"uuid"`
	Info          string                `json:"info"`
	Date          string                `json:"date"`
	Timestamp     flex                  `json:"timestamp"`
	Distribution  flex                  `json:"distribution"`
	ThreatLevelID flex                  `json:"threat_level_id"`
	Orgc          struct{ Name string } `json:"Orgc"`
	Tag           []mispTag             `json:"Tag"`
	Attribute     []mispAttribute       `json:"Attribute"`
	Object        []struct {
		Name         string          `json:"name"`
		Distribution flex            `json:"distribution"`
		Attribute    []mispAttribute `json:"Attribute"`
	} `json:"Object"`
}

type mispAttribute struct {
	UUID         string    `json:"uuid"`
	Type         string    `json:"type"`
	Category     string    `json:"category"`
	Value        string    `json:"value"`
	Comment      string    `json:"comment"`
	ToIDS        flex      `json:"to_ids"`
	Distribution flex      `json:"distribution"`
	Timestamp    flex      `json:"timestamp"`
	FirstSeen    string    `json:"first_seen"`
	Deleted      flex      `json:"deleted"`
	Tag          []mispTag `json:"Tag"`
}

type mispTag struct {
	Name string `json:"name"`
}

// flex is a scalar MISP writes as a string or as a number or boolean
// ("5" or 5, true or "1").
type flex string

func (f *flex) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flex(s)
		return nil
	}
	if string(b) == "null" {
		*f = ""
		return nil
	}
	*f = flex(strings.Trim(string(b), `"`))
	return nil
}

// bool reads a flag; def when absent.
func (f flex) bool(def bool) bool {
	switch strings.ToLower(string(f)) {
	case "":
		return def
	case "1", "true":
		return true
	}
	return false
}

// mispParser carries the state of one feed.
type mispParser struct {
	o Options
	s *sink
}

// ParseMISP reads MISP input from r: a feed in a zip archive (when r is
// an io.ReaderAt with a Size method, like *os.File or *bytes.Reader), or
// one event file ({"Event": …}, plain or gzip; an API answer
// {"response": [{"Event": …}, …]} is read event by event).
func ParseMISP(ctx context.Context, r io.Reader, o Options, emit func(*feeds.Event) error, problem func(feeds.Problem) error) (Stats, error) {
	var st Stats
	p := &mispParser{o: o, s: &sink{st: &st, emit: emit, problem: problem}}
	if ra, ok := r.(interface {
		io.ReaderAt
		Size() int64
	}); ok {
		var magic [4]byte
		if n, _ := ra.ReadAt(magic[:], 0); n == 4 && string(magic[:]) == "PK\x03\x04" {
			return st, p.zip(ctx, ra, ra.Size())
		}
	}
	return st, p.file(ctx, "event", decompress(r))
}

// ParseMISPDir reads a MISP feed directory: the events manifest.json
// lists, in its order (a listed event without its file is a problem), or
// every *.json file in name order when there is no manifest.
func ParseMISPDir(ctx context.Context, dir string, o Options, emit func(*feeds.Event) error, problem func(feeds.Problem) error) (Stats, error) {
	var st Stats
	p := &mispParser{o: o, s: &sink{st: &st, emit: emit, problem: problem}}
	return st, p.feed(ctx, os.DirFS(dir), ".")
}

// zip reads a feed in a zip archive, whatever folder it is in.
func (p *mispParser) zip(ctx context.Context, ra io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return err
	}
	dir := "."
	for _, f := range zr.File {
		if path.Base(f.Name) == mispManifest {
			dir = path.Dir(f.Name)
			break
		}
	}
	return p.feed(ctx, zr, dir)
}

// feed reads the events of the feed in dir of fsys.
func (p *mispParser) feed(ctx context.Context, fsys fs.FS, dir string) error {
	names, err := mispNames(fsys, dir)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := fsys.Open(path.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			p.s.st.Rows++
			if err := p.s.fail(p.s.st.Rows, ReasonMISPMissing, name); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		err = p.file(ctx, name, decompress(f))
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// mispNames lists the event files of the feed in dir: those the manifest
// names, in its order, or every .json file but the manifest.
func mispNames(fsys fs.FS, dir string) ([]string, error) {
	f, err := fsys.Open(path.Join(dir, mispManifest))
	if errors.Is(err, fs.ErrNotExist) {
		matches, err := fs.Glob(fsys, path.Join(dir, "*.json"))
		if err != nil {
			return nil, err
		}
		var names []string
		for _, m := range matches {
			names = append(names, path.Base(m))
		}
		slices.Sort(names)
		if len(names) == 0 {
			return nil, fmt.Errorf("no %s and no event file in the MISP feed", mispManifest)
		}
		return names, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("%s: not a JSON object of events", mispManifest)
	}
	var names []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", mispManifest, err)
		}
		uuid, _ := t.(string)
		if !isUUID(uuid) {
			return nil, fmt.Errorf("%s: %q is not an event UUID", mispManifest, uuid)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, fmt.Errorf("%s: %w", mispManifest, err)
		}
		names = append(names, strings.ToLower(uuid)+".json")
	}
	return names, nil
}

// file reads one event file: {"Event": …}, or {"response": [{"Event": …}…]}.
func (p *mispParser) file(ctx context.Context, name string, r io.Reader) error {
	dec := json.NewDecoder(io.LimitReader(r, maxMISPEvent))
	bad := func(err error) error {
		p.s.st.Rows++
		return p.s.fail(p.s.st.Rows, ReasonMISPJSON, fmt.Sprintf("%s: %v", name, err))
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		if err == nil {
			err = errors.New("not a JSON object")
		}
		return bad(err)
	}
	found := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return bad(err)
		}
		switch t {
		case "Event":
			found = true
			var ev mispEvent
			if err := dec.Decode(&ev); err != nil {
				return bad(err)
			}
			if err := p.event(&ev); err != nil {
				return err
			}
		case "response":
			found = true
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				return bad(errors.New("response is not a list"))
			}
			for dec.More() {
				if err := ctx.Err(); err != nil {
					return err
				}
				var w struct {
					Event mispEvent `json:"Event"`
				}
				if err := dec.Decode(&w); err != nil {
					return bad(err)
				}
				if err := p.event(&w.Event); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return bad(err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return bad(err)
			}
		}
	}
	if !found {
		return bad(errors.New("no Event in the file"))
	}
	return nil
}

// event turns the attributes of one event (and of its objects) into
// events.
func (p *mispParser) event(e *mispEvent) error {
	evTLP, evTags := tags(e.Tag)
	for i := range e.Attribute {
		if err := p.attribute(e, &e.Attribute[i], "", evTLP, evTags); err != nil {
			return err
		}
	}
	for _, obj := range e.Object {
		for i := range obj.Attribute {
			if err := p.attribute(e, &obj.Attribute[i], obj.Distribution, evTLP, evTags); err != nil {
				return err
			}
		}
	}
	return nil
}

// tags returns the most restricted TLP label among tags, and the tag
// names.
func tags(ts []mispTag) (string, []string) {
	tlp := ""
	var names []string
	for _, t := range ts {
		if t.Name == "" {
			continue
		}
		names = append(names, t.Name)
		if strings.HasPrefix(strings.ToLower(t.Name), "tlp:") {
			if l, ok := tlpLabel(t.Name); ok {
				tlp = stricterTLP(tlp, l)
			}
		}
	}
	return tlp, names
}

// attribute turns one attribute into an event, or a problem saying why
// not.
func (p *mispParser) attribute(e *mispEvent, a *mispAttribute, objDist flex, evTLP string, evTags []string) error {
	st := p.s.st
	st.Rows++
	row := st.Rows
	raw := fmt.Sprintf("%s %s %s %s", e.UUID, a.UUID, a.Type, a.Value)
	tlp, aTags := tags(a.Tag)
	tlp = stricterTLP(evTLP, tlp)
	dist := a.Distribution
	if dist == "" || dist == "5" {
		dist = objDist
	}
	if dist == "" || dist == "5" {
		dist = e.Distribution
	}
	switch {
	case a.Deleted.bool(false):
		return p.s.fail(row, ReasonMISPDeleted, raw)
	case tlp == tlpRed && !p.o.KeepRed:
		return p.s.fail(row, ReasonWithheldRed, raw)
	case dist == "0":
		return p.s.fail(row, ReasonMISPOrgOnly, raw)
	case !a.ToIDS.bool(true) && !p.o.KeepNonIDS:
		return p.s.fail(row, ReasonMISPNotIDS, raw)
	}
	ev := feeds.Event{Feed: p.o.feed(MISP), FeedName: p.o.FeedName, Row: row}
	known, ok := mispValue(&ev, a.Type, a.Value)
	if !known {
		return p.s.fail(row, ReasonMISPType, raw)
	}
	if !ok {
		return p.s.fail(row, ReasonMISPValue, raw)
	}
	ev.Time = mispTime(a, e)
	ev.Severity = map[flex]string{"1": "high", "2": "medium", "3": "low"}[e.ThreatLevelID]
	ev.Taxonomy, ev.Type = mispClass(a.Category, a.Type)
	ev.Identifier = or(p.o.Identifier, a.Type)
	p.o.classify(&ev, MISP)
	add := func(k string, v any) {
		if s, ok := v.(string); ok && s == "" {
			return
		}
		ev.Fields = append(ev.Fields, feeds.Field{Key: k, Value: v})
	}
	add("misp.event_uuid", e.UUID)
	add("misp.attribute_uuid", a.UUID)
	add("event_description.text", e.Info)
	add("comment", a.Comment)
	add("tlp", tlp)
	add("extra.misp_category", a.Category)
	add("extra.misp_type", a.Type)
	add("extra.misp_org", e.Orgc.Name)
	if all := append(slices.Clone(evTags), aTags...); len(all) > 0 {
		add("extra.tags", all)
	}
	if !a.ToIDS.bool(true) {
		add("extra.misp_to_ids", false)
	}
	return p.s.event(&ev)
}

// mispTime is the attribute's first_seen, else its timestamp, else the
// event's timestamp, else the event's date.
func mispTime(a *mispAttribute, e *mispEvent) time.Time {
	if t, ok := parseTime(a.FirstSeen, ""); ok {
		return t
	}
	for _, ts := range []flex{a.Timestamp, e.Timestamp} {
		if n, err := strconv.ParseInt(string(ts), 10, 64); err == nil && n > 0 {
			return time.Unix(n, 0).UTC()
		}
	}
	t, _ := parseTime(e.Date, "")
	return t
}

// mispValue sets the value of an attribute type in ev. known is false
// for a type that is not mapped; ok is false when the value does not
// read.
func mispValue(ev *feeds.Event, typ, value string) (known, ok bool) {
	value = strings.TrimSpace(value)
	two := func(k1, k2 string) bool {
		a, b, found := strings.Cut(value, "|")
		return found && set(ev, k1, a, "") && set(ev, k2, b, "") && a != "" && b != ""
	}
	switch typ {
	case "ip-src", "ip-dst":
		return true, mispIP(ev, typ == "ip-src", value)
	case "ip-src|port", "ip-dst|port":
		side := "source"
		if typ == "ip-dst|port" {
			side = "destination"
		}
		a, port, found := strings.Cut(value, "|")
		return true, found && mispIP(ev, side == "source", a) && set(ev, side+".port", port, "") && port != ""
	case "domain", "hostname":
		return true, value != "" && set(ev, "source.fqdn", value, "")
	case "domain|ip":
		return true, two("source.fqdn", "source.ip")
	case "hostname|port":
		return true, two("source.fqdn", "source.port")
	case "url":
		return true, value != "" && set(ev, "source.url", value, "")
	case "AS":
		return true, value != "" && set(ev, "source.asn", value, "")
	case "email-src":
		return true, strings.Contains(value, "@") && set(ev, "source.account", value, "")
	case "md5", "sha1", "sha256":
		return true, value != "" && set(ev, "malware.hash."+typ, value, "")
	case "filename|md5", "filename|sha1", "filename|sha256":
		name, hash, found := strings.Cut(value, "|")
		if found && name != "" {
			ev.Fields = append(ev.Fields, feeds.Field{Key: "extra.file_name", Value: name})
		}
		return true, found && hash != "" && set(ev, "malware.hash."+strings.TrimPrefix(typ, "filename|"), hash, "")
	}
	return false, false
}

// mispIP sets an address, or a network (MISP allows CIDR in ip-src and
// ip-dst).
func mispIP(ev *feeds.Event, source bool, v string) bool {
	side := "destination"
	if source {
		side = "source"
	}
	if strings.IndexByte(v, '/') < 0 {
		return v != "" && set(ev, side+".ip", v, "")
	}
	pr, ok := parsePrefix(v)
	if !ok {
		return false
	}
	ev.Fields = append(ev.Fields, feeds.Field{Key: side + ".network", Value: pr.String()})
	if pr.IsSingleIP() {
		put(ev, side+".ip", pr.Addr().Unmap())
	}
	return true
}

// mispClass maps an attribute's category and type to a classification;
// "" leaves the options' default (other/blacklist). The table is in
// docs/feeds.md.
func mispClass(category, typ string) (taxonomy, typ2 string) {
	hash := strings.Contains(typ, "md5") || strings.Contains(typ, "sha1") || strings.Contains(typ, "sha256")
	network := !hash && typ != "email-src" && typ != "AS"
	switch category {
	case "Network activity":
		if network && !strings.HasPrefix(typ, "ip-src") {
			return "malicious-code", "c2-server"
		}
	case "Payload delivery":
		switch {
		case typ == "email-src":
			return "fraud", "phishing"
		case network, hash:
			return "malicious-code", "malware-distribution"
		}
	case "Payload installation", "Artifacts dropped":
		if hash {
			return "malicious-code", "malware-distribution"
		}
	case "Social network":
		if typ == "email-src" {
			return "fraud", "phishing"
		}
	}
	return "", ""
}
