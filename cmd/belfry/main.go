// Command belfry is the operations platform of a national cybersecurity
// authority: one binary whose subcommands serve the portal and API, load
// demo data, migrate, manage users, verify the audit log and back up.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"serve", "run the portal, the API and the background jobs", runServe},
	{"demo", "serve with a realistic demo dataset (data in ./belfry-demo)", runDemo},
	{"migrate", "apply database migrations and exit", runMigrate},
	{"user", "manage users: add, password, list", runUser},
	{"audit", "audit log: verify", runAudit},
	{"nis2", "NIS2 tools: classify, reporting deadlines, incident significance", runNIS2},
	{"constituency", "who owns an IP address, AS number or domain: lookup", runConstituency},
	{"feeds", "bulk feeds: parse Shadowserver reports, update-schema", runFeeds},
	{"ingest", "read feed files into the database for the early warning", runIngest},
	{"csaf", "CSAF 2.0 advisories: validate documents, check a provider, manage the signing key and schemas", runCSAF},
	{"bench", "benchmarks: reports (acknowledged submissions per second)", runBench},
	{"backup", "write a consistent copy of the SQLite database", runBackup},
	{"config", "print the effective configuration, secrets redacted", runConfig},
	{"version", "print the version", runVersion},
}

// errUsage marks errors whose message already explains the usage.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdout, stderr)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				return 2
			default:
				fmt.Fprintf(stderr, "belfry %s: %v\n", c.name, err)
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "belfry: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: belfry COMMAND [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'belfry COMMAND -h' for the flags of a command. Every flag also reads a BELFRY_* environment variable.")
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("belfry "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args, mapping a bad flag to errUsage (flag already printed
// why).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}
