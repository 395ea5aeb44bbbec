package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx", to tamper with PostgreSQL
	_ "modernc.org/sqlite"             // "sqlite", to tamper with and read SQLite files

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/identity"
)

// runCLI runs the command in-process, as main would, and returns its exit
// code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// short cuts flag usage listings out of failure messages.
func short(s string) string {
	if len(s) > 400 {
		return s[:400] + "…"
	}
	return s
}

// mustRun runs the command and fails the test unless it exits 0.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("belfry %s = exit %d, want 0\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout, short(stderr))
	}
	return stdout
}

// seedDB creates the authority, its first administrator and one analyst
// through the identity service, as `serve` and `user add` do, so that the
// audit log holds three records: organisation.create, user.create (the
// administrator) and user.create (the analyst).
func seedDB(t *testing.T, cfg app.Config) {
	t.Helper()
	ctx := t.Context()
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		t.Fatalf("OpenDB = %v", err)
	}
	defer db.Close()
	svc := identity.NewService(db, app.NewLogger(io.Discard, "text", "error"), identity.Config{}, nil)
	if _, err := svc.Bootstrap(ctx, "CCB", "admin@ccb.be"); err != nil {
		t.Fatalf("Bootstrap = %v", err)
	}
	ctx = auth.With(ctx, auth.System)
	o, err := svc.AuthorityOrg(ctx)
	if err != nil {
		t.Fatalf("AuthorityOrg = %v", err)
	}
	email, name, roles := "ana@ccb.be", "Ana Analyst", []string{"analyst"}
	if _, _, err := svc.CreateUser(ctx, identity.UserInput{OrgID: &o.ID, Email: &email, Name: &name, Roles: &roles}); err != nil {
		t.Fatalf("CreateUser = %v", err)
	}
}

func sqlitePath(dir string) string { return filepath.Join(dir, "belfry.db") }

// tamper runs one statement on a database behind Belfry's back.
func tamper(t *testing.T, driver, dsn, q string) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.ExecContext(t.Context(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%s changed %d rows, want 1", q, n)
	}
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		args   []string
		code   int
		stdout string // fragment
		stderr string // fragment
	}{
		{nil, 2, "", "Usage: belfry COMMAND"},
		{[]string{"help"}, 0, "", "Commands:"},
		{[]string{"--help"}, 0, "", "audit"},
		{[]string{"nosuch"}, 2, "", `unknown command "nosuch"`},
		{[]string{"version"}, 0, "belfry ", ""},
		{[]string{"migrate", "-h"}, 0, "", "-data"},
		{[]string{"migrate", "--nosuchflag"}, 2, "", "flag provided but not defined: -nosuchflag"},
		{[]string{"user"}, 2, "", "Usage: belfry user"},
		{[]string{"user", "frob", "--data", dir}, 2, "", `unknown subcommand "frob"`},
		{[]string{"audit"}, 2, "", "Usage: belfry audit verify"},
		{[]string{"audit", "frob"}, 2, "", "Usage: belfry audit verify"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("belfry %q = exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tt.args, code, stdout, short(stderr), tt.code, tt.stdout, tt.stderr)
		}
	}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data") // created by migrate
	// A second run has nothing to do and succeeds too.
	for range 2 {
		out := mustRun(t, "migrate", "--data", dir)
		if want := "database sqlite is at schema version"; !strings.Contains(out, want) {
			t.Errorf("belfry migrate printed %q, want %q", out, want)
		}
	}
	if _, err := os.Stat(sqlitePath(dir)); err != nil {
		t.Errorf("belfry migrate did not create the database: %v", err)
	}
}

