// Package shadowserver parses Shadowserver's CSV reports into harmonised
// feeds.Event values, driven by the machine-readable mapping Shadowserver
// publishes for IntelMQ (the intelmq.json of its report_schema project).
//
// The schema is data, never code: it is loaded from a file (LoadSchema),
// and Belfry does not embed a copy. Each report type of the schema names
// its feed, its file-name stem, constant fields and the columns to map,
// each with one of a small fixed set of converters that follow IntelMQ's
// (see converters.go). Parse streams one file in constant memory.
package shadowserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Schema is a loaded and validated Shadowserver report schema.
type Schema struct {
	// Created is the schema's _meta.date_created, as given ("" if absent).
	Created string
	reports map[string]*Report // by schema key
	byStem  map[string]*Report // by file-name stem
	byFeed  map[string]*Report // by feed name, lower case
}

// Report is one report type of the schema.
type Report struct {
	Key      string            // the schema's key ("event_sinkhole_http")
	Stem     string            // file_name: the type in file names ("event4_sinkhole_http")
	FeedName string            // feed_name: IntelMQ's feed.name ("Sinkhole-Events-HTTP IPv4")
	URL      string            // documentation
	Constant map[string]string // constant_fields
	Required []Mapping
	Optional []Mapping
}

// Mapping is one [key, column, converter, with-row] entry of a report.
type Mapping struct {
	Key       string // harmonised key; "extra." means extra.<Column>
	Column    string
	Converter string // "" for none
	WithRow   bool   // the converter also reads other columns of the row
}

// keyRE is IntelMQ's rule for harmonised key names.
var keyRE = regexp.MustCompile(`^[a-z_][a-z_0-9]+(\.[a-z_0-9]+)*$`)

