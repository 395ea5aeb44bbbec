package cases

// The API of a case's attachments (attachments.go): list, upload
// (multipart/form-data, the fields file and tlp), download and remove.
// Documented in openapi_attachments.json.

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/web"
)

func (h *handlers) attachmentAPIRoutes() {
	s := h.srv
	s.API("GET /api/v1/cases/{id}/attachments", h.apiAttachments)
	s.API("POST /api/v1/cases/{id}/attachments", h.apiAddAttachment)
	s.API("GET /api/v1/cases/{id}/attachments/{att}", h.apiAttachment)
	s.API("DELETE /api/v1/cases/{id}/attachments/{att}", h.apiRemoveAttachment)
}

func (h *handlers) apiAttachments(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	as, err := h.svc.Attachments(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, apiItems[*Attachment]{Items: as})
}

// apiAddAttachment reads the multipart body part by part, the file at
// most MaxAttachmentSize (it is never written to disk in plaintext).
func (h *handlers) apiAddAttachment(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	// Who may attach, and to which case, comes before reading the file.
	if err := mayAttach(auth.From(r.Context())); err != nil {
		return err
	}
	if _, err := h.svc.Get(r.Context(), id); err != nil {
		return err
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return errs.E(errs.Unsupported, "err.att.multipart")
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, MaxAttachmentSize+attachmentUploadOverhead), params["boundary"])
	var name, tlp string
	var data []byte
	var got bool
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
				return reporting.TooLargeError(reporting.CleanAttachmentName(name), MaxAttachmentSize)
			}
			return errs.Field("file", "err.att.multipart_malformed", nil)
		}
		switch part.FormName() {
		case "tlp":
			b, err := io.ReadAll(io.LimitReader(part, 100))
			if err != nil {
				return errs.Field("tlp", "err.att.multipart_malformed", nil)
			}
			tlp = strings.TrimSpace(string(b))
		case "file":
			if got {
				return errs.Field("file", "err.att.one_file", nil)
			}
			got, name = true, part.FileName()
			if data, err = reporting.ReadAttachment(part, name, MaxAttachmentSize); err != nil {
				return err
			}
		}
		part.Close()
	}
	if !got {
		return errs.Field("file", "err.att.file_required", nil)
	}
	a, err := h.svc.AddAttachment(r.Context(), id, name, data, tlp)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/cases/"+itoa(id)+"/attachments/"+itoa(a.ID))
	return web.WriteJSON(w, http.StatusCreated, a)
}

func (h *handlers) apiAttachment(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	return h.download(w, r, id)
}

func (h *handlers) apiRemoveAttachment(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	att, err := attID(r)
	if err != nil {
		return err
	}
	if err := h.svc.RemoveAttachment(r.Context(), id, att); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
