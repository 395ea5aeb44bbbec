package notify

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strings"
)

// TLS modes of SMTPConfig.
const (
	TLSStartTLS = "starttls" // plain connect, then STARTTLS; refuse servers without it
	TLSImplicit = "tls"      // TLS from the first byte (submissions, port 465)
	TLSNone     = "none"     // no encryption; only for a relay on the same host or network
)

// SMTPConfig says how Belfry hands mail to its relay. An empty Host turns
// mail off.
type SMTPConfig struct {
	Host     string
	Port     int // 0: 587 for starttls, 465 for tls, 25 for none
	Username string
	Password string
	From     string // "Belfry <noreply@example.be>" or a bare address
	// TLS is "starttls" (the default; the server must offer it), "tls"
	// (implicit TLS) or "none" (plain text, for local relays only).
	TLS string
	// RootCAs verifies the server's certificate; nil means the system roots.
	RootCAs *x509.CertPool
	// HELO is the name sent in EHLO; empty means this machine's host name.
	HELO string
}

// Enabled reports whether mail is configured at all.
func (c SMTPConfig) Enabled() bool { return c.Host != "" }

// Validate reports the first bad field. A config without Host is valid: mail
// is off.
func (c SMTPConfig) Validate() error {
	if !c.Enabled() {
		return nil
	}
	checks := []func() error{c.checkHost, c.checkPort, c.checkTLS, c.checkFrom, c.checkAuth, c.checkHELO}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (c SMTPConfig) checkHost() error {
	if strings.ContainsAny(c.Host, "/ \t\r\n@") {
		return fmt.Errorf("smtp: host %q must be a host name or IP address, not a URL", c.Host)
	}
	if _, _, err := net.SplitHostPort(c.Host); err == nil {
		return fmt.Errorf("smtp: host %q must not include a port; set the port separately", c.Host)
	}
	return nil
}

func (c SMTPConfig) checkPort() error {
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("smtp: port %d is out of range (1-65535, or 0 for the default)", c.Port)
	}
	return nil
}

func (c SMTPConfig) checkTLS() error {
	switch c.TLS {
	case "", TLSStartTLS, TLSImplicit, TLSNone:
		return nil
	}
	return fmt.Errorf("smtp: tls must be %q, %q or %q, not %q", TLSStartTLS, TLSImplicit, TLSNone, c.TLS)
}

func (c SMTPConfig) checkFrom() error {
	if c.From == "" {
		return errors.New("smtp: from address is required when mail is enabled")
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("smtp: from address %q is not a valid e-mail address", c.From)
	}
	return nil
}

func (c SMTPConfig) checkAuth() error {
	switch {
	case c.Username != "" && c.Password == "":
		return errors.New("smtp: username is set but password is empty")
	case c.Username == "" && c.Password != "":
		return errors.New("smtp: password is set but username is empty")
	case c.Username != "" && c.mode() == TLSNone:
		return errors.New("smtp: username and password need tls \"starttls\" or \"tls\"; \"none\" would send them in clear text")
	}
	return nil
}

func (c SMTPConfig) checkHELO() error {
	if strings.ContainsAny(c.HELO, " \t\r\n") {
		return fmt.Errorf("smtp: helo %q must be a single host name", c.HELO)
	}
	return nil
}

// mode is TLS with its default filled in.
func (c SMTPConfig) mode() string {
	if c.TLS == "" {
		return TLSStartTLS
	}
	return c.TLS
}

// port is Port with its default filled in.
func (c SMTPConfig) port() int {
	switch {
	case c.Port != 0:
		return c.Port
	case c.mode() == TLSImplicit:
		return 465
	case c.mode() == TLSNone:
		return 25
	}
	return 587
}

// domain is the domain of the From address, for Message-IDs.
func (c SMTPConfig) domain() string {
	a, err := mail.ParseAddress(c.From)
	if err != nil {
		return "belfry.invalid"
	}
	_, d, ok := strings.Cut(a.Address, "@")
	if !ok || d == "" {
		return "belfry.invalid"
	}
	return d
}
