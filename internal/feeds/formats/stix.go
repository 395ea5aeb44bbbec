package formats

// STIX 2.1 bundles: indicators whose pattern reduces to values, and the
// cyber-observable objects of addresses, domains, URLs and files.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/belfry-cert/belfry/internal/feeds"
)

// STIX problem reasons (those of patterns start with "pattern:").
const (
	ReasonSTIXObject      = "invalid STIX object"
	ReasonSTIXPatternType = "unsupported pattern_type"
	ReasonSTIXPath        = "pattern: unsupported object path"
	ReasonSTIXValue       = "invalid value"
	ReasonSTIXRevoked     = "skipped: revoked"
	ReasonSTIXBenign      = "skipped: benign indicator"
)

// tlpMarkings are the marking-definition ids of TLP, as published with
// STIX 2.1 (TLP 1.0) and by OASIS for TLP 2.0.
var tlpMarkings = map[string]string{
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "TLP:CLEAR", // TLP:WHITE
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "TLP:GREEN",
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "TLP:AMBER",
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "TLP:RED",
	"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "TLP:CLEAR",
	"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "TLP:GREEN",
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "TLP:AMBER",
	"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "TLP:AMBER+STRICT",
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "TLP:RED",
}

// maxSTIXObject bounds one object of a bundle.
const maxSTIXObject = 16 << 20

type stixObject struct {
	Type              string                     `json:"type"`
	ID                string                     `json:"id"`
	Name              string                     `json:"name"`
	Pattern           string                     `json:"pattern"`
	PatternType       string                     `json:"pattern_type"`
	ValidFrom         string                     `json:"valid_from"`
	IndicatorTypes    []string                   `json:"indicator_types"`
	Revoked           bool                       `json:"revoked"`
	Value             string                     `json:"value"`
	Hashes            map[string]string          `json:"hashes"`
	ObjectMarkingRefs []string                   `json:"object_marking_refs"`
	FirstObserved     string                     `json:"first_observed"`
	Objects           map[string]json.RawMessage `json:"objects"` // observed-data as STIX 2.0 wrote it
	DefinitionType    string                     `json:"definition_type"`
	Definition        struct {
		TLP string `json:"tlp"`
	} `json:"definition"`
	Extensions map[string]struct {
		TLP string `json:"tlp_2_0"`
	} `json:"extensions"`
}

type stixParser struct {
	o        Options
	s        *sink
	markings map[string]string // marking-definition id → TLP label, from the bundle
}

// ParseSTIX reads a STIX 2.1 bundle, one object at a time (a bundle may
// be large): each indicator whose pattern reduces to values gives one
// event per value, and each ipv4-addr, ipv6-addr, domain-name, url,
// email-addr and file object gives one event. Other objects (identity,
// malware, relationship, report…) are not events and are passed over.
// The TLP marking of an object (object_marking_refs to a TLP marking
// definition) is the "tlp" field; TLP:RED objects are withheld unless
// o.KeepRed. Event.Row is the object's position in the bundle.
func ParseSTIX(ctx context.Context, r io.Reader, o Options, emit func(*feeds.Event) error, problem func(feeds.Problem) error) (Stats, error) {
	var st Stats
	p := &stixParser{o: o, s: &sink{st: &st, emit: emit, problem: problem}, markings: map[string]string{}}
	dec := json.NewDecoder(r)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return st, errors.New("not a STIX bundle: the input is not a JSON object")
	}
	bundle := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return st, fmt.Errorf("reading the bundle: %w", err)
		}
		switch t {
		case "type":
			var v string
			if err := dec.Decode(&v); err != nil || v != "bundle" {
				return st, fmt.Errorf("not a STIX bundle: type is %q", v)
			}
			bundle = true
		case "objects":
			if err := p.objects(ctx, dec); err != nil {
				return st, err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return st, fmt.Errorf("reading the bundle: %w", err)
			}
		}
	}
	if !bundle {
		return st, errors.New("not a STIX bundle: no \"type\": \"bundle\"")
	}
	return st, nil
}

