package registry_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/registry"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// ioEnv is a registry with the authority's administrator, for the import
// and export tests.
type ioEnv struct {
	db    *store.DB
	svc   *registry.Service
	ids   *identity.Service
	admin context.Context // a reviewer
	now   time.Time
}

func newIOEnv(t testing.TB, db *store.DB) *ioEnv {
	t.Helper()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatalf("i18n.Load() = %v", err)
	}
	log := slog.New(slog.DiscardHandler)
	e := &ioEnv{db: db, now: time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)}
	e.svc = registry.NewService(db, log, registry.Config{}, nil, constituency.NewIndex(), cat)
	e.svc.SetClock(func() time.Time { return e.now })
	e.ids = identity.NewService(db, log, identity.Config{}, nil)
	e.ids.SetClock(func() time.Time { return e.now })
	ctx := context.Background()
	if _, err := e.ids.Bootstrap(ctx, "CCB", "admin@ccb.example"); err != nil {
		t.Fatal(err)
	}
	u, err := e.ids.UserByEmail(ctx, "admin@ccb.example")
	if err != nil {
		t.Fatal(err)
	}
	e.admin = ioAs(u)
	return e
}

func ioAs(u *identity.User) context.Context {
	return auth.With(context.Background(), &auth.Principal{UserID: u.ID, OrgID: u.OrgID, OrgKind: string(u.OrgKind),
		Email: u.Email, Roles: u.Roles})
}

// user creates a user of org with roles and returns their context.
func (e *ioEnv) user(t testing.TB, org int64, email string, roles ...string) context.Context {
	t.Helper()
	sys := auth.With(context.Background(), auth.System)
	u, _, err := e.ids.CreateUser(sys, identity.UserInput{OrgID: &org, Email: &email, Name: &email, Roles: &roles})
	if err != nil {
		t.Fatalf("CreateUser(%s) = %v", email, err)
	}
	return ioAs(u)
}

func (e *ioEnv) count(t testing.TB, table string) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// counts reads the row counts of the tables an import writes.
func (e *ioEnv) counts(t testing.TB) map[string]int {
	m := map[string]int{}
	for _, table := range []string{"organisations", "registrations", "registration_versions", "constituency_claims", "audit_log"} {
		m[table] = e.count(t, table)
	}
	return m
}

func (e *ioEnv) importFile(t testing.TB, format, file string, dryRun bool) (*registry.ImportReport, error) {
	t.Helper()
	return e.svc.Import(e.admin, strings.NewReader(file), format, dryRun, "en")
}

// mustImport imports file and fails the test on any fault.
func (e *ioEnv) mustImport(t testing.TB, format, file string) *registry.ImportReport {
	t.Helper()
	rep, err := e.importFile(t, format, file, false)
	if err != nil {
		t.Fatalf("Import() = %v, faults %+v", err, faults(rep))
	}
	return rep
}

func (e *ioEnv) export(t testing.TB, format string, f registry.Filter) string {
	t.Helper()
	var b bytes.Buffer
	if err := e.svc.Export(e.admin, &b, format, f); err != nil {
		t.Fatalf("Export(%s) = %v", format, err)
	}
	return b.String()
}

func faults(rep *registry.ImportReport) []registry.ImportError {
	if rep == nil {
		return nil
	}
	return rep.Errors
}

// ioHeader is the header of the generated test files.
var ioHeader = []string{"enterprise_number", "legal_name", "entity_types", "staff", "annual_turnover_eur", "balance_sheet_eur",
	"street", "postcode", "city", "country", "website", "incident_24x7_name", "incident_24x7_email", "incident_24x7_phone",
	"prefixes", "asns", "domains"}

// ioNumber is the i-th valid enterprise number.
func ioNumber(i int) string {
	base := 1000000 + i
	return fmt.Sprintf("%08d%02d", base, 97-base%97)
}

// ioRecord is a valid row of ioHeader for the i-th entity.
func ioRecord(i int) []string {
	return []string{ioNumber(i), fmt.Sprintf("Entity %05d NV", i), "energy.electricity.dso; energy.gas.dso", "120",
		"30 000 000", "20000000.50", "Wetstraat 16", "1000", "Brussel", "be", fmt.Sprintf("entity%d.example", i),
		"SOC", fmt.Sprintf("soc@entity%d.example", i), "+32 2 501 02 11",
		fmt.Sprintf("11.%d.%d.0/24", i/256, i%256), strconv.Itoa(4200000000 + i), fmt.Sprintf("entity%d.example", i)}
}

func ioRecords(n int) [][]string {
	out := make([][]string, n)
	for i := range n {
		out[i] = ioRecord(i + 1)
	}
	return out
}

