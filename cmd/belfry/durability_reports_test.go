package main

import (
	"context"
	"encoding/json"
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

// TestKillDuringSubmissions streams incident reports through the API (an
// incident, then its early warning), kills the server with SIGKILL in the
// middle, restarts it and checks that every acknowledged submission is
// stored with the SHA-256 its receipt gave, on both databases.
func TestKillDuringSubmissions(t *testing.T) {
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
			token := entityToken(t, cfg)

			s := startBelfry(t, append([]string{"serve"}, dbArgs...)...)
			type receipt struct {
				Ref    string `json:"reference"`
				SHA256 string `json:"sha256"`
			}
			var (
				mu    sync.Mutex
				acked []receipt
				wg    sync.WaitGroup
			)
			stop := make(chan struct{})
			client := &http.Client{Timeout: 5 * time.Second}
			post := func(path, body string, header map[string]string, out any) int {
				req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				for k, v := range header {
					req.Header.Set(k, v)
				}
				res, err := client.Do(req)
				if err != nil {
					return 0 // the server is gone
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				if out != nil {
					json.Unmarshal(b, out)
				}
				return res.StatusCode
			}
			for w := range 4 {
				wg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						var inc struct {
							ID int64 `json:"id"`
						}
						aware := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
						if post("/api/v1/incidents", `{"title":"Outage `+fmt.Sprint(w, "-", i)+`","aware_at":"`+aware+`"}`, nil, &inc) != http.StatusCreated {
							return
						}
						var r receipt
						body := fmt.Sprintf(`{"incident_status":"ongoing","summary":"Stream %d-%d","suspected_malicious":"unknown","cross_border":"no"}`, w, i)
						code := post(fmt.Sprintf("/api/v1/incidents/%d/reports/early_warning", inc.ID), body, map[string]string{"Idempotency-Key": fmt.Sprintf("k-%d-%d", w, i)}, &r)
						if code == 0 {
							return
						}
						if code == http.StatusCreated {
							mu.Lock()
							acked = append(acked, r)
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
				t.Fatalf("only %d submissions acknowledged before the kill; the test proves little", len(acked))
			}

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
			for _, r := range acked {
				var sum string
				err := db.QueryRow(context.Background(), `SELECT sha256 FROM report_submissions WHERE ref = ?`, r.Ref).Scan(&sum)
				if err != nil || sum != r.SHA256 || len(sum) != 64 {
					missing++
					t.Errorf("acknowledged submission %s: stored sha256 %q (%v), receipt %q", r.Ref, sum, err, r.SHA256)
				}
			}
			res, err := audit.Verify(context.Background(), db)
			if err != nil || !res.OK() {
				t.Errorf("audit chain after the kill: %+v, %v", res, err)
			}
			t.Logf("%d acknowledged submissions before SIGKILL, %d missing after restart", len(acked), missing)
		})
	}
}

// entityToken prepares the database with an entity and one of its members
// and returns the member's write token.
func entityToken(t *testing.T, cfg app.Config) string {
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
	sys := auth.With(ctx, auth.System)
	name, kind, email, uname, roles := "Durable Grid", "entity", "soc@grid.example", "SOC", []string{"member"}
	o, err := svc.CreateOrganisation(sys, identity.OrgInput{Name: &name, Kind: &kind})
	if err != nil {
		t.Fatal(err)
	}
	u, _, err := svc.CreateUser(sys, identity.UserInput{OrgID: &o.ID, Email: &email, Name: &uname, Roles: &roles})
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