// objects reads the objects array, one object at a time.
func (p *stixParser) objects(ctx context.Context, dec *json.Decoder) error {
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return errors.New("reading the bundle: objects is not a list")
	}
	for n := 1; dec.More(); n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("reading object %d of the bundle: %w", n, err)
		}
		if len(raw) > maxSTIXObject {
			p.s.st.Rows++
			if err := p.s.fail(n, ReasonSTIXObject, "object larger than 16 MiB"); err != nil {
				return err
			}
			continue
		}
		var obj stixObject
		if err := json.Unmarshal(raw, &obj); err != nil {
			p.s.st.Rows++
			if err := p.s.fail(n, ReasonSTIXObject, string(raw)); err != nil {
				return err
			}
			continue
		}
		if err := p.object(n, &obj, raw); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}

// object handles one top-level object.
func (p *stixParser) object(n int, obj *stixObject, raw []byte) error {
	switch obj.Type {
	case "marking-definition":
		if l := markingLabel(obj); l != "" {
			p.markings[obj.ID] = l
		}
		return nil
	case "indicator":
		return p.indicator(n, obj)
	case "observed-data":
		// STIX 2.0 embedded its observables; 2.1 refers to top-level
		// objects, read on their own.
		for _, o := range obj.Objects {
			var sco stixObject
			if json.Unmarshal(o, &sco) != nil || !isSCO(sco.Type) {
				continue
			}
			sco.ObjectMarkingRefs = obj.ObjectMarkingRefs
			if sco.FirstObserved == "" {
				sco.FirstObserved = obj.FirstObserved
			}
			if err := p.sco(n, &sco, string(o)); err != nil {
				return err
			}
		}
		return nil
	}
	if isSCO(obj.Type) {
		return p.sco(n, obj, string(raw))
	}
	return nil
}

func isSCO(t string) bool {
	switch t {
	case "ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file":
		return true
	}
	return false
}

// markingLabel is the TLP label a marking definition stands for, or "".
func markingLabel(obj *stixObject) string {
	if l, ok := tlpMarkings[obj.ID]; ok {
		return l
	}
	if obj.DefinitionType == "tlp" {
		if l, ok := tlpLabel(obj.Definition.TLP); ok {
			return l
		}
	}
	for _, e := range obj.Extensions {
		if l, ok := tlpLabel(e.TLP); ok && e.TLP != "" {
			return l
		}
	}
	if l, ok := tlpLabel(obj.Name); ok && strings.HasPrefix(strings.ToUpper(obj.Name), "TLP:") {
		return l
	}
	return ""
}

// tlp is the most restricted TLP label an object is marked with. A
// marking definition that comes after the object in the bundle is known
// only when it is one of the published TLP ids.
func (p *stixParser) tlp(obj *stixObject) string {
	l := ""
	for _, ref := range obj.ObjectMarkingRefs {
		m, ok := tlpMarkings[ref]
		if !ok {
			m = p.markings[ref]
		}
		l = stricterTLP(l, m)
	}
	return l
}

// start checks what every object must pass before it gives events: not
// revoked, not TLP:RED (unless kept). ok is false when the object was
// reported as a problem.
func (p *stixParser) start(n int, obj *stixObject, raw string) (ev feeds.Event, ok bool, err error) {
	p.s.st.Rows++
	tlp := p.tlp(obj)
	switch {
	case obj.Revoked:
		return ev, false, p.s.fail(n, ReasonSTIXRevoked, raw)
	case tlp == tlpRed && !p.o.KeepRed:
		return ev, false, p.s.fail(n, ReasonWithheldRed, raw)
	}
	ev = feeds.Event{Feed: p.o.feed(STIX), FeedName: p.o.FeedName, Row: n}
	if tlp != "" {
		ev.Fields = append(ev.Fields, feeds.Field{Key: "tlp", Value: tlp})
	}
	ev.Fields = append(ev.Fields, feeds.Field{Key: "extra.stix_id", Value: obj.ID})
	return ev, true, nil
}