// set returns a copy of rec with column col of ioHeader set to v.
func set(rec []string, col, v string) []string {
	rec = slices.Clone(rec)
	rec[slices.Index(ioHeader, col)] = v
	return rec
}

func csvFile(t testing.TB, header []string, recs [][]string) string {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(header)
	w.WriteAll(recs)
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// fault is the part of an ImportError a test checks.
type fault struct {
	Row   int
	Field string
	Code  string
}

func faultsOf(rep *registry.ImportReport) []fault {
	var out []fault
	for _, e := range faults(rep) {
		out = append(out, fault{e.Row, e.Field, e.Code})
	}
	return out
}

func TestImportExportCSVRoundTrip(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := newIOEnv(t, db)
		header := append(slices.Clone(ioHeader), "override_class", "override_justification", "group_staff",
			"group_annual_turnover_eur", "group_balance_sheet_eur", "group_independent_systems", "service_countries",
			"legal_representative_name", "legal_representative_email")
		var recs [][]string
		for i, r := range ioRecords(12) {
			r = append(r, "", "", "", "", "", "", "BE; NL", "", "")
			switch i {
			case 3:
				r[len(ioHeader)], r[len(ioHeader)+1] = "essential", "Sole provider in the region (decision 2026/17)"
			case 4:
				copy(r[len(ioHeader)+2:], []string{"300", "90000000", "80000000", "yes"})
			case 5:
				r[len(r)-2], r[len(r)-1] = "Jan Peeters", "jan@entity6.example"
			}
			recs = append(recs, r)
		}
		rep := e.mustImport(t, registry.FormatCSV, csvFile(t, header, recs))
		if rep.Created != 12 || rep.Updated != 0 || rep.Rows != 12 {
			t.Fatalf("Import() = %+v, want 12 rows created", rep)
		}
		first := e.export(t, registry.FormatCSV, registry.Filter{})
		if got := strings.Count(first, "\r\n"); got != 13 {
			t.Fatalf("export has %d lines, want 13:\n%s", got, first)
		}
		if !strings.HasPrefix(first, strings.Join(registry.CSVColumns(), ",")+"\r\n") {
			t.Errorf("export header = %q", strings.SplitN(first, "\r\n", 2)[0])
		}

		// Into a fresh database, then out again: the same file.
		other := newIOEnv(t, freshDB(t, db))
		if rep := other.mustImport(t, registry.FormatCSV, first); rep.Created != 12 {
			t.Fatalf("re-import = %+v, want 12 created", rep)
		}
		if second := other.export(t, registry.FormatCSV, registry.Filter{}); second != first {
			t.Errorf("export after round trip differs:\nfirst:\n%s\nsecond:\n%s", first, second)
		}

		// The same file again changes nothing.
		before := e.counts(t)
		if rep := e.mustImport(t, registry.FormatCSV, first); rep.Unchanged != 12 || rep.Updated+rep.Created != 0 {
			t.Errorf("re-import of the export = %+v, want 12 unchanged", rep)
		}
		if after := e.counts(t); !mapsEqual(before, after) {
			t.Errorf("unchanged re-import wrote: before %v, after %v", before, after)
		}
	})
}

func TestImportExportJSONRoundTrip(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := newIOEnv(t, db)
		header := append(slices.Clone(ioHeader), "override_class", "override_justification")
		var recs [][]string
		for i, r := range ioRecords(5) {
			r = append(r, "", "")
			if i == 2 {
				r[len(r)-2], r[len(r)-1] = "important", "Designated (decision 2026/3)"
			}
			recs = append(recs, r)
		}
		e.mustImport(t, registry.FormatCSV, csvFile(t, header, recs))
		first := e.export(t, registry.FormatJSON, registry.Filter{})
		var doc struct {
			Registrations []map[string]json.RawMessage `json:"registrations"`
		}
		if err := json.Unmarshal([]byte(first), &doc); err != nil || len(doc.Registrations) != 5 {
			t.Fatalf("JSON export = %d registrations, %v:\n%s", len(doc.Registrations), err, first)
		}
		for _, k := range []string{"enterprise_number", "legal_name", "status", "class", "override", "classification", "profile", "prefixes", "asns", "domains"} {
			if _, ok := doc.Registrations[0][k]; !ok {
				t.Errorf("JSON export element lacks %q", k)
			}
		}

		other := newIOEnv(t, freshDB(t, db))
		if rep := other.mustImport(t, registry.FormatJSON, first); rep.Created != 5 {
			t.Fatalf("JSON import = %+v, want 5 created", rep)
		}
		if second := other.export(t, registry.FormatJSON, registry.Filter{}); second != first {
			t.Errorf("JSON export after round trip differs:\nfirst:\n%s\nsecond:\n%s", first, second)
		}
		if rep := e.mustImport(t, registry.FormatJSON, first); rep.Unchanged != 5 {
			t.Errorf("JSON re-import = %+v, want 5 unchanged", rep)
		}
	})
}

