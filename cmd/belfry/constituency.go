package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/registry"
)

// runConstituency answers "who owns this IP address, AS number or domain?"
// from the approved claims, for operators.
func runConstituency(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "lookup" {
		fmt.Fprintln(stderr, "Usage: belfry constituency lookup [--data DIR | --db URL] [--json] VALUE...\n\nVALUE is an IP address, an AS number (AS64500), a domain, a URL or an e-mail address.")
		return errUsage
	}
	var asJSON bool
	var cfg app.Config
	fs := newFlags("constituency lookup", stderr)
	cfg.Flags(fs)
	fs.BoolVar(&asJSON, "json", false, "print the results as JSON")
	if err := parseValid(fs, args[1:], &cfg); err != nil {
		return err
	}
	values := fs.Args()
	if len(values) == 0 {
		fmt.Fprintln(stderr, "belfry constituency lookup: give at least one IP address, AS number or domain")
		return errUsage
	}
	db, err := openExisting(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	svc := registry.NewService(db, slog.New(slog.DiscardHandler), registry.Config{}, nil, constituency.NewIndex(), nil)
	if err := svc.Index().Refresh(ctx, svc.LoadClaims); err != nil {
		return err
	}
	res, err := svc.LookupSystem(ctx, values)
	if err != nil {
		return err
	}
	bad := 0
	for _, r := range res {
		if r.Error != "" {
			bad++
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"results": res}); err != nil {
			return err
		}
	} else {
		for _, r := range res {
			switch {
			case r.Error != "":
				fmt.Fprintf(stdout, "%s\tnot understood: %s\n", r.Query, r.Error)
			case len(r.Owners) == 0:
				fmt.Fprintf(stdout, "%s\tno owner\n", r.Query)
			default:
				var owners []string
				for _, o := range r.Owners {
					s := fmt.Sprintf("%s (organisation %d", o.Name, o.OrgID)
					if o.Class != "" {
						s += ", " + o.Class
					}
					owners = append(owners, s+")")
				}
				tie := ""
				if r.Tie {
					tie = "\t[claimed by several organisations]"
				}
				fmt.Fprintf(stdout, "%s\t%s %s\t%s%s\n", r.Query, r.Kind, r.Matched, strings.Join(owners, "; "), tie)
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d values are not an IP address, AS number or domain", bad, len(res))
	}
	return nil
}
