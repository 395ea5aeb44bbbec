package identity

import (
	"testing"

	"github.com/belfry-cert/belfry/internal/errs"
)

// Test vectors from ../shared/domain/reporting-forms.md §4.3.
func TestNormalizeEnterpriseNumber(t *testing.T) {
	tests := []struct {
		in, want, code string
	}{
		{"0353456320", "0353456320", ""},
		{"0403019261", "0403019261", ""},
		{"0428759497", "0428759497", ""}, // check digits 97 when the base is a multiple of 97
		{"BE 0403.019.261", "0403019261", ""},
		{"be0403-019-261", "0403019261", ""},
		{"403019261", "0403019261", ""}, // pre-2003 nine-digit form
		{"(0)403.019.261", "0403019261", ""},
		{"0431150351", "", "err.enterprise_number.checksum"}, // expected check 50
		{"2147812701", "", "err.enterprise_number.establishment"},
		{"2147812897", "", "err.enterprise_number.establishment"},
		{"04030192", "", "err.enterprise_number.format"},
		{"04030192611", "", "err.enterprise_number.format"},
		{"0403O19261", "", "err.enterprise_number.format"},
		{"", "", "err.enterprise_number.format"},
	}
	for _, tt := range tests {
		got, err := NormalizeEnterpriseNumber(tt.in)
		if tt.code == "" {
			if err != nil || got != tt.want {
				t.Errorf("NormalizeEnterpriseNumber(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
			}
			continue
		}
		if errs.KindCode(err) != tt.code {
			t.Errorf("NormalizeEnterpriseNumber(%q) error = %v, want %s", tt.in, err, tt.code)
		}
	}
	if got := FormatEnterpriseNumber("0403019261"); got != "0403.019.261" {
		t.Errorf("FormatEnterpriseNumber = %q", got)
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Anna@Example.BE", "Anna@example.be", true},
		{" a.b+tag@sub.example.be ", "a.b+tag@sub.example.be", true},
		{"no-at-sign", "", false},
		{"Name <a@b.be>", "", false},
		{"a@localhost", "", false},
		{"a@.be", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeEmail(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPasswordHash(t *testing.T) {
	h := HashPassword("correct horse battery staple")
	if !CheckPassword(h, "correct horse battery staple") {
		t.Error("CheckPassword(right) = false")
	}
	if CheckPassword(h, "correct horse battery stapl") {
		t.Error("CheckPassword(wrong) = true")
	}
	if h2 := HashPassword("correct horse battery staple"); h2 == h {
		t.Error("two hashes of one password are equal: salt missing")
	}
	for _, bad := range []string{"", "$argon2id$v=19$m=1,t=1,p=1$$", "plain"} {
		if CheckPassword(bad, "x") {
			t.Errorf("CheckPassword(%q) = true", bad)
		}
	}
}
