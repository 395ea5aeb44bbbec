package registry

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/nis2"
)

// ---- the CSV columns ----

// csvColumn is one column of the CSV format: get gives its cell on
// export, set reads it on import (nil: computed, ignored on import).
type csvColumn struct {
	name string
	get  func(x *exportItem) string
	set  func(c *change, v string)
}

var csvColumns = buildColumns()

// requiredColumns must be in the header of a CSV import.
var requiredColumns = []string{"enterprise_number", "legal_name", "entity_types"}

// CSVColumns lists the columns of the CSV format in export order.
func CSVColumns() []string {
	out := make([]string, len(csvColumns))
	for i, c := range csvColumns {
		out[i] = c.name
	}
	return out
}

func columnIndex(name string) (csvColumn, bool) {
	for _, c := range csvColumns {
		if c.name == name {
			return c, true
		}
	}
	return csvColumn{}, false
}

func buildColumns() []csvColumn {
	facts := func(p *Profile) *nis2.Facts { return &p.Facts }
	cols := []csvColumn{
		{"enterprise_number", func(x *exportItem) string { return x.EnterpriseNumber }, (*change).setNumber},
		{"legal_name", func(x *exportItem) string { return x.Name }, func(c *change, v string) { c.name = &v }},
		{"status", func(x *exportItem) string { return string(x.Status) }, nil},
		{"class", func(x *exportItem) string { return x.Class }, nil},
		{"rule", func(x *exportItem) string {
			if x.Decision == nil {
				return ""
			}
			return x.Decision.Rule
		}, nil},
		{"override_class", func(x *exportItem) string {
			if x.Override == nil {
				return ""
			}
			return x.Override.Class
		}, func(c *change, v string) { c.ovClass = &v }},
		{"override_justification", func(x *exportItem) string {
			if x.Override == nil {
				return ""
			}
			return x.Override.Justification
		}, func(c *change, v string) { c.ovJust = &v }},
		listColumn("entity_types", false, func(p *Profile) *[]string { return &facts(p).EntityTypes }),
		figureColumn("staff", func(p *Profile) **float64 { return &p.Facts.Staff }),
		figureColumn("annual_turnover_eur", func(p *Profile) **float64 { return &p.Facts.TurnoverEUR }),
		figureColumn("balance_sheet_eur", func(p *Profile) **float64 { return &p.Facts.BalanceSheetEUR }),
		groupColumn("group_staff", func(g *nis2.Group) **float64 { return &g.Staff }),
		groupColumn("group_annual_turnover_eur", func(g *nis2.Group) **float64 { return &g.TurnoverEUR }),
		groupColumn("group_balance_sheet_eur", func(g *nis2.Group) **float64 { return &g.BalanceSheetEUR }),
		{"group_independent_systems", func(x *exportItem) string {
			g := x.Profile.Facts.Group
			return strconv.FormatBool(g != nil && g.IndependentSystems)
		}, func(c *change, v string) {
			if b, ok := c.parseBool("group_independent_systems", v); ok {
				c.edit(func(p *Profile) { group(p).IndependentSystems = b })
			}
		}},
		textColumn("establishment", true, func(p *Profile) *string { return &p.Facts.Establishment }),
		textColumn("main_establishment", true, func(p *Profile) *string { return &p.Facts.MainEstablishment }),
		listColumn("service_countries", true, func(p *Profile) *[]string { return &facts(p).ServiceCountries }),
		boolColumn("qualified_trust_service", func(p *Profile) *bool { return &p.Facts.QualifiedTrustService }),
		boolColumn("dns_root_server_only", func(p *Profile) *bool { return &p.Facts.DNSRootServerOnly }),
		textColumn("public_administration_function", false, func(p *Profile) *string { return (*string)(&p.Facts.PAFunction) }),
		boolColumn("pa_risk_assessed", func(p *Profile) *bool { return &p.Facts.PARiskAssessed }),
		boolColumn("cer_critical_entity", func(p *Profile) *bool { return &p.Facts.CERCriticalEntity }),
		textColumn("street", false, func(p *Profile) *string { return &p.Address.Street }),
		textColumn("postcode", false, func(p *Profile) *string { return &p.Address.Postcode }),
		textColumn("city", false, func(p *Profile) *string { return &p.Address.City }),
		textColumn("country", true, func(p *Profile) *string { return &p.Address.Country }),
		textColumn("website", false, func(p *Profile) *string { return &p.Website }),
	}
	for _, role := range ContactRoles {
		for _, part := range []string{"name", "email", "phone"} {
			cols = append(cols, contactColumn(role, part))
		}
	}
	return append(cols,
		claimColumn("prefixes", constituency.KindPrefix, func(c *orgClaims) []string { return c.prefixes }),
		claimColumn("asns", constituency.KindASN, func(c *orgClaims) []string { return c.asns }),
		claimColumn("domains", constituency.KindDomain, func(c *orgClaims) []string { return c.domains }),
		timeColumn("submitted_at", func(x *exportItem) *time.Time { return x.SubmittedAt }),
		timeColumn("approved_at", func(x *exportItem) *time.Time { return x.ApprovedAt }),
		timeColumn("updated_at", func(x *exportItem) *time.Time { return &x.UpdatedAt }),
	)
}

