package advisory

// The public pages of published advisories: the list with its filters,
// the page of one advisory (UX pattern 21: affected products and what to
// do first) and the download of each published version's exact bytes.
// What a reader sees is what List, Public and VersionContent let them see
// under TLP; these handlers never read the tables themselves except for
// the products and CVEs of advisories those calls already returned.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/web"
)

func (h *handlers) publicRoutes() {
	h.srv.PublicPage("GET /advisories", h.publicList)
	h.srv.PublicPage("GET /advisories.atom", h.atomFeed) // atom.go
	h.srv.PublicPage("GET /advisories/{tid}", h.publicView)
	// /advisories/{tid}/versions/{n}.json: a wildcard tail, because a
	// pattern with {tid} and a literal segment would overlap the staff's
	// /advisories/manage/{id}/… pages.
	h.srv.PublicPage("GET /advisories/{tid}/{rest...}", h.versionDownload)
}

func (h *handlers) pt(r *http.Request, key string, args map[string]any) string {
	return h.srv.Catalog().T(web.Locale(r), key, args)
}

// pubParams are the list's filters in its query string.
var pubParams = []string{"q", "vendor", "product", "cve", "severity", "tlp"}

// pubRow is a row of the public list: the advisory with its CVEs and
// products.
type pubRow struct {
	A        *Advisory
	CVEs     []string
	Products []string
	Score    string // the CVSS score in the page's locale
}

// pubChosen is a chosen filter above the list, with the query without it.
type pubChosen struct {
	Label  string
	Remove string
}

func (h *handlers) publicList(w http.ResponseWriter, r *http.Request) error {
	q := url.Values{}
	for _, k := range pubParams {
		if s := strings.TrimSpace(r.URL.Query().Get(k)); s != "" {
			q.Set(k, s)
		}
	}
	f := ListFilter{Text: q.Get("q"), Vendor: q.Get("vendor"), Product: q.Get("product"), CVE: q.Get("cve"),
		Severity: strings.ToLower(q.Get("severity")), TLP: strings.ToUpper(q.Get("tlp")),
		Offset: web.PageOffset(r), Limit: web.PageSize}
	items, total, err := h.svc.List(r.Context(), f)
	var ferr *errs.Error
	if e, ok := errs.As(err); ok && e.Kind == errs.Invalid {
		// A bad bookmark still shows a list: every advisory, with the
		// errors of the filters.
		ferr = e
		items, total, err = h.svc.List(r.Context(), ListFilter{Offset: f.Offset, Limit: f.Limit})
	}
	if err != nil {
		return err
	}
	rows, err := h.svc.pubRows(r.Context(), items)
	if err != nil {
		return err
	}
	for i := range rows {
		if sc := rows[i].A.Published.Score; sc != nil {
			rows[i].Score = pubScoreText(web.Locale(r), *sc)
		}
	}
	vendors, products, err := h.svc.pubNames(r.Context())
	if err != nil {
		return err
	}
	p := &web.Page{Title: h.pt(r, "advpub.list.title", nil), Form: q, Feed: "/advisories.atom", Data: map[string]any{"Rows": rows,
		"Pager": web.NewPager(r, total), "Chosen": h.pubFilters(r, q, ferr != nil), "Severities": Severities, "TLPs": TLPs,
		"Vendors": vendors, "Products": products, "SignedIn": auth.From(r.Context()) != nil}}
	if ferr != nil {
		for _, fe := range ferr.Fields {
			p.Errors = append(p.Errors, web.FieldMessage{Field: fe.Field, Message: h.srv.Message(r, fe.Code, fe.Args)})
		}
	}
	return h.srv.RenderPage(w, r, http.StatusOK, "adv_public", p)
}

// pubFilters lists the filters in use, each with the link that removes it.
func (h *handlers) pubFilters(r *http.Request, q url.Values, bad bool) []pubChosen {
	if bad {
		return nil
	}
	var out []pubChosen
	for _, k := range pubParams {
		v := q.Get(k)
		if v == "" {
			continue
		}
		label := v
		switch k {
		case "severity":
			label = h.pt(r, "advpub.severity."+strings.ToLower(v), nil)
		case "tlp":
			label = pubTLP(strings.ToUpper(v))
		}
		rest := url.Values{}
		for key, vals := range q {
			if key != k {
				rest[key] = vals
			}
		}
		out = append(out, pubChosen{Label: h.pt(r, "advpub.list.filter_"+k, map[string]any{"value": label}), Remove: rest.Encode()})
	}
	return out
}

