package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFacts writes facts JSON to a file in a temporary directory.
func writeFacts(t *testing.T, facts string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "facts.json")
	if err := os.WriteFile(p, []byte(facts), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	factsC01 = `{"entity_types": ["energy.electricity.dso"], "staff": 300, "annual_turnover_eur": 80000000, "balance_sheet_eur": 60000000}`
	factsC03 = `{"entity_types": ["energy.electricity.dso"], "staff": 30, "annual_turnover_eur": 8000000, "balance_sheet_eur": 12000000}`
	factsC33 = `{"entity_types": ["research.organisation"], "staff": 300, "annual_turnover_eur": 0, "balance_sheet_eur": 0}`
)

// classifyJSON runs nis2 classify and decodes the decision it prints.
func classifyJSON(t *testing.T, stdin string, args ...string) map[string]any {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := nis2Classify(args, strings.NewReader(stdin), &out, &errOut); err != nil {
		t.Fatalf("nis2 classify %q = %v\nstderr: %s", args, err, errOut.String())
	}
	var d map[string]any
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatalf("nis2 classify %q printed %q: %v", args, out.String(), err)
	}
	return d
}

func TestNIS2ClassifyJSON(t *testing.T) {
	t.Parallel()
	c01, c03, c33 := writeFacts(t, factsC01), writeFacts(t, factsC03), writeFacts(t, factsC33)
	tests := []struct {
		name, stdin string
		args        []string
		class, rule string
	}{
		{"file", "", []string{c01}, "essential", "NIS2.3.1.a"},
		{"stdin without argument", factsC01, nil, "essential", "NIS2.3.1.a"},
		{"stdin as -", factsC03, []string{"-"}, "out_of_scope", "NIS2.2.1"},
		{"strict by default", "", []string{c03}, "out_of_scope", "NIS2.2.1"},
		{"size rule before the file", "", []string{"--size-rule", "ccb_simplified", c03}, "important", "NIS2.3.2"},
		{"size rule after the file", "", []string{c03, "--size-rule=ccb_simplified"}, "important", "NIS2.3.2"},
		{"research out by default", "", []string{c33}, "out_of_scope", "NIS2.annex.II.7"},
		{"research in scope", "", []string{"--research-in-scope", c33}, "important", "NIS2.3.2"},
		{"other jurisdiction, lower case", "", []string{"--jurisdiction", "fr", c01}, "out_of_scope", "NIS2.26"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := classifyJSON(t, tt.stdin, tt.args...)
			if d["class"] != tt.class || d["rule"] != tt.rule {
				t.Errorf("nis2 classify %q = %v by %v, want %s by %s", tt.args, d["class"], d["rule"], tt.class, tt.rule)
			}
		})
	}
}

func TestNIS2ClassifyEnv(t *testing.T) {
	t.Setenv("BELFRY_NIS2_SIZE_RULE", "ccb_simplified")
	t.Setenv("BELFRY_NIS2_RESEARCH_IN_SCOPE", "true")
	if d := classifyJSON(t, factsC03); d["class"] != "important" || d["size_rule"] != "ccb_simplified" {
		t.Errorf("with BELFRY_NIS2_SIZE_RULE: %v, %v", d["class"], d["size_rule"])
	}
	if d := classifyJSON(t, factsC33); d["class"] != "important" {
		t.Errorf("with BELFRY_NIS2_RESEARCH_IN_SCOPE: %v", d["class"])
	}
	if d := classifyJSON(t, factsC03, "--size-rule", "strict"); d["class"] != "out_of_scope" {
		t.Errorf("flag over variable: %v", d["class"])
	}
}

