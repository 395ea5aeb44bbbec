package cases

// A case from an e-mail (issue 6): a suspicious or reporting message
// forwarded to the CSIRT, given as its raw RFC 5322 text (an .eml file).
// The case's description is a summary of its headers and its text; its
// sender, reply and bounce addresses, the web addresses of its text, their
// domains and the public addresses of its Received chain become observables
// in the same transaction. The raw message itself is not stored.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// Limits of a case from an e-mail.
const (
	// MaxEmailBytes is the largest raw message taken (10 MiB).
	MaxEmailBytes = 10 << 20
	// maxEmailText is how many characters of the message's text go into
	// the description.
	maxEmailText = 50000
	// maxEmailURLs is how many distinct web addresses become observables.
	maxEmailURLs = 200
	// maxEmailParts bounds the MIME parts walked, maxEmailDepth their
	// nesting.
	maxEmailParts = 500
	maxEmailDepth = 10
	// maxReceived is how many Received headers are read.
	maxReceived = 100
	// maxObservableURL is the longest web address kept: longer ones do
	// not fit the database's index.
	maxObservableURL = 2000
	maxEmailTitle    = 200
)

// emailMsg is what is read from a message.
type emailMsg struct {
	From, To, Cc, Date, Subject, MessageID string
	// Text is the message's text: its text/plain parts, or else its HTML
	// stripped of tags; Truncated says it was cut at maxEmailText.
	Text      string
	Truncated bool
	// The observables: the sender's address, the other addresses
	// (Return-Path, Reply-To) that differ from it, web addresses, their
	// domains and the public addresses of the Received headers.
	Sender  string
	Others  []string
	URLs    []string
	Domains []string
	IPs     []string
}

func emailField(code string, args map[string]any) error { return errs.Field("email", code, args) }

// FromEmail opens a case from a raw e-mail (RFC 5322): its subject as
// title (unless in has one), a summary of its headers and its text as
// description (unless in has one), source "email", and its addresses, web
// addresses, domains and relay addresses as sighted observables with the
// case's TLP, in the same transaction.
func (s *Service) FromEmail(ctx context.Context, raw []byte, in Input) (*Case, error) {
	if !CanWork(auth.From(ctx)) {
		return nil, forbidden()
	}
	m, err := parseEmail(raw)
	if err != nil {
		return nil, err
	}
	if in.Title == nil {
		t := m.Subject
		if t == "" {
			t = m.Sender
		}
		t = truncateRunes("E-mail: "+t, maxEmailTitle)
		in.Title = &t
	}
	if in.Description == nil {
		d := m.summary()
		if m.Truncated {
			d += "\n\n" + s.text(in.Locale, auth.From(ctx), "caseemail.truncated")
		}
		in.Description = &d
	}
	return s.create(ctx, in, "email", nil, func(tx *store.Tx, c *Case, now time.Time) error {
		add := func(typ string, values ...string) error {
			for _, v := range values {
				if err := s.addObservable(ctx, tx, c, ObservableInput{Type: typ, Value: v, TLP: c.TLP, Sighted: true}, now); err != nil {
					return err
				}
			}
			return nil
		}
		if m.Sender != "" {
			if err := add("email", m.Sender); err != nil {
				return err
			}
		}
		for _, step := range []struct {
			typ    string
			values []string
		}{{"email", m.Others}, {"url", m.URLs}, {"domain", m.Domains}, {"ip", m.IPs}} {
			if err := add(step.typ, step.values...); err != nil {
				return err
			}
		}
		return nil
	})
}

// summary is the description of the case: the headers, then the text,
// as one fenced code block. Descriptions are Markdown with links made
// clickable; a message's text is shown as it is, its addresses (often
// malicious) never become links, and its own Markdown or backticks stay
// text.
func (m *emailMsg) summary() string {
	var b strings.Builder
	for _, h := range [][2]string{{"From", m.From}, {"To", m.To}, {"Cc", m.Cc}, {"Date", m.Date}, {"Subject", m.Subject}, {"Message-ID", m.MessageID}} {
		if h[1] != "" {
			fmt.Fprintf(&b, "%s: %s\n", h[0], h[1])
		}
	}
	if m.Text != "" {
		b.WriteString("\n")
		b.WriteString(m.Text)
	}
	text := strings.TrimSpace(b.String())
	fence := strings.Repeat("`", max(3, longestRun(text, '`')+1))
	return fence + "text\n" + text + "\n" + fence
}

