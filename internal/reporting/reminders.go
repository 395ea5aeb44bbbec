package reporting

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
)

// This file sends e-mail reminders before each reporting deadline of an
// incident (NIS2 Art. 23(4)), and once when a stage becomes overdue.

// Mailer queues e-mail in a transaction; notify.Service implements it.
type Mailer interface {
	Enqueue(ctx context.Context, tx *store.Tx, m notify.Message) error
}

// DefaultReminderLeads are the lead times of --report-reminders.
const DefaultReminderLeads = "12h,2h"

const (
	// reminderWindow bounds the incidents looked at: every stage falls due
	// within about a month of awareness or of handling.
	reminderWindow = 62 * 24 * time.Hour
	// overdueWindow: a stage overdue for longer than this when first seen
	// (say, after the feature is switched on) gets no "overdue" mail.
	overdueWindow = 7 * 24 * time.Hour
	maxLead       = 30 * 24 * time.Hour
)

// ParseLeadTimes reads comma-separated lead times before a due time
// ("12h,2h", "1h30m"), each positive and at most 30 days, without
// repetition. An empty string, or "none", is no reminder ahead of a due
// time (the overdue one is still sent). The result is sorted, longest
// first.
func ParseLeadTimes(s string) ([]time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "none") {
		return nil, nil
	}
	var out []time.Duration
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		d, err := time.ParseDuration(part)
		switch {
		case err != nil:
			return nil, fmt.Errorf("%q is not a duration like 12h or 30m", part)
		case d <= 0:
			return nil, fmt.Errorf("%q: a lead time must be positive", part)
		case d > maxLead:
			return nil, fmt.Errorf("%q: a lead time may be at most 720h", part)
		case d%time.Second != 0:
			return nil, fmt.Errorf("%q: a lead time is whole seconds", part)
		case slices.Contains(out, d):
			return nil, fmt.Errorf("%q is given twice", part)
		}
		out = append(out, d)
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out, nil
}

// reminderConfig is what SetMail gives a service.
type reminderConfig struct {
	mail    Mailer
	cat     *i18n.Catalog
	baseURL string
	leads   []time.Duration
}

// SetMail lets the service send deadline reminders through mail, written
// from cat, with links under baseURL, leads ahead of each due time (see
// ParseLeadTimes). Without it, SendReminders sends nothing.
func (s *Service) SetMail(mail Mailer, cat *i18n.Catalog, baseURL string, leads []time.Duration) {
	leads = slices.Clone(leads)
	slices.Sort(leads)
	slices.Reverse(leads)
	s.reminders = &reminderConfig{mail: mail, cat: cat, baseURL: strings.TrimRight(baseURL, "/"), leads: leads}
}

func (s *Service) reminderConfig() *reminderConfig { return s.reminders }

// reminder is one mail about one stage of an incident.
type reminder struct {
	stage   Stage
	due     time.Time
	overdue bool
	leads   []time.Duration // the rows it records (0 for overdue)
}

// dueReminders lists the reminders that d calls for at now, before
// checking which were sent: for a pending stage, one mail for the lead
// times whose window has begun (the shortest names it, and the longer ones
// are recorded too, so that a late run does not send two); for a stage
// overdue for less than overdueWindow, one overdue mail. The authority's
// feedback (soft) and stages that do not apply are skipped.
func dueReminders(d *nis2.Deadlines, leads []time.Duration, now time.Time) []reminder {
	var out []reminder
	for _, x := range d.Stages {
		if x.Soft || !ValidStage(x.Stage) || x.Due.IsZero() {
			continue
		}
		switch x.Status {
		case nis2.Pending:
			var in []time.Duration
			for _, l := range leads {
				if !now.Before(x.Due.Add(-l)) && now.Before(x.Due) {
					in = append(in, l)
				}
			}
			if len(in) > 0 {
				out = append(out, reminder{stage: x.Stage, due: x.Due, leads: in})
			}
		case nis2.Overdue:
			if now.Sub(x.Due) < overdueWindow {
				out = append(out, reminder{stage: x.Stage, due: x.Due, overdue: true, leads: []time.Duration{0}})
			}
		}
	}
	return out
}

