package advisory

// The JSON API of advisories (/api/v1/advisories, /api/v1/csaf/…): what
// the portal's editor and review pages do, for machines. Readers list the
// published advisories they may read under TLP and fetch the exact
// published bytes; the authority's staff see the working copies; analysts
// write, submit, review and publish them. Documented in openapi.json.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// MaxDocumentBytes bounds the bodies that carry a CSAF document (import,
// the working copy, validation): large vendor advisories exceed the API's
// usual 1 MiB.
const MaxDocumentBytes = 16 << 20

func (h *handlers) apiRoutes() {
	s := h.srv
	// Readers: the published advisories, with or without a token.
	s.PublicAPI("GET /api/v1/advisories", h.apiList)
	s.PublicAPI("GET /api/v1/advisories/by-tracking-id/{tid}/versions", h.apiPublicVersions)
	s.PublicAPI("GET /api/v1/advisories/by-tracking-id/{tid}/versions/{n}", h.apiVersionContent)
	s.PublicAPI("GET /api/v1/csaf/keys", h.apiKeys)
	s.QueryAPI("POST /api/v1/csaf/validate", h.apiValidate)
	// The staff: working copies and the workflow.
	s.API("POST /api/v1/advisories", h.apiCreate)
	s.API("GET /api/v1/advisories/{id}", h.apiGet)
	s.API("PUT /api/v1/advisories/{id}/document", h.apiSetDocument)
	s.API("PUT /api/v1/advisories/{id}/recipients", h.apiRecipients)
	s.API("GET /api/v1/advisories/{id}/preview", h.apiPreview)
	s.API("GET /api/v1/advisories/{id}/versions", h.apiVersions)
	s.API("POST /api/v1/advisories/{id}/submit", h.apiSubmit)
	s.API("POST /api/v1/advisories/{id}/return", h.apiReturn)
	s.API("POST /api/v1/advisories/{id}/approve", h.apiApprove)
	s.API("POST /api/v1/advisories/{id}/cancel", h.apiCancel)
	s.API("POST /api/v1/advisories/{id}/revise", h.apiRevise)
}

// staffID reads the advisory id of a staff-only route. Others get 404,
// as from the service: they learn nothing of working copies.
func staffID(r *http.Request) (int64, error) {
	if !CanManage(auth.From(r.Context())) {
		return 0, notFound()
	}
	return web.PathID(r, "id")
}

// readDocument reads a JSON body of up to MaxDocumentBytes. The errors are
// those of web.DecodeJSON: 415, 413, 400.
func readDocument(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, errs.E(errs.Unsupported, "err.unsupported_media_type")
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxDocumentBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errs.E(errs.TooLarge, "err.too_large")
	}
	if err != nil {
		return nil, err
	}
	if !json.Valid(b) {
		return nil, malformed()
	}
	return b, nil
}

func malformed() error {
	return &errs.Error{Kind: errs.Invalid, Code: "err.json_malformed", Args: map[string]any{"status": http.StatusBadRequest}}
}

// decodeStrict decodes b into v as web.DecodeJSON does: unknown members
// and values of the wrong type are field errors.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(body)"
		}
		return errs.Field(field, "err.json_type", map[string]any{"type": te.Type.String()})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return errs.Field(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "err.json_unknown_field", nil)
	}
	return malformed()
}

// decodeOptional reads the JSON body of a workflow step into v; a step
// sent with an empty body takes v as is.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return web.DecodeJSON(w, r, v)
}

// publishedItem is a published advisory as its readers see it: only the
// newest published version's facts, never the working copy's (whose
// title or label may be under embargo).
type publishedItem struct {
	TrackingID string `json:"tracking_id"`
	Published
	// URL is the API path of the version's exact bytes.
	URL string `json:"url"`
}

func itemOf(a *Advisory) publishedItem {
	return publishedItem{TrackingID: a.TrackingID, Published: *a.Published,
		URL: "/api/v1/advisories/by-tracking-id/" + a.TrackingID + "/versions/" + strconv.Itoa(a.Published.Version)}
}

type page[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

func (h *handlers) apiList(w http.ResponseWriter, r *http.Request) error {
	off, lim, err := web.Paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	manage := false
	if s := q.Get("manage"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return errs.Field("manage", "err.json_type", map[string]any{"type": "boolean"})
		}
		manage = b
	}
	f := ListFilter{Manage: manage, Text: q.Get("q"), Vendor: q.Get("vendor"), Product: q.Get("product"), CVE: q.Get("cve"),
		Severity: strings.ToLower(q.Get("severity")), TLP: strings.ToUpper(q.Get("tlp")), Offset: off, Limit: lim}
	if f.TLP == "CLEAR" { // TLP 2.0's name of CSAF 2.0's WHITE
		f.TLP = "WHITE"
	}
	if manage {
		f.State = q.Get("state")
	}
	items, total, err := h.svc.List(r.Context(), f)
	if err != nil {
		return err
	}
	if manage {
		for _, a := range items {
			if a.RecipientOrgs, a.RecipientUsers, err = h.svc.recipients(r.Context(), a.ID); err != nil {
				return err
			}
			if a.RecipientOrgs == nil {
				a.RecipientOrgs = []int64{}
			}
			if a.RecipientUsers == nil {
				a.RecipientUsers = []int64{}
			}
		}
		return web.WriteJSON(w, http.StatusOK, page[*Advisory]{Items: items, Total: total, Offset: off, Limit: lim})
	}
	out := make([]publishedItem, 0, len(items))
	for _, a := range items {
		out = append(out, itemOf(a))
	}
	return web.WriteJSON(w, http.StatusOK, page[publishedItem]{Items: out, Total: total, Offset: off, Limit: lim})
}