func textColumn(name string, upper bool, field func(p *Profile) *string) csvColumn {
	return csvColumn{name, func(x *exportItem) string { return *field(&x.Profile) }, func(c *change, v string) {
		if upper {
			v = strings.ToUpper(v)
		}
		c.edit(func(p *Profile) { *field(p) = v })
	}}
}

func listColumn(name string, upper bool, field func(p *Profile) *[]string) csvColumn {
	return csvColumn{name, func(x *exportItem) string { return strings.Join(*field(&x.Profile), "; ") }, func(c *change, v string) {
		if upper {
			v = strings.ToUpper(v)
		}
		l := splitList(v)
		c.edit(func(p *Profile) { *field(p) = l })
	}}
}

func boolColumn(name string, field func(p *Profile) *bool) csvColumn {
	return csvColumn{name, func(x *exportItem) string { return strconv.FormatBool(*field(&x.Profile)) }, func(c *change, v string) {
		if b, ok := c.parseBool(name, v); ok {
			c.edit(func(p *Profile) { *field(p) = b })
		}
	}}
}

func figureColumn(name string, field func(p *Profile) **float64) csvColumn {
	return csvColumn{name, func(x *exportItem) string { return formatFigure(*field(&x.Profile)) }, func(c *change, v string) {
		if f, ok := c.parseFigure(name, v); ok {
			c.edit(func(p *Profile) { *field(p) = f })
		}
	}}
}

func groupColumn(name string, field func(g *nis2.Group) **float64) csvColumn {
	return csvColumn{name, func(x *exportItem) string {
		if g := x.Profile.Facts.Group; g != nil {
			return formatFigure(*field(g))
		}
		return ""
	}, func(c *change, v string) {
		if f, ok := c.parseFigure(name, v); ok {
			c.edit(func(p *Profile) { *field(group(p)) = f })
		}
	}}
}

// group returns p's group figures, adding them when there are none.
func group(p *Profile) *nis2.Group {
	if p.Facts.Group == nil {
		p.Facts.Group = &nis2.Group{}
	}
	return p.Facts.Group
}

// dropEmptyGroup removes group figures that a CSV row left all empty.
func dropEmptyGroup(p *Profile) {
	if g := p.Facts.Group; g != nil && g.Staff == nil && g.TurnoverEUR == nil && g.BalanceSheetEUR == nil && !g.IndependentSystems {
		p.Facts.Group = nil
	}
}

func contactColumn(role ContactRole, part string) csvColumn {
	return csvColumn{string(role) + "_" + part, func(x *exportItem) string {
		for _, c := range x.Profile.Contacts {
			if c.Role == role {
				return map[string]string{"name": c.Name, "email": c.Email, "phone": c.Phone}[part]
			}
		}
		return ""
	}, func(c *change, v string) {
		if c.contacts == nil {
			c.contacts = map[ContactRole]map[string]string{}
		}
		if c.contacts[role] == nil {
			c.contacts[role] = map[string]string{}
		}
		c.contacts[role][part] = v
	}}
}

