package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/belfry-cert/belfry/internal/feeds/intake"
	"github.com/belfry-cert/belfry/internal/feeds/source"
	"github.com/belfry-cert/belfry/internal/store"
)

// startFeedSources starts the feed intake sources the settings ask for,
// each feeding report files to the Intake until ctx ends: the drop
// directory and the SMTP mailbox. A source that cannot start stops the
// start-up; so does a missing Shadowserver schema when a source is on,
// since every file would fail.
func (a *App) startFeedSources(ctx context.Context) error {
	c := a.Config
	if c.FeedsDropDir == "" && c.FeedsSMTPAddr == "" {
		return nil
	}
	if _, err := a.Intake.Schema().Load(); err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	if c.FeedsDropDir != "" {
		d, err := source.NewDropDir(source.DropDirOptions{Dir: c.FeedsDropDir, Instance: c.FeedsInstance, Workers: c.FeedsDropWorkers}, a.Log)
		if err != nil {
			return fmt.Errorf("--feeds-dropdir: %w", err)
		}
		go a.runSource(ctx, "drop directory", d)
		a.Log.Info("feeds: watching the drop directory", "dir", c.FeedsDropDir)
	}
	if c.FeedsSMTPAddr != "" {
		var hosts []netip.Prefix
		for _, h := range commaList(c.FeedsSMTPHosts) {
			p, err := parsePrefix(h)
			if err != nil {
				return fmt.Errorf("--feeds-smtp-hosts %q: %w", h, err)
			}
			hosts = append(hosts, p)
		}
		m, err := source.NewMailbox(source.MailboxOptions{Addr: c.FeedsSMTPAddr, Recipients: commaList(c.FeedsSMTPRecipients),
			Senders: commaList(c.FeedsSMTPSenders), Hosts: hosts}, a.Log)
		if err != nil {
			return fmt.Errorf("--feeds-smtp-addr: %w", err)
		}
		go a.runSource(ctx, "mailbox", m)
		a.Log.Info("feeds: receiving reports by e-mail", "addr", c.FeedsSMTPAddr)
	}
	return nil
}

// runSource runs one source until ctx ends, logging why it stopped early.
func (a *App) runSource(ctx context.Context, name string, s source.Source) {
	if err := s.Run(ctx, a.Intake.Handle); err != nil && ctx.Err() == nil {
		a.Log.Error("feeds: intake source stopped", "source", name, "err", err)
	}
}

// shadowserverPoll is the worker that polls the Shadowserver Reports API,
// or nil when no key is set.
func shadowserverPoll(c Config, db *store.DB, in *intake.Ingester, log *slog.Logger) (*intake.PollWorker, error) {
	if c.ShadowserverKey == "" {
		return nil, nil
	}
	client, err := source.NewShadowserver(source.ShadowserverOptions{Key: c.ShadowserverKey, Secret: c.ShadowserverSecret,
		APIURL: c.ShadowserverAPIURL, DownloadURL: c.ShadowserverDownloadURL, Reports: commaList(c.ShadowserverReports),
		Types: commaList(c.ShadowserverTypes), Days: c.ShadowserverDays, Interval: c.ShadowserverInterval}, intake.NewLedger(db), log)
	if err != nil {
		return nil, fmt.Errorf("--shadowserver-key: %w", err)
	}
	return &intake.PollWorker{Client: client, Ingester: in, Log: log}, nil
}
