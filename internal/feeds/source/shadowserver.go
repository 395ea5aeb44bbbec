package source

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors of the Shadowserver client, to test with errors.Is.
var (
	// ErrUnauthorized: the API refused the key or the HMAC (HTTP 401 or
	// 403). It is never retried.
	ErrUnauthorized = errors.New("shadowserver: key or secret refused")
	// ErrTooLarge: a response was larger than its limit.
	ErrTooLarge = errors.New("response too large")
)

// ShadowserverOptions configure the Shadowserver Reports API client.
type ShadowserverOptions struct {
	// APIURL is the API root (default https://transform.shadowserver.org/api2/).
	APIURL string
	// DownloadURL is where reports are fetched by id with a GET of
	// DownloadURL+id (default https://dl.shadowserver.org/). With
	// DownloadViaAPI, reports are fetched with the signed reports/download
	// method of the API instead.
	DownloadURL    string
	DownloadViaAPI bool
	// Key and Secret are the API key and the HMAC secret Shadowserver
	// gave the organisation. Both are required.
	Key, Secret string

	// Reports restricts Poll to these report (mailing list) names, Types
	// to these report types ("scan_http"); empty means all.
	Reports, Types []string
	// Days is how many days back Poll lists, besides today and tomorrow
	// (default 2: reports are dated by Shadowserver, not by arrival).
	Days int
	// Interval is the time between two polls of Run (default 1h).
	Interval time.Duration

	// Timeout bounds each attempt's wait for the response headers and the
	// reading of a list (default 2 minutes). StallTimeout aborts a
	// download that received nothing for that long (default 2 minutes).
	Timeout, StallTimeout time.Duration
	// MaxListBytes limits a list response (default 16 MiB);
	// MaxDownloadBytes a download after decompression (0: no limit).
	MaxListBytes, MaxDownloadBytes int64
	// MaxAttempts is how many times a call is tried when the server
	// answers 429 or 5xx or the connection fails (default 5), waiting
	// RetryBase, then twice as long each time up to RetryMax (defaults
	// 2s and 1 minute), or what Retry-After says.
	MaxAttempts         int
	RetryBase, RetryMax time.Duration

	// HTTPClient replaces the default client (tests, proxies).
	HTTPClient *http.Client
}

func (o *ShadowserverOptions) defaults() error {
	if o.Key == "" || o.Secret == "" {
		return errors.New("shadowserver: API key and secret are required")
	}
	o.APIURL = withSlash(cmp.Or(o.APIURL, "https://transform.shadowserver.org/api2/"))
	o.DownloadURL = withSlash(cmp.Or(o.DownloadURL, "https://dl.shadowserver.org/"))
	for _, u := range []string{o.APIURL, o.DownloadURL} {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return fmt.Errorf("shadowserver: %q is not an http(s) URL", u)
		}
	}
	if o.Days <= 0 {
		o.Days = 2
	}
	o.Interval = cmp.Or(o.Interval, time.Hour)
	o.Timeout = cmp.Or(o.Timeout, 2*time.Minute)
	o.StallTimeout = cmp.Or(o.StallTimeout, 2*time.Minute)
	o.MaxListBytes = cmp.Or(o.MaxListBytes, 16<<20)
	o.MaxAttempts = cmp.Or(o.MaxAttempts, 5)
	o.RetryBase = cmp.Or(o.RetryBase, 2*time.Second)
	o.RetryMax = cmp.Or(o.RetryMax, time.Minute)
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{
			Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				TLSHandshakeTimeout:   15 * time.Second,
				ResponseHeaderTimeout: o.Timeout,
				IdleConnTimeout:       90 * time.Second,
				ForceAttemptHTTP2:     true,
			},
			CheckRedirect: noSignedRedirect,
		}
	}
	return nil
}

// noSignedRedirect follows redirects of downloads but not of the signed
// API calls, whose HMAC header would go along to the new location.
func noSignedRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if via[0].Header.Get("HMAC2") != "" {
		return http.ErrUseLastResponse
	}
	return nil
}

func withSlash(u string) string {
	if strings.HasSuffix(u, "/") {
		return u
	}
	return u + "/"
}

