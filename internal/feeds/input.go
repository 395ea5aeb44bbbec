package feeds

import (
	"archive/zip"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrZipStream is returned for a zip archive read from a stream that
// cannot seek (standard input, a pipe): zip keeps its directory at the
// end, so it needs random access. Save the archive to a file first.
var ErrZipStream = errors.New("a zip archive must be read from a file, not a stream (save it to a file first)")

// OpenFunc receives one stream of an input: name is the name of the
// stream without its compression suffix ("2026-03-01-scan_http-be.csv"
// for "2026-03-01-scan_http-be.csv.gz", or a zip member's base name), so
// that the report type can be detected from it. r is valid until fn
// returns.
type OpenFunc func(name string, r io.Reader) error

// Open reads the file at path and calls fn for each stream in it: once
// for a plain or gzip-compressed file, once per CSV member (in archive
// order) for a zip archive. Compression is recognised by its magic
// bytes, whatever the file is called. Nothing is held in memory beyond
// the decompressors' buffers. The first error of fn stops the walk and is
// returned.
func Open(path string, fn OpenFunc) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return open(filepath.Base(path), f, f, st.Size(), fn)
}

// OpenReader is Open for a stream (standard input, an HTTP body): name
// is the name the stream had, as for a file. A gzip stream is
// decompressed; a zip archive is an error wrapping ErrZipStream unless r
// is also an io.ReaderAt with a Size method (like *bytes.Reader or
// *io.SectionReader).
func OpenReader(name string, r io.Reader, fn OpenFunc) error {
	var ra io.ReaderAt
	size := int64(-1)
	if s, ok := r.(interface {
		io.ReaderAt
		Size() int64
	}); ok {
		ra, size = s, s.Size()
	}
	return open(name, r, ra, size, fn)
}

func open(name string, r io.Reader, ra io.ReaderAt, size int64, fn OpenFunc) error {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(4)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		defer zr.Close()
		return fn(trimSuffixFold(name, ".gz"), zr)
	case len(magic) == 4 && string(magic) == "PK\x03\x04" || len(magic) == 4 && string(magic) == "PK\x05\x06":
		if ra == nil || size < 0 {
			return fmt.Errorf("%s: %w", name, ErrZipStream)
		}
		return openZip(name, ra, size, fn)
	}
	return fn(name, br)
}

// openZip calls fn for each member of a zip archive whose name ends in
// .csv (or .csv.gz, decompressed), skipping directories and other files.
// An archive without such a member is an error, so that it is not taken
// for an empty report.
func openZip(name string, ra io.ReaderAt, size int64, fn OpenFunc) error {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	n := 0
	for _, m := range zr.File {
		base := filepath.Base(m.Name)
		lower := strings.ToLower(base)
		if m.FileInfo().IsDir() || !(strings.HasSuffix(lower, ".csv") || strings.HasSuffix(lower, ".csv.gz")) {
			continue
		}
		n++
		err := func() error {
			rc, err := m.Open()
			if err != nil {
				return fmt.Errorf("%s: %s: %w", name, m.Name, err)
			}
			defer rc.Close()
			if strings.HasSuffix(lower, ".gz") {
				return open(base, rc, nil, -1, fn)
			}
			return fn(base, rc)
		}()
		if err != nil {
			return err
		}
	}
	if n == 0 {
		return fmt.Errorf("%s: the zip archive holds no .csv file", name)
	}
	return nil
}

func trimSuffixFold(s, suffix string) string {
	if len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix) {
		return s[:len(s)-len(suffix)]
	}
	return s
}
