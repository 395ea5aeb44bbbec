package crisis

// The JSON API of crisis coordination (/api/v1/crises…, and the public
// acknowledgement route of call-outs /api/v1/callouts/ack). Every check
// is the service's: a caller who does not take part in a crisis gets 404
// on all its routes. Documented in openapi.json.

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

func (h *handlers) apiRoutes() {
	s := h.srv
	s.API("GET /api/v1/crises", h.apiList)
	s.API("POST /api/v1/crises", h.apiDeclare)
	s.API("GET /api/v1/crises/levels", h.apiScale)
	s.API("GET /api/v1/crises/statistics", h.apiStatistics)
	s.API("GET /api/v1/crises/directory", h.apiDirectory)
	s.API("GET /api/v1/crises/{id}", h.apiGet)
	s.API("PATCH /api/v1/crises/{id}", h.apiUpdate)
	s.API("POST /api/v1/crises/{id}/level", h.apiChangeLevel)
	s.API("GET /api/v1/crises/{id}/levels", h.apiLevels)
	s.API("GET /api/v1/crises/{id}/timeline", h.apiTimeline)
	s.API("GET /api/v1/crises/{id}/participants", h.apiParticipants)
	s.API("POST /api/v1/crises/{id}/participants", h.apiAddParticipant)
	s.API("PATCH /api/v1/crises/{id}/participants/{pid}", h.apiUpdateParticipant)
	s.API("DELETE /api/v1/crises/{id}/participants/{pid}", h.apiRemoveParticipant)
	s.API("GET /api/v1/crises/{id}/picture", h.apiPicture)
	s.API("PUT /api/v1/crises/{id}/sectors", h.apiSectors)
	s.API("POST /api/v1/crises/{id}/organisations", h.apiAddOrg)
	s.API("DELETE /api/v1/crises/{id}/organisations/{entry}", h.apiRemoveOrg)
	s.API("POST /api/v1/crises/{id}/links", h.apiAddLink)
	s.API("GET /api/v1/crises/{id}/decisions", h.apiDecisions)
	s.API("POST /api/v1/crises/{id}/decisions", h.apiAddDecision)
	s.API("GET /api/v1/crises/{id}/actions", h.apiActions)
	s.API("POST /api/v1/crises/{id}/actions", h.apiAddAction)
	s.API("PATCH /api/v1/crises/{id}/actions/{action}", h.apiUpdateAction)
	s.API("GET /api/v1/crises/{id}/sitreps", h.apiSitreps)
	s.API("POST /api/v1/crises/{id}/sitreps", h.apiCreateSitrep)
	s.API("GET /api/v1/crises/{id}/sitreps/{sitrep}", h.apiSitrep)
	s.API("PATCH /api/v1/crises/{id}/sitreps/{sitrep}", h.apiUpdateSitrep)
	s.API("DELETE /api/v1/crises/{id}/sitreps/{sitrep}", h.apiDeleteSitrep)
	s.API("POST /api/v1/crises/{id}/sitreps/{sitrep}/publish", h.apiPublishSitrep)
	s.API("GET /api/v1/crises/{id}/sitreps/{sitrep}/export", h.apiExport)
	s.API("GET /api/v1/crises/{id}/callouts", h.apiCallouts)
	s.API("POST /api/v1/crises/{id}/callouts", h.apiSendCallout)
	s.API("GET /api/v1/crises/{id}/callouts/{callout}", h.apiCallout)
	// The recipient's acknowledgement link: no account, the token is the
	// key. A portal page will take over the link later.
	s.PublicAPI("GET /api/v1/callouts/ack", h.apiReadAlert)
	s.PublicAPI("POST /api/v1/callouts/ack", h.apiAcknowledge)
}

type list[T any] struct {
	Items []T `json:"items"`
}

type page[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

// ids reads the crisis id and, when sub is given, a second path id.
func ids(r *http.Request, sub string) (int64, int64, error) {
	id, err := web.PathID(r, "id")
	if err != nil || sub == "" {
		return id, 0, err
	}
	n, err := web.PathID(r, sub)
	return id, n, err
}

func boolParam(r *http.Request, name string) (*bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, errs.Field(name, "err.json_type", map[string]any{"type": "boolean"})
	}
	return &b, nil
}

func (h *handlers) apiList(w http.ResponseWriter, r *http.Request) error {
	off, lim, err := web.Paging(r)
	if err != nil {
		return err
	}
	ex, err := boolParam(r, "exercise")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	items, total, err := h.svc.List(r.Context(), Filter{Status: q.Get("status"), Exercise: ex, Text: q.Get("q"), Offset: off, Limit: lim})
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, page[*Crisis]{Items: items, Total: total, Offset: off, Limit: lim})
}