// createInput is the body of POST /api/v1/advisories: the facts of a new
// draft (NewInput), or a CSAF document to import.
type createInput struct {
	NewInput
	Document json.RawMessage `json:"document"`
}

func (h *handlers) apiCreate(w http.ResponseWriter, r *http.Request) error {
	if !CanEdit(auth.From(r.Context())) {
		return forbidden() // before reading the body
	}
	b, err := readDocument(w, r)
	if err != nil {
		return err
	}
	var in createInput
	if err := decodeStrict(b, &in); err != nil {
		return err
	}
	var a *Advisory
	if in.Document != nil {
		if in.NewInput != (NewInput{}) {
			var v errs.Validator
			for name, set := range map[string]bool{"title": in.Title != "", "lang": in.Lang != "", "tlp": in.TLP != "", "category": in.Category != ""} {
				if set {
					v.Add(name, "err.json_unknown_field", nil)
				}
			}
			return v.Err()
		}
		a, err = h.svc.Import(r.Context(), in.Document)
	} else {
		a, err = h.svc.Create(r.Context(), in.NewInput)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/advisories/"+itoa(a.ID))
	return web.WriteJSON(w, http.StatusCreated, a)
}

// detail is an advisory for the staff: with its working copy, as a JSON
// object, and its history.
type detail struct {
	*Advisory
	Document json.RawMessage `json:"document"`
	History  []Event         `json:"history"`
}

func (h *handlers) apiGet(w http.ResponseWriter, r *http.Request) error {
	id, err := staffID(r)
	if err != nil {
		return err
	}
	a, err := h.svc.Get(r.Context(), id)
	if err != nil {
		return err
	}
	hist, err := h.svc.History(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, detail{Advisory: a, Document: a.Document, History: hist})
}

func (h *handlers) apiSetDocument(w http.ResponseWriter, r *http.Request) error {
	id, err := staffID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if !CanEdit(auth.From(ctx)) {
		return forbidden()
	}
	check := true
	if s := r.URL.Query().Get("validate"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return errs.Field("validate", "err.json_type", map[string]any{"type": "boolean"})
		}
		check = b
	}
	raw, err := readDocument(w, r)
	if err != nil {
		return err
	}
	if check {
		if err := h.svc.checkCandidate(ctx, id, raw); err != nil {
			return err
		}
	}
	a, err := h.svc.SetDocument(ctx, id, raw)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, a)
}

// checkCandidate refuses a new working copy of draft id that its
// publication would refuse: the document as Belfry would store and
// publish it must pass the schema and every mandatory test. Each failing
// test is a field error of "document".
func (s *Service) checkCandidate(ctx context.Context, id int64, raw []byte) error {
	a, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if a.State != StateDraft {
		return errs.E(errs.Conflict, "err.adv.not_draft")
	}
	d, err := decode(raw)
	if err != nil {
		return err
	}
	if err := checkEditable(d); err != nil {
		return err
	}
	old, err := a.Doc()
	if err != nil {
		return err
	}
	now := s.tick()
	d.Document.Tracking = old.Document.Tracking
	s.manage(d, a.TrackingID, now)
	cand := *a
	if cand.Document, err = d.Marshal(); err != nil {
		return err
	}
	_, err = s.validNext(ctx, s.db, &cand, now)
	return err
}

type recipientsInput struct {
	Orgs  []int64 `json:"orgs"`
	Users []int64 `json:"users"`
}

func (h *handlers) apiRecipients(w http.ResponseWriter, r *http.Request) error {
	id, err := staffID(r)
	if err != nil {
		return err
	}
	var in recipientsInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	a, err := h.svc.SetRecipients(r.Context(), id, in.Orgs, in.Users)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, a)
}

// preview is the next version as its publication would write it now.
type preview struct {
	Version    int             `json:"version"`
	Document   json.RawMessage `json:"document"`
	Validation *csaf.Report    `json:"validation"`
}

func (h *handlers) apiPreview(w http.ResponseWriter, r *http.Request) error {
	id, err := staffID(r)
	if err != nil {
		return err
	}
	p, err := h.svc.Prepare(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, preview{Version: p.Version, Document: p.Content, Validation: p.Report})
}

