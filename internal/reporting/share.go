package reporting

// Sharing a notification beyond the authority (NIS2 Art. 23(6) and (8);
// nis2.md §2.2): the analyst's own assessment of whether an incident is
// cross-border, the document exported for another Member State's SPOC or
// ENISA (sent through the official channel, so recorded as "exported"),
// and the forwarding by e-mail to a sector authority. Every share is
// recorded with the exact bytes of its document and their SHA-256, and
// audited.
//
// TLP 2.0 (nis2.md §4): a share may not be less restrictive than the TLP
// the entity gave its reports, and TLP:RED, which is for named individuals
// only, never goes to an organisation-wide mailbox (ENISA, a sector
// authority, the CSIRTs network).

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
)

// Recipients of a share.
const (
	RecipientSPOC            = "spoc"             // another Member State's single point of contact
	RecipientENISA           = "enisa"            // ENISA
	RecipientSectorAuthority = "sector_authority" // a national sector authority, by e-mail
	RecipientCSIRTNetwork    = "csirt_network"    // the CSIRTs network (Art. 15)
)

// RecipientKinds lists the recipients in the order forms show them.
var RecipientKinds = []string{RecipientSPOC, RecipientENISA, RecipientSectorAuthority, RecipientCSIRTNetwork}

// How a share left the authority.
const (
	ShareMailed   = "mailed"   // sent by Belfry's e-mail
	ShareExported = "exported" // downloaded, sent through the official channel
)

// TLPRank orders the TLP 2.0 labels, least restrictive first (clear <
// green < amber < amber+strict < red); -1 for anything else.
func TLPRank(label string) int { return slices.Index(TLPs, normTLP(label)) }

// TLPLabel writes a label as TLP 2.0 does: "TLP:AMBER+STRICT".
func TLPLabel(label string) string { return "TLP:" + strings.ToUpper(normTLP(label)) }

// mailbox reports whether recipients of kind read an organisation-wide
// mailbox, where TLP:RED may not go. A SPOC is reached person to person.
func mailbox(kind string) bool { return kind != RecipientSPOC }

// ShareRequest says to whom and how a notification is shared.
type ShareRequest struct {
	Recipient         string `json:"recipient"`
	Country           string `json:"country,omitempty"`             // the SPOC's Member State
	SectorAuthorityID int64  `json:"sector_authority_id,omitempty"` // the sector authority
	TLP               string `json:"tlp,omitempty"`                 // empty: the entity's own
	Identity          bool   `json:"identity"`                      // include the entity's name and number
}

// Share is a recorded share.
type Share struct {
	ID                int64     `json:"id"`
	IncidentID        int64     `json:"incident_id"`
	Recipient         string    `json:"recipient"`
	Country           string    `json:"country,omitempty"`
	SectorAuthorityID int64     `json:"sector_authority_id,omitempty"`
	RecipientName     string    `json:"recipient_name"`
	TLP               string    `json:"tlp"`
	Identity          bool      `json:"identity"`
	Method            string    `json:"method"`
	SHA256            string    `json:"sha256"`
	CreatedBy         string    `json:"created_by"`
	CreatedAt         time.Time `json:"created_at"`
}

// ShareDoc is the document shared: the notification as the recipient may
// see it. Internal notes, the notifier and other contacts, internal and
// police references, and indicators marked more restrictive than the
// share are never part of it.
type ShareDoc struct {
	TLP         string         `json:"tlp"` // first, as TLP 2.0 asks
	Document    string         `json:"document"`
	LegalBasis  string         `json:"legal_basis,omitempty"`
	Recipient   ShareAddressee `json:"recipient"`
	GeneratedAt time.Time      `json:"generated_at"`
	Incident    ShareIncident  `json:"incident"`
}

// ShareAddressee names the recipient in the document.
type ShareAddressee struct {
	Kind    string `json:"kind"`
	Country string `json:"country,omitempty"`
	Name    string `json:"name,omitempty"`
}

