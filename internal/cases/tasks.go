package cases

// Tasks with owners and due dates (the SLAs TheHive refused): added by
// hand or from a template, done or cancelled, reminded to their owner
// before they fall due, and listed across cases when overdue.

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
)

// Task is a task of a case.
type Task struct {
	ID          int64      `json:"id"`
	CaseID      int64      `json:"case_id"`
	CaseRef     string     `json:"case_ref"`
	CaseTitle   string     `json:"case_title"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	OwnerID     int64      `json:"owner_id,omitempty"`
	Owner       string     `json:"owner,omitempty"`
	Status      string     `json:"status"` // open, done, cancelled
	DueAt       *time.Time `json:"due_at,omitempty"`
	SLA         string     `json:"sla,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	DoneAt      *time.Time `json:"done_at,omitempty"`
}

// Overdue reports whether an open task is past its due time at now.
func (t *Task) Overdue(now time.Time) bool {
	return t.Status == "open" && t.DueAt != nil && now.After(*t.DueAt)
}

// TaskStatuses are the states of a task.
var TaskStatuses = []string{"open", "done", "cancelled"}

const taskCols = `t.id, t.case_id, c.ref, c.title, t.title, t.description, t.owner_id, COALESCE(u.email, ''), t.status, t.due_at, t.sla,
	t.created_at, t.done_at`

const taskFrom = ` FROM case_tasks t JOIN cases c ON c.id = t.case_id LEFT JOIN users u ON u.id = t.owner_id`

func scanTask(row interface{ Scan(...any) error }) (*Task, error) {
	var t Task
	var owner sql.Null[int64]
	var due, done sql.Null[time.Time]
	if err := row.Scan(&t.ID, &t.CaseID, &t.CaseRef, &t.CaseTitle, &t.Title, &t.Description, &owner, &t.Owner, &t.Status, &due, &t.SLA,
		&t.CreatedAt, &done); err != nil {
		return nil, err
	}
	t.OwnerID = owner.V
	t.CreatedAt = t.CreatedAt.UTC()
	if due.Valid {
		x := due.V.UTC()
		t.DueAt = &x
	}
	if done.Valid {
		x := done.V.UTC()
		t.DoneAt = &x
	}
	return &t, nil
}

// Tasks lists the tasks of a case, in the order they were added.
func (s *Service) Tasks(ctx context.Context, caseID int64) ([]*Task, error) {
	if err := s.readable(ctx, caseID); err != nil {
		return nil, err
	}
	return s.queryTasks(ctx, ` WHERE t.case_id = ? ORDER BY t.id`, caseID)
}

