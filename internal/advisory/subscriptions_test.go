package advisory

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
)

// subMailbox keeps the mail the service queues.
type subMailbox struct{ msgs []notify.Message }

func (m *subMailbox) Enqueue(_ context.Context, _ *store.Tx, msg notify.Message) error {
	m.msgs = append(m.msgs, msg)
	return nil
}

// take returns the mail queued since the last call, by recipient.
func (m *subMailbox) take() map[string]notify.Message {
	out := map[string]notify.Message{}
	for _, msg := range m.msgs {
		out[strings.Join(msg.To, ",")] = msg
	}
	m.msgs = nil
	return out
}

func subRecipients(got map[string]notify.Message) []string {
	var out []string
	for k := range got {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

var subUnsubRE = regexp.MustCompile(`/advisories/unsubscribe\?token=(\S+)`)

func TestSubscriptionsAlertTheRightPeople(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		cat, err := i18n.Load()
		if err != nil {
			t.Fatal(err)
		}
		box := &subMailbox{}
		f.svc.SetMail(box, cat)
		ctx := f.anonymous

		// Input is checked; the answer never depends on the address.
		for _, in := range []SubscribeInput{{Email: "", Locale: "en"}, {Email: "not an address", Locale: "en"}, {Email: "x@example.be", Locale: "es"},
			{Email: "x@example.be", Locale: "en", Vendor: strings.Repeat("v", 201)}} {
			if err := f.svc.Subscribe(ctx, in); !errs.Is(err, errs.Invalid) {
				t.Errorf("Subscribe(%+v) = %v, want Invalid", in, err)
			}
		}
		sub := func(email, locale, vendor, product string) string {
			t.Helper()
			tok, err := f.svc.subscribe(ctx, SubscribeInput{Email: email, Locale: locale, Vendor: vendor, Product: product})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		tx := sub("x@example.be", "en", "example networks", "")
		mails := box.take()
		confirm, ok := mails["x@example.be"]
		if !ok || !strings.Contains(confirm.Text, "https://belfry.example/en/advisories/subscribe/confirm?token="+url.QueryEscape(tx)) ||
			!strings.Contains(confirm.Text, "advisories about products of example networks") {
			t.Fatalf("confirmation mail = %+v", mails)
		}
		// A repeat within five minutes sends nothing, and says the same.
		if again := sub("x@example.be", "en", "Example Networks", ""); again != "" || len(box.take()) != 0 {
			t.Error("a repeat sent a second confirmation")
		}
		ty := sub("y@example.be", "fr", "Other Corp", "")
		tall := sub("all@example.be", "de", "", "")
		tall2 := sub("All@example.be", "de", "", "Example Gateway") // the same person, a second filter
		tp := sub("pending@example.be", "en", "", "")
		// At most three unconfirmed requests an hour per address.
		for i, p := range []string{"A", "B", "C", "D"} {
			if got := sub("flood@example.be", "en", "", p); (got != "") != (i < 3) {
				t.Errorf("request %d of flood@ sent mail: %v, want %v", i+1, got != "", i < 3)
			}
		}
		var floods int
		if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM advisory_subscriptions WHERE email = 'flood@example.be'`).Scan(&floods); err != nil || floods != 3 {
			t.Errorf("%d requests stored for flood@ (%v), want 3", floods, err)
		}
		box.take()

		for _, tok := range []string{tx, ty, tall, tall2} {
			s, err := f.svc.SubscriptionByToken(ctx, tok)
			if err != nil || s.Confirmed {
				t.Fatalf("SubscriptionByToken = %+v, %v", s, err)
			}
			if s, err = f.svc.ConfirmSubscription(ctx, tok); err != nil || !s.Confirmed {
				t.Fatalf("ConfirmSubscription = %+v, %v", s, err)
			}
			if s, err = f.svc.ConfirmSubscription(ctx, tok); err != nil || !s.Confirmed {
				t.Fatalf("ConfirmSubscription twice = %+v, %v", s, err)
			}
		}
		if _, err := f.svc.ConfirmSubscription(ctx, "wrong"+tx); !errs.Is(err, errs.NotFound) {
			t.Errorf("ConfirmSubscription(wrong) = %v, want NotFound", err)
		}

		// An advisory about Example Networks: x and all (once), not y nor
		// the unconfirmed request.
		w1 := pubPublish(t, f, "Example Gateway: remote code execution", "WHITE", nil,
			pubFill("Example Networks", "Example Gateway", "CVE-2026-12345", pubCritical))
		got := box.take()
		if r := subRecipients(got); !slices.Equal(r, []string{"all@example.be", "x@example.be"}) {
			t.Fatalf("alert of %s went to %v", w1, r)
		}
		x := got["x@example.be"]
		if x.Subject != "[TLP:CLEAR] "+w1+": Example Gateway: remote code execution (Critical)" {
			t.Errorf("subject %q", x.Subject)
		}
		for _, want := range []string{"https://belfry.example/en/advisories/" + w1, "Example Networks Example Gateway", "9.8",
			"A remote code execution flaw in Example Gateway.", "https://belfry.example/en/advisories/unsubscribe?token="} {
			if !strings.Contains(x.Text, want) {
				t.Errorf("x's alert lacks %q:\n%s", want, x.Text)
			}
		}
		if de := got["all@example.be"]; !strings.Contains(de.Subject, "(Kritisch)") || !strings.Contains(de.Text, "/de/advisories/"+w1) {
			t.Errorf("the German alert: %q\n%s", de.Subject, de.Text)
		}

		// Nobody gets an AMBER advisory, whatever it is about.
		pubPublish(t, f, "Restricted advisory", "AMBER", []int64{f.orgA},
			pubFill("Other Corp", "Other Router", "CVE-2026-44444", pubMedium))
		pubPublish(t, f, "Community advisory", "GREEN", nil, fill)
		if got := box.take(); len(got) != 0 {
			t.Errorf("restricted advisories were mailed to %v", subRecipients(got))
		}

		// An advisory about Other Corp: y (in French) and all.
		w2 := pubPublish(t, f, "Other Router: information leak", "WHITE", nil,
			pubFill("Other Corp", "Other Router", "CVE-2026-22222", pubMedium))
		got = box.take()
		if r := subRecipients(got); !slices.Equal(r, []string{"all@example.be", "y@example.be"}) {
			t.Fatalf("alert of %s went to %v", w2, r)
		}
		if y := got["y@example.be"]; !strings.Contains(y.Subject, w2+"\u00a0:") || !strings.Contains(y.Text, "/fr/advisories/"+w2) {
			t.Errorf("the French alert: %q\n%s", y.Subject, y.Text)
		}

		// x stops the alerts with the link of the mail.
		m := subUnsubRE.FindStringSubmatch(x.Text)
		if m == nil {
			t.Fatal("no unsubscribe link")
		}
		utok, _ := url.QueryUnescape(m[1])
		if s, err := f.svc.SubscriptionByUnsubscribeToken(ctx, utok); err != nil || s.Email != "x@example.be" {
			t.Fatalf("SubscriptionByUnsubscribeToken = %+v, %v", s, err)
		}
		id, _, _ := strings.Cut(utok, ".")
		for _, bad := range []string{utok + "x", id + ".AAAA", "", "7", "0.x"} {
			if err := f.svc.Unsubscribe(ctx, bad); !errs.Is(err, errs.NotFound) {
				t.Errorf("Unsubscribe(%q) = %v, want NotFound", bad, err)
			}
		}
		if err := f.svc.Unsubscribe(ctx, utok); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Unsubscribe(ctx, utok); !errs.Is(err, errs.NotFound) {
			t.Errorf("Unsubscribe twice = %v, want NotFound", err)
		}

		// A new version of the first advisory is an update; x gets nothing.
		a, _ := f.svc.ByTrackingID(f.authorCtx, w1)
		if _, err := f.svc.Revise(f.authorCtx, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Submit(f.authorCtx, a.ID, SubmitInput{Status: "final", Summary: "Exploitation seen"}); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(time.Hour)
		if _, err := f.svc.Approve(f.revCtx, a.ID, nil); err != nil {
			t.Fatal(err)
		}
		got = box.take()
		if r := subRecipients(got); !slices.Equal(r, []string{"all@example.be"}) {
			t.Fatalf("update went to %v", r)
		}
		if s := got["all@example.be"].Subject; !strings.Contains(s, "aktualisiert") {
			t.Errorf("update subject %q", s)
		}

		// A confirmation link expires after three days.
		f.now = f.now.Add(73 * time.Hour)
		if _, err := f.svc.SubscriptionByToken(ctx, tp); !errs.Is(err, errs.NotFound) {
			t.Errorf("an expired link = %v, want NotFound", err)
		}
		if _, err := f.svc.SubscriptionByToken(ctx, ty); err != nil {
			t.Errorf("a confirmed subscription's link = %v", err)
		}
	})
}

func TestSubscriptionMatches(t *testing.T) {
	products := [][2]string{{"Example Networks", "Example Gateway"}, {"Other Corp", "Other Router"}}
	for _, c := range []struct {
		vendor, product string
		want            bool
	}{
		{"", "", true},
		{"example networks", "", true},
		{"", "OTHER ROUTER", true},
		{"Example Networks", "Example Gateway", true},
		{"Example Networks", "Other Router", false},
		{"Example", "", false},
		{"Third Party", "", false},
	} {
		s := &Subscription{Vendor: c.vendor, Product: c.product}
		if got := s.matches(products); got != c.want {
			t.Errorf("matches(%q, %q) = %v, want %v", c.vendor, c.product, got, c.want)
		}
	}
	if (&Subscription{Vendor: "X"}).matches(nil) {
		t.Error("a vendor filter matches an advisory without products")
	}
}