// pubTLP is the label as people read it: TLP:CLEAR for WHITE.
func pubTLP(tlp string) string {
	if tlp == "WHITE" {
		return "TLP:CLEAR"
	}
	return "TLP:" + tlp
}

// pubRows adds the CVEs and products of advisories List returned.
func (s *Service) pubRows(ctx context.Context, items []*Advisory) ([]pubRow, error) {
	rows := make([]pubRow, len(items))
	if len(items) == 0 {
		return rows, nil
	}
	idx := map[int64]int{}
	args := make([]any, len(items))
	for i, a := range items {
		rows[i].A = a
		idx[a.ID] = i
		args[i] = a.ID
	}
	in := store.Placeholders(len(items))
	cves, err := s.db.Query(ctx, `SELECT advisory_id, cve FROM advisory_cves WHERE advisory_id IN (`+in+`) ORDER BY cve`, args...)
	if err != nil {
		return nil, err
	}
	defer cves.Close()
	for cves.Next() {
		var id int64
		var c string
		if err := cves.Scan(&id, &c); err != nil {
			return nil, err
		}
		rows[idx[id]].CVEs = append(rows[idx[id]].CVEs, c)
	}
	if err := cves.Err(); err != nil {
		return nil, err
	}
	prods, err := s.db.Query(ctx, `SELECT advisory_id, vendor, product FROM advisory_products WHERE advisory_id IN (`+in+`)
		ORDER BY vendor, product`, args...)
	if err != nil {
		return nil, err
	}
	defer prods.Close()
	for prods.Next() {
		var id int64
		var v, p string
		if err := prods.Scan(&id, &v, &p); err != nil {
			return nil, err
		}
		rows[idx[id]].Products = append(rows[idx[id]].Products, strings.TrimSpace(v+" "+p))
	}
	return rows, prods.Err()
}

