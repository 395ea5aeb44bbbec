package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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

// TestKillDuringWrites streams organisation creations through the API,
// kills the server with SIGKILL in the middle, restarts it and checks that
// every acknowledged (201) creation is there and the audit chain is intact.
func TestKillDuringWrites(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			var dbArgs []string
			cfg := app.Config{AdminEmail: "admin@ccb.example", Authority: "CCB", SQLiteSync: "full"}
			if dialect == "sqlite" {
				cfg.DataDir = t.TempDir()
				dbArgs = []string{"--data", cfg.DataDir}
			} else {
				cfg.DB = dbtest.PostgresURL(t)
				dbArgs = []string{"--db", cfg.DB}
			}
			token := adminToken(t, cfg)

			s := startBelfry(t, append([]string{"serve"}, dbArgs...)...)
			var (
				mu    sync.Mutex
				acked []string
				wg    sync.WaitGroup
			)
			stop := make(chan struct{})
			client := &http.Client{Timeout: 5 * time.Second}
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						name := fmt.Sprintf("Durable %d-%d", w, i)
						req, _ := http.NewRequest("POST", s.URL+"/api/v1/organisations", strings.NewReader(`{"name":"`+name+`","kind":"entity"}`))
						req.Header.Set("Authorization", "Bearer "+token)
						req.Header.Set("Content-Type", "application/json")
						res, err := client.Do(req)
						if err != nil {
							return // the server is gone
						}
						io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if res.StatusCode == http.StatusCreated {
							mu.Lock()
							acked = append(acked, name)
							mu.Unlock()
						}
					}
				}()
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
			for _, name := range acked {
				var n int
				if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM organisations WHERE name = ?`, name).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 1 {
					missing++
					t.Errorf("acknowledged organisation %q is missing after the kill", name)
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