// freshDB returns another empty database of db's dialect.
func freshDB(t *testing.T, db *store.DB) *store.DB {
	if db.Dialect() == store.Postgres {
		return dbtest.Postgres(t)
	}
	return dbtest.SQLite(t)
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestImportDryRunWritesNothing(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := newIOEnv(t, db)
		e.mustImport(t, registry.FormatCSV, csvFile(t, ioHeader, ioRecords(2)))
		recs := ioRecords(6)
		recs[0] = set(recs[0], "staff", "130") // an update
		before := e.counts(t)
		rep, err := e.importFile(t, registry.FormatCSV, csvFile(t, ioHeader, recs), true)
		if err != nil {
			t.Fatalf("dry run = %v, %+v", err, faults(rep))
		}
		if !rep.DryRun || rep.Rows != 6 || rep.Created != 4 || rep.Updated != 1 || rep.Unchanged != 1 || len(rep.Errors) != 0 {
			t.Errorf("dry run report = %+v, want 4 created, 1 updated, 1 unchanged", rep)
		}
		if after := e.counts(t); !mapsEqual(before, after) {
			t.Errorf("dry run wrote: before %v, after %v", before, after)
		}

		// A dry run with faults reports them, and still writes nothing.
		recs[5] = set(recs[5], "staff", "many")
		rep, err = e.importFile(t, registry.FormatCSV, csvFile(t, ioHeader, recs), true)
		if !errs.Is(err, errs.Invalid) || !slices.Equal(faultsOf(rep), []fault{{6, "staff", "import.number"}}) {
			t.Errorf("dry run with a fault = %v, %+v", err, faultsOf(rep))
		}
		if after := e.counts(t); !mapsEqual(before, after) {
			t.Errorf("dry run wrote: before %v, after %v", before, after)
		}
	})
}

func TestImportReportsEveryBadRow(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := newIOEnv(t, db)
		recs := ioRecords(13)
		recs[2] = set(recs[2], "enterprise_number", "0100.000.399")                     // bad check digits
		recs[6] = set(recs[6], "staff", "-3")                                           // negative
		recs[11] = set(recs[11], "entity_types", "energy.electricity.dso; energy.coal") // unknown type
		before := e.counts(t)
		rep, err := e.importFile(t, registry.FormatCSV, csvFile(t, ioHeader, recs), false)
		if !errs.Is(err, errs.Invalid) {
			t.Fatalf("Import() = %v, want invalid", err)
		}
		want := []fault{{3, "enterprise_number", "enterprise_number.checksum"}, {7, "staff", "nis2.negative"},
			{12, "entity_types", "nis2.unknown_type"}}
		if got := faultsOf(rep); !slices.Equal(got, want) {
			t.Errorf("faults = %+v, want %+v", got, want)
		}
		if rep.Rows != 13 || rep.Created != 0 {
			t.Errorf("report = %+v, want 13 rows and nothing created", rep)
		}
		for _, f := range rep.Errors {
			if f.Message == "" || f.Message == f.Code || strings.HasPrefix(f.Message, "err.") {
				t.Errorf("row %d: message %q is not a sentence", f.Row, f.Message)
			}
		}
		if rep.Errors[1].EnterpriseNumber != ioNumber(7) {
			t.Errorf("fault of row 7 names %q, want %s", rep.Errors[1].EnterpriseNumber, ioNumber(7))
		}
		if after := e.counts(t); !mapsEqual(before, after) {
			t.Errorf("a refused import wrote: before %v, after %v", before, after)
		}
	})
}