// ShareIncident is the incident in a shared document.
type ShareIncident struct {
	Ref                 string                 `json:"reference"`
	Kind                string                 `json:"kind"`
	AwareAt             time.Time              `json:"aware_at"`
	Status              string                 `json:"status"`
	Entity              ShareEntity            `json:"entity"`
	AuthorityAssessment *CrossBorderAssessment `json:"authority_assessment,omitempty"`
	Stages              []ShareStage           `json:"stages"`
}

// ShareEntity describes the entity: by name only when the share includes
// its identity, else by the incident reference as a pseudonym.
type ShareEntity struct {
	Pseudonym        string   `json:"pseudonym,omitempty"`
	Name             string   `json:"name,omitempty"`
	EnterpriseNumber string   `json:"enterprise_number,omitempty"`
	Sectors          []string `json:"sectors"`
	EntityTypes      []string `json:"entity_types"`
	Class            string   `json:"class,omitempty"`
}

// ShareStage is a filed stage: when it was first filed, and what its
// latest submission says.
type ShareStage struct {
	Stage            Stage        `json:"stage"`
	Ref              string       `json:"reference"`
	FirstSubmittedAt time.Time    `json:"first_submitted_at"`
	LastSubmittedAt  time.Time    `json:"last_submitted_at"`
	Corrections      int          `json:"corrections"`
	TLP              string       `json:"tlp"`
	Content          ShareContent `json:"content"`
}

// ShareContent is what a stage's latest submission says that is shared.
type ShareContent struct {
	Summary            string      `json:"summary,omitempty"`
	SuspectedMalicious string      `json:"suspected_malicious,omitempty"`
	CrossBorder        string      `json:"cross_border,omitempty"`
	CrossBorderImpact  string      `json:"cross_border_impact,omitempty"`
	AffectedCountries  []string    `json:"affected_countries,omitempty"`
	Severity           string      `json:"severity,omitempty"`
	ImpactAssessment   string      `json:"impact_assessment,omitempty"`
	Classification     string      `json:"classification,omitempty"`
	RootCause          string      `json:"root_cause,omitempty"`
	RootCauseText      string      `json:"root_cause_text,omitempty"`
	Mitigations        string      `json:"mitigations,omitempty"`
	Update             string      `json:"update,omitempty"`
	Indicators         []Indicator `json:"indicators,omitempty"`
}