// LoadSchemaFile reads a schema from a file.
func LoadSchemaFile(path string) (*Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := LoadSchema(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// LoadSchema reads and validates a schema in intelmq.json format. Every
// problem found is reported, one per line: an unknown converter, a
// missing feed name or file-name stem, a duplicate stem, a bad key.
func LoadSchema(r io.Reader) (*Schema, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(io.LimitReader(r, 64<<20))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("not a Shadowserver schema (intelmq.json): %w", err)
	}
	s := &Schema{reports: map[string]*Report{}, byStem: map[string]*Report{}, byFeed: map[string]*Report{}}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for key, msg := range raw {
		if key == "_meta" {
			var meta struct {
				Created string `json:"date_created"`
			}
			if err := json.Unmarshal(msg, &meta); err == nil {
				s.Created = meta.Created
			}
			continue
		}
		var in struct {
			FeedName string            `json:"feed_name"`
			FileName string            `json:"file_name"`
			URL      string            `json:"url"`
			Constant map[string]string `json:"constant_fields"`
			Required [][]any           `json:"required_fields"`
			Optional [][]any           `json:"optional_fields"`
		}
		if err := json.Unmarshal(msg, &in); err != nil {
			bad("report %s: %v", key, err)
			continue
		}
		rep := &Report{Key: key, Stem: in.FileName, FeedName: in.FeedName, URL: in.URL, Constant: in.Constant}
		if rep.FeedName == "" {
			bad("report %s: no feed_name", key)
		}
		if rep.Stem == "" || strings.ContainsAny(rep.Stem, "-./ ") {
			bad("report %s: file_name %q is not a report type as used in file names", key, rep.Stem)
		}
		for k := range rep.Constant {
			if !keyRE.MatchString(k) {
				bad("report %s: constant field %q is not a harmonised key", key, k)
			}
		}
		var err error
		if rep.Required, err = mappings(in.Required); err != nil {
			bad("report %s: required_fields: %v", key, err)
		}
		if rep.Optional, err = mappings(in.Optional); err != nil {
			bad("report %s: optional_fields: %v", key, err)
		}
		if len(rep.Required) == 0 && len(rep.Optional) == 0 {
			bad("report %s: no fields", key)
		}
		if o, ok := s.byStem[rep.Stem]; ok && rep.Stem != "" {
			bad("reports %s and %s have the same file_name %q", o.Key, key, rep.Stem)
		}
		s.reports[key] = rep
		s.byStem[rep.Stem] = rep
		s.byFeed[strings.ToLower(rep.FeedName)] = rep
	}
	if len(s.reports) == 0 && len(problems) == 0 {
		problems = append(problems, "no report types")
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, errors.New("invalid Shadowserver schema:\n  " + strings.Join(problems, "\n  "))
	}
	return s, nil
}

func mappings(in [][]any) ([]Mapping, error) {
	out := make([]Mapping, 0, len(in))
	for i, e := range in {
		if len(e) < 2 || len(e) > 4 {
			return nil, fmt.Errorf("entry %d: want [key, column, converter?, with_row?], got %d items", i+1, len(e))
		}
		var m Mapping
		var ok bool
		if m.Key, ok = e[0].(string); !ok {
			// IntelMQ allows false: "ignore this column".
			if b, isBool := e[0].(bool); !isBool || b {
				return nil, fmt.Errorf("entry %d: key %v is not a string", i+1, e[0])
			}
		}
		if m.Column, ok = e[1].(string); !ok || m.Column == "" {
			return nil, fmt.Errorf("entry %d: column %v is not a name", i+1, e[1])
		}
		if m.Key != "" && m.Key != "extra." && !keyRE.MatchString(m.Key) {
			return nil, fmt.Errorf("entry %d: key %q is not a harmonised key", i+1, m.Key)
		}
		if len(e) > 2 {
			if m.Converter, ok = e[2].(string); !ok {
				return nil, fmt.Errorf("entry %d (%s): converter %v is not a name", i+1, m.Column, e[2])
			}
			if _, known := converters[m.Converter]; !known {
				return nil, fmt.Errorf("entry %d (%s): unknown converter %q", i+1, m.Column, m.Converter)
			}
		}
		if len(e) > 3 {
			if m.WithRow, ok = e[3].(bool); !ok {
				return nil, fmt.Errorf("entry %d (%s): with-row flag %v is not a boolean", i+1, m.Column, e[3])
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// Len returns the number of report types.
func (s *Schema) Len() int { return len(s.reports) }

// Reports returns the report types sorted by file-name stem.
func (s *Schema) Reports() []*Report {
	out := make([]*Report, 0, len(s.reports))
	for _, r := range s.reports {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Report) int { return strings.Compare(a.Stem, b.Stem) })
	return out
}

// Report finds a report type by the name a person would give: the
// file-name stem ("event4_sinkhole"), the schema key ("event_sinkhole")
// or the feed name ("Sinkhole-Events IPv4", any case).
func (s *Schema) Report(name string) (*Report, bool) {
	if r, ok := s.byStem[name]; ok {
		return r, true
	}
	if r, ok := s.reports[name]; ok {
		return r, true
	}
	r, ok := s.byFeed[strings.ToLower(name)]
	return r, ok
}

// ErrUnknownFileName is returned by Detect for a file name that does not
// carry a report type of the schema.
var ErrUnknownFileName = errors.New("the file name does not carry a known Shadowserver report type")

// Detect finds the report type of a file from its name, as Shadowserver
// names its files (report-filename.md): YYYY-MM-DD-<type>-<rest>.csv,
// also with a .gz or .zip suffix and with a directory. The date is
// optional (as in IntelMQ), and so is the rest when the type is the whole
// name ("scan_http.csv").
func (s *Schema) Detect(filename string) (*Report, error) {
	stem, ok := FileType(filename)
	if !ok {
		return nil, fmt.Errorf("%q: %w", filename, ErrUnknownFileName)
	}
	r, ok := s.byStem[stem]
	if !ok {
		return nil, fmt.Errorf("%q: report type %q is not in the schema: %w", filename, stem, ErrUnknownFileName)
	}
	return r, nil
}

// FileType returns the report type a Shadowserver file name carries:
// "scan_http" for "2026-03-01-scan_http-belgium-geo.csv.gz".
func FileType(filename string) (string, bool) {
	name := filename
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	for _, suf := range []string{".gz", ".zip"} {
		if len(name) > len(suf) && strings.EqualFold(name[len(name)-len(suf):], suf) {
			name = name[:len(name)-len(suf)]
			break
		}
	}
	if len(name) <= 4 || !strings.EqualFold(name[len(name)-4:], ".csv") {
		return "", false
	}
	name = name[:len(name)-4]
	if len(name) >= 11 && isDate(name[:10]) && name[10] == '-' {
		name = name[11:]
	}
	typ, _, _ := strings.Cut(name, "-")
	if typ == "" {
		return "", false
	}
	for i := 0; i < len(typ); i++ {
		c := typ[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c >= 'A' && c <= 'Z') {
			return "", false
		}
	}
	return typ, true
}

// isDate reports whether s has the shape YYYY-MM-DD.
func isDate(s string) bool {
	for i := 0; i < 10; i++ {
		if i == 4 || i == 7 {
			if s[i] != '-' {
				return false
			}
		} else if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
