package source_test

import (
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/feeds/source"
)

// ssServer is a local stand-in for the Shadowserver Reports API, as its
// public documentation describes it: POST calls under /api2/ whose JSON
// body carries "apikey" and whose HMAC2 header is the hex HMAC-SHA256 of
// the body under the secret; reports/list answers a JSON array;
// downloads are GET /dl/ID or the signed reports/download call.
type ssServer struct {
	*httptest.Server
	key, secret string
	reports     []source.Report
	files       map[string]string // id → content
	gzipped     map[string]bool   // ids served with Content-Encoding gzip

	failures atomic.Int32 // the next calls answered 503
	status   int          // the status of those failures (default 503)

	mu    sync.Mutex
	calls map[string]int // path → count
	dates []string       // date filters received
}

func newSSServer(t *testing.T) *ssServer {
	t.Helper()
	s := &ssServer{
		key: "k-123", secret: "s3cret",
		files:   map[string]string{},
		gzipped: map[string]bool{},
		calls:   map[string]int{},
	}
	s.Server = httptest.NewServer(s)
	t.Cleanup(s.Close)
	return s
}

func (s *ssServer) add(r source.Report, content string) {
	s.reports = append(s.reports, r)
	s.files[r.ID] = content
}

func (s *ssServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

func (s *ssServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls[r.URL.Path]++
	s.mu.Unlock()
	if s.failures.Load() > 0 {
		s.failures.Add(-1)
		w.Header().Set("Retry-After", "0")
		http.Error(w, "try later", max(s.status, http.StatusServiceUnavailable))
		return
	}
	if strings.HasPrefix(r.URL.Path, "/dl/") && r.Method == http.MethodGet {
		s.serveFile(w, r, strings.TrimPrefix(r.URL.Path, "/dl/"))
		return
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/api2/") {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	var req struct {
		APIKey  string   `json:"apikey"`
		Date    string   `json:"date"`
		Reports []string `json:"reports"`
		Type    string   `json:"type"`
		ID      string   `json:"id"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad json"})
		return
	}
	mac := hmac.New(sha256.New, []byte(s.secret))
	mac.Write(body)
	sig, _ := hex.DecodeString(r.Header.Get("HMAC2"))
	if req.APIKey != s.key || !hmac.Equal(sig, mac.Sum(nil)) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid key or HMAC"})
		return
	}
	switch strings.TrimPrefix(r.URL.Path, "/api2/") {
	case "reports/list":
		s.mu.Lock()
		s.dates = append(s.dates, req.Date)
		s.mu.Unlock()
		from, to, _ := strings.Cut(req.Date, ":")
		if to == "" {
			to = from
		}
		out := []source.Report{}
		for _, rep := range s.reports {
			if (from != "" && (rep.Date < from || rep.Date > to)) ||
				(req.Type != "" && rep.Type != req.Type) ||
				(len(req.Reports) > 0 && !containsStr(req.Reports, rep.Report)) {
				continue
			}
			out = append(out, rep)
		}
		writeJSON(w, http.StatusOK, out)
	case "reports/download":
		s.serveFile(w, r, req.ID)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown method"})
	}
}

func (s *ssServer) serveFile(w http.ResponseWriter, r *http.Request, id string) {
	content, ok := s.files[id]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/csv")
	if s.gzipped[id] && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, content)
		zw.Close()
		return
	}
	io.WriteString(w, content)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *ssServer) client(t *testing.T, mod func(*source.ShadowserverOptions), ledger source.Ledger) *source.Shadowserver {
	t.Helper()
	opt := source.ShadowserverOptions{
		APIURL: s.URL + "/api2/", DownloadURL: s.URL + "/dl/",
		Key: s.key, Secret: s.secret,
		RetryBase: time.Millisecond, Timeout: 5 * time.Second, StallTimeout: 5 * time.Second,
	}
	if mod != nil {
		mod(&opt)
	}
	c, err := source.NewShadowserver(opt, ledger, discard)
	if err != nil {
		t.Fatalf("NewShadowserver: %v", err)
	}
	return c
}

var (
	day1 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	day3 = time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
)

func TestShadowserverListFilters(t *testing.T) {
	s := newSSServer(t)
	s.add(source.Report{ID: "a", Report: "belgium", Type: "scan_http", Date: "2026-03-01", File: "2026-03-01-scan_http-belgium-geo.csv"}, "x")
	s.add(source.Report{ID: "b", Report: "belgium", Type: "scan_ftp", Date: "2026-03-02", File: "2026-03-02-scan_ftp-belgium-geo.csv"}, "x")
	s.add(source.Report{ID: "c", Report: "belgium", Type: "scan_http", Date: "2026-03-09", File: "2026-03-09-scan_http-belgium-geo.csv"}, "x")
	s.add(source.Report{ID: "d", Report: "elsewhere", Type: "scan_http", Date: "2026-03-02", File: "2026-03-02-scan_http-elsewhere-geo.csv"}, "x")
	c := s.client(t, nil, nil)

	got, err := c.List(t.Context(), source.ListQuery{From: day1, To: day3, Reports: []string{"belgium"}, Type: "scan_http"})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(got) != 1 || got[0].ID != "a" || got[0].File != "2026-03-01-scan_http-belgium-geo.csv" {
		t.Errorf("List = %+v, want report a only", got)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.dates) != 1 || s.dates[0] != "2026-03-01:2026-03-03" {
		t.Errorf("date filters sent = %q, want [2026-03-01:2026-03-03]", s.dates)
	}
}

func TestShadowserverAuthFailureIsNotRetried(t *testing.T) {
	s := newSSServer(t)
	c := s.client(t, func(o *source.ShadowserverOptions) { o.Secret = "wrong" }, nil)
	_, err := c.List(t.Context(), source.ListQuery{From: day1})
	if !errors.Is(err, source.ErrUnauthorized) {
		t.Fatalf("List with a wrong secret = %v, want ErrUnauthorized", err)
	}
	if !strings.Contains(err.Error(), "invalid key or HMAC") {
		t.Errorf("error %q does not carry the server's message", err)
	}
	if n := s.count("/api2/reports/list"); n != 1 {
		t.Errorf("%d list calls, want 1 (no retry on 401)", n)
	}
}

func TestShadowserverRetriesTransientFailures(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		s := newSSServer(t)
		s.status = status
		s.add(source.Report{ID: "a", Date: "2026-03-01", File: "a.csv"}, "ip\n192.0.2.1\n")
		c := s.client(t, nil, nil)

		s.failures.Store(2)
		got, err := c.List(t.Context(), source.ListQuery{From: day1})
		if err != nil || len(got) != 1 {
			t.Fatalf("HTTP %d: List after 2 failures = %v, %v; want 1 report", status, got, err)
		}
		if n := s.count("/api2/reports/list"); n != 3 {
			t.Errorf("HTTP %d: %d list calls, want 3", status, n)
		}

		s.failures.Store(1)
		rc, _, err := c.Download(t.Context(), "a")
		if err != nil {
			t.Fatalf("HTTP %d: Download after a failure: %v", status, err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != "ip\n192.0.2.1\n" {
			t.Errorf("Download = %q", b)
		}
	}
}

func TestShadowserverGivesUpAfterMaxAttempts(t *testing.T) {
	s := newSSServer(t)
	c := s.client(t, func(o *source.ShadowserverOptions) { o.MaxAttempts = 3 }, nil)
	s.failures.Store(100)
	_, err := c.List(t.Context(), source.ListQuery{From: day1})
	if err == nil || !strings.Contains(err.Error(), "giving up after 3 attempts") {
		t.Fatalf("List = %v, want giving up after 3 attempts", err)
	}
	if n := s.count("/api2/reports/list"); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}
}

func TestShadowserverGzipDownload(t *testing.T) {
	s := newSSServer(t)
	content := strings.Repeat("timestamp,ip,port\n2026-03-01 00:00:01,192.0.2.1,80\n", 200)
	s.add(source.Report{ID: "z", Date: "2026-03-01", File: "z.csv"}, content)
	s.gzipped["z"] = true
	for _, viaAPI := range []bool{false, true} {
		c := s.client(t, func(o *source.ShadowserverOptions) { o.DownloadViaAPI = viaAPI }, nil)
		rc, size, err := c.Download(t.Context(), "z")
		if err != nil {
			t.Fatalf("Download (via API %v): %v", viaAPI, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(b) != content {
			t.Errorf("Download (via API %v) read %d bytes, err %v; want the %d bytes uncompressed", viaAPI, len(b), err, len(content))
		}
		if size != -1 {
			t.Errorf("size of a compressed transfer = %d, want -1 (unknown)", size)
		}
	}
	if s.count("/dl/z") != 1 || s.count("/api2/reports/download") != 1 {
		t.Errorf("calls %v, want one GET and one signed download", s.calls)
	}
}

func TestShadowserverLimits(t *testing.T) {
	s := newSSServer(t)
	for i := range 50 {
		s.add(source.Report{ID: strings.Repeat("x", i+1), Date: "2026-03-01", File: "f.csv"}, strings.Repeat("y", 1000))
	}
	c := s.client(t, func(o *source.ShadowserverOptions) { o.MaxListBytes = 512; o.MaxDownloadBytes = 100 }, nil)
	if _, err := c.List(t.Context(), source.ListQuery{From: day1}); !errors.Is(err, source.ErrTooLarge) {
		t.Errorf("List of a large answer = %v, want ErrTooLarge", err)
	}
	rc, _, err := c.Download(t.Context(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, source.ErrTooLarge) {
		t.Errorf("reading a large download = %v, want ErrTooLarge", err)
	}
}

func TestShadowserverPollSkipsSeenReports(t *testing.T) {
	s := newSSServer(t)
	today := time.Now().UTC().Format("2006-01-02")
	s.add(source.Report{ID: "old", Report: "be", Type: "scan_http", Date: today, File: "old.csv"}, "old")
	s.add(source.Report{ID: "new", Report: "be", Type: "scan_http", Date: today, File: "new.csv"}, "new")
	s.add(source.Report{ID: "bad", Report: "be", Type: "scan_ftp", Date: today, File: "../../bad.csv"}, "bad")
	ledger := &source.MemLedger{}
	ledger.Record(t.Context(), source.Report{ID: "old"}) // processed by an earlier run
	c := s.client(t, nil, ledger)

	var mu sync.Mutex
	got := map[string]string{}
	failBad := true
	h := func(_ context.Context, f source.File) error {
		rc, err := f.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		mu.Lock()
		defer mu.Unlock()
		got[f.Name+"|"+f.ReportType+"|"+f.Ref] = string(b)
		if f.Ref == "bad" && failBad {
			return errors.New("database down")
		}
		return nil
	}
	st, err := c.Poll(t.Context(), h)
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	if st != (source.PollStats{Listed: 3, Skipped: 1, Processed: 1, Failed: 1}) {
		t.Errorf("first Poll = %+v", st)
	}
	if got["new.csv|scan_http|new"] != "new" || got["bad.csv|scan_ftp|bad"] != "bad" || len(got) != 2 {
		t.Errorf("handler saw %v", got)
	}
	if s.count("/dl/old") != 0 {
		t.Error("a report in the ledger was downloaded")
	}

	// Second poll: only the failed report is fetched again.
	failBad = false
	st, err = c.Poll(t.Context(), h)
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	if st != (source.PollStats{Listed: 3, Skipped: 2, Processed: 1}) {
		t.Errorf("second Poll = %+v", st)
	}
	if s.count("/dl/new") != 1 || s.count("/dl/bad") != 2 {
		t.Errorf("downloads %v, want new once and bad twice", s.calls)
	}
	// Third poll: nothing left.
	if st, _ := c.Poll(t.Context(), h); st.Processed != 0 || st.Skipped != 3 {
		t.Errorf("third Poll = %+v, want everything skipped", st)
	}
}

func TestNewShadowserverRejectsBadOptions(t *testing.T) {
	for _, opt := range []source.ShadowserverOptions{
		{Key: "k"},
		{Secret: "s"},
		{Key: "k", Secret: "s", APIURL: "ftp://example"},
	} {
		if _, err := source.NewShadowserver(opt, nil, discard); err == nil {
			t.Errorf("NewShadowserver(%+v) = nil error", opt)
		}
	}
}
