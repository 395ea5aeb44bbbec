package i18n

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

var monthNames = map[string][12]string{
	"nl": {"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"},
	"fr": {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
	"de": {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
}

var dayNames = map[string][7]string{
	"nl": {"zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"},
	"fr": {"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
	"de": {"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"},
	"en": {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
}

// Date formats t as a calendar date in Brussels time the way locale writes it:
// "28 november 2026", "28 novembre 2026", "28. November 2026", "28 November 2026".
func (c *Catalog) Date(locale string, t time.Time) string {
	t = t.In(c.tz)
	m := monthNames[norm(locale)][t.Month()-1]
	if norm(locale) == "de" {
		return fmt.Sprintf("%d. %s %d", t.Day(), m, t.Year())
	}
	return fmt.Sprintf("%d %s %d", t.Day(), m, t.Year())
}

// DateTime formats t to the minute in Brussels time with the weekday and the
// zone abbreviation: "zaterdag 28 november 2026 om 14:05 CET",
// "samedi 28 novembre 2026 à 14:05 CET", "Samstag, 28. November 2026, 14:05 CET",
// "Saturday 28 November 2026, 14:05 CET".
func (c *Catalog) DateTime(locale string, t time.Time) string {
	l := norm(locale)
	t = t.In(c.tz)
	day := dayNames[l][t.Weekday()]
	zone, _ := t.Zone()
	hm := t.Format("15:04")
	switch l {
	case "nl":
		return fmt.Sprintf("%s %s om %s %s", day, c.Date(l, t), hm, zone)
	case "fr":
		return fmt.Sprintf("%s %s à %s %s", day, c.Date(l, t), hm, zone)
	case "de":
		return fmt.Sprintf("%s, %s, %s %s", day, c.Date(l, t), hm, zone)
	default:
		return fmt.Sprintf("%s %s, %s %s", day, c.Date(l, t), hm, zone)
	}
}

// Short formats t as "28-11-2026 14:05:09" style numeric date and time to the
// second in Brussels time, for tables and logs.
func (c *Catalog) Short(locale string, t time.Time) string {
	t = t.In(c.tz)
	switch norm(locale) {
	case "de":
		return t.Format("02.01.2006 15:04:05")
	case "fr", "nl":
		return t.Format("02/01/2006 15:04:05")
	default:
		return t.Format("2 Jan 2006 15:04:05")
	}
}

// Number formats n with the locale's thousands separator.
func Number(locale string, n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := ","
	switch norm(locale) {
	case "nl", "de":
		sep = "."
	case "fr":
		sep = "\u202f" // narrow no-break space
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func norm(l string) string {
	if Supported(l) {
		return l
	}
	return Default
}

// Decimal formats x for locale with up to two decimals: thousands
// grouped as Number does, and a decimal comma in nl, fr and de (57,5) or a
// point in en (57.5). Trailing zero decimals are dropped.
func Decimal(locale string, x float64) string {
	s := strconv.FormatFloat(x, 'f', 2, 64)
	whole, frac, _ := strings.Cut(s, ".")
	frac = strings.TrimRight(frac, "0")
	n, _ := strconv.ParseInt(whole, 10, 64)
	out := Number(locale, n)
	if n == 0 && strings.HasPrefix(whole, "-") {
		out = "-0"
	}
	if frac == "" {
		return out
	}
	mark := ","
	if norm(locale) == "en" {
		mark = "."
	}
	return out + mark + frac
}

// ParseAmount reads a number typed by a person in locale: spaces, no-break
// spaces and apostrophes group thousands, and "€" or "EUR" may come with
// it; in nl, fr and de a comma is the decimal mark and dots group
// thousands, in en the reverse. An empty amount is nil.
func ParseAmount(s, locale string) (*float64, error) {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r), r == '\u00a0', r == '\u202f', r == '\'', r == '€':
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	s = strings.TrimSuffix(strings.TrimSuffix(s, "EUR"), "eur")
	if s == "" {
		return nil, nil
	}
	if norm(locale) == "en" {
		s = strings.ReplaceAll(s, ",", "")
	} else if strings.Contains(s, ",") || strings.Count(s, ".") > 1 || (strings.Contains(s, ".") && len(s)-strings.LastIndex(s, ".") == 4) {
		s = strings.ReplaceAll(s, ".", "")
		s = strings.ReplaceAll(s, ",", ".")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// Kilobytes writes a file size for a download link, in kilobytes with one
// decimal and the locale's unit: "1.2 KB", "1,2 KB", "1,2 Ko" (French
// writes octets), at least 0.1.
func Kilobytes(locale string, n int) string {
	unit := " KB"
	if norm(locale) == "fr" {
		unit = "\u00a0Ko"
	}
	return Decimal(locale, math.Max(0.1, math.Round(float64(n)/102.4)/10)) + unit
}
