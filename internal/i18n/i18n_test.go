package i18n

import (
	"testing"
	"time"
)

func TestCatalogComplete(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	if m := c.Missing(); len(m) > 0 {
		t.Errorf("untranslated: %v", m)
	}
	// Every message differs from its key, so a forgotten translation that
	// copies the key is caught too.
	for _, l := range Locales {
		for _, k := range c.Keys() {
			if c.T(l, k, nil) == k {
				t.Errorf("%s: %s is its own key", l, k)
			}
		}
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"fr-BE,fr;q=0.9,en;q=0.8", "fr"},
		{"en-US,en;q=0.9", "en"},
		{"de-DE", "de"},
		{"nl-BE", "nl"},
		{"es-ES,es;q=0.9", ""},
		{"es;q=1, nl;q=0.5", "nl"},
		{"fr;q=0, en;q=0.1", "en"},
		{"*", ""},
	}
	for _, tt := range tests {
		if got := Negotiate(tt.in); got != tt.want {
			t.Errorf("Negotiate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDateTime(t *testing.T) {
	c := MustLoad()
	at := time.Date(2026, 11, 28, 13, 5, 0, 0, time.UTC) // 14:05 CET
	tests := []struct{ l, want string }{
		{"nl", "zaterdag 28 november 2026 om 14:05 CET"},
		{"fr", "samedi 28 novembre 2026 à 14:05 CET"},
		{"de", "Samstag, 28. November 2026, 14:05 CET"},
		{"en", "Saturday 28 November 2026, 14:05 CET"},
	}
	for _, tt := range tests {
		if got := c.DateTime(tt.l, at); got != tt.want {
			t.Errorf("DateTime(%s) = %q, want %q", tt.l, got, tt.want)
		}
	}
	// Summer time: the same UTC hour is 15:05 CEST.
	summer := time.Date(2026, 7, 1, 13, 5, 0, 0, time.UTC)
	if got, want := c.DateTime("en", summer), "Wednesday 1 July 2026, 15:05 CEST"; got != want {
		t.Errorf("DateTime(summer) = %q, want %q", got, want)
	}
	if got := Number("de", 1234567); got != "1.234.567" {
		t.Errorf("Number(de) = %q", got)
	}
	if got := Number("en", -1234); got != "-1,234" {
		t.Errorf("Number(en) = %q", got)
	}
}

func TestDecimal(t *testing.T) {
	for _, tc := range []struct {
		locale string
		x      float64
		want   string
	}{
		{"en", 2100, "2,100"},
		{"nl", 2100, "2.100"},
		{"de", 57.5, "57,5"},
		{"fr", 12500000, "12\u202f500\u202f000"},
		{"en", 57.25, "57.25"},
		{"nl", 0.5, "0,5"},
		{"en", 1234.999, "1,235"},
	} {
		if got := Decimal(tc.locale, tc.x); got != tc.want {
			t.Errorf("Decimal(%s, %v) = %q, want %q", tc.locale, tc.x, got, tc.want)
		}
	}
}

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in, locale string
		want       float64
		ok         bool
	}{
		{"12 500 000", "en", 12500000, true},
		{"12,500,000", "en", 12500000, true},
		{"12.500.000", "nl", 12500000, true},
		{"57,5", "fr", 57.5, true},
		{"57.5", "en", 57.5, true},
		{"1.500", "de", 1500, true},
		{"€ 2 000 000", "nl", 2000000, true},
		{"12\u00a0500", "fr", 12500, true},
		{"twelve", "en", 0, false},
	} {
		got, err := ParseAmount(tc.in, tc.locale)
		if (err == nil) != tc.ok || (tc.ok && (got == nil || *got != tc.want)) {
			t.Errorf("ParseAmount(%q, %s) = %v, %v", tc.in, tc.locale, got, err)
		}
	}
	if got, err := ParseAmount("  ", "en"); got != nil || err != nil {
		t.Errorf("empty amount = %v, %v", got, err)
	}
}