func (h *handlers) apiDeclare(w http.ResponseWriter, r *http.Request) error {
	if !CanDeclare(auth.From(r.Context())) {
		return forbidden()
	}
	var in DeclareInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := h.svc.Declare(r.Context(), in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, c)
}

// scaleLevel is a level of the scale with its name in the caller's
// language.
type scaleLevel struct {
	Level
	Name string `json:"name"`
}

func (h *handlers) apiScale(w http.ResponseWriter, r *http.Request) error {
	out := []scaleLevel{}
	for _, l := range h.svc.Scale().Levels() {
		out = append(out, scaleLevel{Level: l, Name: h.svc.LevelName(web.Locale(r), l.Code)})
	}
	return web.WriteJSON(w, http.StatusOK, list[scaleLevel]{Items: out})
}

func (h *handlers) apiStatistics(w http.ResponseWriter, r *http.Request) error {
	st, err := h.svc.Statistics(r.Context())
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, st)
}

func (h *handlers) apiDirectory(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := DirectoryFilter{Text: q.Get("q"), Sector: q.Get("sector")}
	if s := q.Get("organisation"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return errs.Field("organisation", "err.json_type", map[string]any{"type": "integer"})
		}
		f.OrgID = n
	}
	es, err := h.svc.Directory(r.Context(), f)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, list[Entry]{Items: es})
}

func (h *handlers) apiGet(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	c, err := h.svc.Get(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, c)
}

func (h *handlers) apiUpdate(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	if _, err := h.svc.Get(r.Context(), id); err != nil {
		return err // 404 before reading the body
	}
	var in UpdateInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := h.svc.Update(r.Context(), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, c)
}

type levelInput struct {
	Level  string `json:"level"`
	Reason string `json:"reason"`
}

func (h *handlers) apiChangeLevel(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	if _, err := h.svc.Get(r.Context(), id); err != nil {
		return err
	}
	var in levelInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := h.svc.ChangeLevel(r.Context(), id, in.Level, in.Reason)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, c)
}

func (h *handlers) apiLevels(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	ls, err := h.svc.Levels(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, list[LevelChange]{Items: ls})
}

func (h *handlers) apiTimeline(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	es, err := h.svc.Timeline(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, list[Event]{Items: es})
}

func (h *handlers) apiParticipants(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	ps, err := h.svc.Participants(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, list[*Participant]{Items: ps})
}

// decode checks that the caller sees crisis id (404 before reading the
// body), then reads the body into v.
func (h *handlers) decode(w http.ResponseWriter, r *http.Request, id int64, v any) error {
	if _, err := h.svc.Get(r.Context(), id); err != nil {
		return err
	}
	return web.DecodeJSON(w, r, v)
}

func (h *handlers) apiAddParticipant(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	var in ParticipantInput
	if err := h.decode(w, r, id, &in); err != nil {
		return err
	}
	p, err := h.svc.AddParticipant(r.Context(), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, p)
}

func (h *handlers) apiUpdateParticipant(w http.ResponseWriter, r *http.Request) error {
	id, pid, err := ids(r, "pid")
	if err != nil {
		return err
	}
	var in ParticipantChange
	if err := h.decode(w, r, id, &in); err != nil {
		return err
	}
	p, err := h.svc.UpdateParticipant(r.Context(), id, pid, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, p)
}

func (h *handlers) apiRemoveParticipant(w http.ResponseWriter, r *http.Request) error {
	id, pid, err := ids(r, "pid")
	if err != nil {
		return err
	}
	if err := h.svc.RemoveParticipant(r.Context(), id, pid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handlers) apiPicture(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	p, err := h.svc.Picture(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, p)
}

type sectorsInput struct {
	Sectors []string `json:"sectors"`
}

func (h *handlers) apiSectors(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	var in sectorsInput
	if err := h.decode(w, r, id, &in); err != nil {
		return err
	}
	p, err := h.svc.SetSectors(r.Context(), id, in.Sectors)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, p)
}

func (h *handlers) apiAddOrg(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	var in AffectedOrgInput
	if err := h.decode(w, r, id, &in); err != nil {
		return err
	}
	p, err := h.svc.AddOrg(r.Context(), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, p)
}

func (h *handlers) apiRemoveOrg(w http.ResponseWriter, r *http.Request) error {
	id, entry, err := ids(r, "entry")
	if err != nil {
		return err
	}
	p, err := h.svc.RemoveOrg(r.Context(), id, entry)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, p)
}

func (h *handlers) apiAddLink(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	var in Link
	if err := h.decode(w, r, id, &in); err != nil {
		return err
	}
	p, err := h.svc.AddLink(r.Context(), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, p)
}