// pubNames lists the vendors and products of the published advisories
// the reader may read, for the list's filters.
func (s *Service) pubNames(ctx context.Context) (vendors, products []string, err error) {
	cond, args := readable(auth.From(ctx))
	rows, err := s.db.Query(ctx, `SELECT DISTINCT ap.vendor, ap.product FROM advisory_products ap JOIN advisories a ON a.id = ap.advisory_id
		WHERE a.published_version > 0 AND `+cond, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v, p string
		if err := rows.Scan(&v, &p); err != nil {
			return nil, nil, err
		}
		if v != "" && !slices.Contains(vendors, v) {
			vendors = append(vendors, v)
		}
		if p != "" && !slices.Contains(products, p) {
			products = append(products, p)
		}
	}
	slices.SortFunc(vendors, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	slices.SortFunc(products, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return vendors, products, rows.Err()
}

func (h *handlers) publicView(w http.ResponseWriter, r *http.Request) error {
	tid := r.PathValue("tid")
	a, versions, err := h.svc.Public(r.Context(), tid)
	if err != nil {
		return err
	}
	latest, err := h.svc.VersionContent(r.Context(), a.TrackingID, 0)
	if err != nil {
		return err
	}
	v, err := pubBuildView(web.Locale(r), a, versions, latest)
	if err != nil {
		return err
	}
	if v.Lang != "" && v.Lang != web.Locale(r) {
		v.OnlyIn = "advpub.view.only_" + v.Lang
		if !slices.Contains(Langs, v.Lang) {
			v.OnlyIn = "advpub.view.only_other"
		}
	}
	title := h.pt(r, "advpub.view.title", map[string]any{"id": a.TrackingID, "title": a.Published.Title,
		"tlp": pubTLP(a.Published.TLP)})
	return h.srv.RenderPage(w, r, http.StatusOK, "adv_view", &web.Page{Title: title, Data: v})
}

// versionDownload answers /advisories/{tid}/versions/{n}.json with the
// exact bytes of version n, if the reader may read the advisory.
func (h *handlers) versionDownload(w http.ResponseWriter, r *http.Request) error {
	file, ok := strings.CutPrefix(r.PathValue("rest"), "versions/")
	num, ok2 := strings.CutSuffix(file, ".json")
	n, err := strconv.Atoi(num)
	if !ok || !ok2 || err != nil || n <= 0 || strconv.Itoa(n) != num {
		return notFound()
	}
	v, err := h.svc.VersionContent(r.Context(), r.PathValue("tid"), n)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%s-v%d.json", strings.TrimSuffix(v.FileName, ".json"), v.Version)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(v.Content)))
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Last-Modified", v.PublishedAt.UTC().Format(http.TimeFormat))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err = w.Write(v.Content)
	return err
}

// pubSize is a file size in words: bytes below 1 KB, else kilobytes.
func pubSize(l string, n int) string { return i18n.Kilobytes(l, n) }

func pubMark(l string) string {
	if l == "en" {
		return "."
	}
	return ","
}

// pubScoreText writes a CVSS score with one decimal, as CVSS does, with the
// locale's decimal mark.
func pubScoreText(l string, x float64) string {
	return strings.Replace(strconv.FormatFloat(x, 'f', 1, 64), ".", pubMark(l), 1)
}

// pubDate reads a CSAF date (RFC 3339); the zero time if it is not one.
func pubDate(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// ---- the advisory's page ----

// pubScore is a CVSS score of a vulnerability.
type pubScore struct {
	Version  string // "3.1", "3.0", "4.0"
	Base     float64
	Text     string // the score in the page's locale
	Severity string // lower case: critical, high, medium, low, none
	Vector   string
}

// pubProduct is a row of the products table.
type pubProduct struct {
	Name, Version string
	Status        string // the CSAF product status category
	Vuln          string // CVE or title, when the advisory has several
}

// pubRemedy is a remediation: what to do, for which products.
type pubRemedy struct {
	Category, Details, URL string
	Date                   time.Time
	Products               []string
	Restart                string // restart_required category
	Vuln                   string
}

// pubVuln is a vulnerability as the page shows it.
type pubVuln struct {
	Anchor     string
	CVE, Title string
	CWE        string
	Notes      []pubNote
	Scores     []pubScore
	Threats    []pubThreat
	References []pubRef
	Acks       []string
}

type pubNote struct{ Category, Title, Text string }

type pubThreat struct {
	Category, Details string
	Products          []string
}

type pubRef struct{ Summary, URL, Category string }

type pubRevision struct {
	Number, Summary string
	Date            time.Time
}

// pubDownload is a file of the provider tree.
type pubDownload struct {
	Key, URL, Size string
	Hash, HashKey  string // a hash or fingerprint, and the words before it
}

// pubVersion is a published version with its download link.
type pubVersion struct {
	V    *Version
	Size string
	At   time.Time
}

// pubView is everything the advisory's page shows.
type pubView struct {
	A         *Advisory
	Lang      string
	OnlyIn    string // message key of the partial-translation notice
	Summary   []pubNote
	Notes     []pubNote
	Top       *pubScore
	Products  []pubProduct
	ManyVulns bool
	Remedies  []pubRemedy
	Vulns     []pubVuln
	Refs      []pubRef
	Acks      []string
	Initial   time.Time
	Current   time.Time
	History   []pubRevision
	Downloads []pubDownload
	Versions  []pubVersion
	Aliases   []string
	Status    string // interim or final
}

// pubStatuses are the CSAF product status categories, affected first.
var pubStatuses = []string{"known_affected", "first_affected", "last_affected", "under_investigation", "fixed", "first_fixed",
	"recommended", "known_not_affected"}

func pubStatusLists(ps *csaf.ProductStatus) [][]string {
	if ps == nil {
		return make([][]string, len(pubStatuses))
	}
	return [][]string{ps.KnownAffected, ps.FirstAffected, ps.LastAffected, ps.UnderInvestigation, ps.Fixed, ps.FirstFixed,
		ps.Recommended, ps.KnownNotAffected}
}

// pubProductInfo names a product id: its vendor and product name, and its
// version, from the branches that lead to it.
type pubProductInfo struct{ Name, Version string }

func pubProductIndex(d *csaf.Document) (map[string]pubProductInfo, map[string][]string) {
	out := map[string]pubProductInfo{}
	groups := map[string][]string{}
	if d.ProductTree == nil {
		return out, groups
	}
	var walk func(bs []csaf.Branch, vendor, product, version string)
	walk = func(bs []csaf.Branch, vendor, product, version string) {
		for _, b := range bs {
			v, p, ver := vendor, product, version
			switch b.Category {
			case "vendor":
				v = b.Name
			case "product_name", "product_family":
				p = strings.TrimSpace(p + " " + b.Name)
			case "product_version", "product_version_range":
				ver = b.Name
			}
			if b.Product != nil {
				name := strings.TrimSpace(v + " " + p)
				if name == "" || ver == "" && p == "" {
					name = b.Product.Name
				}
				out[b.Product.ProductID] = pubProductInfo{Name: name, Version: ver}
			}
			walk(b.Branches, v, p, ver)
		}
	}
	walk(d.ProductTree.Branches, "", "", "")
	for _, f := range d.ProductTree.FullProductNames {
		out[f.ProductID] = pubProductInfo{Name: f.Name}
	}
	for _, rel := range d.ProductTree.Relationships {
		out[rel.FullProductName.ProductID] = pubProductInfo{Name: rel.FullProductName.Name}
	}
	for _, g := range d.ProductTree.ProductGroups {
		groups[g.GroupID] = g.ProductIDs
	}
	return out, groups
}

// pubProductNames lists the products of ids and groups, in words, once each.
func pubProductNames(idx map[string]pubProductInfo, groups map[string][]string, ids, gids []string) []string {
	var out []string
	add := func(id string) {
		p, ok := idx[id]
		n := id
		if ok {
			n = strings.TrimSpace(p.Name + " " + p.Version)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	for _, id := range ids {
		add(id)
	}
	for _, g := range gids {
		for _, id := range groups[g] {
			add(id)
		}
	}
	return out
}

// pubCVSS4Title is the title of the vulnerability note that carries a CVSS
// v4.0 vector (CSAF 2.0 has no place for v4 scores).
const pubCVSS4Title = "CVSS v4.0"

func pubScoresOf(l string, v csaf.Vulnerability) []pubScore {
	var out []pubScore
	for _, sc := range v.Scores {
		if sc.CVSSv3 == nil {
			continue
		}
		base, ok := number(sc.CVSSv3["baseScore"])
		if !ok {
			continue
		}
		vec, _ := sc.CVSSv3["vectorString"].(string)
		ver, _ := sc.CVSSv3["version"].(string)
		sev, _ := sc.CVSSv3["baseSeverity"].(string)
		s := pubScore{Version: ver, Base: base, Text: pubScoreText(l, base), Severity: strings.ToLower(sev), Vector: vec}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, n := range v.Notes {
		if !strings.EqualFold(strings.TrimSpace(n.Title), pubCVSS4Title) {
			continue
		}
		sc, err := csaf.ScoreVector(strings.TrimSpace(n.Text))
		if err != nil || sc.Version != "4.0" {
			continue
		}
		out = append(out, pubScore{Version: "4.0", Base: sc.Base, Text: pubScoreText(l, sc.Base), Severity: strings.ToLower(sc.Severity),
			Vector: sc.Vector})
	}
	return out
}

func pubNotesOf(ns []csaf.Note) []pubNote {
	var out []pubNote
	for _, n := range ns {
		if strings.EqualFold(strings.TrimSpace(n.Title), pubCVSS4Title) {
			continue
		}
		out = append(out, pubNote{Category: n.Category, Title: n.Title, Text: n.Text})
	}
	return out
}

func pubRefsOf(rs []csaf.Reference) []pubRef {
	var out []pubRef
	for _, r := range rs {
		out = append(out, pubRef{Summary: r.Summary, URL: r.URL, Category: r.Category})
	}
	return out
}

func pubAcksOf(as []csaf.Acknowledgment) []string {
	var out []string
	for _, a := range as {
		parts := append([]string(nil), a.Names...)
		if a.Organization != "" {
			parts = append(parts, a.Organization)
		}
		s := strings.Join(parts, ", ")
		if a.Summary != "" {
			if s != "" {
				s += ": "
			}
			s += a.Summary
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// pubBuildView reads the newest published version for the advisory's page
// in locale l.
func pubBuildView(l string, a *Advisory, versions []*Version, latest *Version) (*pubView, error) {
	d, err := csaf.DecodeDocument(latest.Content)
	if err != nil {
		return nil, err
	}
	m := d.Document
	v := &pubView{A: a, Lang: m.Lang, Refs: pubRefsOf(m.References), Acks: pubAcksOf(m.Acknowledgments), Aliases: m.Tracking.Aliases,
		Status: m.Tracking.Status, Initial: pubDate(m.Tracking.InitialReleaseDate), Current: pubDate(m.Tracking.CurrentReleaseDate)}
	for _, n := range pubNotesOf(m.Notes) {
		if n.Category == "summary" {
			v.Summary = append(v.Summary, n)
		} else {
			v.Notes = append(v.Notes, n)
		}
	}
	for i := len(m.Tracking.RevisionHistory) - 1; i >= 0; i-- {
		rev := m.Tracking.RevisionHistory[i]
		v.History = append(v.History, pubRevision{Number: rev.Number, Summary: rev.Summary, Date: pubDate(rev.Date)})
	}
	idx, groups := pubProductIndex(d)
	v.ManyVulns = len(d.Vulnerabilities) > 1
	var v4top *pubScore
	for i, vu := range d.Vulnerabilities {
		label := vu.CVE
		if label == "" {
			label = vu.Title
		}
		pv := pubVuln{Anchor: fmt.Sprintf("vuln-%d", i+1), CVE: vu.CVE, Title: vu.Title, Notes: pubNotesOf(vu.Notes),
			Scores: pubScoresOf(l, vu), References: pubRefsOf(vu.References), Acks: pubAcksOf(vu.Acknowledgments)}
		if vu.CWE != nil {
			pv.CWE = strings.TrimSpace(vu.CWE.ID + " " + vu.CWE.Name)
		}
		for _, t := range vu.Threats {
			pv.Threats = append(pv.Threats, pubThreat{Category: t.Category, Details: t.Details,
				Products: pubProductNames(idx, groups, t.ProductIDs, t.GroupIDs)})
		}
		for _, s := range pv.Scores {
			switch {
			case s.Version == "4.0":
				if v4top == nil || s.Base > v4top.Base {
					x := s
					v4top = &x
				}
			case v.Top == nil || s.Base > v.Top.Base:
				x := s
				v.Top = &x
			}
		}
		for si, ids := range pubStatusLists(vu.ProductStatus) {
			for _, id := range ids {
				p, ok := idx[id]
				if !ok {
					p = pubProductInfo{Name: id}
				}
				v.Products = append(v.Products, pubProduct{Name: p.Name, Version: p.Version, Status: pubStatuses[si], Vuln: label})
			}
		}
		for _, rm := range vu.Remediations {
			r := pubRemedy{Category: rm.Category, Details: rm.Details, URL: rm.URL, Date: pubDate(rm.Date),
				Products: pubProductNames(idx, groups, rm.ProductIDs, rm.GroupIDs), Vuln: label}
			if rm.RestartRequired != nil {
				r.Restart = rm.RestartRequired.Category
			}
			v.Remedies = append(v.Remedies, r)
		}
		v.Vulns = append(v.Vulns, pv)
	}
	if v.Top == nil {
		v.Top = v4top
	}
	loc := DocumentPath(a.Published.TLP, a.Published.Year, a.Published.FileName)
	v.Downloads = []pubDownload{
		{Key: "advpub.download.json", URL: loc, Size: pubSize(l, latest.Size)},
		{Key: "advpub.download.sha256", URL: loc + ".sha256", Hash: latest.SHA256},
		{Key: "advpub.download.sha512", URL: loc + ".sha512", Hash: latest.SHA512},
		{Key: "advpub.download.asc", URL: loc + ".asc", Hash: latest.KeyFingerprint, HashKey: "advpub.download.fingerprint"},
	}
	for _, ver := range versions {
		v.Versions = append(v.Versions, pubVersion{V: ver, Size: pubSize(l, ver.Size), At: ver.PublishedAt})
	}
	return v, nil
}
