package feeds

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// FieldsJSON writes fields as one JSON object in their order (the order of
// the report's columns), as stored with an event. A key given twice keeps
// its first value.
func FieldsJSON(fields []Field) string {
	var b strings.Builder
	b.Grow(16 * len(fields))
	b.WriteByte('{')
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		if seen[f.Key] {
			continue
		}
		seen[f.Key] = true
		if len(seen) > 1 {
			b.WriteByte(',')
		}
		writeString(&b, f.Key)
		b.WriteByte(':')
		writeValue(&b, f.Value)
	}
	b.WriteByte('}')
	return b.String()
}

func writeValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case string:
		writeString(b, x)
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case []string:
		b.WriteByte('[')
		for i, s := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, s)
		}
		b.WriteByte(']')
	case nil:
		b.WriteString("null")
	default:
		j, err := json.Marshal(x)
		if err != nil {
			b.WriteString("null")
			return
		}
		b.Write(j)
	}
}

// writeString writes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func writeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20:
				switch c {
				case '\n':
					b.WriteString(`\n`)
				case '\r':
					b.WriteString(`\r`)
				case '\t':
					b.WriteString(`\t`)
				default:
					b.WriteString(`\u00`)
					b.WriteByte("0123456789abcdef"[c>>4])
					b.WriteByte("0123456789abcdef"[c&0xf])
				}
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(`\ufffd`)
		} else if r == '\u2028' || r == '\u2029' {
			b.WriteString(`\u202`)
			b.WriteByte("89"[r-'\u2028'])
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}
