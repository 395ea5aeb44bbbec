package cases

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// crlf writes a message with the line ends of the wire.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func b64lines(s string) string {
	enc := base64.StdEncoding.EncodeToString([]byte(s))
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60] + "\n")
		enc = enc[60:]
	}
	return b.String() + enc
}

var emailCases = []struct {
	name        string
	raw         []byte
	title       string
	contains    []string // in the description
	notContains []string
	observables []string // "type value", sorted
}{
	{
		name: "plain",
		raw: crlf(`Received: from mail.evil.example (mail.evil.example [198.51.100.23])
	by mx.ccb.example (Postfix) with ESMTPS id 4Xy; Fri, 27 Nov 2026 16:02:11 +0100
Received: from [10.1.2.3] (helo=laptop) by mail.evil.example with esmtpsa; Fri, 27 Nov 2026 16:02:09 +0100
Return-Path: <bounce@Mailer.Example>
From: "Service client" <alice@Bank-Secure.EXAMPLE>
Reply-To: alice@bank-secure.example
To: soc@grid-a.example
Subject: Your account is blocked
Date: Fri, 27 Nov 2026 16:02:08 +0100
Message-ID: <abc123@mail.evil.example>

Dear customer,

Please confirm your details at https://bank-secure.example/login?id=42.
Or here (https://BANK-secure.example/login?id=42) or <http://203.0.113.80/x>.
Not a link: hxxp://defanged.example/
Nor Markdown: ` + "```` [click](https://bank-secure.example/login?id=42) ```" + `
`),
		title:    "E-mail: Your account is blocked",
		contains: []string{"From: \"Service client\" <alice@Bank-Secure.EXAMPLE>", "Subject: Your account is blocked", "Message-ID: <abc123@mail.evil.example>", "Please confirm your details"},
		observables: []string{
			"domain bank-secure.example",
			"email alice@bank-secure.example",
			"email bounce@mailer.example",
			"ip 198.51.100.23",
			"url http://203.0.113.80/x",
			"url https://bank-secure.example/login?id=42",
		},
	},
	{
		name: "multipart/alternative, quoted-printable",
		raw: crlf(`From: it-support@grid-a.example
To: cert@ccb.example
Subject: Fwd: password reset
Date: Fri, 27 Nov 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

R=C3=A9initialisez votre mot de passe : https://reset.phish.example/a?tok=3D=
abc&u=3D1
--b1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<p>R=C3=A9initialisez <a href=3D"https://reset.phish.example/a?tok=3Dabc&amp;u=3D1">ici</a> <a href=3D"https://cdn.other.example/img.png">x</a></p>
--b1--
`),
		title:       "E-mail: Fwd: password reset",
		contains:    []string{"Réinitialisez votre mot de passe : https://reset.phish.example/a?tok=abc&u=1"},
		notContains: []string{"<p>", "=3D"},
		observables: []string{
			"domain cdn.other.example",
			"domain reset.phish.example",
			"email it-support@grid-a.example",
			"url https://cdn.other.example/img.png",
			"url https://reset.phish.example/a?tok=abc&u=1",
		},
	},
	{
		name: "base64 HTML only",
		raw: crlf(`From: Boss <ceo@grid-a.example>
Subject: Urgent transfer
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: base64

` + b64lines(`<html><head><title>t</title><style>p{color:red}</style></head><body><script>alert("x")</script><p>Pay the invoice at <a href="https://pay.fraud.example/inv">this page</a> today.</p><p>Regards &amp; thanks</p><img src=x onerror=alert(1)></body></html>`) + "\n"),
		title:       "E-mail: Urgent transfer",
		contains:    []string{"Pay the invoice at this page today.", "Regards & thanks"},
		notContains: []string{"<p", "<a ", "<img", "<script", "alert", "color:red", "onerror", "</"},
		observables: []string{
			"domain pay.fraud.example",
			"email ceo@grid-a.example",
			"url https://pay.fraud.example/inv",
		},
	},
	{
		name: "encoded-word subject in French, Latin-1 body",
		raw: append(crlf(`From: =?ISO-8859-1?Q?S=E9bastien?= <sebastien@water-b.example>
To: cert@ccb.example
Subject: =?UTF-8?Q?Alerte_=C3=A0_la_s=C3=A9curit=C3=A9_:?= =?UTF-8?B?IGNvbXB0ZSBzdXNwZW5kdQ==?=
Content-Type: text/plain; charset=windows-1252
Content-Transfer-Encoding: 8bit

`), []byte("Votre compte a \xe9t\xe9 suspendu \x96 merci.\r\n")...),
		title:    "E-mail: Alerte à la sécurité : compte suspendu",
		contains: []string{"From: Sébastien <sebastien@water-b.example>", "Votre compte a été suspendu – merci."},
		observables: []string{
			"email sebastien@water-b.example",
		},
	},
	{
		name: "Received chain",
		raw: crlf(`Received: from mx2.relay.example (mx2.relay.example [IPv6:2001:db8::25])
	by mx.ccb.example with ESMTPS; Fri, 27 Nov 2026 16:02:11 +0100
Received: from relay.example (relay.example [192.0.2.14]) by mx2.relay.example
	(Postfix) with ESMTP id 1; Fri, 27 Nov 2026 16:02:10 +0100
Received: from localhost (localhost [127.0.0.1]) by relay.example with SMTP; Fri, 27 Nov 2026 16:02:09 +0100
Received: from host (unknown [192.168.1.20]) (authenticated) by relay.example with ESMTPSA for <x@y.example>; Fri, 27 Nov 2026 16:02:08 +0100
Received: from edge.example ([::ffff:198.51.100.99]) by relay.example; Fri, 27 Nov 2026 16:02:07 +0100
Received: by internal.example with LMTP id 7 for <cert@ccb.example>
From: Nobody <nobody@relay.example>
Return-Path: <nobody@relay.example>

ok
`),
		title: "E-mail: nobody@relay.example",
		observables: []string{
			"email nobody@relay.example",
			"ip 192.0.2.14",
			"ip 198.51.100.99",
			"ip 2001:db8::25",
		},
	},
}