// indicator emits one event per value of a pattern that reduces to
// values.
func (p *stixParser) indicator(n int, obj *stixObject) error {
	raw := obj.ID + " " + obj.Pattern
	base, ok, err := p.start(n, obj, raw)
	if !ok {
		return err
	}
	if pt := obj.PatternType; pt != "" && pt != "stix" {
		return p.s.fail(n, ReasonSTIXPatternType, pt+": "+raw)
	}
	for _, t := range obj.IndicatorTypes {
		switch t {
		case "benign":
			return p.s.fail(n, ReasonSTIXBenign, raw)
		case "compromised":
			base.Taxonomy, base.Type = "intrusions", "system-compromise"
		case "anonymization":
			base.Taxonomy, base.Type = "other", "tor"
		}
	}
	base.Time, _ = parseTime(obj.ValidFrom, "")
	if obj.Name != "" {
		base.Fields = append(base.Fields, feeds.Field{Key: "event_description.text", Value: obj.Name})
	}
	cs, err := reducePattern(obj.Pattern)
	if err != nil {
		if !isPatternError(err) {
			return err
		}
		return p.s.fail(n, err.Error(), raw)
	}
	// Check every value first: a pattern gives all its events or none.
	evs := make([]feeds.Event, 0, len(cs))
	for _, c := range cs {
		ev := base
		ev.Fields = append([]feeds.Field(nil), base.Fields...)
		key, ok := stixPathKey(c.path)
		if !ok {
			return p.s.fail(n, ReasonSTIXPath, raw)
		}
		if !stixValue(&ev, key, c.value) {
			return p.s.fail(n, ReasonSTIXValue, raw)
		}
		evs = append(evs, ev)
	}
	for i := range evs {
		p.o.classify(&evs[i], STIX)
		if err := p.s.event(&evs[i]); err != nil {
			return err
		}
	}
	return nil
}

// sco emits the event of an observable.
func (p *stixParser) sco(n int, obj *stixObject, raw string) error {
	ev, ok, err := p.start(n, obj, raw)
	if !ok {
		return err
	}
	ev.Time, _ = parseTime(obj.FirstObserved, "")
	good := false
	if obj.Type == "file" {
		for name, h := range obj.Hashes {
			key, ok := stixPathKey("file:hashes." + name)
			if ok && set(&ev, key, h, "") && h != "" {
				good = true
			}
		}
	} else {
		key, _ := stixPathKey(obj.Type + ":value")
		good = obj.Value != "" && stixValue(&ev, key, obj.Value)
	}
	if !good {
		return p.s.fail(n, ReasonSTIXValue, raw)
	}
	p.o.classify(&ev, STIX)
	return p.s.event(&ev)
}

// stixPathKey maps an object path to the IntelMQ key its value fills.
func stixPathKey(path string) (string, bool) {
	path = strings.ReplaceAll(path, "'", "")
	switch path {
	case "ipv4-addr:value", "ipv6-addr:value":
		return "source.ip", true
	case "domain-name:value":
		return "source.fqdn", true
	case "url:value":
		return "source.url", true
	case "email-addr:value":
		return "source.account", true
	case "autonomous-system:number":
		return "source.asn", true
	}
	if h, ok := strings.CutPrefix(path, "file:hashes."); ok {
		switch strings.ToUpper(strings.ReplaceAll(h, "-", "")) {
		case "MD5":
			return "malware.hash.md5", true
		case "SHA1":
			return "malware.hash.sha1", true
		case "SHA256":
			return "malware.hash.sha256", true
		}
	}
	return "", false
}

// stixValue sets a value; an address may be a network (ipv4-addr values
// are addresses or CIDR blocks).
func stixValue(ev *feeds.Event, key, v string) bool {
	if key == "source.ip" && strings.IndexByte(v, '/') >= 0 {
		return mispIP(ev, true, v)
	}
	return strings.TrimSpace(v) != "" && set(ev, key, v, "")
}
