package advisory

// The Atom feed (RFC 4287) of the public advisories: the 50 newest
// TLP:CLEAR ones, whoever asks. It is read as the anonymous visitor, so a
// signed-in reader's GREEN, AMBER or RED advisories never reach a feed
// that feed readers cache and share.

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/web"
)

// atomSize is the number of entries of the feed.
const atomSize = 50

type atomDoc struct {
	XMLName  xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang     string      `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	ID       string      `xml:"id"`
	Title    atomText    `xml:"title"`
	Subtitle atomText    `xml:"subtitle"`
	Updated  string      `xml:"updated"`
	Links    []atomLink  `xml:"link"`
	Author   atomPerson  `xml:"author"`
	Entries  []atomEntry `xml:"entry"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomLink struct {
	Rel      string `xml:"rel,attr"`
	Type     string `xml:"type,attr,omitempty"`
	Href     string `xml:"href,attr"`
	HrefLang string `xml:"hreflang,attr,omitempty"`
	Length   int    `xml:"length,attr,omitempty"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomCategory struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr,omitempty"`
}

type atomEntry struct {
	Lang       string         `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
	ID         string         `xml:"id"`
	Title      atomText       `xml:"title"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published,omitempty"`
	Summary    *atomText      `xml:"summary,omitempty"`
	Links      []atomLink     `xml:"link"`
	Categories []atomCategory `xml:"category"`
}

// atomEpoch is the feed's updated time while nothing is published.
var atomEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// AtomFeed returns the Atom feed of the newest TLP:CLEAR advisories in
// locale l (the feed's own texts; each entry keeps its document's
// language), with links under base (https://host, no slash at the end).
func (s *Service) AtomFeed(ctx context.Context, base, l string) ([]byte, error) {
	// The anonymous visitor's view, and only WHITE, whoever asks.
	anon := auth.With(ctx, nil)
	items, _, err := s.List(anon, ListFilter{TLP: "WHITE", Limit: atomSize})
	if err != nil {
		return nil, err
	}
	t := func(key string, args map[string]any) string {
		if s.cat == nil {
			return key
		}
		return s.cat.T(l, key, args)
	}
	host := "belfry.invalid"
	if u, err := url.Parse(base); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	publisher := s.cfg.Publisher.Name
	if publisher == "" {
		publisher = "Belfry"
	}
	self := base + "/" + l + "/advisories.atom"
	feed := atomDoc{Lang: l, ID: self, Title: atomText{Type: "text", Text: t("advpub.atom.title", map[string]any{"publisher": publisher})},
		Subtitle: atomText{Type: "text", Text: t("advpub.atom.subtitle", nil)}, Updated: atomEpoch.Format(time.RFC3339),
		Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: self},
			{Rel: "alternate", Type: "text/html", Href: base + "/" + l + "/advisories", HrefLang: l}},
		Author: atomPerson{Name: publisher, URI: s.cfg.Publisher.Namespace}}
	var newest time.Time
	for _, a := range items {
		if a.Published == nil || a.Published.TLP != "WHITE" {
			continue // never: List was asked for WHITE only
		}
		v, err := s.VersionContent(anon, a.TrackingID, 0)
		if err != nil {
			return nil, err
		}
		e, updated, err := atomEntryOf(a, v, host, base, l, t)
		if err != nil {
			return nil, err
		}
		if updated.After(newest) {
			newest = updated
		}
		feed.Entries = append(feed.Entries, e)
	}
	if !newest.IsZero() {
		feed.Updated = newest.Format(time.RFC3339)
	}
	b, err := xml.MarshalIndent(feed, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(append([]byte(xml.Header), b...), '\n'), nil
}

// atomEntryOf is the entry of an advisory's newest version v.
func atomEntryOf(a *Advisory, v *Version, host, base, l string, t func(string, map[string]any) string) (atomEntry, time.Time, error) {
	d, err := csaf.DecodeDocument(v.Content)
	if err != nil {
		return atomEntry{}, time.Time{}, err
	}
	m := d.Document
	updated := pubDate(m.Tracking.CurrentReleaseDate)
	if updated.IsZero() {
		updated = v.PublishedAt
	}
	published := pubDate(m.Tracking.InitialReleaseDate)
	if published.IsZero() {
		published = updated
	}
	e := atomEntry{Lang: m.Lang,
		// A tag URI (RFC 4151): the same entry whatever the feed's
		// language or later changes of the portal's paths.
		ID:        "tag:" + host + "," + published.Format("2006-01-02") + ":advisory:" + a.TrackingID,
		Title:     atomText{Type: "text", Text: a.TrackingID + ": " + m.Title},
		Updated:   updated.Format(time.RFC3339),
		Published: published.Format(time.RFC3339),
		Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: base + "/" + l + "/advisories/" + url.PathEscape(a.TrackingID)},
			{Rel: "related", Type: "application/json", Href: base + DocumentPath(a.Published.TLP, a.Published.Year, a.Published.FileName),
				Length: v.Size}}}
	var summary []string
	for _, n := range m.Notes {
		if n.Category == "summary" {
			summary = append(summary, strings.TrimSpace(n.Text))
		}
	}
	if len(summary) > 0 {
		e.Summary = &atomText{Type: "text", Text: strings.Join(summary, "\n\n")}
	}
	if sev := a.Published.Severity; sev != "" {
		e.Categories = append(e.Categories, atomCategory{Term: sev, Label: t("advpub.severity."+sev, nil)})
	}
	return e, updated, nil
}

func (h *handlers) atomFeed(w http.ResponseWriter, r *http.Request) error {
	base := h.svc.cfg.BaseURL
	if base == "" {
		scheme := "https"
		if r.TLS == nil {
			scheme = "http"
		}
		base = scheme + "://" + r.Host
	}
	b, err := h.svc.AtomFeed(r.Context(), base, web.Locale(r))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	// private: the answer may set the portal's cookies.
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err = w.Write(b)
	return err
}
