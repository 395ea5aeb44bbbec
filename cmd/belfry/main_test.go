package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the belfry command, built once per test run by belfryBinary.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// belfryBinary builds cmd/belfry with `go build` the first time a test asks
// for it and returns the path of the executable. The binary lives in a
// directory of its own rather than the first caller's t.TempDir(), which
// would vanish when that test ends; TestMain removes it.
func belfryBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the belfry binary; skipped with -short")
	}
	binary.once.Do(func() {
		gocmd, err := exec.LookPath("go")
		if err != nil && os.Getenv("GOROOT") != "" {
			gocmd, err = exec.LookPath(filepath.Join(os.Getenv("GOROOT"), "bin", "go"))
		}
		if err != nil {
			binary.err = fmt.Errorf("go command not found: %w", err)
			return
		}
		if binary.dir, binary.err = os.MkdirTemp("", "belfry-test-bin-"); binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "belfry")
		if runtime.GOOS == "windows" {
			binary.path += ".exe"
		}
		cmd := exec.Command(gocmd, "build", "-o", binary.path, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// syncBuffer is a bytes.Buffer that a child process writes while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// freeAddr returns a local address that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// server is a belfry process started by startBelfry.
type server struct {
	cmd            *exec.Cmd
	URL            string
	Stdout, Stderr *syncBuffer
	done           chan struct{} // closed when the process has exited
	err            error         // Wait's result, once done is closed
}

// startBelfry runs the binary with args plus --addr on a free port, and
// waits until /readyz answers 200. BELFRY_* variables of the test's own
// environment are not passed on. The process is killed when the test ends
// if it is still running.
func startBelfry(t *testing.T, args ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	s := &server{URL: "http://" + addr, Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(belfryBinary(t), append(args, "--addr", addr)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BELFRY_") {
			s.cmd.Env = append(s.cmd.Env, kv)
		}
	}
	s.cmd.Stdout, s.cmd.Stderr = s.Stdout, s.Stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
	})

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-s.done:
			t.Fatalf("belfry %s exited before it was ready: %v\nstderr:\n%s", strings.Join(args, " "), s.err, s.Stderr)
		default:
		}
		if resp, err := http.Get(s.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("belfry %s not ready after 30s\nstderr:\n%s", strings.Join(args, " "), s.Stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits up to timeout for the process to exit.
func (s *server) stop(t *testing.T, timeout time.Duration) (exitCode int) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-s.done:
		return s.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("belfry still running %v after SIGTERM\nstderr:\n%s", timeout, s.Stderr)
		return -1
	}
}

// fetch is one request of the end-to-end test and what its answer must be.
type fetch struct {
	path        string
	header      map[string]string
	status      int
	contentType string   // prefix
	location    string   // exact, for redirects
	body        []string // fragments
}

