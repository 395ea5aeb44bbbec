// Package earlywarning notifies organisations of the feed events that
// concern them (issue 5): each organisation's settings (report types,
// minimum severity, channel, interval, recipients), its inhibitions, and
// the tickets that carry its new events to it by e-mail (a digest with a
// CSV file, OpenPGP-encrypted to a contact's key), by webhook (signed
// JSON) or only in the portal. The feeds pipeline stores the events;
// Dispatch, a periodic job, turns the pending ones into tickets.
package earlywarning

import (
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/errs"
)

// Severities in increasing order; an event without a severity counts as
// info.
var Severities = []string{"info", "low", "medium", "high", "critical"}

// Channels say how a ticket reaches the organisation.
var Channels = []string{ChannelEmail, ChannelWebhook, ChannelPortal}

// The channels.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
	ChannelPortal  = "portal"
)

// Intervals say how often an organisation gets a ticket at most.
var Intervals = []string{"immediate", "hourly", "daily"}

// Ticket statuses: queued (deliveries pending or being retried), sent
// (every delivery done), failed (a delivery gave up, or nobody to send
// to), portal (shown in the portal only).
const (
	StatusQueued = "queued"
	StatusSent   = "sent"
	StatusFailed = "failed"
	StatusPortal = "portal"
)

// Limits.
const (
	maxReportTypes  = 200
	maxRecipients   = 20
	minSecret       = 16
	maxSecret       = 200
	maxReason       = 1000
	maxInhibitFor   = 366 * 24 * time.Hour
	maxTicketEvents = 10000
)

// severityRank orders a severity; unknown and empty ones are info.
func severityRank(s string) int {
	if i := slices.Index(Severities, strings.ToLower(s)); i >= 0 {
		return i
	}
	return 0
}

// every returns how long after a ticket the next one may be made.
func every(interval string) time.Duration {
	switch interval {
	case "hourly":
		return time.Hour
	case "daily":
		return 24 * time.Hour
	}
	return 0
}

// Settings are an organisation's notification settings. Without saved
// settings an organisation gets DefaultSettings.
type Settings struct {
	OrgID   int64 `json:"org_id"`
	Enabled bool  `json:"enabled"`
	// ReportTypes are the report types notified (feed codes such as
	// scan_http); empty is all.
	ReportTypes []string `json:"report_types"`
	MinSeverity string   `json:"min_severity"`
	Channel     string   `json:"channel"`
	Interval    string   `json:"interval"`
	// Recipients of the e-mail digest; empty is the registration's
	// contacts with the 24/7 incident or technical alerts role (or, without
	// any, the organisation's administrators).
	Recipients       []string   `json:"recipients"`
	WebhookURL       string     `json:"webhook_url"`
	WebhookSecretSet bool       `json:"webhook_secret_set"`
	Saved            bool       `json:"saved"` // false: the defaults, never saved
	UpdatedAt        *time.Time `json:"updated_at,omitempty"`

	secret string
}

// DefaultSettings are the settings of an organisation that saved none:
// every report type and severity, an hourly e-mail digest to its contacts.
func DefaultSettings(org int64) *Settings {
	return &Settings{OrgID: org, Enabled: true, ReportTypes: []string{}, MinSeverity: "info", Channel: ChannelEmail, Interval: "hourly",
		Recipients: []string{}}
}

// accepts reports whether e passes the report type and severity filters.
func (s *Settings) accepts(e *Event) bool {
	if len(s.ReportTypes) > 0 && !slices.Contains(s.ReportTypes, e.ReportType) {
		return false
	}
	return severityRank(e.Severity) >= severityRank(s.MinSeverity)
}

// SettingsInput replaces an organisation's settings. An empty
// WebhookSecret keeps the one saved.
type SettingsInput struct {
	Enabled       bool     `json:"enabled"`
	ReportTypes   []string `json:"report_types"`
	MinSeverity   string   `json:"min_severity"`
	Channel       string   `json:"channel"`
	Interval      string   `json:"interval"`
	Recipients    []string `json:"recipients"`
	WebhookURL    string   `json:"webhook_url"`
	WebhookSecret string   `json:"webhook_secret"`
}

var reportTypeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// normalise cleans in and collects its errors in v; hasSecret says
// whether a webhook secret is already saved.
func (in *SettingsInput) normalise(v *errs.Validator, hasSecret bool) {
	in.MinSeverity = strings.ToLower(strings.TrimSpace(in.MinSeverity))
	if in.MinSeverity == "" {
		in.MinSeverity = "info"
	}
	v.Check(slices.Contains(Severities, in.MinSeverity), "min_severity", "err.ew.severity_invalid")
	in.Channel = strings.TrimSpace(in.Channel)
	v.Check(slices.Contains(Channels, in.Channel), "channel", "err.ew.channel_invalid")
	in.Interval = strings.TrimSpace(in.Interval)
	v.Check(slices.Contains(Intervals, in.Interval), "interval", "err.ew.interval_invalid")

	types := []string{}
	for _, t := range in.ReportTypes {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || slices.Contains(types, t) {
			continue
		}
		if !reportTypeRE.MatchString(t) {
			v.Add("report_types", "err.ew.report_type_invalid", map[string]any{"value": t})
			continue
		}
		types = append(types, t)
	}
	v.Check(len(types) <= maxReportTypes, "report_types", "err.ew.report_types_too_many")
	slices.Sort(types)
	in.ReportTypes = types

	rcpt := []string{}
	for _, r := range in.Recipients {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		a, err := mail.ParseAddress(r)
		if err != nil || a.Name != "" || a.Address != r {
			v.Add("recipients", "err.ew.recipient_invalid", map[string]any{"value": r})
			continue
		}
		if !slices.ContainsFunc(rcpt, func(x string) bool { return strings.EqualFold(x, r) }) {
			rcpt = append(rcpt, r)
		}
	}
	v.Check(len(rcpt) <= maxRecipients, "recipients", "err.ew.recipients_too_many")
	in.Recipients = rcpt

	in.WebhookURL = strings.TrimSpace(in.WebhookURL)
	if in.WebhookURL != "" {
		u, err := url.Parse(in.WebhookURL)
		v.Check(err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil && u.Fragment == "" && len(in.WebhookURL) <= 500,
			"webhook_url", "err.ew.webhook_url_invalid")
	}
	if in.WebhookSecret != "" {
		v.Check(len(in.WebhookSecret) >= minSecret && len(in.WebhookSecret) <= maxSecret && !strings.ContainsAny(in.WebhookSecret, "\r\n"),
			"webhook_secret", "err.ew.webhook_secret_invalid")
	}
	if in.Channel == ChannelWebhook {
		v.Check(in.WebhookURL != "", "webhook_url", "err.ew.webhook_url_required")
		v.Check(in.WebhookSecret != "" || hasSecret, "webhook_secret", "err.ew.webhook_secret_required")
	}
}

// Inhibition suppresses an organisation's events until it expires: those
// about a prefix (source or destination address inside it), of a report
// type, or both; with neither, every event.
type Inhibition struct {
	ID         int64     `json:"id"`
	OrgID      int64     `json:"org_id"`
	Prefix     string    `json:"prefix,omitempty"`
	ReportType string    `json:"report_type,omitempty"`
	Reason     string    `json:"reason"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Active     bool      `json:"active"`

	prefix netip.Prefix
}

// matches reports whether in suppresses e.
func (in *Inhibition) matches(e *Event) bool {
	if in.ReportType != "" && in.ReportType != e.ReportType {
		return false
	}
	if in.Prefix == "" {
		return true
	}
	for _, s := range []string{e.SrcIP, e.DstIP} {
		if a, err := netip.ParseAddr(s); err == nil && in.prefix.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// InhibitionInput adds an inhibition.
type InhibitionInput struct {
	Prefix     string    `json:"prefix"`
	ReportType string    `json:"report_type"`
	Reason     string    `json:"reason"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// normalise cleans in: an address becomes its host prefix, a prefix its
// masked form.
func (in *InhibitionInput) normalise(v *errs.Validator, now time.Time) {
	in.Prefix = strings.TrimSpace(in.Prefix)
	if in.Prefix != "" {
		if p, err := netip.ParsePrefix(in.Prefix); err == nil && !p.Addr().Is4In6() {
			in.Prefix = p.Masked().String()
		} else if a, err := netip.ParseAddr(in.Prefix); err == nil {
			a = a.Unmap()
			in.Prefix = netip.PrefixFrom(a, a.BitLen()).String()
		} else {
			v.Add("prefix", "err.ew.prefix_invalid", nil)
		}
	}
	in.ReportType = strings.ToLower(strings.TrimSpace(in.ReportType))
	if in.ReportType != "" {
		v.Check(reportTypeRE.MatchString(in.ReportType), "report_type", "err.ew.report_type_invalid")
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if v.Check(in.Reason != "", "reason", "err.ew.reason_required") {
		v.Check(len(in.Reason) <= maxReason, "reason", "err.ew.reason_too_long")
	}
	switch {
	case in.ExpiresAt.IsZero():
		v.Add("expires_at", "err.ew.expires_required", nil)
	case !in.ExpiresAt.After(now):
		v.Add("expires_at", "err.ew.expires_past", nil)
	case in.ExpiresAt.After(now.Add(maxInhibitFor)):
		v.Add("expires_at", "err.ew.expires_too_far", nil)
	}
	in.ExpiresAt = in.ExpiresAt.UTC().Truncate(time.Microsecond)
}

// Ticket is one notification of an organisation: its events, sent once.
type Ticket struct {
	ID      int64  `json:"id"`
	Ref     string `json:"ref"`
	OrgID   int64  `json:"org_id"`
	OrgName string `json:"org_name"`
	Channel string `json:"channel"`
	Events  int    `json:"events"`
	// Deliveries is the number of messages (e-mails or webhook calls) of
	// the ticket; Delivered those done.
	Deliveries int    `json:"deliveries"`
	Delivered  int    `json:"delivered"`
	Status     string `json:"status"`
	Attempts   int    `json:"attempts"`
	Error      string `json:"error,omitempty"`
	// SHA256 is the hash of what was sent: the webhook's body, or the CSV
	// file of the events (e-mail attachment before encryption, and the
	// portal's download).
	SHA256    string     `json:"sha256"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
}

// Event is a feed event of a ticket.
type Event struct {
	ID           int64
	ReportType   string
	Time         *time.Time
	Severity     string
	Taxonomy     string
	Type         string
	Identifier   string
	SrcIP        string
	SrcPort      int
	SrcASN       int64
	SrcFQDN      string
	DstIP        string
	DstPort      int
	DstASN       int64
	DstFQDN      string
	MatchedOn    string
	MatchedValue string
	Fields       string // JSON object of the other IntelMQ fields
}
