package demo

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/earlywarning"
	"github.com/belfry-cert/belfry/internal/feeds"
	"github.com/belfry-cert/belfry/internal/registry"
)

// LoadFeeds gives the demo, once, a feed run of yesterday's Shadowserver
// findings (events built here, since Belfry does not ship Shadowserver's
// schema): exposed services and a sinkholed infection in Brabant Water's
// network, whose pending claims are approved first, and hosts nobody
// claims; then the early warning makes Brabant Water's first ticket, shown
// in the portal.
func LoadFeeds(ctx context.Context, reg *registry.Service, fs *feeds.Service, p *feeds.Pipeline, ew *earlywarning.Service) error {
	ctx = auth.With(ctx, auth.System)
	claims, _, err := reg.Claims(ctx, registry.ClaimFilter{Text: "192.0.2.0/24", Limit: 10})
	if err != nil {
		return err
	}
	var org int64
	for _, c := range claims {
		if c.Value != "192.0.2.0/24" {
			continue
		}
		org = c.OrgID
		if c.Status != "approved" {
			if _, err := reg.DecideClaim(ctx, c.ID, true, "Demo: verified against the RIPE database"); err != nil {
				return fmt.Errorf("demo: approve claim: %w", err)
			}
		}
	}
	if org == 0 {
		return fmt.Errorf("demo: Brabant Water's network claim is missing")
	}
	if err := reg.Index().Refresh(ctx, reg.LoadClaims); err != nil {
		return err
	}
	if _, n, err := fs.Runs(ctx, feeds.RunFilter{Limit: 1}); err != nil || n > 0 {
		return err // already loaded
	}
	day := time.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
	scan := func(ip string, port uint16, feed, name, identifier, sev string, at time.Duration) *feeds.Event {
		return &feeds.Event{Feed: feed, FeedName: name, Time: day.Add(at), Severity: sev, Taxonomy: "vulnerable", Type: "vulnerable-system",
			Identifier: identifier, SrcIP: netip.MustParseAddr(ip), SrcPort: port, SrcASN: 64501,
			Fields: []feeds.Field{{Key: "protocol.transport", Value: "tcp"}, {Key: "source.geolocation.cc", Value: "BE"}}}
	}
	events := []*feeds.Event{
		scan("192.0.2.10", 3389, "scan_rdp", "Accessible-RDP", "accessible-rdp", "high", 2*time.Hour),
		scan("192.0.2.11", 502, "scan_modbus", "Accessible-Modbus", "accessible-modbus", "critical", 3*time.Hour),
		scan("192.0.2.12", 443, "scan_http_vulnerable", "Vulnerable-HTTP", "vulnerable-http", "high", 4*time.Hour),
		{Feed: "event4_sinkhole_http", FeedName: "Sinkhole-HTTP-Events", Time: day.Add(5 * time.Hour), Severity: "critical",
			Taxonomy: "malicious-code", Type: "infected-system", Identifier: "sinkhole-http", SrcIP: netip.MustParseAddr("192.0.2.44"),
			SrcPort: 49152, DstIP: netip.MustParseAddr("198.51.100.200"), DstPort: 80,
			Fields: []feeds.Field{{Key: "malware.name", Value: "qakbot"}, {Key: "destination.fqdn", Value: "c2.example.net"}}},
		scan("203.0.113.200", 23, "scan_telnet", "Accessible-Telnet", "accessible-telnet", "medium", 6*time.Hour),
	}
	events[len(events)-1].SrcASN = 64511 // nobody's network
	parse := func(ctx context.Context, emit func(*feeds.Event) error, problem func(feeds.Problem) error) error {
		for _, e := range events {
			if err := emit(e); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := p.Run(ctx, feeds.RunInput{Source: "demo", Name: day.Format("2006-01-02") + "-demo-belgium-geo.csv"}, parse, nil); err != nil {
		return fmt.Errorf("demo: feed run: %w", err)
	}
	if _, err := ew.UpdateSettings(ctx, org, earlywarning.SettingsInput{Enabled: true, MinSeverity: "medium", Channel: "portal",
		Interval: "immediate"}); err != nil {
		return fmt.Errorf("demo: early warning settings: %w", err)
	}
	if _, err := ew.Dispatch(ctx); err != nil {
		return fmt.Errorf("demo: early warning: %w", err)
	}
	return nil
}
