package reporting

// What the portal needs to show a report and read it back from a form:
// Content to form values and back, typed Belgian times, loose numbers.

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
)

// MemberStates are the EU Member States by ISO 3166-1 alpha-2 code, for
// the affected countries (Greece as GR).
var MemberStates = []string{"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
	"LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}

// RSITGroup is a taxonomy of the RSIT with its types ("taxonomy/type").
type RSITGroup struct {
	Taxonomy string
	Types    []string
}

// RSIT lists the ENISA taxonomy in its published order, each type as the
// "taxonomy/type" value a report stores.
func RSIT() []RSITGroup {
	order := []string{"abusive-content", "malicious-code", "information-gathering", "intrusion-attempts", "intrusions", "availability",
		"information-content-security", "fraud", "vulnerable", "other", "test"}
	out := make([]RSITGroup, 0, len(order))
	for _, tax := range order {
		g := RSITGroup{Taxonomy: tax}
		for _, typ := range rsit[tax] {
			g.Types = append(g.Types, tax+"/"+typ)
		}
		out = append(out, g)
	}
	return out
}

// The questions of the stage forms, in the order of reporting-forms.md
// §1.3. Each stage asks those of Art. 23(4) and what may be updated.
const (
	qNotifier          = "notifier"
	qInternalRef       = "internal_reference"
	qPoliceRef         = "police_reference"
	qDetectedAt        = "detected_at"
	qStartedAt         = "started_at"
	qResolvedAt        = "resolved_at"
	qStatus            = "incident_status"
	qMalicious         = "suspected_malicious"
	qCrossBorder       = "cross_border"
	qCountries         = "affected_countries"
	qUpdate            = "update"
	qSummary           = "summary"
	qSeverity          = "severity"
	qImpact            = "impact_assessment"
	qQuantities        = "quantities"
	qIndicators        = "indicators"
	qClassification    = "classification"
	qRootCause         = "root_cause"
	qDescription       = "detailed_description"
	qMitigations       = "mitigations"
	qCrossBorderImpact = "cross_border_impact"
	qRecipients        = "recipients_informed"
	qAssistance        = "assistance_wanted"
	qTLP               = "tlp"
)

// questions are the questions of each stage form, in order.
var questions = map[Stage][]string{
	EarlyWarning: {qNotifier, qInternalRef, qPoliceRef, qDetectedAt, qStartedAt, qStatus, qMalicious, qCrossBorder, qCountries,
		qSummary, qClassification, qAssistance, qTLP},
	IncidentNotification: {qNotifier, qInternalRef, qPoliceRef, qDetectedAt, qStartedAt, qStatus, qMalicious, qCrossBorder, qCountries,
		qSummary, qSeverity, qImpact, qQuantities, qIndicators, qClassification, qRootCause, qMitigations, qCrossBorderImpact,
		qRecipients, qAssistance, qTLP},
	IntermediateReport: {qNotifier, qInternalRef, qPoliceRef, qDetectedAt, qStartedAt, qResolvedAt, qStatus, qMalicious, qCrossBorder,
		qCountries, qUpdate, qSummary, qSeverity, qImpact, qQuantities, qIndicators, qClassification, qRootCause, qMitigations,
		qRecipients, qTLP},
	FinalReport: {qNotifier, qInternalRef, qPoliceRef, qDetectedAt, qStartedAt, qResolvedAt, qStatus, qCrossBorder, qCountries,
		qImpact, qQuantities, qIndicators, qClassification, qRootCause, qDescription, qMitigations, qCrossBorderImpact, qRecipients, qTLP},
	ProgressReport: {qNotifier, qInternalRef, qPoliceRef, qDetectedAt, qStartedAt, qResolvedAt, qStatus, qCrossBorder, qCountries,
		qUpdate, qSummary, qImpact, qQuantities, qIndicators, qClassification, qRootCause, qDescription, qMitigations,
		qCrossBorderImpact, qTLP},
}

// mandatory are the questions each stage must answer: those Content.require
// checks, the notifier (reporting-forms.md §1.3) and the TLP.
var mandatory = map[Stage][]string{
	EarlyWarning:         {qNotifier, qStatus, qMalicious, qCrossBorder, qSummary, qTLP},
	IncidentNotification: {qNotifier, qStatus, qMalicious, qCrossBorder, qSummary, qSeverity, qImpact, qTLP},
	IntermediateReport:   {qNotifier, qStatus, qUpdate, qTLP},
	FinalReport:          {qNotifier, qStatus, qCrossBorder, qRootCause, qDescription, qMitigations, qTLP},
	ProgressReport:       {qNotifier, qStatus, qUpdate, qTLP},
}

// Question is a question a stage form asks: Need says whether it is
// required ("required"), optional ("optional") or required only for a
// cross-border impact ("if_cross_border").
type Question struct {
	Need string
}

// Questions returns the questions stage asks, by name.
func Questions(stage Stage) map[string]*Question {
	out := map[string]*Question{}
	for _, q := range questions[stage] {
		need := "optional"
		switch {
		case slices.Contains(mandatory[stage], q):
			need = "required"
		case stage == FinalReport && (q == qCountries || q == qCrossBorderImpact):
			need = "if_cross_border"
		}
		out[q] = &Question{Need: need}
	}
	return out
}

// dateParts are the boxes of a typed time, in order, with the suffix of
// their input names.
var dateParts = []string{"day", "month", "year", "hour", "minute"}

// DateBoxID is the id of a box of the time input name: the day box carries
// the name itself, so that an error about the whole time links to it.
func DateBoxID(name, part string) string {
	if part == "day" {
		return name
	}
	return name + "-" + part
}

// FormValues returns the form values of c, in the page's locale.
func FormValues(c Content, locale string) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	if p := c.Notifier; p != nil {
		set("notifier_name", p.Name)
		set("notifier_title", p.Title)
		set("notifier_email", p.Email)
		set("notifier_phone", p.Phone)
	}
	set(qInternalRef, c.InternalReference)
	set(qPoliceRef, c.PoliceReference)
	for name, t := range map[string]*time.Time{qDetectedAt: c.DetectedAt, qStartedAt: c.StartedAt, qResolvedAt: c.ResolvedAt} {
		if t != nil {
			setTimeValues(v, name, *t)
		}
	}
	set(qStatus, c.IncidentStatus)
	set(qMalicious, c.SuspectedMalicious)
	set(qCrossBorder, c.CrossBorder)
	for _, cc := range c.AffectedCountries {
		v.Add(qCountries, cc)
	}
	set(qSummary, c.Summary)
	set(qSeverity, c.Severity)
	set(qImpact, c.ImpactAssessment)
	q := c.Quantities
	for name, n := range map[string]*int64{"quantities_users_affected": q.UsersAffected, "quantities_systems_affected": q.SystemsAffected,
		"quantities_duration_minutes": q.DurationMinutes} {
		if n != nil {
			v.Set(name, strconv.FormatInt(*n, 10))
		}
	}
	if q.DirectLossEUR != nil {
		v.Set("quantities_direct_loss_eur", i18n.Decimal(locale, *q.DirectLossEUR))
	}
	set(qIndicators, IndicatorText(c.Indicators))
	set(qClassification, c.Classification)
	set(qRootCause, c.RootCause)
	set("root_cause_text", c.RootCauseText)
	set(qDescription, c.DetailedDescription)
	set(qMitigations, c.Mitigations)
	set(qCrossBorderImpact, c.CrossBorderImpact)
	if c.RecipientsInformed != nil {
		v.Set(qRecipients, map[bool]string{true: "yes", false: "no"}[*c.RecipientsInformed])
	}
	if c.AssistanceWanted {
		v.Set(qAssistance, "yes")
	}
	v.Set(qTLP, c.TLP)
	if c.TLP == "" {
		v.Set(qTLP, "amber")
	}
	set(qUpdate, c.Update)
	return v
}