func TestImportFaults(t *testing.T) {
	good := ioRecord(1)
	tests := []struct {
		name   string
		format string
		file   func(t testing.TB) string
		want   []fault
	}{
		{"duplicate number", "csv", func(t testing.TB) string {
			dup := set(ioRecord(2), "enterprise_number", identity.FormatEnterpriseNumber(ioNumber(1)))
			return csvFile(t, ioHeader, [][]string{good, dup})
		}, []fault{{2, "enterprise_number", "import.duplicate_number"}}},
		{"bad check digits", "csv", func(t testing.TB) string {
			return csvFile(t, ioHeader, [][]string{set(good, "enterprise_number", "0123456789")})
		}, []fault{{1, "enterprise_number", "enterprise_number.checksum"}}},
		{"unknown column", "csv", func(t testing.TB) string {
			return csvFile(t, append(slices.Clone(ioHeader), "colour"), [][]string{append(slices.Clone(good), "blue")})
		}, []fault{{0, "colour", "import.unknown_column"}}},
		{"missing column", "csv", func(t testing.TB) string {
			return csvFile(t, ioHeader[:2], [][]string{good[:2]})
		}, []fault{{0, "entity_types", "import.missing_column"}}},
		{"unknown entity type", "csv", func(t testing.TB) string {
			return csvFile(t, ioHeader, [][]string{set(good, "entity_types", "energy.nuclear")})
		}, []fault{{1, "entity_types", "nis2.unknown_type"}}},
		{"negative staff", "csv", func(t testing.TB) string {
			return csvFile(t, ioHeader, [][]string{set(good, "staff", "-1")})
		}, []fault{{1, "staff", "nis2.negative"}}},
		{"figures", "csv", func(t testing.TB) string {
			r := set(set(good, "staff", "1,5"), "balance_sheet_eur", "1e6")
			return csvFile(t, ioHeader, [][]string{r})
		}, []fault{{1, "staff", "import.number"}, {1, "balance_sheet_eur", "import.number"}}},
		{"country", "csv", func(t testing.TB) string {
			return csvFile(t, ioHeader, [][]string{set(good, "country", "UK")})
		}, []fault{{1, "country", "import.country_unknown"}}},
		{"claims and contact", "csv", func(t testing.TB) string {
			r := set(set(set(good, "prefixes", "10.0.0.1/24"), "domains", "https://x.example/"), "incident_24x7_email", "soc at example")
			return csvFile(t, ioHeader, [][]string{r})
		}, []fault{{1, "incident_24x7_email", "email.invalid"}, {1, "prefixes", "claim.prefix_invalid"}, {1, "domains", "claim.domain_invalid"}}},
		{"override without justification", "csv", func(t testing.TB) string {
			return csvFile(t, append(slices.Clone(ioHeader), "override_class"), [][]string{append(slices.Clone(good), "essential")})
		}, []fault{{1, "override_justification", "import.override_justification_required"}}},
		{"booleans", "csv", func(t testing.TB) string {
			return csvFile(t, append(slices.Clone(ioHeader), "cer_critical_entity"), [][]string{append(slices.Clone(good), "perhaps")})
		}, []fault{{1, "cer_critical_entity", "import.bool"}}},
		{"no legal name", "csv", func(t testing.TB) string {
			return csvFile(t, ioHeader, [][]string{set(good, "legal_name", " ")})
		}, []fault{{1, "legal_name", "org_name.required"}}},
		{"same name twice", "csv", func(t testing.TB) string {
			return csvFile(t, ioHeader, [][]string{good, set(ioRecord(2), "legal_name", strings.ToUpper(good[1]))})
		}, []fault{{2, "legal_name", "import.name_duplicate"}}},
		{"cell count", "csv", func(t testing.TB) string {
			return strings.Join(ioHeader, ",") + "\n" + strings.Join(good[:5], ",") + "\n"
		}, []fault{{1, "", "import.field_count"}}},
		{"semicolons and blank rows", "csv", func(t testing.TB) string {
			var b bytes.Buffer
			w := csv.NewWriter(&b)
			w.Comma = ';'
			w.WriteAll([][]string{ioHeader, good, make([]string, len(ioHeader)), set(ioRecord(2), "staff", "x")})
			return b.String()
		}, []fault{{3, "staff", "import.number"}}},
		{"empty file", "csv", func(t testing.TB) string { return "" }, []fault{{0, "", "import.empty"}}},
		{"header only", "csv", func(t testing.TB) string { return strings.Join(ioHeader, ",") + "\n" }, []fault{{0, "", "import.no_rows"}}},
		{"json unknown and wrong type", "json", func(t testing.TB) string {
			return `{"registrations": [{"enterprise_number": "` + ioNumber(1) + `", "legal_name": "A", "colour": 1,
				"profile": {"facts": {"entity_types": ["energy.gas.dso"], "staff": "many", "annual_turnover_eur": 1, "balance_sheet_eur": 1, "size": 3},
				"contacts": [{"role": "nis2_contact", "name": "N", "email": "n@a.example", "fax": "1"}]}}]}`
		}, []fault{{1, "colour", "import.unknown_field"}, {1, "profile.contacts[0].fax", "import.unknown_field"},
			{1, "profile.facts.size", "import.unknown_field"}, {1, "profile.facts.staff", "import.want_number"}}},
		{"json shape", "json", func(t testing.TB) string { return `{"entities": []}` },
			[]fault{{0, "entities", "import.unknown_field"}, {0, "registrations", "import.json_shape"}}},
		{"json malformed", "json", func(t testing.TB) string {
			return `{"registrations": [{"enterprise_number": "` + ioNumber(1) + `", "legal_name": "A",}]}`
		}, []fault{{1, "", "import.json_malformed"}}},
		{"json facts", "json", func(t testing.TB) string {
			return `{"registrations": [{"enterprise_number": "` + ioNumber(1) + `", "legal_name": "A",
				"profile": {"facts": {"entity_types": ["energy.gas.dso"], "staff": 10, "annual_turnover_eur": 1, "balance_sheet_eur": -1},
				"address": {"country": "EL"}}, "override": {"class": "vital", "justification": "x"}, "asns": ["AS1", "ASX"]}]}`
		}, []fault{{1, "profile.address.country", "import.country_unknown"}, {1, "override.class", "import.override_class_invalid"}, {1, "profile.facts.balance_sheet_eur", "nis2.negative"},
			{1, "asns[1]", "claim.asn_invalid"}}},
	}
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := newIOEnv(t, db)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				rep, err := e.importFile(t, tt.format, tt.file(t), false)
				if !errs.Is(err, errs.Invalid) {
					t.Fatalf("Import() = %v, want invalid", err)
				}
				got := faultsOf(rep)
				slices.SortStableFunc(got, func(a, b fault) int { return a.Row - b.Row })
				if !sameFaults(got, tt.want) {
					t.Errorf("faults = %+v\nwant %+v", got, tt.want)
				}
			})
		}
		if n := e.count(t, "registrations"); n != 0 {
			t.Errorf("%d registrations after refused imports, want 0", n)
		}
	})
}

