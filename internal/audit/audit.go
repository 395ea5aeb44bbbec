// Package audit keeps the append-only, hash-chained log of every change:
// who, what, when, from where, and a before/after summary. Each record
// carries the hash of the one before it, so that an edited, deleted or
// reordered record breaks the chain that Verify walks.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/store"
)

// lockKey serialises appends across PostgreSQL instances.
const lockKey = 0x6175646974 // "audit"

// genesis is the previous hash of the first record.
var genesis = hex.EncodeToString(make([]byte, sha256.Size))

// Record is one entry of the audit log.
type Record struct {
	Seq          int64     `json:"seq"`
	At           time.Time `json:"at"`
	ActorType    string    `json:"actor_type"` // user, token, system, anonymous
	ActorUserID  int64     `json:"actor_user_id,omitempty"`
	ActorOrgID   int64     `json:"actor_org_id,omitempty"`
	ActorTokenID int64     `json:"actor_token_id,omitempty"`
	ActorLabel   string    `json:"actor_label"`
	IP           string    `json:"ip"`
	Action       string    `json:"action"` // e.g. user.create
	ObjectType   string    `json:"object_type"`
	ObjectID     string    `json:"object_id"`
	OrgID        int64     `json:"org_id,omitempty"` // organisation the object belongs to
	Summary      string    `json:"summary"`          // JSON: {"before":…, "after":…}
	PrevHash     string    `json:"prev_hash"`
	Hash         string    `json:"hash"`
}

// Change describes a state change to record.
type Change struct {
	Action     string
	ObjectType string
	ObjectID   string
	OrgID      int64
	Before     any // nil when created
	After      any // nil when deleted
}

// Append writes c to the log inside tx, chained to the last record. It must
// run in the same transaction as the change it records, so that neither
// exists without the other.
func Append(ctx context.Context, tx *store.Tx, now time.Time, c Change) error {
	p := auth.From(ctx)
	r := Record{
		// PostgreSQL keeps microseconds: hash what both databases store.
		At:         now.UTC().Truncate(time.Microsecond),
		IP:         auth.IP(ctx),
		Action:     c.Action,
		ObjectType: c.ObjectType,
		ObjectID:   c.ObjectID,
		OrgID:      c.OrgID,
	}
	switch {
	case p == nil:
		r.ActorType, r.ActorLabel = "anonymous", "anonymous"
	case p.System:
		r.ActorType, r.ActorLabel = "system", "system"
	default:
		r.ActorType, r.ActorUserID, r.ActorOrgID, r.ActorLabel = "user", p.UserID, p.OrgID, p.Email
		if p.TokenID != 0 {
			r.ActorType, r.ActorTokenID = "token", p.TokenID
		}
	}
	sum, err := json.Marshal(struct {
		Before any `json:"before"`
		After  any `json:"after"`
	}{c.Before, c.After})
	if err != nil {
		return fmt.Errorf("audit: summary: %w", err)
	}
	r.Summary = string(sum)

	if err := tx.Lock(ctx, lockKey); err != nil {
		return fmt.Errorf("audit: lock: %w", err)
	}
	err = tx.QueryRow(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&r.Seq, &r.PrevHash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		r.Seq, r.PrevHash = 0, genesis
	case err != nil:
		return fmt.Errorf("audit: read head: %w", err)
	}
	r.Seq++
	r.Hash = r.computeHash()
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (seq, at, actor_type, actor_user_id, actor_org_id, actor_token_id,
		actor_label, ip, action, object_type, object_id, org_id, summary, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Seq, r.At, r.ActorType, nullID(r.ActorUserID), nullID(r.ActorOrgID), nullID(r.ActorTokenID),
		r.ActorLabel, r.IP, r.Action, r.ObjectType, r.ObjectID, nullID(r.OrgID), r.Summary, r.PrevHash, r.Hash)
	if err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	// The head is kept apart from the chain so that Verify notices records
	// cut from the end, which no link would show.
	_, err = tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ('audit_head', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, fmt.Sprintf("%d:%s", r.Seq, r.Hash))
	if err != nil {
		return fmt.Errorf("audit: head: %w", err)
	}
	return nil
}

