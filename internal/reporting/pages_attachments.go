package reporting

// The portal side of attachments: the list and upload form of a stage
// (templates/_rep_attachments.html), upload, download and delete.

import (
	"net/http"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/web"
)

// attView is the attachments block of a stage page.
type attView struct {
	Items []attItem
	// Edit shows delete buttons; Upload is the upload form's action, ""
	// when no form is shown.
	Edit     bool
	Upload   string
	Max      string // the size limit, "20 MB"
	Types    string // the accepted extensions, ".pdf, .png, …"
	Accept   string // the same for the input's accept attribute
	PerStage int
	Full     bool // no more files may be added to the stage
}

type attItem struct {
	Attachment
	SizeText string
	Short    string // the SHA-256 shortened for the eye; the full one is beside it
	Href     string // download, without locale
	Delete   string // delete action, "" when sealed or not the person's to delete
}

// fileSize writes a size in the locale: "812 bytes", "1.2 KB", "3.4 MB".
func (h *handlers) fileSize(r *http.Request, n int64) string {
	l := web.Locale(r)
	switch {
	case n < 1<<10:
		return h.t(r, "att.size.bytes", map[string]any{"n": i18n.Number(l, n)})
	case n < 1<<20:
		return h.t(r, "att.size.kb", map[string]any{"n": i18n.Decimal(l, float64(n*10/(1<<10))/10)})
	}
	return h.t(r, "att.size.mb", map[string]any{"n": i18n.Decimal(l, float64(n*10/(1<<20))/10)})
}

// addAttachments puts the attachments block of a stage in data["Att"]:
// with edit, the person who files sees delete buttons and the upload form.
func (h *handlers) addAttachments(r *http.Request, data map[string]any, in *Incident, stage Stage, edit bool) error {
	as, err := h.svc.Attachments(r.Context(), in.ID, stage)
	if err != nil {
		return err
	}
	exts := AttachmentExtensions()
	v := &attView{Max: sizeText(h.svc.AttachmentMaxSize()), Types: strings.Join(exts, ", "), Accept: strings.Join(exts, ","),
		PerStage: MaxAttachmentsPerStage, Full: len(as) >= MaxAttachmentsPerStage}
	v.Edit = edit && mayFile(r.Context(), in.OrgID)
	if v.Edit {
		v.Upload = base(in) + "/" + string(stage) + "/attachments"
	}
	for _, a := range as {
		it := attItem{Attachment: a, SizeText: h.fileSize(r, a.Size), Short: a.SHA256[:12], Href: base(in) + "/attachments/" + itoa(a.ID)}
		if v.Edit && !a.Sealed() {
			it.Delete = it.Href + "/delete"
		}
		v.Items = append(v.Items, it)
	}
	data["Att"] = v
	return nil
}

// keepAnswers saves, as the stage's draft, the answers of the stage form
// that an upload or delete button of that form sent along (the field
// stage_form says they came). Answers that cannot be read come back on the
// form with their errors, and nothing else is done (done is true).
func (h *handlers) keepAnswers(w http.ResponseWriter, r *http.Request, in *Incident, stage Stage) (done bool, err error) {
	if r.PostFormValue("stage_form") != "1" {
		return false, nil
	}
	start, from, _ := startingPoint(r, in, stage)
	c, err := ParseForm(stage, r.PostForm, web.Locale(r), start, h.svc.tick())
	if err == nil {
		_, err = h.svc.SaveDraft(r.Context(), in.ID, stage, c)
	}
	if err != nil {
		return true, h.stageForm(w, r, in, stage, r.PostForm, from, err)
	}
	return false, nil
}

// pageAddAttachment takes the upload of a stage's form; a refused file is
// shown on the stage form with the reason, naming the file.
func (h *handlers) pageAddAttachment(w http.ResponseWriter, r *http.Request) error {
	in, stage, readOnly, err := h.stageRequest(r)
	if err != nil {
		return err
	}
	if readOnly {
		return forbidden()
	}
	if done, err := h.keepAnswers(w, r, in, stage); done || err != nil {
		return err
	}
	u := Upload{Stage: stage}
	f, fh, ferr := r.FormFile("file")
	if ferr != nil {
		err = errs.Field("file", "err.att.file_required", nil)
	} else {
		defer f.Close()
		u.Name, u.DeclaredType = fh.Filename, fh.Header.Get("Content-Type")
		u.Data, err = readFile(f, fh.Filename, h.svc.AttachmentMaxSize())
	}
	if err == nil {
		_, err = h.svc.AddAttachment(r.Context(), in.ID, u)
	}
	if err != nil {
		if e, ok := errs.As(err); ok && len(e.Fields) > 0 {
			if fresh, lerr := h.svc.Incident(r.Context(), in.ID); lerr == nil {
				in = fresh // with the draft just saved
			}
			c, from, _ := startingPoint(r, in, stage)
			return h.stageForm(w, r, in, stage, FormValues(c, web.Locale(r)), from, err)
		}
		return err
	}
	h.srv.Flash(w, "att.flash.added")
	return web.Redirect(w, r, base(in)+"/"+string(stage)+"#attachments")
}

// pageAttachment downloads a file (see download for the headers).
func (h *handlers) pageAttachment(w http.ResponseWriter, r *http.Request) error {
	return h.download(w, r)
}

// pageDeleteAttachment deletes a file not yet sealed and goes back to its
// stage's form.
func (h *handlers) pageDeleteAttachment(w http.ResponseWriter, r *http.Request) error {
	in, err := h.load(r)
	if err != nil {
		return err
	}
	att, err := pathAtt(r)
	if err != nil {
		return err
	}
	as, err := h.svc.Attachments(r.Context(), in.ID, "")
	if err != nil {
		return err
	}
	var stage Stage
	for _, a := range as {
		if a.ID == att {
			stage = a.Stage
		}
	}
	if stage == "" {
		return attachmentNotFound()
	}
	if mayFile(r.Context(), in.OrgID) {
		if done, err := h.keepAnswers(w, r, in, stage); done || err != nil {
			return err
		}
	}
	if err := h.svc.DeleteAttachment(r.Context(), in.ID, att); err != nil {
		return err
	}
	h.srv.Flash(w, "att.flash.deleted")
	return web.Redirect(w, r, base(in)+"/"+string(stage)+"#attachments")
}