// sameFaults compares faults regardless of their order within a row.
func sameFaults(got, want []fault) bool {
	cmp := func(a, b fault) int {
		if a.Row != b.Row {
			return a.Row - b.Row
		}
		return strings.Compare(a.Field+a.Code, b.Field+b.Code)
	}
	got, want = slices.Clone(got), slices.Clone(want)
	slices.SortFunc(got, cmp)
	slices.SortFunc(want, cmp)
	return slices.Equal(got, want)
}

func TestImportUpdatesExistingEntity(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := newIOEnv(t, db)
		e.mustImport(t, registry.FormatCSV, csvFile(t, ioHeader, ioRecords(3)))
		regs, _, err := e.svc.List(e.admin, registry.Filter{Text: ioNumber(2)})
		if err != nil || len(regs) != 1 {
			t.Fatalf("List() = %d, %v", len(regs), err)
		}
		old := regs[0]
		if old.Status != registry.StatusApproved || old.Version != 1 || old.ApprovedAt == nil {
			t.Fatalf("imported registration = %s v%d, approved %v", old.Status, old.Version, old.ApprovedAt)
		}

		// Only some columns, the number in display form, a new name.
		e.now = e.now.Add(time.Hour)
		header := []string{"enterprise_number", "legal_name", "entity_types", "staff", "city"}
		rec := []string{identity.FormatEnterpriseNumber(ioNumber(2)), "Entity Two SA", "energy.gas.dso", "260", "Bruxelles"}
		rep := e.mustImport(t, registry.FormatCSV, csvFile(t, header, [][]string{rec}))
		if rep.Updated != 1 || rep.Created != 0 {
			t.Fatalf("update = %+v, want 1 updated", rep)
		}
		reg, err := e.svc.Get(e.admin, old.OrgID)
		if err != nil {
			t.Fatal(err)
		}
		if reg.Version != 2 || reg.Name != "Entity Two SA" || reg.Status != registry.StatusApproved || !reg.ApprovedAt.Equal(e.now) {
			t.Errorf("updated = v%d %q %s approved %v, want v2, new name, approved now", reg.Version, reg.Name, reg.Status, reg.ApprovedAt)
		}
		p := reg.Profile
		if *p.Facts.Staff != 260 || p.Address.City != "Bruxelles" || !slices.Equal(p.Facts.EntityTypes, []string{"energy.gas.dso"}) {
			t.Errorf("profile = staff %v, city %q, types %v", *p.Facts.Staff, p.Address.City, p.Facts.EntityTypes)
		}
		if *p.Facts.TurnoverEUR != 30000000 || p.Address.Street != "Wetstraat 16" || len(p.Contacts) != 1 {
			t.Errorf("columns left out changed: turnover %v, street %q, contacts %v", *p.Facts.TurnoverEUR, p.Address.Street, p.Contacts)
		}
		vs, err := e.svc.Versions(e.admin, old.OrgID)
		if err != nil || len(vs) != 2 || vs[0].Event != "imported" || vs[0].Version != 2 {
			t.Errorf("Versions() = %+v, %v", vs, err)
		}
		var audits int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'registration.import' AND object_id = ?`,
			strconv.FormatInt(old.OrgID, 10)).Scan(&audits); err != nil || audits != 2 {
			t.Errorf("registration.import records = %d, %v, want 2", audits, err)
		}
	})
}

func TestImportRefusesOtherKinds(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := newIOEnv(t, db)
		name, kind, number := "Vendor BV", "vendor", ioNumber(1)
		sys := auth.With(context.Background(), auth.System)
		if _, err := e.ids.CreateOrganisation(sys, identity.OrgInput{Name: &name, Kind: &kind, EnterpriseNumber: &number}); err != nil {
			t.Fatal(err)
		}
		rep, err := e.importFile(t, registry.FormatCSV, csvFile(t, ioHeader, ioRecords(2)), false)
		if !errs.Is(err, errs.Invalid) || !slices.Equal(faultsOf(rep), []fault{{1, "enterprise_number", "import.not_entity"}}) {
			t.Errorf("Import(vendor's number) = %v, %+v", err, faultsOf(rep))
		}
		// A new number with the name of an existing organisation.
		rec := set(ioRecord(3), "legal_name", "vendor bv")
		rep, err = e.importFile(t, registry.FormatCSV, csvFile(t, ioHeader, [][]string{rec}), false)
		if !errs.Is(err, errs.Invalid) || !slices.Equal(faultsOf(rep), []fault{{1, "legal_name", "import.name_taken"}}) {
			t.Errorf("Import(taken name) = %v, %+v", err, faultsOf(rep))
		}
	})
}

func TestImportClaimsApproved(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := newIOEnv(t, db)
		v0, err := e.svc.ConstituencyVersion(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		rec := set(ioRecord(7), "prefixes", "192.0.2.0/24, 2001:db8::/32")
		e.mustImport(t, registry.FormatCSV, csvFile(t, ioHeader, [][]string{rec}))
		v1, claims, err := e.svc.LoadClaims(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range claims {
			got = append(got, string(c.Kind)+" "+c.Value)
		}
		slices.Sort(got)
		want := []string{"asn 4200000007", "domain entity7.example", "prefix 192.0.2.0/24", "prefix 2001:db8::/32"}
		if v1 <= v0 || !slices.Equal(got, want) {
			t.Errorf("LoadClaims() = v%d %v, want > v%d %v", v1, got, v0, want)
		}
		res, err := e.svc.Lookup(e.admin, []string{"www.entity7.example", "192.0.2.9"})
		if err != nil || len(res) != 2 || len(res[0].Owners) != 1 || len(res[1].Owners) != 1 || res[0].Owners[0].Name != "Entity 00007 NV" {
			t.Errorf("Lookup() = %+v, %v", res, err)
		}
		// A pending claim of the entity is approved by the import.
		regs, _, _ := e.svc.List(e.admin, registry.Filter{})
		member := e.user(t, regs[0].OrgID, "admin@entity7.example", "org_admin")
		if _, err := e.svc.AddClaims(member, regs[0].OrgID, []registry.ClaimInput{{Kind: "domain", Value: "entity7.eu"}}); err != nil {
			t.Fatal(err)
		}
		e.mustImport(t, registry.FormatCSV, csvFile(t, ioHeader, [][]string{set(rec, "domains", "entity7.example; entity7.eu")}))
		cs, _, err := e.svc.Claims(e.admin, registry.ClaimFilter{Status: registry.ClaimApproved})
		if err != nil || len(cs) != 5 {
			t.Errorf("approved claims = %d, %v, want 5", len(cs), err)
		}
	})
}

func TestImportExportPermissions(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := newIOEnv(t, db)
		e.mustImport(t, registry.FormatCSV, csvFile(t, ioHeader, ioRecords(1)))
		authority := auth.From(e.admin).OrgID
		analyst := e.user(t, authority, "analyst@ccb.example", "analyst")
		auditor := e.user(t, authority, "auditor@ccb.example", "auditor")
		regs, _, _ := e.svc.List(e.admin, registry.Filter{})
		member := e.user(t, regs[0].OrgID, "admin@entity1.example", "org_admin")
		file := csvFile(t, ioHeader, ioRecords(2))
		for name, ctx := range map[string]context.Context{"analyst": analyst, "auditor": auditor, "entity": member, "anonymous": context.Background()} {
			if _, err := e.svc.Import(ctx, strings.NewReader(file), registry.FormatCSV, true, "en"); !errs.Is(err, errs.Forbidden) {
				t.Errorf("Import() as %s = %v, want forbidden", name, err)
			}
		}
		for name, ctx := range map[string]context.Context{"analyst": analyst, "auditor": auditor} {
			if err := e.svc.Export(ctx, io.Discard, registry.FormatCSV, registry.Filter{}); err != nil {
				t.Errorf("Export() as %s = %v", name, err)
			}
		}
		var b bytes.Buffer
		if err := e.svc.Export(member, &b, registry.FormatJSON, registry.Filter{}); !errs.Is(err, errs.Forbidden) || b.Len() != 0 {
			t.Errorf("Export() as entity = %v, %d bytes, want forbidden and nothing", err, b.Len())
		}
	})
}

func TestExportEscapesFormulas(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := newIOEnv(t, db)
		rec := set(set(ioRecord(1), "legal_name", "=HYPERLINK(\"http://x.example\")"), "incident_24x7_name", "@SOC")
		rec = set(rec, "street", "-Rue 1")
		e.mustImport(t, registry.FormatCSV, csvFile(t, ioHeader, [][]string{rec}))
		out := e.export(t, registry.FormatCSV, registry.Filter{})
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) != 2 {
			t.Fatalf("export = %v, %v", rows, err)
		}
		cell := map[string]string{}
		for i, h := range rows[0] {
			cell[h] = rows[1][i]
		}
		for col, want := range map[string]string{"legal_name": `'=HYPERLINK("http://x.example")`, "incident_24x7_name": "'@SOC",
			"incident_24x7_phone": "'+32 2 501 02 11", "street": "'-Rue 1", "staff": "120", "balance_sheet_eur": "20000000.5"} {
			if cell[col] != want {
				t.Errorf("%s = %q, want %q", col, cell[col], want)
			}
		}
		// The import takes the apostrophes off again.
		if rep := e.mustImport(t, registry.FormatCSV, out); rep.Unchanged != 1 {
			t.Errorf("re-import = %+v, want unchanged", rep)
		}
	})
}

