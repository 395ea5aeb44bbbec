package notify

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
)

func TestSecurityMessage(t *testing.T) {
	t.Parallel()
	cat := i18n.MustLoad()
	s := New(SMTPConfig{}, cat, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, locale := range i18n.Locales {
		footer := cat.T(locale, "mail.security.footer", nil)
		for _, event := range securityEvents {
			m, err := s.securityMessage("anne@example.be", locale, event)
			if err != nil {
				t.Errorf("securityMessage(%q, %q) error = %v, want nil", locale, event, err)
				continue
			}
			if err := m.Validate(); err != nil {
				t.Errorf("securityMessage(%q, %q).Validate() = %v, want nil", locale, event, err)
			}
			if !strings.HasPrefix(m.Subject, "[Belfry] ") || strings.Contains(m.Subject, "mail.") {
				t.Errorf("securityMessage(%q, %q).Subject = %q, want a translated subject after [Belfry]", locale, event, m.Subject)
			}
			if strings.Contains(m.Text, "mail.") || !strings.Contains(m.Text, footer) {
				t.Errorf("securityMessage(%q, %q).Text = %q, want a translated body with the footer", locale, event, m.Text)
			}
		}
	}
}

func TestSecurityMessageLocaleFallback(t *testing.T) {
	t.Parallel()
	cat := i18n.MustLoad()
	s := New(SMTPConfig{}, cat, slog.New(slog.NewTextHandler(io.Discard, nil)))
	want := "[Belfry] " + cat.T("en", "mail.security.password_changed.subject", nil)
	for _, locale := range []string{"", "es", "EN-gb"} {
		m, err := s.securityMessage("anne@example.be", locale, "password_changed")
		if err != nil || m.Subject != want {
			t.Errorf("securityMessage(%q).Subject = %q, %v, want %q", locale, m.Subject, err, want)
		}
	}
}

func TestSecurityMessageUnknownEvent(t *testing.T) {
	t.Parallel()
	s := New(SMTPConfig{}, i18n.MustLoad(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	_, err := s.securityMessage("anne@example.be", "en", "account_deleted")
	if !errs.Is(err, errs.Invalid) {
		t.Errorf("securityMessage(account_deleted) error = %v, want Invalid", err)
	}
}
