package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"

	"github.com/belfry-cert/belfry/internal/advisory"
	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/cases"
	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/crisis"
	"github.com/belfry-cert/belfry/internal/earlywarning"
	"github.com/belfry-cert/belfry/internal/feeds"
	"github.com/belfry-cert/belfry/internal/feeds/formats"
	"github.com/belfry-cert/belfry/internal/feeds/intake"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/jobs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/registry"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/voluntary"
	"github.com/belfry-cert/belfry/internal/web"
)

// App is one running Belfry instance.
type App struct {
	Config   Config
	Log      *slog.Logger
	DB       *store.DB
	Catalog  *i18n.Catalog
	Identity *identity.Service
	Registry *registry.Service
	Reports  *reporting.Service
	Notify   *notify.Service
	Jobs     *jobs.Queue
	Web      *web.Server
	Metrics  *prometheus.Registry
	handler  http.Handler

	// Cases are the CSIRT's cases (issue 6).
	Cases *cases.Service

	// Crises are national crisis coordination (issue 6).
	Crises *crisis.Service

	// Advisories are the CSIRT's CSAF advisories and provider tree.
	Advisories *advisory.Service

	// Voluntary is the intake of voluntary notifications (NIS2 Art. 30).
	Voluntary *voluntary.Service

	// EarlyWarning notifies organisations of their feed events.
	EarlyWarning *earlywarning.Service

	// Feeds shows the feed runs and events (issue 5); Intake reads report
	// files into the feeds pipeline (feeds.go).
	Feeds  *feeds.Service
	Intake *intake.Ingester
}