func TestExportFilter(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := newIOEnv(t, db)
		recs := ioRecords(4)
		recs[1] = set(recs[1], "entity_types", "digital_infra.dns")
		e.mustImport(t, registry.FormatCSV, csvFile(t, ioHeader, recs))
		out := e.export(t, registry.FormatCSV, registry.Filter{Sector: "energy", Limit: 1})
		if n := strings.Count(out, "\r\n"); n != 4 {
			t.Errorf("energy export has %d lines, want 4 (header and 3 rows, paging ignored)", n)
		}
		if err := e.svc.Export(e.admin, io.Discard, "xml", registry.Filter{}); !errs.Is(err, errs.Invalid) {
			t.Errorf("Export(xml) = %v, want invalid", err)
		}
	})
}

func TestImportLimits(t *testing.T) {
	e := newIOEnv(t, dbtest.SQLite(t))
	big := strings.Join(ioHeader, ",") + "\n" + strings.Repeat(strings.Repeat("x", 1023)+"\n", registry.MaxImportBytes/1024+1)
	if _, err := e.importFile(t, registry.FormatCSV, big, true); !errs.Is(err, errs.TooLarge) {
		t.Errorf("Import(21 MB) = %v, want too large", err)
	}
	var b strings.Builder
	b.WriteString(`{"registrations": [`)
	for i := range registry.MaxImportRows + 1 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("{}")
	}
	b.WriteString("]}")
	if _, err := e.importFile(t, registry.FormatJSON, b.String(), true); !errs.Is(err, errs.TooLarge) {
		t.Errorf("Import(50,001 rows) = %v, want too large", err)
	}
}

