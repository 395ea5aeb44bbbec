package reporting

// The pure part of attachments: which files are accepted (by extension and
// by their content), how names are cleaned, and the encryption at rest.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// DefaultAttachmentMaxSize is the default limit of one file: 20 MiB.
const DefaultAttachmentMaxSize = 20 << 20

// MaxAttachmentsPerStage bounds the files of one stage of an incident.
const MaxAttachmentsPerStage = 20

// maxNameRunes bounds a cleaned file name.
const maxNameRunes = 150

// fileType is an accepted kind of file: its extensions, the media type
// stored for it, and the check its content must pass.
type fileType struct {
	Exts  []string
	Media string
	Check func(b []byte) bool
}

// fileTypes are the accepted kinds of file. A file is accepted when its
// extension names one of them and its content passes that one's check;
// a browser never sees the media type (downloads are octet-stream).
var fileTypes = []fileType{
	{[]string{".pdf"}, "application/pdf", func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("%PDF-")) && sniffed(b, "application/pdf")
	}},
	{[]string{".png"}, "image/png", func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) && sniffed(b, "image/png")
	}},
	{[]string{".jpg", ".jpeg"}, "image/jpeg", func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("\xff\xd8\xff")) && sniffed(b, "image/jpeg")
	}},
	{[]string{".txt", ".log"}, "text/plain", isText},
	{[]string{".csv"}, "text/csv", isText},
	{[]string{".json"}, "application/json", func(b []byte) bool { return isText(b) && json.Valid(b) }},
	{[]string{".xml"}, "application/xml", isXML},
	{[]string{".eml"}, "message/rfc822", isMail},
	{[]string{".zip"}, "application/zip", func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("PK\x03\x04")) && sniffed(b, "application/zip")
	}},
	{[]string{".7z"}, "application/x-7z-compressed", func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("7z\xbc\xaf\x27\x1c"))
	}},
	{[]string{".pcap", ".cap"}, "application/vnd.tcpdump.pcap", isPCAP},
	{[]string{".pcapng"}, "application/x-pcapng", isPCAPNG},
}

// AttachmentExtensions lists the accepted extensions, in the order forms
// list them.
func AttachmentExtensions() []string {
	var out []string
	for _, t := range fileTypes {
		out = append(out, t.Exts...)
	}
	return out
}

// sniffed reports whether the standard library's sniffer agrees.
func sniffed(b []byte, media string) bool {
	ct := http.DetectContentType(b)
	mt, _, _ := strings.Cut(ct, ";")
	return mt == media
}

// isText: valid UTF-8 without control characters other than tab, line
// feed, form feed and carriage return, and not HTML.
func isText(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' || r == 0x7f {
			return false
		}
	}
	return !sniffed(b, "text/html")
}

func isXML(b []byte) bool {
	if !isText(b) || !bytes.HasPrefix(bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))), []byte("<")) {
		return false
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	root := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return root
		}
		if err != nil {
			return false
		}
		if _, ok := tok.(xml.StartElement); ok {
			root = true
		}
	}
}

// isMail: a message with a header block that names at least a sender, a
// date or a subject. Bodies may be in any 8-bit charset, but are text.
func isMail(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 || sniffed(b, "text/html") {
		return false
	}
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		return false
	}
	return m.Header.Get("From") != "" || m.Header.Get("Date") != "" || m.Header.Get("Subject") != ""
}

// isPCAP: the libpcap file header, either byte order, micro- or
// nanosecond timestamps.
func isPCAP(b []byte) bool {
	if len(b) < 24 {
		return false
	}
	switch string(b[:4]) {
	case "\xa1\xb2\xc3\xd4", "\xd4\xc3\xb2\xa1", "\xa1\xb2\x3c\x4d", "\x4d\x3c\xb2\xa1":
		return true
	}
	return false
}

// isPCAPNG: a section header block (type 0x0A0D0D0A) with the byte-order
// magic 0x1A2B3C4D in either order.
func isPCAPNG(b []byte) bool {
	if len(b) < 28 || string(b[:4]) != "\x0a\x0d\x0d\x0a" {
		return false
	}
	bom := string(b[8:12])
	return bom == "\x1a\x2b\x3c\x4d" || bom == "\x4d\x3c\x2b\x1a"
}

