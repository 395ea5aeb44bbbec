package reporting

// Significance guidance in the portal (nis2.md §2.3): the facts that
// nis2.AssessSignificance reads, asked as form questions; which of them
// matter for an entity type; and a first set of answers taken from what the
// incident and the registration already say. The law itself lives in
// internal/nis2; this file only translates between a form and its facts.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/nis2"
)

// SigQuestion is one fact of nis2.SignificanceFacts asked in the form,
// named by its JSON member. Kind says how it is answered: "tri" (yes, no,
// don't know), "flag" (a box ticked when it applies), "count" (a whole
// number), "amount" (euro), "number" (minutes or seconds, decimals
// allowed), "date" (YYYY-MM-DD) or "cause" (a root cause of the NIS
// taxonomy).
type SigQuestion struct {
	Name string
	Kind string
}

// sigQuestions are every fact the form can ask, in the order it asks them:
// the exclusion, the general criteria of Art. 3 of Implementing Regulation
// (EU) 2024/2690, the entity-specific ones of Art. 5 to 14, the directive's
// qualitative test (Art. 23(3) NIS2), and the recurring incidents of Art. 4.
var sigQuestions = []SigQuestion{
	{"scheduled_maintenance", "flag"},
	{"direct_financial_loss_eur", "amount"},
	{"turnover_prev_fy_eur", "amount"},
	{"trade_secret_exfiltration", "tri"},
	{"death", "tri"},
	{"considerable_health_damage", "tri"},
	{"successful_malicious_unauthorised_access", "tri"},
	{"capable_severe_disruption", "tri"},
	{"service_users_eu", "count"},
	{"complete_unavailability_minutes", "number"},
	{"complete_unavailability_users", "count"},
	{"limited_availability_minutes", "number"},
	{"limited_availability_users", "count"},
	{"avg_response_time_seconds", "number"},
	{"avg_response_time_minutes", "number"},
	{"cia_compromised", "tri"},
	{"suspected_malicious", "tri"},
	{"cia_affected_users", "count"},
	{"physical_access_compromised", "tri"},
	{"misconfiguration", "flag"},
	{"domain_names_affected", "count"},
	{"domain_names_managed", "count"},
	{"severe_operational_disruption", "tri"},
	{"severe_financial_loss", "tri"},
	{"considerable_damage_to_others", "tri"},
	{"incident_date", "date"},
	{"root_cause", "cause"},
}

// SigRows is how many other incidents (Art. 4) and outages of the week
// (Art. 14(b)) the form has room for.
const SigRows = 3

// Related answers: whether the entity had other incidents with the same
// apparent root cause (Art. 4 of 2024/2690).
const (
	sigRelatedNone    = "none"
	sigRelatedSome    = "some"
	sigRelatedUnknown = "unknown"
)

// SigAsked is what the form asks for an entity type.
type SigAsked struct {
	Questions []SigQuestion
	// Related asks for other incidents with the same root cause (Art. 4);
	// Week for the outages of the calendar week (trust services, Art. 14(b)).
	Related, Week bool
}

// sigAsk returns the questions that play a part in the test for the
// entity type: the facts its criteria name as missing when nothing is
// known, and those they come to need once some are answered (f), with the
// facts that go with them.
func sigAsk(entityType string, f nis2.SignificanceFacts) SigAsked {
	want := map[string]bool{}
	for _, facts := range []nis2.SignificanceFacts{{EntityType: entityType}, f} {
		facts.EntityType = entityType
		d, err := nis2.AssessSignificance(facts)
		if err != nil {
			continue
		}
		for _, c := range d.Criteria {
			for _, m := range c.Missing {
				want[m] = true
			}
		}
	}
	art, regulated := nis2.SignificanceArticle(entityType)
	if regulated {
		want["scheduled_maintenance"] = true
		if want["complete_unavailability_users"] || want["limited_availability_users"] || want["cia_affected_users"] {
			want["service_users_eu"] = true // the thresholds are shares of it
		}
	}
	if art == "5" && want["cia_compromised"] {
		// Art. 5(c): DNS data made wrong by a misconfiguration count only
		// above a share of the domain names managed.
		want["misconfiguration"], want["domain_names_affected"], want["domain_names_managed"] = true, true, true
	}
	var out SigAsked
	if want["related_incidents"] {
		out.Related = true
		want["incident_date"], want["root_cause"] = true, true
	}
	out.Week = want["week_outages"]
	for _, q := range sigQuestions {
		if want[q.Name] {
			out.Questions = append(out.Questions, q)
		}
	}
	return out
}

// sigPathRE finds the list indexes of a JSON path: related_incidents[1].date.
var sigPathRE = regexp.MustCompile(`\[(\d+)\]\.?`)

// sigInputID is the form input of a JSON path of the facts.
func sigInputID(path string) string {
	return strings.TrimSuffix(sigPathRE.ReplaceAllString(path, "-$1-"), "-")
}

