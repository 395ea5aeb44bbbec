package reporting

import (
	_ "embed"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

//go:embed openapi_attachments.json
var openapiAttachments []byte

// multipartOverhead is what a multipart body may carry besides the file:
// its boundaries, part headers and the stage field.
const multipartOverhead = 64 << 10

// AttachmentRoutes registers the attachments of reports: their API, and
// the portal's upload, download and delete. Call it after
// SetAttachmentMaxSize.
func (s *Service) AttachmentRoutes(srv *web.Server) {
	srv.AddOpenAPI(openapiAttachments)
	h := &handlers{svc: s, srv: srv}
	srv.API("POST /api/v1/incidents/{id}/attachments", h.apiAddAttachment)
	srv.API("GET /api/v1/incidents/{id}/attachments", h.apiAttachments)
	srv.API("GET /api/v1/incidents/{id}/attachments/{att}", h.apiAttachment)
	srv.API("DELETE /api/v1/incidents/{id}/attachments/{att}", h.apiDeleteAttachment)
	// Not /incidents/{id}/attachments/{att} for the POST: it would overlap
	// /incidents/{id}/{stage}/attachments with neither more specific.
	srv.UploadPage("POST /incidents/{id}/{stage}/attachments", h.pageAddAttachment, s.AttachmentMaxSize()+multipartOverhead)
	srv.Page("GET /incidents/{id}/attachments/{att}", h.pageAttachment)
	srv.Page("POST /incidents/{id}/attachments/{att}/delete", h.pageDeleteAttachment)
}

func pathAtt(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("att"), 10, 64)
	if err != nil || n <= 0 {
		return 0, attachmentNotFound()
	}
	return n, nil
}

// readFile reads an uploaded file, at most max bytes: a larger one is
// refused without reading the rest.
func readFile(rd io.Reader, name string, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(rd, max+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, TooLargeError(cleanName(name), max)
	case err != nil:
		return nil, err
	case int64(len(b)) > max:
		return nil, TooLargeError(cleanName(name), max)
	}
	return b, nil
}

// apiAddAttachment reads a multipart/form-data body part by part (the
// file is never written to disk in plaintext): the fields stage and file.
func (h *handlers) apiAddAttachment(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	// Who may attach comes before reading what is attached.
	if err := h.svc.mayAttach(r.Context(), id); err != nil {
		return err
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return errs.E(errs.Unsupported, "err.att.multipart")
	}
	max := h.svc.AttachmentMaxSize()
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, max+multipartOverhead), params["boundary"])
	var u Upload
	var got bool
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
				return TooLargeError(cleanName(u.Name), max)
			}
			return errs.Field("file", "err.att.multipart_malformed", nil)
		}
		switch part.FormName() {
		case "stage":
			b, err := io.ReadAll(io.LimitReader(part, 100))
			if err != nil {
				return errs.Field("stage", "err.att.multipart_malformed", nil)
			}
			u.Stage = Stage(strings.TrimSpace(string(b)))
		case "file":
			if got {
				return errs.Field("file", "err.att.one_file", nil)
			}
			got = true
			u.Name, u.DeclaredType = part.FileName(), part.Header.Get("Content-Type")
			if u.Data, err = readFile(part, u.Name, max); err != nil {
				return err
			}
		}
		part.Close()
	}
	var v errs.Validator
	v.Check(got, "file", "err.att.file_required")
	v.Check(ValidStage(u.Stage), "stage", "err.rep.stage_invalid")
	if err := v.Err(); err != nil {
		return err
	}
	a, err := h.svc.AddAttachment(r.Context(), id, u)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/incidents/"+itoa(id)+"/attachments/"+itoa(a.ID))
	return web.WriteJSON(w, http.StatusCreated, a)
}

func (h *handlers) apiAttachments(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	stage := Stage(r.URL.Query().Get("stage"))
	as, err := h.svc.Attachments(r.Context(), id, stage)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"items": as})
}

func (h *handlers) apiAttachment(w http.ResponseWriter, r *http.Request) error {
	return h.download(w, r)
}

func (h *handlers) apiDeleteAttachment(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	att, err := pathAtt(r)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteAttachment(r.Context(), id, att); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// download sends a file's bytes so that no browser renders or runs them:
// always application/octet-stream, as an attachment, not sniffed, and
// sandboxed should it be opened anyway. The bytes are decrypted and
// checked against their SHA-256 before the first one is sent.
func (h *handlers) download(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	att, err := pathAtt(r)
	if err != nil {
		return err
	}
	a, b, err := h.svc.AttachmentContent(r.Context(), id, att)
	if err != nil {
		return err
	}
	return web.WriteFile(w, a.Name, b)
}
