package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/cases"
	"github.com/belfry-cert/belfry/internal/identity"
)

// LoadCases gives the demo, once, the CSIRT's cases: one from Brabant
// Water's ransomware incident (ransomware template, assigned to Sofie
// Maes, with an indicator and a note), one from the feed events of its
// network, and a phishing case opened by hand whose takedown task is
// already overdue.
func LoadCases(ctx context.Context, svc *cases.Service, ids *identity.Service) error {
	sys := auth.With(ctx, auth.System)
	if list, _, err := svc.List(sys, cases.Filter{Limit: 1}); err != nil || len(list) > 0 {
		return err // already loaded
	}
	analyst, err := staffPrincipal(sys, ids, "sofie.analyst@ccb.example")
	if err != nil {
		return err
	}
	actx := auth.With(ctx, analyst)
	var incident int64
	if err := svc.DB().QueryRow(ctx, `SELECT MIN(id) FROM incidents`).Scan(&incident); err != nil {
		return fmt.Errorf("demo: the reporting demo comes first: %w", err)
	}
	sev := 4
	c, err := svc.FromIncident(actx, incident, cases.Input{Template: "ransomware", Severity: &sev, AssigneeID: &analyst.UserID})
	if err != nil {
		return fmt.Errorf("demo: case from incident: %w", err)
	}
	if _, err := svc.AddObservable(actx, c.ID, cases.ObservableInput{Type: "hash", Value: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		TLP: "AMBER", IOC: true, Note: "Encryptor found on TELEM-02"}); err != nil {
		return err
	}
	if _, err := svc.AddNote(actx, c.ID, "Called the SOC of Brabant Water at 10:05.\n\n- Telemetry servers isolated\n- **No payment** intended\n- Backups from last night look intact", ""); err != nil {
		return err
	}
	var events []int64
	rows, err := svc.DB().Query(ctx, `SELECT id FROM feed_events WHERE org_id IS NOT NULL ORDER BY id LIMIT 3`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		events = append(events, id)
	}
	rows.Close()
	if len(events) > 0 {
		if _, err := svc.FromFeedEvents(actx, events, cases.Input{Template: "vulnerability_exploitation"}); err != nil {
			return fmt.Errorf("demo: case from feed events: %w", err)
		}
	}
	// A phishing case opened two days ago: its first task is overdue.
	svc.SetClock(func() time.Time { return time.Now().Add(-48 * time.Hour) })
	defer svc.SetClock(time.Now)
	title := "Phishing site imitating a Belgian bank (demo)"
	p, err := svc.Create(actx, cases.Input{Title: &title, Template: "phishing"})
	if err != nil {
		return err
	}
	_, err = svc.AddObservable(actx, p.ID, cases.ObservableInput{Type: "url", Value: "https://secure-login-bank.example/be/", TLP: "CLEAR", IOC: true})
	return err
}