// SendReminders sends the deadline reminders that are due and returns how
// many it sent (one per stage and due time reminded, whatever the number
// of recipients). For each incident of the last two months it computes the
// deadlines now; a stage not yet submitted gets a "due soon" mail when a
// lead time before its due time begins, and an "overdue" mail once its due
// time passes. A row of report_reminders per (stage, lead time, due time)
// is written in the same transaction as the mails are queued, so that no
// reminder goes twice, even from several instances, and none is lost; a
// due time that moves reminds again.
func (s *Service) SendReminders(ctx context.Context) (int, error) {
	cfg := s.reminderConfig()
	if cfg == nil || cfg.mail == nil || cfg.cat == nil {
		return 0, nil
	}
	now := s.tick()
	since := now.Add(-reminderWindow)
	rows, err := s.db.Query(ctx, `SELECT id FROM incidents WHERE aware_at >= ? OR handled_at >= ? ORDER BY id`, since, since)
	if err != nil {
		return 0, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	sys := auth.With(ctx, auth.System)
	sent := 0
	var errList []error
	for _, id := range ids {
		n := 0
		err := s.db.Tx(ctx, func(tx *store.Tx) error {
			n = 0
			in, err := s.incident(sys, tx, id)
			if err != nil {
				return err
			}
			if err := in.computeDeadlines(now); err != nil {
				return err
			}
			var to []recipient
			for _, r := range dueReminders(in.Deadlines, cfg.leads, now) {
				fresh := false
				for _, l := range r.leads {
					res, err := tx.Exec(ctx, `INSERT INTO report_reminders (incident_id, stage, lead_seconds, due_at, sent_at)
						VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, id, string(r.stage), int64(l/time.Second), r.due.UTC(), now)
					if err != nil {
						return err
					}
					if k, err := res.RowsAffected(); err != nil {
						return err
					} else if k > 0 && l == r.leads[len(r.leads)-1] {
						// The shortest lead time names the mail; had it been
						// sent, the longer ones were recorded with it.
						fresh = true
					}
				}
				if !fresh {
					continue
				}
				if to == nil {
					if to, err = reminderRecipients(ctx, tx, in.OrgID); err != nil {
						return err
					}
				}
				if err := s.tellReminder(ctx, tx, cfg, in, r, to); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			errList = append(errList, fmt.Errorf("reporting: reminders of incident %d: %w", id, err))
			continue
		}
		sent += n
	}
	return sent, errors.Join(errList...)
}

// recipient is someone reminded of an incident's deadlines.
type recipient struct{ email, locale string }

// reminderRecipients are the organisation's members and administrators
// who are not disabled, each in their language, and the 24/7 incident
// contacts of its registration, without repeating an address.
func reminderRecipients(ctx context.Context, q store.Querier, org int64) ([]recipient, error) {
	out := []recipient{}
	seen := map[string]bool{}
	add := func(email, locale string) {
		email = strings.TrimSpace(email)
		if k := strings.ToLower(email); email != "" && !seen[k] {
			seen[k] = true
			out = append(out, recipient{email, locale})
		}
	}
	rows, err := q.Query(ctx, `SELECT u.email, u.locale FROM users u WHERE u.org_id = ? AND NOT u.disabled
		AND EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role IN (?, ?)) ORDER BY u.id`,
		org, string(auth.RoleMember), string(auth.RoleOrgAdmin))
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var x recipient
		if err := rows.Scan(&x.email, &x.locale); err != nil {
			rows.Close()
			return nil, err
		}
		add(x.email, x.locale)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var data string
	err = q.QueryRow(ctx, `SELECT data FROM registrations WHERE org_id = ?`, org).Scan(&data)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return out, nil
		}
		return nil, err
	}
	type contact struct{ Role, Email, Language string }
	var reg struct {
		Contacts []contact `json:"contacts"`
		Profile  struct {
			Contacts []contact `json:"contacts"`
		} `json:"profile"`
	}
	if err := json.Unmarshal([]byte(data), &reg); err != nil {
		return nil, fmt.Errorf("registration %d data: %w", org, err)
	}
	for _, c := range append(reg.Contacts, reg.Profile.Contacts...) {
		if c.Role == "incident_24x7" {
			add(c.Email, c.Language)
		}
	}
	return out, nil
}

// tellReminder queues, in tx, the reminder r about in to each recipient
// in their own language (English when theirs is not supported).
func (s *Service) tellReminder(ctx context.Context, tx *store.Tx, cfg *reminderConfig, in *Incident, r reminder, to []recipient) error {
	key := "rep.mail.due_soon"
	if r.overdue {
		key = "rep.mail.overdue"
	}
	title := strings.Join(strings.Fields(in.Title), " ") // a subject is one line
	for _, x := range to {
		l := x.locale
		if !i18n.Supported(l) {
			l = i18n.Default
		}
		a := map[string]any{
			"ref":   in.Ref,
			"title": title,
			"stage": cfg.cat.T(l, r.stage.LabelKey(), nil),
			"due":   cfg.cat.DateTime(l, r.due) + " (" + r.due.UTC().Format("2006-01-02 15:04") + " UTC)",
			"link":  cfg.baseURL + "/" + l + "/incidents/" + itoa(in.ID),
		}
		body := cfg.cat.T(l, key+".body", a) + "\n\n" + cfg.cat.T(l, "mail.auto_generated", nil) + "\n"
		if err := cfg.mail.Enqueue(ctx, tx, notify.Message{To: []string{x.email},
			Subject: "[Belfry] " + cfg.cat.T(l, key+".subject", a), Text: body}); err != nil {
			return err
		}
	}
	return nil
}

// ReminderArgs is the periodic job that sends deadline reminders.
type ReminderArgs struct{}

// Kind names the job.
func (ReminderArgs) Kind() string { return "reporting.reminders" }

// ReminderWorker runs ReminderArgs.
type ReminderWorker struct {
	river.WorkerDefaults[ReminderArgs]
	Service *Service
}

// Work sends the due reminders.
func (w *ReminderWorker) Work(ctx context.Context, _ *river.Job[ReminderArgs]) error {
	n, err := w.Service.SendReminders(ctx)
	if n > 0 {
		w.Service.log.Info("reporting deadline reminders sent", "reminders", n)
	}
	return err
}
