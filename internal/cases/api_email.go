package cases

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// A case from an e-mail by API (email.go); documented in
// openapi_email.json.
func (h *handlers) emailAPIRoutes() {
	h.srv.API("POST /api/v1/cases/from-email", h.apiFromEmail)
}

// apiFromEmail takes the raw message as the body (message/rfc822) and the
// template, severity and TLP as query parameters.
func (h *handlers) apiFromEmail(w http.ResponseWriter, r *http.Request) error {
	if !CanRead(auth.From(r.Context())) {
		return notFound()
	}
	if err := apiCanWork(r); err != nil {
		return err
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "message/rfc822" {
		return errs.E(errs.Unsupported, "err.unsupported_media_type")
	}
	q := r.URL.Query()
	var in Input
	var v errs.Validator
	in.Template = strings.TrimSpace(q.Get("template"))
	if s := q.Get("severity"); s != "" {
		n, err := strconv.Atoi(s)
		if v.Check(err == nil, "severity", "err.case.severity") {
			in.Severity = &n
		}
	}
	if s := q.Get("tlp"); s != "" {
		in.TLP = &s
	}
	if err := v.Err(); err != nil {
		return err
	}
	in.Locale = web.Locale(r)
	raw, err := io.ReadAll(io.LimitReader(r.Body, MaxEmailBytes+1))
	if err != nil {
		return err
	}
	if len(raw) == 0 {
		return errs.Field("email", "err.caseemail.missing", nil)
	}
	c, err := h.svc.FromEmail(r.Context(), raw, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/cases/"+itoa(c.ID))
	return web.WriteJSON(w, http.StatusCreated, c)
}