// CrossBorderAssessment is the analyst's own view of whether an incident
// affects other Member States, beside what the entity answered.
type CrossBorderAssessment struct {
	CrossBorder bool      `json:"cross_border"`
	Countries   []string  `json:"affected_countries"`
	UpdatedBy   string    `json:"updated_by,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// CrossBorderInput sets the assessment.
type CrossBorderInput struct {
	CrossBorder bool     `json:"cross_border"`
	Countries   []string `json:"affected_countries"`
}

// CanShare reports whether the signed-in person shares notifications and
// sets the cross-border assessment (the authority's analysts, supervisors
// and administrators).
func CanShare(ctx context.Context) bool { return canTriage(auth.From(ctx)) }

// CrossBorder returns the analyst's assessment of the incident, or nil
// when there is none (the authority's staff only).
func (s *Service) CrossBorder(ctx context.Context, id int64) (*CrossBorderAssessment, error) {
	if !auth.From(ctx).IsAuthority() {
		return nil, forbidden()
	}
	if _, err := s.head(ctx, s.db, id); err != nil {
		return nil, err
	}
	return crossBorder(ctx, s.db, id)
}

func crossBorder(ctx context.Context, q store.Querier, id int64) (*CrossBorderAssessment, error) {
	var a CrossBorderAssessment
	var countries string
	err := q.QueryRow(ctx, `SELECT c.cross_border, c.countries, COALESCE(u.name, ''), c.updated_at FROM incident_cross_border c
		LEFT JOIN users u ON u.id = c.updated_by WHERE c.incident_id = ?`, id).Scan(&a.CrossBorder, &countries, &a.UpdatedBy, &a.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	a.Countries, a.UpdatedAt = append([]string{}, strings.Fields(countries)...), a.UpdatedAt.UTC()
	return &a, nil
}

// SetCrossBorder records the analyst's assessment of the incident: whether
// it is cross-border and which Member States it affects (required when it
// is). Audited.
func (s *Service) SetCrossBorder(ctx context.Context, id int64, in CrossBorderInput) (*CrossBorderAssessment, error) {
	p := auth.From(ctx)
	if !canTriage(p) {
		return nil, forbidden()
	}
	var v errs.Validator
	var countries []string
	for i, c := range in.Countries {
		c = strings.ToUpper(strings.TrimSpace(c))
		switch {
		case c == "":
		case !slices.Contains(MemberStates, c):
			v.Add(field("affected_countries", i), "err.share.country_invalid", nil)
		case !slices.Contains(countries, c):
			countries = append(countries, c)
		}
	}
	if in.CrossBorder && len(countries) == 0 && v.Err() == nil {
		v.Add("affected_countries", "err.share.countries_required", nil)
	}
	if !in.CrossBorder {
		countries = nil
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	slices.Sort(countries)
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		in2, err := s.head(ctx, tx, id)
		if err != nil {
			return err
		}
		before, err := crossBorder(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO incident_cross_border (incident_id, cross_border, countries, updated_by, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (incident_id) DO UPDATE SET cross_border = excluded.cross_border,
			countries = excluded.countries, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			id, in.CrossBorder, strings.Join(countries, " "), nullID(p.UserID), now); err != nil {
			return err
		}
		after := map[string]any{"cross_border": in.CrossBorder, "affected_countries": countries}
		var b any
		if before != nil {
			b = map[string]any{"cross_border": before.CrossBorder, "affected_countries": before.Countries}
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "incident.cross_border", ObjectType: "incident", ObjectID: itoa(id),
			OrgID: in2.OrgID, Before: b, After: after})
	})
	if err != nil {
		return nil, err
	}
	return crossBorder(ctx, s.db, id)
}

// shareTarget is a validated share: the recipient's name and, for a
// sector authority, its address.
type shareTarget struct {
	req   ShareRequest
	name  string
	email string
}

// entityFacts are the registry's facts on the entity that a share names.
type entityFacts struct {
	enterprise, class string
	sectors, types    []string
}

func loadEntityFacts(ctx context.Context, q store.Querier, org int64) (*entityFacts, error) {
	var f entityFacts
	var sectors, data string
	if err := q.QueryRow(ctx, `SELECT COALESCE(o.enterprise_number, ''), COALESCE(r.class, ''), COALESCE(r.sectors, ''), COALESCE(r.data, '')
		FROM organisations o LEFT JOIN registrations r ON r.org_id = o.id WHERE o.id = ?`, org).Scan(&f.enterprise, &f.class, &sectors, &data); err != nil {
		return nil, err
	}
	f.sectors = append([]string{}, strings.Fields(sectors)...)
	f.types = []string{}
	if data != "" {
		var profile struct {
			Facts struct {
				EntityTypes []string `json:"entity_types"`
			} `json:"facts"`
		}
		if json.Unmarshal([]byte(data), &profile) == nil && profile.Facts.EntityTypes != nil {
			f.types = profile.Facts.EntityTypes
		}
	}
	return &f, nil
}

// entityTLP is the most restrictive TLP the entity gave the latest
// submission of any stage: the floor of every share. "" when nothing is
// filed.
func entityTLP(in *Incident) string {
	floor := ""
	for _, st := range Stages {
		sub := in.Submitted(st)
		if sub == nil {
			continue
		}
		var c struct {
			TLP string `json:"tlp"`
		}
		_ = json.Unmarshal(sub.Canonical, &c)
		l := cmp.Or(normTLP(c.TLP), "amber")
		if TLPRank(l) > TLPRank(floor) {
			floor = l
		}
	}
	return floor
}

// checkShare validates req for the incident: the recipient, and the TLP
// against the entity's and against the recipient's kind.
func checkShare(ctx context.Context, q store.Querier, in *Incident, req ShareRequest) (*shareTarget, error) {
	t := &shareTarget{req: req}
	r := &t.req
	r.Recipient = strings.TrimSpace(r.Recipient)
	r.Country = strings.ToUpper(strings.TrimSpace(r.Country))
	r.TLP = normTLP(r.TLP)
	floor := entityTLP(in)
	if floor == "" {
		return nil, errs.E(errs.Conflict, "err.share.nothing_filed")
	}
	var v errs.Validator
	switch r.Recipient {
	case RecipientSPOC:
		switch {
		case r.Country == "":
			v.Add("country", "err.share.country_required", nil)
		case !slices.Contains(MemberStates, r.Country):
			v.Add("country", "err.share.country_invalid", nil)
		}
		t.name = r.Country
	case RecipientENISA:
		t.name = "ENISA"
	case RecipientCSIRTNetwork:
		t.name = "CSIRTs network"
	case RecipientSectorAuthority:
		a, err := sectorAuthority(ctx, q, r.SectorAuthorityID)
		switch {
		case err != nil && !errs.Is(err, errs.NotFound):
			return nil, err
		case err != nil || !a.Active:
			v.Add("sector_authority_id", "err.share.sector_authority_invalid", nil)
		default:
			t.name, t.email = a.Name, a.Email
		}
	default:
		v.Add("recipient", "err.share.recipient_invalid", nil)
	}
	if r.Recipient != RecipientSPOC {
		r.Country = ""
	}
	if r.Recipient != RecipientSectorAuthority {
		r.SectorAuthorityID = 0
	}
	if r.TLP == "" {
		r.TLP = floor
	}
	switch {
	case TLPRank(r.TLP) < 0:
		v.Add("tlp", "err.rep.tlp_invalid", nil)
	case TLPRank(r.TLP) < TLPRank(floor):
		v.Add("tlp", "err.share.tlp_below_entity", map[string]any{"tlp": TLPLabel(floor)})
	case r.TLP == "red" && mailbox(r.Recipient):
		v.Add("tlp", "err.share.tlp_red_mailbox", nil)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

// shareable is what a share includes of a stage's content.
func shareable(c Content, tlp string) ShareContent {
	out := ShareContent{Summary: c.Summary, SuspectedMalicious: c.SuspectedMalicious, CrossBorder: c.CrossBorder,
		CrossBorderImpact: c.CrossBorderImpact, AffectedCountries: c.AffectedCountries, Severity: c.Severity,
		ImpactAssessment: c.ImpactAssessment, Classification: c.Classification, RootCause: c.RootCause,
		RootCauseText: c.RootCauseText, Mitigations: c.Mitigations, Update: c.Update}
	reportTLP := cmp.Or(normTLP(c.TLP), "amber")
	for _, ind := range c.Indicators {
		// An indicator without its own TLP carries the report's.
		if TLPRank(cmp.Or(ind.TLP, reportTLP)) <= TLPRank(tlp) {
			out.Indicators = append(out.Indicators, ind)
		}
	}
	return out
}

// buildShare assembles the document of a share of in to t.
func buildShare(in *Incident, facts *entityFacts, assessment *CrossBorderAssessment, t *shareTarget, now time.Time) (*ShareDoc, error) {
	r := t.req
	doc := &ShareDoc{TLP: TLPLabel(r.TLP), Document: "nis2-incident-notification", GeneratedAt: now,
		Recipient: ShareAddressee{Kind: r.Recipient, Country: r.Country}}
	switch r.Recipient {
	case RecipientSPOC:
		doc.LegalBasis = "NIS2 Art. 23(6), 23(8)"
	case RecipientENISA, RecipientCSIRTNetwork:
		doc.LegalBasis = "NIS2 Art. 23(6)"
	case RecipientSectorAuthority:
		doc.Recipient.Name = t.name
	}
	ent := ShareEntity{Sectors: facts.sectors, EntityTypes: facts.types, Class: facts.class}
	if r.Identity {
		ent.Name, ent.EnterpriseNumber = in.OrgName, facts.enterprise
	} else {
		ent.Pseudonym = in.Ref
	}
	doc.Incident = ShareIncident{Ref: in.Ref, Kind: in.Kind, AwareAt: in.AwareAt, Status: in.Status, Entity: ent,
		AuthorityAssessment: assessment, Stages: []ShareStage{}}
	for _, st := range Stages {
		first, last := in.First(st), in.Submitted(st)
		if first == nil {
			continue
		}
		var c Content
		if err := json.Unmarshal(last.Canonical, &c); err != nil {
			return nil, err
		}
		n := 0
		for _, x := range in.Submissions {
			if x.Stage == st {
				n++
			}
		}
		doc.Incident.Stages = append(doc.Incident.Stages, ShareStage{Stage: st, Ref: last.Ref, FirstSubmittedAt: first.SubmittedAt.UTC(),
			LastSubmittedAt: last.SubmittedAt.UTC(), Corrections: n - 1, TLP: TLPLabel(cmp.Or(c.TLP, "amber")), Content: shareable(c, r.TLP)})
	}
	return doc, nil
}

// encodeShare is the bytes of a document, as stored, hashed and sent.
func encodeShare(doc *ShareDoc) ([]byte, string, error) {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, "", err
	}
	b = append(b, '\n')
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:]), nil
}

// prepareShare loads the incident and builds the document of req, in q.
func (s *Service) prepareShare(ctx context.Context, q store.Querier, id int64, req ShareRequest) (*Incident, *shareTarget, *ShareDoc, error) {
	in, err := s.incident(ctx, q, id)
	if err != nil {
		return nil, nil, nil, err
	}
	t, err := checkShare(ctx, q, in, req)
	if err != nil {
		return nil, nil, nil, err
	}
	facts, err := loadEntityFacts(ctx, q, in.OrgID)
	if err != nil {
		return nil, nil, nil, err
	}
	assessment, err := crossBorder(ctx, q, id)
	if err != nil {
		return nil, nil, nil, err
	}
	doc, err := buildShare(in, facts, assessment, t, s.tick())
	return in, t, doc, err
}

// ShareExport builds the document that sharing the incident per req would
// send, without recording anything (the authority's staff only).
func (s *Service) ShareExport(ctx context.Context, id int64, req ShareRequest) (*ShareDoc, error) {
	if !auth.From(ctx).IsAuthority() {
		return nil, forbidden()
	}
	_, _, doc, err := s.prepareShare(ctx, s.db, id, req)
	return doc, err
}

// ShareIncident shares the incident per req and records it: to a sector
// authority, by e-mail with the document attached and its TLP in the
// subject; to a SPOC, ENISA or the CSIRTs network, as exported (the
// document is sent through the official channel). It returns the share
// and the document's bytes. Audited.
func (s *Service) ShareIncident(ctx context.Context, id int64, req ShareRequest) (*Share, []byte, error) {
	p := auth.From(ctx)
	if !canTriage(p) {
		return nil, nil, forbidden()
	}
	cfg := s.reminderConfig()
	now := s.tick()
	var sh *Share
	var body []byte
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		in, t, doc, err := s.prepareShare(ctx, tx, id, req)
		if err != nil {
			return err
		}
		method := ShareExported
		if t.req.Recipient == RecipientSectorAuthority {
			if cfg == nil || cfg.mail == nil || cfg.cat == nil {
				return errs.E(errs.Conflict, "err.share.mail_off")
			}
			method = ShareMailed
		}
		b, hash, err := encodeShare(doc)
		if err != nil {
			return err
		}
		sh = &Share{IncidentID: id, Recipient: t.req.Recipient, Country: t.req.Country, SectorAuthorityID: t.req.SectorAuthorityID,
			RecipientName: t.name, TLP: t.req.TLP, Identity: t.req.Identity, Method: method, SHA256: hash, CreatedBy: p.Name, CreatedAt: now}
		if err := tx.QueryRow(ctx, `INSERT INTO incident_shares (incident_id, recipient_kind, country, sector_authority_id, recipient, tlp,
			identity, method, document, sha256, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			id, sh.Recipient, sh.Country, nullID(sh.SectorAuthorityID), sh.RecipientName, sh.TLP, sh.Identity, method, string(b), hash,
			nullID(p.UserID), now).Scan(&sh.ID); err != nil {
			return err
		}
		if p.UserID != 0 {
			if err := tx.QueryRow(ctx, `SELECT name FROM users WHERE id = ?`, p.UserID).Scan(&sh.CreatedBy); err != nil {
				return err
			}
		}
		if method == ShareMailed {
			if err := s.mailShare(ctx, tx, cfg, p, in, t, b, hash); err != nil {
				return err
			}
		}
		body = b
		after := *sh
		return audit.Append(ctx, tx, now, audit.Change{Action: "incident.share", ObjectType: "incident", ObjectID: itoa(id), OrgID: in.OrgID,
			After: map[string]any{"share": after, "email": t.email}})
	})
	if err != nil {
		return nil, nil, err
	}
	return sh, body, nil
}