func (s *Service) queryTasks(ctx context.Context, where string, args ...any) ([]*Task, error) {
	rows, err := s.db.Query(ctx, `SELECT `+taskCols+taskFrom+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Task{}
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// TaskInput adds or changes a task; nil fields of a change stay.
type TaskInput struct {
	Title       *string    `json:"title,omitempty"`
	Description *string    `json:"description,omitempty"`
	OwnerID     *int64     `json:"owner_id,omitempty"`
	Status      *string    `json:"status,omitempty"`
	DueAt       *time.Time `json:"due_at,omitempty"`
	// ClearDue removes the due time.
	ClearDue bool `json:"clear_due,omitempty"`
}

func (in *TaskInput) apply(t *Task, v *errs.Validator) {
	if in.Title != nil {
		t.Title = strings.TrimSpace(*in.Title)
	}
	v.Check(t.Title != "", "title", "err.case.task_title_missing")
	if in.Description != nil {
		t.Description = strings.TrimSpace(*in.Description)
	}
	if in.OwnerID != nil {
		t.OwnerID = *in.OwnerID
	}
	if in.Status != nil {
		t.Status = *in.Status
	}
	v.Check(slices.Contains(TaskStatuses, t.Status), "status", "err.case.task_status")
	if in.DueAt != nil {
		x := in.DueAt.UTC()
		t.DueAt = &x
		t.SLA = ""
	}
	if in.ClearDue {
		t.DueAt, t.SLA = nil, ""
	}
}

// checkOwner refuses a task owner who is not of the authority's staff.
func checkOwner(ctx context.Context, q store.Querier, id int64, v *errs.Validator) error {
	if id == 0 {
		return nil
	}
	var kind string
	err := q.QueryRow(ctx, `SELECT o.kind FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.id = ?`, id).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) || err == nil && kind != "authority" {
		v.Add("owner_id", "err.case.task_owner", nil)
		return nil
	}
	return err
}

// AddTask adds a task to a case.
func (s *Service) AddTask(ctx context.Context, caseID int64, in TaskInput) (*Task, error) {
	if !CanWork(auth.From(ctx)) {
		return nil, forbidden()
	}
	now := s.tick()
	t := &Task{Status: "open"}
	var v errs.Validator
	in.apply(t, &v)
	var id int64
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.get(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if err := checkOwner(ctx, tx, t.OwnerID, &v); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO case_tasks (case_id, title, description, owner_id, status, due_at, sla, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, caseID, t.Title, t.Description, nullID(t.OwnerID), t.Status, nullTime(t.DueAt),
			t.SLA, now).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET updated_at = ? WHERE id = ?`, now, caseID); err != nil {
			return err
		}
		return s.event(ctx, tx, now, c, "task_add", "", t.Title, nil, map[string]any{"task": id, "title": t.Title, "due_at": t.DueAt})
	})
	if err != nil {
		return nil, err
	}
	return s.task(ctx, id)
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

func (s *Service) task(ctx context.Context, id int64) (*Task, error) {
	ts, err := s.queryTasks(ctx, ` WHERE t.id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, errs.E(errs.NotFound, "err.case.task_not_found")
	}
	return ts[0], nil
}

// UpdateTask changes a task of a case: its title, owner, due time or
// status (done, cancelled, open again).
func (s *Service) UpdateTask(ctx context.Context, caseID, taskID int64, in TaskInput) (*Task, error) {
	if !CanWork(auth.From(ctx)) {
		return nil, forbidden()
	}
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.get(ctx, tx, caseID)
		if err != nil {
			return err
		}
		t, err := scanTask(tx.QueryRow(ctx, `SELECT `+taskCols+taskFrom+` WHERE t.id = ? AND t.case_id = ?`, taskID, caseID))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "err.case.task_not_found")
		}
		if err != nil {
			return err
		}
		before := *t
		var v errs.Validator
		in.apply(t, &v)
		if err := checkOwner(ctx, tx, t.OwnerID, &v); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		done := any(nil)
		if t.Status != "open" {
			done = now
		}
		reminded := "reminded_at"
		if !timeEq(before.DueAt, t.DueAt) || before.OwnerID != t.OwnerID {
			reminded = "NULL" // a new due time or owner is reminded afresh
		}
		if _, err := tx.Exec(ctx, `UPDATE case_tasks SET title = ?, description = ?, owner_id = ?, status = ?, due_at = ?, sla = ?,
			done_at = ?, reminded_at = `+reminded+` WHERE id = ?`, t.Title, t.Description, nullID(t.OwnerID), t.Status, nullTime(t.DueAt),
			t.SLA, done, taskID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET updated_at = ? WHERE id = ?`, now, caseID); err != nil {
			return err
		}
		kind := "task_update"
		if before.Status != t.Status {
			kind = "task_" + t.Status
		}
		return s.event(ctx, tx, now, c, kind, "", t.Title, map[string]any{"task": taskID, "status": before.Status, "owner_id": before.OwnerID,
			"due_at": before.DueAt}, map[string]any{"task": taskID, "status": t.Status, "owner_id": t.OwnerID, "due_at": t.DueAt})
	})
	if err != nil {
		return nil, err
	}
	return s.task(ctx, taskID)
}

func timeEq(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

// TaskFilter selects tasks across cases.
type TaskFilter struct {
	Overdue bool  // open and past due
	OwnerID int64 // 0: anyone's
	Offset  int
	Limit   int
}

// AllTasks lists open tasks across cases, soonest due first: the overdue
// view, or everyone's (or one person's) open tasks.
func (s *Service) AllTasks(ctx context.Context, f TaskFilter) ([]*Task, error) {
	if !CanRead(auth.From(ctx)) {
		return nil, forbidden()
	}
	where := ` WHERE t.status = 'open' AND t.due_at IS NOT NULL`
	var args []any
	if f.Overdue {
		where, args = where+` AND t.due_at < ?`, append(args, s.tick())
	}
	if f.OwnerID != 0 {
		where, args = where+` AND t.owner_id = ?`, append(args, f.OwnerID)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	return s.queryTasks(ctx, where+` ORDER BY t.due_at, t.id LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
}