func setTimeValues(v url.Values, name string, t time.Time) {
	b := t.In(brussels)
	v.Set(name+"-day", strconv.Itoa(b.Day()))
	v.Set(name+"-month", strconv.Itoa(int(b.Month())))
	v.Set(name+"-year", strconv.Itoa(b.Year()))
	v.Set(name+"-hour", strconv.Itoa(b.Hour()))
	v.Set(name+"-minute", b.Format("04"))
}

// IndicatorText writes indicators one per line as "type value", with
// "tlp:label" after the value when the indicator has its own TLP.
func IndicatorText(xs []Indicator) string {
	var lines []string
	for _, x := range xs {
		l := x.Type + " " + x.Value
		if x.TLP != "" {
			l += " tlp:" + x.TLP
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

// indicatorAliases maps loose names of indicator kinds to ours.
var indicatorAliases = map[string]string{
	"ip": "ip", "ipv4": "ip", "ipv6": "ip", "ip-address": "ip", "ip-adres": "ip", "ip-adresse": "ip", "adresse-ip": "ip",
	"domain": "domain", "domein": "domain", "domaine": "domain", "domäne": "domain", "fqdn": "domain", "hostname": "domain", "host": "domain",
	"url": "url", "uri": "url", "link": "url",
	"hash": "hash", "md5": "hash", "sha1": "hash", "sha-1": "hash", "sha256": "hash", "sha-256": "hash", "sha512": "hash", "sha-512": "hash",
	"email": "email", "e-mail": "email", "mail": "email", "courriel": "email",
	"file": "file", "filename": "file", "bestand": "file", "fichier": "file", "datei": "file",
}

// indicatorLines returns the 1-based numbers of the non-blank lines of
// the indicators text: the i-th indicator comes from line n[i].
func indicatorLines(text string) []int {
	var out []int
	for i, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, i+1)
		}
	}
	return out
}

