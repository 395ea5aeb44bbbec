// Package i18n holds Belfry's message catalogs in Dutch, French, German and
// English, picks a locale for a request, and formats dates and numbers the
// way each language writes them.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Brussels must resolve on machines without zoneinfo
)

// Locales are the languages Belfry speaks, in the order the language
// switcher lists them.
var Locales = []string{"nl", "fr", "de", "en"}

// Default is used when nothing else decides.
const Default = "en"

// Endonyms name each language in itself, for the language switcher.
var Endonyms = map[string]string{"nl": "Nederlands", "fr": "Français", "de": "Deutsch", "en": "English"}

//go:embed catalog/*.json
var catalogFS embed.FS

// Catalog holds the messages of every locale.
type Catalog struct {
	msgs map[string]map[string]string
	tz   *time.Location
}

// Load reads the embedded catalogs: files named AREA.LOCALE.json (one area
// per capability, so that each capability owns its messages). Every key must
// exist in every locale and be defined once; a missing translation is a
// start-up error, not a runtime surprise.
func Load() (*Catalog, error) {
	c := &Catalog{msgs: map[string]map[string]string{}}
	for _, l := range Locales {
		c.msgs[l] = map[string]string{}
	}
	files, err := fs.Glob(catalogFS, "catalog/*.json")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		base := strings.TrimSuffix(path.Base(f), ".json")
		_, l, ok := strings.Cut(base, ".")
		if !ok || !Supported(l) {
			return nil, fmt.Errorf("i18n: %s: name must be AREA.LOCALE.json with a locale of %v", f, Locales)
		}
		b, err := catalogFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", f, err)
		}
		for k, v := range m {
			if _, dup := c.msgs[l][k]; dup {
				return nil, fmt.Errorf("i18n: %s: key %q defined twice", f, k)
			}
			c.msgs[l][k] = v
		}
	}
	if missing := c.Missing(); len(missing) > 0 {
		return nil, fmt.Errorf("i18n: untranslated keys: %s", strings.Join(missing, ", "))
	}
	tz, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		return nil, err
	}
	c.tz = tz
	return c, nil
}

// MustLoad is Load for tests and start-up code where a bad catalog is a bug.
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Missing lists "locale:key" for every key that some locale lacks.
func (c *Catalog) Missing() []string {
	all := map[string]bool{}
	for _, m := range c.msgs {
		for k := range m {
			all[k] = true
		}
	}
	var out []string
	for k := range all {
		for _, l := range Locales {
			if _, ok := c.msgs[l][k]; !ok {
				out = append(out, l+":"+k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Keys lists every message key.
func (c *Catalog) Keys() []string {
	var out []string
	for k := range c.msgs[Default] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Has reports whether key exists.
func (c *Catalog) Has(key string) bool {
	_, ok := c.msgs[Default][key]
	return ok
}

// Zone is the time zone in which times are shown (Europe/Brussels).
func (c *Catalog) Zone() *time.Location { return c.tz }

// T returns the message for key in locale with its {name} placeholders
// filled from args. An unknown key comes back as the key itself, so that a
// test can spot it on a page.
func (c *Catalog) T(locale, key string, args map[string]any) string {
	m, ok := c.msgs[locale]
	if !ok {
		m = c.msgs[Default]
	}
	s, ok := m[key]
	if !ok {
		return key
	}
	if len(args) == 0 || !strings.Contains(s, "{") {
		return s
	}
	for k, v := range args {
		s = strings.ReplaceAll(s, "{"+k+"}", fmt.Sprint(v))
	}
	return s
}

// Supported reports whether l is one of Belfry's locales.
func Supported(l string) bool {
	for _, x := range Locales {
		if x == l {
			return true
		}
	}
	return false
}

// Negotiate picks the best supported locale from an Accept-Language header,
// or "" when none of them is acceptable.
func Negotiate(header string) string {
	type cand struct {
		tag string
		q   float64
		pos int
	}
	var cs []cand
	for i, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		tag, params, _ := strings.Cut(part, ";")
		q := 1.0
		if p := strings.TrimSpace(params); strings.HasPrefix(p, "q=") {
			if _, err := fmt.Sscanf(p[2:], "%g", &q); err != nil {
				q = 0
			}
		}
		if q <= 0 {
			continue
		}
		cs = append(cs, cand{strings.ToLower(strings.TrimSpace(tag)), q, i})
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].q > cs[j].q })
	for _, c := range cs {
		base, _, _ := strings.Cut(c.tag, "-")
		if Supported(base) {
			return base
		}
	}
	return ""
}
