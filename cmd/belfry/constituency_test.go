package main

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/registry"
)

func TestConstituencyLookup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := app.Config{DataDir: dir}
	seedDB(t, cfg)
	// Two organisations with approved claims: a provider's /22 and a
	// customer's /25 inside it.
	func() {
		ctx := auth.With(t.Context(), auth.System)
		db, err := app.OpenDB(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		log := app.NewLogger(io.Discard, "text", "error")
		ids := identity.NewService(db, log, identity.Config{}, nil)
		reg := registry.NewService(db, log, registry.Config{}, nil, constituency.NewIndex(), nil)
		for _, o := range []struct{ name, number, value string }{
			{"Provider NV", "0403019261", "198.51.100.0/22 AS64500 provider.example"},
			{"Customer BV", "0428759497", "198.51.100.128/25"},
		} {
			kind := "entity"
			org, err := ids.CreateOrganisation(ctx, identity.OrgInput{Name: &o.name, Kind: &kind, EnterpriseNumber: &o.number})
			if err != nil {
				t.Fatal(err)
			}
			var in []registry.ClaimInput
			for _, v := range strings.Fields(o.value) {
				in = append(in, registry.ClaimInput{OrgID: org.ID, Value: v})
			}
			if _, err := reg.AddClaims(ctx, org.ID, in); err != nil {
				t.Fatal(err)
			}
		}
	}()

	code, stdout, stderr := runCLI(t, "constituency", "lookup", "--data", dir, "198.51.100.10", "198.51.100.200", "https://www.provider.example/x", "AS64500", "203.0.113.1")
	if code != 0 {
		t.Fatalf("lookup = exit %d, %q %q", code, stdout, short(stderr))
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	for i, want := range []string{"198.51.100.0/22\tProvider NV", "198.51.100.128/25\tCustomer BV", "provider.example\tProvider NV", "64500\tProvider NV", "no owner"} {
		if i >= len(lines) || !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %q, want it to contain %q", i, lines, want)
		}
	}

	code, stdout, _ = runCLI(t, "constituency", "lookup", "--data", dir, "--json", "198.51.100.130")
	var res struct {
		Results []registry.LookupResult `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); code != 0 || err != nil || len(res.Results) != 1 || res.Results[0].Owners[0].Name != "Customer BV" {
		t.Errorf("--json = exit %d, %q (%v)", code, stdout, err)
	}

	// A value that is none of the kinds: reported, exit 1.
	code, stdout, stderr = runCLI(t, "constituency", "lookup", "--data", dir, "198.51.100.10", "what?")
	if code != 1 || !strings.Contains(stdout, "not understood") || !strings.Contains(stderr, "1 of 2 values") {
		t.Errorf("bad value = exit %d, %q %q", code, stdout, stderr)
	}
	// No values, or no subcommand: usage, exit 2.
	for _, args := range [][]string{{"constituency", "lookup", "--data", dir}, {"constituency"}} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%v = exit %d, want 2", args, code)
		}
	}
	// No database: a clear error.
	code, _, stderr = runCLI(t, "constituency", "lookup", "--data", dir+"/missing", "192.0.2.1")
	if code != 1 || !strings.Contains(stderr, "no database in") {
		t.Errorf("missing database = exit %d, %q", code, stderr)
	}
}
