package cases

// The portal's new case from an e-mail (email.go): an .eml file uploaded
// or the message's source pasted, with the template and labels of the
// new-case form.

import (
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// emailUploadOverhead is room for the form's other fields and the
// multipart framing around an e-mail of MaxEmailBytes.
const emailUploadOverhead = 1 << 20

func (h *handlers) emailRoutes() {
	h.srv.Page("GET /cases/new/email", h.emailForm)
	h.srv.UploadPage("POST /cases/new/email", h.emailPost, MaxEmailBytes+emailUploadOverhead)
}

func (h *handlers) emailForm(w http.ResponseWriter, r *http.Request) error {
	if err := worker(r); err != nil {
		return err
	}
	return h.renderEmail(w, r, url.Values{"template": {""}, "tlp": {"AMBER"}, "pap": {"AMBER"}}, nil, "message")
}

// renderEmail shows the form; errors of the message itself point at
// emailInput, the file input or the text box.
func (h *handlers) renderEmail(w http.ResponseWriter, r *http.Request, form url.Values, err error, emailInput string) error {
	p := &web.Page{Title: h.t(r, "caseemail.title", nil), Form: form, Data: map[string]any{
		"Templates": Templates, "Severities": Severities, "TLPs": TLPs, "PAPs": PAPs, "Max": MaxEmailBytes >> 20}}
	anchors := same("title", "template", "severity", "tlp", "pap", "exercise", "file", "message")
	anchors["email"] = emailInput
	return h.render(w, r, "case_email", p, err, anchors)
}

func (h *handlers) emailPost(w http.ResponseWriter, r *http.Request) error {
	if err := worker(r); err != nil {
		return err
	}
	f := r.PostForm
	// What was typed comes back on a refusal, but not the pasted message
	// when it is large.
	form := url.Values{}
	for _, k := range []string{"title", "template", "severity", "tlp", "pap", "exercise"} {
		if v, ok := f[k]; ok {
			form[k] = v
		}
	}
	pasted := strings.TrimSpace(f.Get("message"))
	if len(pasted) <= 1<<20 {
		form.Set("message", pasted)
	}
	raw, input := []byte(pasted), "message"
	if file, fh, ferr := r.FormFile("file"); ferr == nil {
		defer file.Close()
		b, err := io.ReadAll(io.LimitReader(file, MaxEmailBytes+1))
		switch {
		case err != nil:
			return err
		case len(b) > MaxEmailBytes:
			return h.renderEmail(w, r, form, errs.Field("file", "err.caseemail.too_large", map[string]any{"max": MaxEmailBytes >> 20}), "file")
		case len(b) > 0 && pasted != "":
			return h.renderEmail(w, r, form, errs.Field("message", "err.caseemail.both", nil), "message")
		case len(b) == 0 && fh.Filename != "":
			return h.renderEmail(w, r, form, errs.Field("file", "err.caseemail.empty_file", map[string]any{"name": fh.Filename}), "file")
		}
		if len(b) > 0 {
			raw, input = b, "file"
		}
	}
	if len(raw) == 0 {
		return h.renderEmail(w, r, form, errs.Field("message", "err.caseemail.missing", nil), "message")
	}
	in, err := newInput(form)
	if err != nil {
		return h.renderEmail(w, r, form, err, input)
	}
	in.Locale = web.Locale(r)
	c, err := h.svc.FromEmail(r.Context(), raw, in)
	if err != nil {
		return h.renderEmail(w, r, form, err, input)
	}
	return h.done(w, r, "casesui.flash.created", caseBase(c.ID))
}