// Report is one entry of the API's report list.
type Report struct {
	ID     string `json:"id"`     // the download id
	Report string `json:"report"` // the report (mailing list) name
	Type   string `json:"type"`   // the report type, "scan_http"
	Date   string `json:"timestamp"`
	File   string `json:"file"` // the file name
	URL    string `json:"url,omitempty"`
}

// ListQuery selects reports: dated From to To (both days included, in
// UTC), of the given report names and type; Limit 0 is the API's default.
type ListQuery struct {
	From, To time.Time
	Reports  []string
	Type     string
	Limit    int
}

// Ledger remembers the Shadowserver reports already processed, so that a
// report is downloaded once even across restarts and instances. The
// pipeline backs it with the database; MemLedger serves tests and single
// runs.
type Ledger interface {
	Seen(ctx context.Context, id string) (bool, error)
	Record(ctx context.Context, r Report) error
}

// MemLedger is a Ledger in memory.
type MemLedger struct {
	mu  sync.Mutex
	ids map[string]Report
}

// Seen reports whether id was recorded.
func (m *MemLedger) Seen(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.ids[id]
	return ok, nil
}

// Record records r.
func (m *MemLedger) Record(_ context.Context, r Report) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ids == nil {
		m.ids = map[string]Report{}
	}
	m.ids[r.ID] = r
	return nil
}

// Shadowserver is a client of the Shadowserver Reports API and a Source
// that polls it. Calls are POSTs of a JSON object that carries the API
// key; the HMAC2 header is the hex HMAC-SHA256 of the exact body bytes
// under the secret.
type Shadowserver struct {
	opt    ShadowserverOptions
	ledger Ledger
	log    *slog.Logger
	now    func() time.Time
}

// NewShadowserver checks the options. ledger may be nil for a client that
// only lists and downloads; Poll and Run need one.
func NewShadowserver(opt ShadowserverOptions, ledger Ledger, log *slog.Logger) (*Shadowserver, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	return &Shadowserver{opt: opt, ledger: ledger, log: log.With("source", "shadowserver"), now: time.Now}, nil
}

// List returns the reports the API lists for q.
func (s *Shadowserver) List(ctx context.Context, q ListQuery) ([]Report, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req := struct {
		APIKey  string   `json:"apikey"`
		Date    string   `json:"date,omitempty"`
		Reports []string `json:"reports,omitempty"`
		Type    string   `json:"type,omitempty"`
		Limit   int      `json:"limit,omitempty"`
	}{APIKey: s.opt.Key, Date: dateRange(q.From, q.To), Reports: q.Reports, Type: q.Type, Limit: q.Limit}
	resp, err := s.call(ctx, "reports/list", req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	defer time.AfterFunc(s.opt.Timeout, cancel).Stop()
	body, err := decoded(resp)
	if err != nil {
		return nil, fmt.Errorf("shadowserver: reports/list: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(body, s.opt.MaxListBytes+1))
	if err != nil {
		return nil, fmt.Errorf("shadowserver: reports/list: %w", err)
	}
	if int64(len(data)) > s.opt.MaxListBytes {
		return nil, fmt.Errorf("shadowserver: reports/list: %w (limit %d bytes)", ErrTooLarge, s.opt.MaxListBytes)
	}
	if msg, ok := apiError(data); ok {
		return nil, fmt.Errorf("shadowserver: reports/list: %s", msg)
	}
	var out []Report
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("shadowserver: reports/list: decode: %w", err)
	}
	return out, nil
}

// dateRange writes the API's date filter: "2026-03-01" or
// "2026-03-01:2026-03-03"; "" when both are zero.
func dateRange(from, to time.Time) string {
	const day = "2006-01-02"
	switch {
	case from.IsZero() && to.IsZero():
		return ""
	case to.IsZero() || from.Equal(to):
		return from.UTC().Format(day)
	case from.IsZero():
		return to.UTC().Format(day)
	}
	return from.UTC().Format(day) + ":" + to.UTC().Format(day)
}

// apiError recognises the API's error object {"error": "..."}.
func apiError(data []byte) (string, bool) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return "", false
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &e) != nil || e.Error == "" {
		return "unexpected answer (not a list)", true
	}
	return e.Error, true
}

