package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/voluntary"
)

// LoadVoluntary gives the demo, once, a confirmed voluntary notification
// from a citizen, so that the authority's queue has something to show.
func LoadVoluntary(ctx context.Context, svc *voluntary.Service) error {
	ctx = auth.With(ctx, auth.System)
	list, _, err := svc.List(ctx, voluntary.Filter{Limit: 1})
	if err != nil || len(list) > 0 {
		return err // already loaded
	}
	started := time.Now().Add(-26 * time.Hour)
	token, err := svc.SubmitToken(ctx, voluntary.Content{ReporterKind: voluntary.ReporterCitizen, Name: "Els Janssens",
		Email: "els.janssens@mail.example", Language: "nl", Subject: "cyber_threat",
		Description: "SMS claiming to come from my bank asked me to 'reactivate' my card on bank-verify.example. I did not click. " +
			"Several neighbours received the same message.",
		StartedAt: &started, Classification: "fraud/phishing", Impact: "none", ContactWanted: false, TLP: "green", Consent: true})
	if err != nil {
		return fmt.Errorf("demo: voluntary notification: %w", err)
	}
	if _, err := svc.Confirm(ctx, token); err != nil {
		return fmt.Errorf("demo: confirm voluntary notification: %w", err)
	}
	return nil
}
