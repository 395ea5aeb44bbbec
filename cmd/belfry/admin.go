package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/store"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, _, err := loadConfig("migrate", args, stderr, nil)
	if err != nil {
		return err
	}
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := db.Version(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database %s is at schema version %d\n", db.Dialect(), v)
	return nil
}

// withIdentity opens the database and the identity service for operator
// commands, which act as the system principal.
func withIdentity(ctx context.Context, cfg app.Config, stdout io.Writer, fn func(ctx context.Context, svc *identity.Service) error) error {
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	log := app.NewLogger(io.Discard, "text", "error")
	svc := identity.NewService(db, log, identity.Config{}, nil)
	pw, err := svc.Bootstrap(ctx, cfg.Authority, cfg.AdminEmail)
	if err != nil {
		return err
	}
	if pw != "" {
		fmt.Fprintf(stdout, "first administrator created: %s, one-time password: %s\n", cfg.AdminEmail, pw)
	}
	return fn(auth.With(ctx, auth.System), svc)
}

func runUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: belfry user add|password|list [flags]")
		return errUsage
	}
	sub, args := args[0], args[1:]
	var email, name, org, roles string
	var stdinPW bool
	var cfg app.Config
	switch sub {
	case "add":
		fs := newFlags("user add", stderr)
		cfg.Flags(fs)
		fs.StringVar(&email, "email", "", "e-mail `address` of the new user (required)")
		fs.StringVar(&name, "name", "", "full `name` (required)")
		fs.StringVar(&org, "org", "", "organisation `name` (default: the authority)")
		fs.StringVar(&roles, "roles", "", "comma-separated `roles` (required): "+roleList())
		if err := parseValid(fs, args, &cfg); err != nil {
			return err
		}
		return withIdentity(ctx, cfg, stdout, func(ctx context.Context, svc *identity.Service) error {
			o, err := findOrg(ctx, svc, org)
			if err != nil {
				return err
			}
			rs := strings.Split(roles, ",")
			u, pw, err := svc.CreateUser(ctx, identity.UserInput{OrgID: &o.ID, Email: &email, Name: &name, Roles: &rs})
			if err != nil {
				return describe(err)
			}
			fmt.Fprintf(stdout, "created user %d %s in %s\none-time password: %s\n", u.ID, u.Email, o.Name, pw)
			return nil
		})
	case "password":
		fs := newFlags("user password", stderr)
		cfg.Flags(fs)
		fs.StringVar(&email, "email", "", "e-mail `address` of the user (required)")
		fs.BoolVar(&stdinPW, "stdin", false, "read the new password from standard input instead of generating a one-time password")
		if err := parseValid(fs, args, &cfg); err != nil {
			return err
		}
		if email == "" {
			return errors.New("--email is required")
		}
		pw, mustChange := identity.GeneratePassword(), true
		if stdinPW {
			b, err := io.ReadAll(io.LimitReader(os.Stdin, 1024))
			if err != nil {
				return err
			}
			pw, mustChange = strings.TrimRight(string(b), "\r\n"), false
		}
		return withIdentity(ctx, cfg, stdout, func(ctx context.Context, svc *identity.Service) error {
			if err := svc.SetPassword(ctx, email, pw, mustChange); err != nil {
				return describe(err)
			}
			if mustChange {
				fmt.Fprintf(stdout, "one-time password for %s: %s\n", email, pw)
			} else {
				fmt.Fprintf(stdout, "password of %s changed\n", email)
			}
			return nil
		})
	case "list":
		fs := newFlags("user list", stderr)
		cfg.Flags(fs)
		if err := parseValid(fs, args, &cfg); err != nil {
			return err
		}
		return withIdentity(ctx, cfg, stdout, func(ctx context.Context, svc *identity.Service) error {
			us, _, err := svc.Users(ctx, identity.UserFilter{Limit: 500})
			if err != nil {
				return err
			}
			for _, u := range us {
				fmt.Fprintf(stdout, "%d\t%s\t%s\t%s\t%v\n", u.ID, u.Email, u.Name, u.OrgName, u.Roles)
			}
			return nil
		})
	default:
		fmt.Fprintf(stderr, "belfry user: unknown subcommand %q (want add, password or list)\n", sub)
		return errUsage
	}
}