// parseIndicators reads "type value [tlp:label]" lines; blank lines are
// skipped and every faulty line is reported with its number.
func parseIndicators(text string, v *errs.Validator) []Indicator {
	var out []Indicator
	for i, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		fs := strings.Fields(l)
		if len(fs) == 0 {
			continue
		}
		line := map[string]any{"line": i + 1}
		typ, ok := indicatorAliases[strings.ToLower(strings.TrimSuffix(fs[0], ":"))]
		if !ok {
			v.Add(qIndicators, "err.repui.indicator_type", line)
			continue
		}
		ind := Indicator{Type: typ}
		rest := fs[1:]
		if n := len(rest); n > 1 && strings.HasPrefix(strings.ToLower(rest[n-1]), "tlp:") {
			ind.TLP = strings.ToLower(strings.TrimPrefix(strings.ToLower(rest[n-1]), "tlp:"))
			rest = rest[:n-1]
		}
		if len(rest) == 0 {
			v.Add(qIndicators, "err.repui.indicator_value", line)
			continue
		}
		ind.Value = strings.Join(rest, " ")
		out = append(out, ind)
	}
	return out
}

// ParseForm reads the answers of the stage form f into a copy of base:
// the questions the stage asks replace base's answers, the others are
// kept. Unreadable answers (times, numbers, indicator lines) are reported
// together as an errs.Invalid error whose fields are the ids of the inputs.
// now bounds the times, which may not lie in the future.
func ParseForm(stage Stage, f url.Values, locale string, base Content, now time.Time) (Content, error) {
	c := base
	var v errs.Validator
	get := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	for _, q := range questions[stage] {
		switch q {
		case qNotifier:
			p := &Person{Name: get("notifier_name"), Title: get("notifier_title"), Email: get("notifier_email"), Phone: get("notifier_phone")}
			if *p == (Person{}) {
				p = nil
			}
			c.Notifier = p
		case qInternalRef:
			c.InternalReference = get(q)
		case qPoliceRef:
			c.PoliceReference = get(q)
		case qDetectedAt:
			c.DetectedAt = ParseTime(f, q, "repui.time_noun."+q, false, now, &v)
		case qStartedAt:
			c.StartedAt = ParseTime(f, q, "repui.time_noun."+q, false, now, &v)
		case qResolvedAt:
			c.ResolvedAt = ParseTime(f, q, "repui.time_noun."+q, false, now, &v)
		case qStatus:
			c.IncidentStatus = get(q)
		case qMalicious:
			c.SuspectedMalicious = get(q)
		case qCrossBorder:
			c.CrossBorder = get(q)
		case qCountries:
			c.AffectedCountries = nil
			for _, cc := range f[q] {
				if cc = strings.TrimSpace(cc); cc != "" && !slices.Contains(c.AffectedCountries, cc) {
					c.AffectedCountries = append(c.AffectedCountries, cc)
				}
			}
		case qUpdate:
			c.Update = get(q)
		case qSummary:
			c.Summary = get(q)
		case qSeverity:
			c.Severity = get(q)
		case qImpact:
			c.ImpactAssessment = get(q)
		case qQuantities:
			c.Quantities = Quantities{
				UsersAffected:   parseCount(get("quantities_users_affected"), "quantities_users_affected", &v),
				SystemsAffected: parseCount(get("quantities_systems_affected"), "quantities_systems_affected", &v),
				DurationMinutes: parseCount(get("quantities_duration_minutes"), "quantities_duration_minutes", &v),
			}
			loss, err := i18n.ParseAmount(get("quantities_direct_loss_eur"), locale)
			if err != nil {
				v.Add("quantities_direct_loss_eur", "err.repui.amount_invalid", nil)
			}
			c.Quantities.DirectLossEUR = loss
		case qIndicators:
			c.Indicators = parseIndicators(f.Get(q), &v)
		case qClassification:
			c.Classification = get(q)
		case qRootCause:
			c.RootCause = get(q)
			c.RootCauseText = get("root_cause_text")
		case qDescription:
			c.DetailedDescription = get(q)
		case qMitigations:
			c.Mitigations = get(q)
		case qCrossBorderImpact:
			c.CrossBorderImpact = get(q)
		case qRecipients:
			switch get(q) {
			case "yes":
				c.RecipientsInformed = new(true)
			case "no":
				c.RecipientsInformed = new(false)
			default:
				c.RecipientsInformed = nil
			}
		case qAssistance:
			c.AssistanceWanted = get(q) == "yes"
		case qTLP:
			c.TLP = get(q)
		}
	}
	return c, v.Err()
}

