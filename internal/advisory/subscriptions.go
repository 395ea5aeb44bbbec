package advisory

// E-mail alerts of new TLP:CLEAR advisories. Anybody may ask for them,
// for everything or for one vendor or product, without an account: a
// confirmation link (double opt-in) proves the address, behind a button
// because mail scanners follow links. Every alert carries an unsubscribe
// link. The answer to a request is the same whatever the address, and an
// address cannot be flooded: a repeat within five minutes, or a fourth
// unconfirmed request within the hour, sends nothing.
//
// The confirmation token is random and stored hashed (token_hash). The
// unsubscribe token is "id.mac": an HMAC-SHA256 of the subscription's id,
// address and token hash under a random key kept in the settings table
// (the same on every instance), so that every alert can carry it without
// the table keeping a secret in clear.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/web"
)

// Throttling and lifetime of subscription requests.
const (
	subConfirmTTL    = 72 * time.Hour
	subResendWindow  = 5 * time.Minute
	subPendingWindow = time.Hour
	subMaxPending    = 3
	subMaxName       = 200 // characters of a vendor or product filter
)

// unsubKeySetting names the HMAC key of unsubscribe links in settings.
const unsubKeySetting = "advisory_unsubscribe_key"

// SubscribeInput is a request for e-mail alerts.
type SubscribeInput struct {
	Email   string `json:"email"`
	Locale  string `json:"locale"`
	Vendor  string `json:"vendor"`
	Product string `json:"product"`
}

// Subscription is a request for alerts as its links show it.
type Subscription struct {
	ID        int64
	Email     string
	Locale    string
	Vendor    string
	Product   string
	Confirmed bool
	CreatedAt time.Time
	tokenHash string
}

func subLinkInvalid() error { return errs.E(errs.NotFound, "err.advpub.link_invalid") }

func subHash(token string) string { return identity.TokenHash(token) }

// check normalises in and reports what is wrong with it.
func (in *SubscribeInput) check() error {
	var v errs.Validator
	in.Email = strings.TrimSpace(in.Email)
	in.Vendor, in.Product = strings.TrimSpace(in.Vendor), strings.TrimSpace(in.Product)
	in.Locale = strings.TrimSpace(in.Locale)
	if in.Email == "" {
		v.Add("email", "err.advpub.email_required", nil)
	} else if e, ok := identity.NormalizeEmail(in.Email); ok {
		in.Email = e
	} else {
		v.Add("email", "err.advpub.email_invalid", nil)
	}
	v.Check(i18n.Supported(in.Locale), "locale", "err.advpub.locale")
	v.Check(len([]rune(in.Vendor)) <= subMaxName, "vendor", "err.advpub.vendor_long")
	v.Check(len([]rune(in.Product)) <= subMaxName, "product", "err.advpub.product_long")
	return v.Err()
}

// Subscribe records a request for alerts and mails its confirmation link.
// The answer is the same whatever the address and whether a mail went out.
func (s *Service) Subscribe(ctx context.Context, in SubscribeInput) error {
	_, err := s.subscribe(ctx, in)
	return err
}

