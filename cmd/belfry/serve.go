package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/demo"
)

// loadConfig parses the common flags of commands that open the database.
func loadConfig(name string, args []string, stderr io.Writer, extra func(*app.Config)) (app.Config, []string, error) {
	var cfg app.Config
	fs := newFlags(name, stderr)
	cfg.Flags(fs)
	if extra != nil {
		extra(&cfg)
	}
	if err := parse(fs, args); err != nil {
		return cfg, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, fmt.Errorf("configuration: %w", err)
	}
	return cfg, fs.Args(), nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, _, err := loadConfig("serve", args, stderr, nil)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, stderr, nil)
}

// serve opens the database, creates the first administrator when there is
// none (printing the one-time password to the terminal only, never to the
// log), runs before (the demo loader) and serves until ctx ends.
func serve(ctx context.Context, cfg app.Config, stderr io.Writer, before func(context.Context, *app.App, string) error) error {
	log := app.NewLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := app.New(ctx, cfg, log, db)
	if err != nil {
		return err
	}
	pw, err := a.Identity.Bootstrap(ctx, cfg.Authority, cfg.AdminEmail)
	if err != nil {
		return fmt.Errorf("first administrator: %w", err)
	}
	return a.Serve(ctx, func(addr string) {
		url := "http://" + addr
		if cfg.TLSCert != "" {
			url = "https://" + addr
		}
		if pw != "" && before == nil {
			fmt.Fprintf(stderr, "\nFirst administrator created. Sign in at %s/login\n  e-mail:             %s\n  one-time password:  %s\nYou will be asked to choose a new password. This is shown only once.\n\n", url, cfg.AdminEmail, pw)
		}
		if before != nil {
			if err := before(ctx, a, url); err != nil {
				fmt.Fprintf(stderr, "demo data: %v\n", err)
			}
		}
	})
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// Demo data never goes into a real instance's database by accident:
	// BELFRY_DATA and BELFRY_DB are ignored; only explicit flags count.
	t := &demoEnv{}
	t.hide()
	cfg, _, err := loadConfig("demo", args, stderr, func(c *app.Config) { c.DataDir = "belfry-demo" })
	t.restore()
	if err != nil {
		return err
	}
	if cfg.CSAFSchemaDir() == "" && os.Getenv(csaf.SchemaDirEnv) == "" {
		// In a development checkout the OASIS schemas may sit next to the
		// repository (../shared/csaf/schemas); elsewhere, install them
		// with belfry csaf update-schemas.
		if _, err := os.Stat(filepath.Join("..", "shared", "csaf", "schemas", "csaf_json_schema.json")); err == nil {
			cfg.CSAFSchemas = filepath.Join("..", "shared", "csaf", "schemas")
		}
	}
	return serve(ctx, cfg, stderr, func(ctx context.Context, a *app.App, url string) error {
		logins, err := demo.Load(ctx, a.Identity, cfg.AdminEmail)
		if err != nil {
			return err
		}
		if err := demo.LoadRegistry(ctx, a.Registry, a.Identity); err != nil {
			return err
		}
		if err := demo.LoadReports(ctx, a.Reports, a.Identity); err != nil {
			return err
		}
		if err := demo.LoadVoluntary(ctx, a.Voluntary); err != nil {
			return err
		}
		if err := demo.LoadFeeds(ctx, a.Registry, a.Feeds, a.Intake.Pipeline(), a.EarlyWarning); err != nil {
			return err
		}
		if err := demo.LoadCases(ctx, a.Cases, a.Identity); err != nil {
			return err
		}
		if err := csaf.SchemasReady(); err != nil {
			fmt.Fprintf(stderr, "demo advisories not published: %v\n", err)
		} else if err := demo.LoadAdvisories(ctx, a.Advisories, a.Identity); err != nil {
			return err
		}
		demo.Print(stdout, url, logins)
		return nil
	})
}

// demoEnv hides the database settings of the environment from `belfry demo`.
type demoEnv struct{ saved map[string]string }

func (d *demoEnv) hide() {
	d.saved = map[string]string{}
	for _, k := range []string{"BELFRY_DATA", "BELFRY_DB"} {
		if v, ok := os.LookupEnv(k); ok {
			d.saved[k] = v
			os.Unsetenv(k)
		}
	}
}

func (d *demoEnv) restore() {
	for k, v := range d.saved {
		os.Setenv(k, v)
	}
}
