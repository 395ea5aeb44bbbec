// Package app is the composition root: it turns a Config into an open
// database, the capability services, the HTTP server and the job queue, and
// runs them until the context ends.
package app

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/reporting"
)

// Config is every setting of a Belfry instance. Each has a flag and a
// BELFRY_* environment variable; the flag wins.
type Config struct {
	Addr        string
	DataDir     string
	DB          string
	TLSCert     string
	TLSKey      string
	PublicURL   string
	LogFormat   string
	LogLevel    string
	Authority   string
	CERTPhone   string
	AdminEmail  string
	Workers     bool
	TrustProxy  bool
	SQLiteSync  string
	IdleTimeout time.Duration
	// NIS2 classification settings (nis2.md §1.4, §1.6, §8).
	SizeRule        string
	Jurisdiction    string
	ResearchInScope bool
	// IndexRefresh is how often an instance checks for changed
	// constituency claims made on another instance.
	IndexRefresh time.Duration
	// ReportReminders are the comma-separated lead times before each
	// NIS2 reporting deadline at which the entity is reminded by e-mail.
	ReportReminders string
	SMTP            notify.SMTPConfig
	OIDC            identity.OIDCConfig

	// AttachmentKeyFile holds the 32-byte key that encrypts report
	// attachments at rest; "" means <data dir>/keys/attachments.key.
	AttachmentKeyFile string
	// AttachmentMaxSize is the largest report attachment, like "20MB".
	AttachmentMaxSize string

	// Feeds (issue 5): Shadowserver's schema file ("" is
	// <data>/feeds/shadowserver-schema.json), the deduplication window,
	// and the intake sources this instance runs: a drop directory and an
	// SMTP mailbox (each off when its address is empty).
	FeedsSchema         string
	FeedsWindow         time.Duration
	FeedsRetention      time.Duration
	FeedsDropDir        string
	FeedsInstance       string
	FeedsDropWorkers    int
	FeedsSMTPAddr       string
	FeedsSMTPRecipients string
	FeedsSMTPSenders    string
	FeedsSMTPHosts      string
	// The Shadowserver Reports API (off without a key): the key and HMAC
	// secret, the reports (mailing lists) and types to fetch, how many
	// days back and how often, and the endpoints.
	ShadowserverKey         string
	ShadowserverSecret      string
	ShadowserverReports     string
	ShadowserverTypes       string
	ShadowserverDays        int
	ShadowserverInterval    time.Duration
	ShadowserverAPIURL      string
	ShadowserverDownloadURL string

	// Advisories (issue 7): the tracking id prefix, the publisher written
	// into every CSAF document, the security contact of security.txt and
	// the directory of the OASIS CSAF schemas ("" is <data>/csaf/schemas
	// when present, else $BELFRY_CSAF_SCHEMAS or the package default).
	CSAFPrefix             string
	CSAFPublisherName      string
	CSAFPublisherNamespace string
	CSAFContact            string
	CSAFSchemas            string
}

// CSAFSchemaDir is the directory the CSAF schemas are read from, or ""
// for the validator's own default.
func (c *Config) CSAFSchemaDir() string {
	if c.CSAFSchemas != "" {
		return c.CSAFSchemas
	}
	if c.DataDir != "" {
		d := filepath.Join(c.DataDir, "csaf", "schemas")
		if _, err := os.Stat(filepath.Join(d, "csaf_json_schema.json")); err == nil {
			return d
		}
	}
	return ""
}

// FeedsSchemaFile is where Shadowserver's schema is read from.
func (c *Config) FeedsSchemaFile() string {
	if c.FeedsSchema != "" {
		return c.FeedsSchema
	}
	return filepath.Join(c.DataDir, "feeds", "shadowserver-schema.json")
}

// commaList splits a comma-separated setting, dropping empty items.
func commaList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// env returns BELFRY_<name> or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv("BELFRY_" + name); ok {
		return v
	}
	return def
}