// Download fetches one report by id. The body is decompressed when the
// server sent it with Content-Encoding gzip; a report that is itself a
// compressed file (".csv.gz", ".zip") is returned as it is. The size is
// -1 when unknown. The caller closes the reader.
func (s *Shadowserver) Download(ctx context.Context, id string) (io.ReadCloser, int64, error) {
	if id == "" || strings.ContainsAny(id, "/\\?#") {
		return nil, 0, fmt.Errorf("shadowserver: download: bad id %q", id)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	var (
		resp *http.Response
		err  error
	)
	if s.opt.DownloadViaAPI {
		resp, err = s.call(ctx, "reports/download", struct {
			APIKey string `json:"apikey"`
			ID     string `json:"id"`
		}{s.opt.Key, id})
	} else {
		resp, err = s.retry(ctx, "download", func() (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, s.opt.DownloadURL+url.PathEscape(id), nil)
		})
	}
	if err != nil {
		cancel(nil)
		return nil, 0, err
	}
	body, err := decoded(resp)
	if err != nil {
		resp.Body.Close()
		cancel(nil)
		return nil, 0, fmt.Errorf("shadowserver: download %s: %w", id, err)
	}
	size := resp.ContentLength
	if body != resp.Body {
		size = -1
	}
	r := &stallReader{r: body, c: resp.Body, cancel: cancel, stall: s.opt.StallTimeout, limit: s.opt.MaxDownloadBytes,
		stalled: func() bool { return errors.Is(context.Cause(ctx), errStalled) }}
	r.timer = time.AfterFunc(r.stall, func() { cancel(errStalled) })
	return r, size, nil
}

// decoded returns the body, gunzipped when the server compressed it.
func decoded(resp *http.Response) (io.Reader, error) {
	if !strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		return resp.Body, nil
	}
	return gzip.NewReader(resp.Body)
}

var errStalled = errors.New("shadowserver: download stalled")

// stallReader cancels a download that makes no progress for stall and
// stops one that exceeds limit bytes (0: none).
type stallReader struct {
	r       io.Reader
	c       io.Closer
	cancel  context.CancelCauseFunc
	stalled func() bool // the timer fired
	timer   *time.Timer
	stall   time.Duration
	limit   int64
	n       int64
}

func (r *stallReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF && r.stalled() {
		err = fmt.Errorf("%w: nothing received for %v", errStalled, r.stall)
	}
	if n > 0 {
		r.timer.Reset(r.stall)
		r.n += int64(n)
		if r.limit > 0 && r.n > r.limit {
			return n, fmt.Errorf("shadowserver: download: %w (limit %d bytes)", ErrTooLarge, r.limit)
		}
	}
	return n, err
}

func (r *stallReader) Close() error {
	r.timer.Stop()
	err := r.c.Close()
	r.cancel(nil)
	return err
}

// call POSTs a signed API call.
func (s *Shadowserver) call(ctx context.Context, method string, req any) (*http.Response, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, []byte(s.opt.Secret))
	mac.Write(body)
	sig := hex.EncodeToString(mac.Sum(nil))
	return s.retry(ctx, method, func() (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opt.APIURL+method, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("HMAC2", sig)
		return r, nil
	})
}