func TestImport5000(t *testing.T) {
	if testing.Short() {
		t.Skip("large import")
	}
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := newIOEnv(t, db)
		rep := e.mustImport(t, registry.FormatCSV, csvFile(t, ioHeader, ioRecords(5000)))
		if rep.Created != 5000 {
			t.Errorf("Import(5000) = %+v", rep)
		}
		if n := e.count(t, "registrations"); n != 5000 {
			t.Errorf("%d registrations, want 5000", n)
		}
		if n := e.count(t, "constituency_claims"); n != 15000 {
			t.Errorf("%d claims, want 15000", n)
		}
	})
}

func BenchmarkImport1000(b *testing.B) {
	file := csvFile(b, ioHeader, ioRecords(1000))
	for b.Loop() {
		b.StopTimer()
		e := newIOEnv(b, dbtest.SQLite(b))
		b.StartTimer()
		e.mustImport(b, registry.FormatCSV, file)
	}
}

// TestImportDocExamples checks that the examples of
// docs/registry-import.md import as they are.
func TestImportDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/registry-import.md")
	if err != nil {
		t.Fatal(err)
	}
	e := newIOEnv(t, dbtest.SQLite(t))
	for _, format := range []string{registry.FormatCSV, registry.FormatJSON} {
		_, block, ok := strings.Cut(string(doc), "```"+format+"\n")
		block, _, _ = strings.Cut(block, "```")
		if !ok {
			t.Fatalf("no %s example in the documentation", format)
		}
		rep, err := e.importFile(t, format, block, true)
		if err != nil || rep.Created == 0 {
			t.Errorf("%s example: Import() = %+v, %v", format, faults(rep), err)
		}
	}
	if n := len(registry.CSVColumns()); !strings.Contains(string(doc), fmt.Sprintf("That is %d columns", n)) {
		t.Errorf("the documentation does not give the number of columns, %d", n)
	}
}

