package web

// Times as people read and type them (UX.md patterns 9 and 10): a
// deadline absolute to the minute with its offset and relative in words,
// and a date and time typed in five boxes in the authority's time zone.

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/i18n"
)

// Due is a deadline as a page shows it: absolute to the minute (rounded
// down) with the zone's offset, and, while it is open, relative as of now.
type Due struct {
	At      time.Time
	Offset  string // "UTC+1"
	Open    bool
	Overdue string // "2 h 10 min", when past
	Left    string // "45 min", when not yet
	Soon    bool   // due within 24 hours
}

// Due describes at as of now; nil when there is no deadline.
func (s *Server) Due(r *http.Request, at *time.Time, now time.Time, open bool) *Due {
	if at == nil {
		return nil
	}
	t := at.Truncate(time.Minute)
	_, off := t.In(s.cat.Zone()).Zone()
	d := &Due{At: t, Offset: fmt.Sprintf("UTC%+d", off/3600), Open: open}
	if !open {
		return d
	}
	if left := at.Sub(now); left < 0 {
		d.Overdue = s.Duration(r, -left, true)
	} else {
		d.Left = s.Duration(r, left, true)
		d.Soon = left <= 24*time.Hour
	}
	return d
}

// Duration writes d in words, to the minute, in its two largest units:
// "2 days 3 hours", or with short the abbreviations "2 d 3 h".
func (s *Server) Duration(r *http.Request, d time.Duration, short bool) string {
	mins := int64(d / time.Minute)
	days, hours, minutes := mins/(24*60), mins/60%24, mins%60
	l := Locale(r)
	unit := func(name string, n int64) string {
		key := "time.dur." + name
		switch {
		case short:
			key = "time.dur_short." + name
		case n == 1:
			key += ".one"
		default:
			key += ".other"
		}
		return s.cat.T(l, key, map[string]any{"n": i18n.Number(l, n)})
	}
	switch {
	case days > 0 && hours > 0:
		return unit("day", days) + " " + unit("hour", hours)
	case days > 0:
		return unit("day", days)
	case hours > 0 && minutes > 0:
		return unit("hour", hours) + " " + unit("minute", minutes)
	case hours > 0:
		return unit("hour", hours)
	}
	return unit("minute", minutes)
}

// DateParts are the boxes of a date and time input, each named
// prefix-part.
var DateParts = []string{"day", "month", "year", "hour", "minute"}

// DateProblem says what is wrong with typed boxes.
type DateProblem int

// Problems of typed date and time boxes.
const (
	DateOK         DateProblem = iota
	DateIncomplete             // some boxes empty, others filled
	DateInvalid                // not numbers, or no such date or time
)

// ParseDateTime reads the boxes prefix-day … prefix-minute of form as a
// time in the zone. It returns nil and DateOK when every box is empty.
func ParseDateTime(form url.Values, prefix string, zone *time.Location) (*time.Time, DateProblem) {
	vals := map[string]int{}
	empty := 0
	for _, part := range DateParts {
		s := strings.TrimSpace(form.Get(prefix + "-" + part))
		if s == "" {
			empty++
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, DateInvalid
		}
		vals[part] = n
	}
	switch empty {
	case len(DateParts):
		return nil, DateOK
	case 0:
	default:
		return nil, DateIncomplete
	}
	y, mo, d, hh, mi := vals["year"], vals["month"], vals["day"], vals["hour"], vals["minute"]
	if y < 2000 || y > 2100 || mo < 1 || mo > 12 || d < 1 || d > 31 || hh < 0 || hh > 23 || mi < 0 || mi > 59 {
		return nil, DateInvalid
	}
	t := time.Date(y, time.Month(mo), d, hh, mi, 0, 0, zone)
	if t.Day() != d { // 31 April
		return nil, DateInvalid
	}
	t = t.UTC()
	return &t, DateOK
}

// SetDateTime writes t into the boxes prefix-day … prefix-minute of form,
// in the zone.
func SetDateTime(form url.Values, prefix string, t *time.Time, zone *time.Location) {
	if t == nil {
		return
	}
	b := t.In(zone)
	form.Set(prefix+"-day", strconv.Itoa(b.Day()))
	form.Set(prefix+"-month", strconv.Itoa(int(b.Month())))
	form.Set(prefix+"-year", strconv.Itoa(b.Year()))
	form.Set(prefix+"-hour", fmt.Sprintf("%02d", b.Hour()))
	form.Set(prefix+"-minute", fmt.Sprintf("%02d", b.Minute()))
}