// detectType returns the media type of a file named name with content b,
// or the message key of why it is refused.
func detectType(name string, b []byte) (media, code string) {
	ext := strings.ToLower(path.Ext(name))
	for _, t := range fileTypes {
		for _, e := range t.Exts {
			if e != ext {
				continue
			}
			if !t.Check(b) {
				return "", "err.att.type_mismatch"
			}
			return t.Media, ""
		}
	}
	return "", "err.att.type_not_allowed"
}

// cleanName returns name without directories, control and formatting
// characters (bidirectional overrides among them) and characters that
// file systems refuse, in NFC, trimmed of dots and spaces and at most
// maxNameRunes long with its extension kept; "" when nothing is left.
func cleanName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = norm.NFC.String(name)
	name = strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\u00a0' || r == '\u3000':
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == utf8.RuneError:
			return -1
		case strings.ContainsRune(`<>:"|?*`, r):
			return '_'
		}
		return r
	}, name)
	name = strings.Trim(name, " .")
	if utf8.RuneCountInString(name) > maxNameRunes {
		ext := path.Ext(name)
		if utf8.RuneCountInString(ext) > 16 {
			ext = ""
		}
		stem := []rune(strings.TrimSuffix(name, ext))
		name = strings.TrimRight(string(stem[:maxNameRunes-utf8.RuneCountInString(ext)]), " .") + ext
	}
	return name
}

// cleanMediaType keeps a declared media type when it is well formed, in
// lower case and without parameters; else "application/octet-stream".
func cleanMediaType(s string) string {
	mt, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(s)), ";")
	mt = strings.TrimSpace(mt)
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok || typ == "" || sub == "" || len(mt) > 100 || strings.IndexFunc(mt, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("/.+-_", r))
	}) >= 0 {
		return "application/octet-stream"
	}
	return mt
}

// ParseSize reads a size like "20MB", "512KB", "1GB" or a number of bytes;
// the units are binary (1 MB = 1,048,576 bytes).
func ParseSize(s string) (int64, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.n
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, errors.New("want a positive size like 20MB")
	}
	return n * mult, nil
}

// ---- encryption at rest ----

// attachmentCipher encrypts attachments with AES-256-GCM. The additional
// data binds a ciphertext to its incident and to the SHA-256 of its
// plaintext, so that a row's ciphertext cannot be passed off as another's.
type attachmentCipher struct {
	aead  cipher.AEAD
	keyID string
}

// newAttachmentCipher takes a 32-byte key. Its id is the first 8 bytes of
// the key's SHA-256, in hex, stored with each row.
func newAttachmentCipher(key []byte) (*attachmentCipher, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("reporting: attachment key has %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &attachmentCipher{aead: aead, keyID: AttachmentKeyID(key)}, nil
}

func attachmentAD(incident int64, sum string) []byte {
	return []byte("belfry-attachment-v1\x00" + strconv.FormatInt(incident, 10) + "\x00" + sum)
}

// encrypt returns a fresh random nonce and the ciphertext of plain.
func (c *attachmentCipher) encrypt(incident int64, sum string, plain []byte) (nonce, ct []byte) {
	nonce = make([]byte, c.aead.NonceSize())
	rand.Read(nonce)
	return nonce, c.aead.Seal(nil, nonce, plain, attachmentAD(incident, sum))
}

// decrypt opens a row's ciphertext and checks that the plaintext hashes
// to sum. A row of another key, a changed ciphertext or a plaintext of
// another hash is an error: nothing is returned then.
func (c *attachmentCipher) decrypt(keyID string, incident int64, sum string, nonce, ct []byte) ([]byte, error) {
	if keyID != c.keyID {
		return nil, fmt.Errorf("reporting: attachment encrypted with key %s, this instance has key %s (check --attachment-key-file)", keyID, c.keyID)
	}
	if len(nonce) != c.aead.NonceSize() {
		return nil, errors.New("reporting: attachment nonce has the wrong length")
	}
	plain, err := c.aead.Open(nil, nonce, ct, attachmentAD(incident, sum))
	if err != nil {
		return nil, fmt.Errorf("reporting: attachment does not decrypt (changed, or of another incident): %w", err)
	}
	got := sha256.Sum256(plain)
	if hex.EncodeToString(got[:]) != sum {
		return nil, errors.New("reporting: attachment plaintext does not match its SHA-256")
	}
	return plain, nil
}

// AttachmentKeyID is the id of an attachment key, as stored with each row.
func AttachmentKeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}
