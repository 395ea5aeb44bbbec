package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/store"
)

// killTest is a stream of API writes cut by SIGKILL: setup prepares the
// database and returns a token; write performs write number i of worker w
// and returns what identifies it when it was acknowledged, or alive=false
// once the server is gone; stored says whether an acknowledged write is in
// the database after the restart.
type killTest struct {
	setup  func(t *testing.T, cfg app.Config) (token string)
	write  func(c *http.Client, base, token string, w, i int) (ack string, alive bool)
	stored func(t *testing.T, db *store.DB, ack string) bool
}

// run streams writes from four workers on both databases, kills the server
// in the middle, restarts it and checks that every acknowledged write is
// there and the audit chain is intact.
func (k killTest) run(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			var dbArgs []string
			cfg := app.Config{AdminEmail: "admin@ccb.example", Authority: "CCB", SQLiteSync: "full"}
			if dialect == "sqlite" {
				cfg.DataDir = t.TempDir()
				dbArgs = []string{"--data", cfg.DataDir}
			} else {
				cfg.DB = dbtest.PostgresURL(t)
				// The attachment key would go to ./belfry-data otherwise.
				cfg.AttachmentKeyFile = filepath.Join(t.TempDir(), "attachments.key")
				dbArgs = []string{"--db", cfg.DB, "--attachment-key-file", cfg.AttachmentKeyFile}
			}
			token := k.setup(t, cfg)

			s := startBelfry(t, append([]string{"serve"}, dbArgs...)...)
			var (
				mu    sync.Mutex
				acked []string
				wg    sync.WaitGroup
			)
			stop := make(chan struct{})
			client := &http.Client{Timeout: 5 * time.Second}
			for w := range 4 {
				wg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						ack, alive := k.write(client, s.URL, token, w, i)
						if !alive {
							return
						}
						if ack != "" {
							mu.Lock()
							acked = append(acked, ack)
							mu.Unlock()
						}
					}
				})
			}
			time.Sleep(1500 * time.Millisecond)
			if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-s.done
			close(stop)
			wg.Wait()
			if len(acked) < 10 {
				t.Fatalf("only %d writes acknowledged before the kill; the test proves little", len(acked))
			}

			// Restart: the instance recovers by itself.
			s2 := startBelfry(t, append([]string{"serve"}, dbArgs...)...)
			if code := s2.stop(t, 25*time.Second); code != 0 {
				t.Errorf("restarted server exited %d", code)
			}
			db, err := store.Open(context.Background(), store.Config{URL: cfg.DB, DataDir: cfg.DataDir})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			missing := 0
			for _, ack := range acked {
				if !k.stored(t, db, ack) {
					missing++
					t.Errorf("acknowledged write %q is missing after the kill", ack)
				}
			}
			res, err := audit.Verify(context.Background(), db)
			if err != nil || !res.OK() {
				t.Errorf("audit chain after the kill: %+v, %v", res, err)
			}
			t.Logf("%d acknowledged writes before SIGKILL, %d missing after restart", len(acked), missing)
		})
	}
}

// post sends a JSON body with the token and returns the status (0 when
// the server is gone) and the body.
func post(c *http.Client, url, token, body string, header map[string]string) (int, []byte) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// TestKillDuringWrites streams organisation creations through the API and
// kills the server in the middle: every acknowledged (201) creation is
// there after the restart.
func TestKillDuringWrites(t *testing.T) {
	killTest{
		setup: adminToken,
		write: func(c *http.Client, base, token string, w, i int) (string, bool) {
			name := fmt.Sprintf("Durable %d-%d", w, i)
			code, _ := post(c, base+"/api/v1/organisations", token, `{"name":"`+name+`","kind":"entity"}`, nil)
			if code == http.StatusCreated {
				return name, true
			}
			return "", code != 0
		},
		stored: func(t *testing.T, db *store.DB, name string) bool {
			var n int
			if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM organisations WHERE name = ?`, name).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n == 1
		},
	}.run(t)
}

// adminToken prepares the database and returns a write token of an
// authority administrator.
func adminToken(t *testing.T, cfg app.Config) string {
	t.Helper()
	ctx := context.Background()
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := identity.NewService(db, slog.New(slog.NewTextHandler(io.Discard, nil)), identity.Config{}, nil)
	if _, err := svc.Bootstrap(ctx, cfg.Authority, cfg.AdminEmail); err != nil {
		t.Fatal(err)
	}
	u, err := svc.UserByEmail(auth.With(ctx, auth.System), cfg.AdminEmail)
	if err != nil {
		t.Fatal(err)
	}
	p := &auth.Principal{UserID: u.ID, OrgID: u.OrgID, OrgKind: string(u.OrgKind), Email: u.Email, Roles: u.Roles}
	_, secret, err := svc.CreateToken(auth.With(ctx, p), identity.TokenInput{Name: "durability", Scopes: []string{"read", "write"}, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}
