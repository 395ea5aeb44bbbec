package audit_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/store"
)

var (
	analyst = &auth.Principal{UserID: 11, OrgID: 1, OrgKind: "authority", Email: "ana@ccb.be",
		Roles: []auth.Role{auth.RoleAnalyst}}
	operatorToken = &auth.Principal{UserID: 12, OrgID: 2, OrgKind: "operator", Email: "bot@grid.be",
		Roles: []auth.Role{auth.RoleMember}, TokenID: 99, Scopes: []auth.Scope{auth.ScopeWrite}}
)

// entry is one record to append: who (nil is anonymous), from where, when
// and what.
type entry struct {
	who *auth.Principal
	ip  string
	at  time.Time
	c   audit.Change
}

// appendEntry appends e in a transaction of its own.
func appendEntry(t *testing.T, db *store.DB, e entry) {
	t.Helper()
	ctx := t.Context()
	if e.who != nil {
		ctx = auth.With(ctx, e.who)
	}
	if e.ip != "" {
		ctx = auth.WithIP(ctx, e.ip)
	}
	err := db.Tx(ctx, func(tx *store.Tx) error { return audit.Append(ctx, tx, e.at, e.c) })
	if err != nil {
		t.Fatalf("Append(%s) = %v", e.c.Action, err)
	}
}

// records returns the whole log, oldest first.
func records(t *testing.T, db *store.DB) []audit.Record {
	t.Helper()
	p, err := audit.List(auth.With(t.Context(), auth.System), db, audit.Filter{Limit: 500})
	if err != nil {
		t.Fatalf("List = %v", err)
	}
	for i, j := 0, len(p.Records)-1; i < j; i, j = i+1, j-1 {
		p.Records[i], p.Records[j] = p.Records[j], p.Records[i]
	}
	return p.Records
}

func verify(t *testing.T, db *store.DB) audit.Result {
	t.Helper()
	res, err := audit.Verify(t.Context(), db)
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	return res
}

var base = time.Date(2026, 3, 12, 9, 30, 0, 0, time.UTC)

// seed appends five records, one per kind of actor, and returns them.
func seed(t *testing.T, db *store.DB) []entry {
	t.Helper()
	es := []entry{
		{who: auth.System, at: base, c: audit.Change{Action: "organisation.create", ObjectType: "organisation", ObjectID: "1", OrgID: 1,
			After: map[string]any{"name": "CCB"}}},
		{who: analyst, at: base.Add(time.Minute), c: audit.Change{Action: "incident.update", ObjectType: "incident", ObjectID: "7", OrgID: 2,
			Before: map[string]any{"status": "new"}, After: map[string]any{"status": "triaged"}}},
		{who: operatorToken, at: base.Add(2 * time.Minute), c: audit.Change{Action: "incident.create", ObjectType: "incident", ObjectID: "8", OrgID: 2,
			After: map[string]any{"title": "ransomware"}}},
		{who: nil, at: base.Add(3 * time.Minute), c: audit.Change{Action: "session.fail", ObjectType: "session"}},
		{who: analyst, ip: "192.0.2.7", at: base.Add(4 * time.Minute), c: audit.Change{Action: "user.delete", ObjectType: "user", ObjectID: "5", OrgID: 1,
			Before: map[string]any{"email": "old@ccb.be"}}},
	}
	for _, e := range es {
		appendEntry(t, db, e)
	}
	return es
}

// actor is the part of a record that Append derives from the context.
type actor struct {
	Type                   string
	UserID, OrgID, TokenID int64
	Label, IP              string
}