// parseCount reads a whole number typed by a person: spaces, and dots or
// commas that group thousands ("1.200", "1,200", "1 200"), are allowed.
func parseCount(s, field string, v *errs.Validator) *int64 {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '\'' || r == '\u202f' || r == '\u00a0' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return nil
	}
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimPrefix(s, "-")
	if grouped(digits) {
		digits = strings.NewReplacer(".", "", ",", "").Replace(digits)
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || strings.HasPrefix(digits, "+") {
		v.Add(field, "err.repui.count_invalid", nil)
		return nil
	}
	if neg {
		n = -n
	}
	return &n
}

// grouped reports whether s is digits grouped by thousands with dots or
// commas (one kind), like 1.200.000 or 1,200.
func grouped(s string) bool {
	if strings.Trim(s, "0123456789.,") != "" || (strings.Contains(s, ".") && strings.Contains(s, ",")) {
		return false
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == ',' })
	if len(parts) < 2 || len(parts) != strings.Count(s, ".")+strings.Count(s, ",")+1 || len(parts[0]) > 3 {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) != 3 {
			return false
		}
	}
	return true
}

// monthNames are the names of the months in Belfry's languages, without
// accents, for typed dates ("25 nov 2026", "3 März").
var monthNames = [][]string{
	{"januari", "janvier", "januar", "january", "jan"},
	{"februari", "fevrier", "februar", "february", "feb", "fev", "fév"},
	{"maart", "mars", "marz", "maerz", "march", "mrt", "mar"},
	{"april", "avril", "apr", "avr"},
	{"mei", "mai", "may"},
	{"juni", "juin", "june", "jun"},
	{"juli", "juillet", "july", "jul", "juil"},
	{"augustus", "aout", "august", "aug"},
	{"september", "septembre", "sep", "sept"},
	{"oktober", "octobre", "october", "okt", "oct"},
	{"november", "novembre", "nov"},
	{"december", "decembre", "dezember", "dec", "dez", "déc"},
}