// SigFacts reads the form's answers as incident facts, numbers written
// the locale's way. Problems come together, each named by the input at
// fault.
func SigFacts(form url.Values, locale string) (nis2.SignificanceFacts, error) {
	get := func(k string) string { return strings.TrimSpace(form.Get(k)) }
	var v errs.Validator
	m := map[string]any{"entity_type": get("entity_type")}
	number := func(name, code string) (float64, bool) {
		s := get(name)
		if s == "" {
			return 0, false
		}
		x, err := i18n.ParseAmount(s, locale)
		if err != nil || x == nil {
			v.Add(name, code, nil)
			return 0, false
		}
		return *x, true
	}
	for _, q := range sigQuestions {
		s := get(q.Name)
		if s == "" {
			continue
		}
		switch q.Kind {
		case "tri":
			switch s {
			case "yes":
				m[q.Name] = true
			case "no":
				m[q.Name] = false
			}
		case "flag":
			m[q.Name] = s == "yes"
		case "count":
			if n := parseCount(s, q.Name, &v); n != nil {
				m[q.Name] = *n
			}
		case "amount":
			if x, ok := number(q.Name, "err.repui.amount_invalid"); ok {
				m[q.Name] = x
			}
		case "number":
			if x, ok := number(q.Name, "err.repsig.number_invalid"); ok {
				m[q.Name] = x
			}
		default:
			m[q.Name] = s
		}
	}
	switch get("related") {
	case sigRelatedNone:
		m["related_incidents"] = []any{}
	case sigRelatedSome:
		rows := []any{}
		for i := range SigRows {
			p := fmt.Sprintf("related_incidents-%d-", i)
			if get(p+"date") == "" && get(p+"loss") == "" {
				continue
			}
			row := map[string]any{"date": get(p + "date"), "root_cause": get("root_cause"), "significant": get(p+"significant") == "yes"}
			if x, ok := number(p+"loss", "err.repui.amount_invalid"); ok {
				row["direct_financial_loss_eur"] = x
			}
			rows = append(rows, row)
		}
		if len(rows) == 0 {
			v.Add("related", "err.repsig.related_rows", nil)
		}
		m["related_incidents"] = rows
	}
	var week []any
	for i := range SigRows {
		p := fmt.Sprintf("week_outages-%d-", i)
		if get(p+"date") == "" && get(p+"minutes") == "" {
			continue
		}
		row := map[string]any{"date": get(p + "date")}
		if x, ok := number(p+"minutes", "err.repsig.number_invalid"); ok {
			row["minutes"] = x
		}
		week = append(week, row)
	}
	if week != nil {
		m["week_outages"] = week
	}
	if err := v.Err(); err != nil {
		return nis2.SignificanceFacts{}, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nis2.SignificanceFacts{}, err
	}
	f, err := nis2.ParseSignificanceFacts(bytes.NewReader(b))
	if e, ok := errs.As(err); ok {
		// The facts' own checks name JSON paths; the form names inputs.
		var out errs.Validator
		for _, fe := range e.Fields {
			field := sigInputID(fe.Field)
			if strings.HasPrefix(field, "related_incidents-") && strings.HasSuffix(field, "-direct_financial_loss_eur") {
				field = strings.TrimSuffix(field, "direct_financial_loss_eur") + "loss"
			}
			if strings.HasPrefix(field, "related_incidents-") && strings.HasSuffix(field, "-root_cause") {
				field = "root_cause"
			}
			out.Add(field, fe.Code, fe.Args)
		}
		if len(e.Fields) == 0 {
			return f, err
		}
		return f, out.Err()
	}
	return f, err
}

// sigStart is the first set of answers of the guidance form: the entity
// type when the registration names only one, the turnover of the
// registration, and what the incident's latest report says (loss,
// suspected malice, root cause, the day it started).
func sigStart(in *Incident, c Content, types []string, turnover *float64, locale string) url.Values {
	v := url.Values{}
	if len(types) == 1 {
		v.Set("entity_type", types[0])
	}
	if turnover != nil {
		v.Set("turnover_prev_fy_eur", i18n.Decimal(locale, *turnover))
	}
	if x := c.Quantities.DirectLossEUR; x != nil {
		v.Set("direct_financial_loss_eur", i18n.Decimal(locale, *x))
	}
	if c.SuspectedMalicious == "yes" || c.SuspectedMalicious == "no" {
		v.Set("suspected_malicious", c.SuspectedMalicious)
	}
	if c.RootCause != "" {
		v.Set("root_cause", c.RootCause)
	}
	day := in.AwareAt
	for _, t := range []*time.Time{c.DetectedAt, c.StartedAt} {
		if t != nil && t.Before(day) {
			day = *t
		}
	}
	v.Set("incident_date", day.In(brussels).Format(time.DateOnly))
	return v
}

// registeredFacts returns the entity types and the annual turnover that
// org's registration gives, if it has one.
func (s *Service) registeredFacts(ctx context.Context, org int64) (types []string, turnover *float64, err error) {
	var data string
	err = s.db.QueryRow(ctx, `SELECT data FROM registrations WHERE org_id = ?`, org).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var reg struct {
		Facts nis2.Facts `json:"facts"`
	}
	if err := json.Unmarshal([]byte(data), &reg); err != nil {
		return nil, nil, fmt.Errorf("registration %d data: %w", org, err)
	}
	for _, t := range reg.Facts.EntityTypes {
		if _, ok := nis2.Type(t); ok && !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	return types, reg.Facts.TurnoverEUR, nil
}

// sigNumber writes a number of a decision's message arguments in locale.
func sigNumber(locale string, v any) (string, bool) {
	switch x := v.(type) {
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return i18n.Decimal(locale, f), true
		}
	case float64:
		return i18n.Decimal(locale, x), true
	case int:
		return i18n.Number(locale, int64(x)), true
	case int64:
		return i18n.Number(locale, x), true
	}
	return "", false
}

// sigCodes are the criterion codes met, as a report records them.
func sigCodes(d nis2.SignificanceDecision) []string {
	if !d.Significant {
		return nil
	}
	return slices.Clone(d.DecidedBy)
}
