// Package providercheck checks a CSAF 2.0 provider from the outside, as a
// client: it finds the provider-metadata.json of a domain, follows every
// distribution it declares (directory and ROLIE) and reports, per
// requirement 7.1.1–7.1.20 of CSAF 2.0, what is wrong, like the BSI
// csaf_checker does (see ../shared/domain/csaf.md, sections 2–4 and 9).
//
// It knows only the standard: nothing here depends on how Belfry lays out
// its tree.
package providercheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// Options configures a check.
type Options struct {
	// Client makes the requests; nil means http.DefaultClient. Its
	// CheckRedirect is replaced (redirects are recorded for req. 6).
	Client *http.Client
	// Header is sent on every request (credentials, e.g. Authorization:
	// Bearer …, for TLP:GREEN/AMBER/RED material). Documents are fetched
	// again without it for requirements 4 and 5.
	Header http.Header
	// Validate returns the problems of one document (schema and mandatory
	// tests) for requirement 1; nil skips that part with a warning.
	Validate func(doc []byte) []string
}

// Message levels.
const (
	LevelError   = "error"
	LevelWarning = "warning"
	LevelInfo    = "info"
)

// Message is one finding of a requirement.
type Message struct {
	Level string `json:"level"` // "error", "warning" or "info"
	Text  string `json:"text"`
}

// Requirement is the outcome of one requirement 7.1.x.
type Requirement struct {
	Num      int       `json:"num"`
	Title    string    `json:"title"`
	Passed   bool      `json:"passed"`
	Messages []Message `json:"messages"`
}

// Report is the outcome of a check: requirements 1 to 20 in order.
type Report struct {
	Domain       string        `json:"domain"`
	Role         string        `json:"role"`
	Requirements []Requirement `json:"requirements"`
	Documents    int           `json:"documents"`

	// Which distributions provider-metadata.json declares; both false
	// (also for a decoded report) makes Failed use "either 11–14 or 15–17".
	dirUsed, rolieUsed bool
}

// Roles of provider-metadata.json.
const (
	RolePublisher       = "csaf_publisher"
	RoleProvider        = "csaf_provider"
	RoleTrustedProvider = "csaf_trusted_provider"
)

// titles of the requirements (CSAF 2.0 section 7.1).
var titles = [...]string{
	1:  "Valid CSAF document",
	2:  "Filename",
	3:  "TLS",
	4:  "TLP:WHITE",
	5:  "TLP:AMBER and TLP:RED",
	6:  "Redirects",
	7:  "provider-metadata.json",
	8:  "security.txt",
	9:  "Well-known URL for provider-metadata.json",
	10: "DNS path",
	11: "One folder per year",
	12: "index.txt",
	13: "changes.csv",
	14: "Directory listings",
	15: "ROLIE feed",
	16: "ROLIE service document",
	17: "ROLIE category document",
	18: "Integrity",
	19: "Signatures",
	20: "Public OpenPGP Key",
}

// perDocument marks the requirements checked on each document.
var perDocument = map[int]bool{1: true, 2: true, 4: true, 5: true, 11: true, 18: true, 19: true}

// Failed returns the requirements that the role in provider-metadata.json
// needs and that did not pass (section 7.2, csaf.md section 1):
//
//	publisher:        1–4
//	provider:         publisher + 5, 6, 7 + one of 8, 9, 10 + the
//	                  distribution in use complete (11–14 for a directory,
//	                  15–17 for ROLIE; both when both are declared)
//	trusted provider: provider + 18, 19, 20
//
// A missing or unknown role counts as trusted provider, as in the BSI
// checker.
func (r *Report) Failed() []Requirement {
	byNum := map[int]Requirement{}
	for _, q := range r.Requirements {
		byNum[q.Num] = q
	}
	ok := func(n int) bool {
		q, found := byNum[n]
		return found && q.Passed
	}
	var out []Requirement
	need := func(nums ...int) {
		for _, n := range nums {
			if !ok(n) {
				q, found := byNum[n]
				if !found {
					q = Requirement{Num: n, Title: titles[n], Messages: []Message{{LevelError, "requirement not evaluated"}}}
				}
				out = append(out, q)
			}
		}
	}
	all := func(nums ...int) bool {
		for _, n := range nums {
			if !ok(n) {
				return false
			}
		}
		return true
	}
	need(1, 2, 3, 4)
	if r.Role == RolePublisher {
		return out
	}
	need(5, 6, 7)
	if !ok(8) && !ok(9) && !ok(10) {
		need(8, 9, 10)
	}
	dir, rolie := []int{11, 12, 13, 14}, []int{15, 16, 17}
	switch {
	case r.dirUsed || r.rolieUsed:
		if r.dirUsed {
			need(dir...)
		}
		if r.rolieUsed {
			need(rolie...)
		}
	case !all(dir...) && !all(rolie...):
		need(dir...)
		need(rolie...)
	}
	if r.Role != RoleProvider {
		need(18, 19, 20)
	}
	slices.SortFunc(out, func(a, b Requirement) int { return a.Num - b.Num })
	return slices.CompactFunc(out, func(a, b Requirement) bool { return a.Num == b.Num })
}

