package nis2

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/errs"
)

// ParseSignificanceFacts reads one JSON object of incident facts and
// validates it. Problems come together as an errs.Invalid error whose fields
// are JSON paths such as "related_incidents[1].date": every unknown field,
// every value of the wrong type and every invalid fact.
func ParseSignificanceFacts(r io.Reader) (SignificanceFacts, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxFactsBytes+1))
	if err != nil {
		return SignificanceFacts{}, fmt.Errorf("nis2: read incident facts: %w", err)
	}
	if len(b) > maxFactsBytes {
		return SignificanceFacts{}, &errs.Error{Kind: errs.TooLarge, Code: "err.nis2.too_large", Args: map[string]any{"max": "1 MiB"}}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return SignificanceFacts{}, errs.E(errs.Invalid, "err.nis2.empty")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil || top == nil {
		var te *json.UnmarshalTypeError
		if err == nil || errors.As(err, &te) {
			return SignificanceFacts{}, errs.E(errs.Invalid, "err.nis2sig.not_object")
		}
		return SignificanceFacts{}, decodeError(err) // malformed or truncated
	}
	var f SignificanceFacts
	var v errs.Validator
	sigDecode(top, "", reflect.ValueOf(&f).Elem(), &v)
	var bad []string // fields that could not be decoded
	if e, ok := errs.As(v.Err()); ok {
		for _, fe := range e.Fields {
			bad = append(bad, fe.Field)
		}
	}
	if e, ok := errs.As(f.Validate()); ok {
		for _, fe := range e.Fields {
			if !slices.ContainsFunc(bad, func(b string) bool { return sigWithin(fe.Field, b) }) {
				v.Add(fe.Field, fe.Code, fe.Args)
			}
		}
	}
	if err := v.Err(); err != nil {
		return SignificanceFacts{}, err
	}
	return f, nil
}

// sigWithin reports whether field is path or lies inside it.
func sigWithin(field, path string) bool {
	return field == path || strings.HasPrefix(field, path+".") || strings.HasPrefix(field, path+"[")
}

// sigDecode decodes the members of one JSON object into the struct dst,
// naming every unknown member and every value of the wrong type with its
// path. Lists of objects are decoded element by element.
func sigDecode(m map[string]json.RawMessage, path string, dst reflect.Value, v *errs.Validator) {
	fields := map[string]int{}
	for i := range dst.NumField() {
		name, _, _ := strings.Cut(dst.Type().Field(i).Tag.Get("json"), ",")
		fields[name] = i
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		i, ok := fields[k]
		if !ok {
			v.Add(path+k, "err.nis2.unknown_field", nil)
			continue
		}
		fv := dst.Field(i)
		if fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Struct {
			var items []json.RawMessage
			if err := json.Unmarshal(m[k], &items); err != nil {
				v.Add(path+k, "err.nis2sig.want_list", nil)
				continue
			}
			if items == nil {
				continue // null: unknown
			}
			s := reflect.MakeSlice(fv.Type(), len(items), len(items))
			for j, raw := range items {
				at := fmt.Sprintf("%s%s[%d]", path, k, j)
				var obj map[string]json.RawMessage
				if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
					v.Add(at, "err.nis2sig.want_object", nil)
					continue
				}
				sigDecode(obj, at+".", s.Index(j), v)
			}
			fv.Set(s)
			continue
		}
		if err := json.Unmarshal(m[k], fv.Addr().Interface()); err != nil {
			v.Add(path+k, sigWantCode(fv.Type()), nil)
		}
	}
}

// sigWantCode names the kind of value a field expects.
func sigWantCode(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Float64:
		return "err.nis2.want_number"
	case reflect.Int64:
		return "err.nis2sig.want_whole"
	case reflect.Bool:
		return "err.nis2.want_bool"
	case reflect.String:
		return "err.nis2sig.want_text"
	default:
		return "err.nis2sig.want_list"
	}
}

// Validate reports every problem of the facts at once, as an errs.Invalid
// error with one field error per problem, or nil.
func (f SignificanceFacts) Validate() error {
	var v errs.Validator
	switch _, ok := Type(f.EntityType); {
	case f.EntityType == "":
		v.Add("entity_type", "err.nis2sig.type_required", nil)
	case !ok:
		v.Add("entity_type", "err.nis2.unknown_type", map[string]any{"code": f.EntityType})
	}
	for _, x := range []struct {
		name string
		val  *float64
	}{
		{"turnover_prev_fy_eur", f.TurnoverPrevFYEUR}, {"direct_financial_loss_eur", f.DirectFinancialLossEUR},
		{"complete_unavailability_minutes", f.CompleteUnavailabilityMinutes}, {"limited_availability_minutes", f.LimitedAvailabilityMinutes},
		{"avg_response_time_seconds", f.AvgResponseTimeSeconds}, {"avg_response_time_minutes", f.AvgResponseTimeMinutes},
		{"service_users_eu", sigF(f.ServiceUsersEU)}, {"domain_names_managed", sigF(f.DomainNamesManaged)},
	} {
		sigNotNegative(&v, x.name, x.val)
	}
	for _, x := range []struct {
		name string
		val  *int64
	}{
		{"complete_unavailability_users", f.CompleteUnavailabilityUsers}, {"limited_availability_users", f.LimitedAvailabilityUsers},
		{"cia_affected_users", f.CIAAffectedUsers},
	} {
		if sigNotNegative(&v, x.name, sigF(x.val)) && f.ServiceUsersEU != nil && *f.ServiceUsersEU >= 0 && *x.val > *f.ServiceUsersEU {
			v.Add(x.name, "err.nis2sig.above_total", map[string]any{"total": *f.ServiceUsersEU})
		}
	}
	if sigNotNegative(&v, "domain_names_affected", sigF(f.DomainNamesAffected)) && f.DomainNamesManaged != nil &&
		*f.DomainNamesManaged >= 0 && *f.DomainNamesAffected > *f.DomainNamesManaged {
		v.Add("domain_names_affected", "err.nis2sig.above_managed", map[string]any{"managed": *f.DomainNamesManaged})
	}
	if f.IncidentDate != "" {
		sigDate(&v, "incident_date", f.IncidentDate)
	}
	for i, r := range f.RelatedIncidents {
		at := fmt.Sprintf("related_incidents[%d].", i)
		sigDate(&v, at+"date", r.Date)
		v.Check(strings.TrimSpace(r.RootCause) != "", at+"root_cause", "err.nis2sig.root_cause_required")
		sigNotNegative(&v, at+"direct_financial_loss_eur", r.DirectFinancialLossEUR)
	}
	for i, o := range f.WeekOutages {
		at := fmt.Sprintf("week_outages[%d].", i)
		sigDate(&v, at+"date", o.Date)
		if o.Minutes == nil {
			v.Add(at+"minutes", "err.nis2sig.minutes_required", nil)
		}
		sigNotNegative(&v, at+"minutes", o.Minutes)
	}
	return v.Err()
}

// sigNotNegative reports a negative value and whether the value is known
// and not negative.
func sigNotNegative(v *errs.Validator, field string, x *float64) bool {
	if x != nil && *x < 0 {
		v.Add(field, "err.nis2.negative", nil)
		return false
	}
	return x != nil
}

func sigDate(v *errs.Validator, field, s string) {
	if s == "" {
		v.Add(field, "err.nis2sig.date_required", nil)
		return
	}
	if _, err := time.Parse(dateShape, s); err != nil {
		v.Add(field, "err.nis2sig.date", nil)
	}
}