func TestUserAdd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRun(t, "migrate", "--data", dir)
	pwRE := regexp.MustCompile(`one-time password: (\S{12,})\n`)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string // fragments
	}{
		{"analyst", []string{"--email", "ana@ccb.be", "--name", "Ana Analyst", "--roles", "analyst"}, 0, nil},
		{"two roles", []string{"--email", "Sam@CCB.be", "--name", "Sam", "--roles", "supervisor,crisis_manager"}, 0, nil},
		{"duplicate e-mail", []string{"--email", "ANA@ccb.be", "--name", "Ana Again", "--roles", "analyst"}, 1, []string{"belfry user:"}},
		{"invalid e-mail", []string{"--email", "not-an-email", "--name", "X", "--roles", "analyst"}, 1, []string{"belfry user:", "email"}},
		{"no e-mail", []string{"--name", "X", "--roles", "analyst"}, 1, []string{"email"}},
		{"unknown role", []string{"--email", "x@ccb.be", "--name", "X", "--roles", "nosuchrole"}, 1, []string{"belfry user:", "roles"}},
		{"organisation role in the authority", []string{"--email", "y@ccb.be", "--name", "Y", "--roles", "org_admin"}, 1, []string{"roles"}},
		{"no name", []string{"--email", "z@ccb.be", "--roles", "analyst"}, 1, []string{"name"}},
		{"unknown organisation", []string{"--email", "w@ccb.be", "--name", "W", "--roles", "member", "--org", "Nowhere Ltd"}, 1, []string{`"Nowhere Ltd"`}},
	}
	for _, tt := range tests {
		args := append([]string{"user", "add", "--data", dir}, tt.args...)
		code, stdout, stderr := runCLI(t, args...)
		if code != tt.code {
			t.Errorf("%s: belfry %s = exit %d, want %d\nstdout: %s\nstderr: %s", tt.name, strings.Join(args, " "), code, tt.code, stdout, short(stderr))
			continue
		}
		for _, f := range tt.stderr {
			if !strings.Contains(stderr, f) {
				t.Errorf("%s: belfry %s: stderr = %q, want it to contain %q", tt.name, strings.Join(args, " "), stderr, f)
			}
		}
		if tt.code == 0 && !pwRE.MatchString(stdout) {
			t.Errorf("%s: belfry %s printed %q, want a one-time password", tt.name, strings.Join(args, " "), stdout)
		}
		if tt.code != 0 && strings.Contains(stdout, "one-time password") {
			t.Errorf("%s: failed belfry %s printed a password: %q", tt.name, strings.Join(args, " "), stdout)
		}
	}
	out := mustRun(t, "user", "list", "--data", dir)
	for _, want := range []string{"admin@belfry.local", "ana@ccb.be", "Sam@ccb.be"} {
		if !strings.Contains(out, want) {
			t.Errorf("belfry user list = %q, want it to list %s", out, want)
		}
	}
	if n := strings.Count(out, "\n"); n != 3 {
		t.Errorf("belfry user list printed %d users, want 3:\n%s", n, out)
	}
}

// verifyJSON is what `belfry audit verify --json` prints.
type verifyJSON struct {
	OK       bool  `json:"ok"`
	Records  int64 `json:"records"`
	Problems []struct {
		Seq    int64  `json:"seq"`
		Reason string `json:"reason"`
	} `json:"problems"`
}

// checkVerify runs `audit verify` with the database flags db, first as text
// then as JSON, and checks the exit code and the record named.
func checkVerify(t *testing.T, db []string, wantOK bool, wantRecords int64, wantSeq int64) {
	t.Helper()
	code, stdout, stderr := runCLI(t, append([]string{"audit", "verify"}, db...)...)
	switch {
	case wantOK && (code != 0 || !strings.Contains(stdout, "audit log intact")):
		t.Errorf("belfry audit verify = exit %d, %q (stderr %q); want exit 0 and 'intact'", code, stdout, short(stderr))
	case !wantOK && code != 1:
		t.Errorf("belfry audit verify on a tampered log = exit %d, want 1\nstdout: %s\nstderr: %s", code, stdout, short(stderr))
	case !wantOK && !strings.Contains(stdout, "BROKEN"):
		t.Errorf("belfry audit verify on a tampered log printed %q, want BROKEN", stdout)
	case !wantOK && !regexp.MustCompile(`(?m)^\s+record `+strconv.FormatInt(wantSeq, 10)+`: `).MatchString(stdout):
		t.Errorf("belfry audit verify printed %q, want it to name record %d", stdout, wantSeq)
	case !wantOK && !strings.Contains(stderr, "verification failed"):
		t.Errorf("belfry audit verify: stderr = %q, want 'verification failed'", short(stderr))
	}

	code, stdout, stderr = runCLI(t, append([]string{"audit", "verify", "--json"}, db...)...)
	var got verifyJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("belfry audit verify --json = exit %d, %q (stderr %q): not JSON: %v", code, stdout, short(stderr), err)
	}
	wantCode := 0
	if !wantOK {
		wantCode = 1
	}
	if code != wantCode || got.OK != wantOK || got.Records != wantRecords {
		t.Errorf("belfry audit verify --json = exit %d, ok %v, records %d; want exit %d, ok %v, records %d",
			code, got.OK, got.Records, wantCode, wantOK, wantRecords)
	}
	if !wantOK && (len(got.Problems) == 0 || got.Problems[0].Seq != wantSeq || got.Problems[0].Reason == "") {
		t.Errorf("belfry audit verify --json problems = %+v, want the first at record %d with a reason", got.Problems, wantSeq)
	}
}

func TestAuditVerifySQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRun(t, "migrate", "--data", dir)
	checkVerify(t, []string{"--data", dir}, true, 0, 0) // empty log
	seedDB(t, app.Config{DataDir: dir, SQLiteSync: "normal"})
	checkVerify(t, []string{"--data", dir}, true, 3, 0)
	tamper(t, "sqlite", sqlitePath(dir), `UPDATE audit_log SET summary = '{"before":null,"after":null}' WHERE seq = 2`)
	checkVerify(t, []string{"--data", dir}, false, 3, 2)
}

func TestAuditVerifyPostgres(t *testing.T) {
	t.Parallel()
	url := dbtest.PostgresURL(t)
	mustRun(t, "migrate", "--db", url)
	seedDB(t, app.Config{DB: url})
	checkVerify(t, []string{"--db", url}, true, 3, 0)
	tamper(t, "pgx", url, `UPDATE audit_log SET actor_label = 'nobody' WHERE seq = 2`)
	checkVerify(t, []string{"--db", url}, false, 3, 2)
}

func TestAuditVerifyWithoutDatabase(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nonexistent")
	for _, dir := range []string{"/nonexistent", missing} {
		if dir == "/nonexistent" {
			if _, err := os.Stat(dir); err == nil {
				continue // this machine has one
			}
		}
		code, stdout, stderr := runCLI(t, "audit", "verify", "--data", dir)
		if code == 0 || !strings.Contains(stderr, "no database in "+dir) {
			t.Errorf("belfry audit verify --data %s = exit %d, stdout %q, stderr %q; want a failure naming the directory", dir, code, stdout, short(stderr))
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("belfry audit verify --data %s created the directory", dir)
		}
	}
}