// reqState collects the messages of one requirement.
type reqState struct {
	msgs  []Message
	unmet bool // failed without an error message (e.g. informative DNS path)
	seen  map[string]bool
}

// checker is the state of one check.
type checker struct {
	ctx         context.Context
	opt         Options
	client      *http.Client
	domain      *url.URL
	credentials bool

	reqs  [21]*reqState
	cache map[cacheKey]*response

	docs     map[string]*docInfo
	docOrder []string

	keys openpgp.EntityList

	dirUsed, rolieUsed bool
	feedsLoaded        bool // at least one ROLIE feed was read
	bases              []*dirBase
}

// add records a message under requirement n; the same text twice is
// recorded once.
func (c *checker) add(n int, level, format string, args ...any) {
	r := c.reqs[n]
	text := fmt.Sprintf(format, args...)
	key := level + "\x00" + text
	if r.seen[key] {
		return
	}
	r.seen[key] = true
	r.msgs = append(r.msgs, Message{Level: level, Text: text})
}

func (c *checker) errorf(n int, format string, args ...any) { c.add(n, LevelError, format, args...) }
func (c *checker) warnf(n int, format string, args ...any)  { c.add(n, LevelWarning, format, args...) }
func (c *checker) infof(n int, format string, args ...any)  { c.add(n, LevelInfo, format, args...) }

// unmet marks requirement n as not met with an informational message.
func (c *checker) unmet(n int, format string, args ...any) {
	c.reqs[n].unmet = true
	c.add(n, LevelInfo, format, args...)
}

// failedReq reports whether requirement n has an error so far.
func (c *checker) failedReq(n int) bool {
	if c.reqs[n].unmet {
		return true
	}
	for _, m := range c.reqs[n].msgs {
		if m.Level == LevelError {
			return true
		}
	}
	return false
}

// Check checks the CSAF provider of domain ("https://host[:port]"). The
// error is only for a bad domain or a cancelled context; everything found
// on the provider is in the report.
func Check(ctx context.Context, domain string, opt Options) (*Report, error) {
	d, err := parseDomain(domain)
	if err != nil {
		return nil, err
	}
	c := &checker{
		ctx:         ctx,
		opt:         opt,
		domain:      d,
		credentials: len(opt.Header) > 0,
		cache:       map[cacheKey]*response{},
		docs:        map[string]*docInfo{},
	}
	for i := range c.reqs {
		c.reqs[i] = &reqState{seen: map[string]bool{}}
	}
	base := opt.Client
	if base == nil {
		base = http.DefaultClient
	}
	cl := *base
	cl.CheckRedirect = c.checkRedirect
	c.client = &cl

	rep := &Report{Domain: d.String()}
	md := c.checkMetadata() // 7, 8, 9, 10
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if md == nil {
		for n := 1; n <= 20; n++ {
			if n < 7 || n > 10 {
				c.errorf(n, "not checked: no valid provider-metadata.json (requirement 7)")
			}
		}
		rep.Role = RoleTrustedProvider
	} else {
		rep.Role = md.role
		c.dirUsed, c.rolieUsed = len(md.dirs) > 0, len(md.feeds) > 0
		rep.dirUsed, rep.rolieUsed = c.dirUsed, c.rolieUsed
		c.checkKeys(md)     // 20
		c.checkROLIE(md)    // 15, 16, 17
		c.checkDirs(md)     // 12, 13, index and discovery
		c.checkListings()   // 14
		c.checkDocuments()  // 1, 2, 4, 5, 11, 18, 19 and the feeds' view
		c.checkConsistent() // every channel holds every document
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, d := range c.docs {
			if d.parsed {
				rep.Documents++
			}
		}
	}
	for n := 1; n <= 20; n++ {
		r := c.reqs[n]
		passed := !c.failedReq(n)
		if n == 6 {
			passed = true // redirects are only warnings
		}
		msgs := r.msgs
		if len(msgs) == 0 {
			text := "no problem found"
			if perDocument[n] && md != nil {
				text = fmt.Sprintf("no problem found in %d documents", rep.Documents)
			}
			msgs = []Message{{LevelInfo, text}}
		}
		rep.Requirements = append(rep.Requirements, Requirement{Num: n, Title: titles[n], Passed: passed, Messages: msgs})
	}
	return rep, nil
}

