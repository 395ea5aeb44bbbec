package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/feeds"
	"github.com/belfry-cert/belfry/internal/feeds/formats"
	"github.com/belfry-cert/belfry/internal/feeds/shadowserver"
)

const feedsUsage = `Usage:
  belfry feeds parse [--format shadowserver|misp|stix|list|csv] [--mapping FILE] [--classification TAXONOMY/TYPE[/IDENTIFIER]] [--keep-red]
                     [--report NAME] [--schema FILE] [--data DIR] [--output intelmq] [--problems FILE] [--raw=false] [--time-observation now|RFC3339] FILE|DIR...
  belfry feeds update-schema --from FILE|URL [--data DIR]`

// schemaURL is where Shadowserver publishes the schema for IntelMQ.
const schemaURL = "https://interchange.shadowserver.org/intelmq/v1/schema"

// runFeeds runs the bulk-feed tools.
func runFeeds(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, feedsUsage)
		return errUsage
	}
	switch args[0] {
	case "parse":
		return feedsParse(ctx, args[1:], os.Stdin, stdout, stderr)
	case "update-schema":
		return feedsUpdateSchema(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stderr, feedsUsage)
		return flag.ErrHelp
	default:
		fmt.Fprintf(stderr, "belfry feeds: unknown subcommand %q (want parse or update-schema)\n%s\n", args[0], feedsUsage)
		return errUsage
	}
}

// feedsDataDir is the default of --data, as for serve.
func feedsDataDir() string { return nis2EnvString("DATA", "belfry-data") }

// installedSchema is where update-schema puts the schema.
func installedSchema(dataDir string) string {
	return filepath.Join(dataDir, "feeds", "shadowserver-schema.json")
}

// loadSchema loads --schema, or else the installed schema.
func loadSchema(path, dataDir string) (*shadowserver.Schema, error) {
	if path != "" {
		return shadowserver.LoadSchemaFile(path)
	}
	p := installedSchema(dataDir)
	s, err := shadowserver.LoadSchemaFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no Shadowserver schema: give one with --schema FILE, or install it with `belfry feeds update-schema --from %s` (or --from a downloaded copy) so that it is in %s", schemaURL, p)
	}
	return s, err
}

