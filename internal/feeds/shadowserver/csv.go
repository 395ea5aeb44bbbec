package shadowserver

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// csvReader splits RFC 4180 CSV (comma, double quotes, "" inside quotes,
// quoted fields across lines) into records without allocating per field:
// a record's fields are substrings of one string made from its bytes.
// It reads as encoding/csv does with FieldsPerRecord -1: blank lines are
// skipped, a final \r\n or \n is not part of the last field, and \r\n
// inside a quoted field becomes \n. Unlike encoding/csv it tolerates a
// quote inside an unquoted field (kept as text), and a record that cannot
// be read (a quote never closed within maxRecord bytes or before the end
// of input, text after a closing quote) is returned as malformed, after
// which reading resumes on the line after the record's first line, so
// that one stray quote cannot swallow the rest of a file.
type csvReader struct {
	br        *bufio.Reader
	maxRecord int
	pending   []byte // lines given back after a malformed multi-line record
	raw       []byte // the current record's bytes, line ends included
	esc       []byte // unescaped text of fields with "" or line ends
	spans     []span
	fields    []string
	firstLine int // length of the record's first line in raw
	eof       bool
}

type span struct {
	start, end int32
	esc        bool // in esc rather than raw
}

// errMalformed reasons.
var (
	errUnterminated = errors.New("unterminated quoted field")
	errAfterQuote   = errors.New("text after a closing quote")
	errTooLong      = errors.New("record too long")
)

func newCSVReader(r io.Reader, maxRecord int) *csvReader {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 64<<10 {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &csvReader{br: br, maxRecord: maxRecord}
}

// readLine appends the next line (with its \n, if any) to c.raw and
// reports whether there was one.
func (c *csvReader) readLine() (bool, error) {
	if len(c.pending) > 0 {
		i := bytes.IndexByte(c.pending, '\n')
		if i < 0 {
			i = len(c.pending) - 1
		}
		c.raw = append(c.raw, c.pending[:i+1]...)
		c.pending = c.pending[i+1:]
		return true, nil
	}
	if c.eof {
		return false, nil
	}
	n := 0
	for {
		chunk, err := c.br.ReadSlice('\n')
		c.raw = append(c.raw, chunk...)
		n += len(chunk)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			if len(c.raw) > c.maxRecord {
				// Keep reading to the end of the line, without keeping it.
				if err := c.skipLine(); err != nil {
					return true, err
				}
				return true, errTooLong
			}
			continue
		case err == io.EOF:
			c.eof = true
			return n > 0, nil
		default:
			return n > 0, err
		}
	}
}

func (c *csvReader) skipLine() error {
	for {
		_, err := c.br.ReadSlice('\n')
		switch {
		case err == nil:
			return nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			c.eof = true
			return nil
		default:
			return err
		}
	}
}

// next reads the next record. It returns io.EOF at the end, a malformed
// error (errUnterminated, errAfterQuote, errTooLong) for a record that
// cannot be read, whose first line is then in c.raw[:c.firstLine], or a
// read error. The fields are valid until the next call.
func (c *csvReader) next() ([]string, error) {
	for {
		c.raw = c.raw[:0]
		ok, err := c.readLine()
		if err != nil {
			c.firstLine = len(c.raw)
			return nil, err
		}
		if !ok {
			return nil, io.EOF
		}
		if l := len(c.raw); l == 1 && c.raw[0] == '\n' || l == 2 && c.raw[0] == '\r' && c.raw[1] == '\n' {
			continue // blank line
		}
		c.firstLine = len(c.raw)
		if err := c.split(); err != nil {
			if errors.Is(err, errUnterminated) || errors.Is(err, errTooLong) {
				// Give back the lines after the first for reading again.
				if rest := c.raw[c.firstLine:]; len(rest) > 0 {
					c.pending = append(append([]byte(nil), rest...), c.pending...)
				}
			}
			return nil, err
		}
		return c.fields, nil
	}
}

// split splits c.raw into fields, reading further lines while a quoted
// field is open.
func (c *csvReader) split() error {
	c.spans = c.spans[:0]
	c.esc = c.esc[:0]
	i := 0
	for {
		if i < len(c.raw) && c.raw[i] == '"' {
			// Quoted field.
			i++
			start := i
			escaped := false
			escStart := len(c.esc)
			for {
				j := bytes.IndexByte(c.raw[i:], '"')
				if j < 0 {
					// The field goes on on the next line.
					if !escaped {
						c.esc = append(c.esc, c.raw[start:i]...)
						escaped = true
					}
					c.esc = appendNormEOL(c.esc, c.raw[i:])
					i = len(c.raw)
					if len(c.raw) > c.maxRecord {
						return errTooLong
					}
					ok, err := c.readLine()
					if err != nil {
						return err
					}
					if !ok {
						return errUnterminated
					}
					continue
				}
				if escaped {
					c.esc = append(c.esc, c.raw[i:i+j]...)
				}
				i += j + 1
				if i < len(c.raw) && c.raw[i] == '"' {
					if !escaped {
						c.esc = append(c.esc, c.raw[start:i]...) // up to and with one quote
						escaped = true
					} else {
						c.esc = append(c.esc, '"')
					}
					i++
					continue
				}
				break
			}
			if escaped {
				c.spans = append(c.spans, span{int32(escStart), int32(len(c.esc)), true})
			} else {
				c.spans = append(c.spans, span{int32(start), int32(i - 1), false})
			}
			switch {
			case i < len(c.raw) && c.raw[i] == ',':
				i++
				continue
			case atEOL(c.raw[i:]):
				return c.finish()
			default:
				return errAfterQuote
			}
		}
		// Unquoted field: up to the next comma or the end of the line.
		j := bytes.IndexByte(c.raw[i:], ',')
		if j >= 0 {
			c.spans = append(c.spans, span{int32(i), int32(i + j), false})
			i += j + 1
			continue
		}
		end := len(c.raw)
		if end > i && c.raw[end-1] == '\n' {
			end--
			if end > i && c.raw[end-1] == '\r' {
				end--
			}
		}
		c.spans = append(c.spans, span{int32(i), int32(end), false})
		return c.finish()
	}
}

// atEOL reports whether b is empty or only a line end.
func atEOL(b []byte) bool {
	return len(b) == 0 || len(b) == 1 && b[0] == '\n' || len(b) == 2 && b[0] == '\r' && b[1] == '\n'
}

// appendNormEOL appends b with a final \r\n turned into \n.
func appendNormEOL(dst, b []byte) []byte {
	if n := len(b); n >= 2 && b[n-2] == '\r' && b[n-1] == '\n' {
		dst = append(dst, b[:n-2]...)
		return append(dst, '\n')
	}
	return append(dst, b...)
}

// finish makes the fields: one string for the record's bytes and one for
// the unescaped text, both cut into substrings.
func (c *csvReader) finish() error {
	s := string(c.raw)
	var e string
	if len(c.esc) > 0 {
		e = string(c.esc)
	}
	c.fields = c.fields[:0]
	for _, sp := range c.spans {
		if sp.esc {
			c.fields = append(c.fields, e[sp.start:sp.end])
		} else {
			c.fields = append(c.fields, s[sp.start:sp.end])
		}
	}
	return nil
}