func TestFromEmail(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, tc := range emailCases {
			t.Run(tc.name, func(t *testing.T) {
				c, err := f.svc.FromEmail(f.analystCtx, tc.raw, Input{TLP: str("RED")})
				if err != nil {
					t.Fatal(err)
				}
				if c.Title != tc.title || c.Source != "email" || c.TLP != "RED" {
					t.Errorf("case %q from %q TLP %s", c.Title, c.Source, c.TLP)
				}
				for _, s := range tc.contains {
					if !strings.Contains(c.Description, s) {
						t.Errorf("description lacks %q:\n%s", s, c.Description)
					}
				}
				// Shown as it is: no link of the message is clickable.
				if !strings.HasPrefix(c.Description, "```") || strings.Contains(string(RenderMarkdown(c.Description)), "<a ") {
					t.Errorf("description is not one code block: %s", RenderMarkdown(c.Description))
				}
				for _, s := range tc.notContains {
					if strings.Contains(c.Description, s) {
						t.Errorf("description has %q:\n%s", s, c.Description)
					}
				}
				obs, err := f.svc.Observables(f.analystCtx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, o := range obs {
					got = append(got, o.Type+" "+o.Value)
					if o.TLP != "RED" || !o.Sighted || o.IOC {
						t.Errorf("observable %s %s: TLP %s sighted %v ioc %v", o.Type, o.Value, o.TLP, o.Sighted, o.IOC)
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, tc.observables) {
					t.Errorf("observables\n got %q\nwant %q", got, tc.observables)
				}
			})
		}
	})
}

func emailRefusal(t *testing.T, err error, code string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "email" || e.Fields[0].Code != code {
		t.Errorf("err = %v, want a field error email %s", err, code)
	}
}

func TestFromEmailRefusals(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.analystCtx
		big := append(crlf("From: a@b.example\nSubject: big\n\n"), make([]byte, MaxEmailBytes)...)
		_, err := f.svc.FromEmail(ctx, big, Input{})
		emailRefusal(t, err, "err.caseemail.too_large")
		for _, raw := range []string{"hello world\nthis is not a message\n", "Subject: no sender\n\nbody\n", "{\"json\": true}"} {
			_, err := f.svc.FromEmail(ctx, []byte(raw), Input{})
			emailRefusal(t, err, "err.caseemail.not_email")
		}
		_, err = f.svc.FromEmail(ctx, []byte(" \r\n"), Input{})
		emailRefusal(t, err, "err.caseemail.missing")
		// A template or a label that is wrong is the form's usual error.
		if _, err := f.svc.FromEmail(ctx, emailCases[0].raw, Input{TLP: str("PINK")}); !errs.Is(err, errs.Invalid) {
			t.Errorf("TLP PINK = %v", err)
		}
		for _, p := range []*auth.Principal{f.auditor, f.member} {
			if _, err := f.svc.FromEmail(auth.With(context.Background(), p), emailCases[0].raw, Input{}); !errs.Is(err, errs.Forbidden) {
				t.Errorf("%s: FromEmail = %v", p.Email, err)
			}
		}
		var n int
		if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM cases`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d cases after refusals (%v)", n, err)
		}
	})
}

// TestFromEmailLimits: the text is cut at 50,000 characters, said so in
// the analyst's language, and at most 200 web addresses are taken; an
// mbox "From " line and a template are fine.
func TestFromEmailLimits(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		var b strings.Builder
		b.WriteString("From MAILER-DAEMON Fri Nov 27 16:02:08 2026\nFrom: spam@flood.example\nSubject: many links\n\n")
		for i := range 250 {
			b.WriteString("https://flood.example/p/" + itoa(int64(i)) + "\n")
		}
		b.WriteString(strings.Repeat("é", 60000))
		c, err := f.svc.FromEmail(f.analystCtx, []byte(b.String()), Input{Template: "phishing"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Template != "phishing" || !strings.Contains(c.Description, "50 000 caractères") || strings.Contains(c.Description, strings.Repeat("é", 50000)) {
			t.Errorf("case %s, description ends %q", c.Template, c.Description[max(0, len(c.Description)-200):])
		}
		obs, _ := f.svc.Observables(f.analystCtx, c.ID)
		urls := 0
		for _, o := range obs {
			if o.Type == "url" {
				urls++
			}
		}
		if urls != 200 || len(obs) != 202 {
			t.Errorf("%d web addresses of %d observables, want 200 of 202", urls, len(obs))
		}
	})
}
