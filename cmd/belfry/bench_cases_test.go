package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchCases loads a small data set into SQLite, measures every kind
// of query, and measures again without loading on a second run.
func TestBenchCases(t *testing.T) {
	if testing.Short() {
		t.Skip("benchmark run")
	}
	dir := filepath.Join(t.TempDir(), "data")
	args := []string{"bench", "cases", "--cases", "2000", "--observables", "20000", "--queries", "5", "--seed", "3", "--target", "10s",
		"--data", dir}
	runCases := func(extra ...string) (string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(context.Background(), append(cloneArgs(args), extra...), &out, &errb); code != 0 {
			t.Fatalf("exit %d: %s\n%s", code, errb.String(), out.String())
		}
		return out.String(), errb.String()
	}

	out, _ := runCases("--json")
	var res casesBenchResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	s := res.Data.Stored
	if res.Reused || s.Cases != 2000 || s.Links != 20000 || s.Orgs != benchOrgs || s.Staff != benchStaff || s.Tasks == 0 {
		t.Errorf("data %+v (reused %v)", s, res.Reused)
	}
	// About 5 % of the cases are active; most values belong to one case.
	if s.Active < 40 || s.Active > 250 || s.Values < 4000 || s.Values > 12000 || s.CaseOrgs < 2000 {
		t.Errorf("distributions: %+v", s)
	}
	want := []string{"list: active, first page", "list: all, first page", "list: active, offset 1000", "list: all, offset 1000",
		"filter: severity", "filter: severity, active", "filter: assignee, active", "filter: assignee, all", "filter: organisation",
		"search: common word", "search: rare word", "search: two words", "search: prefix", "search: word, active",
		"similar: common value", "similar: rare value", "tasks: overdue", "observables of a case"}
	if len(res.Results) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(res.Results), len(want), res.Results)
	}
	for i, q := range res.Results {
		if q.Name != want[i] || q.Runs != 5 || q.P50 <= 0 || q.P50 > q.P95 || q.P95 > q.P99 || q.P99 > q.Max {
			t.Errorf("result %+v, want %s", q, want[i])
		}
	}
	rows := map[string]float64{}
	for _, q := range res.Results {
		rows[q.Name] = q.Rows
	}
	// The queries find what the data holds.
	for _, name := range []string{"list: all, first page", "list: all, offset 1000", "search: common word", "search: prefix",
		"similar: common value", "tasks: overdue"} {
		if rows[name] == 0 {
			t.Errorf("%s returned nothing", name)
		}
	}
	if rows["similar: rare value"] != 1 || rows["list: all, first page"] != 50 {
		t.Errorf("rows %v", rows)
	}

	// A second run measures only, and prints the table.
	out, _ = runCases()
	if !strings.Contains(out, "load:        reused") || !strings.Contains(out, "every p95 is under") {
		t.Errorf("second run:\n%s", out)
	}
	for _, name := range want {
		if !strings.Contains(out, "  "+name+" ") {
			t.Errorf("table without %q:\n%s", name, out)
		}
	}

	// Another data set on the same database is refused; a target nobody
	// meets fails the run.
	var o, e bytes.Buffer
	if code := run(context.Background(), append(cloneArgs(args), "--seed", "4"), &o, &e); code != 1 || !strings.Contains(e.String(), "another data set") {
		t.Errorf("other seed: exit %d, %s", code, e.String())
	}
	o.Reset()
	e.Reset()
	if code := run(context.Background(), append(cloneArgs(args), "--target", "1ns"), &o, &e); code != 1 || !strings.Contains(e.String(), "p95 above") {
		t.Errorf("target 1ns: exit %d, %s", code, e.String())
	}
	o.Reset()
	e.Reset()
	if code := run(context.Background(), []string{"bench", "cases", "--cases", "10", "--db", "mysql://x"}, &o, &e); code != 2 {
		t.Errorf("bad flags: exit %d, %s", code, e.String())
	}
}

func cloneArgs(xs []string) []string { return append([]string(nil), xs...) }