func TestBackup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seedDB(t, app.Config{DataDir: dir, SQLiteSync: "normal"})
	out := filepath.Join(t.TempDir(), "copy.db")
	if s := mustRun(t, "backup", "--data", dir, "--out", out); !strings.Contains(s, out) {
		t.Errorf("belfry backup printed %q, want it to name %s", s, out)
	}

	db, err := sql.Open("sqlite", "file:"+out+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRowContext(t.Context(), `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check of the backup = %q, %v; want ok", check, err)
	}
	rows, err := db.QueryContext(t.Context(), `SELECT email FROM users ORDER BY email`)
	if err != nil {
		t.Fatalf("backup is not a Belfry database: %v", err)
	}
	var emails []string
	for rows.Next() {
		var e string
		rows.Scan(&e)
		emails = append(emails, e)
	}
	rows.Close()
	if want := []string{"admin@ccb.be", "ana@ccb.be"}; !slices.Equal(emails, want) {
		t.Errorf("users in the backup = %v, want %v", emails, want)
	}
	if fi, err := os.Stat(out); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode = %v, want 0600", fi.Mode().Perm())
	}

	// The backup has an intact audit log of its own.
	restored := t.TempDir()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sqlitePath(restored), b, 0o600); err != nil {
		t.Fatal(err)
	}
	checkVerify(t, []string{"--data", restored}, true, 3, 0)

	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"existing file", []string{"--data", dir, "--out", out}, "already exists"},
		{"no database", []string{"--data", t.TempDir(), "--out", filepath.Join(t.TempDir(), "x.db")}, "no database in"},
		{"postgres", []string{"--db", "postgres://belfry:s3cret@db.example/belfry", "--out", filepath.Join(t.TempDir(), "x.db")}, "pg_dump"},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, append([]string{"backup"}, tt.args...)...)
		if code != 1 || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%s: belfry backup %s = exit %d, stderr %q; want exit 1 and %q", tt.name, strings.Join(tt.args, " "), code, short(stderr), tt.stderr)
		}
		if strings.Contains(stderr, "s3cret") {
			t.Errorf("%s: belfry backup printed the database password: %q", tt.name, stderr)
		}
	}

	// Without --out the backup goes to DATA/backups.
	mustRun(t, "backup", "--data", dir)
	if m, _ := filepath.Glob(filepath.Join(dir, "backups", "belfry-*.db")); len(m) != 1 {
		t.Errorf("backups in %s = %v, want one", filepath.Join(dir, "backups"), m)
	}
}

func TestConfigRedactsSecrets(t *testing.T) {
	// Not parallel: sets environment variables.
	secrets := map[string]string{
		"BELFRY_SMTP_PASSWORD":       "smtp-s3cret-9f2",
		"BELFRY_OIDC_CLIENT_SECRET":  "oidc-s3cret-77a",
		"BELFRY_DB":                  "postgres://belfry:db-s3cret-42@db.example:5432/belfry",
		"BELFRY_SHADOWSERVER_KEY":    "ss-key",
		"BELFRY_SHADOWSERVER_SECRET": "ss-s3cret-5e1",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	t.Setenv("BELFRY_SMTP_HOST", "") // keep SMTP validation out of the way
	for _, args := range [][]string{
		{"config"},
		{"config", "--smtp-password", "flag-s3cret-1", "--data", t.TempDir()},
	} {
		stdout := mustRun(t, args...)
		var cfg struct {
			DB   string
			SMTP struct{ Password string }
			OIDC struct{ ClientSecret string }
		}
		if err := json.Unmarshal([]byte(stdout), &cfg); err != nil {
			t.Fatalf("belfry %s printed %q: not JSON: %v", strings.Join(args, " "), stdout, err)
		}
		if cfg.SMTP.Password != "(redacted)" || cfg.OIDC.ClientSecret != "(redacted)" {
			t.Errorf("belfry %s: SMTP.Password = %q, OIDC.ClientSecret = %q; want (redacted)", strings.Join(args, " "), cfg.SMTP.Password, cfg.OIDC.ClientSecret)
		}
		if !strings.HasPrefix(cfg.DB, "postgres://belfry:") || !strings.Contains(cfg.DB, "@db.example:5432/belfry") {
			t.Errorf("belfry %s: DB = %q, want the URL with its password hidden", strings.Join(args, " "), cfg.DB)
		}
		if strings.Contains(stdout, "s3cret") {
			t.Errorf("belfry %s printed a secret:\n%s", strings.Join(args, " "), stdout)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"config", "--addr", "nonsense"}, `--addr "nonsense"`},
		{[]string{"config", "--log-format", "xml"}, `--log-format "xml"`},
		{[]string{"config", "--db", "mysql://root:s3cret@db/belfry"}, "--db must be a postgres:// URL"},
		{[]string{"config", "--tls-cert", "cert.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"config", "--session-idle", "10s"}, "--session-idle"},
		{[]string{"config", "--public-url", "ftp://x"}, "--public-url"},
		{[]string{"config", "--feeds-retention", "12h"}, "--feeds-retention"},
		{[]string{"config", "--feeds-window", "30s"}, "--feeds-window"},
		{[]string{"config", "--feeds-smtp-addr", "127.0.0.1:2525"}, "--feeds-smtp-recipients"},
		{[]string{"config", "--feeds-smtp-addr", "127.0.0.1:2525", "--feeds-smtp-recipients", "r@x.example", "--feeds-smtp-hosts", "not-an-ip"}, "--feeds-smtp-hosts"},
		{[]string{"config", "--shadowserver-key", "k"}, "--shadowserver-key and --shadowserver-secret go together"},
		{[]string{"config", "--shadowserver-key", "k", "--shadowserver-secret", "s", "--shadowserver-api-url", "ftp://x"}, "--shadowserver-api-url"},
		{[]string{"migrate", "--addr", "nonsense", "--data", t.TempDir()}, `--addr "nonsense"`},
		{[]string{"audit", "verify", "--addr", "nonsense", "--data", t.TempDir()}, `--addr "nonsense"`},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCLI(t, tt.args...)
		if code != 1 || !strings.Contains(stderr, "configuration: ") || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("belfry %s = exit %d, stderr %q; want exit 1 and a configuration error with %q", strings.Join(tt.args, " "), code, short(stderr), tt.stderr)
		}
		if stdout != "" {
			t.Errorf("belfry %s printed %q on stdout, want nothing", strings.Join(tt.args, " "), stdout)
		}
		if strings.Contains(stderr, "s3cret") {
			t.Errorf("belfry %s printed the database password: %q", strings.Join(tt.args, " "), stderr)
		}
	}
}