func envBool(name string, def bool) bool {
	if v, ok := os.LookupEnv("BELFRY_" + name); ok {
		b, err := strconv.ParseBool(v)
		if err == nil {
			return b
		}
	}
	return def
}

// Flags registers the settings on fs with their environment defaults.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", env("ADDR", "127.0.0.1:8080"), "listen `address` (host:port) [BELFRY_ADDR]")
	fs.StringVar(&c.DataDir, "data", env("DATA", "belfry-data"), "data `directory` for the embedded SQLite database [BELFRY_DATA]")
	fs.StringVar(&c.DB, "db", env("DB", ""), "PostgreSQL `URL` (postgres://…); empty uses SQLite in the data directory [BELFRY_DB]")
	fs.StringVar(&c.TLSCert, "tls-cert", env("TLS_CERT", ""), "TLS certificate `file` (PEM); serve HTTPS [BELFRY_TLS_CERT]")
	fs.StringVar(&c.TLSKey, "tls-key", env("TLS_KEY", ""), "TLS private key `file` (PEM) [BELFRY_TLS_KEY]")
	fs.StringVar(&c.PublicURL, "public-url", env("PUBLIC_URL", ""), "the `URL` people use to reach Belfry, for links in e-mails [BELFRY_PUBLIC_URL]")
	fs.StringVar(&c.LogFormat, "log-format", env("LOG_FORMAT", "text"), "log `format`: text or json [BELFRY_LOG_FORMAT]")
	fs.StringVar(&c.LogLevel, "log-level", env("LOG_LEVEL", "info"), "log `level`: debug, info, warn, error [BELFRY_LOG_LEVEL]")
	fs.StringVar(&c.Authority, "authority", env("AUTHORITY", "CCB"), "the authority's short `name` [BELFRY_AUTHORITY]")
	fs.StringVar(&c.CERTPhone, "cert-phone", env("CERT_PHONE", "+32 2 501 05 60"), "the 24/7 CERT `phone` number shown on every page [BELFRY_CERT_PHONE]")
	fs.StringVar(&c.AdminEmail, "admin-email", env("ADMIN_EMAIL", "admin@belfry.local"), "e-mail `address` of the first administrator [BELFRY_ADMIN_EMAIL]")
	fs.BoolVar(&c.Workers, "workers", envBool("WORKERS", true), "run background jobs on this instance [BELFRY_WORKERS]")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", envBool("TRUST_PROXY", false), "take the client address from X-Forwarded-For (behind a proxy only) [BELFRY_TRUST_PROXY]")
	fs.StringVar(&c.SQLiteSync, "sqlite-sync", env("SQLITE_SYNC", "full"), "SQLite synchronous `mode`: full (survives power loss) or normal [BELFRY_SQLITE_SYNC]")
	fs.DurationVar(&c.IdleTimeout, "session-idle", envDuration("SESSION_IDLE", 60*time.Minute), "sign out after this idle `duration` [BELFRY_SESSION_IDLE]")
	fs.StringVar(&c.SizeRule, "size-rule", env("SIZE_RULE", "strict"), "enterprise size `reading`: strict (Recommendation 2003/361) or ccb_simplified [BELFRY_SIZE_RULE]")
	fs.StringVar(&c.Jurisdiction, "jurisdiction", env("JURISDICTION", "BE"), "the authority's Member State, ISO `code` [BELFRY_JURISDICTION]")
	fs.BoolVar(&c.ResearchInScope, "research-in-scope", envBool("RESEARCH_IN_SCOPE", false), "treat research organisations (NIS2 Annex II, point 7) as in scope [BELFRY_RESEARCH_IN_SCOPE]")
	fs.DurationVar(&c.IndexRefresh, "index-refresh", envDuration("INDEX_REFRESH", 5*time.Second), "how often to check for constituency claims changed on other instances [BELFRY_INDEX_REFRESH]")
	fs.StringVar(&c.ReportReminders, "report-reminders", env("REPORT_REMINDERS", reporting.DefaultReminderLeads), "comma-separated `durations` before each incident reporting deadline at which to remind by e-mail; none for no advance reminder [BELFRY_REPORT_REMINDERS]")
	fs.StringVar(&c.AttachmentKeyFile, "attachment-key-file", env("ATTACHMENT_KEY_FILE", ""), "`file` with the 32-byte key (raw or 64 hex digits) that encrypts report attachments; created when missing; empty means <data>/keys/attachments.key; the same file on every instance [BELFRY_ATTACHMENT_KEY_FILE]")
	fs.StringVar(&c.AttachmentMaxSize, "attachment-max-size", env("ATTACHMENT_MAX_SIZE", "20MB"), "largest report attachment, a `size` like 20MB or 512KB [BELFRY_ATTACHMENT_MAX_SIZE]")
	fs.StringVar(&c.FeedsSchema, "feeds-schema", env("FEEDS_SCHEMA", ""), "Shadowserver's report schema (intelmq.json) `file`; empty means <data>/feeds/shadowserver-schema.json, installed by belfry feeds update-schema [BELFRY_FEEDS_SCHEMA]")
	fs.DurationVar(&c.FeedsWindow, "feeds-window", envDuration("FEEDS_WINDOW", 7*24*time.Hour), "a feed finding notified less than this `duration` ago is not notified again [BELFRY_FEEDS_WINDOW]")
	fs.DurationVar(&c.FeedsRetention, "feeds-retention", envDuration("FEEDS_RETENTION", 0), "delete feed events, unreadable rows and deduplication keys older than this `duration` (e.g. 9600h for 400 days); 0 keeps them [BELFRY_FEEDS_RETENTION]")
	fs.StringVar(&c.FeedsDropDir, "feeds-dropdir", env("FEEDS_DROPDIR", ""), "watch this `directory` for report files to ingest (write name.part, then rename); empty: off [BELFRY_FEEDS_DROPDIR]")
	fs.StringVar(&c.FeedsInstance, "feeds-instance", env("FEEDS_INSTANCE", ""), "this instance's `name` among those sharing the drop directory (default: the host name) [BELFRY_FEEDS_INSTANCE]")
	fs.IntVar(&c.FeedsDropWorkers, "feeds-dropdir-workers", envInt("FEEDS_DROPDIR_WORKERS", 2), "report files processed at a time from the drop directory [BELFRY_FEEDS_DROPDIR_WORKERS]")
	fs.StringVar(&c.FeedsSMTPAddr, "feeds-smtp-addr", env("FEEDS_SMTP_ADDR", ""), "listen on this `host:port` for reports sent as e-mail attachments; empty: off [BELFRY_FEEDS_SMTP_ADDR]")
	fs.StringVar(&c.FeedsSMTPRecipients, "feeds-smtp-recipients", env("FEEDS_SMTP_RECIPIENTS", ""), "comma-separated `addresses` the feed mailbox accepts mail for [BELFRY_FEEDS_SMTP_RECIPIENTS]")
	fs.StringVar(&c.FeedsSMTPSenders, "feeds-smtp-senders", env("FEEDS_SMTP_SENDERS", ""), "comma-separated envelope `senders` accepted (address or @domain) [BELFRY_FEEDS_SMTP_SENDERS]")
	fs.StringVar(&c.FeedsSMTPHosts, "feeds-smtp-hosts", env("FEEDS_SMTP_HOSTS", ""), "comma-separated client `prefixes` accepted (the relay receiving Shadowserver's mail) [BELFRY_FEEDS_SMTP_HOSTS]")
	fs.StringVar(&c.ShadowserverKey, "shadowserver-key", env("SHADOWSERVER_KEY", ""), "Shadowserver Reports API `key`; empty: the API is not polled [BELFRY_SHADOWSERVER_KEY]")
	fs.StringVar(&c.ShadowserverSecret, "shadowserver-secret", env("SHADOWSERVER_SECRET", ""), "Shadowserver Reports API HMAC `secret` (prefer the environment variable) [BELFRY_SHADOWSERVER_SECRET]")
	fs.StringVar(&c.ShadowserverReports, "shadowserver-reports", env("SHADOWSERVER_REPORTS", ""), "comma-separated report (mailing list) `names` to fetch; empty: all [BELFRY_SHADOWSERVER_REPORTS]")
	fs.StringVar(&c.ShadowserverTypes, "shadowserver-types", env("SHADOWSERVER_TYPES", ""), "comma-separated report `types` to fetch (scan_http…); empty: all [BELFRY_SHADOWSERVER_TYPES]")
	fs.IntVar(&c.ShadowserverDays, "shadowserver-days", envInt("SHADOWSERVER_DAYS", 2), "how many `days` back each poll lists reports [BELFRY_SHADOWSERVER_DAYS]")
	fs.DurationVar(&c.ShadowserverInterval, "shadowserver-interval", envDuration("SHADOWSERVER_INTERVAL", time.Hour), "time between two polls of the API [BELFRY_SHADOWSERVER_INTERVAL]")
	fs.StringVar(&c.ShadowserverAPIURL, "shadowserver-api-url", env("SHADOWSERVER_API_URL", ""), "API root `URL` (default Shadowserver's) [BELFRY_SHADOWSERVER_API_URL]")
	fs.StringVar(&c.ShadowserverDownloadURL, "shadowserver-download-url", env("SHADOWSERVER_DOWNLOAD_URL", ""), "report download `URL` prefix (default Shadowserver's) [BELFRY_SHADOWSERVER_DOWNLOAD_URL]")
	fs.StringVar(&c.CSAFPrefix, "csaf-prefix", env("CSAF_PREFIX", ""), "`prefix` of advisory tracking ids (PREFIX-2026-0042); empty: the --authority name [BELFRY_CSAF_PREFIX]")
	fs.StringVar(&c.CSAFPublisherName, "csaf-publisher-name", env("CSAF_PUBLISHER_NAME", ""), "publisher `name` written into advisories; empty: the --authority name [BELFRY_CSAF_PUBLISHER_NAME]")
	fs.StringVar(&c.CSAFPublisherNamespace, "csaf-publisher-namespace", env("CSAF_PUBLISHER_NAMESPACE", ""), "publisher namespace `URL` of advisories (the authority's web site); empty: the --public-url [BELFRY_CSAF_PUBLISHER_NAMESPACE]")
	fs.StringVar(&c.CSAFContact, "csaf-contact", env("CSAF_CONTACT", ""), "security contact `URI` (mailto: or https:) for security.txt and the advisories' publisher; empty: mailto: the --admin-email [BELFRY_CSAF_CONTACT]")
	fs.StringVar(&c.CSAFSchemas, "csaf-schemas", env("CSAF_SCHEMAS", ""), "`directory` of the OASIS CSAF 2.0 schemas (csaf_json_schema.json, first/*.json); empty: <data>/csaf/schemas, installed by belfry csaf update-schemas [BELFRY_CSAF_SCHEMAS]")
	fs.StringVar(&c.SMTP.Host, "smtp-host", env("SMTP_HOST", ""), "SMTP server `host`; empty disables e-mail [BELFRY_SMTP_HOST]")
	fs.IntVar(&c.SMTP.Port, "smtp-port", envInt("SMTP_PORT", 0), "SMTP `port`; 0 means 587 for starttls, 465 for tls, 25 for none [BELFRY_SMTP_PORT]")
	fs.StringVar(&c.SMTP.Username, "smtp-user", env("SMTP_USER", ""), "SMTP `user` name [BELFRY_SMTP_USER]")
	fs.StringVar(&c.SMTP.Password, "smtp-password", env("SMTP_PASSWORD", ""), "SMTP `password` (prefer the environment variable) [BELFRY_SMTP_PASSWORD]")
	fs.StringVar(&c.SMTP.From, "smtp-from", env("SMTP_FROM", ""), "sender `address` of e-mails [BELFRY_SMTP_FROM]")
	fs.StringVar(&c.SMTP.TLS, "smtp-tls", env("SMTP_TLS", "starttls"), "SMTP transport `security`: starttls, tls or none [BELFRY_SMTP_TLS]")
	fs.StringVar(&c.OIDC.Issuer, "oidc-issuer", env("OIDC_ISSUER", ""), "OpenID Connect issuer `URL`; empty disables single sign-on [BELFRY_OIDC_ISSUER]")
	fs.StringVar(&c.OIDC.ClientID, "oidc-client-id", env("OIDC_CLIENT_ID", ""), "OpenID Connect client `id` [BELFRY_OIDC_CLIENT_ID]")
	fs.StringVar(&c.OIDC.ClientSecret, "oidc-client-secret", env("OIDC_CLIENT_SECRET", ""), "OpenID Connect client `secret` (prefer the environment variable) [BELFRY_OIDC_CLIENT_SECRET]")
	fs.StringVar(&c.OIDC.RedirectURL, "oidc-redirect-url", env("OIDC_REDIRECT_URL", ""), "OpenID Connect redirect `URL` registered at the provider [BELFRY_OIDC_REDIRECT_URL]")
	fs.StringVar(&c.OIDC.Name, "oidc-name", env("OIDC_NAME", ""), "`name` of the provider on the sign-in button (default OpenID Connect) [BELFRY_OIDC_NAME]")
	fs.BoolVar(&c.OIDC.LinkByEmail, "oidc-link-email", envBool("OIDC_LINK_EMAIL", true), "link a first SSO sign-in to the user with the same verified e-mail [BELFRY_OIDC_LINK_EMAIL]")
}

