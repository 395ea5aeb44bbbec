package advisory

// The CSAF provider tree (CSAF 2.0 section 7.1, requirements 1-20, as a
// trusted provider): security.txt with the CSAF line, the provider
// metadata at the well-known URL, the public OpenPGP keys, and for each
// TLP label a directory distribution (year folders, index.txt,
// changes.csv, HTML listings) and a ROLIE feed with its service document.
// Every document is served as the exact bytes stored at publication with
// their .sha256, .sha512 and detached .asc signature.
//
// WHITE (TLP:CLEAR) is public. GREEN, AMBER and RED folders answer only
// authenticated callers (an API token, or a browser session), and list
// and serve only the documents the caller may read (CanRead): a document
// one may not read does not exist for them. The tree is computed from the
// database on each request, so every instance serves the same bytes.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/errs"
)

// treeRoot is the path of the provider tree.
const treeRoot = "/.well-known/csaf/"

// csafSchemaURL is the CSAF 2.0 schema's URL, for the ROLIE entries.
const csafSchemaURL = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"

// Folder is the tree folder of a TLP label: "white", "green"…
func Folder(tlp string) string { return strings.ToLower(tlp) }

// DocumentPath is the tree path of a published document.
func DocumentPath(tlp string, year int, file string) string {
	return treeRoot + Folder(tlp) + "/" + strconv.Itoa(year) + "/" + file
}

func (h *handlers) providerRoutes() {
	h.srv.Document("GET /.well-known/security.txt", h.securityTxt)
	h.srv.Document("GET /.well-known/csaf/provider-metadata.json", h.providerMetadata)
	h.srv.Document("GET /.well-known/csaf/service.json", h.rolieService)
	h.srv.Document("GET /.well-known/csaf/openpgp/{file}", h.openpgpKey)
	h.srv.Document("GET /.well-known/csaf/{tlp}/{rest...}", h.tree)
}

// base is the https:// origin the tree's URLs use: the configured public
// URL or, without one, the origin the request came to.
func (h *handlers) base(r *http.Request) string {
	if h.svc.cfg.TreeURL != "" {
		return h.svc.cfg.TreeURL
	}
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}

func (h *handlers) securityTxt(w http.ResponseWriter, r *http.Request) error {
	b := h.base(r)
	expires := h.svc.tick().Truncate(24*time.Hour).AddDate(1, 0, 0)
	var sb strings.Builder
	fmt.Fprintf(&sb, "Contact: %s\n", h.svc.cfg.Contact)
	fmt.Fprintf(&sb, "Expires: %s\n", expires.Format(time.RFC3339))
	sb.WriteString("Preferred-Languages: nl, fr, de, en\n")
	fmt.Fprintf(&sb, "Canonical: %s/.well-known/security.txt\n", b)
	fmt.Fprintf(&sb, "CSAF: %s%sprovider-metadata.json\n", b, treeRoot)
	return writeBytes(w, r, "text/plain; charset=utf-8", []byte(sb.String()), true)
}

// writeBytes answers with exactly b. Public answers may be cached
// briefly; the others are private to the caller.
func writeBytes(w http.ResponseWriter, r *http.Request, contentType string, b []byte, public bool) error {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if public {
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("Access-Control-Allow-Origin", "*")
	} else {
		w.Header().Set("Cache-Control", "private, no-store")
	}
	if r.Method == http.MethodHead {
		return nil
	}
	_, err := w.Write(b)
	return err
}

