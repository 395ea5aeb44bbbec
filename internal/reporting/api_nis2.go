package reporting

import (
	_ "embed"
	"maps"
	"mime"
	"net/http"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/web"
)

//go:embed openapi_nis2.json
var openapiNIS2 []byte

// nis2Routes registers the stateless NIS2 calculators of incident
// reporting: the significance test and the reporting deadlines, the same
// functions as `belfry nis2 significance` and `belfry nis2 deadlines`.
// Nothing is stored.
func (s *Service) nis2Routes(srv *web.Server) {
	srv.AddOpenAPI(openapiNIS2)
	h := &handlers{svc: s, srv: srv}
	srv.QueryAPI("POST /api/v1/nis2/significance", h.apiNIS2Significance)
	srv.QueryAPI("POST /api/v1/nis2/deadlines", h.apiNIS2Deadlines)
}

// apiNIS2Significance answers the significance decision for the facts in
// the body, read exactly as the command line reads them.
func (h *handlers) apiNIS2Significance(w http.ResponseWriter, r *http.Request) error {
	if err := nis2Body(w, r); err != nil {
		return err
	}
	f, err := nis2.ParseSignificanceFacts(r.Body)
	if err != nil {
		return nis2BodyError(err)
	}
	d, err := nis2.AssessSignificance(f)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, d)
}

// apiNIS2Deadlines answers the reporting deadlines for the times in the
// body, judged at the facts' now or else at the server's clock.
func (h *handlers) apiNIS2Deadlines(w http.ResponseWriter, r *http.Request) error {
	if err := nis2Body(w, r); err != nil {
		return err
	}
	f, err := nis2.ParseClockFacts(r.Body)
	if err != nil {
		return nis2BodyError(err)
	}
	d, err := nis2.Due(f, h.svc.now())
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, d)
}

// nis2Body checks the media type of the body as web.DecodeJSON does (415
// otherwise) and bounds it to web.MaxJSONBytes (413 beyond).
func nis2Body(w http.ResponseWriter, r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return errs.E(errs.Unsupported, "err.unsupported_media_type")
	}
	r.Body = http.MaxBytesReader(w, r.Body, web.MaxJSONBytes)
	return nil
}

// nis2BodyError answers a body that is not JSON at all (empty, malformed,
// truncated) with 400, as web.DecodeJSON does for the rest of the API;
// invalid facts stay 422 with their fields named by JSON path.
func nis2BodyError(err error) error {
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid {
		return err
	}
	switch e.Code {
	case "err.nis2.empty", "err.nis2.malformed", "err.nis2.truncated":
		args := maps.Clone(e.Args)
		if args == nil {
			args = map[string]any{}
		}
		args["status"] = http.StatusBadRequest
		return &errs.Error{Kind: e.Kind, Code: e.Code, Args: args, Err: e.Err}
	}
	return err
}