func (h *handlers) apiDecisions(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	ds, err := h.svc.Decisions(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, list[Decision]{Items: ds})
}

func (h *handlers) apiAddDecision(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	var in DecisionInput
	if err := h.decode(w, r, id, &in); err != nil {
		return err
	}
	d, err := h.svc.AddDecision(r.Context(), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, d)
}

func (h *handlers) apiActions(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	overdue, err := boolParam(r, "overdue")
	if err != nil {
		return err
	}
	as, err := h.svc.Actions(r.Context(), id, overdue != nil && *overdue)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, list[*Action]{Items: as})
}

func (h *handlers) apiAddAction(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	var in ActionInput
	if err := h.decode(w, r, id, &in); err != nil {
		return err
	}
	a, err := h.svc.SaveAction(r.Context(), id, 0, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, a)
}

func (h *handlers) apiUpdateAction(w http.ResponseWriter, r *http.Request) error {
	id, aid, err := ids(r, "action")
	if err != nil {
		return err
	}
	var in ActionInput
	if err := h.decode(w, r, id, &in); err != nil {
		return err
	}
	a, err := h.svc.SaveAction(r.Context(), id, aid, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, a)
}

func (h *handlers) apiSitreps(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	ss, err := h.svc.Sitreps(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, list[*Sitrep]{Items: ss})
}

func (h *handlers) apiCreateSitrep(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	var in SitrepInput
	if err := h.decode(w, r, id, &in); err != nil {
		return err
	}
	sr, err := h.svc.CreateSitrep(r.Context(), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, sr)
}

func (h *handlers) apiSitrep(w http.ResponseWriter, r *http.Request) error {
	id, sid, err := ids(r, "sitrep")
	if err != nil {
		return err
	}
	sr, err := h.svc.Sitrep(r.Context(), id, sid)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, sr)
}

func (h *handlers) apiUpdateSitrep(w http.ResponseWriter, r *http.Request) error {
	id, sid, err := ids(r, "sitrep")
	if err != nil {
		return err
	}
	var in SitrepInput
	if err := h.decode(w, r, id, &in); err != nil {
		return err
	}
	sr, err := h.svc.UpdateSitrep(r.Context(), id, sid, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, sr)
}

func (h *handlers) apiDeleteSitrep(w http.ResponseWriter, r *http.Request) error {
	id, sid, err := ids(r, "sitrep")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteSitrep(r.Context(), id, sid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handlers) apiPublishSitrep(w http.ResponseWriter, r *http.Request) error {
	id, sid, err := ids(r, "sitrep")
	if err != nil {
		return err
	}
	var in PublishInput
	if r.ContentLength != 0 {
		if err := h.decode(w, r, id, &in); err != nil {
			return err
		}
	}
	sr, err := h.svc.PublishSitrep(r.Context(), id, sid, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, sr)
}

func (h *handlers) apiExport(w http.ResponseWriter, r *http.Request) error {
	id, sid, err := ids(r, "sitrep")
	if err != nil {
		return err
	}
	format := strings.ToLower(r.URL.Query().Get("format"))
	b, name, mt, err := h.svc.Export(r.Context(), id, sid, format, web.Locale(r))
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Content-Type", mt)
	hd.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	hd.Set("Cache-Control", "no-store")
	// The page carries its own style and nothing else.
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}

func (h *handlers) apiCallouts(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	cs, err := h.svc.Callouts(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, list[*Callout]{Items: cs})
}

func (h *handlers) apiSendCallout(w http.ResponseWriter, r *http.Request) error {
	id, _, err := ids(r, "")
	if err != nil {
		return err
	}
	var in CalloutInput
	if err := h.decode(w, r, id, &in); err != nil {
		return err
	}
	co, err := h.svc.SendCallout(r.Context(), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, co)
}

func (h *handlers) apiCallout(w http.ResponseWriter, r *http.Request) error {
	id, cid, err := ids(r, "callout")
	if err != nil {
		return err
	}
	co, err := h.svc.Callout(r.Context(), id, cid)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, co)
}

func (h *handlers) apiReadAlert(w http.ResponseWriter, r *http.Request) error {
	a, err := h.svc.ReadAlert(r.Context(), r.URL.Query().Get("token"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return web.WriteJSON(w, http.StatusOK, a)
}

type ackInput struct {
	Token string `json:"token"`
}

func (h *handlers) apiAcknowledge(w http.ResponseWriter, r *http.Request) error {
	var in ackInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	a, err := h.svc.Acknowledge(r.Context(), in.Token)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return web.WriteJSON(w, http.StatusOK, a)
}