// subscribe is Subscribe returning the confirmation token ("" if no mail
// went out), for tests.
func (s *Service) subscribe(ctx context.Context, in SubscribeInput) (string, error) {
	if err := in.check(); err != nil {
		return "", err
	}
	now := s.tick()
	var token string
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		token = ""
		// Requests never confirmed are forgotten once their link expired.
		if _, err := tx.Exec(ctx, `DELETE FROM advisory_subscriptions WHERE confirmed_at IS NULL AND created_at < ?`,
			now.Add(-subConfirmTTL)); err != nil {
			return err
		}
		var repeats, pending int
		if err := tx.QueryRow(ctx, `SELECT
			COUNT(CASE WHEN lower(vendor) = lower(?) AND lower(product) = lower(?) AND created_at > ? THEN 1 END),
			COUNT(CASE WHEN confirmed_at IS NULL AND created_at > ? THEN 1 END)
			FROM advisory_subscriptions WHERE lower(email) = lower(?)`,
			in.Vendor, in.Product, now.Add(-subResendWindow), now.Add(-subPendingWindow), in.Email).Scan(&repeats, &pending); err != nil {
			return err
		}
		if repeats > 0 || pending >= subMaxPending {
			s.log.Info("advisory subscription throttled", "repeat", repeats > 0, "pending", pending)
			return nil
		}
		t := rand.Text() + rand.Text()
		if _, err := tx.Exec(ctx, `INSERT INTO advisory_subscriptions (email, locale, vendor, product, token_hash, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, in.Email, in.Locale, in.Vendor, in.Product, subHash(t), now); err != nil {
			return err
		}
		token = t
		if s.mail == nil || s.cat == nil {
			return nil
		}
		l := in.Locale
		link := s.cfg.BaseURL + "/" + l + "/advisories/subscribe/confirm?token=" + url.QueryEscape(t)
		body := s.cat.T(l, "advpub.mail.confirm.body", map[string]any{"filter": s.filterText(l, in.Vendor, in.Product),
			"link": link, "expires": s.cat.DateTime(l, now.Add(subConfirmTTL))}) +
			"\n\n" + s.cat.T(l, "mail.auto_generated", nil) + "\n"
		return s.mail.Enqueue(ctx, tx, notify.Message{To: []string{in.Email},
			Subject: "[Belfry] " + s.cat.T(l, "advpub.mail.confirm.subject", nil), Text: body})
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// filterText says in words which advisories a subscription asks for.
func (s *Service) filterText(l, vendor, product string) string {
	switch {
	case vendor != "" && product != "":
		return s.cat.T(l, "advpub.filter.both", map[string]any{"vendor": vendor, "product": product})
	case vendor != "":
		return s.cat.T(l, "advpub.filter.vendor", map[string]any{"vendor": vendor})
	case product != "":
		return s.cat.T(l, "advpub.filter.product", map[string]any{"product": product})
	}
	return s.cat.T(l, "advpub.filter.all", nil)
}

const subCols = `id, email, locale, vendor, product, token_hash, confirmed_at, created_at`

func scanSub(row interface{ Scan(...any) error }) (*Subscription, error) {
	var sub Subscription
	var confirmed sql.Null[time.Time]
	err := row.Scan(&sub.ID, &sub.Email, &sub.Locale, &sub.Vendor, &sub.Product, &sub.tokenHash, &confirmed, &sub.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, subLinkInvalid()
	}
	if err != nil {
		return nil, err
	}
	sub.Confirmed = confirmed.Valid
	sub.CreatedAt = sub.CreatedAt.UTC()
	return &sub, nil
}

// SubscriptionByToken returns the subscription of a confirmation link:
// confirmed, or waiting and not expired. Anything else is NotFound.
func (s *Service) SubscriptionByToken(ctx context.Context, token string) (*Subscription, error) {
	return s.subByToken(ctx, s.db, token)
}

func (s *Service) subByToken(ctx context.Context, q store.Querier, token string) (*Subscription, error) {
	if token == "" {
		return nil, subLinkInvalid()
	}
	sub, err := scanSub(q.QueryRow(ctx, `SELECT `+subCols+` FROM advisory_subscriptions WHERE token_hash = ?`, subHash(token)))
	if err != nil {
		return nil, err
	}
	if !sub.Confirmed && !sub.CreatedAt.After(s.tick().Add(-subConfirmTTL)) {
		return nil, subLinkInvalid()
	}
	return sub, nil
}

// ConfirmSubscription confirms the subscription of a confirmation link;
// confirming twice changes nothing.
func (s *Service) ConfirmSubscription(ctx context.Context, token string) (*Subscription, error) {
	var sub *Subscription
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if sub, err = s.subByToken(ctx, tx, token); err != nil || sub.Confirmed {
			return err
		}
		sub.Confirmed = true
		_, err = tx.Exec(ctx, `UPDATE advisory_subscriptions SET confirmed_at = ? WHERE id = ? AND confirmed_at IS NULL`, s.tick(), sub.ID)
		return err
	})
	return sub, err
}

// unsubKey returns the HMAC key of unsubscribe links, creating it on first
// use when create is set; nil if there is none yet.
func unsubKey(ctx context.Context, tx store.Querier, create bool) ([]byte, error) {
	if create {
		b := make([]byte, 32)
		rand.Read(b)
		if _, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
			unsubKeySetting, hex.EncodeToString(b)); err != nil {
			return nil, err
		}
	}
	var v string
	err := tx.QueryRow(ctx, `SELECT value FROM settings WHERE key = ?`, unsubKeySetting).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(v)
}

func unsubMAC(key []byte, sub *Subscription) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("belfry advisory unsubscribe\x00" + strconv.FormatInt(sub.ID, 10) + "\x00" + strings.ToLower(sub.Email) +
		"\x00" + sub.tokenHash))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// unsubToken is the token of sub's unsubscribe link.
func unsubToken(key []byte, sub *Subscription) string {
	return strconv.FormatInt(sub.ID, 10) + "." + unsubMAC(key, sub)
}

// SubscriptionByUnsubscribeToken returns the confirmed subscription of an
// unsubscribe link; NotFound if it is not valid (or already cancelled).
func (s *Service) SubscriptionByUnsubscribeToken(ctx context.Context, token string) (*Subscription, error) {
	return s.subByUnsub(ctx, s.db, token)
}

func (s *Service) subByUnsub(ctx context.Context, q store.Querier, token string) (*Subscription, error) {
	ids, mac, ok := strings.Cut(token, ".")
	id, err := strconv.ParseInt(ids, 10, 64)
	if !ok || err != nil || id <= 0 || mac == "" {
		return nil, subLinkInvalid()
	}
	key, err := unsubKey(ctx, q, false)
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, subLinkInvalid()
	}
	sub, err := scanSub(q.QueryRow(ctx, `SELECT `+subCols+` FROM advisory_subscriptions WHERE id = ?`, id))
	if err != nil {
		return nil, err
	}
	if !hmac.Equal([]byte(unsubMAC(key, sub)), []byte(mac)) {
		return nil, subLinkInvalid()
	}
	return sub, nil
}

// Unsubscribe deletes the subscription of an unsubscribe link.
func (s *Service) Unsubscribe(ctx context.Context, token string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		sub, err := s.subByUnsub(ctx, tx, token)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM advisory_subscriptions WHERE id = ?`, sub.ID)
		return err
	})
}