// mailShare queues the forwarding to a sector authority, in the sender's
// language: the TLP label in the subject and on the first line of the
// body (reporting-forms.md §5.1), the document attached.
func (s *Service) mailShare(ctx context.Context, tx *store.Tx, cfg *reminderConfig, p *auth.Principal, in *Incident, t *shareTarget, doc []byte, hash string) error {
	l := p.Locale
	if !i18n.Supported(l) {
		l = i18n.Default
	}
	label := TLPLabel(t.req.TLP)
	a := map[string]any{"ref": in.Ref, "tlp": label, "sha256": hash, "recipient": t.name}
	body := label + "\n\n" + cfg.cat.T(l, "share.mail.body", a) + "\n\n" + cfg.cat.T(l, "mail.auto_generated", nil) + "\n"
	return cfg.mail.Enqueue(ctx, tx, notify.Message{To: []string{t.email}, Subject: "[" + label + "] " + cfg.cat.T(l, "share.mail.subject", a),
		Text: body, Attachments: []notify.Attachment{{Name: in.Ref + "-" + hash[:8] + ".json", ContentType: "application/json", Data: doc}}})
}

const selectShare = `SELECT s.id, s.incident_id, s.recipient_kind, s.country, COALESCE(s.sector_authority_id, 0), s.recipient, s.tlp,
	s.identity, s.method, s.sha256, COALESCE(u.name, ''), s.created_at FROM incident_shares s LEFT JOIN users u ON u.id = s.created_by`