// ProviderMetadata returns the provider-metadata.json the tree serves
// under base. Its bytes depend only on the published state, so that every
// instance and every way to reach it (security.txt, the well-known URL)
// give the same bytes.
func (s *Service) ProviderMetadata(ctx context.Context, base string) ([]byte, error) {
	keys, err := s.Keys(ctx)
	if err != nil {
		return nil, err
	}
	// last_updated: the newest publication of a WHITE document or key,
	// so that the public file does not reveal when restricted documents
	// were published.
	var last time.Time
	var newest sql.Null[time.Time]
	err = s.db.QueryRow(ctx, `SELECT published_at FROM advisory_versions WHERE tlp = 'WHITE' ORDER BY published_at DESC LIMIT 1`).Scan(&newest)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if newest.Valid {
		last = newest.V.UTC()
	}
	pk := []map[string]any{}
	for _, k := range keys {
		if k.CreatedAt.After(last) {
			last = k.CreatedAt
		}
		pk = append(pk, map[string]any{"fingerprint": k.Fingerprint, "url": base + treeRoot + "openpgp/" + k.Fingerprint + ".asc"})
	}
	if last.IsZero() {
		last = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	var feeds []map[string]any
	var dists []map[string]any
	// One directory distribution per label: GREEN, AMBER and RED answer
	// only authenticated callers, and each caller finds every document of
	// the ROLIE feeds in the directories too (the cross-check of
	// requirements 12-15).
	for _, t := range TLPs {
		dists = append(dists, map[string]any{"directory_url": base + treeRoot + Folder(t) + "/"})
	}
	for _, t := range TLPs {
		feeds = append(feeds, map[string]any{"summary": fmt.Sprintf("%s advisories, TLP:%s", s.cfg.Publisher.Name, t), "tlp_label": t,
			"url": base + feedPath(t)})
	}
	dists = append(dists, map[string]any{"rolie": map[string]any{"feeds": feeds}})
	m := map[string]any{
		"canonical_url":              base + treeRoot + "provider-metadata.json",
		"distributions":              dists,
		"last_updated":               last.Format(time.RFC3339),
		"list_on_CSAF_aggregators":   true,
		"metadata_version":           "2.0",
		"mirror_on_CSAF_aggregators": true,
		"public_openpgp_keys":        pk,
		"publisher":                  s.cfg.Publisher,
		"role":                       "csaf_trusted_provider",
	}
	return csaf.Canonical(m)
}

func feedPath(tlp string) string {
	return treeRoot + Folder(tlp) + "/csaf-feed-tlp-" + Folder(tlp) + ".json"
}

func (h *handlers) providerMetadata(w http.ResponseWriter, r *http.Request) error {
	b, err := h.svc.ProviderMetadata(r.Context(), h.base(r))
	if err != nil {
		return err
	}
	return writeBytes(w, r, "application/json", b, true)
}

func (h *handlers) rolieService(w http.ResponseWriter, r *http.Request) error {
	b := h.base(r)
	var cols []map[string]any
	for _, t := range TLPs {
		cols = append(cols, map[string]any{"title": fmt.Sprintf("%s advisories, TLP:%s", h.svc.cfg.Publisher.Name, t), "href": b + feedPath(t),
			"categories": map[string]any{"category": []map[string]any{{"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}}}})
	}
	doc := map[string]any{"service": map[string]any{"workspace": []map[string]any{{"title": h.svc.cfg.Publisher.Name + " CSAF advisories", "collection": cols}}}}
	out, err := csaf.Canonical(doc)
	if err != nil {
		return err
	}
	return writeBytes(w, r, "application/json", out, true)
}

func (h *handlers) openpgpKey(w http.ResponseWriter, r *http.Request) error {
	fpr, ok := strings.CutSuffix(r.PathValue("file"), ".asc")
	if !ok || fpr == "" {
		return notFound()
	}
	pub, err := h.svc.PublicKey(r.Context(), fpr)
	if err != nil {
		return err
	}
	return writeBytes(w, r, "application/pgp-keys", []byte(pub), true)
}

// Tree lists the newest published version of every document labelled tlp
// that the caller may read, newest change first: the tracking id, version,
// file name, year folder, release dates and title of each.
func (s *Service) Tree(ctx context.Context, tlp string) ([]*Version, error) {
	cond, args := readable(auth.From(ctx))
	// Only what index.txt, changes.csv, the listings and the feed need:
	// decoding fewer columns is most of the cost of a large tree.
	rows, err := s.db.Query(ctx, `SELECT a.tracking_id, v.version, v.file_name, v.folder_year, v.initial_release_date,
		v.current_release_date, a.pub_title FROM advisories a
		JOIN advisory_versions v ON v.advisory_id = a.id AND v.version = a.published_version
		WHERE a.pub_tlp = ? AND `+cond+` ORDER BY v.current_release_date DESC, a.tracking_id`, append([]any{tlp}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Version{}
	for rows.Next() {
		v := &Version{TLP: tlp, Latest: true}
		if err := rows.Scan(&v.TrackingID, &v.Version, &v.FileName, &v.Year, &v.InitialReleaseDate, &v.CurrentReleaseDate, &v.Title); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// treeFile returns the newest version of the document of the tree with
// this year folder and file name, with its bytes, if the caller may read
// it.
func (s *Service) treeFile(ctx context.Context, tlp string, year int, file string) (*Version, error) {
	cond, args := readable(auth.From(ctx))
	v, err := scanVersion(s.db.QueryRow(ctx, `SELECT `+versionCols+`, v.content FROM advisories a
		JOIN advisory_versions v ON v.advisory_id = a.id AND v.version = a.published_version
		WHERE v.file_name = ? AND v.folder_year = ? AND a.pub_tlp = ? AND `+cond, append([]any{file, year, tlp}, args...)...), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	return v, err
}

func (h *handlers) tree(w http.ResponseWriter, r *http.Request) error {
	label := strings.ToUpper(r.PathValue("tlp"))
	if !slices.Contains(TLPs, label) || r.PathValue("tlp") != Folder(label) {
		return notFound()
	}
	public := label == "WHITE"
	if !public && auth.From(r.Context()) == nil {
		return errs.E(errs.Unauthenticated, "err.unauthenticated")
	}
	ctx := r.Context()
	rest := r.PathValue("rest")
	switch rest {
	case "":
		return h.listing(w, r, label, 0, public)
	case "index.txt":
		vs, err := h.svc.Tree(ctx, label)
		if err != nil {
			return err
		}
		var sb strings.Builder
		for _, v := range vs {
			fmt.Fprintf(&sb, "%d/%s\n", v.Year, v.FileName)
		}
		return writeBytes(w, r, "text/plain; charset=utf-8", []byte(sb.String()), public)
	case "changes.csv":
		vs, err := h.svc.Tree(ctx, label)
		if err != nil {
			return err
		}
		var sb strings.Builder
		for _, v := range vs {
			fmt.Fprintf(&sb, "\"%d/%s\",\"%s\"\n", v.Year, v.FileName, v.CurrentReleaseDate)
		}
		return writeBytes(w, r, "text/csv; charset=utf-8", []byte(sb.String()), public)
	case strings.TrimPrefix(feedPath(label), treeRoot+Folder(label)+"/"):
		b, err := h.svc.Feed(ctx, h.base(r), label)
		if err != nil {
			return err
		}
		return writeBytes(w, r, "application/json", b, public)
	case "category-" + Folder(label) + ".json":
		b, err := h.svc.Categories(ctx, label)
		if err != nil {
			return err
		}
		return writeBytes(w, r, "application/json", b, public)
	}
	yearText, file, ok := strings.Cut(rest, "/")
	year, err := strconv.Atoi(yearText)
	if !ok || err != nil || year < 1000 || year > 9999 || strconv.Itoa(year) != yearText {
		return notFound()
	}
	if file == "" {
		return h.listing(w, r, label, year, public)
	}
	name, kind := file, ""
	for _, ext := range []string{".sha256", ".sha512", ".asc"} {
		if n, ok := strings.CutSuffix(file, ext); ok {
			name, kind = n, ext
		}
	}
	if !strings.HasSuffix(name, ".json") || strings.Contains(name, "/") {
		return notFound()
	}
	v, err := h.svc.treeFile(ctx, label, year, name)
	if err != nil {
		return err
	}
	switch kind {
	case "":
		w.Header().Set("ETag", `"`+v.SHA256+`"`)
		return writeBytes(w, r, "application/json", v.Content, public)
	case ".sha256":
		return writeBytes(w, r, "text/plain; charset=utf-8", []byte(v.SHA256+"  "+v.FileName+"\n"), public)
	case ".sha512":
		return writeBytes(w, r, "text/plain; charset=utf-8", []byte(v.SHA512+"  "+v.FileName+"\n"), public)
	default:
		return writeBytes(w, r, "application/pgp-signature", []byte(v.Signature), public)
	}
}

// ROLIE feed documents (RFC 8322 in JSON, as CSAF 2.0 section 7.1.15
// lays them out); fields in alphabetical order, like every other JSON the
// tree serves.
type (
	rolieLink struct {
		Href string `json:"href"`
		Rel  string `json:"rel"`
	}
	rolieCategory struct {
		Scheme string `json:"scheme"`
		Term   string `json:"term"`
	}
	rolieEntry struct {
		Content   rolieContent `json:"content"`
		Format    rolieFormat  `json:"format"`
		ID        string       `json:"id"`
		Link      []rolieLink  `json:"link"`
		Published string       `json:"published"`
		Title     string       `json:"title"`
		Updated   string       `json:"updated"`
	}
	rolieContent struct {
		Src  string `json:"src"`
		Type string `json:"type"`
	}
	rolieFormat struct {
		Schema  string `json:"schema"`
		Version string `json:"version"`
	}
	rolieFeed struct {
		Category []rolieCategory `json:"category"`
		Entry    []rolieEntry    `json:"entry"`
		ID       string          `json:"id"`
		Link     []rolieLink     `json:"link"`
		Title    string          `json:"title"`
		Updated  string          `json:"updated"`
	}
)

// Feed returns the ROLIE feed (RFC 8322) of the documents labelled tlp
// that the caller may read.
func (s *Service) Feed(ctx context.Context, base, tlp string) ([]byte, error) {
	vs, err := s.Tree(ctx, tlp)
	if err != nil {
		return nil, err
	}
	feed := rolieFeed{
		Category: []rolieCategory{{Scheme: "urn:ietf:params:rolie:category:information-type", Term: "csaf"}},
		Entry:    make([]rolieEntry, 0, len(vs)),
		ID:       "csaf-feed-tlp-" + Folder(tlp),
		Link:     []rolieLink{{Href: base + feedPath(tlp), Rel: "self"}},
		Title:    fmt.Sprintf("%s CSAF feed (TLP:%s)", s.cfg.Publisher.Name, tlp),
		Updated:  time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339),
	}
	for i, v := range vs {
		if i == 0 || v.CurrentReleaseDate > feed.Updated {
			feed.Updated = v.CurrentReleaseDate
		}
		u := base + DocumentPath(tlp, v.Year, v.FileName)
		feed.Entry = append(feed.Entry, rolieEntry{
			Content: rolieContent{Src: u, Type: "application/json"},
			Format:  rolieFormat{Schema: csafSchemaURL, Version: "2.0"},
			ID:      v.TrackingID,
			Link: []rolieLink{{Href: u, Rel: "self"}, {Href: u + ".sha256", Rel: "hash"}, {Href: u + ".sha512", Rel: "hash"},
				{Href: u + ".asc", Rel: "signature"}},
			Published: v.InitialReleaseDate,
			Title:     v.Title,
			Updated:   v.CurrentReleaseDate,
		})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// Compact: a feed of thousands of entries is read by machines.
	if err := enc.Encode(map[string]rolieFeed{"feed": feed}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Categories returns the ROLIE category document (RFC 8322, CSAF 2.0
// requirement 17) of the documents labelled tlp that the caller may read:
// their vendors and products, by which a client can select documents.
func (s *Service) Categories(ctx context.Context, tlp string) ([]byte, error) {
	cond, args := readable(auth.From(ctx))
	rows, err := s.db.Query(ctx, `SELECT DISTINCT ap.vendor, ap.product FROM advisory_products ap JOIN advisories a ON a.id = ap.advisory_id
		WHERE a.published_version > 0 AND a.pub_tlp = ? AND `+cond+` ORDER BY ap.vendor, ap.product`, append([]any{tlp}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type term struct {
		Term string `json:"term"`
	}
	terms := []term{}
	seen := map[string]bool{}
	for rows.Next() {
		var vendor, product string
		if err := rows.Scan(&vendor, &product); err != nil {
			return nil, err
		}
		for _, t := range []string{vendor, product} {
			if t != "" && !seen[t] {
				seen[t] = true
				terms = append(terms, term{t})
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return csaf.Canonical(map[string]any{"categories": map[string]any{"category": terms}})
}

// listingPage is a directory listing of the tree (requirement 14): plain
// HTML with a link to each entry, outside the portal's layout.
var listingPage = template.Must(template.New("listing").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Index of {{.Path}}</title></head>
<body><h1>Index of {{.Path}}</h1>
<ul>{{if .Up}}<li><a href="../">../</a></li>{{end}}{{range .Entries}}
<li><a href="{{.}}">{{.}}</a></li>{{end}}
</ul></body></html>
`))

func (h *handlers) listing(w http.ResponseWriter, r *http.Request, tlp string, year int, public bool) error {
	vs, err := h.svc.Tree(r.Context(), tlp)
	if err != nil {
		return err
	}
	var entries []string
	if year == 0 {
		for _, v := range vs {
			y := strconv.Itoa(v.Year) + "/"
			if !slices.Contains(entries, y) {
				entries = append(entries, y)
			}
		}
		slices.Sort(entries)
		entries = append(entries, "index.txt", "changes.csv", strings.TrimPrefix(feedPath(tlp), treeRoot+Folder(tlp)+"/"),
			"category-"+Folder(tlp)+".json")
	} else {
		for _, v := range vs {
			if v.Year == year {
				entries = append(entries, v.FileName, v.FileName+".asc", v.FileName+".sha256", v.FileName+".sha512")
			}
		}
		if len(entries) == 0 {
			return notFound()
		}
		slices.Sort(entries)
	}
	p := treeRoot + Folder(tlp) + "/"
	if year != 0 {
		p += strconv.Itoa(year) + "/"
	}
	var sb strings.Builder
	if err := listingPage.Execute(&sb, map[string]any{"Path": p, "Up": true, "Entries": entries}); err != nil {
		return err
	}
	return writeBytes(w, r, "text/html; charset=utf-8", []byte(sb.String()), public)
}