func roleList() string {
	var rs []string
	for _, r := range auth.AllRoles() {
		rs = append(rs, string(r))
	}
	return strings.Join(rs, ", ")
}

func findOrg(ctx context.Context, svc *identity.Service, name string) (*identity.Organisation, error) {
	if name == "" {
		return svc.AuthorityOrg(ctx)
	}
	list, _, err := svc.Organisations(ctx, identity.OrgFilter{Text: name, Limit: 500})
	if err != nil {
		return nil, err
	}
	for _, o := range list {
		if strings.EqualFold(o.Name, name) {
			return o, nil
		}
	}
	return nil, fmt.Errorf("no organisation named %q", name)
}

// describe turns a service error into a message that names the fields at
// fault, in English.
func describe(err error) error {
	e, ok := errs.As(err)
	if !ok {
		return err
	}
	cat, cerr := i18n.Load()
	if cerr != nil {
		return err
	}
	var parts []string
	for _, f := range e.Fields {
		parts = append(parts, f.Field+": "+cat.T("en", f.Code, f.Args))
	}
	if len(parts) == 0 {
		parts = append(parts, cat.T("en", e.Code, e.Args))
	}
	return errors.New(strings.Join(parts, "; "))
}

// parseValid parses flags and validates the configuration they set.
func parseValid(fs *flag.FlagSet, args []string, cfg *app.Config) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	return nil
}

// openExisting opens the database of cfg without creating one: a missing
// SQLite file is an error naming the directory.
func openExisting(ctx context.Context, cfg app.Config) (*store.DB, error) {
	if cfg.DB == "" {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "belfry.db")); err != nil {
			return nil, fmt.Errorf("no database in %s (use --data DIR or --db URL)", cfg.DataDir)
		}
	}
	return store.Open(ctx, store.Config{URL: cfg.DB, DataDir: cfg.DataDir, SQLiteSync: cfg.SQLiteSync})
}

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "Usage: belfry audit verify [--data DIR | --db URL] [--json]")
		return errUsage
	}
	var asJSON bool
	var cfg app.Config
	fs := newFlags("audit verify", stderr)
	cfg.Flags(fs)
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	if err := parseValid(fs, args[1:], &cfg); err != nil {
		return err
	}
	db, err := openExisting(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := audit.Verify(ctx, db)
	if err != nil {
		return err
	}
	if res.Problems == nil {
		res.Problems = []audit.Problem{}
	}
	if asJSON {
		json.NewEncoder(stdout).Encode(map[string]any{"ok": res.OK(), "records": res.Records, "problems": res.Problems})
	} else if res.OK() {
		fmt.Fprintf(stdout, "audit log intact: %d records, chain verified\n", res.Records)
	} else {
		fmt.Fprintf(stdout, "audit log BROKEN: %d records, %d problems\n", res.Records, len(res.Problems))
		for _, p := range res.Problems {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
	}
	if !res.OK() {
		return fmt.Errorf("audit log verification failed (%d problems)", len(res.Problems))
	}
	return nil
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var out string
	fs := newFlags("backup", stderr)
	var cfg app.Config
	cfg.Flags(fs)
	fs.StringVar(&out, "out", "", "`file` to write (default: DATA/backups/belfry-TIMESTAMP.db)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if cfg.DB != "" {
		return errors.New("PostgreSQL is backed up with its own tools: pg_dump --format=custom --file=belfry.dump '" +
			cfg.Redacted().DB + "' (restore with pg_restore); see docs/operations.md")
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "belfry.db")); err != nil {
		return fmt.Errorf("no database in %s (use --data DIR)", cfg.DataDir)
	}
	if out == "" {
		out = filepath.Join(cfg.DataDir, "backups", "belfry-"+time.Now().UTC().Format("20060102T150405Z")+".db")
	}
	db, err := store.Open(ctx, store.Config{DataDir: cfg.DataDir, SQLiteSync: cfg.SQLiteSync})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s\n", out)
	return nil
}

func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, _, err := loadConfig("config", args, stderr, nil)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(cfg.Redacted())
}

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v += " " + s.Value
			}
		}
	}
	fmt.Fprintf(stdout, "belfry %s\n", v)
	return nil
}
