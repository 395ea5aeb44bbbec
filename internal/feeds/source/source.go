// Package source delivers report files to the feeds pipeline, whatever way
// they arrive: a watched drop directory, the Shadowserver Reports API or
// e-mail sent to Belfry's own SMTP intake. A source knows nothing of the
// files' contents; parsing is the pipeline's business.
//
// Every source has the same shape: Run calls a Handler for each file and
// the handler's result is the acknowledgement. A nil error means the file
// was processed and the source may forget it (move it to done/, record
// the report id, answer 250 to the mail client); an error means it was
// not, and the source keeps the file in a way its medium allows (failed/
// with the reason, another download at the next poll, a temporary SMTP
// failure so that the sender retries). See docs/feeds-sources.md.
package source

import (
	"context"
	"io"
	"time"
)

// File is one report file handed to the pipeline.
type File struct {
	// Name is the file's base name as its producer gave it
	// ("2026-03-01-scan_http-belgium-geo.csv"); Shadowserver's names carry
	// the report type. It never contains a path separator.
	Name string
	// Size is the size in bytes when known before reading, else -1.
	Size int64
	// Open returns the contents. It may be called more than once; each
	// call reads the file from the start. The caller closes the reader.
	Open func() (io.ReadCloser, error)

	// Source names the kind of source ("dropdir", "shadowserver",
	// "smtp") and Ref the file within it (the claimed path, the report
	// id, the Message-ID and part), for logs and the feed run record.
	Source, Ref string
	// ReportType is the Shadowserver report type when the source knows
	// it ("scan_http"), so that the parser need not guess it from Name.
	ReportType string
	// Received is when the source got the file.
	Received time.Time
}

// A Handler processes one file. It returns nil when the file has been
// processed (rows that could not be parsed are part of a processed file,
// not a failure), and an error when it has not. A handler may be called
// from several goroutines at once.
type Handler func(ctx context.Context, f File) error

// Source delivers files to a handler until ctx ends. Run returns nil when
// ctx ended and it stopped cleanly, and an error when it could not start
// or could not go on.
type Source interface {
	Run(ctx context.Context, h Handler) error
}

// Compile-time checks that each source implements Source.
var (
	_ Source = (*DropDir)(nil)
	_ Source = (*Shadowserver)(nil)
	_ Source = (*Mailbox)(nil)
)