func TestAppendRecordsActorAndChain(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		es := seed(t, db)
		wantActors := []actor{
			{Type: "system", Label: "system"},
			{Type: "user", UserID: 11, OrgID: 1, Label: "ana@ccb.be"},
			{Type: "token", UserID: 12, OrgID: 2, TokenID: 99, Label: "bot@grid.be"},
			{Type: "anonymous", Label: "anonymous"},
			{Type: "user", UserID: 11, OrgID: 1, Label: "ana@ccb.be", IP: "192.0.2.7"},
		}
		wantSummaries := []string{
			`{"before":null,"after":{"name":"CCB"}}`,
			`{"before":{"status":"new"},"after":{"status":"triaged"}}`,
			`{"before":null,"after":{"title":"ransomware"}}`,
			`{"before":null,"after":null}`,
			`{"before":{"email":"old@ccb.be"},"after":null}`,
		}
		rs := records(t, db)
		if len(rs) != len(es) {
			t.Fatalf("List returned %d records, want %d", len(rs), len(es))
		}
		prev := strings.Repeat("0", 64)
		for i, r := range rs {
			e := es[i]
			if r.Seq != int64(i+1) {
				t.Errorf("record %d: Seq = %d, want %d", i, r.Seq, i+1)
			}
			got := actor{r.ActorType, r.ActorUserID, r.ActorOrgID, r.ActorTokenID, r.ActorLabel, r.IP}
			if got != wantActors[i] {
				t.Errorf("record %d: actor = %+v, want %+v", r.Seq, got, wantActors[i])
			}
			if r.Action != e.c.Action || r.ObjectType != e.c.ObjectType || r.ObjectID != e.c.ObjectID || r.OrgID != e.c.OrgID {
				t.Errorf("record %d: object = %s %s/%s org %d, want %s %s/%s org %d", r.Seq,
					r.Action, r.ObjectType, r.ObjectID, r.OrgID, e.c.Action, e.c.ObjectType, e.c.ObjectID, e.c.OrgID)
			}
			if r.Summary != wantSummaries[i] {
				t.Errorf("record %d: Summary = %s, want %s", r.Seq, r.Summary, wantSummaries[i])
			}
			if !r.At.Equal(e.at) {
				t.Errorf("record %d: At = %v, want %v", r.Seq, r.At, e.at)
			}
			if r.PrevHash != prev {
				t.Errorf("record %d: PrevHash = %s, want %s", r.Seq, r.PrevHash, prev)
			}
			if h := hashOf(r); r.Hash != h {
				t.Errorf("record %d: Hash = %s, want %s (SHA-256 of the length-prefixed fields)", r.Seq, r.Hash, h)
			}
			prev = r.Hash
		}
		res := verify(t, db)
		if !res.OK() || res.Records != 5 {
			t.Errorf("Verify = %+v, want 5 records and no problems", res)
		}
		var head string
		if err := db.QueryRow(t.Context(), `SELECT value FROM settings WHERE key = 'audit_head'`).Scan(&head); err != nil {
			t.Fatal(err)
		}
		if want := "5:" + prev; head != want {
			t.Errorf("audit_head = %q, want %q", head, want)
		}
	})
}

func TestVerifyEmptyLog(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		if res := verify(t, db); !res.OK() || res.Records != 0 {
			t.Errorf("Verify(empty) = %+v, want 0 records and no problems", res)
		}
	})
}

