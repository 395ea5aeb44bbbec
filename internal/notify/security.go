package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/store"
)

// securityEvents are the events SecurityNotice knows; each has the catalog
// keys mail.security.EVENT.subject and mail.security.EVENT.body.
var securityEvents = []string{"password_changed", "password_reset", "totp_enabled", "totp_disabled", "token_created"}

// subjectPrefix starts every subject, so that people and filters recognise
// Belfry's mail.
const subjectPrefix = "[Belfry] "

// SecurityNotice queues, in tx, a plain-text notice in the recipient's
// locale (English when locale is empty or unknown) that event happened on
// their account. It implements identity.Notifier.
func (s *Service) SecurityNotice(ctx context.Context, tx *store.Tx, to, locale, event string) error {
	m, err := s.securityMessage(to, locale, event)
	if err != nil {
		return err
	}
	return s.Enqueue(ctx, tx, m)
}

// securityMessage builds the notice for event in locale.
func (s *Service) securityMessage(to, locale, event string) (Message, error) {
	if !slices.Contains(securityEvents, event) {
		e := errs.Field("event", "mail.err.event_unknown", nil)
		e.Err = fmt.Errorf("notify: unknown security event %q", event)
		return Message{}, e
	}
	if !i18n.Supported(locale) {
		locale = i18n.Default
	}
	key := "mail.security." + event
	body := []string{
		s.cat.T(locale, key+".body", nil),
		s.cat.T(locale, "mail.security.footer", nil),
		s.cat.T(locale, "mail.auto_generated", nil),
	}
	return Message{
		To:      []string{to},
		Subject: subjectPrefix + s.cat.T(locale, key+".subject", nil),
		Text:    strings.Join(body, "\n\n") + "\n",
	}, nil
}
