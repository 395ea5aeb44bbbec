package nis2

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file decides whether an incident is significant (Directive (EU)
// 2022/2555, Art. 23(3)). For the "relevant entities" of Commission
// Implementing Regulation (EU) 2024/2690 it applies that regulation's
// thresholds (Art. 3 to 14); for every other entity type it records the
// directive's qualitative test as the entity answers it.
//
// Unknown facts are never read as false: a criterion whose facts are missing
// is "not evaluated", and when no criterion is met but one is not evaluated
// the outcome is "undetermined". Only the two exceptions of the regulation
// (scheduled maintenance, Art. 3(2); a small DNS misconfiguration, Art. 5(c))
// must be claimed to apply.

// SignificanceFacts describe one incident of one entity. A nil pointer is
// an unknown fact, which is not the same as false or 0. Counts of users are
// of users in the Union, counted as Art. 3(3) of 2024/2690 says (customers
// with a contract and persons associated with business customers). A fact
// set to true means that the incident caused the effect or is capable of
// causing it, as the criteria read.
type SignificanceFacts struct {
	EntityType string `json:"entity_type"` // taxonomy code of the service hit

	// Art. 3(2): a scheduled interruption of service or a planned
	// consequence of scheduled maintenance. Absent means not claimed.
	ScheduledMaintenance bool `json:"scheduled_maintenance,omitempty"`

	// General criteria, Art. 3(1)(a) to (e).
	TurnoverPrevFYEUR                     *float64 `json:"turnover_prev_fy_eur,omitempty"`
	DirectFinancialLossEUR                *float64 `json:"direct_financial_loss_eur,omitempty"`
	TradeSecretExfiltration               *bool    `json:"trade_secret_exfiltration,omitempty"`
	Death                                 *bool    `json:"death,omitempty"`
	ConsiderableHealthDamage              *bool    `json:"considerable_health_damage,omitempty"`
	SuccessfulMaliciousUnauthorisedAccess *bool    `json:"successful_malicious_unauthorised_access,omitempty"`
	CapableSevereDisruption               *bool    `json:"capable_severe_disruption,omitempty"`

	// Recurring incidents, Art. 4. RelatedIncidents lists the entity's
	// earlier (or later) incidents; nil is unknown, an empty list is none.
	IncidentDate     string            `json:"incident_date,omitempty"` // YYYY-MM-DD
	RootCause        string            `json:"root_cause,omitempty"`    // identifier of the apparent root cause
	RelatedIncidents []RelatedIncident `json:"related_incidents"`

	// Entity-specific criteria, Art. 5 to 14.
	ServiceUsersEU                *int64   `json:"service_users_eu,omitempty"` // U
	CompleteUnavailabilityMinutes *float64 `json:"complete_unavailability_minutes,omitempty"`
	CompleteUnavailabilityUsers   *int64   `json:"complete_unavailability_users,omitempty"`
	LimitedAvailabilityMinutes    *float64 `json:"limited_availability_minutes,omitempty"`
	LimitedAvailabilityUsers      *int64   `json:"limited_availability_users,omitempty"`
	AvgResponseTimeSeconds        *float64 `json:"avg_response_time_seconds,omitempty"`
	AvgResponseTimeMinutes        *float64 `json:"avg_response_time_minutes,omitempty"` // how long that average lasted
	CIACompromised                *bool    `json:"cia_compromised,omitempty"`           // integrity, confidentiality or authenticity of data
	SuspectedMalicious            *bool    `json:"suspected_malicious,omitempty"`
	CIAAffectedUsers              *int64   `json:"cia_affected_users,omitempty"`
	PhysicalAccessCompromised     *bool    `json:"physical_access_compromised,omitempty"`
	Misconfiguration              bool     `json:"misconfiguration,omitempty"` // DNS: the data are wrong only because of a misconfiguration
	DomainNamesAffected           *int64   `json:"domain_names_affected,omitempty"`
	DomainNamesManaged            *int64   `json:"domain_names_managed,omitempty"`
	WeekOutages                   []Outage `json:"week_outages"` // trust services: every outage of the calendar week, this one included

	// The directive's qualitative test (Art. 23(3)), for entity types
	// outside 2024/2690: the entity's own assessment.
	SevereOperationalDisruption *bool `json:"severe_operational_disruption,omitempty"`
	SevereFinancialLoss         *bool `json:"severe_financial_loss,omitempty"`
	ConsiderableDamageToOthers  *bool `json:"considerable_damage_to_others,omitempty"`
}

// RelatedIncident is another incident of the entity, for Art. 4. An
// incident that was significant on its own is left out of the grouping.
type RelatedIncident struct {
	Date                   string   `json:"date"` // YYYY-MM-DD
	RootCause              string   `json:"root_cause"`
	DirectFinancialLossEUR *float64 `json:"direct_financial_loss_eur,omitempty"` // nil: unknown
	Significant            bool     `json:"significant,omitempty"`
	Reference              string   `json:"reference,omitempty"` // the entity's or the authority's incident reference
}

// Outage is one period in which a trust service was unavailable. It counts
// in the ISO calendar week (Monday to Sunday) of Date.
type Outage struct {
	Date    string   `json:"date"` // YYYY-MM-DD
	Minutes *float64 `json:"minutes"`
}

// SignificanceRegime names the test that applies to the entity type.
type SignificanceRegime string

// Regimes.
const (
	RegimeImplementingRegulation SignificanceRegime = "reg_2024_2690"         // thresholds of 2024/2690
	RegimeQualitative            SignificanceRegime = "nis2_23_3_qualitative" // the directive's qualitative test
)

// SignificanceOutcome is the answer.
type SignificanceOutcome string

// Outcomes. Undetermined: no criterion is met and at least one could not be
// evaluated.
const (
	OutcomeSignificant    SignificanceOutcome = "significant"
	OutcomeNotSignificant SignificanceOutcome = "not_significant"
	OutcomeUndetermined   SignificanceOutcome = "undetermined"
)

// CriterionStatus is the result of one criterion.
type CriterionStatus string

// Criterion results.
const (
	CriterionMet          CriterionStatus = "met"
	CriterionNotMet       CriterionStatus = "not_met"
	CriterionNotEvaluated CriterionStatus = "not_evaluated"
)

// ExclusionCode is the code in DecidedBy when Art. 3(2) applies.
const ExclusionCode = "3.2"

// SignificanceDecision is the result of AssessSignificance. DecidedBy lists
// the codes of the criteria met, or ExclusionCode.
type SignificanceDecision struct {
	Significant bool                `json:"significant"`
	Outcome     SignificanceOutcome `json:"outcome"`
	OutcomeKey  string              `json:"outcome_key"`
	DecidedBy   []string            `json:"decided_by"`
	EntityType  string              `json:"entity_type"`
	Regime      SignificanceRegime  `json:"regime"`
	RegimeKey   string              `json:"regime_key"`
	Criteria    []Criterion         `json:"criteria"`
	Thresholds  []Threshold         `json:"thresholds"`
	Notes       []SignificanceNote  `json:"notes"`
	References  []string            `json:"references"`
}

// Criterion is one test and its result. ReasonKey is the i18n key of a
// sentence filled from ReasonArgs (numbers are JSON numbers, to format in
// the reader's language); Missing names the facts that would let a
// criterion that was not evaluated be evaluated.
type Criterion struct {
	Code       string          `json:"code"` // "7a"
	ID         string          `json:"id"`   // "2024/2690 Art. 7(a)"
	Status     CriterionStatus `json:"status"`
	Met        bool            `json:"met"`
	Evaluated  bool            `json:"evaluated"`
	ReasonKey  string          `json:"reason_key"`
	ReasonArgs map[string]any  `json:"reason_args"`
	Missing    []string        `json:"missing,omitempty"`
	Reference  string          `json:"reference"`
}

// Threshold is a threshold T(p, N) = min(p × base, N) the criteria used,
// with base the users in the Union (U) or the turnover. Value is nil when
// the base is unknown; N is then only an upper bound.
type Threshold struct {
	Name     string   `json:"name"` // "T(5 %, 1 000 000)"
	Of       string   `json:"of"`   // the fact that is the base
	Percent  float64  `json:"percent"`
	Cap      float64  `json:"cap"`
	Base     *float64 `json:"base"`
	Value    *float64 `json:"value"`
	Criteria []string `json:"criteria"`
}

// SignificanceNote is a remark, as an i18n key and its arguments.
type SignificanceNote struct {
	Key  string         `json:"key"`
	Args map[string]any `json:"args,omitempty"`
}

const (
	reg2690   = "Commission Implementing Regulation (EU) 2024/2690, "
	dateShape = "2006-01-02"
)

// sigArticles gives the article of 2024/2690 for each relevant entity type.
var sigArticles = map[string]string{
	typeDNS: "5", typeTLD: "6", "digital_infra.cloud": "7", "digital_infra.data_centre": "8", "digital_infra.cdn": "9",
	"ict_b2b.msp": "10", "ict_b2b.mssp": "10", "digital_provider.marketplace": "11", "digital_provider.search_engine": "12",
	"digital_provider.social_network": "13", typeTrustService: "14",
}

// SignificanceArticle returns the article of Implementing Regulation (EU)
// 2024/2690 with the criteria for an entity type, and whether the
// regulation covers the type at all.
func SignificanceArticle(code string) (string, bool) {
	a, ok := sigArticles[code]
	return a, ok
}

// sigF converts an optional count to an optional float.
func sigF(p *int64) *float64 {
	if p == nil {
		return nil
	}
	x := float64(*p)
	return &x
}

// sigTri is a three-valued answer: no, yes, or unknown.
type sigTri int8

const (
	triNo sigTri = iota
	triYes
	triUnknown
)

func sigGT(x *float64, limit float64) sigTri {
	switch {
	case x == nil:
		return triUnknown
	case *x > limit:
		return triYes
	}
	return triNo
}

func sigBool(b *bool) sigTri {
	switch {
	case b == nil:
		return triUnknown
	case *b:
		return triYes
	}
	return triNo
}

// sigShare is T(p, N) = min(num/den × base, N) before the base is known.
type sigShare struct {
	name     string
	of       string
	num, den float64
	cap      float64
}

var (
	usersT5  = sigShare{"T(5 %, 1 000 000)", "service_users_eu", 5, 100, 1_000_000}
	usersT1  = sigShare{"T(1 %, 200 000)", "service_users_eu", 1, 100, 200_000}
	usersT01 = sigShare{"T(0.1 %, 100)", "service_users_eu", 1, 1000, 100}
	lossT    = sigShare{"T(5 %, 500 000)", "turnover_prev_fy_eur", 5, 100, 500_000}
)

// sigBound is a threshold with its base, known or not.
type sigBound struct {
	sigShare
	known bool
	value float64
}

func (s sigShare) bound(base *float64) sigBound {
	if base == nil {
		return sigBound{sigShare: s}
	}
	return sigBound{sigShare: s, known: true, value: min(*base*s.num/s.den, s.cap)}
}

// limit is the threshold, or its cap N when the base is unknown.
func (b sigBound) limit() float64 {
	if b.known {
		return b.value
	}
	return b.cap
}

// exceeded says whether x is more than the threshold. With the base unknown
// the threshold lies between 0 and N: x > N is decisive, and so is x = 0.
func (b sigBound) exceeded(x *float64) sigTri {
	switch {
	case x == nil:
		return triUnknown
	case b.known:
		return sigGT(x, b.value)
	case *x > b.cap:
		return triYes
	case *x == 0:
		return triNo
	}
	return triUnknown
}

// sigCheck is the result of one criterion.
type sigCheck struct {
	res     sigTri
	key     string
	args    map[string]any
	missing []string
}

func sigMet(key string, args map[string]any) sigCheck {
	return sigCheck{res: triYes, key: key, args: args}
}
func sigNotMet(key string, args map[string]any) sigCheck {
	return sigCheck{res: triNo, key: key, args: args}
}

// sigUnknown is a criterion that cannot be evaluated for lack of facts.
func sigUnknown(missing ...string) sigCheck {
	return sigCheck{res: triUnknown, key: "nis2.sig.not_evaluated", missing: missing}
}

// sigNum is a number for reason arguments: a JSON number that prints
// without an exponent.
func sigNum(x float64) json.Number { return json.Number(strconv.FormatFloat(x, 'f', -1, 64)) }

// sigEval holds the facts while they are assessed.
type sigEval struct {
	f       SignificanceFacts
	date    time.Time
	hasDate bool
	loss    sigBound
}

// sigCrit is one criterion: its code, the article it reads, the threshold
// it uses (if any) and its test.
type sigCrit struct {
	code, id, ref string
	uses          *sigShare
	eval          func(*sigEval) sigCheck
}

func regCrit(code, article string, uses *sigShare, eval func(*sigEval) sigCheck) sigCrit {
	return sigCrit{code: code, id: "2024/2690 Art. " + article, ref: reg2690 + "Art. " + article, uses: uses, eval: eval}
}

// sigSpecific builds the four criteria that Art. 7, 9 and 10 share, or the
// four of Art. 11 to 13.
func sigSpecific(art string, platform bool) []sigCrit {
	if platform {
		return []sigCrit{
			regCrit(art+"a", art+"(a)", &usersT5, critUsers(usersT5, "complete_unavailability_users", sigDownUsers, "nis2.sig.users_down.met", "nis2.sig.users_down.few")),
			regCrit(art+"b", art+"(b)", &usersT5, critUsers(usersT5, "limited_availability_users", sigLimitedUsers, "nis2.sig.users_limited.met", "nis2.sig.users_limited.few")),
			regCrit(art+"c", art+"(c)", nil, critCIAMalicious),
			regCrit(art+"d", art+"(d)", &usersT5, critCIAUsers(usersT5)),
		}
	}
	return []sigCrit{
		regCrit(art+"a", art+"(a)", nil, critOutage(30)),
		regCrit(art+"b", art+"(b)", &usersT5, critLimited(usersT5)),
		regCrit(art+"c", art+"(c)", nil, critCIAMalicious),
		regCrit(art+"d", art+"(d)", &usersT5, critCIAUsers(usersT5)),
	}
}

// sigCriteria lists the criteria for an entity type, in the order of the
// legal texts.
func sigCriteria(code string) []sigCrit {
	art, ok := sigArticles[code]
	if !ok {
		return []sigCrit{
			{code: "23.3a.disruption", id: "NIS2 Art. 23(3)(a)", ref: dirNIS2 + "Art. 23(3)(a)", eval: sigAsserted(func(f SignificanceFacts) *bool { return f.SevereOperationalDisruption },
				"severe_operational_disruption", "nis2.sig.disruption.met", "nis2.sig.disruption.not_met")},
			{code: "23.3a.loss", id: "NIS2 Art. 23(3)(a)", ref: dirNIS2 + "Art. 23(3)(a)", eval: sigAsserted(func(f SignificanceFacts) *bool { return f.SevereFinancialLoss },
				"severe_financial_loss", "nis2.sig.financial_loss.met", "nis2.sig.financial_loss.not_met")},
			{code: "23.3b", id: "NIS2 Art. 23(3)(b)", ref: dirNIS2 + "Art. 23(3)(b)", eval: sigAsserted(func(f SignificanceFacts) *bool { return f.ConsiderableDamageToOthers },
				"considerable_damage_to_others", "nis2.sig.others.met", "nis2.sig.others.not_met")},
		}
	}
	crits := []sigCrit{
		regCrit("3a", "3(1)(a)", &lossT, critLoss),
		regCrit("3b", "3(1)(b)", nil, sigAsserted(func(f SignificanceFacts) *bool { return f.TradeSecretExfiltration },
			"trade_secret_exfiltration", "nis2.sig.trade_secrets.met", "nis2.sig.trade_secrets.not_met")),
		regCrit("3c", "3(1)(c)", nil, sigAsserted(func(f SignificanceFacts) *bool { return f.Death },
			"death", "nis2.sig.death.met", "nis2.sig.death.not_met")),
		regCrit("3d", "3(1)(d)", nil, sigAsserted(func(f SignificanceFacts) *bool { return f.ConsiderableHealthDamage },
			"considerable_health_damage", "nis2.sig.health.met", "nis2.sig.health.not_met")),
		regCrit("3e", "3(1)(e)", nil, critAccess),
		regCrit("3f", "3(1)(f) and Art. 4", &lossT, critRecurring),
	}
	switch art {
	case "5", "6":
		a := critOutage(30)
		c := regCrit("5c", "5(c)", nil, critDNSData)
		if art == "6" {
			a = critOutageAny
			c = regCrit("6c", "6(c)", nil, sigAsserted(func(f SignificanceFacts) *bool { return f.CIACompromised },
				"cia_compromised", "nis2.sig.cia.met", "nis2.sig.cia.none"))
		}
		return append(crits, regCrit(art+"a", art+"(a)", nil, a), regCrit(art+"b", art+"(b)", nil, critResponse), c)
	case "8":
		return append(crits,
			regCrit("8a", "8(a)", nil, critOutageAny),
			regCrit("8b", "8(b)", nil, critLimitedLong),
			regCrit("8c", "8(c)", nil, critCIAMalicious),
			regCrit("8d", "8(d)", nil, critPhysical))
	case "11", "12", "13":
		return append(crits, sigSpecific(art, true)...)
	case "14":
		return append(crits,
			regCrit("14a", "14(a)", nil, critOutage(20)),
			regCrit("14b", "14(b)", nil, critWeek),
			regCrit("14c", "14(c)", &usersT1, critUsers(usersT1, "limited_availability_users", sigLimitedUsers, "nis2.sig.users_limited.met", "nis2.sig.users_limited.few")),
			regCrit("14d", "14(d)", nil, critPhysical),
			regCrit("14e", "14(e)", &usersT01, critCIAUsers(usersT01)))
	}
	return append(crits, sigSpecific(art, false)...) // 7, 9, 10
}

// sigAsserted is a criterion met when one fact is true.
func sigAsserted(fact func(SignificanceFacts) *bool, name, metKey, notKey string) func(*sigEval) sigCheck {
	return func(e *sigEval) sigCheck {
		switch sigBool(fact(e.f)) {
		case triYes:
			return sigMet(metKey, nil)
		case triNo:
			return sigNotMet(notKey, nil)
		}
		return sigUnknown(name)
	}
}

// critLoss is Art. 3(1)(a): loss > min(500 000, 5 % of turnover).
func critLoss(e *sigEval) sigCheck {
	loss := e.f.DirectFinancialLossEUR
	switch {
	case loss == nil && e.f.TurnoverPrevFYEUR == nil:
		return sigUnknown("direct_financial_loss_eur", "turnover_prev_fy_eur")
	case loss == nil:
		return sigUnknown("direct_financial_loss_eur")
	case *loss == 0:
		return sigNotMet("nis2.sig.loss.none", nil)
	}
	args := map[string]any{"loss": sigNum(*loss), "threshold": sigNum(e.loss.limit())}
	switch e.loss.exceeded(loss) {
	case triYes:
		return sigMet("nis2.sig.loss.met", args)
	case triNo:
		return sigNotMet("nis2.sig.loss.not_met", args)
	}
	return sigUnknown("turnover_prev_fy_eur")
}

// critAccess is Art. 3(1)(e).
func critAccess(e *sigEval) sigCheck {
	access, severe := sigBool(e.f.SuccessfulMaliciousUnauthorisedAccess), sigBool(e.f.CapableSevereDisruption)
	switch {
	case access == triNo:
		return sigNotMet("nis2.sig.access.none", nil)
	case severe == triNo:
		return sigNotMet("nis2.sig.access.not_severe", nil)
	case access == triYes && severe == triYes:
		return sigMet("nis2.sig.access.met", nil)
	}
	return sigUnknown(sigMissing(sigAnswer{access, "successful_malicious_unauthorised_access"}, sigAnswer{severe, "capable_severe_disruption"})...)
}

// sigAnswer is the answer about one fact.
type sigAnswer struct {
	tri  sigTri
	fact string
}

// sigMissing names the facts whose answer is unknown.
func sigMissing(answers ...sigAnswer) []string {
	var out []string
	for _, a := range answers {
		if a.tri == triUnknown {
			out = append(out, a.fact)
		}
	}
	return out
}

// critRecurring is Art. 4: incidents not significant on their own, at least two
// within 6 months, with the same apparent root cause, whose combined loss
// meets Art. 3(1)(a). This incident must be one of them; every 6-month
// window that holds it is tried.
func critRecurring(e *sigEval) sigCheck {
	f := e.f
	if f.RelatedIncidents == nil {
		return sigUnknown("related_incidents")
	}
	if len(f.RelatedIncidents) == 0 {
		return sigNotMet("nis2.sig.recurring.alone", nil)
	}
	var miss []string
	if !e.hasDate {
		miss = append(miss, "incident_date")
	}
	if strings.TrimSpace(f.RootCause) == "" {
		miss = append(miss, "root_cause")
	}
	if len(miss) > 0 {
		return sigUnknown(miss...)
	}
	type incident struct {
		date time.Time
		loss *float64
		own  bool
	}
	group := []incident{{e.date, f.DirectFinancialLossEUR, true}}
	for _, r := range f.RelatedIncidents {
		if strings.TrimSpace(r.RootCause) == strings.TrimSpace(f.RootCause) && !r.Significant {
			d, _ := time.Parse(dateShape, r.Date)
			group = append(group, incident{d, r.DirectFinancialLossEUR, false})
		}
	}
	slices.SortStableFunc(group, func(a, b incident) int { return a.date.Compare(b.date) })
	res, found := triNo, false
	var best map[string]any
	var bestSum float64
	lossMissing := map[string]bool{}
	for i, start := range group {
		end := AddMonths(start.date, 6) // clamped at month end (nis2.md §2.4)
		if start.date.After(e.date) || end.Before(e.date) {
			continue // the window must hold this incident
		}
		var sum float64
		n, unknownLoss, last := 0, false, start.date
		for _, x := range group[i:] {
			if x.date.After(end) {
				break
			}
			n++
			last = x.date
			if x.loss == nil {
				unknownLoss = true
				name := "related_incidents[].direct_financial_loss_eur"
				if x.own {
					name = "direct_financial_loss_eur"
				}
				lossMissing[name] = true
				continue
			}
			sum += *x.loss
		}
		if n < 2 {
			continue
		}
		r := e.loss.exceeded(&sum)
		if r == triNo && unknownLoss {
			r = triUnknown
		}
		args := map[string]any{"count": n, "root_cause": f.RootCause, "from": start.date.Format(dateShape), "to": last.Format(dateShape),
			"loss": sigNum(sum), "threshold": sigNum(e.loss.limit())}
		if r == triYes {
			return sigMet("nis2.sig.recurring.met", args)
		}
		if !found || sum > bestSum {
			best, bestSum, found = args, sum, true
		}
		if r == triUnknown {
			res = triUnknown
		}
	}
	switch {
	case !found:
		return sigNotMet("nis2.sig.recurring.alone", nil)
	case res == triNo:
		return sigNotMet("nis2.sig.recurring.below", best)
	}
	if !e.loss.known {
		lossMissing["turnover_prev_fy_eur"] = true
	}
	return sigUnknown(slices.Sorted(maps.Keys(lossMissing))...)
}

// critOutage is "completely unavailable for more than limit minutes".
func critOutage(limit float64) func(*sigEval) sigCheck {
	return func(e *sigEval) sigCheck {
		m := e.f.CompleteUnavailabilityMinutes
		if m == nil {
			return sigUnknown("complete_unavailability_minutes")
		}
		args := map[string]any{"minutes": sigNum(*m), "limit": sigNum(limit)}
		if *m > limit {
			return sigMet("nis2.sig.outage.met", args)
		}
		return sigNotMet("nis2.sig.outage.not_met", args)
	}
}

// critOutageAny is "completely unavailable", for any length of time.
func critOutageAny(e *sigEval) sigCheck {
	m := e.f.CompleteUnavailabilityMinutes
	switch sigGT(m, 0) {
	case triYes:
		return sigMet("nis2.sig.outage_any.met", map[string]any{"minutes": sigNum(*m)})
	case triNo:
		return sigNotMet("nis2.sig.outage_any.not_met", nil)
	}
	return sigUnknown("complete_unavailability_minutes")
}

// critResponse is "for more than one hour, the average response time is
// more than 10 seconds" (Art. 5(b), 6(b)).
func critResponse(e *sigEval) sigCheck {
	s, m := e.f.AvgResponseTimeSeconds, e.f.AvgResponseTimeMinutes
	slow, long := sigGT(s, 10), sigGT(m, 60)
	switch {
	case slow == triYes && long == triYes:
		return sigMet("nis2.sig.response.met", map[string]any{"seconds": sigNum(*s), "minutes": sigNum(*m)})
	case slow == triNo:
		return sigNotMet("nis2.sig.response.fast", map[string]any{"seconds": sigNum(*s)})
	case long == triNo:
		return sigNotMet("nis2.sig.response.short", map[string]any{"minutes": sigNum(*m)})
	}
	return sigUnknown(sigMissing(sigAnswer{slow, "avg_response_time_seconds"}, sigAnswer{long, "avg_response_time_minutes"})...)
}

// critDNSData is Art. 5(c): authoritative DNS data compromised, except when a
// misconfiguration makes fewer than 1 000 names, and at most 1 % of the
// names managed, incorrect.
func critDNSData(e *sigEval) sigCheck {
	f := e.f
	cia := sigBool(f.CIACompromised)
	if cia == triNo {
		return sigNotMet("nis2.sig.cia.none", nil)
	}
	exc := triNo
	if f.Misconfiguration {
		a, m := f.DomainNamesAffected, f.DomainNamesManaged
		switch {
		case a != nil && *a >= 1000:
		case a != nil && m != nil && *a*100 > *m:
		case a != nil && m != nil:
			exc = triYes
		default:
			exc = triUnknown
		}
	}
	switch {
	case exc == triYes:
		share := 0.0
		if *f.DomainNamesManaged > 0 {
			share = float64(*f.DomainNamesAffected) * 100 / float64(*f.DomainNamesManaged)
		}
		return sigNotMet("nis2.sig.dns_data.exception", map[string]any{"affected": *f.DomainNamesAffected,
			"managed": *f.DomainNamesManaged, "share": sigNum(float64(int64(share*100+0.5)) / 100)})
	case cia == triYes && exc == triNo:
		return sigMet("nis2.sig.dns_data.met", nil)
	}
	miss := sigMissing(sigAnswer{cia, "cia_compromised"})
	if exc == triUnknown {
		if f.DomainNamesAffected == nil {
			miss = append(miss, "domain_names_affected")
		}
		if f.DomainNamesManaged == nil {
			miss = append(miss, "domain_names_managed")
		}
	}
	return sigUnknown(miss...)
}

// sigUsersMissing names the facts that left a user count unanswered.
func sigUsersMissing(users *int64, name string, u *int64) []string {
	if users == nil {
		return []string{name}
	}
	if u == nil {
		return []string{"service_users_eu"}
	}
	return nil
}

// critUsers is "more than T users are affected", with the count in field
// name (Art. 11 to 13(a) and (b), 14(c)).
func critUsers(t sigShare, name string, count func(SignificanceFacts) *int64, metKey, fewKey string) func(*sigEval) sigCheck {
	return func(e *sigEval) sigCheck {
		users := count(e.f)
		b := t.bound(sigF(e.f.ServiceUsersEU))
		switch b.exceeded(sigF(users)) {
		case triYes:
			return sigMet(metKey, map[string]any{"users": *users, "threshold": sigNum(b.limit())})
		case triNo:
			if *users == 0 {
				return sigNotMet("nis2.sig.no_users", nil)
			}
			return sigNotMet(fewKey, map[string]any{"users": *users, "threshold": sigNum(b.limit())})
		}
		return sigUnknown(sigUsersMissing(users, name, e.f.ServiceUsersEU)...)
	}
}

func sigDownUsers(f SignificanceFacts) *int64    { return f.CompleteUnavailabilityUsers }
func sigLimitedUsers(f SignificanceFacts) *int64 { return f.LimitedAvailabilityUsers }

// critLimited is "availability limited for more than T users for more than one
// hour" (Art. 7(b), 9(b), 10(b)).
func critLimited(t sigShare) func(*sigEval) sigCheck {
	return func(e *sigEval) sigCheck {
		users, m := e.f.LimitedAvailabilityUsers, e.f.LimitedAvailabilityMinutes
		b := t.bound(sigF(e.f.ServiceUsersEU))
		many, long := b.exceeded(sigF(users)), sigGT(m, 60)
		switch {
		case many == triYes && long == triYes:
			return sigMet("nis2.sig.limited.met", map[string]any{"users": *users, "minutes": sigNum(*m), "threshold": sigNum(b.limit())})
		case long == triNo:
			return sigNotMet("nis2.sig.limited.short", map[string]any{"minutes": sigNum(*m)})
		case many == triNo && *users == 0:
			return sigNotMet("nis2.sig.no_users", nil)
		case many == triNo:
			return sigNotMet("nis2.sig.limited.few", map[string]any{"users": *users, "threshold": sigNum(b.limit())})
		}
		var miss []string
		if many == triUnknown {
			miss = sigUsersMissing(users, "limited_availability_users", e.f.ServiceUsersEU)
		}
		return sigUnknown(append(miss, sigMissing(sigAnswer{long, "limited_availability_minutes"})...)...)
	}
}

// critLimitedLong is "availability limited for more than one hour" (Art. 8(b)).
func critLimitedLong(e *sigEval) sigCheck {
	m := e.f.LimitedAvailabilityMinutes
	switch sigGT(m, 60) {
	case triYes:
		return sigMet("nis2.sig.limited_long.met", map[string]any{"minutes": sigNum(*m)})
	case triNo:
		return sigNotMet("nis2.sig.limited.short", map[string]any{"minutes": sigNum(*m)})
	}
	return sigUnknown("limited_availability_minutes")
}

// critCIAMalicious is "data compromised as a result of a suspectedly malicious
// action".
func critCIAMalicious(e *sigEval) sigCheck {
	cia, mal := sigBool(e.f.CIACompromised), sigBool(e.f.SuspectedMalicious)
	switch {
	case cia == triNo:
		return sigNotMet("nis2.sig.cia.none", nil)
	case mal == triNo:
		return sigNotMet("nis2.sig.cia_malicious.not_malicious", nil)
	case cia == triYes && mal == triYes:
		return sigMet("nis2.sig.cia_malicious.met", nil)
	}
	return sigUnknown(sigMissing(sigAnswer{cia, "cia_compromised"}, sigAnswer{mal, "suspected_malicious"})...)
}

// critCIAUsers is "data compromised with an impact on more than T users".
func critCIAUsers(t sigShare) func(*sigEval) sigCheck {
	return func(e *sigEval) sigCheck {
		cia := sigBool(e.f.CIACompromised)
		users := e.f.CIAAffectedUsers
		b := t.bound(sigF(e.f.ServiceUsersEU))
		many := b.exceeded(sigF(users))
		switch {
		case cia == triNo:
			return sigNotMet("nis2.sig.cia.none", nil)
		case many == triNo && *users == 0:
			return sigNotMet("nis2.sig.no_users", nil)
		case many == triNo:
			return sigNotMet("nis2.sig.cia_users.few", map[string]any{"users": *users, "threshold": sigNum(b.limit())})
		case cia == triYes && many == triYes:
			return sigMet("nis2.sig.cia_users.met", map[string]any{"users": *users, "threshold": sigNum(b.limit())})
		}
		miss := sigMissing(sigAnswer{cia, "cia_compromised"})
		if many == triUnknown {
			miss = append(miss, sigUsersMissing(users, "cia_affected_users", e.f.ServiceUsersEU)...)
		}
		return sigUnknown(miss...)
	}
}

// critPhysical is "physical access compromised" (Art. 8(d), 14(d)).
var critPhysical = sigAsserted(func(f SignificanceFacts) *bool { return f.PhysicalAccessCompromised },
	"physical_access_compromised", "nis2.sig.physical.met", "nis2.sig.physical.not_met")

// critWeek is Art. 14(b): unavailable for more than one hour calculated on a
// calendar week basis, read as the total of the week's outages. The week is
// the ISO week of the incident date, or, without a date, the week with the
// longest total.
func critWeek(e *sigEval) sigCheck {
	f := e.f
	own := f.CompleteUnavailabilityMinutes
	if f.WeekOutages == nil {
		if sigGT(own, 60) == triYes {
			return sigMet("nis2.sig.week.single", map[string]any{"minutes": sigNum(*own)})
		}
		return sigUnknown("week_outages")
	}
	week, total, count := sigWeek(e)
	if own != nil && *own > total {
		total = *own // this incident's outage is at least part of the week
	}
	args := map[string]any{"minutes": sigNum(total), "count": count, "week": week}
	if total > 60 {
		return sigMet("nis2.sig.week.met", args)
	}
	return sigNotMet("nis2.sig.week.not_met", args)
}

// sigWeek returns the calendar week that 14(b) reads, its total minutes and
// its number of outages.
func sigWeek(e *sigEval) (week string, total float64, count int) {
	totals, counts := map[string]float64{}, map[string]int{}
	for _, o := range e.f.WeekOutages {
		d, _ := time.Parse(dateShape, o.Date)
		w := sigISOWeek(d)
		totals[w] += *o.Minutes
		counts[w]++
	}
	if e.hasDate {
		week = sigISOWeek(e.date)
	} else {
		for _, w := range slices.Sorted(maps.Keys(totals)) {
			if week == "" || totals[w] > totals[week] {
				week = w
			}
		}
	}
	if week == "" {
		return "?", 0, 0 // no date and no outage
	}
	return week, totals[week], counts[week]
}

func sigISOWeek(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

// sigUsed lists, per article ("" for the directive's test), the facts
// besides entity_type that the criteria read.
var sigUsed = map[string][]string{
	"":   {"severe_operational_disruption", "severe_financial_loss", "considerable_damage_to_others"},
	"5":  {"complete_unavailability_minutes", "avg_response_time_seconds", "avg_response_time_minutes", "cia_compromised", "misconfiguration", "domain_names_affected", "domain_names_managed"},
	"6":  {"complete_unavailability_minutes", "avg_response_time_seconds", "avg_response_time_minutes", "cia_compromised"},
	"7":  {"service_users_eu", "complete_unavailability_minutes", "limited_availability_minutes", "limited_availability_users", "cia_compromised", "suspected_malicious", "cia_affected_users"},
	"8":  {"complete_unavailability_minutes", "limited_availability_minutes", "cia_compromised", "suspected_malicious", "physical_access_compromised"},
	"11": {"service_users_eu", "complete_unavailability_users", "limited_availability_users", "cia_compromised", "suspected_malicious", "cia_affected_users"},
	"14": {"service_users_eu", "complete_unavailability_minutes", "week_outages", "limited_availability_users", "physical_access_compromised", "cia_compromised", "cia_affected_users"},
}

// sigGeneral lists the facts of Art. 3 and 4, read for every relevant entity.
var sigGeneral = []string{"scheduled_maintenance", "turnover_prev_fy_eur", "direct_financial_loss_eur", "trade_secret_exfiltration", "death",
	"considerable_health_damage", "successful_malicious_unauthorised_access", "capable_severe_disruption", "incident_date", "root_cause", "related_incidents"}

// unusedFacts names the facts given that the test for the type does not read.
func (f SignificanceFacts) unusedFacts(art string, relevant bool) []string {
	switch art {
	case "9", "10":
		art = "7"
	case "12", "13":
		art = "11"
	}
	used := map[string]bool{"entity_type": true}
	for _, n := range sigUsed[art] {
		used[n] = true
	}
	if relevant {
		for _, n := range sigGeneral {
			used[n] = true
		}
	}
	var out []string
	rv := reflect.ValueOf(f)
	for i := range rv.NumField() {
		name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ",")
		if !used[name] && !rv.Field(i).IsZero() {
			out = append(out, name)
		}
	}
	return out
}

// LabelKey is the i18n key of the outcome's name.
func (o SignificanceOutcome) LabelKey() string {
	return map[SignificanceOutcome]string{
		OutcomeSignificant:    "nis2.sig.outcome.significant",
		OutcomeNotSignificant: "nis2.sig.outcome.not_significant",
		OutcomeUndetermined:   "nis2.sig.outcome.undetermined",
	}[o]
}

// LabelKey is the i18n key of the regime's name.
func (r SignificanceRegime) LabelKey() string {
	if r == RegimeQualitative {
		return "nis2.sig.regime.nis2_23_3_qualitative"
	}
	return "nis2.sig.regime.reg_2024_2690"
}

// LabelKey is the i18n key of the status's name.
func (s CriterionStatus) LabelKey() string {
	return map[CriterionStatus]string{
		CriterionMet:          "nis2.sig.status.met",
		CriterionNotMet:       "nis2.sig.status.not_met",
		CriterionNotEvaluated: "nis2.sig.status.not_evaluated",
	}[s]
}

// AssessSignificance decides whether the incident the facts describe is
// significant. It validates the facts first and returns an errs.Invalid
// error for bad facts.
func AssessSignificance(f SignificanceFacts) (SignificanceDecision, error) {
	if err := f.Validate(); err != nil {
		return SignificanceDecision{}, err
	}
	e := &sigEval{f: f, loss: lossT.bound(f.TurnoverPrevFYEUR)}
	if d, err := time.Parse(dateShape, f.IncidentDate); err == nil {
		e.date, e.hasDate = d, true
	}
	art, relevant := sigArticles[f.EntityType]
	d := SignificanceDecision{EntityType: f.EntityType, Regime: RegimeImplementingRegulation, DecidedBy: []string{},
		Thresholds: []Threshold{}, Notes: []SignificanceNote{}}
	if !relevant {
		d.Regime = RegimeQualitative
	}
	d.RegimeKey = d.Regime.LabelKey()
	var met, miss []string
	unknown := false
	crits := sigCriteria(f.EntityType)
	for _, c := range crits {
		ch := c.eval(e)
		cr := Criterion{Code: c.code, ID: c.id, Met: ch.res == triYes, Evaluated: ch.res != triUnknown,
			ReasonKey: ch.key, ReasonArgs: ch.args, Missing: ch.missing, Reference: c.ref}
		switch ch.res {
		case triYes:
			cr.Status = CriterionMet
			met = append(met, c.code)
		case triNo:
			cr.Status = CriterionNotMet
		default:
			cr.Status = CriterionNotEvaluated
			cr.ReasonArgs = map[string]any{"facts": strings.Join(ch.missing, ", ")}
			unknown = true
			miss = append(miss, ch.missing...)
		}
		if cr.ReasonArgs == nil {
			cr.ReasonArgs = map[string]any{}
		}
		d.Criteria = append(d.Criteria, cr)
	}
	d.Thresholds = sigThresholds(f, crits)
	switch {
	case relevant && f.ScheduledMaintenance:
		d.Outcome, d.DecidedBy = OutcomeNotSignificant, []string{ExclusionCode}
	case len(met) > 0:
		d.Outcome, d.DecidedBy = OutcomeSignificant, met
	case unknown:
		d.Outcome = OutcomeUndetermined
	default:
		d.Outcome = OutcomeNotSignificant
	}
	d.Significant = d.Outcome == OutcomeSignificant
	d.OutcomeKey = d.Outcome.LabelKey()
	d.References = sigReferences(art, relevant)
	d.Notes = sigNotes(e, d, art, relevant, miss)
	return d, nil
}

// sigThresholds lists the thresholds the criteria use, with their values.
func sigThresholds(f SignificanceFacts, crits []sigCrit) []Threshold {
	out := []Threshold{}
	at := map[string]int{}
	for _, c := range crits {
		if c.uses == nil {
			continue
		}
		i, ok := at[c.uses.name]
		if !ok {
			base := sigF(f.ServiceUsersEU)
			if c.uses.of == "turnover_prev_fy_eur" {
				base = f.TurnoverPrevFYEUR
			}
			b := c.uses.bound(base)
			t := Threshold{Name: c.uses.name, Of: c.uses.of, Percent: c.uses.num * 100 / c.uses.den, Cap: c.uses.cap, Base: base}
			if b.known {
				t.Value = &b.value
			}
			i = len(out)
			at[c.uses.name] = i
			out = append(out, t)
		}
		out[i].Criteria = append(out[i].Criteria, c.code)
	}
	return out
}

func sigReferences(art string, relevant bool) []string {
	if !relevant {
		return []string{dirNIS2 + "Art. 23(3)"}
	}
	return []string{dirNIS2 + "Art. 23(3) and 23(11)", reg2690 + "Art. 3 and 4", reg2690 + "Art. " + art}
}

// sigNotes returns the remarks that go with a decision.
func sigNotes(e *sigEval, d SignificanceDecision, art string, relevant bool, miss []string) []SignificanceNote {
	f := e.f
	n := []SignificanceNote{} // the decision's schema requires the list, empty or not
	add := func(key string, args map[string]any) { n = append(n, SignificanceNote{Key: key, Args: args}) }
	if relevant && f.ScheduledMaintenance {
		add("nis2.sig.note.scheduled_maintenance", nil)
	}
	if !relevant {
		add("nis2.sig.note.qualitative", map[string]any{"type": f.EntityType})
	}
	if f.EntityType == Registrar {
		add("nis2.sig.note.registrar", nil)
	}
	if relevant && art != "5" && art != "6" && art != "8" {
		add("nis2.sig.note.user_count", nil)
	}
	if art == "14" && f.WeekOutages != nil {
		week, _, count := sigWeek(e)
		if other := len(f.WeekOutages) - count; other > 0 {
			add("nis2.sig.note.week_other", map[string]any{"count": other, "week": week})
		}
	}
	if relevant && f.RootCause != "" {
		skipped := 0
		for _, r := range f.RelatedIncidents {
			if r.Significant && strings.TrimSpace(r.RootCause) == strings.TrimSpace(f.RootCause) {
				skipped++
			}
		}
		if skipped > 0 {
			add("nis2.sig.note.recurring_skipped", map[string]any{"count": skipped})
		}
	}
	if unused := f.unusedFacts(art, relevant); len(unused) > 0 {
		add("nis2.sig.note.unused", map[string]any{"type": f.EntityType, "facts": strings.Join(unused, ", ")})
	}
	if d.Outcome == OutcomeUndetermined {
		slices.Sort(miss)
		add("nis2.sig.note.undetermined", map[string]any{"facts": strings.Join(slices.Compact(miss), ", ")})
	}
	return n
}
