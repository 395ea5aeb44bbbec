package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
)

//go:embed all:templates
var templateFS embed.FS

// renderer holds, per locale, one template set per page: the layout and
// partials plus the page's own file.
type renderer struct {
	cat     *i18n.Catalog
	sources []fs.FS
	pages   map[string]map[string]*template.Template // locale -> page -> set
}

func newRenderer(cat *i18n.Catalog) *renderer { return &renderer{cat: cat} }

func (rd *renderer) add(fsys fs.FS) { rd.sources = append(rd.sources, fsys) }

// parse builds every page in every locale; a template that does not parse
// or that names a missing message key stops the start-up.
func (rd *renderer) parse() error {
	type file struct {
		name string
		body string
	}
	var layouts, pages []file
	for _, src := range rd.sources {
		err := fs.WalkDir(src, "templates", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
				return err
			}
			b, err := fs.ReadFile(src, p)
			if err != nil {
				return err
			}
			name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")
			if strings.HasPrefix(path.Base(name), "_") {
				layouts = append(layouts, file{name, string(b)})
			} else {
				pages = append(pages, file{name, string(b)})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	rd.pages = map[string]map[string]*template.Template{}
	for _, l := range i18n.Locales {
		base := template.New("").Funcs(rd.funcs(l))
		for _, f := range layouts {
			if _, err := base.New(f.name).Parse(f.body); err != nil {
				return fmt.Errorf("web: template %s: %w", f.name, err)
			}
		}
		rd.pages[l] = map[string]*template.Template{}
		for _, f := range pages {
			t, err := base.Clone()
			if err == nil {
				_, err = t.New(f.name).Parse(f.body)
			}
			if err != nil {
				return fmt.Errorf("web: template %s: %w", f.name, err)
			}
			rd.pages[l][f.name] = t
		}
	}
	return nil
}

func (rd *renderer) funcs(l string) template.FuncMap {
	return template.FuncMap{
		// t looks up a message: {{t "key"}} or {{t "key" "name" .Value}}.
		"t": func(key string, kv ...any) string {
			var args map[string]any
			if len(kv) > 1 {
				args = map[string]any{}
				for i := 0; i+1 < len(kv); i += 2 {
					args[fmt.Sprint(kv[i])] = kv[i+1]
				}
			}
			return rd.cat.T(l, key, args)
		},
		"path":     func(p string) string { return "/" + l + p },
		"lang":     func() string { return l },
		"date":     func(t time.Time) string { return rd.cat.Date(l, t) },
		"datetime": func(t time.Time) string { return rd.cat.DateTime(l, t) },
		"short":    func(t time.Time) string { return rd.cat.Short(l, t) },
		"utc":      func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") + " UTC" },
		"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"number":   func(n int) string { return i18n.Number(l, int64(n)) },
		// amount formats a figure (a float64 or a pointer to one, "" for
		// nil) with grouping and the locale's decimal mark.
		"amount": func(v any) string {
			switch x := v.(type) {
			case *float64:
				if x == nil {
					return ""
				}
				return i18n.Decimal(l, *x)
			case float64:
				return i18n.Decimal(l, x)
			case int:
				return i18n.Number(l, int64(x))
			}
			return fmt.Sprint(v)
		},
		"static": staticPath,
		"query": func(kv ...any) string {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				if s := fmt.Sprint(kv[i+1]); s != "" && s != "0" {
					v.Set(fmt.Sprint(kv[i]), s)
				}
			}
			return v.Encode()
		},
		"join": strings.Join,
		"has": func(list any, v string) bool {
			switch xs := list.(type) {
			case []string:
				for _, x := range xs {
					if x == v {
						return true
					}
				}
			case []auth.Role:
				for _, x := range xs {
					if string(x) == v {
						return true
					}
				}
			}
			return false
		},
		"add": func(a, b int) int { return max(a+b, 0) },
		// dict builds a map for a partial: {{template "x" (dict "P" . "Name" "n")}}.
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		// tmap looks up a message with its arguments in a map:
		// {{tmap .ReasonKey .ReasonArgs}}.
		"tmap": func(key string, args map[string]any) string { return rd.cat.T(l, key, args) },
		// list builds a list of strings: {{range list "a" "b"}}.
		"list":    func(xs ...string) []string { return xs },
		"mul":     func(a, b int) int { return a * b },
		"locales": func() []string { return i18n.Locales },
		"endonym": func(l string) string { return i18n.Endonyms[l] },
		// field describes an input for the "input" partial: page, name,
		// label key, type, autocomplete, then options ("optional",
		// "numeric", "hint:KEY", "width:N").
		"field": func(p *Page, name, label, typ, autocomplete string, opts ...string) map[string]any {
			f := map[string]any{"Name": name, "Label": label, "Type": typ, "Autocomplete": autocomplete,
				"Value": p.Value(name), "Error": p.Err(name)}
			for _, o := range opts {
				k, v, _ := strings.Cut(o, ":")
				switch k {
				case "optional":
					f["Optional"] = true
				case "numeric":
					f["Numeric"] = true
				case "hint":
					f["Hint"] = v
				case "width":
					f["Width"] = v
				}
			}
			return f
		},
	}
}

// NavItem is a link of the main navigation.
type NavItem struct {
	Key     string // message key of the label
	Path    string // without locale
	Current bool
}

// FieldMessage is a localised error attached to a form field.
type FieldMessage struct {
	Field   string
	Message string
}

// Page is what every template receives.
type Page struct {
	Title       string // already localised
	Locale      string
	Path        string // request path without locale, for the language switcher
	Query       string
	Principal   *auth.Principal
	Session     *Session
	CSRF        string
	Flash       string // localised notice shown once
	Errors      []FieldMessage
	Form        url.Values
	Nav         []NavItem
	Authority   string
	CERTPhone   string
	IdleMinutes int
	// LangForm is the id of the page's form whose answers a change of
	// language keeps: the language switcher then submits that form, with
	// SwitchLangField naming the language, instead of following a link
	// that would lose what was typed. The form's handler must honour it
	// (see SwitchLang).
	LangForm string
	// Feed, when set, is the path (without locale) of an Atom feed the
	// page links in its head.
	Feed string
	Data any
}

// Err returns the message for field, or "".
func (p *Page) Err(field string) string {
	for _, e := range p.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// Value returns the submitted value of field.
func (p *Page) Value(field string) string { return p.Form.Get(field) }

// Message localises a message whose arguments may name other messages: an
// argument "x_key" fills the placeholder {x} with that message.
func (s *Server) Message(r *http.Request, code string, args map[string]any) string {
	l := Locale(r)
	if len(args) > 0 {
		a := make(map[string]any, len(args))
		for k, v := range args {
			if key, ok := v.(string); ok && strings.HasSuffix(k, "_key") {
				a[strings.TrimSuffix(k, "_key")] = s.cat.T(l, key, nil)
			} else {
				a[k] = v
			}
		}
		args = a
	}
	return s.cat.T(l, code, args)
}

// SwitchLangField is the name of the language switcher's buttons on a page
// with a LangForm.
const SwitchLangField = "switch_lang"

// SwitchLang returns the language a form was submitted to change to, if
// the person pressed a language of the switcher on a page with a LangForm.
func SwitchLang(r *http.Request) (string, bool) {
	l := r.PostFormValue(SwitchLangField)
	if l == "" || !i18n.Supported(l) {
		return "", false
	}
	return l, true
}

// WithLocale returns r as if it had been made in locale l, to render the
// answer to a language switch in the language chosen.
func WithLocale(r *http.Request, l string) *http.Request {
	return r.WithContext(withLocale(r.Context(), l))
}

// Render writes page name with data. title is a message key.
func (s *Server) Render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) error {
	return s.RenderPage(w, r, status, name, &Page{Title: s.cat.T(Locale(r), title, nil), Data: data})
}

// RenderForm re-renders a form page with the errors of err (an Invalid
// error) and the values the user typed. Other errors are returned.
func (s *Server) RenderForm(w http.ResponseWriter, r *http.Request, name, title string, data any, err error) error {
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid {
		return err
	}
	p := &Page{Title: s.cat.T(Locale(r), title, nil), Data: data, Form: r.PostForm}
	l := Locale(r)
	for _, f := range e.Fields {
		p.Errors = append(p.Errors, FieldMessage{Field: f.Field, Message: s.cat.T(l, f.Code, f.Args)})
	}
	if len(e.Fields) == 0 {
		p.Errors = append(p.Errors, FieldMessage{Message: s.cat.T(l, e.Code, e.Args)})
	}
	return s.RenderPage(w, r, statusOf(err), name, p)
}

// RenderPage writes a fully described page.
func (s *Server) RenderPage(w http.ResponseWriter, r *http.Request, status int, name string, p *Page) error {
	l := Locale(r)
	set, ok := s.tpl.pages[l][name]
	if !ok {
		return fmt.Errorf("web: no template %q", name)
	}
	p.Locale = l
	p.Path = r.URL.Path
	p.Query = r.URL.RawQuery
	p.Session = SessionFrom(r.Context())
	p.Principal = auth.From(r.Context())
	p.CSRF = s.CSRF(r)
	p.Authority = s.cfg.Authority
	p.CERTPhone = s.cfg.CERTPhone
	p.IdleMinutes = int(s.cfg.IdleTimeout / time.Minute)
	if p.Form == nil {
		p.Form = url.Values{}
	}
	if p.Flash == "" {
		p.Flash = s.takeFlash(w, r)
	}
	p.Nav = s.nav(p)
	if len(p.Errors) > 0 {
		p.Title = s.cat.T(l, "error.title_prefix", nil) + " " + p.Title
	}
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, name, p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// nav lists the main navigation for the principal's roles.
func (s *Server) nav(p *Page) []NavItem {
	pr := p.Principal
	if pr == nil {
		return nil
	}
	items := []NavItem{{Key: "nav.home", Path: "/"}}
	if pr.IsAuthority() {
		items = append(items, NavItem{Key: "nav.inbox", Path: "/inbox"}, NavItem{Key: "nav.cases", Path: "/cases"},
			NavItem{Key: "nav.crises", Path: "/crises"}, NavItem{Key: "nav.registry", Path: "/registry"},
			NavItem{Key: "nav.incidents", Path: "/incidents"}, NavItem{Key: "nav.voluntary", Path: "/voluntary/inbox"},
			NavItem{Key: "nav.early_warning", Path: "/early-warning"})
	} else if pr.OrgKind == "entity" {
		items = append(items, NavItem{Key: "nav.incidents", Path: "/incidents"},
			NavItem{Key: "nav.registration", Path: fmt.Sprintf("/registrations/%d", pr.OrgID)},
			NavItem{Key: "nav.early_warning", Path: "/early-warning"})
	}
	if pr.IsAuthority() {
		items = append(items, NavItem{Key: "nav.feeds_events", Path: "/feeds/events"}, NavItem{Key: "nav.feeds_runs", Path: "/feeds/runs"})
	} else {
		items = append(items, NavItem{Key: "nav.our_events", Path: "/our-events"}, NavItem{Key: "nav.our_cases", Path: "/our-cases"})
	}
	// Advisories: the public list for everyone, the working copies for
	// the authority's staff.
	if pr.IsAuthority() {
		items = append(items, NavItem{Key: "nav.advisories", Path: "/advisories/manage"})
	} else {
		items = append(items, NavItem{Key: "nav.advisories", Path: "/advisories"})
	}
	if pr.IsAuthority() && pr.HasAny(auth.RoleAdmin, auth.RoleSupervisor, auth.RoleAnalyst) {
		items = append(items, NavItem{Key: "nav.supervision", Path: "/supervision/obligations"})
	}
	if pr.CanReadAll() {
		items = append(items, NavItem{Key: "nav.organisations", Path: "/organisations"})
	}
	if pr.IsAuthorityAdmin() || pr.Has(auth.RoleOrgAdmin) || pr.CanReadAll() {
		items = append(items, NavItem{Key: "nav.users", Path: "/users"})
	}
	if pr.CanReadAll() {
		items = append(items, NavItem{Key: "nav.audit", Path: "/audit"})
	}
	items = append(items, NavItem{Key: "nav.account", Path: "/account"})
	for i := range items {
		it := &items[i]
		it.Current = p.Path == it.Path || (it.Path != "/" && strings.HasPrefix(p.Path, it.Path+"/"))
	}
	return items
}

// Flash stores a message key to show on the next page.
func (s *Server) Flash(w http.ResponseWriter, key string) {
	s.SetCookie(w, "flash", key, 300)
}

func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) string {
	key := s.Cookie(r, "flash")
	if key == "" || !s.cat.Has(key) {
		return ""
	}
	s.SetCookie(w, "flash", "", -1)
	return s.cat.T(Locale(r), key, nil)
}

// Redirect answers a form post with 303 See Other to a locale-less path.
func Redirect(w http.ResponseWriter, r *http.Request, p string) error {
	http.Redirect(w, r, LocalePath(r, p), http.StatusSeeOther)
	return nil
}

// errorPage renders a 4xx/5xx page without jargon.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, st int, err error) {
	key := "err.internal"
	if e, ok := errs.As(err); ok && st < 500 {
		key = e.Code
	}
	title := "error.page_title"
	switch st {
	case http.StatusNotFound:
		title = "error.not_found_title"
	case http.StatusForbidden:
		title = "error.forbidden_title"
	}
	p := &Page{Title: s.cat.T(Locale(r), title, nil), Data: map[string]any{"Status": st, "Message": s.cat.T(Locale(r), key, nil)}}
	if rerr := s.RenderPage(w, r, st, "error", p); rerr != nil {
		s.log.Error("render error page", "err", rerr)
		http.Error(w, http.StatusText(st), st)
	}
}

// languageChoice shows the four languages, each in its own language.
func (s *Server) languageChoice(w http.ResponseWriter, r *http.Request) {
	type choice struct{ Code, Name, Href string }
	var cs []choice
	for _, l := range i18n.Locales {
		href := "/" + l + r.URL.Path
		if r.URL.Path == "/" {
			href = "/" + l + "/"
		}
		cs = append(cs, choice{l, i18n.Endonyms[l], href})
	}
	var buf bytes.Buffer
	if err := s.tpl.pages[i18n.Default]["language"].ExecuteTemplate(&buf, "language", cs); err != nil {
		s.log.Error("render language choice", "err", err)
		http.Error(w, "Nederlands /nl/ · Français /fr/ · Deutsch /de/ · English /en/", http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Vary", "Accept-Language, Cookie")
	w.Write(buf.Bytes())
}
