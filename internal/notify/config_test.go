package notify_test

import (
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/notify"
)

func TestSMTPConfigValidate(t *testing.T) {
	t.Parallel()
	ok := notify.SMTPConfig{Host: "smtp.example.be", From: "Belfry <noreply@example.be>"}
	with := func(f func(*notify.SMTPConfig)) notify.SMTPConfig {
		c := ok
		f(&c)
		return c
	}
	tests := []struct {
		name string
		in   notify.SMTPConfig
		want string // substring of the error; "" = valid
	}{
		{"disabled", notify.SMTPConfig{}, ""},
		{"disabled ignores the rest", notify.SMTPConfig{TLS: "bogus"}, ""},
		{"minimal", ok, ""},
		{"bare from", with(func(c *notify.SMTPConfig) { c.From = "noreply@example.be" }), ""},
		{"tls", with(func(c *notify.SMTPConfig) { c.TLS, c.Port = "tls", 465 }), ""},
		{"none", with(func(c *notify.SMTPConfig) { c.TLS, c.Host = "none", "127.0.0.1" }), ""},
		{"ipv6 host", with(func(c *notify.SMTPConfig) { c.Host = "::1" }), ""},
		{"auth", with(func(c *notify.SMTPConfig) { c.Username, c.Password = "belfry", "pw" }), ""},
		{"helo", with(func(c *notify.SMTPConfig) { c.HELO = "belfry.example.be" }), ""},
		{"no from", with(func(c *notify.SMTPConfig) { c.From = "" }), "smtp: from address is required"},
		{"bad from", with(func(c *notify.SMTPConfig) { c.From = "belfry" }), `smtp: from address "belfry" is not a valid e-mail address`},
		{"host with port", with(func(c *notify.SMTPConfig) { c.Host = "smtp.example.be:587" }), "smtp: host"},
		{"host as URL", with(func(c *notify.SMTPConfig) { c.Host = "smtp://smtp.example.be" }), "smtp: host"},
		{"negative port", with(func(c *notify.SMTPConfig) { c.Port = -1 }), "smtp: port -1"},
		{"port too big", with(func(c *notify.SMTPConfig) { c.Port = 70000 }), "smtp: port 70000"},
		{"unknown tls", with(func(c *notify.SMTPConfig) { c.TLS = "ssl" }), `smtp: tls must be "starttls", "tls" or "none", not "ssl"`},
		{"user without password", with(func(c *notify.SMTPConfig) { c.Username = "belfry" }), "smtp: username is set but password is empty"},
		{"password without user", with(func(c *notify.SMTPConfig) { c.Password = "pw" }), "smtp: password is set but username is empty"},
		{"credentials in clear", with(func(c *notify.SMTPConfig) { c.TLS, c.Username, c.Password = "none", "belfry", "pw" }), "smtp: username and password need tls"},
		{"helo with space", with(func(c *notify.SMTPConfig) { c.HELO = "belfry example" }), "smtp: helo"},
	}
	for _, tt := range tests {
		err := tt.in.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: Validate() = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}