func envInt(name string, def int) int {
	if v, ok := os.LookupEnv("BELFRY_" + name); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv("BELFRY_" + name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

// Validate checks the settings once, at start-up, naming the one at fault.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr %q: want host:port", c.Addr))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		errs = append(errs, errors.New("--db must be a postgres:// URL"))
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--public-url %q: want an http(s) URL", c.PublicURL))
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.LogFormat))
	}
	if _, err := nis2.ParseSizeRule(c.SizeRule); err != nil {
		errs = append(errs, fmt.Errorf("--size-rule %q: want strict or ccb_simplified", c.SizeRule))
	}
	if !nis2.MemberState(c.Jurisdiction) {
		errs = append(errs, fmt.Errorf("--jurisdiction %q: want the ISO code of an EU Member State, like BE", c.Jurisdiction))
	}
	if c.IndexRefresh < 100*time.Millisecond {
		errs = append(errs, errors.New("--index-refresh must be at least 100ms"))
	}
	if c.IdleTimeout < time.Minute {
		errs = append(errs, errors.New("--session-idle must be at least 1m"))
	}
	if _, err := reporting.ParseLeadTimes(c.ReportReminders); err != nil {
		errs = append(errs, fmt.Errorf("--report-reminders %q: %w", c.ReportReminders, err))
	}
	if n, err := reporting.ParseSize(c.AttachmentMaxSize); c.AttachmentMaxSize != "" && (err != nil || n > maxAttachmentSize) {
		errs = append(errs, fmt.Errorf("--attachment-max-size %q: want a size from 1 byte to 256MB, like 20MB", c.AttachmentMaxSize))
	}
	if c.FeedsWindow < 0 || c.FeedsWindow > 0 && c.FeedsWindow < time.Minute {
		errs = append(errs, fmt.Errorf("--feeds-window %s: want a duration of at least a minute, like 168h", c.FeedsWindow))
	}
	if c.FeedsRetention < 0 || c.FeedsRetention > 0 && c.FeedsRetention < max(c.FeedsWindow, 24*time.Hour) {
		errs = append(errs, fmt.Errorf("--feeds-retention %s: 0 (keep) or at least a day and the --feeds-window", c.FeedsRetention))
	}
	if c.FeedsDropWorkers < 0 || c.FeedsDropWorkers > 64 {
		errs = append(errs, fmt.Errorf("--feeds-dropdir-workers %d: want 1 to 64", c.FeedsDropWorkers))
	}
	if c.FeedsSMTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.FeedsSMTPAddr); err != nil {
			errs = append(errs, fmt.Errorf("--feeds-smtp-addr %q: want host:port", c.FeedsSMTPAddr))
		}
		if len(commaList(c.FeedsSMTPRecipients)) == 0 {
			errs = append(errs, errors.New("--feeds-smtp-addr needs --feeds-smtp-recipients: the addresses reports are sent to"))
		}
		if len(commaList(c.FeedsSMTPSenders)) == 0 && len(commaList(c.FeedsSMTPHosts)) == 0 {
			errs = append(errs, errors.New("--feeds-smtp-addr needs --feeds-smtp-senders or --feeds-smtp-hosts: an open intake is refused"))
		}
		for _, h := range commaList(c.FeedsSMTPHosts) {
			if _, err := parsePrefix(h); err != nil {
				errs = append(errs, fmt.Errorf("--feeds-smtp-hosts %q: want an IP address or prefix", h))
			}
		}
	}
	if (c.ShadowserverKey == "") != (c.ShadowserverSecret == "") {
		errs = append(errs, errors.New("--shadowserver-key and --shadowserver-secret go together"))
	}
	if c.ShadowserverKey != "" {
		if c.ShadowserverInterval < time.Minute {
			errs = append(errs, fmt.Errorf("--shadowserver-interval %s: at least 1m", c.ShadowserverInterval))
		}
		if c.ShadowserverDays < 0 || c.ShadowserverDays > 30 {
			errs = append(errs, fmt.Errorf("--shadowserver-days %d: want 0 to 30", c.ShadowserverDays))
		}
		for _, u := range []struct{ flag, v string }{{"--shadowserver-api-url", c.ShadowserverAPIURL}, {"--shadowserver-download-url", c.ShadowserverDownloadURL}} {
			if p, err := url.Parse(u.v); u.v != "" && (err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "") {
				errs = append(errs, fmt.Errorf("%s %q: want an http(s) URL", u.flag, u.v))
			}
		}
	}
	if c.CSAFPrefix != "" && !csafPrefix.MatchString(c.CSAFPrefix) {
		errs = append(errs, fmt.Errorf("--csaf-prefix %q: want letters, digits and hyphens, like CCB", c.CSAFPrefix))
	}
	if c.CSAFPublisherNamespace != "" {
		if u, err := url.Parse(c.CSAFPublisherNamespace); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--csaf-publisher-namespace %q: want an http(s) URL", c.CSAFPublisherNamespace))
		}
	}
	if c.CSAFContact != "" && !strings.HasPrefix(c.CSAFContact, "mailto:") && !strings.HasPrefix(c.CSAFContact, "https://") && !strings.HasPrefix(c.CSAFContact, "tel:") {
		errs = append(errs, fmt.Errorf("--csaf-contact %q: want a mailto:, https: or tel: URI", c.CSAFContact))
	}
	if c.SMTP.Host != "" {
		if err := c.SMTP.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

var csafPrefix = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*$`)

// Secure reports whether browsers reach Belfry over HTTPS.
func (c *Config) Secure() bool {
	return c.TLSCert != "" || strings.HasPrefix(c.PublicURL, "https://")
}

// Redacted returns the settings with secrets hidden, for `belfry config`.
func (c Config) Redacted() Config {
	if c.ShadowserverSecret != "" {
		c.ShadowserverSecret = "(redacted)"
	}
	if c.SMTP.Password != "" {
		c.SMTP.Password = "(redacted)"
	}
	if c.OIDC.ClientSecret != "" {
		c.OIDC.ClientSecret = "(redacted)"
	}
	if u, err := url.Parse(c.DB); err == nil && c.DB != "" {
		c.DB = u.Redacted()
	}
	return c
}

// parsePrefix reads an IP address or prefix.
func parsePrefix(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.ParsePrefix(s)
}