// parseMonth reads a month as a number or as (the start of) its name in
// one of Belfry's languages; 0 when it is neither.
func parseMonth(s string) int {
	if n, err := strconv.Atoi(s); err == nil {
		if n >= 1 && n <= 12 {
			return n
		}
		return 0
	}
	s = strings.TrimSuffix(strings.ToLower(s), ".")
	s = strings.NewReplacer("é", "e", "è", "e", "û", "u", "ä", "a").Replace(s)
	if len([]rune(s)) < 3 {
		return 0
	}
	found := 0
	for i, names := range monthNames {
		for _, n := range names {
			if strings.HasPrefix(n, s) {
				if found != 0 && found != i+1 {
					return 0 // ambiguous, like "jui"
				}
				found = i + 1
			}
		}
	}
	return found
}

// BrusselsTime is the instant at which Belgian clocks showed the given
// date and time. In the autumn hour that occurs twice it is the first
// (summer time), so that deadlines are not later than the law allows; in
// the spring hour that does not exist it is read with the offset before
// the change (02:30 is taken as 03:30 summer time).
func BrusselsTime(year int, month time.Month, day, hour, minute int) time.Time {
	wall := time.Date(year, month, day, hour, minute, 0, 0, time.UTC)
	offsetAt := func(t time.Time) int { _, off := t.In(brussels).Zone(); return off }
	before, after := offsetAt(wall.Add(-12*time.Hour)), offsetAt(wall.Add(12*time.Hour))
	var best time.Time
	for _, off := range []int{before, after} {
		t := wall.Add(-time.Duration(off) * time.Second)
		b := t.In(brussels)
		if b.Year() == year && b.Month() == month && b.Day() == day && b.Hour() == hour && b.Minute() == minute {
			if best.IsZero() || t.Before(best) {
				best = t
			}
		}
	}
	if best.IsZero() {
		best = wall.Add(-time.Duration(before) * time.Second)
	}
	return best.UTC()
}

// ParseTime reads the five boxes (name-day, name-month, name-year,
// name-hour, name-minute) of a time typed in Belgian time. All empty is
// nil, or an error when required. Each missing box gets its own message,
// linked to that box; labelKey names the time in the messages. The time
// may not lie in the future.
func ParseTime(f url.Values, name, labelKey string, required bool, now time.Time, v *errs.Validator) *time.Time {
	vals := map[string]string{}
	empty := true
	for _, p := range dateParts {
		vals[p] = strings.TrimSpace(f.Get(name + "-" + p))
		if vals[p] != "" {
			empty = false
		}
	}
	args := map[string]any{"label_key": labelKey}
	if empty {
		if required {
			v.Add(name, "err.repui.time_required", args)
		}
		return nil
	}
	missing := false
	for _, p := range dateParts {
		if vals[p] == "" {
			v.Add(DateBoxID(name, p), "err.repui.time_missing_"+p, args)
			missing = true
		}
	}
	if missing {
		return nil
	}
	num := func(s string, lo, hi int) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil && n >= lo && n <= hi
	}
	day, okD := num(vals["day"], 1, 31)
	month := parseMonth(vals["month"])
	year, okY := num(vals["year"], 1000, 9999)
	hour, okH := num(vals["hour"], 0, 23)
	minute, okM := num(vals["minute"], 0, 59)
	for _, bad := range []struct {
		part string
		ok   bool
	}{{"day", okD}, {"month", month != 0}, {"year", okY && len(vals["year"]) == 4}, {"hour", okH}, {"minute", okM}} {
		if !bad.ok {
			v.Add(DateBoxID(name, bad.part), "err.repui.time_invalid_"+bad.part, args)
			return nil
		}
	}
	if time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC).Day() != day {
		v.Add(name, "err.repui.time_not_real", args)
		return nil
	}
	t := BrusselsTime(year, time.Month(month), day, hour, minute)
	if t.After(now) {
		v.Add(name, "err.repui.time_future", args)
		return nil
	}
	return &t
}