// parseDomain reads "https://host[:port]" (a bare host gets https://).
func parseDomain(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("providercheck: domain %q: %w", s, err)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("providercheck: domain %q: CSAF providers are checked over https only (requirement 3)", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("providercheck: domain %q has no host", s)
	}
	return &url.URL{Scheme: "https", Host: u.Host}, nil
}

// response is one fetched URL.
type response struct {
	url    string
	final  string // after redirects
	status int
	ctype  string
	body   []byte
	err    error
}

// ok reports a 200 answer.
func (r *response) ok() bool { return r.err == nil && r.status == http.StatusOK }

// describe says what went wrong with a response that is not ok.
func (r *response) describe() string {
	if r.err != nil {
		return r.err.Error()
	}
	return fmt.Sprintf("HTTP status %d", r.status)
}

type cacheKey struct {
	url  string
	anon bool
}

var errNotHTTPS = errors.New("not fetched: not an https URL")

// maxBody caps what is read of one answer.
const maxBody = 64 << 20

// get fetches u once (cached): with the credentials of Options.Header, or
// without them when anon is set.
func (c *checker) get(u string, anon bool) *response {
	if !c.credentials {
		anon = true
	}
	key := cacheKey{u, anon}
	if r, ok := c.cache[key]; ok {
		return r
	}
	r := c.fetch(u, anon, 60*time.Second)
	c.cache[key] = r
	return r
}

func (c *checker) fetch(u string, anon bool, timeout time.Duration) *response {
	r := &response{url: u, final: u}
	pu, err := url.Parse(u)
	if err != nil {
		r.err = fmt.Errorf("bad URL: %w", err)
		return r
	}
	if pu.Scheme != "https" {
		c.errorf(3, "%s is not an https URL", u)
		r.err = errNotHTTPS
		return r
	}
	ctx, cancel := context.WithTimeout(c.ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		r.err = err
		return r
	}
	if !anon {
		for k, vs := range c.opt.Header {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
	}
	res, err := c.client.Do(req)
	if err != nil {
		r.err = err
		return r
	}
	defer res.Body.Close()
	r.status = res.StatusCode
	r.ctype = res.Header.Get("Content-Type")
	r.final = res.Request.URL.String()
	r.body, r.err = io.ReadAll(io.LimitReader(res.Body, maxBody))
	return r
}

// checkRedirect records redirects (req. 6) and refuses plain-HTTP
// targets (req. 3).
func (c *checker) checkRedirect(req *http.Request, via []*http.Request) error {
	from := via[len(via)-1].URL.String()
	c.warnf(6, "redirect from %s to %s", from, req.URL)
	if req.URL.Scheme != "https" {
		c.errorf(3, "redirect from %s to %s, which is not https", from, req.URL)
		return errNotHTTPS
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

// mustHTTPS reports a URL named in a file that is not absolute https.
func (c *checker) mustHTTPS(u, where string) bool {
	pu, err := url.Parse(u)
	if err != nil || !pu.IsAbs() {
		return false
	}
	if pu.Scheme != "https" {
		c.errorf(3, "%s: %s is not an https URL", where, u)
		return false
	}
	return true
}

// resolve resolves ref against base; "" on error.
func resolve(base, ref string) string {
	b, err := url.Parse(base)
	if err != nil {
		return ""
	}
	r, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return ""
	}
	return b.ResolveReference(r).String()
}