// contactEdit applies a row's cells of one role to the first contact of
// that role; when the row leaves every part empty, the role's contacts go.
func contactEdit(role ContactRole, cells map[string]string) func(p *Profile) {
	return func(p *Profile) {
		i := slices.IndexFunc(p.Contacts, func(c Contact) bool { return c.Role == role })
		var cur Contact
		if i >= 0 {
			cur = p.Contacts[i]
		}
		for part, v := range cells {
			switch part {
			case "name":
				cur.Name = v
			case "email":
				cur.Email = v
			case "phone":
				cur.Phone = v
			}
		}
		switch {
		case cur.Name == "" && cur.Email == "" && cur.Phone == "":
			p.Contacts = slices.DeleteFunc(p.Contacts, func(c Contact) bool { return c.Role == role })
			if len(p.Contacts) == 0 {
				p.Contacts = nil
			}
		case i >= 0:
			p.Contacts[i] = cur
		default:
			cur.Role = role
			p.Contacts = append(p.Contacts, cur)
		}
	}
}

func claimColumn(name string, kind constituency.Kind, list func(c *orgClaims) []string) csvColumn {
	return csvColumn{name, func(x *exportItem) string {
		if x.claims == nil {
			return ""
		}
		return strings.Join(list(x.claims), "; ")
	}, func(c *change, v string) {
		for _, val := range splitList(v) {
			c.addClaim(name, kind, val)
		}
	}}
}

func timeColumn(name string, get func(x *exportItem) *time.Time) csvColumn {
	return csvColumn{name, func(x *exportItem) string {
		if t := get(x); t != nil {
			return t.UTC().Format(time.RFC3339)
		}
		return ""
	}, nil}
}

func formatFigure(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// splitList reads a list cell: values separated by semicolons (or
// commas), blanks dropped.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' || r == '\n' || r == '\r' }) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// isNumber reports whether s is a plain decimal: an optional minus,
// digits, and an optional point followed by digits.
func isNumber(s string) bool {
	whole, frac, dot := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	digits := func(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }
	return digits(whole) && (!dot || digits(frac))
}

// ---- what a row says ----

// change is what one row of a file says about one registration: the
// parts it names (edits of the profile, the override, claims to hold)
// and the faults found in it.
type change struct {
	row      int
	json     bool
	raw      string // the enterprise number as written
	number   string // its ten digits, when valid
	name     *string
	edits    []func(p *Profile)
	ovClass  *string // nil: the file does not say
	ovJust   *string
	claims   []claimValue
	contacts map[ContactRole]map[string]string // CSV cells by role and part
	errs     []ImportError
	unread   bool // the row could not be read: nothing more to check
}

type claimValue struct{ kind, value string }

func (c *change) fail(field, code string, args map[string]any) {
	c.errs = append(c.errs, ImportError{Row: c.row, Field: field, Code: code, args: args})
}

func (c *change) edit(fn func(p *Profile)) { c.edits = append(c.edits, fn) }

// field names a field in the file's terms: a CSV column or a JSON path.
func (c *change) field(column, path string) string {
	if c.json {
		return path
	}
	return column
}

func (c *change) setNumber(v string) {
	c.raw = v
	field := "enterprise_number"
	if v == "" {
		c.fail(field, "err.import.enterprise_number_required", nil)
		return
	}
	n, err := identity.NormalizeEnterpriseNumber(v)
	if err != nil {
		c.fail(field, errs.KindCode(err), map[string]any{"value": v})
		return
	}
	c.number = n
}

func (c *change) parseBool(field, v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "", "false", "no", "0":
		return false, true
	case "true", "yes", "1":
		return true, true
	}
	c.fail(field, "err.import.bool", map[string]any{"value": v})
	return false, false
}

// parseFigure reads 1200000, 1 200 000 or 1200000.50; empty is missing.
func (c *change) parseFigure(field, v string) (*float64, bool) {
	v = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '\u202f', '\u2009':
			return -1
		}
		return r
	}, v)
	if v == "" {
		return nil, true
	}
	if isNumber(v) {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return &f, true
		}
	}
	c.fail(field, "err.import.number", map[string]any{"value": v})
	return nil, false
}

func (c *change) addClaim(field string, kind constituency.Kind, v string) {
	val, err := NormalizeClaim(string(kind), v)
	if err != nil {
		e, _ := errs.As(err)
		for _, f := range e.Fields {
			c.fail(field, f.Code, f.Args)
		}
		return
	}
	cv := claimValue{string(kind), val}
	if !slices.Contains(c.claims, cv) {
		c.claims = append(c.claims, cv)
	}
}
