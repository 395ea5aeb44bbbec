package source

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// attachment is one report file found in a message.
type attachment struct {
	name string
	data []byte
}

// maxMIMEDepth bounds the nesting of multiparts and forwarded messages.
const maxMIMEDepth = 8

var errNotMessage = errors.New("not a MIME message")

// attachments reads a message and returns its header and its CSV, ZIP and gzip parts,
// decoded from base64 or quoted-printable. Parts are recognised by the
// extension of their file name, or by their media type when they have no
// name; any other part (the text, a logo, a signature) is skipped. The
// caller bounds the size of r; at most limit attachments are returned.
func attachments(r io.Reader, limit int) (mail.Header, []attachment, error) {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errNotMessage, err)
	}
	var out []attachment
	err = walkPart(msg.Header, msg.Body, 0, limit, &out)
	return msg.Header, out, err
}

// header is what mail.Header and textproto.MIMEHeader have in common.
type header interface{ Get(string) string }

func walkPart(h header, body io.Reader, depth, limit int, out *[]attachment) error {
	if depth > maxMIMEDepth {
		return fmt.Errorf("%w: parts nested deeper than %d", errNotMessage, maxMIMEDepth)
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil && mt == "" {
		mt, params = "text/plain", nil // RFC 2045 default, also for a broken header
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart() // raw: decode every transfer encoding the same way below
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%w: %v", errNotMessage, err)
			}
			if err := walkPart(p.Header, p, depth+1, limit, out); err != nil {
				return err
			}
		}
	case mt == "message/rfc822":
		inner, err := mail.ReadMessage(decodeTransfer(h, body))
		if err != nil {
			return nil // an unreadable forwarded message holds no report
		}
		return walkPart(inner.Header, inner.Body, depth+1, limit, out)
	}
	name, ok := reportName(h, mt, params, len(*out)+1)
	if !ok {
		return nil
	}
	if len(*out) >= limit {
		return fmt.Errorf("%w: more than %d attachments", errNotMessage, limit)
	}
	data, err := io.ReadAll(decodeTransfer(h, body))
	if err != nil {
		return err // the size limit of the SMTP server, or a broken encoding
	}
	*out = append(*out, attachment{name, data})
	return nil
}

// reportName returns the file name of a part that holds a report, and
// false for any other part.
func reportName(h header, mt string, params map[string]string, n int) (string, bool) {
	name := ""
	if _, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		name = dp["filename"] // RFC 2231 forms are decoded by ParseMediaType
	}
	if name == "" {
		name = params["name"]
	}
	if dec, err := new(mime.WordDecoder).DecodeHeader(name); err == nil {
		name = dec // RFC 2047 encoded words, still common in file names
	}
	name = cleanName(name)
	if name != "" {
		return name, reportExt(name)
	}
	switch mt {
	case "text/csv":
		return fmt.Sprintf("attachment-%d.csv", n), true
	case "application/zip", "application/x-zip-compressed":
		return fmt.Sprintf("attachment-%d.zip", n), true
	case "application/gzip", "application/x-gzip":
		return fmt.Sprintf("attachment-%d.gz", n), true
	}
	return "", false
}

// reportExt reports whether a file name is one the intake takes.
func reportExt(name string) bool {
	name = strings.ToLower(name)
	return strings.HasSuffix(name, ".csv") || strings.HasSuffix(name, ".zip") || strings.HasSuffix(name, ".gz")
}

// decodeTransfer undoes a part's Content-Transfer-Encoding.
func decodeTransfer(h header, body io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, body) // ignores line breaks
	case "quoted-printable":
		return quotedprintable.NewReader(body)
	}
	return body // 7bit, 8bit, binary
}
