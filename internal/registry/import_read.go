package registry

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/errs"
)

// ---- reading files ----

// errFileTooLarge ends the reading of a file over MaxImportBytes.
var errFileTooLarge = errors.New("registry: import file too large")

// capReader fails once more than left bytes have been read.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errFileTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return 0, errFileTooLarge
	}
	return n, err
}

func tooLarge(err error) error {
	if errors.Is(err, errFileTooLarge) {
		return &errs.Error{Kind: errs.TooLarge, Code: "err.import.too_large", Args: map[string]any{"max": "20 MB"}}
	}
	return fmt.Errorf("registry: read import: %w", err)
}

func tooManyRows() error {
	return &errs.Error{Kind: errs.TooLarge, Code: "err.import.too_many_rows", Args: map[string]any{"max": MaxImportRows}}
}

// fileError records a fault of the file as a whole.
func (rep *ImportReport) fileError(row int, field, code string, args map[string]any) {
	rep.Errors = append(rep.Errors, ImportError{Row: row, Field: field, Code: code, args: args})
}

// readCSV reads a CSV file with a header row. Faults of the header and
// the syntax go to rep; faults of a row go to its change.
func readCSV(r io.Reader, rep *ImportReport) ([]*change, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	// Excel in Belgian and French locales separates with semicolons.
	head, err := br.Peek(8 << 10)
	if err != nil && errors.Is(err, errFileTooLarge) {
		return nil, tooLarge(err)
	}
	if line, _, _ := bytes.Cut(head, []byte("\n")); bytes.Count(line, []byte(";")) > bytes.Count(line, []byte(",")) {
		cr.Comma = ';'
	}
	header, err := cr.Read()
	switch {
	case err == io.EOF:
		rep.fileError(0, "", "err.import.empty", nil)
		return nil, nil
	case errors.Is(err, errFileTooLarge):
		return nil, tooLarge(err)
	case err != nil:
		rep.fileError(0, "", "err.import.csv_syntax", map[string]any{"line": 1})
		return nil, nil
	}
	cols, ok := readHeader(header, rep)
	if !ok {
		return nil, nil
	}
	var out []*change
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if errors.Is(err, errFileTooLarge) {
			return nil, tooLarge(err)
		}
		if err == nil && blank(rec) {
			continue // a spreadsheet's empty row: numbered, not counted
		}
		if len(out) == MaxImportRows {
			return nil, tooManyRows()
		}
		c := &change{row: row}
		out = append(out, c)
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			c.fail("", "err.import.csv_syntax", map[string]any{"line": pe.StartLine})
			c.unread = true
			return out, nil // the reader cannot find its way back
		case err != nil:
			return nil, tooLarge(err)
		case len(rec) != len(cols):
			line, _ := cr.FieldPos(0)
			c.fail("", "err.import.field_count", map[string]any{"got": len(rec), "want": len(cols), "line": line})
			c.unread = true
		default:
			c.readCSVRow(rec, cols)
		}
	}
	return out, nil
}

// readHeader maps the header to columns (nil for an unknown one). It
// reports unknown, repeated and missing columns; without a required
// column the rows are not read.
func readHeader(header []string, rep *ImportReport) ([]*csvColumn, bool) {
	cols := make([]*csvColumn, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // a byte-order mark from a spreadsheet
		}
		name := strings.ToLower(strings.TrimSpace(h))
		col, ok := columnIndex(name)
		switch {
		case !ok:
			rep.fileError(0, h, "err.import.unknown_column", map[string]any{"column": h})
		case seen[name]:
			rep.fileError(0, h, "err.import.duplicate_column", map[string]any{"column": name})
		default:
			cols[i] = &col
		}
		seen[name] = true
	}
	ok := true
	for _, name := range requiredColumns {
		if !seen[name] {
			rep.fileError(0, name, "err.import.missing_column", map[string]any{"column": name})
			ok = false
		}
	}
	return cols, ok
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

func (c *change) readCSVRow(rec []string, cols []*csvColumn) {
	for i, col := range cols {
		if col == nil || col.set == nil {
			continue
		}
		v := rec[i]
		if !utf8.ValidString(v) {
			c.fail(col.name, "err.import.encoding", nil)
			continue
		}
		col.set(c, csvUnescape(strings.TrimSpace(v)))
	}
	hasGroup := false
	for _, col := range cols {
		if col != nil && strings.HasPrefix(col.name, "group_") {
			hasGroup = true
		}
	}
	if hasGroup {
		c.edit(dropEmptyGroup)
	}
	for _, role := range ContactRoles {
		if cells := c.contacts[role]; cells != nil {
			c.edit(contactEdit(role, cells))
		}
	}
}

// jsonInput is an element of "registrations" on import: the export shape,
// where the computed members are accepted and ignored.
type jsonInput struct {
	EnterpriseNumber *string         `json:"enterprise_number"`
	LegalName        *string         `json:"legal_name"`
	Status           json.RawMessage `json:"status"`
	Class            json.RawMessage `json:"class"`
	Override         json.RawMessage `json:"override"`
	Classification   json.RawMessage `json:"classification"`
	Profile          *Profile        `json:"profile"`
	Prefixes         []string        `json:"prefixes"`
	ASNs             []string        `json:"asns"`
	Domains          []string        `json:"domains"`
	SubmittedAt      json.RawMessage `json:"submitted_at"`
	ApprovedAt       json.RawMessage `json:"approved_at"`
	UpdatedAt        json.RawMessage `json:"updated_at"`
}

