package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/csaf/providercheck"
)

const csafCheckUsage = `Usage:
  belfry csaf check [--header 'Name: value']... [--ca FILE] [--insecure] [--json] [--schemas DIR] https://host[:port]`

// headerFlag collects repeated --header 'Name: value' flags.
type headerFlag struct{ h http.Header }

func (f *headerFlag) String() string { return "" }

func (f *headerFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return fmt.Errorf("want 'Name: value', got %q", s)
	}
	if f.h == nil {
		f.h = http.Header{}
	}
	f.h.Add(name, strings.TrimSpace(value))
	return nil
}

// csafCheck checks a CSAF provider against requirements 1–20 of CSAF 2.0
// section 7.1; the exit status is 0 only when every requirement its role
// needs passed.
func csafCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("csaf check", stderr)
	var headers headerFlag
	fs.Var(&headers, "header", "HTTP header `'Name: value'` sent on every request, e.g. credentials for TLP:AMBER/RED (repeatable)")
	ca := fs.String("ca", nis2EnvString("CSAF_CHECK_CA", ""), "PEM `file` of CA certificates to trust in addition to the system ones [BELFRY_CSAF_CHECK_CA]")
	insecure := fs.Bool("insecure", nis2EnvBool("CSAF_CHECK_INSECURE", false), "do not verify the provider's TLS certificate [BELFRY_CSAF_CHECK_INSECURE]")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	dataDir := fs.String("data", feedsDataDir(), "data `directory` holding the installed schemas [BELFRY_DATA]")
	schemas := fs.String("schemas", nis2EnvString("CSAF_SCHEMAS", ""), "`directory` of the CSAF 2.0 JSON schemas for requirement 1; default <data>/csaf/schemas [BELFRY_CSAF_SCHEMAS]")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nChecks a CSAF 2.0 provider (requirements 7.1.1–7.1.20) as the BSI csaf_checker does. See docs/csaf.md.\n\nFlags:\n", csafCheckUsage)
		fs.PrintDefaults()
	}
	pos, err := nis2Args(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "belfry csaf check: want one provider URL, got %d\n%s\n", len(pos), csafCheckUsage)
		return errUsage
	}
	domain := pos[0]
	if strings.HasPrefix(strings.ToLower(domain), "http://") {
		fmt.Fprintf(stderr, "belfry csaf check: %s: CSAF providers are checked over https only\n%s\n", domain, csafCheckUsage)
		return errUsage
	}

	tlsCfg := &tls.Config{InsecureSkipVerify: *insecure} //nolint:gosec // --insecure is explicit
	if *ca != "" {
		pem, err := os.ReadFile(*ca)
		if err != nil {
			return fmt.Errorf("--ca: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("--ca: %s holds no PEM certificate", *ca)
		}
		tlsCfg.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	opt := providercheck.Options{Client: &http.Client{Transport: tr}, Header: headers.h}

	dir := *schemas
	explicit := dir != ""
	if !explicit {
		dir = filepath.Join(*dataDir, "csaf", "schemas")
	}
	if err := csaf.SetSchemaDir(dir); err != nil {
		if explicit {
			return fmt.Errorf("%w (give the directory of the OASIS CSAF 2.0 schemas with --schemas)", err)
		}
		fmt.Fprintf(stderr, "belfry csaf check: warning: %v; requirement 1 runs without the schema and the mandatory tests (give --schemas)\n", err)
	} else {
		opt.Validate = csafMandatory
	}

	rep, err := providercheck.Check(ctx, domain, opt)
	if err != nil {
		if ctx.Err() == nil {
			fmt.Fprintf(stderr, "belfry csaf check: %v\n", err)
			return errUsage
		}
		return err
	}
	failed := rep.Failed()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printCheckReport(stdout, rep, failed)
	}
	if len(failed) > 0 {
		ns := make([]string, len(failed))
		for i, q := range failed {
			ns[i] = fmt.Sprint(q.Num)
		}
		return fmt.Errorf("%s: %d requirements of the role %s failed: %s", rep.Domain, len(failed), rep.Role, strings.Join(ns, ", "))
	}
	return nil
}

// csafMandatory is requirement 1's validator: the schema and the
// mandatory tests 6.1.
func csafMandatory(doc []byte) []string {
	rep, err := csaf.Validate(doc, csaf.PresetMandatory)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, f := range rep.Findings {
		if f.Level == csaf.Mandatory {
			out = append(out, fmt.Sprintf("%s %s: %s", f.Test, f.Path, f.Message))
		}
	}
	return out
}

// printCheckReport prints one line per requirement, PASS or FAIL (a
// failure the role does not need, e.g. one of 8, 9, 10 when another one
// passed, is marked so), then its messages.
func printCheckReport(w io.Writer, rep *providercheck.Report, failed []providercheck.Requirement) {
	needed := map[int]bool{}
	for _, q := range failed {
		needed[q.Num] = true
	}
	fmt.Fprintf(w, "%s: role %s, %d documents\n", rep.Domain, rep.Role, rep.Documents)
	for _, q := range rep.Requirements {
		status, note := "PASS", ""
		if !q.Passed {
			status = "FAIL"
			if !needed[q.Num] {
				note = " (not required for the role " + rep.Role + ")"
			}
		}
		fmt.Fprintf(w, "%s %2d %s%s\n", status, q.Num, q.Title, note)
		for _, m := range q.Messages {
			fmt.Fprintf(w, "        %-7s %s\n", m.Level, m.Text)
		}
	}
	if len(failed) == 0 {
		fmt.Fprintf(w, "OK: the provider meets the requirements of the role %s\n", rep.Role)
	}
}