// longestRun is the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// parseEmail reads a raw message: its headers decoded, its text and its
// observables. It refuses (field "email") an empty or oversized message
// and text that is not an e-mail (no From header).
func parseEmail(raw []byte) (*emailMsg, error) {
	if len(raw) > MaxEmailBytes {
		return nil, emailField("err.caseemail.too_large", map[string]any{"max": MaxEmailBytes >> 20})
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return nil, emailField("err.caseemail.missing", nil)
	}
	// An mbox export starts with a "From sender date" line.
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	msg, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil || strings.TrimSpace(msg.Header.Get("From")) == "" {
		return nil, emailField("err.caseemail.not_email", nil)
	}
	dec := &mime.WordDecoder{CharsetReader: charsetReader}
	hdr := func(k string) string { return cleanLine(decodeHeader(dec, msg.Header.Get(k))) }
	m := &emailMsg{From: hdr("From"), To: hdr("To"), Cc: hdr("Cc"), Date: hdr("Date"), Subject: hdr("Subject"), MessageID: hdr("Message-ID")}
	ap := &mail.AddressParser{WordDecoder: dec}
	first := func(k string) string {
		v := strings.TrimSpace(msg.Header.Get(k))
		if v == "" || v == "<>" {
			return ""
		}
		addr := ""
		if as, err := ap.ParseList(v); err == nil && len(as) > 0 {
			addr = as[0].Address
		} else if mm := looseAddrRE.FindString(v); mm != "" {
			addr = mm // a header net/mail finds malformed
		}
		n, err := NormalizeObservable("email", addr)
		if err != nil {
			return ""
		}
		return n
	}
	m.Sender = first("From")
	for _, k := range []string{"Return-Path", "Reply-To"} {
		if a := first(k); a != "" && !strings.EqualFold(a, m.Sender) && !slices.ContainsFunc(m.Others, func(o string) bool { return strings.EqualFold(o, a) }) {
			m.Others = append(m.Others, a)
		}
	}
	m.IPs = receivedIPs(msg.Header["Received"])

	w := &walker{}
	w.walk(msg.Header, msg.Body, 0)
	text := strings.Join(w.plain, "\n\n")
	if strings.TrimSpace(text) == "" {
		var hs []string
		for _, h := range w.html {
			hs = append(hs, stripHTML(h))
		}
		text = strings.Join(hs, "\n\n")
	}
	text = strings.TrimSpace(text)
	if utf8.RuneCountInString(text) > maxEmailText {
		text, m.Truncated = truncateRunes(text, maxEmailText), true
	}
	m.Text = text
	for _, t := range w.plain {
		m.addURLs(t)
	}
	for _, h := range w.html {
		m.addURLs(html.UnescapeString(h))
	}
	return m, nil
}

// walker collects the text parts of a message.
type walker struct {
	plain, html []string
	parts       int
}

// walk collects the text of a part with header h (a message's or a MIME
// part's, both with canonical keys).
func (w *walker) walk(h map[string][]string, body io.Reader, depth int) {
	w.parts++
	if w.parts > maxEmailParts || depth > maxEmailDepth {
		return
	}
	get := func(k string) string {
		if v := h[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	mt, params, err := mime.ParseMediaType(get("Content-Type"))
	if err != nil || mt == "" {
		mt, params = "text/plain", map[string]string{}
	}
	if disp, _, _ := mime.ParseMediaType(get("Content-Disposition")); disp == "attachment" && !strings.HasPrefix(mt, "message/") {
		return
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		if params["boundary"] == "" {
			return
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			w.walk(p.Header, p, depth+1)
			if w.parts > maxEmailParts {
				return
			}
		}
	case mt == "message/rfc822":
		// A message forwarded as an attachment: its text counts too.
		inner, err := mail.ReadMessage(bufio.NewReader(transferDecode(get("Content-Transfer-Encoding"), body)))
		if err != nil {
			return
		}
		w.walk(inner.Header, inner.Body, depth+1)
	case mt == "text/plain" || mt == "text/html":
		b, err := io.ReadAll(io.LimitReader(transferDecode(get("Content-Transfer-Encoding"), body), MaxEmailBytes))
		if err != nil && len(b) == 0 {
			return
		}
		s := toUTF8(b, params["charset"])
		if mt == "text/plain" {
			w.plain = append(w.plain, s)
		} else {
			w.html = append(w.html, s)
		}
	}
}

// transferDecode undoes a Content-Transfer-Encoding.
func transferDecode(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Filter{r: r})
	}
	return r
}

// base64Filter drops what is not base64 (spaces, stray characters) from
// a body, as mail readers do.
type base64Filter struct{ r io.Reader }

func (f *base64Filter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// charsetReader decodes the charsets the standard library does not know,
// for encoded words.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	e, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return e.NewDecoder().Reader(input), nil
}