func scanShare(row interface{ Scan(...any) error }) (*Share, error) {
	var sh Share
	err := row.Scan(&sh.ID, &sh.IncidentID, &sh.Recipient, &sh.Country, &sh.SectorAuthorityID, &sh.RecipientName, &sh.TLP,
		&sh.Identity, &sh.Method, &sh.SHA256, &sh.CreatedBy, &sh.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "err.not_found")
	}
	sh.CreatedAt = sh.CreatedAt.UTC()
	return &sh, err
}

// Shares lists the shares of the incident, newest first (the authority's
// staff only).
func (s *Service) Shares(ctx context.Context, id int64) ([]Share, error) {
	if !auth.From(ctx).IsAuthority() {
		return nil, forbidden()
	}
	if _, err := s.head(ctx, s.db, id); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, selectShare+` WHERE s.incident_id = ? ORDER BY s.id DESC`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Share{}
	for rows.Next() {
		sh, err := scanShare(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *sh)
	}
	return out, rows.Err()
}

// ShareDocument returns a recorded share of the incident with the exact
// bytes of its document (the authority's staff only).
func (s *Service) ShareDocument(ctx context.Context, id, shareID int64) (*Share, []byte, error) {
	if !auth.From(ctx).IsAuthority() {
		return nil, nil, forbidden()
	}
	if _, err := s.head(ctx, s.db, id); err != nil {
		return nil, nil, err
	}
	sh, err := scanShare(s.db.QueryRow(ctx, selectShare+` WHERE s.incident_id = ? AND s.id = ?`, id, shareID))
	if err != nil {
		return nil, nil, err
	}
	var doc string
	if err := s.db.QueryRow(ctx, `SELECT document FROM incident_shares WHERE id = ?`, shareID).Scan(&doc); err != nil {
		return nil, nil, err
	}
	return sh, []byte(doc), nil
}
