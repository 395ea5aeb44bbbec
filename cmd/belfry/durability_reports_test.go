package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/store"
)

// TestKillDuringSubmissions streams incident reports through the API (an
// incident, then its early warning) and kills the server in the middle:
// every acknowledged submission is stored with the SHA-256 its receipt gave.
func TestKillDuringSubmissions(t *testing.T) {
	killTest{
		setup: entityToken,
		write: func(c *http.Client, base, token string, w, i int) (string, bool) {
			aware := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
			code, body := post(c, base+"/api/v1/incidents", token, fmt.Sprintf(`{"title":"Outage %d-%d","aware_at":"%s"}`, w, i, aware), nil)
			if code != http.StatusCreated {
				return "", false
			}
			var inc struct {
				ID int64 `json:"id"`
			}
			json.Unmarshal(body, &inc)
			report := fmt.Sprintf(`{"incident_status":"ongoing","summary":"Stream %d-%d","suspected_malicious":"unknown","cross_border":"no"}`, w, i)
			code, body = post(c, fmt.Sprintf("%s/api/v1/incidents/%d/reports/early_warning", base, inc.ID), token, report,
				map[string]string{"Idempotency-Key": fmt.Sprintf("k-%d-%d", w, i)})
			if code != http.StatusCreated {
				return "", code != 0
			}
			var r struct {
				Ref    string `json:"reference"`
				SHA256 string `json:"sha256"`
			}
			json.Unmarshal(body, &r)
			return r.Ref + " " + r.SHA256, true
		},
		stored: func(t *testing.T, db *store.DB, ack string) bool {
			ref, sum, _ := strings.Cut(ack, " ")
			var got string
			err := db.QueryRow(context.Background(), `SELECT sha256 FROM report_submissions WHERE ref = ?`, ref).Scan(&got)
			return err == nil && len(sum) == 64 && got == sum
		},
	}.run(t)
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
