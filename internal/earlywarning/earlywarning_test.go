package earlywarning

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/emersion/go-smtp"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/jobs"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/registry"
	"github.com/belfry-cert/belfry/internal/store"
)

// fixture is a database with two organisations, A and B, a feed run, and
// a service whose clock the test moves.
type fixture struct {
	db   *store.DB
	svc  *Service
	a, b int64
	run  int64
	now  time.Time
	mu   sync.Mutex
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := t.Context()
	f := &fixture{db: db, now: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)}
	for _, x := range []struct {
		id   *int64
		name string
	}{{&f.a, "EW Water A"}, {&f.b, "EW Hosting B"}} {
		if err := db.QueryRow(ctx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, 'entity', ?, ?) RETURNING id`,
			x.name, f.now, f.now).Scan(x.id); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.QueryRow(ctx, `INSERT INTO feed_runs (source, name, feed, status, started_at) VALUES ('file', 'test.csv', '', 'done', ?) RETURNING id`,
		f.now).Scan(&f.run); err != nil {
		t.Fatal(err)
	}
	f.svc = NewService(db, quiet(), i18n.MustLoad(), "https://belfry.example")
	f.svc.SetClock(f.clock)
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// event stores a new event of org.
func (f *fixture) event(t *testing.T, org int64, feed, severity, ip string) int64 {
	t.Helper()
	var id int64
	fields := `{"protocol.transport":"tcp","extra.tag":"=cmd|x","extra.http_code":200}`
	if err := f.db.QueryRow(t.Context(), `INSERT INTO feed_events (run_id, org_id, feed, time_source, severity, taxonomy, type, identifier,
		src_ip, src_port, src_asn, matched_on, matched_value, dedup_key, notify, fields, created_at)
		VALUES (?, ?, ?, ?, ?, 'vulnerable', 'vulnerable-system', 'accessible-http', ?, 8080, 64511, 'source.ip', '192.0.2.0/24', ?, ?, ?, ?) RETURNING id`,
		f.run, org, feed, f.now.Add(-time.Hour), severity, ip, fmt.Sprint(org, feed, ip), true, fields, f.now).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func asAdmin(ctx context.Context, org int64) context.Context {
	return auth.With(ctx, &auth.Principal{OrgID: org, OrgKind: "entity", Roles: []auth.Role{auth.RoleOrgAdmin}})
}

func asMember(ctx context.Context, org int64) context.Context {
	return auth.With(ctx, &auth.Principal{OrgID: org, OrgKind: "entity", Roles: []auth.Role{auth.RoleMember}})
}

func asAnalyst(ctx context.Context) context.Context {
	return auth.With(ctx, &auth.Principal{OrgID: 1, OrgKind: "authority", Roles: []auth.Role{auth.RoleAnalyst}})
}

// ticketOf returns the ticket id of event id, 0 if none, and its withheld
// reason.
func (f *fixture) ticketOf(t *testing.T, id int64) (int64, string) {
	t.Helper()
	var tk *int64
	var why string
	if err := f.db.QueryRow(t.Context(), `SELECT ticket_id, withheld FROM feed_events WHERE id = ?`, id).Scan(&tk, &why); err != nil {
		t.Fatal(err)
	}
	if tk == nil {
		return 0, why
	}
	return *tk, why
}

func (f *fixture) tickets(t *testing.T, org int64) int {
	t.Helper()
	var n int
	if err := f.db.QueryRow(t.Context(), `SELECT COUNT(*) FROM feed_tickets WHERE org_id = ?`, org).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func fieldsOf(err error) []string {
	e, ok := errs.As(err)
	if !ok {
		return nil
	}
	var out []string
	for _, x := range e.Fields {
		out = append(out, x.Field)
	}
	return out
}

func TestSettingsValidation(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := asAdmin(t.Context(), f.a)
		st, err := f.svc.Settings(ctx, f.a)
		if err != nil || st.Saved || st.Channel != ChannelEmail || st.Interval != "hourly" || !st.Enabled {
			t.Fatalf("Settings(defaults) = %+v, %v", st, err)
		}
		for _, tc := range []struct {
			in    SettingsInput
			field string
		}{
			{SettingsInput{Channel: "email", Interval: "hourly", MinSeverity: "severe"}, "min_severity"},
			{SettingsInput{Channel: "fax", Interval: "hourly"}, "channel"},
			{SettingsInput{Channel: "email", Interval: "weekly"}, "interval"},
			{SettingsInput{Channel: "email", Interval: "daily", ReportTypes: []string{"Scan HTTP!"}}, "report_types"},
			{SettingsInput{Channel: "email", Interval: "daily", Recipients: []string{"not-an-address"}}, "recipients"},
			{SettingsInput{Channel: "webhook", Interval: "daily", WebhookURL: "http://hooks.example/x", WebhookSecret: "0123456789abcdef"}, "webhook_url"},
			{SettingsInput{Channel: "webhook", Interval: "daily", WebhookURL: "https://hooks.example/x"}, "webhook_secret"},
			{SettingsInput{Channel: "webhook", Interval: "daily", WebhookURL: "https://hooks.example/x", WebhookSecret: "short"}, "webhook_secret"},
		} {
			_, err := f.svc.UpdateSettings(ctx, f.a, tc.in)
			if !errs.Is(err, errs.Invalid) || !strings.Contains(strings.Join(fieldsOf(err), ","), tc.field) {
				t.Errorf("UpdateSettings(%+v) = %v (fields %v), want Invalid on %s", tc.in, err, fieldsOf(err), tc.field)
			}
		}
		in := SettingsInput{Enabled: true, Channel: "webhook", Interval: "daily", MinSeverity: "HIGH", ReportTypes: []string{"scan_http", " scan_http", "event4_sinkhole"},
			Recipients: []string{"soc@a.example", "SOC@a.example"}, WebhookURL: "https://hooks.example/x", WebhookSecret: "0123456789abcdef"}
		st, err = f.svc.UpdateSettings(ctx, f.a, in)
		if err != nil {
			t.Fatalf("UpdateSettings(valid) = %v", err)
		}
		if !st.Saved || st.MinSeverity != "high" || strings.Join(st.ReportTypes, ",") != "event4_sinkhole,scan_http" ||
			len(st.Recipients) != 1 || !st.WebhookSecretSet {
			t.Errorf("saved settings = %+v", st)
		}
		// An empty secret keeps the saved one.
		in.WebhookSecret = ""
		if st, err = f.svc.UpdateSettings(ctx, f.a, in); err != nil || !st.WebhookSecretSet {
			t.Errorf("UpdateSettings(no new secret) = %+v, %v, want the secret kept", st, err)
		}
		// Members read but do not change; other organisations see nothing;
		// the authority's analysts change any.
		if _, err := f.svc.UpdateSettings(asMember(t.Context(), f.a), f.a, in); !errs.Is(err, errs.Forbidden) {
			t.Errorf("UpdateSettings(member) = %v, want Forbidden", err)
		}
		if _, err := f.svc.Settings(asAdmin(t.Context(), f.b), f.a); !errs.Is(err, errs.NotFound) {
			t.Errorf("Settings(other organisation) = %v, want NotFound", err)
		}
		if _, err := f.svc.UpdateSettings(asAdmin(t.Context(), f.b), f.a, in); !errs.Is(err, errs.NotFound) {
			t.Errorf("UpdateSettings(other organisation) = %v, want NotFound", err)
		}
		if _, err := f.svc.UpdateSettings(asAnalyst(t.Context()), f.b, SettingsInput{Channel: "portal", Interval: "immediate"}); err != nil {
			t.Errorf("UpdateSettings(analyst) = %v", err)
		}
		if b, _ := json.Marshal(st); strings.Contains(string(b), "0123456789abcdef") {
			t.Errorf("settings JSON shows the webhook secret: %s", b)
		}
	})
}

func TestInhibitions(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := asAdmin(t.Context(), f.a)
		for _, tc := range []struct {
			in    InhibitionInput
			field string
		}{
			{InhibitionInput{Prefix: "192.0.2.0/24", ExpiresAt: f.now.Add(time.Hour)}, "reason"},
			{InhibitionInput{Prefix: "192.0.2.0/24", Reason: "honeypot"}, "expires_at"},
			{InhibitionInput{Prefix: "192.0.2.0/24", Reason: "honeypot", ExpiresAt: f.now.Add(-time.Minute)}, "expires_at"},
			{InhibitionInput{Prefix: "192.0.2.0/33", Reason: "honeypot", ExpiresAt: f.now.Add(time.Hour)}, "prefix"},
		} {
			if _, err := f.svc.AddInhibition(ctx, f.a, tc.in); !errs.Is(err, errs.Invalid) || !strings.Contains(strings.Join(fieldsOf(err), ","), tc.field) {
				t.Errorf("AddInhibition(%+v) = %v, want Invalid on %s", tc.in, err, tc.field)
			}
		}
		if _, err := f.svc.AddInhibition(asMember(t.Context(), f.a), f.a, InhibitionInput{Reason: "x", ExpiresAt: f.now.Add(time.Hour)}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("AddInhibition(member) = %v, want Forbidden", err)
		}
		if _, err := f.svc.AddInhibition(asAdmin(t.Context(), f.b), f.a, InhibitionInput{Reason: "x", ExpiresAt: f.now.Add(time.Hour)}); !errs.Is(err, errs.NotFound) {
			t.Errorf("AddInhibition(other organisation) = %v, want NotFound", err)
		}
		honeypot, err := f.svc.AddInhibition(ctx, f.a, InhibitionInput{Prefix: "192.0.2.7", Reason: "our honeypot", ExpiresAt: f.now.Add(2 * time.Hour)})
		if err != nil || honeypot.Prefix != "192.0.2.7/32" {
			t.Fatalf("AddInhibition(address) = %+v, %v, want prefix 192.0.2.7/32", honeypot, err)
		}
		if _, err := f.svc.AddInhibition(asAnalyst(t.Context()), f.a, InhibitionInput{ReportType: "scan_ftp", Reason: "known false positive",
			ExpiresAt: f.now.Add(10 * time.Minute)}); err != nil {
			t.Fatalf("AddInhibition(analyst, type) = %v", err)
		}
		list, err := f.svc.Inhibitions(asMember(t.Context(), f.a), f.a)
		if err != nil || len(list) != 2 || !list[0].Active {
			t.Fatalf("Inhibitions = %+v, %v, want 2 active", list, err)
		}

		if _, err := f.svc.UpdateSettings(ctx, f.a, SettingsInput{Enabled: true, Channel: "portal", Interval: "immediate"}); err != nil {
			t.Fatal(err)
		}
		inhibited := f.event(t, f.a, "scan_http", "medium", "192.0.2.7")
		ftp := f.event(t, f.a, "scan_ftp", "medium", "192.0.2.8")
		sent := f.event(t, f.a, "scan_http", "medium", "192.0.2.8")
		if _, err := f.svc.Dispatch(t.Context()); err != nil {
			t.Fatal(err)
		}
		if tk, why := f.ticketOf(t, inhibited); tk != 0 || why != WithheldInhibited {
			t.Errorf("inhibited event: ticket %d, withheld %q, want none and inhibited", tk, why)
		}
		if tk, why := f.ticketOf(t, ftp); tk != 0 || why != WithheldInhibited {
			t.Errorf("event of an inhibited type: ticket %d, withheld %q, want none and inhibited", tk, why)
		}
		if tk, _ := f.ticketOf(t, sent); tk == 0 {
			t.Errorf("event outside the inhibitions has no ticket")
		}

		// The type inhibition expires after 10 minutes: a later event of
		// that type is sent. Deleting the honeypot one ends it at once.
		f.advance(15 * time.Minute)
		ftp2 := f.event(t, f.a, "scan_ftp", "medium", "192.0.2.9")
		if err := f.svc.DeleteInhibition(asAdmin(t.Context(), f.b), honeypot.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("DeleteInhibition(other organisation) = %v, want NotFound", err)
		}
		if err := f.svc.DeleteInhibition(ctx, honeypot.ID); err != nil {
			t.Fatal(err)
		}
		honey2 := f.event(t, f.a, "scan_http", "high", "192.0.2.7")
		if _, err := f.svc.Dispatch(t.Context()); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{ftp2, honey2} {
			if tk, why := f.ticketOf(t, id); tk == 0 || why != "" {
				t.Errorf("event %d after its inhibition ended: ticket %d, withheld %q, want a ticket", id, tk, why)
			}
		}
		// The first events stay withheld: never sent later.
		if tk, _ := f.ticketOf(t, inhibited); tk != 0 {
			t.Errorf("the inhibited event was sent after the inhibition ended")
		}
		var n int
		db.QueryRow(t.Context(), `SELECT COUNT(*) FROM audit_log WHERE action LIKE 'earlywarning.inhibition_%' AND org_id = ?`, f.a).Scan(&n)
		if n != 3 {
			t.Errorf("audit records of inhibitions = %d, want 3 (two added, one deleted)", n)
		}
	})
}

func TestDispatchSelectsEvents(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := asAdmin(t.Context(), f.a)
		if _, err := f.svc.UpdateSettings(ctx, f.a, SettingsInput{Enabled: true, Channel: "portal", Interval: "hourly", MinSeverity: "medium",
			ReportTypes: []string{"scan_http", "event4_sinkhole"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.UpdateSettings(asAdmin(t.Context(), f.b), f.b, SettingsInput{Enabled: false, Channel: "portal", Interval: "immediate"}); err != nil {
			t.Fatal(err)
		}
		high := f.event(t, f.a, "scan_http", "high", "192.0.2.1")
		medium := f.event(t, f.a, "event4_sinkhole", "medium", "192.0.2.2")
		low := f.event(t, f.a, "scan_http", "low", "192.0.2.3")
		none := f.event(t, f.a, "scan_http", "", "192.0.2.4")
		other := f.event(t, f.a, "scan_ftp", "critical", "192.0.2.5")
		off := f.event(t, f.b, "scan_http", "critical", "198.51.100.1")

		// Two instances at once make one ticket.
		var wg sync.WaitGroup
		made := make([]int, 2)
		for i := range made {
			wg.Go(func() {
				n, err := f.svc.Dispatch(t.Context())
				if err != nil {
					t.Errorf("Dispatch = %v", err)
				}
				made[i] = n
			})
		}
		wg.Wait()
		if made[0]+made[1] != 1 || f.tickets(t, f.a) != 1 {
			t.Fatalf("two Dispatch at once made %v tickets (%d stored), want 1", made, f.tickets(t, f.a))
		}
		tk, _ := f.ticketOf(t, high)
		if tk2, _ := f.ticketOf(t, medium); tk == 0 || tk2 != tk {
			t.Errorf("high and medium events: tickets %d and %d, want the same one", tk, tk2)
		}
		for _, id := range []int64{low, none, other} {
			if got, why := f.ticketOf(t, id); got != 0 || why != WithheldFiltered {
				t.Errorf("event %d: ticket %d, withheld %q, want filtered", id, got, why)
			}
		}
		if got, why := f.ticketOf(t, off); got != 0 || why != WithheldDisabled {
			t.Errorf("event of an organisation with notifications off: ticket %d, withheld %q", got, why)
		}
		tkt, err := f.svc.Ticket(asMember(t.Context(), f.a), tk)
		if err != nil || !strings.HasPrefix(tkt.Ref, "EW-2026-") || tkt.Events != 2 || tkt.Status != StatusPortal || tkt.SentAt == nil {
			t.Errorf("Ticket = %+v, %v, want EW-2026-…, 2 events, portal", tkt, err)
		}
		if _, err := f.svc.Ticket(asAdmin(t.Context(), f.b), tk); !errs.Is(err, errs.NotFound) {
			t.Errorf("Ticket(other organisation) = %v, want NotFound", err)
		}
		if list, total, _ := f.svc.Tickets(asAdmin(t.Context(), f.b), TicketFilter{Org: f.a}); total != 0 || len(list) != 0 {
			t.Errorf("Tickets(other organisation, org=A) = %d tickets, want none", total)
		}

		// A new event within the hour waits; after it, it gets a ticket.
		later := f.event(t, f.a, "scan_http", "critical", "192.0.2.6")
		f.advance(30 * time.Minute)
		if n, err := f.svc.Dispatch(t.Context()); n != 0 || err != nil {
			t.Errorf("Dispatch within the interval = %d, %v, want nothing", n, err)
		}
		if got, why := f.ticketOf(t, later); got != 0 || why != "" {
			t.Errorf("event within the interval: ticket %d, withheld %q, want pending", got, why)
		}
		f.advance(31 * time.Minute)
		if n, err := f.svc.Dispatch(t.Context()); n != 1 || err != nil {
			t.Errorf("Dispatch after the interval = %d, %v, want 1", n, err)
		}
		if n, err := f.svc.Dispatch(t.Context()); n != 0 || err != nil {
			t.Errorf("Dispatch run again = %d, %v, want nothing", n, err)
		}
		if got := f.tickets(t, f.a); got != 2 {
			t.Errorf("tickets of A = %d, want 2", got)
		}
	})
}

// ---- e-mail through a real SMTP server ----

type smtpServer struct {
	addr string
	mu   sync.Mutex
	msgs [][]byte
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{addr: l.Addr().String()}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "mx.test"
	srv.AllowInsecureAuth = true
	srv.ErrorLog = log.New(io.Discard, "", 0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return s
}

func (s *smtpServer) wait(t *testing.T, n int) [][]byte {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s.mu.Lock()
		got := append([][]byte(nil), s.msgs...)
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("SMTP server received %d messages, want %d", len(got), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type session struct{ s *smtpServer }

func (ss *session) Mail(string, *smtp.MailOptions) error { return nil }
func (ss *session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (ss *session) Reset()                               {}
func (ss *session) Logout() error                        { return nil }
func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, b)
	ss.s.mu.Unlock()
	return nil
}

// received is a message read back: its recipient, subject, text and
// attachments by name.
type received struct {
	to, subject, text string
	files             map[string][]byte
}

func readMessage(t *testing.T, raw []byte) received {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subj, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	r := received{to: m.Header.Get("To"), subject: subj, files: map[string][]byte{}}
	walk(t, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), "", m.Body, &r)
	return r
}

func walk(t *testing.T, ctype, cte, disp string, body io.Reader, r *received) {
	t.Helper()
	mt, params, _ := mime.ParseMediaType(ctype)
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			walk(t, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p.Header.Get("Content-Disposition"), p, r)
		}
	}
	switch strings.ToLower(cte) {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	if _, dp, err := mime.ParseMediaType(disp); err == nil && dp["filename"] != "" {
		r.files[dp["filename"]] = b
		return
	}
	r.text += strings.ReplaceAll(string(b), "\r\n", "\n")
}

// startQueue works the service's delivery jobs.
func startQueue(t *testing.T, db *store.DB, svc *Service, mailer Sender) {
	t.Helper()
	w := jobs.NewWorkers()
	svc.Register(w)
	q, err := jobs.New(db, quiet(), w, jobs.Options{Work: true, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetDelivery(mailer, q)
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		q.Stop(ctx)
	})
}

func (f *fixture) waitStatus(t *testing.T, ticket int64, want string) *Ticket {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		tk, err := f.svc.Ticket(auth.With(t.Context(), auth.System), ticket)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Status == want {
			return tk
		}
		if time.Now().After(deadline) {
			t.Fatalf("ticket %s status = %s (error %q), want %s", tk.Ref, tk.Status, tk.Error, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newKey returns an OpenPGP key pair: the armoured public key and the
// entity with its private key.
func newKey(t *testing.T) (string, *openpgp.Entity) {
	t.Helper()
	e, err := openpgp.NewEntity("SOC A", "", "soc-pgp@a.example", nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return b.String(), e
}

func decrypt(t *testing.T, armoured []byte, key *openpgp.Entity) []byte {
	t.Helper()
	blk, err := armor.Decode(bytes.NewReader(armoured))
	if err != nil {
		t.Fatalf("armor.Decode: %v\n%s", err, armoured)
	}
	md, err := openpgp.ReadMessage(blk.Body, openpgp.EntityList{key}, nil, nil)
	if err != nil {
		t.Fatalf("openpgp.ReadMessage: %v", err)
	}
	b, err := io.ReadAll(md.UnverifiedBody)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEmailDigest(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		smtpSrv := startSMTP(t)
		host, port, _ := net.SplitHostPort(smtpSrv.addr)
		var p int
		fmt.Sscan(port, &p)
		mailer := notify.New(notify.SMTPConfig{Host: host, Port: p, TLS: notify.TLSNone, From: "Belfry <noreply@belfry.example>"}, i18n.MustLoad(), quiet())
		startQueue(t, db, f.svc, mailer)

		// A's registration: a 24/7 contact in French with an OpenPGP key,
		// a technical contact in Dutch without, and a contact of another
		// role, who gets nothing.
		pub, priv := newKey(t)
		prof := registry.Profile{Contacts: []registry.Contact{
			{Role: registry.RoleIncident24x7, Name: "SOC", Email: "soc-pgp@a.example", Language: "fr", PGPKey: pub},
			{Role: registry.RoleTechnicalAlerts, Name: "NOC", Email: "noc@a.example", Language: "nl"},
			{Role: registry.RoleLegalRepresentative, Name: "CEO", Email: "ceo@a.example", Language: "nl"},
		}}
		data, _ := json.Marshal(prof)
		if _, err := db.Exec(t.Context(), `INSERT INTO registrations (org_id, status, data, created_at, updated_at) VALUES (?, 'approved', ?, ?, ?)`,
			f.a, string(data), f.now, f.now); err != nil {
			t.Fatal(err)
		}
		f.event(t, f.a, "scan_http", "high", "192.0.2.1")
		f.event(t, f.a, "scan_http", "medium", "192.0.2.2")
		f.event(t, f.a, "event4_sinkhole", "high", "192.0.2.3")
		if n, err := f.svc.Dispatch(t.Context()); n != 1 || err != nil {
			t.Fatalf("Dispatch = %d, %v, want 1 ticket", n, err)
		}
		list, _, err := f.svc.Tickets(auth.With(t.Context(), auth.System), TicketFilter{Org: f.a})
		if err != nil || len(list) != 1 {
			t.Fatalf("Tickets = %v, %v", list, err)
		}
		tk := f.waitStatus(t, list[0].ID, StatusSent)
		if tk.Deliveries != 2 || tk.Delivered != 2 || tk.SentAt == nil {
			t.Errorf("ticket = %+v, want 2 of 2 delivered", tk)
		}
		_, evs, err := f.svc.TicketEvents(auth.With(t.Context(), auth.System), tk.ID)
		if err != nil || len(evs) != 3 {
			t.Fatalf("TicketEvents = %d, %v", len(evs), err)
		}
		wantCSV, err := eventsCSV(evs)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(wantCSV); hex.EncodeToString(sum[:]) != tk.SHA256 {
			t.Errorf("ticket sha256 = %s, want the CSV file's", tk.SHA256)
		}
		msgs := smtpSrv.wait(t, 2)
		byTo := map[string]received{}
		for _, raw := range msgs {
			r := readMessage(t, raw)
			byTo[r.to] = r
		}
		file := tk.Ref + "-events.csv"
		noc, ok := byTo["<noc@a.example>"]
		if !ok {
			t.Fatalf("no message to noc@a.example; got %v", byTo)
		}
		if !strings.Contains(noc.subject, tk.Ref) || !strings.Contains(noc.subject, "nieuwe gebeurtenissen") {
			t.Errorf("Subject = %q, want the ticket reference, in Dutch", noc.subject)
		}
		if !strings.Contains(noc.text, "scan_http: 2") || !strings.Contains(noc.text, "event4_sinkhole: 1") || !strings.Contains(noc.text, tk.SHA256) {
			t.Errorf("digest text = %q, want the counts per report type and the hash", noc.text)
		}
		got := noc.files[file]
		if !bytes.Equal(got, wantCSV) {
			t.Errorf("attachment %s = %q, want %q", file, got, wantCSV)
		}
		header := strings.SplitN(string(got), "\r\n", 2)[0]
		if !strings.HasPrefix(header, "event_id,time.source,feed.code,severity,") || !strings.Contains(header, "protocol.transport") {
			t.Errorf("CSV header = %q", header)
		}
		if !strings.Contains(string(got), ",'=cmd|x,") || !strings.Contains(string(got), "192.0.2.1,8080,64511") {
			t.Errorf("CSV rows = %q, want the defused formula and the typed members", got)
		}

		soc, ok := byTo["<soc-pgp@a.example>"]
		if !ok {
			t.Fatalf("no message to soc-pgp@a.example")
		}
		if !strings.Contains(soc.subject, tk.Ref) || !strings.Contains(soc.subject, "nouveaux événements") {
			t.Errorf("Subject = %q, want the ticket reference, in French", soc.subject)
		}
		if !strings.HasPrefix(strings.TrimSpace(soc.text), "-----BEGIN PGP MESSAGE-----") || strings.Contains(soc.text, "192.0.2.1") {
			t.Fatalf("body to a contact with a key is not an OpenPGP message: %q", soc.text)
		}
		if plain := decrypt(t, []byte(soc.text), priv); !strings.Contains(string(plain), "scan_http : 2") && !strings.Contains(string(plain), "scan_http: 2") {
			t.Errorf("decrypted body = %q, want the digest", plain)
		}
		enc, ok := soc.files[file+".asc"]
		if !ok || len(soc.files) != 1 {
			t.Fatalf("attachments = %v, want only %s.asc", len(soc.files), file)
		}
		if plain := decrypt(t, enc, priv); !bytes.Equal(plain, wantCSV) {
			t.Errorf("decrypted attachment = %q, want the CSV file", plain)
		}
	})
}

func TestWebhook(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		const secret = "a-webhook-secret-of-32-characters"
		type call struct {
			sig, ref string
			body     []byte
		}
		calls := make(chan call, 4)
		fail := true
		var mu sync.Mutex
		ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			f1 := fail
			fail = false
			mu.Unlock()
			if f1 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			calls <- call{r.Header.Get(SignatureHeader), r.Header.Get(TicketHeader), b}
		}))
		t.Cleanup(ts.Close)
		f.svc.SetHTTPClient(ts.Client())
		startQueue(t, db, f.svc, nil)
		if _, err := f.svc.UpdateSettings(asAdmin(t.Context(), f.a), f.a, SettingsInput{Enabled: true, Channel: "webhook", Interval: "immediate",
			WebhookURL: ts.URL + "/hook", WebhookSecret: secret}); err != nil {
			t.Fatal(err)
		}
		f.event(t, f.a, "scan_http", "high", "192.0.2.1")
		if n, err := f.svc.Dispatch(t.Context()); n != 1 || err != nil {
			t.Fatalf("Dispatch = %d, %v", n, err)
		}
		var c call
		select {
		case c = <-calls:
		case <-time.After(30 * time.Second):
			t.Fatal("the webhook was not called again after its first failure")
		}
		mac := Sign(secret, c.body)
		if c.sig != mac {
			t.Errorf("%s = %q, want %q", SignatureHeader, c.sig, mac)
		}
		var doc WebhookDocument
		if err := json.Unmarshal(c.body, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Ticket.Ref != c.ref || len(doc.Events) != 1 || doc.Events[0]["source.ip"] != "192.0.2.1" || doc.Events[0]["protocol.transport"] != "tcp" {
			t.Errorf("webhook document = %s", c.body)
		}
		list, _, _ := f.svc.Tickets(auth.With(t.Context(), auth.System), TicketFilter{Org: f.a})
		tk := f.waitStatus(t, list[0].ID, StatusSent)
		sum := sha256.Sum256(c.body)
		if tk.SHA256 != hex.EncodeToString(sum[:]) || tk.Attempts != 2 {
			t.Errorf("ticket = %+v, want the body's SHA-256 and 2 attempts", tk)
		}
	})
}

func TestWebhookRefusesPrivateAddresses(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer ts.Close()
	c := webhookClient(false)
	c.Transport.(*http.Transport).TLSClientConfig = ts.Client().Transport.(*http.Transport).TLSClientConfig
	if _, err := c.Post(ts.URL, "application/json", strings.NewReader("{}")); err == nil || !strings.Contains(err.Error(), "not public") {
		t.Errorf("POST to %s = %v, want refused as not public", ts.URL, err)
	}
}