// matches reports whether a subscription's filter selects an advisory
// about these vendors and products (case-insensitive; an empty filter
// selects everything).
func (sub *Subscription) matches(products [][2]string) bool {
	if sub.Vendor == "" && sub.Product == "" {
		return true
	}
	return slices.ContainsFunc(products, func(p [2]string) bool {
		return (sub.Vendor == "" || strings.EqualFold(sub.Vendor, p[0])) && (sub.Product == "" || strings.EqualFold(sub.Product, p[1]))
	})
}

// alert queues the e-mail alerts of a newly published version, in tx:
// one mail per address among the confirmed subscriptions that select the
// advisory, in the subscriber's language. Only TLP:CLEAR (WHITE)
// advisories are ever mailed to subscribers.
func (s *Service) alert(ctx context.Context, tx *store.Tx, a *Advisory, p *Prepared, sum summary) error {
	if s.mail == nil || s.cat == nil || p == nil || p.Document == nil {
		return nil
	}
	d := p.Document.Document
	if d.Distribution == nil || d.Distribution.TLP == nil || d.Distribution.TLP.Label != "WHITE" {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT `+subCols+` FROM advisory_subscriptions WHERE confirmed_at IS NOT NULL ORDER BY id`)
	if err != nil {
		return err
	}
	var subs []*Subscription
	seen := map[string]bool{}
	for rows.Next() {
		sub, err := scanSub(rows)
		if err != nil {
			rows.Close()
			return err
		}
		if addr := strings.ToLower(sub.Email); !seen[addr] && sub.matches(sum.Products) {
			seen[addr] = true
			subs = append(subs, sub)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(subs) == 0 {
		return err
	}
	key, err := unsubKey(ctx, tx, true)
	if err != nil {
		return err
	}
	var summaries []string
	for _, n := range d.Notes {
		if n.Category == "summary" {
			summaries = append(summaries, strings.TrimSpace(n.Text))
		}
	}
	for _, sub := range subs {
		m := s.alertMail(sub, a, p, sum, strings.Join(summaries, "\n\n"), unsubToken(key, sub))
		if err := s.mail.Enqueue(ctx, tx, m); err != nil {
			return err
		}
	}
	return nil
}

// alertMail writes the alert of version p of a to sub.
func (s *Service) alertMail(sub *Subscription, a *Advisory, p *Prepared, sum summary, summaryText, unsub string) notify.Message {
	l := sub.Locale
	if !i18n.Supported(l) {
		l = i18n.Default
	}
	t := func(key string, args map[string]any) string { return s.cat.T(l, key, args) }
	title := p.Document.Document.Title
	severity := t("advpub.severity.unrated", nil)
	sevLine := t("advpub.mail.severity_unrated", nil)
	if sum.Severity != "" {
		severity = t("advpub.severity."+sum.Severity, nil)
		sevLine = severity
		if sum.Score != nil {
			sevLine = t("advpub.mail.severity", map[string]any{"severity": severity, "score": pubScoreText(l, *sum.Score)})
		}
	}
	kind := "new"
	if p.Version > 1 {
		kind = "update"
	}
	args := map[string]any{"id": a.TrackingID, "title": title, "severity": severity, "version": p.Version,
		"publisher": s.cfg.Publisher.Name}
	var b strings.Builder
	b.WriteString(t("advpub.mail."+kind+".intro", args) + "\n\n")
	b.WriteString(a.TrackingID + ": " + title + "\n" + sevLine + "\nTLP:CLEAR\n")
	if summaryText != "" {
		b.WriteString("\n" + t("advpub.mail.summary", nil) + "\n" + summaryText + "\n")
	}
	if len(sum.Products) > 0 {
		b.WriteString("\n" + t("advpub.mail.products", nil) + "\n")
		for _, vp := range sum.Products {
			b.WriteString("- " + strings.TrimSpace(vp[0]+" "+vp[1]) + "\n")
		}
	}
	page := s.cfg.BaseURL + "/" + l + "/advisories/" + url.PathEscape(a.TrackingID)
	b.WriteString("\n" + t("advpub.mail.read", map[string]any{"link": page}) + "\n\n")
	b.WriteString(t("advpub.mail.why", map[string]any{"filter": s.filterText(l, sub.Vendor, sub.Product)}) + "\n")
	link := s.cfg.BaseURL + "/" + l + "/advisories/unsubscribe?token=" + url.QueryEscape(unsub)
	b.WriteString(t("advpub.mail.unsubscribe", map[string]any{"link": link}) + "\n\n")
	b.WriteString(t("mail.auto_generated", nil) + "\n")
	return notify.Message{To: []string{sub.Email}, Subject: t("advpub.mail."+kind+".subject", args), Text: b.String()}
}

// ---- pages and API ----

func (h *handlers) subscriptionRoutes() {
	h.srv.PublicPage("GET /advisories/subscribe", h.subForm)
	h.srv.PublicPage("POST /advisories/subscribe", h.subSubmit)
	h.srv.PublicPage("GET /advisories/subscribe/sent", h.subSent)
	h.srv.PublicPage("GET /advisories/subscribe/confirm", h.subConfirmForm)
	h.srv.PublicPage("POST /advisories/subscribe/confirm", h.subConfirm)
	h.srv.PublicPage("GET /advisories/unsubscribe", h.unsubForm)
	h.srv.PublicPage("POST /advisories/unsubscribe", h.unsub)
	h.srv.PublicPage("GET /advisories/unsubscribe/done", h.unsubDone)
	h.srv.PublicAPI("POST /api/v1/advisories/subscriptions", h.apiSubscribe)
}

func (h *handlers) renderSubForm(w http.ResponseWriter, r *http.Request, form url.Values, err error) error {
	p := &web.Page{Title: h.pt(r, "advpub.sub.title", nil), Form: form}
	status := http.StatusOK
	if err != nil {
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid {
			return err
		}
		for _, f := range e.Fields {
			p.Errors = append(p.Errors, web.FieldMessage{Field: f.Field, Message: h.srv.Message(r, f.Code, f.Args)})
		}
		status = http.StatusUnprocessableEntity
	}
	return h.srv.RenderPage(w, r, status, "adv_sub_form", p)
}

func (h *handlers) subForm(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	form := url.Values{}
	// Prefilled from an advisory's page: "alerts about this vendor".
	for _, k := range []string{"vendor", "product"} {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			form.Set(k, v)
		}
	}
	return h.renderSubForm(w, r, form, nil)
}

func (h *handlers) subSubmit(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	if f.Get("website") != "" {
		// The honeypot field is invisible to people; only robots fill it.
		return web.Redirect(w, r, "/advisories/subscribe/sent")
	}
	in := SubscribeInput{Email: f.Get("email"), Vendor: f.Get("vendor"), Product: f.Get("product"), Locale: web.Locale(r)}
	if err := h.svc.Subscribe(r.Context(), in); err != nil {
		return h.renderSubForm(w, r, f, err)
	}
	return web.Redirect(w, r, "/advisories/subscribe/sent")
}

func (h *handlers) subSent(w http.ResponseWriter, r *http.Request) error {
	return h.srv.Render(w, r, http.StatusOK, "adv_sub_sent", "advpub.sent.title", nil)
}

func (h *handlers) subInvalid(w http.ResponseWriter, r *http.Request) error {
	return h.srv.Render(w, r, http.StatusNotFound, "adv_sub_invalid", "advpub.invalid.title", nil)
}

func (h *handlers) subConfirmForm(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	sub, err := h.svc.SubscriptionByToken(r.Context(), token)
	if errs.Is(err, errs.NotFound) {
		return h.subInvalid(w, r)
	}
	if err != nil {
		return err
	}
	title := "advpub.confirm.title"
	if sub.Confirmed {
		title = "advpub.confirmed.title"
	}
	return h.srv.RenderPage(w, r, http.StatusOK, "adv_sub_confirm", &web.Page{Title: h.pt(r, title, nil),
		Form: url.Values{"token": {token}}, Data: map[string]any{"Sub": sub, "Filter": h.svc.filterText(web.Locale(r), sub.Vendor, sub.Product)}})
}

func (h *handlers) subConfirm(w http.ResponseWriter, r *http.Request) error {
	token := r.PostForm.Get("token")
	_, err := h.svc.ConfirmSubscription(r.Context(), token)
	if errs.Is(err, errs.NotFound) {
		return h.subInvalid(w, r)
	}
	if err != nil {
		return err
	}
	h.srv.Flash(w, "advpub.flash.confirmed")
	return web.Redirect(w, r, "/advisories/subscribe/confirm?token="+url.QueryEscape(token))
}

func (h *handlers) unsubForm(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	sub, err := h.svc.SubscriptionByUnsubscribeToken(r.Context(), token)
	if errs.Is(err, errs.NotFound) {
		return h.subInvalid(w, r)
	}
	if err != nil {
		return err
	}
	return h.srv.RenderPage(w, r, http.StatusOK, "adv_sub_unsubscribe", &web.Page{Title: h.pt(r, "advpub.unsub.title", nil),
		Form: url.Values{"token": {token}}, Data: map[string]any{"Sub": sub, "Filter": h.svc.filterText(web.Locale(r), sub.Vendor, sub.Product)}})
}

func (h *handlers) unsub(w http.ResponseWriter, r *http.Request) error {
	err := h.svc.Unsubscribe(r.Context(), r.PostForm.Get("token"))
	if errs.Is(err, errs.NotFound) {
		return h.subInvalid(w, r)
	}
	if err != nil {
		return err
	}
	return web.Redirect(w, r, "/advisories/unsubscribe/done")
}

func (h *handlers) unsubDone(w http.ResponseWriter, r *http.Request) error {
	return h.srv.Render(w, r, http.StatusOK, "adv_sub_done", "advpub.unsubscribed.title", nil)
}

// subAccepted is the answer to a request for alerts, whatever the address.
type subAccepted struct {
	Message string `json:"message"`
}

func (h *handlers) apiSubscribe(w http.ResponseWriter, r *http.Request) error {
	var in SubscribeInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Locale == "" {
		in.Locale = web.Locale(r)
	}
	if err := h.svc.Subscribe(r.Context(), in); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusAccepted, subAccepted{Message: h.pt(r, "advpub.api.accepted", nil)})
}