// hashOf recomputes a record's hash the way the package documents it:
// SHA-256 over every field but the hash, each written as "len:value;". A
// forger with SQL access can do the same.
func hashOf(r audit.Record) string {
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

// insertRecord writes r straight into the table, as a forger would.
func insertRecord(t *testing.T, db *store.DB, r audit.Record) {
	t.Helper()
	_, err := db.Exec(t.Context(), `INSERT INTO audit_log (seq, at, actor_type, actor_user_id, actor_org_id, actor_token_id,
		actor_label, ip, action, object_type, object_id, org_id, summary, prev_hash, hash)
		VALUES (?, ?, ?, NULL, NULL, NULL, ?, ?, ?, ?, ?, NULL, ?, ?, ?)`,
		r.Seq, r.At, r.ActorType, r.ActorLabel, r.IP, r.Action, r.ObjectType, r.ObjectID, r.Summary, r.PrevHash, r.Hash)
	if err != nil {
		t.Fatalf("insert forged record: %v", err)
	}
}

func exec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(t.Context(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// problem is a wanted Problem: its record and a fragment of its reason.
type problem struct {
	seq    int64
	reason string
}

func TestVerifyDetectsTampering(t *testing.T) {
	t.Parallel()
	const (
		edited  = "the record was edited"
		link    = "previous-hash link broken"
		seqGap  = "sequence number"
		cut     = "cut from the end"
		noHead  = "recorded head of the log is missing"
		headSeq = "recorded head is 5:"
	)
	tests := []struct {
		name    string
		tamper  func(t *testing.T, db *store.DB)
		records int64
		want    []problem
	}{
		{"edit summary", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE audit_log SET summary = '{"before":null,"after":null}' WHERE seq = 3`)
		}, 5, []problem{{3, edited}}},
		{"edit actor", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE audit_log SET actor_label = 'someone@else.be' WHERE seq = 3`)
		}, 5, []problem{{3, edited}}},
		{"edit ip", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE audit_log SET ip = '198.51.100.1' WHERE seq = 5`)
		}, 5, []problem{{5, edited}}},
		{"edit action", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE audit_log SET action = 'incident.view' WHERE seq = 3`)
		}, 5, []problem{{3, edited}}},
		{"edit time by one microsecond", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE audit_log SET at = ? WHERE seq = 3`, base.Add(2*time.Minute+time.Microsecond))
		}, 5, []problem{{3, edited}}},
		{"clear org", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE audit_log SET org_id = NULL WHERE seq = 3`)
		}, 5, []problem{{3, edited}}},
		{"drop token", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE audit_log SET actor_token_id = NULL, actor_type = 'user' WHERE seq = 3`)
		}, 5, []problem{{3, edited}}},
		{"replace hash", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE audit_log SET hash = ? WHERE seq = 3`, strings.Repeat("ab", 32))
		}, 5, []problem{{3, edited}, {4, link}}},
		{"delete middle", func(t *testing.T, db *store.DB) {
			exec(t, db, `DELETE FROM audit_log WHERE seq = 3`)
		}, 4, []problem{{4, seqGap}, {4, link}}},
		{"delete first", func(t *testing.T, db *store.DB) {
			exec(t, db, `DELETE FROM audit_log WHERE seq = 1`)
		}, 4, []problem{{2, seqGap}, {2, link}}},
		{"swap two records", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE audit_log SET seq = -1 WHERE seq = 2`)
			exec(t, db, `UPDATE audit_log SET seq = 2 WHERE seq = 3`)
			exec(t, db, `UPDATE audit_log SET seq = 3 WHERE seq = -1`)
		}, 5, []problem{{2, link}, {2, edited}, {3, link}, {3, edited}, {4, link}}},
		{"cut tail", func(t *testing.T, db *store.DB) {
			exec(t, db, `DELETE FROM audit_log WHERE seq = 5`)
		}, 4, []problem{{4, cut}}},
		{"cut tail of two", func(t *testing.T, db *store.DB) {
			exec(t, db, `DELETE FROM audit_log WHERE seq >= 4`)
		}, 3, []problem{{3, cut}}},
		{"delete head setting", func(t *testing.T, db *store.DB) {
			exec(t, db, `DELETE FROM settings WHERE key = 'audit_head'`)
		}, 5, []problem{{5, noHead}}},
		{"forged record with a valid hash", func(t *testing.T, db *store.DB) {
			rs := records(t, db)
			f := audit.Record{Seq: 6, At: base.Add(time.Hour), ActorType: "system", ActorLabel: "system",
				Action: "user.delete", ObjectType: "user", ObjectID: "1", Summary: `{"before":null,"after":null}`,
				PrevHash: rs[len(rs)-1].Hash}
			f.Hash = hashOf(f)
			insertRecord(t, db, f)
		}, 6, []problem{{6, headSeq}}},
		{"forged record with a bad hash", func(t *testing.T, db *store.DB) {
			rs := records(t, db)
			insertRecord(t, db, audit.Record{Seq: 6, At: base.Add(time.Hour), ActorType: "system", ActorLabel: "system",
				Action: "user.delete", ObjectType: "user", ObjectID: "1", Summary: `{}`,
				PrevHash: rs[len(rs)-1].Hash, Hash: strings.Repeat("0", 64)})
		}, 6, []problem{{6, edited}, {6, headSeq}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dbtest.Run(t, func(t *testing.T, db *store.DB) {
				seed(t, db)
				if res := verify(t, db); !res.OK() {
					t.Fatalf("Verify before tampering = %+v, want OK", res)
				}
				tt.tamper(t, db)
				res := verify(t, db)
				if res.OK() {
					t.Fatalf("Verify after %s = OK, want problems", tt.name)
				}
				if res.Records != tt.records {
					t.Errorf("Verify after %s: Records = %d, want %d", tt.name, res.Records, tt.records)
				}
				checkProblems(t, res.Problems, tt.want)
			})
		})
	}
}

func checkProblems(t *testing.T, got []audit.Problem, want []problem) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("Verify problems = %v, want %d: %v", got, len(want), want)
		return
	}
	for i, w := range want {
		if got[i].Seq != w.seq || !strings.Contains(got[i].Reason, w.reason) {
			t.Errorf("problem %d = %v, want record %d: …%s…", i, got[i], w.seq, w.reason)
		}
		if s := got[i].String(); !strings.HasPrefix(s, fmt.Sprintf("record %d: ", w.seq)) {
			t.Errorf("Problem.String() = %q, want prefix %q", s, fmt.Sprintf("record %d: ", w.seq))
		}
	}
}

func TestAppendRolledBackLeavesNoTrace(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		seed(t, db)
		head := func() string {
			var v string
			if err := db.QueryRow(t.Context(), `SELECT value FROM settings WHERE key = 'audit_head'`).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		before := head()
		boom := errors.New("boom")
		ctx := auth.With(t.Context(), auth.System)
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if err := audit.Append(ctx, tx, base.Add(time.Hour), audit.Change{Action: "user.create", ObjectType: "user", ObjectID: "9"}); err != nil {
				return err
			}
			return boom // the change being recorded failed
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx = %v, want %v", err, boom)
		}
		if res := verify(t, db); !res.OK() || res.Records != 5 {
			t.Errorf("Verify after rollback = %+v, want 5 records and no problems", res)
		}
		if got := head(); got != before {
			t.Errorf("audit_head after rollback = %q, want %q", got, before)
		}
		// The next append takes the sequence number the rolled-back one had.
		appendEntry(t, db, entry{who: auth.System, at: base.Add(2 * time.Hour), c: audit.Change{Action: "user.create", ObjectType: "user", ObjectID: "10"}})
		rs := records(t, db)
		if last := rs[len(rs)-1]; last.Seq != 6 || last.ObjectID != "10" {
			t.Errorf("record after rollback = seq %d object %s, want seq 6 object 10", last.Seq, last.ObjectID)
		}
		if res := verify(t, db); !res.OK() || res.Records != 6 {
			t.Errorf("Verify = %+v, want 6 records and no problems", res)
		}
	})
}

func TestAppendConcurrent(t *testing.T) {
	t.Parallel()
	const workers, each = 8, 25
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		var wg sync.WaitGroup
		for g := range workers {
			wg.Go(func() {
				who := &auth.Principal{UserID: int64(100 + g), OrgID: 1, OrgKind: "authority", Email: fmt.Sprintf("w%d@ccb.be", g)}
				ctx := auth.With(t.Context(), who)
				for i := range each {
					err := db.Tx(ctx, func(tx *store.Tx) error {
						return audit.Append(ctx, tx, time.Now(), audit.Change{Action: "test.append", ObjectType: "test",
							ObjectID: fmt.Sprintf("%d-%d", g, i)})
					})
					if err != nil {
						t.Errorf("worker %d: Append %d = %v", g, i, err)
						return
					}
				}
			})
		}
		wg.Wait()
		res := verify(t, db)
		if !res.OK() || res.Records != workers*each {
			t.Fatalf("Verify after concurrent appends = %+v, want %d records and no problems", res, workers*each)
		}
		seen := map[string]bool{}
		for i, r := range records(t, db) {
			if r.Seq != int64(i+1) {
				t.Fatalf("record %d has Seq %d: the sequence has a gap", i+1, r.Seq)
			}
			if seen[r.ObjectID] {
				t.Errorf("object %s recorded twice", r.ObjectID)
			}
			seen[r.ObjectID] = true
		}
		if len(seen) != workers*each {
			t.Errorf("distinct records = %d, want %d", len(seen), workers*each)
		}
	})
}

func TestAppendTimeRoundTrip(t *testing.T) {
	t.Parallel()
	brussels := time.FixedZone("CEST", 2*3600)
	times := []time.Time{
		time.Date(2026, 3, 29, 1, 59, 59, 0, time.UTC),
		time.Date(2026, 3, 29, 1, 59, 59, 1000, time.UTC),                 // 1 µs
		time.Date(2026, 3, 29, 1, 59, 59, 999999999, time.UTC),            // truncated, not rounded
		time.Date(2026, 3, 29, 3, 0, 0, 123456789, brussels),              // stored as UTC
		time.Date(2026, 12, 31, 23, 59, 59, 999999000, time.UTC),          // year boundary
		time.Date(1999, 1, 1, 0, 0, 0, 500, time.FixedZone("X", -9*3600)), // sub-µs only
	}
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		for i, at := range times {
			appendEntry(t, db, entry{who: auth.System, at: at, c: audit.Change{Action: "test.time", ObjectType: "test", ObjectID: strconv.Itoa(i)}})
		}
		for i, r := range records(t, db) {
			want := times[i].UTC().Truncate(time.Microsecond)
			if !r.At.Equal(want) || r.At.Location() != time.UTC {
				t.Errorf("Append(at=%v): read back At = %v, want %v in UTC", times[i], r.At, want)
			}
			if h := hashOf(r); h != r.Hash {
				t.Errorf("record %d: hash of the stored fields = %s, want %s", r.Seq, h, r.Hash)
			}
		}
		if res := verify(t, db); !res.OK() || res.Records != int64(len(times)) {
			t.Errorf("Verify = %+v, want %d records and no problems", res, len(times))
		}
	})
}

// TestAppendAnonymousWithIP checks that a request without a principal is
// still recorded with its client address.
func TestAppendAnonymousWithIP(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		appendEntry(t, db, entry{ip: "2001:db8::1", at: base, c: audit.Change{Action: "session.fail", ObjectType: "session"}})
		r := records(t, db)[0]
		got := actor{r.ActorType, r.ActorUserID, r.ActorOrgID, r.ActorTokenID, r.ActorLabel, r.IP}
		if want := (actor{Type: "anonymous", Label: "anonymous", IP: "2001:db8::1"}); got != want {
			t.Errorf("anonymous record actor = %+v, want %+v", got, want)
		}
	})
}