// Mailer queues e-mail in a transaction; notify.Service implements it.
type Mailer interface {
	Enqueue(ctx context.Context, tx *store.Tx, m notify.Message) error
}

// remindLead is how long before its due time a task's owner is reminded.
const remindLead = time.Hour

// Remind mails the owner of each open task that falls due within the
// hour (or is overdue) and was not reminded for its current due time,
// once, whatever the number of instances. It returns how many it sent.
func (s *Service) Remind(ctx context.Context, mail Mailer, baseURL string) (int, error) {
	if mail == nil || s.cat == nil {
		return 0, nil
	}
	now := s.tick()
	n := 0
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT t.id, t.title, t.due_at, c.ref, c.title, c.id, u.email, u.locale FROM case_tasks t
			JOIN cases c ON c.id = t.case_id JOIN users u ON u.id = t.owner_id
			WHERE t.status = 'open' AND t.due_at IS NOT NULL AND t.due_at < ? AND t.reminded_at IS NULL AND NOT u.disabled
			ORDER BY t.due_at LIMIT 200`, now.Add(remindLead))
		if err != nil {
			return err
		}
		type due struct {
			id, caseID            int64
			title, ref, caseTitle string
			email, locale         string
			at                    time.Time
		}
		var ds []due
		for rows.Next() {
			var x due
			if err := rows.Scan(&x.id, &x.title, &x.at, &x.ref, &x.caseTitle, &x.caseID, &x.email, &x.locale); err != nil {
				rows.Close()
				return err
			}
			ds = append(ds, x)
		}
		rows.Close()
		for _, x := range ds {
			res, err := tx.Exec(ctx, `UPDATE case_tasks SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL`, now, x.id)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				continue
			}
			l := x.locale
			if l == "" {
				l = "en"
			}
			key := "case.mail.task_due"
			if now.After(x.at) {
				key = "case.mail.task_overdue"
			}
			args := map[string]any{"task": x.title, "ref": x.ref, "case": x.caseTitle, "due": s.cat.DateTime(l, x.at),
				"link": strings.TrimRight(baseURL, "/") + "/" + l + "/cases/" + itoa(x.caseID) + "/tasks"}
			if err := mail.Enqueue(ctx, tx, notify.Message{To: []string{x.email}, Subject: "[Belfry] " + s.cat.T(l, key+".subject", args),
				Text: s.cat.T(l, key+".body", args) + "\n\n" + s.cat.T(l, "mail.auto_generated", nil) + "\n"}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// ReminderArgs is the periodic job that reminds task owners.
type ReminderArgs struct{}

// Kind names the job.
func (ReminderArgs) Kind() string { return "cases.reminders" }

// ReminderWorker runs ReminderArgs.
type ReminderWorker struct {
	river.WorkerDefaults[ReminderArgs]
	Service *Service
	Mail    Mailer
	BaseURL string
}

// Work sends the reminders that are due.
func (w *ReminderWorker) Work(ctx context.Context, _ *river.Job[ReminderArgs]) error {
	_, err := w.Service.Remind(auth.With(ctx, auth.System), w.Mail, w.BaseURL)
	return err
}
