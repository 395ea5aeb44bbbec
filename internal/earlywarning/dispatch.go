package earlywarning

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/store"
)

// Withheld reasons of an event that is never sent.
const (
	WithheldFiltered  = "filtered"  // not in the report types, or below the minimum severity
	WithheldInhibited = "inhibited" // suppressed by an inhibition (inhibition_id)
	WithheldDisabled  = "disabled"  // the organisation had notifications off
)

// pendingWhere selects the pending events; it repeats the predicate of the
// partial index feed_events_pending word for word, so that SQLite uses it.
const pendingWhere = `notify AND ticket_id IS NULL AND withheld = ''`

// lockBase and the organisation's id make the advisory lock of its
// dispatch ("ew" in the high bytes).
const lockBase = int64(0x6577) << 40

// Dispatch makes the tickets that are due: for every organisation with
// pending events whose interval has elapsed since its last ticket, the
// events passing its settings and no inhibition go into one new ticket,
// whose delivery is queued in the same transaction. It returns the number
// of tickets made. Running it twice, or on two instances at once, makes
// no ticket twice: each organisation is handled under a lock, and its
// pending events are read again under it.
func (s *Service) Dispatch(ctx context.Context) (int, error) {
	orgs, err := s.pendingOrgs(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var errList []error
	for _, org := range orgs {
		made, err := s.dispatchOrg(ctx, org)
		if err != nil {
			errList = append(errList, fmt.Errorf("earlywarning: dispatch organisation %d: %w", org, err))
			continue
		}
		if made {
			n++
		}
	}
	return n, errors.Join(errList...)
}

func (s *Service) pendingOrgs(ctx context.Context) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT org_id FROM feed_events WHERE `+pendingWhere+` AND org_id IS NOT NULL ORDER BY org_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// dispatchOrg makes org's ticket if one is due, and reports whether it
// did.
func (s *Service) dispatchOrg(ctx context.Context, org int64) (bool, error) {
	ctx = auth.With(ctx, auth.System)
	now := s.tick()
	made := false
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		made = false
		if err := tx.Lock(ctx, lockBase+org); err != nil {
			return err
		}
		set, err := loadSettings(ctx, tx, org)
		if err != nil {
			return err
		}
		if set.Enabled {
			var last time.Time
			err := tx.QueryRow(ctx, `SELECT created_at FROM feed_tickets WHERE org_id = ? ORDER BY created_at DESC LIMIT 1`, org).Scan(&last)
			if err == nil && now.Before(last.Add(every(set.Interval))) {
				return nil // the interval has not elapsed
			}
		}
		evs, err := loadEvents(ctx, tx, `org_id = ? AND `+pendingWhere+` ORDER BY id LIMIT ?`, org, maxTicketEvents)
		if err != nil || len(evs) == 0 {
			return err
		}
		send, err := s.withhold(ctx, tx, set, evs, now)
		if err != nil || len(send) == 0 {
			return err
		}
		if err := s.makeTicket(ctx, tx, set, send, now); err != nil {
			return err
		}
		made = true
		return nil
	})
	return made, err
}

// withhold marks the events that are never sent and returns the others.
func (s *Service) withhold(ctx context.Context, tx *store.Tx, set *Settings, evs []Event, now time.Time) ([]Event, error) {
	if !set.Enabled {
		return nil, markWithheld(ctx, tx, ids(evs), WithheldDisabled, 0)
	}
	inh, err := activeInhibitions(ctx, tx, set.OrgID, now)
	if err != nil {
		return nil, err
	}
	var send []Event
	var filtered []int64
	inhibited := map[int64][]int64{}
	for i := range evs {
		e := &evs[i]
		if !set.accepts(e) {
			filtered = append(filtered, e.ID)
			continue
		}
		hit := int64(0)
		for j := range inh {
			if inh[j].matches(e) {
				hit = inh[j].ID
				break
			}
		}
		if hit != 0 {
			inhibited[hit] = append(inhibited[hit], e.ID)
			continue
		}
		send = append(send, *e)
	}
	if err := markWithheld(ctx, tx, filtered, WithheldFiltered, 0); err != nil {
		return nil, err
	}
	for id, list := range inhibited {
		if err := markWithheld(ctx, tx, list, WithheldInhibited, id); err != nil {
			return nil, err
		}
	}
	return send, nil
}

func ids(evs []Event) []int64 {
	out := make([]int64, len(evs))
	for i := range evs {
		out[i] = evs[i].ID
	}
	return out
}