// readJSON reads {"registrations": [...]} one element at a time.
func readJSON(r io.Reader, rep *ImportReport) ([]*change, error) {
	dec := json.NewDecoder(r)
	var out []*change
	// malformed ends the reading at the row being read (0: outside the
	// list of registrations).
	malformed := func(row int, err error) ([]*change, error) {
		if errors.Is(err, errFileTooLarge) {
			return nil, tooLarge(err)
		}
		rep.fileError(row, "", "err.import.json_malformed", map[string]any{"offset": dec.InputOffset()})
		return out, nil
	}
	if t, err := dec.Token(); err == io.EOF {
		rep.fileError(0, "", "err.import.empty", nil)
		return nil, nil
	} else if err != nil {
		return malformed(0, err)
	} else if t != json.Delim('{') {
		rep.fileError(0, "", "err.import.json_shape", nil)
		return nil, nil
	}
	found := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return malformed(0, err)
		}
		key, _ := t.(string)
		if key != "registrations" || found {
			code := "err.import.unknown_field"
			if found && key == "registrations" {
				code = "err.import.json_shape"
			}
			rep.fileError(0, key, code, map[string]any{"field": key})
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return malformed(0, err)
			}
			continue
		}
		found = true
		if t, err := dec.Token(); err != nil {
			return malformed(0, err)
		} else if t != json.Delim('[') {
			rep.fileError(0, "registrations", "err.import.json_shape", nil)
			return nil, nil
		}
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return malformed(len(out)+1, err)
			}
			if len(out) == MaxImportRows {
				return nil, tooManyRows()
			}
			c := &change{row: len(out) + 1, json: true}
			out = append(out, c)
			c.readJSON(raw)
		}
		if _, err := dec.Token(); err != nil {
			return malformed(0, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return malformed(0, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if errors.Is(err, errFileTooLarge) {
			return nil, tooLarge(err)
		}
		rep.fileError(0, "", "err.import.json_trailing", nil)
	}
	if !found {
		rep.fileError(0, "registrations", "err.import.json_shape", nil)
	}
	return out, nil
}

func (c *change) readJSON(raw json.RawMessage) {
	unknownFields(raw, reflect.TypeFor[jsonInput](), "", func(f string) {
		c.fail(f, "err.import.unknown_field", map[string]any{"field": f})
	})
	var in jsonInput
	if err := json.Unmarshal(raw, &in); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) || te.Field == "" {
			c.fail("", "err.import.json_shape", nil)
			c.unread = true
			return
		}
		c.fail(jsonPath(te.Field), wantCode(te.Type), nil)
	}
	if in.EnterpriseNumber != nil {
		c.setNumber(strings.TrimSpace(*in.EnterpriseNumber))
	} else {
		c.fail("enterprise_number", "err.import.enterprise_number_required", nil)
	}
	c.name = in.LegalName
	if in.Profile != nil {
		p := *in.Profile
		c.edit(func(cur *Profile) {
			tasks := cur.Tasks
			*cur = cloneProfile(p)
			if cur.Tasks == nil {
				cur.Tasks = tasks
			}
		})
	}
	c.readOverride(in.Override)
	for _, l := range []struct {
		name string
		kind constituency.Kind
		vals []string
	}{{"prefixes", constituency.KindPrefix, in.Prefixes}, {"asns", constituency.KindASN, in.ASNs}, {"domains", constituency.KindDomain, in.Domains}} {
		for i, v := range l.vals {
			c.addClaim(itemField(l.name, i), l.kind, v)
		}
	}
}

// readOverride reads the "override" member: absent keeps the override,
// null clears it, an object sets it (by_user_id and at are ignored).
func (c *change) readOverride(raw json.RawMessage) {
	if len(raw) == 0 {
		return
	}
	var o *Override
	unknownFields(raw, reflect.TypeFor[Override](), "override.", func(f string) {
		c.fail(f, "err.import.unknown_field", map[string]any{"field": f})
	})
	if err := json.Unmarshal(raw, &o); err != nil {
		c.fail("override", "err.import.want_object", nil)
		return
	}
	var cls, just string
	if o != nil {
		cls, just = o.Class, o.Justification
	}
	c.ovClass, c.ovJust = &cls, &just
}

// unknownFields reports every member of the JSON value raw that type t
// does not define, with its path, down through objects and lists of
// objects. Values of the wrong type are left to the decoder.
func unknownFields(raw []byte, t reflect.Type, path string, report func(field string)) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && t != reflect.TypeFor[time.Time]():
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return
		}
		fields := jsonFields(t)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			ft, ok := fields[k]
			if !ok {
				report(path + k)
				continue
			}
			unknownFields(m[k], ft, path+k+".", report)
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return
		}
		for i, item := range items {
			unknownFields(item, t.Elem(), fmt.Sprintf("%s[%d].", strings.TrimSuffix(path, "."), i), report)
		}
	}
}

// jsonFields maps the JSON member names of struct type t to their types,
// following embedded structs as encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		switch {
		case sf.Anonymous && name == "":
			maps.Copy(out, jsonFields(sf.Type))
		case !sf.IsExported() || name == "-":
		case name == "":
			out[sf.Name] = sf.Type
		default:
			out[name] = sf.Type
		}
	}
	return out
}

// jsonPath drops from a decoder's field path the Go names of embedded
// structs (like Figures in nis2.Facts): every JSON name here is lower-case.
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p != "" && p[0] >= 'A' && p[0] <= 'Z' }), ".")
}

// wantCode names the kind of value a JSON member expects.
func wantCode(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int64:
		return "err.import.want_number"
	case reflect.Bool:
		return "err.import.want_bool"
	case reflect.String:
		return "err.import.want_text"
	case reflect.Slice:
		return "err.import.want_list"
	}
	return "err.import.want_object"
}

func cloneProfile(p Profile) Profile {
	var out Profile
	b, err := json.Marshal(p)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		panic("registry: clone profile: " + err.Error()) // a Profile always round-trips
	}
	return out
}