func (f fetch) check(t *testing.T, base string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+f.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range f.header {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Errorf("GET %s: %v", f.path, err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	if resp.StatusCode != f.status {
		t.Errorf("GET %s (%v) = %d, want %d\n%.400s", f.path, f.header, resp.StatusCode, f.status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, f.contentType) {
		t.Errorf("GET %s: Content-Type = %q, want %q", f.path, ct, f.contentType)
	}
	if loc := resp.Header.Get("Location"); loc != f.location {
		t.Errorf("GET %s (%v): Location = %q, want %q", f.path, f.header, loc, f.location)
	}
	for _, frag := range f.body {
		if !strings.Contains(body, frag) {
			t.Errorf("GET %s: body does not contain %q\n%.400s", f.path, frag, body)
		}
	}
}

func TestServeEndToEnd(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGTERM")
	}
	t.Parallel()
	dir := t.TempDir()
	s := startBelfry(t, "serve", "--data", dir, "--admin-email", "first@ccb.be", "--sqlite-sync", "normal")

	for _, f := range []fetch{
		{path: "/healthz", status: 200, contentType: "text/plain", body: []string{"ok"}},
		{path: "/readyz", status: 200, contentType: "text/plain", body: []string{"ready"}},
		{path: "/", header: map[string]string{"Accept-Language": "en"}, status: http.StatusSeeOther, location: "/en/"},
		{path: "/", header: map[string]string{"Accept-Language": "fr-BE,fr;q=0.9"}, status: http.StatusSeeOther, location: "/fr/"},
		{path: "/login", header: map[string]string{"Accept-Language": "nl"}, status: http.StatusSeeOther, location: "/nl/login"},
		{path: "/en/login", status: 200, contentType: "text/html", body: []string{`<html lang="en"`}},
		{path: "/de/login", status: 200, contentType: "text/html", body: []string{`<html lang="de"`}},
		{path: "/api/v1/nope", status: 404, contentType: "application/problem+json", body: []string{`"status":404`}},
		{path: "/metrics", status: 200, contentType: "text/plain", body: []string{
			"# TYPE belfry_http_requests_total counter", "belfry_http_requests_total{"}},
	} {
		f.check(t, s.URL)
	}

	// The problem document is JSON.
	resp, err := http.Get(s.URL + "/api/v1/nope")
	if err != nil {
		t.Fatal(err)
	}
	var problem struct {
		Status int    `json:"status"`
		Title  string `json:"title"`
	}
	err = json.NewDecoder(resp.Body).Decode(&problem)
	resp.Body.Close()
	if err != nil || problem.Status != 404 || problem.Title == "" {
		t.Errorf("GET /api/v1/nope: problem = %+v, %v; want status 404 and a title", problem, err)
	}

	if code := s.stop(t, 25*time.Second); code != 0 {
		t.Errorf("belfry serve exit code after SIGTERM = %d, want 0\nstderr:\n%s", code, s.Stderr)
	}

	// The first administrator's one-time password went to the terminal
	// once, beside the address to sign in at, and nowhere else.
	stderr := s.Stderr.String()
	m := regexp.MustCompile(`one-time password:\s+(\S+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("serve stderr has no one-time password:\n%s", stderr)
	}
	pw := m[1]
	if n := strings.Count(stderr, pw); n != 1 {
		t.Errorf("the one-time password appears %d times in stderr, want once:\n%s", n, stderr)
	}
	if out := s.Stdout.String(); strings.Contains(out, pw) {
		t.Errorf("the one-time password appears on stdout too:\n%s", out)
	}
	for _, want := range []string{"first@ccb.be", s.URL + "/login", "shutting down"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("serve stderr does not contain %q:\n%s", want, stderr)
		}
	}
	// Each request is logged once with the client's address.
	reqLog := regexp.MustCompile(`msg="http request" method=GET path=/en/login status=200 .*client=(\S*)`)
	if m := reqLog.FindAllStringSubmatch(stderr, -1); len(m) != 1 || m[0][1] != "127.0.0.1" {
		t.Errorf("request log lines for GET /en/login = %q, want one with client=127.0.0.1", m)
	}

	// Nor is it stored: the database holds a hash, and the audit log
	// records the administrator without the password.
	db, err := sql.Open("sqlite", "file:"+sqlitePath(dir)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var hash string
	if err := db.QueryRowContext(t.Context(), `SELECT password_hash FROM users WHERE email = 'first@ccb.be'`).Scan(&hash); err != nil {
		t.Fatalf("first administrator not in the database: %v", err)
	}
	if hash == pw || strings.Contains(hash, pw) {
		t.Errorf("password_hash = %q holds the password itself", hash)
	}
	var leaks int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM audit_log WHERE summary LIKE ? OR summary LIKE ?`,
		"%"+pw+"%", "%"+hash+"%").Scan(&leaks); err != nil || leaks != 0 {
		t.Errorf("audit records holding the password or its hash = %d, %v; want 0", leaks, err)
	}
	db.Close()

	// What serve wrote keeps an intact audit chain.
	if out := mustRun(t, "audit", "verify", "--data", dir); !strings.Contains(out, "intact: 2 records") {
		t.Errorf("belfry audit verify after serve = %q, want an intact log of 2 records", out)
	}
}
