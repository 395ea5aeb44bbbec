package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// WriteFile sends an uploaded file's bytes so that no browser renders or
// runs them: always application/octet-stream, as an attachment under its
// name, not sniffed, sandboxed should it be opened anyway, and not
// cached. Report and case attachments are sent this way.
func WriteFile(w http.ResponseWriter, name string, b []byte) error {
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("Content-Disposition", ContentDisposition(name))
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	hd.Set("Cache-Control", "private, no-store")
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b)
	return err
}

// ContentDisposition names a file for saving: an ASCII fallback, and the
// exact name in RFC 5987 encoding.
func ContentDisposition(name string) string {
	fallback := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' || r == ';' {
			return '_'
		}
		return r
	}, name)
	var enc strings.Builder
	for _, c := range []byte(name) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			enc.WriteByte(c)
		} else {
			fmt.Fprintf(&enc, "%%%02X", c)
		}
	}
	return `attachment; filename="` + fallback + `"; filename*=UTF-8''` + enc.String()
}