// retry sends the request newReq builds until the server answers 2xx, a
// status that retrying cannot fix, or MaxAttempts is reached. 429, 5xx
// and connection errors are retried with exponential back-off.
func (s *Shadowserver) retry(ctx context.Context, what string, newReq func() (*http.Request, error)) (*http.Response, error) {
	var last error
	for attempt := 1; ; attempt++ {
		req, err := newReq()
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept-Encoding", "gzip")
		req.Header.Set("User-Agent", "Belfry feeds")
		resp, err := s.opt.HTTPClient.Do(req)
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, fmt.Errorf("shadowserver: %s: %w", what, ctx.Err())
			}
			last = err
		case resp.StatusCode/100 == 2:
			return resp, nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			last = fmt.Errorf("HTTP %d: %s", resp.StatusCode, errorText(resp))
			wait = retryAfter(resp.Header.Get("Retry-After"))
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			return nil, fmt.Errorf("%w (%s: HTTP %d: %s)", ErrUnauthorized, what, resp.StatusCode, errorText(resp))
		default:
			return nil, fmt.Errorf("shadowserver: %s: HTTP %d: %s", what, resp.StatusCode, errorText(resp))
		}
		if attempt >= s.opt.MaxAttempts {
			return nil, fmt.Errorf("shadowserver: %s: giving up after %d attempts: %w", what, attempt, last)
		}
		if wait <= 0 {
			wait = s.opt.RetryBase << (attempt - 1)
			wait = wait/2 + rand.N(wait/2+1) // jitter, so that instances spread out
		}
		wait = min(wait, s.opt.RetryMax)
		s.log.Info("shadowserver: retrying", "call", what, "attempt", attempt, "wait", wait, "err", last)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("shadowserver: %s: %w", what, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// errorText reads a short explanation from an error response and closes it.
func errorText(resp *http.Response) string {
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if msg, ok := apiError(data); ok {
		return msg
	}
	text := strings.TrimSpace(string(data))
	if text == "" {
		return http.StatusText(resp.StatusCode)
	}
	return text
}

// retryAfter reads a Retry-After header given in seconds.
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// PollStats count what one Poll did.
type PollStats struct {
	Listed, Skipped, Processed, Failed int
}

// Poll lists the reports of the last Days days and hands each one not yet
// in the ledger to h; the ledger records those h processed. A report h
// failed on is tried again at the next poll. Poll returns an error when
// the list or the ledger fails; failures of single reports are counted
// and logged.
func (s *Shadowserver) Poll(ctx context.Context, h Handler) (PollStats, error) {
	var st PollStats
	if s.ledger == nil {
		return st, errors.New("shadowserver: poll needs a ledger")
	}
	today := s.now().UTC()
	q := ListQuery{From: today.AddDate(0, 0, -s.opt.Days), To: today.AddDate(0, 0, 1), Reports: s.opt.Reports}
	if len(s.opt.Types) == 1 {
		q.Type = s.opt.Types[0]
	}
	reports, err := s.List(ctx, q)
	if err != nil {
		return st, err
	}
	for _, r := range reports {
		if len(s.opt.Types) > 1 && !slices.Contains(s.opt.Types, r.Type) {
			continue
		}
		st.Listed++
		seen, err := s.ledger.Seen(ctx, r.ID)
		if err != nil {
			return st, fmt.Errorf("shadowserver: ledger: %w", err)
		}
		if seen {
			st.Skipped++
			continue
		}
		err = safeCall(ctx, h, s.file(ctx, r))
		if ctx.Err() != nil {
			return st, nil
		}
		if err != nil {
			st.Failed++
			s.log.Warn("shadowserver: report failed, will retry at the next poll", "id", r.ID, "file", r.File, "err", err)
			continue
		}
		if err := s.ledger.Record(ctx, r); err != nil {
			return st, fmt.Errorf("shadowserver: ledger: %w", err)
		}
		st.Processed++
	}
	return st, nil
}

// file turns a listed report into a File whose Open downloads it.
func (s *Shadowserver) file(ctx context.Context, r Report) File {
	name := cleanName(r.File)
	if name == "" {
		name = cleanName(r.ID) + ".csv"
	}
	return File{
		Name: name, Size: -1, Source: "shadowserver", Ref: r.ID, ReportType: r.Type, Received: s.now(),
		Open: func() (io.ReadCloser, error) {
			rc, _, err := s.Download(ctx, r.ID)
			return rc, err
		},
	}
}

// Run polls now and then every Interval until ctx ends. A failed poll is
// logged and tried again at the next interval. With several instances,
// run Poll from a periodic job on one of them instead.
func (s *Shadowserver) Run(ctx context.Context, h Handler) error {
	if s.ledger == nil {
		return errors.New("shadowserver: run needs a ledger")
	}
	tick := time.NewTicker(s.opt.Interval)
	defer tick.Stop()
	for {
		st, err := s.Poll(ctx, h)
		if err != nil {
			s.log.Error("shadowserver: poll", "err", err)
		} else {
			s.log.Info("shadowserver: polled", "listed", st.Listed, "skipped", st.Skipped, "processed", st.Processed, "failed", st.Failed)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// cleanName keeps the last element of a name given by a remote party,
// without control characters; "" when nothing usable is left.
func cleanName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	s = strings.TrimLeft(s, ".") // no hidden files, no "..": the drop directory skips dot files
	if len(s) > 200 {
		s = s[len(s)-200:]
	}
	return s
}