// toUTF8 decodes text in charset (UTF-8 when unknown) to valid UTF-8
// without control characters but line breaks and tabs.
func toUTF8(b []byte, charset string) string {
	cs := strings.ToLower(strings.TrimSpace(charset))
	if cs != "" && cs != "utf-8" && cs != "utf8" && cs != "us-ascii" {
		if e, err := htmlindex.Get(cs); err == nil {
			if d, err := e.NewDecoder().Bytes(b); err == nil {
				b = d
			}
		}
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// decodeHeader decodes the encoded words of a header, keeping it as it
// is when they are malformed.
func decodeHeader(dec *mime.WordDecoder, v string) string {
	if d, err := dec.DecodeHeader(v); err == nil {
		return d
	}
	return v
}

// cleanLine makes a header one line of valid UTF-8 without control
// characters.
func cleanLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

var (
	htmlDropRE   = regexp.MustCompile(`(?is)<script\b.*?</script\s*>|<style\b.*?</style\s*>|<head\b.*?</head\s*>|<!--.*?-->`)
	htmlBreakRE  = regexp.MustCompile(`(?i)<br\s*/?>|</(?:p|div|tr|li|h[1-6]|blockquote|table)\s*>`)
	htmlTagRE    = regexp.MustCompile(`(?s)<[^>]*>`)
	blankLinesRE = regexp.MustCompile(`\n[ \t]*(?:\n[ \t]*)+`)
	spacesRE     = regexp.MustCompile(`[ \t\x{00a0}]+`)
)

// stripHTML makes text of HTML, crudely: scripts, styles and comments
// dropped, line breaks kept, other tags removed, entities decoded. The
// result is text that is escaped wherever it is shown.
func stripHTML(h string) string {
	h = htmlDropRE.ReplaceAllString(h, "")
	h = htmlBreakRE.ReplaceAllString(h, "\n")
	h = htmlTagRE.ReplaceAllString(h, "")
	h = strings.ReplaceAll(h, "<", "") // an unclosed tag
	h = html.UnescapeString(h)
	h = spacesRE.ReplaceAllString(h, " ")
	h = blankLinesRE.ReplaceAllString(h, "\n\n")
	var lines []string
	for l := range strings.SplitSeq(h, "\n") {
		lines = append(lines, strings.TrimSpace(l))
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

var urlRE = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"'` + "`" + `{}|\\^\[\]]+`)

// addURLs adds the distinct web addresses of text (at most maxEmailURLs)
// and their domains.
func (m *emailMsg) addURLs(text string) {
	for _, raw := range urlRE.FindAllString(text, -1) {
		if len(m.URLs) >= maxEmailURLs {
			return
		}
		raw = strings.TrimRight(raw, ".,;:!?'\"")
		for strings.HasSuffix(raw, ")") && strings.Count(raw, "(") < strings.Count(raw, ")") {
			raw = strings.TrimSuffix(raw, ")")
		}
		if len(raw) > maxObservableURL {
			continue
		}
		u, err := NormalizeObservable("url", raw)
		if err != nil || slices.Contains(m.URLs, u) {
			continue
		}
		pu, err := url.Parse(u)
		if err != nil || pu.Hostname() == "" {
			continue
		}
		m.URLs = append(m.URLs, u)
		host := pu.Hostname()
		if _, err := netip.ParseAddr(host); err == nil {
			continue // an address, not a domain
		}
		if d, err := NormalizeObservable("domain", host); err == nil && !slices.Contains(m.Domains, d) {
			m.Domains = append(m.Domains, d)
		}
	}
}

var (
	looseAddrRE = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+`)
	bracketIPRE = regexp.MustCompile(`\[(?i:IPv6:)?([0-9A-Fa-f:.]+)\]`)
	ipv4RE      = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	byRE        = regexp.MustCompile(`(?i)\s(?:by|for|with|via|id)\s`)
)

// receivedIPs are the public addresses of the "from" parts of Received
// headers, distinct, in order; private, loopback, link-local, multicast
// and unspecified addresses are left out (documentation ranges are kept).
func receivedIPs(received []string) []string {
	var out []string
	for i, h := range received {
		if i >= maxReceived {
			break
		}
		h = strings.Join(strings.Fields(h), " ")
		lower := strings.ToLower(h)
		if !strings.HasPrefix(lower, "from ") {
			continue
		}
		from := h[len("from "):]
		if loc := byRE.FindStringIndex(from); loc != nil {
			from = from[:loc[0]]
		}
		var cands []string
		for _, mm := range bracketIPRE.FindAllStringSubmatch(from, -1) {
			cands = append(cands, mm[1])
		}
		cands = append(cands, ipv4RE.FindAllString(from, -1)...)
		for _, c := range cands {
			a, err := netip.ParseAddr(c)
			if err != nil {
				continue
			}
			a = a.Unmap()
			if a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
				continue
			}
			if s := a.String(); !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}
