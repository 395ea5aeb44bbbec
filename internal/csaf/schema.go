package csaf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The CSAF 2.0 JSON schema and the FIRST CVSS schemas it references are
// third-party files (OASIS, FIRST) that the repository does not ship: they
// are read at run time from a schema directory, compiled once and cached.
// The directory holds
//
//	csaf_json_schema.json      (OASIS csaf_2.0/json_schema/)
//	first/cvss-v2.0.json       (OASIS csaf_2.0/referenced_schema/first/)
//	first/cvss-v3.0.json
//	first/cvss-v3.1.json
//
// The "strict" variants used by test 6.2.20 are derived from these files
// (additionalProperties false wherever properties are listed), so the
// *_strict.json files are not needed.

// SchemaDirEnv is the environment variable that names the schema directory
// when SetSchemaDir was not called.
const SchemaDirEnv = "BELFRY_CSAF_SCHEMAS"

// DefaultSchemaDir is the schema directory used when neither SetSchemaDir
// was called nor SchemaDirEnv is set.
const DefaultSchemaDir = "/usr/share/belfry/csaf/schemas"

// Canonical URLs under which the schemas are registered; the CSAF schema
// refers to the FIRST ones by these URLs.
const (
	schemaURLCSAF   = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
	schemaURLCVSS20 = "https://www.first.org/cvss/cvss-v2.0.json"
	schemaURLCVSS30 = "https://www.first.org/cvss/cvss-v3.0.json"
	schemaURLCVSS31 = "https://www.first.org/cvss/cvss-v3.1.json"
)

var schemaFiles = map[string]string{
	schemaURLCSAF:   "csaf_json_schema.json",
	schemaURLCVSS20: filepath.Join("first", "cvss-v2.0.json"),
	schemaURLCVSS30: filepath.Join("first", "cvss-v3.0.json"),
	schemaURLCVSS31: filepath.Join("first", "cvss-v3.1.json"),
}

// schemaSet is one compiled set of schemas.
type schemaSet struct {
	csaf   *jsonschema.Schema            // the CSAF schema
	strict *jsonschema.Schema            // its strict variant (6.2.20)
	cvss   map[string]*jsonschema.Schema // FIRST schemas by CVSS version ("2.0", "3.0", "3.1")
}

var schemaState struct {
	sync.Mutex
	dir string // set by SetSchemaDir; empty: SchemaDir()
	set *schemaSet
	err error
}

// SchemaDir returns the directory the schemas are (or will be) read from:
// the one given to SetSchemaDir, else $BELFRY_CSAF_SCHEMAS, else
// DefaultSchemaDir.
func SchemaDir() string {
	schemaState.Lock()
	defer schemaState.Unlock()
	return schemaDirLocked()
}

func schemaDirLocked() string {
	if schemaState.dir != "" {
		return schemaState.dir
	}
	if d := os.Getenv(SchemaDirEnv); d != "" {
		return d
	}
	return DefaultSchemaDir
}

// SetSchemaDir reads and compiles the schemas in dir and uses them from
// now on. On error the previous schemas stay in use.
func SetSchemaDir(dir string) error {
	set, err := schemaLoad(dir)
	if err != nil {
		return err
	}
	schemaState.Lock()
	defer schemaState.Unlock()
	schemaState.dir, schemaState.set, schemaState.err = dir, set, nil
	return nil
}

// schemas returns the compiled schemas, loading them from SchemaDir() on
// first use (a failure is cached too).
func schemas() (*schemaSet, error) {
	schemaState.Lock()
	defer schemaState.Unlock()
	if schemaState.set == nil && schemaState.err == nil {
		schemaState.set, schemaState.err = schemaLoad(schemaDirLocked())
	}
	return schemaState.set, schemaState.err
}

