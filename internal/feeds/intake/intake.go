// Package intake puts report files through the feeds pipeline, whoever
// brings them: `belfry ingest` on the command line, or the sources a
// serving instance runs (a drop directory, its SMTP mailbox). For each
// stream of a file (a zip archive holds several) it tells the report type
// from the name, parses with Shadowserver's schema and runs the pipeline:
// one feed run per stream.
package intake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/belfry-cert/belfry/internal/feeds"
	"github.com/belfry-cert/belfry/internal/feeds/formats"
	"github.com/belfry-cert/belfry/internal/feeds/shadowserver"
	"github.com/belfry-cert/belfry/internal/feeds/source"
)

// Ingester reads files into a pipeline.
type Ingester struct {
	pipeline *feeds.Pipeline
	schema   *Schema
	log      *slog.Logger
	// TempDir holds a zip archive that arrived as a stream (mail, HTTP)
	// while it is read, since zip needs random access; "" is os.TempDir.
	TempDir string
}

// New returns an ingester running files through p, parsing with the
// schema s.
func New(p *feeds.Pipeline, s *Schema, log *slog.Logger) *Ingester {
	return &Ingester{pipeline: p, schema: s, log: log}
}

// Pipeline returns the pipeline the ingester runs files through.
func (in *Ingester) Pipeline() *feeds.Pipeline { return in.pipeline }

// Schema returns the schema the ingester parses with.
func (in *Ingester) Schema() *Schema { return in.schema }

// Options are what a caller may force about a file.
type Options struct {
	// Format is the file's format: "" or "shadowserver" for Shadowserver
	// reports, else a format of internal/feeds/formats (list, misp, stix,
	// csv), read with Formats.
	Format  string
	Formats formats.Options
	// Report is the Shadowserver report type, when the name does not say.
	Report string
	// Progress, if not nil, is told each run's counts as it goes.
	Progress func(name string, s feeds.Stats)
}

// Result is the outcome of one stream of a file.
type Result struct {
	Name string     // the stream's name (a zip member's, or the file's)
	Feed string     // the report type
	Run  *feeds.Run // nil when no run could start
	Err  error
}

// ErrUnknownReport: the report type cannot be told from the name.
var ErrUnknownReport = errors.New("intake: unknown report type")

// Path reads the file at path.
func (in *Ingester) Path(ctx context.Context, src, path string, o Options) ([]Result, error) {
	var out []Result
	err := feeds.Open(path, func(name string, r io.Reader) error {
		res := in.stream(ctx, src, name, r, o)
		out = append(out, res)
		return res.Err
	})
	return out, err
}

// Handle is a source.Handler: it reads the file the source delivers and
// fails when any of its streams failed, so that the source keeps it.
func (in *Ingester) Handle(ctx context.Context, f source.File) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	o := Options{Report: f.ReportType}
	var results []Result
	fn := func(name string, r io.Reader) error {
		res := in.stream(ctx, f.Source, name, r, o)
		results = append(results, res)
		return res.Err
	}
	err = feeds.OpenReader(f.Name, rc, fn)
	if errors.Is(err, feeds.ErrZipStream) {
		// A zip archive from a stream: read it again, from the start, into
		// a temporary file (a source's Open may be called more than once).
		err = in.spill(f, fn)
	}
	for _, r := range results {
		if r.Run != nil {
			in.log.Info("feed run", "source", f.Source, "ref", f.Ref, "name", r.Name, "feed", r.Feed, "run", r.Run.ID,
				"status", r.Run.Status, "rows", r.Run.Stats.Rows, "matched", r.Run.Stats.Matched, "new", r.Run.Stats.New,
				"problems", r.Run.Stats.Problems)
		}
	}
	return err
}

// spill copies a zip archive delivered as a stream to a temporary file
// and reads it from there.
func (in *Ingester) spill(f source.File, fn feeds.OpenFunc) error {
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	tmp, err := os.CreateTemp(in.TempDir, "belfry-feed-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, r); err != nil {
		return err
	}
	st, err := tmp.Stat()
	if err != nil {
		return err
	}
	return feeds.OpenReader(f.Name, io.NewSectionReader(tmp, 0, st.Size()), fn)
}

// stream runs one report stream through the pipeline.
func (in *Ingester) stream(ctx context.Context, src, name string, r io.Reader, o Options) Result {
	res := Result{Name: name}
	var progress feeds.Progress
	if o.Progress != nil {
		progress = func(s feeds.Stats) { o.Progress(name, s) }
	}
	if o.Format != "" && o.Format != "shadowserver" {
		parse, err := formats.ParseFunc(o.Format, o.Formats, r)
		if err != nil {
			res.Err = err
			return res
		}
		res.Feed = o.Formats.Feed
		if res.Feed == "" {
			res.Feed = o.Format
		}
		res.Run, res.Err = in.pipeline.Run(ctx, feeds.RunInput{Source: src, Name: name, Feed: res.Feed}, parse, progress)
		return res
	}
	schema, err := in.schema.Load()
	if err != nil {
		res.Err = err
		return res
	}
	var rep *shadowserver.Report
	if o.Report != "" {
		var ok bool
		if rep, ok = schema.Report(o.Report); !ok {
			res.Err = fmt.Errorf("%w: %q is not a report type of the schema", ErrUnknownReport, o.Report)
			return res
		}
	} else if rep, err = schema.Detect(name); err != nil {
		res.Err = fmt.Errorf("%w: %v", ErrUnknownReport, err)
		return res
	}
	res.Feed = rep.Stem
	parser := shadowserver.NewParser(rep)
	parse := func(ctx context.Context, emit func(*feeds.Event) error, problem func(feeds.Problem) error) error {
		parser.OnProblem = problem
		_, err := parser.Parse(r, emit)
		return err
	}
	res.Run, res.Err = in.pipeline.Run(ctx, feeds.RunInput{Source: src, Name: name, Feed: rep.Stem}, parse, progress)
	return res
}

// Schema is Shadowserver's schema read from a file, read again when the
// file changes (after `belfry feeds update-schema`), so that a serving
// instance follows updates without a restart.
type Schema struct {
	path string
	mu   sync.Mutex
	cur  *shadowserver.Schema
	mod  time.Time
	size int64
}

// NewSchema returns the schema of the file at path, read on first use.
func NewSchema(path string) *Schema { return &Schema{path: path} }

// FixedSchema returns a Schema that is s, whatever any file says.
func FixedSchema(s *shadowserver.Schema) *Schema { return &Schema{cur: s} }

// Path is the schema file's path ("" for a fixed schema).
func (s *Schema) Path() string { return s.path }

// Load returns the schema, read again if its file changed.
func (s *Schema) Load() (*shadowserver.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.path == "" {
		if s.cur == nil {
			return nil, errors.New("intake: no Shadowserver schema")
		}
		return s.cur, nil
	}
	st, err := os.Stat(s.path)
	if err != nil {
		if s.cur != nil {
			return s.cur, nil // keep the last good one
		}
		return nil, fmt.Errorf("no Shadowserver schema at %s: install one with `belfry feeds update-schema`: %w", s.path, err)
	}
	if s.cur != nil && st.ModTime().Equal(s.mod) && st.Size() == s.size {
		return s.cur, nil
	}
	next, err := shadowserver.LoadSchemaFile(s.path)
	if err != nil {
		if s.cur != nil {
			return s.cur, nil
		}
		return nil, err
	}
	s.cur, s.mod, s.size = next, st.ModTime(), st.Size()
	return s.cur, nil
}