func TestImportExportAPI(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		env := webtest.New(t, db, false)
		admin, err := env.App.Identity.UserByEmail(context.Background(), env.AdminEmail)
		if err != nil {
			t.Fatal(err)
		}
		api := env.API(t, env.Token(t, admin, "read", "write"))
		send := func(path, contentType, body string) *webtest.Response {
			return api.Raw().Do("POST", path, strings.NewReader(body), http.Header{
				"Authorization": {"Bearer " + api.Token()}, "Content-Type": {contentType}})
		}
		file := csvFile(t, ioHeader, ioRecords(3))

		res := send("/api/v1/registry/import?dry_run=true", "text/csv; charset=utf-8", file)
		var rep registry.ImportReport
		res.JSON(t, &rep)
		if res.StatusCode != 200 || !rep.DryRun || rep.Created != 3 {
			t.Fatalf("dry run = %d %s", res.StatusCode, res.Body)
		}
		res = send("/api/v1/registry/import", "text/plain", file)
		if res.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("import as text/plain = %d, want 415", res.StatusCode)
		}

		bad := csvFile(t, ioHeader, [][]string{ioRecord(1), set(ioRecord(2), "staff", "-2")})
		res = send("/api/v1/registry/import", "text/csv", bad)
		var refused struct {
			Type   string                 `json:"type"`
			Title  string                 `json:"title"`
			Status int                    `json:"status"`
			Code   string                 `json:"code"`
			Errors []registry.ImportError `json:"errors"`
		}
		res.JSON(t, &refused)
		if res.StatusCode != 422 || res.Header.Get("Content-Type") != "application/problem+json" || refused.Status != 422 ||
			refused.Type != "about:blank" || refused.Code != "import.invalid" || len(refused.Errors) != 1 || refused.Errors[0].Row != 2 {
			t.Errorf("refused import = %d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), res.Body)
		}

		res = send("/api/v1/registry/import?format=csv", "application/octet-stream", file)
		if res.JSON(t, &rep); res.StatusCode != 200 || rep.DryRun || rep.Created != 3 {
			t.Fatalf("import = %d %s", res.StatusCode, res.Body)
		}

		res = api.Do("GET", "/api/v1/registry/export?format=csv&sector=energy", nil)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
			!strings.HasPrefix(res.Header.Get("Content-Disposition"), `attachment; filename="registry-`) ||
			strings.Count(res.Body, "\r\n") != 4 {
			t.Errorf("export = %d %v\n%s", res.StatusCode, res.Header, res.Body)
		}
		res = api.Do("GET", "/api/v1/registry/export?format=json", nil)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" || !json.Valid([]byte(res.Body)) {
			t.Errorf("JSON export = %d %v", res.StatusCode, res.Header)
		}
		res = api.Do("GET", "/api/v1/registry/export?format=xml", nil)
		if res.StatusCode != 422 || res.Header.Get("Content-Disposition") != "" {
			t.Errorf("export as xml = %d %v", res.StatusCode, res.Header)
		}

		// An entity's own administrator may neither export nor import.
		regs, _, _ := env.App.Registry.List(ioAs(admin), registry.Filter{})
		member := env.User(t, regs[0].OrgID, "admin@entity1.example", "org_admin")
		other := env.API(t, env.Token(t, member, "read", "write"))
		if res := other.Do("GET", "/api/v1/registry/export", nil); res.StatusCode != 403 || res.Header.Get("Content-Disposition") != "" {
			t.Errorf("export as an entity = %d %v", res.StatusCode, res.Header)
		}
		res = other.Raw().Do("POST", "/api/v1/registry/import", strings.NewReader(file), http.Header{
			"Authorization": {"Bearer " + other.Token()}, "Content-Type": {"text/csv"}})
		if res.StatusCode != 403 {
			t.Errorf("import as an entity = %d", res.StatusCode)
		}
	})
}
