package formats

// Plain lists: one IP address, network, domain or URL per line.

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"

	"github.com/belfry-cert/belfry/internal/feeds"
)

// MaxLine is the longest line of a list, in bytes; a longer one is a
// problem ("line too long").
const MaxLine = 64 << 10

// List problem reasons.
const (
	ReasonLineTooLong  = "line too long"
	ReasonNotIndicator = "not an IP address, network, domain or URL"
)

// ParseList reads a list of indicators, one per line: an IP address
// (source.ip), a network in CIDR notation (source.network; a single
// address also as source.ip), a URL (source.url, and its host as
// source.ip or source.fqdn) or a domain name (source.fqdn). The kind is
// detected per line. Blank lines and comments (from a # at the start of
// a line or after a space) are skipped; text after the indicator and a
// space is kept as comment. Defanged indicators (hxxp://, [.]) are read.
// Event.Row is the line number.
func ParseList(ctx context.Context, r io.Reader, o Options, emit func(*feeds.Event) error, problem func(feeds.Problem) error) (Stats, error) {
	var st Stats
	s := &sink{st: &st, emit: emit, problem: problem}
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for n := 1; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return st, err
			}
		}
		line, tooLong, err := readLine(br, &long)
		if err != nil && err != io.EOF {
			return st, err
		}
		if err == io.EOF && line == "" {
			return st, nil
		}
		if tooLong {
			st.Rows++
			if err := s.fail(n, ReasonLineTooLong, line); err != nil {
				return st, err
			}
			continue
		}
		text := stripComment(line)
		if text == "" {
			continue
		}
		st.Rows++
		ev := feeds.Event{Feed: o.feed(List), FeedName: o.FeedName, Row: n}
		value, rest, _ := strings.Cut(text, " ")
		if i := strings.IndexAny(value, "\t"); i >= 0 {
			value, rest = value[:i], value[i+1:]+" "+rest
		}
		if !listValue(&ev, value) {
			if err := s.fail(n, ReasonNotIndicator, line); err != nil {
				return st, err
			}
			continue
		}
		if rest = strings.TrimSpace(rest); rest != "" {
			ev.Fields = append(ev.Fields, feeds.Field{Key: "comment", Value: rest})
		}
		o.classify(&ev, List)
		if err := s.event(&ev); err != nil {
			return st, err
		}
	}
}

// readLine returns the next line without its end; a line longer than
// MaxLine is returned cut, with tooLong, and the rest of it skipped.
func readLine(br *bufio.Reader, buf *[]byte) (line string, tooLong bool, err error) {
	b := (*buf)[:0]
	for {
		chunk, err := br.ReadSlice('\n')
		if len(b)+len(chunk) <= MaxLine+2 {
			b = append(b, chunk...)
		} else {
			if !tooLong {
				b = append(b, chunk[:min(len(chunk), MaxLine+2-len(b))]...)
			}
			tooLong = true
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		*buf = b
		if err != nil && len(b) == 0 {
			return "", false, err
		}
		s := strings.TrimRight(string(b), "\r\n")
		if len(s) > MaxLine {
			tooLong = true
			s = s[:MaxLine]
		}
		return s, tooLong, err
	}
}

// stripComment removes a comment and the spaces around the text.
func stripComment(line string) string {
	line = strings.TrimPrefix(line, "\ufeff")
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			line = line[:i]
			break
		}
	}
	return strings.TrimSpace(line)
}

// listValue detects the kind of one indicator and sets it in ev.
func listValue(ev *feeds.Event, v string) bool {
	v = refang(v)
	if a, ok := parseIP(v); ok {
		ev.SrcIP = a
		return true
	}
	if strings.Contains(v, "://") {
		host, ok := urlHost(v)
		if !ok {
			return false
		}
		if _, ip := parseIP(host); !ip {
			if _, ok := normFQDN(host); !ok {
				return false // nothing to match the event on
			}
		}
		put(ev, "source.url", v)
		return true
	}
	if strings.IndexByte(v, '/') >= 0 {
		p, ok := parsePrefix(v)
		if !ok {
			return false
		}
		ev.Fields = append(ev.Fields, feeds.Field{Key: "source.network", Value: p.String()})
		if p.IsSingleIP() {
			ev.SrcIP = p.Addr()
		}
		return true
	}
	f, ok := normFQDN(v)
	if !ok {
		return false
	}
	ev.SrcFQDN = f
	return true
}
