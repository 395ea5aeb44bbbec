package main

// `belfry feeds parse` for the formats other than Shadowserver's: plain
// lists, MISP feeds, STIX bundles and mapped CSV (internal/feeds/formats).

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/belfry-cert/belfry/internal/feeds"
	"github.com/belfry-cert/belfry/internal/feeds/formats"
)

// formatShadowserver is the default format of feeds parse.
const formatShadowserver = "shadowserver"

// formatOptions builds the parsers' options from the flags.
func formatOptions(format, mappingPath, classification string, keepRed bool) (formats.Options, error) {
	var o formats.Options
	o.KeepRed = keepRed
	if classification != "" {
		if err := o.ParseClassification(classification); err != nil {
			return o, fmt.Errorf("--classification: %w", err)
		}
	}
	if mappingPath != "" {
		f, err := os.Open(mappingPath)
		if err != nil {
			return o, fmt.Errorf("--mapping: %w", err)
		}
		defer f.Close()
		if o.Mapping, err = formats.LoadMapping(f); err != nil {
			return o, fmt.Errorf("--mapping %s: %w", mappingPath, err)
		}
	}
	if format == formats.CSV && o.Mapping == nil {
		return o, fmt.Errorf("--format csv needs --mapping FILE (see docs/feeds.md, \"Other formats\")")
	}
	return o, nil
}

// detectFormat tells the format of an input from its content: a
// directory is a MISP feed, a zip archive holding manifest.json too; a
// JSON bundle is STIX, a MISP event or manifest is MISP; anything else is
// a Shadowserver report.
func detectFormat(file string) string {
	if st, err := os.Stat(file); err == nil && st.IsDir() {
		return formats.MISP
	}
	if zr, err := zip.OpenReader(file); err == nil {
		defer zr.Close()
		for _, f := range zr.File {
			if path.Base(f.Name) == "manifest.json" {
				return formats.MISP
			}
		}
		return formatShadowserver
	}
	f, err := os.Open(file)
	if err != nil {
		return formatShadowserver // the Shadowserver path reports the error
	}
	defer f.Close()
	return orDefault(detectStream(bufio.NewReaderSize(f, 64<<10)), formatShadowserver)
}

// detectStream peeks at a buffered stream, through gzip when compressed.
func detectStream(br *bufio.Reader) string {
	head, _ := br.Peek(64 << 10)
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		// Decompress from a copy of the head: br is not consumed.
		zr, err := gzip.NewReader(bytes.NewReader(head))
		if err != nil {
			return ""
		}
		head, _ = io.ReadAll(io.LimitReader(zr, 64<<10))
	}
	return formats.Detect(head)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// parseOther parses one input of a format of package formats, writing
// events as IntelMQ JSON to out and problems to probEnc.
func parseOther(ctx context.Context, file, format string, o formats.Options, stdin io.Reader, out io.Writer, probEnc *json.Encoder, obs time.Time, stderr io.Writer) (formats.Stats, error) {
	name := filepath.Base(file)
	var line []byte
	opt := feeds.IntelMQOptions{Observation: obs}
	emit := func(ev *feeds.Event) error {
		line = feeds.AppendIntelMQ(line[:0], ev, opt)
		_, err := out.Write(line)
		return err
	}
	problem := func(pr feeds.Problem) error {
		return probEnc.Encode(struct {
			File string `json:"file"`
			feeds.Problem
		}{name, pr})
	}
	var st formats.Stats
	var err error
	switch {
	case file == "-":
		name = "standard input"
		var run formats.Func
		if run, err = formats.Parser(format, o); err == nil {
			st, err = run(ctx, stdin, emit, problem)
		}
	case format == formats.MISP && isDir(file):
		st, err = formats.ParseMISPDir(ctx, file, o, emit, problem)
	default:
		var f *os.File
		if f, err = os.Open(file); err != nil {
			return st, err
		}
		defer f.Close()
		var run formats.Func
		if run, err = formats.Parser(format, o); err == nil {
			st, err = run(ctx, f, emit, problem)
		}
	}
	fmt.Fprintf(stderr, "%s: %s: %d rows, %d events, %d problems\n", name, format, st.Rows, st.Events, st.Problems)
	reasons := make([]string, 0, len(st.Reasons))
	for r := range st.Reasons {
		reasons = append(reasons, r)
	}
	slices.Sort(reasons)
	for _, r := range reasons {
		fmt.Fprintf(stderr, "  %6d  %s\n", st.Reasons[r], r)
	}
	return st, err
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
