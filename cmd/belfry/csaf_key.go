package main

// belfry csaf key …: the OpenPGP key that signs published advisories
// (CSAF requirements 19 and 20). The private key goes into the database
// encrypted with the instance's data key and never comes out; the public
// key is printed or served in the provider tree.
//
// belfry csaf update-schemas: installs the OASIS CSAF 2.0 schemas (which
// Belfry does not ship) where the instances find them.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/csaf"
)

const csafKeyUsage = `Usage:
  belfry csaf key generate [--name NAME] [--email ADDRESS] [server flags]
  belfry csaf key import [--passphrase-file FILE] [server flags] PRIVATE-KEY-FILE
  belfry csaf key list [server flags]
  belfry csaf key export-public [server flags] [FINGERPRINT]`

func csafKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, csafKeyUsage)
		return errUsage
	}
	sub, args := args[0], args[1:]
	var cfg app.Config
	fs := newFlags("csaf key "+sub, stderr)
	cfg.Flags(fs)
	name := fs.String("name", "", "key owner `name` (default: the publisher name)")
	email := fs.String("email", "", "key owner e-mail `address` (default: the security contact)")
	passFile := fs.String("passphrase-file", "", "`file` holding the passphrase of a protected private key")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nManages the OpenPGP key that signs published advisories. See docs/csaf.md.\n\nFlags:\n", csafKeyUsage)
		fs.PrintDefaults()
	}
	switch sub {
	case "generate", "import", "list", "export-public":
	default:
		fmt.Fprintf(stderr, "belfry csaf key: unknown subcommand %q (want generate, import, list or export-public)\n%s\n", sub, csafKeyUsage)
		return errUsage
	}
	if err := parseValid(fs, args, &cfg); err != nil {
		return err
	}
	wantArgs := map[string][2]int{"generate": {0, 0}, "import": {1, 1}, "list": {0, 0}, "export-public": {0, 1}}[sub]
	if fs.NArg() < wantArgs[0] || fs.NArg() > wantArgs[1] {
		fmt.Fprintln(stderr, csafKeyUsage)
		return errUsage
	}
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := app.OpenAdvisories(ctx, cfg, db, app.NewLogger(io.Discard, "text", "error"))
	if err != nil {
		return err
	}
	ctx = auth.With(ctx, auth.System)
	switch sub {
	case "generate":
		n, e := *name, *email
		if n == "" {
			n = svc.Config().Publisher.Name + " CSAF signing key"
		}
		if e == "" {
			e = strings.TrimPrefix(svc.Config().Contact, "mailto:")
		}
		k, err := svc.GenerateKey(ctx, n, e)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "generated signing key %s (Ed25519) for %s <%s>; it signs every advisory published from now on\n", k.Fingerprint, n, e)
	case "import":
		data, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return err
		}
		var pass []byte
		if *passFile != "" {
			if pass, err = os.ReadFile(*passFile); err != nil {
				return err
			}
			pass = []byte(strings.TrimRight(string(pass), "\r\n"))
		}
		k, err := svc.ImportKey(ctx, data, pass)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "imported signing key %s; it signs every advisory published from now on\n", k.Fingerprint)
	case "list":
		keys, err := svc.Keys(ctx)
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			fmt.Fprintln(stdout, "no signing key: run belfry csaf key generate")
		}
		for _, k := range keys {
			state := "retired"
			if k.Active {
				state = "active"
			}
			fmt.Fprintf(stdout, "%s  %-7s  %s  %s\n", k.Fingerprint, state, k.CreatedAt.Format("2006-01-02"), k.UserID)
		}
	case "export-public":
		keys, err := svc.Keys(ctx)
		if err != nil {
			return err
		}
		fpr := strings.ToUpper(fs.Arg(0))
		for _, k := range keys {
			if fpr == "" && k.Active || k.Fingerprint == fpr {
				fmt.Fprint(stdout, k.PublicKey)
				return nil
			}
		}
		if fpr == "" {
			return errors.New("no active signing key: run belfry csaf key generate")
		}
		return fmt.Errorf("no signing key %s", fpr)
	}
	return nil
}

// csafUpdateSchemas installs the CSAF schemas from a directory laid out
// like the OASIS repository's csaf_2.0 folder or like the installed one.
func csafUpdateSchemas(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("csaf update-schemas", stderr)
	from := fs.String("from", "", "`directory` holding csaf_json_schema.json and first/cvss-v2.0.json, cvss-v3.0.json, cvss-v3.1.json (or the OASIS csaf_2.0 folder with json_schema/ and referenced_schema/first/)")
	dataDir := fs.String("data", feedsDataDir(), "data `directory` [BELFRY_DATA]")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: belfry csaf update-schemas --from DIR [--data DIR]\n\nChecks the OASIS CSAF 2.0 schemas and installs them in DATA/csaf/schemas, where belfry serve and belfry csaf validate find them.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if *from == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "belfry csaf update-schemas: give the schemas' directory with --from DIR")
		return errUsage
	}
	files := map[string][]string{
		"csaf_json_schema.json":     {"csaf_json_schema.json", filepath.Join("json_schema", "csaf_json_schema.json")},
		"first/cvss-v2.0.json":      {filepath.Join("first", "cvss-v2.0.json"), filepath.Join("referenced_schema", "first", "cvss-v2.0.json")},
		"first/cvss-v3.0.json":      {filepath.Join("first", "cvss-v3.0.json"), filepath.Join("referenced_schema", "first", "cvss-v3.0.json")},
		"first/cvss-v3.1.json":      {filepath.Join("first", "cvss-v3.1.json"), filepath.Join("referenced_schema", "first", "cvss-v3.1.json")},
		"provider_json_schema.json": {"provider_json_schema.json", filepath.Join("json_schema", "provider_json_schema.json")},
	}
	tmp, err := os.MkdirTemp(*dataDir, ".csaf-schemas-")
	if err != nil {
		if err := os.MkdirAll(*dataDir, 0o700); err != nil {
			return err
		}
		if tmp, err = os.MkdirTemp(*dataDir, ".csaf-schemas-"); err != nil {
			return err
		}
	}
	defer os.RemoveAll(tmp)
	for dst, srcs := range files {
		var data []byte
		for _, s := range srcs {
			if data, err = os.ReadFile(filepath.Join(*from, s)); err == nil {
				break
			}
		}
		if err != nil {
			if dst == "provider_json_schema.json" {
				continue // optional: only the provider checker's schema
			}
			return fmt.Errorf("%s: %s not found", *from, dst)
		}
		p := filepath.Join(tmp, dst)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	if err := csaf.SetSchemaDir(tmp); err != nil {
		return err
	}
	dst := filepath.Join(*dataDir, "csaf", "schemas")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	old := dst + ".old"
	os.RemoveAll(old)
	if _, err := os.Stat(dst); err == nil {
		if err := os.Rename(dst, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	os.RemoveAll(old)
	fmt.Fprintf(stdout, "installed the CSAF 2.0 schemas in %s; restart the instances to use them\n", dst)
	return nil
}
