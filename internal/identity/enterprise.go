package identity

import (
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
)

// NormalizeEnterpriseNumber checks a Belgian enterprise number (KBO/BCE) and
// returns its ten digits. It accepts the ways people write it: spaces, dots,
// dashes and slashes, a leading "BE", "(0)" for the leading zero, and the
// nine-digit numbers issued before 2003 (which gain a leading 0).
//
// Rule (Crossroads Bank for Enterprises; domain/reporting-forms.md §4.3): ten
// digits, the first 0 or 1, and the last two equal to 97 − (first eight mod
// 97), so that 97 (never 00) is the check when the first eight are a multiple
// of 97. Establishment unit numbers (first digit 2–8) are refused here.
func NormalizeEnterpriseNumber(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "BE")
	s = strings.ReplaceAll(s, "(0)", "0")
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '.', '-', '/', '\u00a0':
			return -1
		}
		return r
	}, s)
	for _, r := range s {
		if r < '0' || r > '9' {
			return "", errs.E(errs.Invalid, "err.enterprise_number.format")
		}
	}
	if len(s) == 9 {
		s = "0" + s
	}
	if len(s) != 10 {
		return "", errs.E(errs.Invalid, "err.enterprise_number.format")
	}
	if s[0] != '0' && s[0] != '1' {
		return "", errs.E(errs.Invalid, "err.enterprise_number.establishment")
	}
	base, _ := strconv.Atoi(s[:8])
	check, _ := strconv.Atoi(s[8:])
	if 97-base%97 != check {
		return "", errs.E(errs.Invalid, "err.enterprise_number.checksum")
	}
	return s, nil
}

// FormatEnterpriseNumber writes ten digits as 0123.456.789.
func FormatEnterpriseNumber(n string) string {
	if len(n) != 10 {
		return n
	}
	return n[:4] + "." + n[4:7] + "." + n[7:]
}