// NewLogger returns the logger the settings ask for, writing to w.
func NewLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// OpenDB opens and migrates the database the settings name.
func OpenDB(ctx context.Context, cfg Config) (*store.DB, error) {
	db, err := store.Open(ctx, store.Config{URL: cfg.DB, DataDir: cfg.DataDir, SQLiteSync: cfg.SQLiteSync})
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := jobs.Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// purgeArgs is the periodic job that deletes expired sessions.
type purgeArgs struct{}

func (purgeArgs) Kind() string { return "identity.purge_sessions" }

type purgeWorker struct {
	river.WorkerDefaults[purgeArgs]
	svc *identity.Service
}

func (w *purgeWorker) Work(ctx context.Context, _ *river.Job[purgeArgs]) error {
	_, err := w.svc.PurgeExpired(ctx)
	return err
}

// New builds an instance on an open database.
func New(ctx context.Context, cfg Config, log *slog.Logger, db *store.DB) (*App, error) {
	cat, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Log: log, DB: db, Catalog: cat, Metrics: prometheus.NewRegistry()}
	a.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	a.Notify = notify.New(cfg.SMTP, cat, log)
	a.Identity = identity.NewService(db, log, identity.Config{IdleTimeout: cfg.IdleTimeout, Issuer: "Belfry (" + cfg.Authority + ")"}, a.Notify)
	baseURL := cfg.PublicURL
	if baseURL == "" {
		// Without --public-url, links in e-mail use the listening address.
		baseURL = "http://" + cfg.Addr
		if cfg.TLSCert != "" {
			baseURL = "https://" + cfg.Addr
		}
	}
	a.Registry = registry.NewService(db, log, registry.Config{
		Options: nis2.Options{SizeRule: nis2.SizeRule(cfg.SizeRule), Jurisdiction: cfg.Jurisdiction, ResearchInScope: cfg.ResearchInScope},
		BaseURL: baseURL, Authority: cfg.Authority}, a.Notify, constituency.NewIndex(), cat)
	if err := a.Registry.Index().Refresh(ctx, a.Registry.LoadClaims); err != nil {
		return nil, fmt.Errorf("constituency index: %w", err)
	}
	a.Reports = reporting.NewService(db, log)
	leads, err := reporting.ParseLeadTimes(cfg.ReportReminders)
	if err != nil {
		return nil, fmt.Errorf("--report-reminders: %w", err)
	}
	a.Reports.SetMail(a.Notify, cat, baseURL, leads)
	dataKey, err := configureAttachments(ctx, db, a.Reports, cfg, log) // keyfile.go
	if err != nil {
		return nil, err
	}
	if a.Advisories, err = newAdvisories(cfg, db, log, dataKey, baseURL); err != nil { // advisories.go
		return nil, err
	}
	a.Advisories.SetMail(a.Notify, cat)
	a.Cases = cases.NewService(db, log, a.Reports)
	a.Cases.SetCatalog(cat)
	a.Cases.SetMessageMail(a.Notify, baseURL)
	if err := a.Cases.SetAttachmentKey(dataKey); err != nil {
		return nil, err
	}
	a.Crises = crisis.NewService(db, log)
	a.Crises.SetMail(a.Notify, cat, baseURL)
	a.Voluntary = voluntary.NewService(db, log)
	a.Voluntary.SetMail(a.Notify, cat, baseURL)
	a.EarlyWarning = earlywarning.NewService(db, log, cat, baseURL)
	stages := feeds.NewStageMetrics(a.Metrics)
	a.Intake = intake.New(feeds.NewPipeline(db, a.Registry.Index(), log, feeds.Options{Window: cfg.FeedsWindow, Observe: stages.Observe}),
		intake.NewSchema(cfg.FeedsSchemaFile()), log)
	workers := jobs.NewWorkers()
	periodic := []*jobs.Periodic{jobs.Every(15*time.Minute, purgeArgs{}), jobs.Every(time.Hour, registry.ReminderArgs{}),
		jobs.Every(5*time.Minute, reporting.ReminderArgs{}), jobs.Every(time.Hour, voluntary.PurgeArgs{}), earlywarning.Periodic()}
	if cfg.FeedsRetention > 0 {
		river.AddWorker(workers, &feeds.PurgeWorker{DB: db, Retention: cfg.FeedsRetention, Log: log})
		periodic = append(periodic, jobs.Every(time.Hour, feeds.PurgeArgs{}))
	}
	if poll, err := shadowserverPoll(cfg, db, a.Intake, log); err != nil { // feeds.go
		return nil, err
	} else if poll != nil {
		river.AddWorker(workers, poll)
		periodic = append(periodic, jobs.Every(cfg.ShadowserverInterval, intake.PollArgs{}))
	}
	river.AddWorker(workers, &advisory.PublishWorker{Service: a.Advisories})
	river.AddWorker(workers, &cases.ReminderWorker{Service: a.Cases, Mail: a.Notify, BaseURL: baseURL})
	periodic = append(periodic, jobs.Every(5*time.Minute, cases.ReminderArgs{}))
	periodic = append(periodic, jobs.Every(time.Minute, advisory.PublishArgs{}))
	a.EarlyWarning.Register(workers)
	a.Notify.Register(workers)
	river.AddWorker(workers, &purgeWorker{svc: a.Identity})
	river.AddWorker(workers, &registry.ReminderWorker{Service: a.Registry})
	river.AddWorker(workers, &reporting.ReminderWorker{Service: a.Reports})
	river.AddWorker(workers, &voluntary.PurgeWorker{Service: a.Voluntary})
	a.Jobs, err = jobs.New(db, log, workers, jobs.Options{Work: cfg.Workers, Periodic: periodic})
	if err != nil {
		return nil, err
	}
	a.Notify.SetQueue(a.Jobs)
	a.EarlyWarning.SetDelivery(a.Notify, a.Jobs)

	if cfg.OIDC.Issuer != "" {
		o, err := identity.NewOIDC(ctx, cfg.OIDC, &http.Client{Timeout: 15 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("single sign-on: %w", err)
		}
		a.Identity.SetOIDC(o)
	}

	key, err := secretSetting(ctx, db, "csrf_key")
	if err != nil {
		return nil, err
	}
	a.Web = web.NewServer(web.Config{Secure: cfg.Secure(), TrustProxy: cfg.TrustProxy, Authority: cfg.Authority,
		CERTPhone: cfg.CERTPhone, IdleTimeout: cfg.IdleTimeout, CSRFKey: key}, log, cat, a.Identity, a.Metrics, db.Ping)
	a.Identity.Routes(a.Web)
	a.Identity.OIDCRoutes(a.Web)
	audit.Routes(a.Web, db)
	a.Registry.Routes(a.Web)
	a.Reports.Routes(a.Web)
	a.Reports.PageRoutes(a.Web)
	a.Reports.InboxRoutes(a.Web)
	a.Reports.SummaryRoutes(a.Web)
	a.Reports.RequestRoutes(a.Web)
	a.Reports.ShareRoutes(a.Web)
	a.Reports.SupervisionRoutes(a.Web)
	a.Reports.AttachmentRoutes(a.Web)
	a.Voluntary.Routes(a.Web)
	a.Advisories.Routes(a.Web)
	a.Cases.Routes(a.Web)
	a.Crises.Routes(a.Web)
	a.EarlyWarning.Routes(a.Web)
	a.Feeds = feeds.NewService(db, log)
	a.Feeds.Routes(a.Web)
	formats.NewMappingService(db, log).Routes(a.Web)
	a.Metrics.MustRegister(a.Feeds.Collector())
	h, err := a.Web.Handler()
	if err != nil {
		return nil, err
	}
	a.handler = a.withMetricsEndpoint(h)
	return a, nil
}

func (a *App) withMetricsEndpoint(h http.Handler) http.Handler {
	mh := promhttp.HandlerFor(a.Metrics, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" && r.Method == http.MethodGet {
			mh.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Handler is the instance's complete HTTP handler.
func (a *App) Handler() http.Handler { return a.handler }

// secretSetting returns a random key kept in the settings table, creating
// it on first use, so that every instance on one database shares it.
func secretSetting(ctx context.Context, db *store.DB, name string) ([]byte, error) {
	b := make([]byte, 32)
	rand.Read(b)
	err := db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, name, hex.EncodeToString(b))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	var v string
	if err := db.QueryRow(ctx, `SELECT value FROM settings WHERE key = ?`, name).Scan(&v); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("settings: %s missing", name)
		}
		return nil, err
	}
	return hex.DecodeString(v)
}

// Serve runs the HTTP server and the job queue until ctx ends, then shuts
// both down gracefully: in-flight requests and jobs get 20 seconds. ready,
// if not nil, receives the listening address.
func (a *App) Serve(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.Config.Addr, err)
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	if a.Config.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(a.Config.TLSCert, a.Config.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("tls: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	if err := a.Jobs.Start(ctx); err != nil {
		ln.Close()
		return fmt.Errorf("jobs: %w", err)
	}
	// Claims approved on another instance reach this one's index within
	// one refresh interval.
	go a.Registry.RunIndex(ctx, a.Config.IndexRefresh)
	if err := a.startFeedSources(ctx); err != nil {
		ln.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.Jobs.Stop(sctx)
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	scheme := "http"
	if a.Config.TLSCert != "" {
		scheme = "https"
	}
	a.Log.Info("belfry listening", "url", scheme+"://"+ln.Addr().String(), "database", a.DB.Dialect().String(), "workers", a.Config.Workers)
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if jerr := a.Jobs.Stop(sctx); jerr != nil && !strings.Contains(jerr.Error(), "not started") {
		err = errors.Join(err, jerr)
	}
	return err
}
