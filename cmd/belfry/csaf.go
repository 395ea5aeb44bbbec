package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/belfry-cert/belfry/internal/csaf"
)

const csafUsage = `Usage:
  belfry csaf validate [--preset mandatory|optional|informative|all] [--json] [--schemas DIR] [--data DIR] FILE...
  belfry csaf check [--header 'Name: value']... [--ca FILE] [--insecure] [--json] [--schemas DIR] https://host[:port]
  belfry csaf key generate|import|list|export-public [flags]
  belfry csaf update-schemas --from DIR [--data DIR]`

// runCSAF runs the CSAF tools.
func runCSAF(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, csafUsage)
		return errUsage
	}
	switch args[0] {
	case "validate":
		return csafValidate(ctx, args[1:], stdout, stderr)
	case "check":
		return csafCheck(ctx, args[1:], stdout, stderr)
	case "key":
		return csafKey(ctx, args[1:], stdout, stderr)
	case "update-schemas":
		return csafUpdateSchemas(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stderr, csafUsage)
		return flag.ErrHelp
	default:
		fmt.Fprintf(stderr, "belfry csaf: unknown subcommand %q (want validate, check, key or update-schemas)\n%s\n", args[0], csafUsage)
		return errUsage
	}
}

// csafFileResult is one file's outcome for --json.
type csafFileResult struct {
	File     string         `json:"file"`
	Valid    bool           `json:"valid"`
	Passes   bool           `json:"passes"`
	Error    string         `json:"error,omitempty"`
	Findings []csaf.Finding `json:"findings"`
}

// csafValidate validates CSAF documents; the exit status is 0 only when
// the preset found nothing in any file.
func csafValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("csaf validate", stderr)
	preset := fs.String("preset", string(csaf.PresetMandatory), "tests to run: mandatory (schema and 6.1), optional (adds 6.2), informative (adds 6.3), all")
	asJSON := fs.Bool("json", false, "print one JSON object per file")
	dataDir := fs.String("data", feedsDataDir(), "data `directory` holding the installed schemas [BELFRY_DATA]")
	schemas := fs.String("schemas", nis2EnvString("CSAF_SCHEMAS", ""), "`directory` of the CSAF 2.0 JSON schemas (csaf_json_schema.json, first/cvss-v*.json); default <data>/csaf/schemas [BELFRY_CSAF_SCHEMAS]")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nValidates CSAF 2.0 documents against the JSON schema and the tests of section 6. See docs/csaf.md.\n\nFlags:\n", csafUsage)
		fs.PrintDefaults()
	}
	files, err := nis2Args(fs, args)
	if err != nil {
		return err
	}
	p, err := csaf.ParsePreset(*preset)
	if err != nil {
		fmt.Fprintf(stderr, "belfry csaf validate: --preset must be mandatory, optional, informative or all, not %q\n", *preset)
		return errUsage
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "belfry csaf validate: no file\n%s\n", csafUsage)
		return errUsage
	}
	dir := *schemas
	if dir == "" {
		dir = filepath.Join(*dataDir, "csaf", "schemas")
	}
	if err := csaf.SetSchemaDir(dir); err != nil {
		return fmt.Errorf("%w (give the directory of the OASIS CSAF 2.0 schemas with --schemas)", err)
	}
	failed := 0
	enc := json.NewEncoder(stdout)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		res := csafFileResult{File: f, Findings: []csaf.Finding{}}
		raw, err := os.ReadFile(f)
		var rep *csaf.Report
		if err == nil {
			rep, err = csaf.Validate(raw, p)
		}
		if err != nil {
			res.Error = err.Error()
		} else {
			res.Valid, res.Findings, res.Passes = rep.Valid, rep.Findings, len(rep.Findings) == 0
		}
		if !res.Passes {
			failed++
		}
		if *asJSON {
			if err := enc.Encode(res); err != nil {
				return err
			}
			continue
		}
		switch {
		case res.Error != "":
			fmt.Fprintf(stdout, "%s: error: %s\n", f, res.Error)
		case res.Valid && res.Passes:
			fmt.Fprintf(stdout, "%s: valid\n", f)
		case res.Valid:
			fmt.Fprintf(stdout, "%s: valid, with findings\n", f)
		default:
			fmt.Fprintf(stdout, "%s: invalid\n", f)
		}
		for _, x := range res.Findings {
			fmt.Fprintf(stdout, "  %-10s %-12s %s  %s\n", x.Test, x.Level, x.Path, x.Message)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files did not pass the %s preset", failed, len(files), p)
	}
	return nil
}
