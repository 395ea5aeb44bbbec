package shadowserver

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/feeds"
)

// records reads all records, writing a malformed one as "!reason".
func records(in string, maxRecord int) [][]string {
	cr := newCSVReader(strings.NewReader(in), maxRecord)
	var out [][]string
	for {
		rec, err := cr.next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			out = append(out, []string{"!" + err.Error()})
			continue
		}
		out = append(out, slices.Clone(rec))
	}
}

func TestCSVReader(t *testing.T) {
	tests := []struct {
		name, in string
		want     [][]string
	}{
		{"plain", "a,b,c\n1,2,3\n", [][]string{{"a", "b", "c"}, {"1", "2", "3"}}},
		{"no final newline", "a,b\n1,2", [][]string{{"a", "b"}, {"1", "2"}}},
		{"crlf", "a,b\r\n1,2\r\n", [][]string{{"a", "b"}, {"1", "2"}}},
		{"empty fields", ",,\n", [][]string{{"", "", ""}}},
		{"blank lines skipped", "a\n\n\r\nb\n", [][]string{{"a"}, {"b"}}},
		{"quoted", `"a","b,c",""` + "\n", [][]string{{"a", "b,c", ""}}},
		{"escaped quote", `"say ""hi""",x` + "\n", [][]string{{`say "hi"`, "x"}}},
		{"only escaped quote", `""""` + "\n", [][]string{{`"`}}},
		{"multi-line", "\"line1\nline2\",x\ny\n", [][]string{{"line1\nline2", "x"}, {"y"}}},
		{"multi-line crlf", "\"a\r\nb\",\"c\"\"\"\r\n", [][]string{{"a\nb", `c"`}}},
		{"quote inside unquoted", `ab"c,d` + "\n", [][]string{{`ab"c`, "d"}}},
		{"text after quote", `"a"b,c` + "\nx\n", [][]string{{"!" + errAfterQuote.Error()}, {"x"}}},
		{"unterminated resyncs", "\"a,b\nc,d\ne\n", [][]string{{"!" + errUnterminated.Error()}, {"c", "d"}, {"e"}}},
		{"too long resyncs", "\"aaaaaaaaaa\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nok,1\n", [][]string{{"!" + errTooLong.Error()}, {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, {"ok", "1"}}},
		{"trailing comma", "a,\n", [][]string{{"a", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := records(tt.in, 40)
			if !slices.EqualFunc(got, tt.want, slices.Equal[[]string]) {
				t.Errorf("records(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzCSVReader checks the splitter against encoding/csv on input both
// can read, and that it never panics, loops or loses a line on any input.
func FuzzCSVReader(f *testing.F) {
	for _, s := range []string{
		"a,b,c\n1,2,3\n",
		`"a","b,c",""` + "\n",
		`"say ""hi""",x` + "\n",
		"\"line1\nline2\",x\ny\n",
		"a\n\nb",
		`"a"b,c`,
		"\"open\nnext,1\n",
		scanHTTPHeader + "\n" + scanHTTPRow(1) + "\n",
		"\ufeffa,b\r\n\"c\r\nd\",e\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := records(in, 1<<16)
		if strings.ContainsRune(in, '\r') {
			return // encoding/csv drops a lone \r in ways not worth copying
		}
		r := csv.NewReader(strings.NewReader(in))
		r.FieldsPerRecord = -1
		var want [][]string
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return // input encoding/csv rejects: only the no-panic check
			}
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, rec)
		}
		if !slices.EqualFunc(got, want, slices.Equal[[]string]) {
			t.Errorf("records(%q)\n got %q\nwant %q", in, got, want)
		}
	})
}

// FuzzParse checks that any data after a scan_http header is read to the
// end, every row counted once as an event or a problem.
func FuzzParse(f *testing.F) {
	f.Add(scanHTTPRow(1) + "\n" + scanHTTPRow(2))
	f.Add("2026-03-01 00:00:00,low,0.0.0.0,tcp,x\n\"")
	f.Add(strings.Replace(scanHTTPRow(3), "64496", "0", 1))
	rep, ok := sharedSchema(f).Report("scan_http")
	if !ok {
		f.Fatal("no scan_http")
	}
	f.Fuzz(func(t *testing.T, rows string) {
		st, err := NewParser(rep).Parse(strings.NewReader(scanHTTPHeader+"\n"+rows), func(ev *feeds.Event) error {
			if !ev.SrcIP.IsValid() || ev.Time.Year() < 1 {
				return fmt.Errorf("row %d: event without its required fields: %+v", ev.Row, ev)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Rows != st.Events+st.Problems {
			t.Errorf("stats %+v: rows != events + problems", st)
		}
	})
}
