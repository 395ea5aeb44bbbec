package registry

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
)

// recipient is someone the registry writes to about a registration.
type recipient struct{ email, locale string }

// recipients are the registration's regulatory contacts (NIS2 contact and
// registration manager), or else the organisation's administrators.
func recipients(ctx context.Context, q store.Querier, r *Registration) ([]recipient, error) {
	var out []recipient
	seen := map[string]bool{}
	for _, c := range r.Profile.Contacts {
		if (c.Role == RoleNIS2Contact || c.Role == RoleRegistrationManager) && !seen[c.Email] {
			seen[c.Email] = true
			out = append(out, recipient{c.Email, c.Language})
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, `SELECT u.email, u.locale FROM users u JOIN user_roles ur ON ur.user_id = u.id
		WHERE u.org_id = ? AND ur.role = ? AND NOT u.disabled ORDER BY u.id`, r.OrgID, string(auth.RoleOrgAdmin))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var x recipient
		if err := rows.Scan(&x.email, &x.locale); err != nil {
			return nil, err
		}
		if !seen[x.email] {
			seen[x.email] = true
			out = append(out, x)
		}
	}
	return out, rows.Err()
}

// tellEntity queues, in tx, the message key (KEY.subject, KEY.body) to the
// registration's recipients, each in their own language.
func (s *Service) tellEntity(ctx context.Context, tx *store.Tx, r *Registration, key string, args map[string]any) error {
	if s.mail == nil || s.cat == nil {
		return nil
	}
	to, err := recipients(ctx, tx, r)
	if err != nil {
		return err
	}
	for _, x := range to {
		l := x.locale
		if !i18n.Supported(l) {
			l = i18n.Default
		}
		a := map[string]any{"name": r.Name, "link": strings.TrimRight(s.cfg.BaseURL, "/") + "/" + l + "/registrations/" + itoa(r.OrgID)}
		for k, v := range args {
			if t, ok := v.(time.Time); ok {
				v = s.cat.DateTime(l, t) + " (" + t.UTC().Format("2006-01-02 15:04") + " UTC)"
			}
			a[k] = v
		}
		body := s.cat.T(l, key+".body", a) + "\n\n" + s.cat.T(l, "mail.auto_generated", nil) + "\n"
		if err := s.mail.Enqueue(ctx, tx, notify.Message{To: []string{x.email},
			Subject: "[Belfry] " + s.cat.T(l, key+".subject", a), Text: body}); err != nil {
			return err
		}
	}
	return nil
}

// SendReminders sends the reminders that are due and returns how many
// registrations were reminded:
//   - a change begun after approval, or corrections the authority asked
//     for, not submitted RemindBefore ahead of the legal deadline (two
//     weeks, NIS2 Art. 3(4); three months for Art. 27 entities, Art. 27(3));
//   - approved data not confirmed for ReviewAfter (a yearly check, so that
//     the registry stays current between changes).
//
// Each reminder is sent once per cycle: the row records when.
func (s *Service) SendReminders(ctx context.Context) (int, error) {
	now := s.tick()
	rows, err := s.db.Query(ctx, `SELECT org_id FROM registrations WHERE
		(status IN ('draft', 'changes_requested') AND change_started_at IS NOT NULL
			AND (reminded_at IS NULL OR reminded_at < change_started_at))
		OR (status = 'approved' AND approved_at < ? AND (reminded_at IS NULL OR reminded_at < approved_at))`,
		now.Add(-s.cfg.ReviewAfter))
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
	sent := 0
	for _, id := range ids {
		err := s.db.Tx(ctx, func(tx *store.Tx) error {
			r, err := regByOrg(ctx, tx, id)
			if err != nil {
				return err
			}
			var key string
			args := map[string]any{}
			switch {
			case r.Status == StatusApproved && r.ApprovedAt != nil && now.Sub(*r.ApprovedAt) >= s.cfg.ReviewAfter:
				key = "reg.mail.review_due"
				args["approved"] = *r.ApprovedAt
			case slices.Contains([]Status{StatusDraft, StatusChangesRequested}, r.Status) && r.ChangeStartedAt != nil:
				due := ChangeDeadline(r.Profile.Facts.EntityTypes, *r.ChangeStartedAt)
				if now.Before(due.Add(-s.cfg.RemindBefore)) {
					return nil
				}
				key, args["due"] = "reg.mail.change_due", due
			default:
				return nil
			}
			if _, err := tx.Exec(ctx, `UPDATE registrations SET reminded_at = ? WHERE org_id = ?`, now, id); err != nil {
				return err
			}
			sent++
			return s.tellEntity(ctx, tx, r.Registration, key, args)
		})
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// ReminderArgs is the periodic job that sends registry reminders.
type ReminderArgs struct{}

// Kind names the job.
func (ReminderArgs) Kind() string { return "registry.reminders" }

// ReminderWorker runs ReminderArgs.
type ReminderWorker struct {
	river.WorkerDefaults[ReminderArgs]
	Service *Service
}

// Work sends the due reminders.
func (w *ReminderWorker) Work(ctx context.Context, _ *river.Job[ReminderArgs]) error {
	if err := w.Service.PurgeSignups(ctx); err != nil {
		return err
	}
	n, err := w.Service.SendReminders(ctx)
	if n > 0 {
		w.Service.log.Info("registry reminders sent", "registrations", n)
	}
	return err
}