// schemaLoad reads and compiles the schemas of dir.
func schemaLoad(dir string) (*schemaSet, error) {
	docs := map[string]any{}
	for url, name := range schemaFiles {
		p := filepath.Join(dir, name)
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("csaf: CSAF schemas not found in %s (missing %s): install them with the OASIS CSAF 2.0 schemas "+
				"(csaf_2.0/json_schema/csaf_json_schema.json and csaf_2.0/referenced_schema/first/cvss-v{2.0,3.0,3.1}.json "+
				"of https://github.com/oasis-tcs/csaf) laid out as csaf_json_schema.json and first/*.json in that directory, "+
				"or point %s (or SetSchemaDir) at such a directory", dir, name, SchemaDirEnv)
		}
		if err != nil {
			return nil, fmt.Errorf("csaf: schema: %w", err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("csaf: schema %s: %w", p, err)
		}
		obj, ok := doc.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("csaf: schema %s: not a JSON object", p)
		}
		// The FIRST files carry ids with a ?YYYYMMDD suffix; the CSAF
		// schema refers to them without it: register them under the URL
		// the CSAF schema uses.
		delete(obj, "id")
		delete(obj, "$id")
		docs[url] = obj
	}
	set := &schemaSet{cvss: map[string]*jsonschema.Schema{}}
	var err error
	if set.csaf, err = schemaCompile(docs, false, schemaURLCSAF); err != nil {
		return nil, err
	}
	if set.strict, err = schemaCompile(docs, true, schemaURLCSAF); err != nil {
		return nil, err
	}
	for v, url := range map[string]string{"2.0": schemaURLCVSS20, "3.0": schemaURLCVSS30, "3.1": schemaURLCVSS31} {
		if set.cvss[v], err = schemaCompile(docs, false, url); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// schemaCompile compiles the schema at url from docs, or its strict
// variant.
func schemaCompile(docs map[string]any, strict bool, url string) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for u, doc := range docs {
		if strict {
			doc = schemaStrict(doc)
		}
		if err := c.AddResource(u, doc); err != nil {
			return nil, fmt.Errorf("csaf: schema %s: %w", u, err)
		}
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("csaf: schema %s: %w", url, err)
	}
	return s, nil
}

// schemaStrict returns a copy of a schema in which every schema object
// that lists properties admits no other property.
func schemaStrict(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v)+1)
		for k, e := range v {
			if k == "enum" || k == "const" || k == "default" || k == "examples" || k == "license" {
				out[k] = e
				continue
			}
			out[k] = schemaStrict(e)
		}
		if p, ok := v["properties"].(map[string]any); ok && p != nil {
			if _, has := v["additionalProperties"]; !has {
				out["additionalProperties"] = false
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = schemaStrict(e)
		}
		return out
	}
	return v
}

var schemaPrinter = message.NewPrinter(language.English)

// schemaFindings turns a validation error into findings, one per failed
// keyword (the leaves of the error tree), with the JSON pointer of the
// instance location below prefix. keep, when not nil, selects the leaves.
func schemaFindings(err error, prefix string, keep func(jsonschema.ErrorKind) bool) []Finding {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Finding{{Path: prefix, Message: err.Error()}}
	}
	var out []Finding
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		if keep != nil && !keep(e.ErrorKind) {
			return
		}
		f := Finding{Path: prefix + schemaPointer(e.InstanceLocation), Message: e.ErrorKind.LocalizedString(schemaPrinter)}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	walk(ve)
	return out
}

// schemaPointer writes tokens as a JSON pointer.
func schemaPointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(t))
	}
	return b.String()
}

// schemaValidate is the schema test: the document against the CSAF schema.
func schemaValidate(d *Doc) []Finding {
	set, err := schemas()
	if err != nil {
		return []Finding{{Path: "", Message: err.Error()}}
	}
	if err := set.csaf.Validate(map[string]any(d.Root)); err != nil {
		return schemaFindings(err, "", nil)
	}
	return nil
}

// schemaAdditional is test 6.2.20: properties the schema does not define
// (the strict variant of the schema, reporting only its
// additionalProperties failures).
func schemaAdditional(d *Doc) []Finding {
	set, err := schemas()
	if err != nil {
		return nil // reported by the schema check
	}
	err = set.strict.Validate(map[string]any(d.Root))
	if err == nil {
		return nil
	}
	return schemaFindings(err, "", func(k jsonschema.ErrorKind) bool {
		_, ok := k.(*kind.AdditionalProperties)
		return ok
	})
}

func init() {
	schemaCheck = schemaValidate
	register("6.2.20", Optional, schemaAdditional)
}

// SchemasReady loads the schemas (if not yet loaded) and reports why they
// cannot be used, or nil.
func SchemasReady() error {
	_, err := schemas()
	return err
}