// feedsParse parses Shadowserver reports and prints IntelMQ events.
func feedsParse(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("feeds parse", stderr)
	report := fs.String("report", "", "the Shadowserver report `type` (scan_http, event4_sinkhole…) when the file names do not carry it")
	schemaPath := fs.String("schema", nis2EnvString("FEEDS_SCHEMA", ""), "Shadowserver's schema (intelmq.json) `file` (default: the one installed by update-schema) [BELFRY_FEEDS_SCHEMA]")
	dataDir := fs.String("data", feedsDataDir(), "data `directory` holding the installed schema [BELFRY_DATA]")
	output := fs.String("output", "intelmq", "output `format`: intelmq (one JSON event per line)")
	problemsPath := fs.String("problems", "", "write the rows that could not be parsed, as JSON lines, to this `file` (default: standard error)")
	raw := fs.Bool("raw", true, "include IntelMQ's raw field (the header and the row, base64)")
	observation := fs.String("time-observation", "", "add time.observation: now or an RFC 3339 `time` (default: none, for reproducible output)")
	format := fs.String("format", "", "input `format`: shadowserver, misp, stix, list or csv (default: detected from the content, else shadowserver)")
	mappingPath := fs.String("mapping", "", "the column mapping (JSON) `file` of --format csv")
	classification := fs.String("classification", "", "classification of list entries (and unmapped MISP/STIX items): `taxonomy/type[/identifier]` (default other/blacklist)")
	keepRed := fs.Bool("keep-red", false, "emit MISP and STIX items marked TLP:RED instead of withholding them")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nParses Shadowserver CSV reports (plain, .gz or .zip; - for standard input) into IntelMQ events on\nstandard output, with a summary on standard error. See docs/feeds.md.\n\nFlags:\n", feedsUsage)
		fs.PrintDefaults()
	}
	files, err := nis2Args(fs, args)
	if err != nil {
		return err
	}
	if *output != "intelmq" {
		fmt.Fprintf(stderr, "belfry feeds parse: --output must be intelmq, not %q\n", *output)
		return errUsage
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "belfry feeds parse: no input file (give - for standard input)\n%s\n", feedsUsage)
		return errUsage
	}
	var obs time.Time
	switch *observation {
	case "":
	case "now":
		obs = time.Now().UTC()
	default:
		if obs, err = time.Parse(time.RFC3339, *observation); err != nil {
			fmt.Fprintf(stderr, "belfry feeds parse: --time-observation must be now or an RFC 3339 time, not %q\n", *observation)
			return errUsage
		}
	}
	if *format != "" && *format != formatShadowserver && !slices.Contains(formats.Names, *format) {
		fmt.Fprintf(stderr, "belfry feeds parse: --format must be shadowserver, %s, not %q\n", strings.Join(formats.Names, ", "), *format)
		return errUsage
	}
	fopts, err := formatOptions(*format, *mappingPath, *classification, *keepRed)
	if err != nil {
		return err
	}
	// The schema is loaded only when a Shadowserver report is read.
	var schema *shadowserver.Schema
	needSchema := *format == "" || *format == formatShadowserver
	if needSchema {
		if schema, err = loadSchema(*schemaPath, *dataDir); err != nil && (*format != "" || *report != "") {
			return err
		}
	}
	schemaErr := err
	var forced *shadowserver.Report
	if *report != "" && schema != nil {
		var ok bool
		if forced, ok = schema.Report(*report); !ok {
			return fmt.Errorf("--report %s: no such report type in the schema (see the file_name values of intelmq.json, e.g. scan_http)", *report)
		}
	}
	probOut := stderr
	if *problemsPath != "" {
		f, err := os.Create(*problemsPath)
		if err != nil {
			return err
		}
		defer f.Close()
		probOut = f
	}
	out := bufio.NewWriterSize(stdout, 256<<10)
	defer out.Flush()
	probEnc := json.NewEncoder(probOut)

	var failed []string
	var total shadowserver.Stats
	for _, file := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		fmtName := *format
		switch {
		case fmtName != "":
		case file == "-":
			br := bufio.NewReaderSize(stdin, 64<<10)
			stdin, fmtName = br, orDefault(detectStream(br), formatShadowserver)
		default:
			fmtName = detectFormat(file)
		}
		if fmtName != "" && fmtName != formatShadowserver {
			st, err := parseOther(ctx, file, fmtName, fopts, stdin, out, probEnc, obs, stderr)
			total.Rows += st.Rows
			total.Events += st.Events
			total.Problems += st.Problems
			if err != nil {
				fmt.Fprintf(stderr, "belfry feeds parse: %s: %v\n", file, err)
				failed = append(failed, file)
			}
			continue
		}
		if schema == nil {
			fmt.Fprintf(stderr, "belfry feeds parse: %s: %v\n", file, schemaErr)
			failed = append(failed, file)
			continue
		}
		open := func(fn feeds.OpenFunc) error { return feeds.Open(file, fn) }
		if file == "-" {
			open = func(fn feeds.OpenFunc) error { return feeds.OpenReader("standard input", stdin, fn) }
		}
		err := open(func(name string, r io.Reader) error {
			rep := forced
			if rep == nil {
				var err error
				if rep, err = schema.Detect(name); err != nil {
					return fmt.Errorf("%w; name the report type with --report (e.g. --report scan_http)", err)
				}
			}
			p := shadowserver.NewParser(rep)
			p.OnProblem = func(pr feeds.Problem) error {
				return probEnc.Encode(struct {
					File string `json:"file"`
					feeds.Problem
				}{name, pr})
			}
			var line, rawBuf []byte
			o := feeds.IntelMQOptions{Observation: obs}
			st, err := p.Parse(r, func(ev *feeds.Event) error {
				if *raw {
					rawBuf = p.AppendRaw(rawBuf[:0])
					o.Raw = rawBuf
				}
				line = feeds.AppendIntelMQ(line[:0], ev, o)
				_, err := out.Write(line)
				return err
			})
			fmt.Fprintf(stderr, "%s: %s (%s): %d rows, %d events, %d problems\n", name, rep.Stem, rep.FeedName, st.Rows, st.Events, st.Problems)
			reasons := make([]string, 0, len(st.Reasons))
			for r := range st.Reasons {
				reasons = append(reasons, r)
			}
			slices.Sort(reasons)
			for _, r := range reasons {
				fmt.Fprintf(stderr, "  %6d  %s\n", st.Reasons[r], r)
			}
			total.Rows += st.Rows
			total.Events += st.Events
			total.Problems += st.Problems
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		})
		if err != nil {
			fmt.Fprintf(stderr, "belfry feeds parse: %s: %v\n", file, err)
			failed = append(failed, file)
		}
	}
	if len(files) > 1 {
		fmt.Fprintf(stderr, "total: %d rows, %d events, %d problems\n", total.Rows, total.Events, total.Problems)
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d inputs could not be read: %s", len(failed), len(files), strings.Join(failed, ", "))
	}
	return nil
}

// feedsUpdateSchema validates a schema and installs it in the data
// directory, atomically.
func feedsUpdateSchema(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("feeds update-schema", stderr)
	from := fs.String("from", "", "the schema to install: a `file` or an http(s) URL, e.g. "+schemaURL)
	dataDir := fs.String("data", feedsDataDir(), "data `directory` [BELFRY_DATA]")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nChecks Shadowserver's schema (intelmq.json) and installs it as %s,\nwhere `belfry feeds parse` finds it.\n\nFlags:\n", feedsUsage, installedSchema("DIR"))
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if *from == "" || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "belfry feeds update-schema: give the schema with --from FILE|URL\n%s\n", feedsUsage)
		return errUsage
	}
	data, err := readSchemaSource(ctx, *from)
	if err != nil {
		return err
	}
	s, err := shadowserver.LoadSchema(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: %w", *from, err)
	}
	dst := installedSchema(*dataDir)
	if err := writeFileAtomic(dst, data); err != nil {
		return err
	}
	created := s.Created
	if created == "" {
		created = "unknown"
	}
	fmt.Fprintf(stdout, "installed the Shadowserver schema (%d report types, created %s) as %s\n", s.Len(), created, dst)
	return nil
}

// readSchemaSource reads a file, or fetches an http(s) URL.
func readSchemaSource(ctx context.Context, from string) ([]byte, error) {
	const limit = 64 << 20
	if !strings.HasPrefix(from, "http://") && !strings.HasPrefix(from, "https://") {
		f, err := os.Open(from)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, limit))
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, from, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", from, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, limit))
}

// writeFileAtomic writes data to a temporary file next to path, syncs it
// and renames it over path, so that readers see the old or the new file.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".schema-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