// computeHash is SHA-256 over every field but the hash itself, each written
// as a length-prefixed string so that no two records share an encoding.
func (r *Record) computeHash() string {
	h := sha256.New()
	for _, s := range []string{
		strconv.FormatInt(r.Seq, 10), r.At.UTC().Format(time.RFC3339Nano), r.ActorType,
		strconv.FormatInt(r.ActorUserID, 10), strconv.FormatInt(r.ActorOrgID, 10), strconv.FormatInt(r.ActorTokenID, 10),
		r.ActorLabel, r.IP, r.Action, r.ObjectType, r.ObjectID, strconv.FormatInt(r.OrgID, 10), r.Summary, r.PrevHash,
	} {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

const selectRecord = `SELECT seq, at, actor_type, COALESCE(actor_user_id, 0), COALESCE(actor_org_id, 0),
	COALESCE(actor_token_id, 0), actor_label, ip, action, object_type, object_id, COALESCE(org_id, 0),
	summary, prev_hash, hash FROM audit_log`

func scan(rows interface{ Scan(...any) error }) (Record, error) {
	var r Record
	err := rows.Scan(&r.Seq, &r.At, &r.ActorType, &r.ActorUserID, &r.ActorOrgID, &r.ActorTokenID, &r.ActorLabel,
		&r.IP, &r.Action, &r.ObjectType, &r.ObjectID, &r.OrgID, &r.Summary, &r.PrevHash, &r.Hash)
	r.At = r.At.UTC()
	return r, err
}

// Problem is one break in the chain found by Verify.
type Problem struct {
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
}

func (p Problem) String() string { return fmt.Sprintf("record %d: %s", p.Seq, p.Reason) }

// Result is what Verify found.
type Result struct {
	Records  int64     `json:"records"`
	Problems []Problem `json:"problems"`
}

// OK reports whether the chain is intact.
func (r Result) OK() bool { return len(r.Problems) == 0 }

// Verify walks the whole log in sequence order and reports every record
// whose content does not match its hash (edited), whose sequence number is
// not the next one (deleted or inserted), or whose previous hash is not the
// hash of the record before it (deleted, inserted or reordered).
func Verify(ctx context.Context, db *store.DB) (Result, error) {
	rows, err := db.Query(ctx, selectRecord+` ORDER BY seq`)
	if err != nil {
		return Result{}, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	var res Result
	prev, want := genesis, int64(1)
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return res, fmt.Errorf("audit: verify: %w", err)
		}
		res.Records++
		if r.Seq != want {
			res.Problems = append(res.Problems, Problem{r.Seq, fmt.Sprintf("sequence number %d where %d was expected: records missing or inserted", r.Seq, want)})
		}
		if r.PrevHash != prev {
			res.Problems = append(res.Problems, Problem{r.Seq, "previous-hash link broken: a record before it was deleted, inserted or reordered"})
		}
		if got := r.computeHash(); got != r.Hash {
			res.Problems = append(res.Problems, Problem{r.Seq, "content does not match its hash: the record was edited"})
		}
		prev, want = r.Hash, r.Seq+1
	}
	if err := rows.Err(); err != nil {
		return res, err
	}
	var head string
	err = db.QueryRow(ctx, `SELECT value FROM settings WHERE key = 'audit_head'`).Scan(&head)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if res.Records > 0 {
			res.Problems = append(res.Problems, Problem{want - 1, "the recorded head of the log is missing"})
		}
	case err != nil:
		return res, err
	case head != fmt.Sprintf("%d:%s", want-1, prev):
		res.Problems = append(res.Problems, Problem{want - 1, fmt.Sprintf("the log ends here but its recorded head is %s: records were cut from the end", head)})
	}
	return res, nil
}
