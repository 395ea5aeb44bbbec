package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/feeds"
	"github.com/belfry-cert/belfry/internal/feeds/formats"
	"github.com/belfry-cert/belfry/internal/feeds/intake"
	"github.com/belfry-cert/belfry/internal/feeds/shadowserver"
	"github.com/belfry-cert/belfry/internal/registry"
	"github.com/belfry-cert/belfry/internal/store"
)

const ingestUsage = "Usage: belfry ingest [--data DIR | --db URL] [--format shadowserver|list|misp|stix|csv] [--mapping FILE] [--classification T/T/I] [--report NAME] [--feeds-schema FILE] [--feeds-window DURATION] [--quiet] FILE|DIR..."

// runIngest reads feed files into the database: each file (or each
// report in a zip archive) is one run, matched to the constituency,
// deduplicated and stored; the running instance's early warning job then
// notifies the organisations.
func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg app.Config
	fset := newFlags("ingest", stderr)
	cfg.Flags(fset)
	report := fset.String("report", "", "the Shadowserver report `type` (scan_http, event4_sinkhole…) when the file names do not carry it")
	quiet := fset.Bool("quiet", false, "print only the summary of each file, no progress")
	format := fset.String("format", formatShadowserver, "input `format`: shadowserver, list, misp (a single event or a zipped feed), stix or csv")
	mapping := fset.String("mapping", "", "column mapping `file` (JSON) for --format csv")
	classification := fset.String("classification", "", "classification `taxonomy/type[/identifier]` of --format list events")
	keepRed := fset.Bool("keep-red", false, "keep TLP:RED items of MISP and STIX input instead of withholding them")
	fset.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nReads Shadowserver reports (plain, .gz or .zip; a directory: every file in it) into the database:\n"+
			"each event is matched to the organisations that claim its address, domain or AS number,\n"+
			"deduplicated and stored for the early warning. See docs/feeds.md.\n\nFlags:\n", ingestUsage)
		fset.PrintDefaults()
	}
	paths, err := nis2Args(fset, args)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if len(paths) == 0 {
		fmt.Fprintf(stderr, "belfry ingest: give at least one file or directory\n%s\n", ingestUsage)
		return errUsage
	}
	fo, err := formatOptions(*format, *mapping, *classification, *keepRed)
	if err != nil {
		return err
	}
	switch *format {
	case formatShadowserver, formats.List, formats.MISP, formats.STIX, formats.CSV:
	default:
		fmt.Fprintf(stderr, "belfry ingest: --format must be shadowserver, list, misp, stix or csv, not %q\n", *format)
		return errUsage
	}
	var schema *shadowserver.Schema
	if *format == formatShadowserver {
		if schema, err = loadSchema(cfg.FeedsSchema, cfg.DataDir); err != nil {
			return err
		}
	}
	if *report != "" && schema != nil {
		if _, ok := schema.Report(*report); !ok {
			return fmt.Errorf("--report %s: no such report type in the schema (see the file_name values of intelmq.json, e.g. scan_http)", *report)
		}
	}
	files, err := ingestFiles(paths)
	if err != nil {
		return err
	}
	db, err := openExisting(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	p, err := ingestPipeline(ctx, db, cfg.FeedsWindow)
	if err != nil {
		return err
	}
	in := &ingester{in: intake.New(p, intake.FixedSchema(schema), slog.New(slog.DiscardHandler)), report: *report, format: *format,
		formats: fo, stderr: stderr, progress: !*quiet && isTerminal(stderr)}
	var failed []string
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := in.file(ctx, f); err != nil {
			fmt.Fprintf(stderr, "belfry ingest: %s: %v\n", f, err)
			failed = append(failed, f)
		}
	}
	t := in.total
	fmt.Fprintf(stdout, "%d files, %d rows: %d events, %d problems; %d matched, %d unmatched; %d new to notify, %d duplicates\n",
		len(files), t.Rows, t.Events, t.Problems, t.Matched, t.Unmatched, t.New, t.Duplicates)
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d files failed: %s", len(failed), len(files), strings.Join(failed, ", "))
	}
	return nil
}

// ingestPipeline is the pipeline on db, matching with the approved claims.
func ingestPipeline(ctx context.Context, db *store.DB, window time.Duration) (*feeds.Pipeline, error) {
	log := slog.New(slog.DiscardHandler)
	reg := registry.NewService(db, log, registry.Config{}, nil, constituency.NewIndex(), nil)
	if err := reg.Index().Refresh(ctx, reg.LoadClaims); err != nil {
		return nil, err
	}
	return feeds.NewPipeline(db, reg.Index(), log, feeds.Options{Window: window}), nil
}

// ingestFiles lists the files of paths: a directory gives its regular
// files (hidden ones and *.part left out), in name order.
func ingestFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var in []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if path != p && strings.HasPrefix(name, ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() && !strings.HasSuffix(name, ".part") {
				in = append(in, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		slices.Sort(in)
		out = append(out, in...)
	}
	return out, nil
}

// ingester runs the files of one `belfry ingest`.
type ingester struct {
	in       *intake.Ingester
	report   string
	format   string
	formats  formats.Options
	stderr   io.Writer
	progress bool
	total    feeds.Stats
}

// file runs every report of one file.
func (g *ingester) file(ctx context.Context, path string) error {
	start := time.Now()
	var last time.Time
	o := intake.Options{Report: g.report, Format: g.format, Formats: g.formats}
	if g.progress {
		o.Progress = func(name string, s feeds.Stats) {
			if time.Since(last) < 250*time.Millisecond {
				return
			}
			last = time.Now()
			fmt.Fprintf(g.stderr, "\r%s: %d rows, %.0f rows/s, %s matched   ", name, s.Rows, float64(s.Rows)/time.Since(start).Seconds(), share(s.Matched, s.Events))
		}
	}
	results, err := g.in.Path(ctx, "file", path, o)
	if g.progress {
		fmt.Fprint(g.stderr, "\r\033[K")
	}
	for _, r := range results {
		if r.Run == nil {
			continue
		}
		s := r.Run.Stats
		fmt.Fprintf(g.stderr, "%s: run %d (%s): %d rows, %d events, %d problems; %s matched (%d unmatched); %d new, %d duplicates; %.1f s\n",
			r.Name, r.Run.ID, r.Feed, s.Rows, s.Events, s.Problems, share(s.Matched, s.Events), s.Unmatched, s.New, s.Duplicates,
			time.Since(start).Seconds())
		g.total.Rows += s.Rows
		g.total.Events += s.Events
		g.total.Problems += s.Problems
		g.total.Matched += s.Matched
		g.total.Unmatched += s.Unmatched
		g.total.New += s.New
		g.total.Duplicates += s.Duplicates
	}
	if errors.Is(err, intake.ErrUnknownReport) {
		err = fmt.Errorf("%w; name the report type with --report (e.g. --report scan_http)", err)
	}
	return err
}

// share writes part of whole as a percentage.
func share(part, whole int64) string {
	if whole == 0 {
		return "0 %"
	}
	return fmt.Sprintf("%.1f %%", 100*float64(part)/float64(whole))
}

// isTerminal reports whether w is a terminal, for progress lines.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
