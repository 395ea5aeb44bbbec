package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/cases"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestCasesMergeSplitAPI: a case merged into another by reference (the
// merged one no longer changes: 409), then observables split off into a
// new case; bad targets and empty splits are 422.
func TestCasesMergeSplitAPI(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		var authority int64
		if err := db.QueryRow(t.Context(), `SELECT org_id FROM users WHERE email = ?`, e.AdminEmail).Scan(&authority); err != nil {
			t.Fatal(err)
		}
		ana := e.User(t, authority, "merge.analyst@ccb.example", "analyst")
		api := e.API(t, e.Token(t, ana, "read", "write"))
		type caseRes struct {
			ID    int64  `json:"id"`
			Ref   string `json:"ref"`
			Links []struct {
				Kind, Target string
			} `json:"links"`
		}
		create := func(title string) caseRes {
			var c caseRes
			res := api.Do("POST", "/api/v1/cases", map[string]any{"title": title, "template": "phishing"})
			if res.StatusCode != http.StatusCreated {
				t.Fatalf("create: %d %s", res.StatusCode, res.Body)
			}
			res.JSON(t, &c)
			return c
		}
		a, b := create("Wave one"), create("Wave two")
		res := api.Do("POST", "/api/v1/cases/"+itoa(b.ID)+"/observables", map[string]any{"type": "ip", "value": "198.51.100.7", "tlp": "AMBER"})
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("observable: %d %s", res.StatusCode, res.Body)
		}
		var obs struct {
			ID int64 `json:"id"`
		}
		res.JSON(t, &obs)
		for _, bad := range []string{"CASE-1999-000001", b.Ref} {
			if res := api.Do("POST", "/api/v1/cases/"+itoa(b.ID)+"/merge", map[string]any{"into": bad}); res.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("merge into %s = %d %s", bad, res.StatusCode, res.Body)
			}
		}
		if res := api.Do("POST", "/api/v1/cases/"+itoa(b.ID)+"/merge", map[string]any{"into": a.Ref}); res.StatusCode != http.StatusOK {
			t.Fatalf("merge: %d %s", res.StatusCode, res.Body)
		}
		if res := api.Do("PATCH", "/api/v1/cases/"+itoa(b.ID), map[string]any{"title": "x"}); res.StatusCode != http.StatusConflict {
			t.Errorf("update of the merged case = %d", res.StatusCode)
		}
		if res := api.Do("POST", "/api/v1/cases/"+itoa(a.ID)+"/split", map[string]any{"title": "Empty"}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("empty split = %d", res.StatusCode)
		}
		res = api.Do("POST", "/api/v1/cases/"+itoa(a.ID)+"/split", map[string]any{"title": "Infrastructure", "observables": []int64{obs.ID}})
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("split: %d %s", res.StatusCode, res.Body)
		}
		var n caseRes
		res.JSON(t, &n)
		found := false
		for _, l := range n.Links {
			found = found || l.Kind == "case" && l.Target == a.Ref
		}
		if !found {
			t.Errorf("the new case is not linked to %s: %+v", a.Ref, n.Links)
		}
	})
}

// TestCasesMergeSplitPortal: the "Merge or split" tab merges a case into
// another by reference (an unknown one is an error on the form) and
// splits an observable off into a new case.
func TestCasesMergeSplitPortal(t *testing.T) {
	e := webtest.New(t, dbtest.SQLite(t), false)
	var authority int64
	if err := e.App.DB.QueryRow(t.Context(), `SELECT org_id FROM users WHERE email = ?`, e.AdminEmail).Scan(&authority); err != nil {
		t.Fatal(err)
	}
	ana := e.User(t, authority, "merge.portal@ccb.example", "analyst")
	ctx := auth.With(t.Context(), principalOf(ana))
	t1, t2 := "Portal wave one", "Portal wave two"
	a, err := e.App.Cases.Create(ctx, cases.Input{Title: &t1})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := e.App.Cases.Create(ctx, cases.Input{Title: &t2})
	o, err := e.App.Cases.AddObservable(ctx, a.ID, cases.ObservableInput{Type: "ip", Value: "203.0.113.9", TLP: "AMBER"})
	if err != nil {
		t.Fatal(err)
	}
	c := e.Login(t, ana.Email, webtest.Password(ana.Email))
	res := c.Get("/cases/" + itoa(b.ID) + "/merge")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, b.Ref) {
		t.Fatalf("merge page: %d", res.StatusCode)
	}
	res = c.PostForm("/cases/"+itoa(b.ID)+"/merge", url.Values{"into": {"CASE-1999-000009"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "CASE-1999-000009") {
		t.Errorf("merge into an unknown case: %d", res.StatusCode)
	}
	res = c.PostForm("/cases/"+itoa(b.ID)+"/merge", url.Values{"into": {a.Ref}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "/cases/"+itoa(a.ID)) {
		t.Fatalf("merge: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if got, _ := e.App.Cases.Get(ctx, b.ID); got.MergedInto != a.Ref {
		t.Errorf("merged into %q", got.MergedInto)
	}
	res = c.PostForm("/cases/"+itoa(a.ID)+"/split", url.Values{"title": {"Split off"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("empty split: %d", res.StatusCode)
	}
	res = c.PostForm("/cases/"+itoa(a.ID)+"/split", url.Values{"title": {"Split off"}, "observable": {itoa(o.ID)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("split: %d %s", res.StatusCode, res.Body)
	}
	if obs, _ := e.App.Cases.Observables(ctx, a.ID); len(obs) != 0 {
		t.Errorf("the observable stayed: %+v", obs)
	}
}
