package cases

// The portal's Attachments tab of a case (attachments.go): the list with
// name, size, SHA-256, TLP label, uploader and time; the upload form with
// its TLP; download and remove.

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/web"
)

// attachmentUploadOverhead is room for the multipart framing, the CSRF
// token and the TLP around a file of MaxAttachmentSize.
const attachmentUploadOverhead = 64 << 10

func (h *handlers) attachmentRoutes() {
	s := h.srv
	s.Page("GET /cases/{id}/attachments", h.attachmentsPage)
	s.UploadPage("POST /cases/{id}/attachments", h.addAttachmentPost, MaxAttachmentSize+attachmentUploadOverhead)
	s.Page("GET /cases/{id}/attachments/{att}", h.attachmentDownload)
	s.Page("POST /cases/{id}/attachments/{att}/remove", h.removeAttachmentPost)
}

// caseAttItem is a row of the attachments table.
type caseAttItem struct {
	*Attachment
	SizeText string
	Short    string // the SHA-256 shortened for the eye
	Href     string // download, without locale
}

func (h *handlers) attachmentsPage(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r)
	if err != nil {
		return err
	}
	return h.renderAttachments(w, r, c, url.Values{"tlp": {c.TLP}}, nil)
}

func (h *handlers) renderAttachments(w http.ResponseWriter, r *http.Request, c *Case, form url.Values, ferr error) error {
	as, err := h.svc.Attachments(r.Context(), c.ID)
	if err != nil {
		return err
	}
	base := caseBase(c.ID)
	items := make([]caseAttItem, len(as))
	for i, a := range as {
		items[i] = caseAttItem{Attachment: a, SizeText: h.attSize(r, a.Size), Short: a.SHA256[:12], Href: base + "/attachments/" + strconv.FormatInt(a.ID, 10)}
	}
	exts := reporting.AttachmentExtensions()
	data := caseData(r, c, "/attachments")
	data["Items"], data["TLPs"] = items, TLPs
	data["Max"], data["Types"], data["Accept"] = reporting.AttachmentSizeText(MaxAttachmentSize), strings.Join(exts, ", "), strings.Join(exts, ",")
	p := &web.Page{Title: h.caseTitle(r, h.t(r, "caseatt.title", nil), c), Form: form, Data: data}
	status := http.StatusOK
	if ferr != nil {
		e, ok := errs.As(ferr)
		if !ok {
			return ferr
		}
		for _, f := range e.Fields {
			p.Errors = append(p.Errors, web.FieldMessage{Field: f.Field, Message: h.srv.Message(r, f.Code, f.Args)})
		}
		if len(e.Fields) == 0 {
			p.Errors = append(p.Errors, web.FieldMessage{Message: h.srv.Message(r, e.Code, e.Args)})
		}
		switch e.Kind {
		case errs.Invalid:
			status = http.StatusUnprocessableEntity
		case errs.Conflict:
			status = http.StatusConflict
		case errs.TooLarge:
			status = http.StatusRequestEntityTooLarge
		case errs.Unsupported:
			status = http.StatusUnsupportedMediaType
		default:
			return ferr
		}
	}
	return h.srv.RenderPage(w, r, status, "case_attachments", p)
}

// attSize writes a size in the locale: "812 bytes", "1.2 KB", "3.4 MB".
func (h *handlers) attSize(r *http.Request, n int64) string {
	l := web.Locale(r)
	switch {
	case n < 1<<10:
		return h.t(r, "att.size.bytes", map[string]any{"n": i18n.Number(l, n)})
	case n < 1<<20:
		return h.t(r, "att.size.kb", map[string]any{"n": i18n.Decimal(l, float64(n*10/(1<<10))/10)})
	}
	return h.t(r, "att.size.mb", map[string]any{"n": i18n.Decimal(l, float64(n*10/(1<<20))/10)})
}

func (h *handlers) addAttachmentPost(w http.ResponseWriter, r *http.Request) error {
	if err := worker(r); err != nil {
		return err
	}
	c, err := h.load(r)
	if err != nil {
		return err
	}
	form := url.Values{"tlp": {r.PostFormValue("tlp")}}
	f, fh, ferr := r.FormFile("file")
	if ferr != nil {
		return h.renderAttachments(w, r, c, form, errs.Field("file", "err.att.file_required", nil))
	}
	defer f.Close()
	data, err := reporting.ReadAttachment(f, fh.Filename, MaxAttachmentSize)
	if err == nil {
		_, err = h.svc.AddAttachment(r.Context(), c.ID, fh.Filename, data, form.Get("tlp"))
	}
	if err != nil {
		return h.renderAttachments(w, r, c, form, err)
	}
	return h.done(w, r, "caseatt.flash.added", caseBase(c.ID)+"/attachments")
}

// attID reads the request's {att}: what is not an id is no attachment.
func attID(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("att"), 10, 64)
	if err != nil || n <= 0 {
		return 0, attachmentNotFound()
	}
	return n, nil
}

func (h *handlers) attachmentDownload(w http.ResponseWriter, r *http.Request) error {
	if err := staff(r); err != nil {
		return err
	}
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	return h.download(w, r, id)
}

// download sends a file's bytes so that no browser renders or runs them,
// as the reports' attachments are sent: always application/octet-stream,
// as an attachment, not sniffed, sandboxed should it be opened anyway,
// not cached. The bytes are decrypted and checked before the first is sent.
func (h *handlers) download(w http.ResponseWriter, r *http.Request, caseID int64) error {
	att, err := attID(r)
	if err != nil {
		return err
	}
	a, b, err := h.svc.Attachment(r.Context(), caseID, att)
	if err != nil {
		return err
	}
	return web.WriteFile(w, a.Name, b)
}

func (h *handlers) removeAttachmentPost(w http.ResponseWriter, r *http.Request) error {
	if err := worker(r); err != nil {
		return err
	}
	c, err := h.load(r)
	if err != nil {
		return err
	}
	att, err := attID(r)
	if err != nil {
		return err
	}
	if err := h.svc.RemoveAttachment(r.Context(), c.ID, att); err != nil {
		if errs.Is(err, errs.Conflict) {
			return h.renderAttachments(w, r, c, url.Values{"tlp": {c.TLP}}, err)
		}
		return err
	}
	return h.done(w, r, "caseatt.flash.removed", caseBase(c.ID)+"/attachments")
}
