package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/reporting"
)

// LoadReports gives the demo, once, an incident of Brabant Water with its
// early warning filed, so that the inbox and the clocks have something to
// show.
func LoadReports(ctx context.Context, rep *reporting.Service, ids *identity.Service) error {
	u, err := ids.UserByEmail(auth.With(ctx, auth.System), "an.peeters@brabantwater.example")
	if err != nil {
		return fmt.Errorf("demo: reporter: %w", err)
	}
	p := &auth.Principal{UserID: u.ID, OrgID: u.OrgID, OrgKind: string(u.OrgKind), Email: u.Email, Name: u.Name, Roles: u.Roles}
	ctx = auth.With(ctx, p)
	list, _, err := rep.Incidents(ctx, reporting.Filter{Limit: 1})
	if err != nil || len(list) > 0 {
		return err // already loaded
	}
	inc, err := rep.CreateIncident(ctx, reporting.IncidentInput{Title: "Ransomware on the telemetry servers of the Leuven pumping stations",
		AwareAt: time.Now().Add(-5 * time.Hour)})
	if err != nil {
		return fmt.Errorf("demo: incident: %w", err)
	}
	_, err = rep.Submit(ctx, inc.ID, reporting.EarlyWarning, reporting.Content{
		IncidentStatus: "ongoing", Summary: "Telemetry servers encrypted; pumps run on local control. Water supply not affected so far.",
		SuspectedMalicious: "yes", CrossBorder: "no", TLP: "amber",
		Notifier: &reporting.Person{Name: u.Name, Email: u.Email, Phone: "+32 16 24 00 10"}}, reporting.SubmitOptions{IdempotencyKey: "demo-early-warning"})
	if err != nil {
		return fmt.Errorf("demo: early warning: %w", err)
	}
	return nil
}