func (h *handlers) apiVersions(w http.ResponseWriter, r *http.Request) error {
	id, err := staffID(r)
	if err != nil {
		return err
	}
	if _, err := h.svc.Get(r.Context(), id); err != nil {
		return err
	}
	vs, err := h.svc.Versions(r.Context(), id)
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []*Version{}
	}
	return web.WriteJSON(w, http.StatusOK, versionList{Items: vs})
}

type versionList struct {
	Advisory *publishedItem `json:"advisory,omitempty"`
	Items    []*Version     `json:"items"`
}

func (h *handlers) apiPublicVersions(w http.ResponseWriter, r *http.Request) error {
	a, vs, err := h.svc.Public(r.Context(), r.PathValue("tid"))
	if err != nil {
		return err
	}
	it := itemOf(a)
	if vs == nil {
		vs = []*Version{}
	}
	return web.WriteJSON(w, http.StatusOK, versionList{Advisory: &it, Items: vs})
}

// apiVersionContent serves a published version's exact bytes, as signed
// and as the provider tree serves them.
func (h *handlers) apiVersionContent(w http.ResponseWriter, r *http.Request) error {
	n := 0
	if s := r.PathValue("n"); s != "latest" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			return notFound()
		}
	}
	v, err := h.svc.VersionContent(r.Context(), r.PathValue("tid"), n)
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Content-Length", strconv.Itoa(len(v.Content)))
	hd.Set("Content-Disposition", `inline; filename="`+v.FileName+`"`)
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Checksum-SHA256", v.SHA256)
	hd.Set("X-Checksum-SHA512", v.SHA512)
	hd.Set("X-CSAF-Version", strconv.Itoa(v.Version))
	hd.Set("ETag", `"`+v.SHA256+`"`)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, err = w.Write(v.Content)
	}
	return err
}

func (h *handlers) apiSubmit(w http.ResponseWriter, r *http.Request) error {
	id, err := staffID(r)
	if err != nil {
		return err
	}
	var in SubmitInput
	if err := decodeOptional(w, r, &in); err != nil {
		return err
	}
	return h.result(w)(h.svc.Submit(r.Context(), id, in))
}

type returnInput struct {
	Note string `json:"note"`
}

func (h *handlers) apiReturn(w http.ResponseWriter, r *http.Request) error {
	id, err := staffID(r)
	if err != nil {
		return err
	}
	var in returnInput
	if err := decodeOptional(w, r, &in); err != nil {
		return err
	}
	return h.result(w)(h.svc.Return(r.Context(), id, in.Note))
}

type approveInput struct {
	// PublishAt is the embargo: an RFC 3339 time in the future; absent,
	// the advisory is published now.
	PublishAt *string `json:"publish_at"`
}

func (h *handlers) apiApprove(w http.ResponseWriter, r *http.Request) error {
	id, err := staffID(r)
	if err != nil {
		return err
	}
	var in approveInput
	if err := decodeOptional(w, r, &in); err != nil {
		return err
	}
	var at *time.Time
	if in.PublishAt != nil && *in.PublishAt != "" {
		t, err := time.Parse(time.RFC3339, *in.PublishAt)
		if err != nil {
			return errs.Field("publish_at", "err.json_type", map[string]any{"type": "date-time (RFC 3339)"})
		}
		at = &t
	}
	return h.result(w)(h.svc.Approve(r.Context(), id, at))
}

func (h *handlers) apiCancel(w http.ResponseWriter, r *http.Request) error {
	id, err := staffID(r)
	if err != nil {
		return err
	}
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	return h.result(w)(h.svc.Cancel(r.Context(), id))
}

func (h *handlers) apiRevise(w http.ResponseWriter, r *http.Request) error {
	id, err := staffID(r)
	if err != nil {
		return err
	}
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	return h.result(w)(h.svc.Revise(r.Context(), id))
}

// result writes the advisory a workflow step returns, or its error.
func (h *handlers) result(w http.ResponseWriter) func(*Advisory, error) error {
	return func(a *Advisory, err error) error {
		if err != nil {
			return err
		}
		return web.WriteJSON(w, http.StatusOK, a)
	}
}

func (h *handlers) apiKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := h.svc.Keys(r.Context())
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []Key{}
	}
	return web.WriteJSON(w, http.StatusOK, struct {
		Items []Key `json:"items"`
	}{keys})
}

// apiValidate checks a CSAF document with the tests of a preset and
// changes nothing: read-only tokens may call it.
func (h *handlers) apiValidate(w http.ResponseWriter, r *http.Request) error {
	preset := csaf.PresetMandatory
	if s := r.URL.Query().Get("preset"); s != "" {
		p, err := csaf.ParsePreset(s)
		if err != nil {
			return errs.Field("preset", "err.adv.preset", nil)
		}
		preset = p
	}
	raw, err := readDocument(w, r)
	if err != nil {
		return err
	}
	rep, err := csaf.Validate(raw, preset)
	if err != nil {
		return errs.Field("document", "err.adv.json", map[string]any{"reason": err.Error()})
	}
	return web.WriteJSON(w, http.StatusOK, rep)
}