// inChunks runs fn on ids by slices of at most 500, with their
// placeholders.
func inChunks(ids []int64, fn func(ph string, args []any) error) error {
	for len(ids) > 0 {
		n := min(500, len(ids))
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		if err := fn(store.Placeholders(n), args); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

func markWithheld(ctx context.Context, tx *store.Tx, list []int64, why string, inhibition int64) error {
	return inChunks(list, func(ph string, args []any) error {
		_, err := tx.Exec(ctx, `UPDATE feed_events SET withheld = ?, inhibition_id = ? WHERE id IN (`+ph+`)`,
			append([]any{why, nullID(inhibition)}, args...)...)
		return err
	})
}

// makeTicket creates the ticket of evs, links them to it and queues its
// delivery, in tx.
func (s *Service) makeTicket(ctx context.Context, tx *store.Tx, set *Settings, evs []Event, now time.Time) error {
	org := set.OrgID
	name, err := orgName(ctx, tx, org)
	if err != nil {
		return err
	}
	year := now.In(brussels).Format("2006")
	var n int64
	if err := tx.QueryRow(ctx, `INSERT INTO counters (name, value) VALUES (?, 1)
		ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`, "feed-ticket-"+year).Scan(&n); err != nil {
		return err
	}
	t := &Ticket{Ref: fmt.Sprintf("EW-%s-%06d", year, n), OrgID: org, OrgName: name, Channel: set.Channel, Events: len(evs),
		Status: StatusQueued, CreatedAt: now}
	if t.Channel == ChannelPortal {
		t.Status, t.SentAt = StatusPortal, &now
	}
	var content []byte
	if t.Channel == ChannelWebhook {
		content, err = webhookBody(t, evs)
	} else {
		content, err = eventsCSV(evs)
	}
	if err != nil {
		return err
	}
	sum := sha256.Sum256(content)
	t.SHA256 = hex.EncodeToString(sum[:])
	if err := tx.QueryRow(ctx, `INSERT INTO feed_tickets (ref, org_id, channel, events, status, sha256, created_at, sent_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, t.Ref, org, t.Channel, t.Events, t.Status, t.SHA256, now, t.SentAt).Scan(&t.ID); err != nil {
		return err
	}
	if err := inChunks(ids(evs), func(ph string, args []any) error {
		_, err := tx.Exec(ctx, `UPDATE feed_events SET ticket_id = ? WHERE ticket_id IS NULL AND id IN (`+ph+`)`, append([]any{t.ID}, args...)...)
		return err
	}); err != nil {
		return err
	}
	if err := s.queueDelivery(ctx, tx, t, set, evs, content); err != nil {
		return err
	}
	return audit.Append(ctx, tx, now, audit.Change{Action: "earlywarning.ticket_create", ObjectType: "feed_ticket", ObjectID: itoa(t.ID),
		OrgID: org, After: map[string]any{"ref": t.Ref, "channel": t.Channel, "events": t.Events, "deliveries": t.Deliveries,
			"status": t.Status, "sha256": t.SHA256}})
}

// queueDelivery queues the ticket's e-mails or webhook call in tx and
// records how many deliveries it has.
func (s *Service) queueDelivery(ctx context.Context, tx *store.Tx, t *Ticket, set *Settings, evs []Event, content []byte) error {
	var jobs []river.JobArgs
	var problems []string
	switch t.Channel {
	case ChannelPortal:
		return nil
	case ChannelWebhook:
		jobs = append(jobs, WebhookArgs{Ticket: t.ID, URL: set.WebhookURL, Body: string(content)})
	case ChannelEmail:
		to, err := recipients(ctx, tx, set)
		if err != nil {
			return err
		}
		for _, r := range to {
			m, err := s.digest(t, evs, content, r)
			if err != nil {
				// Never in clear text to somebody who gave a key.
				problems = append(problems, r.email+": "+err.Error())
				continue
			}
			jobs = append(jobs, MailArgs{Ticket: t.ID, Message: m})
		}
		if len(to) == 0 {
			problems = append(problems, "no recipient: no address in the settings, no incident or technical contact, no administrator")
		}
	}
	if s.queue == nil && len(jobs) > 0 {
		return errors.New("earlywarning: no job queue (call SetDelivery)")
	}
	for _, j := range jobs {
		if err := s.queue.InsertTx(ctx, tx, j, nil); err != nil {
			return err
		}
	}
	t.Deliveries = len(jobs)
	status := t.Status
	if len(jobs) == 0 {
		status = StatusFailed
	}
	t.Error = strings.Join(problems, "; ")
	_, err := tx.Exec(ctx, `UPDATE feed_tickets SET deliveries = ?, status = ?, error = ? WHERE id = ?`, t.Deliveries, status, t.Error, t.ID)
	t.Status = status
	return err
}

// DispatchArgs is the periodic job that makes the tickets due.
type DispatchArgs struct{}

// Kind names the job.
func (DispatchArgs) Kind() string { return "earlywarning.dispatch" }

// DispatchWorker runs DispatchArgs.
type DispatchWorker struct {
	river.WorkerDefaults[DispatchArgs]
	Service *Service
}

// Work makes the tickets that are due.
func (w *DispatchWorker) Work(ctx context.Context, _ *river.Job[DispatchArgs]) error {
	n, err := w.Service.Dispatch(ctx)
	if n > 0 {
		w.Service.log.Info("early warning tickets made", "tickets", n)
	}
	return err
}