func TestNIS2ClassifyExplain(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if err := runNIS2(t.Context(), []string{"classify", "--explain", writeFacts(t, factsC01)}, &out, &errOut); err != nil {
		t.Fatalf("nis2 classify --explain = %v\nstderr: %s", err, errOut.String())
	}
	for _, want := range []string{
		"Facts: energy.electricity.dso; staff 300 AWU, turnover €80,000,000, balance sheet €60,000,000\n",
		"→ large: staff 300 AWU ≥ 250  (Commission Recommendation 2003/361/EC, Annex, Art. 2)",
		"[energy.electricity.dso] Annex I type and large?\n     → yes: large  (Directive (EU) 2022/2555, Art. 3(1)(a))",
		"Decision: Essential entity (rule NIS2.3.1.a)",
		"Because: Large entities of a type listed in Annex I are essential.",
		"Entity type: energy.electricity.dso (Electricity distribution system operators)",
		"Jurisdiction of BE: in jurisdiction; competent: BE (establishment, NIS2.26.1)",
		"Registration changes due within: P14D",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explanation lacks %q:\n%s", want, out.String())
		}
	}
	if json.Valid(out.Bytes()) {
		t.Error("--explain printed JSON")
	}
}

func TestNIS2ClassifyInvalidFacts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, facts string
		stderr      []string
	}{
		{"field errors", `{"entity_types": ["food.business", "food"], "staff": -1, "annual_turnover_eur": 1}`, []string{
			"entity_types[1]: Choose an entity type from the NIS2 list: food is not one of them\n",
			"staff: Enter a number of 0 or more\n",
			"balance_sheet_eur: Enter the annual balance sheet total in euro from the last approved accounts, or 0\n"}},
		{"unknown field with other problems", `{"entity_types": ["food.business"], "staf": 1}`, []string{
			"staf: Remove this field or correct its name", "staff: Enter the staff in annual work units"}},
		{"not JSON", `entity_types: food`, []string{"standard input: The facts are not well-formed JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			err := nis2Classify(nil, strings.NewReader(tt.facts), &out, &errOut)
			if err == nil || errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
				t.Fatalf("nis2 classify = %v, want an error for exit status 1", err)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
				}
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", out.String())
			}
		})
	}
}

func TestNIS2Usage(t *testing.T) {
	t.Parallel()
	c01 := writeFacts(t, factsC01)
	tests := []struct {
		args   []string
		want   error // errUsage, flag.ErrHelp or nil for another error
		stderr string
	}{
		{nil, errUsage, "belfry nis2 classify"},
		{[]string{"frob"}, errUsage, `unknown subcommand "frob"`},
		{[]string{"--help"}, flag.ErrHelp, "belfry nis2 classify"},
		{[]string{"classify", "-h"}, flag.ErrHelp, "-size-rule"},
		{[]string{"classify", "--size-rule", "loose", c01}, errUsage, "--size-rule must be strict or ccb_simplified"},
		{[]string{"classify", "--size-rule", "", c01}, errUsage, "--size-rule must be strict or ccb_simplified"},
		{[]string{"classify", "--jurisdiction", "US", c01}, errUsage, "--jurisdiction must be the 2-letter code of an EU Member State"},
		{[]string{"classify", "--nosuch", c01}, errUsage, "flag provided but not defined"},
		{[]string{"classify", c01, c01}, errUsage, "one facts file at most"},
		{[]string{"classify", filepath.Join(t.TempDir(), "missing.json")}, nil, ""},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		err := runNIS2(t.Context(), tt.args, &out, &errOut)
		switch {
		case err == nil:
			t.Errorf("nis2 %q = nil, want an error", tt.args)
		case tt.want != nil && !errors.Is(err, tt.want):
			t.Errorf("nis2 %q = %v, want %v", tt.args, err, tt.want)
		case tt.want == nil && (errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp)):
			t.Errorf("nis2 %q = %v, want an error for exit status 1", tt.args, err)
		case !strings.Contains(errOut.String(), tt.stderr):
			t.Errorf("nis2 %q stderr = %q, want %q in it", tt.args, short(errOut.String()), tt.stderr)
		}
	}
}
