package providercheck

import (
	"encoding/json"
	"net/http"
	"strings"
)

const (
	csafSchemaURL    = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
	rolieInfoScheme  = "urn:ietf:params:rolie:category:information-type"
	channelIndex     = 12
	channelChanges   = 13
	channelListing   = 14
	channelROLIE     = 15
	applicationJSON  = "application/json"
	tlpRankUnlabeled = 0
)

// channelNames names the channels a document can be found in.
var channelNames = map[int]string{
	channelIndex:   "index.txt",
	channelChanges: "changes.csv",
	channelListing: "the directory listing",
	channelROLIE:   "a ROLIE feed",
}

// tlpRank orders TLP labels; an unlabelled document ranks with WHITE.
func tlpRank(label string) int {
	switch strings.ToUpper(label) {
	case "GREEN":
		return 1
	case "AMBER":
		return 2
	case "RED":
		return 3
	}
	return tlpRankUnlabeled
}

// feedUse is one ROLIE entry pointing at a document.
type feedUse struct {
	feed, tlp, entryID string
}

// checkROLIE reads the ROLIE feeds (15), service documents (16) and
// category documents (17) and registers the documents of the entries.
func (c *checker) checkROLIE(md *metadata) {
	if len(md.feeds) == 0 {
		c.errorf(15, "provider-metadata.json lists no ROLIE feed")
		c.infof(16, "no ROLIE distribution")
		c.infof(17, "no ROLIE distribution")
		return
	}
	public := false
	labels := map[string]string{}
	for _, f := range md.feeds {
		if f.tlp == "WHITE" || f.tlp == "GREEN" || f.tlp == "UNLABELED" {
			public = true
		}
		if prev, ok := labels[f.tlp]; ok && prev != f.url {
			c.warnf(15, "two feeds for TLP label %s: %s and %s (all documents of one label belong in one feed)", f.tlp, prev, f.url)
		}
		labels[f.tlp] = f.url
		c.checkFeed(f)
	}
	if !public {
		c.errorf(15, "no ROLIE feed for TLP:WHITE, TLP:GREEN or unlabelled documents")
	}

	// 16: service documents, optional.
	if len(md.services) == 0 {
		c.infof(16, "no ROLIE service document listed (optional)")
	}
	for _, s := range md.services {
		c.checkService(s, md)
	}
	// 17: category documents, optional.
	if len(md.categories) == 0 {
		c.infof(17, "no ROLIE category document listed (optional)")
	}
	for _, s := range md.categories {
		c.checkCategory(s)
	}
}

// checkFeed checks one feed and registers its entries' documents.
func (c *checker) checkFeed(f feedRef) {
	if !c.mustHTTPS(f.url, "provider-metadata.json") {
		return
	}
	r := c.get(f.url, false)
	protected := f.tlp == "AMBER" || f.tlp == "RED"
	if protected {
		if a := c.get(f.url, true); a.ok() {
			c.warnf(5, "the TLP:%s feed %s can be read without credentials", f.tlp, f.url)
		}
	}
	if !r.ok() {
		// TLP:GREEN is limited to a community: a provider may protect its
		// feed like AMBER and RED (only WHITE must be open, req. 4).
		limited := protected || f.tlp == "GREEN"
		if limited && !c.credentials && (r.status == http.StatusUnauthorized || r.status == http.StatusForbidden) {
			c.warnf(15, "the TLP:%s feed %s is access protected (%s); give credentials to check it", f.tlp, f.url, r.describe())
			return
		}
		c.errorf(15, "feed %s: %s", f.url, r.describe())
		return
	}
	if r.ctype != applicationJSON {
		c.errorf(15, "feed %s is served as %q, not application/json", f.url, r.ctype)
	}
	var doc struct {
		Feed *struct {
			ID       any               `json:"id"`
			Title    any               `json:"title"`
			Link     []json.RawMessage `json:"link"`
			Category []struct {
				Scheme string `json:"scheme"`
				Term   string `json:"term"`
			} `json:"category"`
			Updated any               `json:"updated"`
			Entry   []json.RawMessage `json:"entry"`
		} `json:"feed"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || doc.Feed == nil {
		if err == nil {
			c.errorf(15, "feed %s has no \"feed\" object", f.url)
		} else {
			c.errorf(15, "feed %s is not a ROLIE JSON feed: %v", f.url, err)
		}
		return
	}
	c.feedsLoaded = true
	fd := doc.Feed
	if s, _ := fd.ID.(string); s == "" {
		c.errorf(15, "feed %s: feed.id is missing", f.url)
	}
	if s, _ := fd.Title.(string); s == "" {
		c.errorf(15, "feed %s: feed.title is missing", f.url)
	}
	if s, _ := fd.Updated.(string); !isDateTime(s) {
		c.errorf(15, "feed %s: feed.updated is not an RFC 3339 date-time", f.url)
	}
	links := parseLinks(fd.Link, f.url)
	switch self := links["self"]; {
	case len(self) == 0:
		c.errorf(15, "feed %s has no link with rel \"self\"", f.url)
	case self[0] != f.url:
		c.warnf(15, "feed %s: its self link is %s", f.url, self[0])
	}
	csafCat := false
	for _, cat := range fd.Category {
		if cat.Scheme == rolieInfoScheme && cat.Term == "csaf" {
			csafCat = true
		}
	}
	if !csafCat {
		c.errorf(15, "feed %s: no category {scheme %s, term csaf}", f.url, rolieInfoScheme)
	}
	if len(fd.Entry) == 0 {
		c.warnf(15, "feed %s has no entries", f.url)
	}
	for i, raw := range fd.Entry {
		c.checkEntry(f, i, raw)
	}
}

// link is a ROLIE link.
type link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// parseLinks groups links by rel, hrefs resolved against base.
func parseLinks(raw []json.RawMessage, base string) map[string][]string {
	out := map[string][]string{}
	for _, r := range raw {
		var l link
		if json.Unmarshal(r, &l) != nil || l.Href == "" {
			continue
		}
		if u := resolve(base, l.Href); u != "" {
			out[l.Rel] = append(out[l.Rel], u)
		}
	}
	return out
}

// checkEntry checks one feed entry and registers its document.
func (c *checker) checkEntry(f feedRef, i int, raw json.RawMessage) {
	var e struct {
		ID        any               `json:"id"`
		Title     any               `json:"title"`
		Link      []json.RawMessage `json:"link"`
		Published any               `json:"published"`
		Updated   any               `json:"updated"`
		Content   *struct {
			Type string `json:"type"`
			Src  string `json:"src"`
		} `json:"content"`
		Format *struct {
			Schema  string `json:"schema"`
			Version string `json:"version"`
		} `json:"format"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		c.errorf(15, "feed %s: entry %d is not an object: %v", f.url, i, err)
		return
	}
	id, _ := e.ID.(string)
	name := id
	if name == "" {
		name = "#" + itoa(i)
		c.errorf(15, "feed %s: entry %s has no id", f.url, name)
	}
	where := "feed " + f.url + ", entry " + name
	if s, _ := e.Title.(string); s == "" {
		c.errorf(15, "%s: no title", where)
	}
	for _, t := range []struct {
		name string
		v    any
	}{{"published", e.Published}, {"updated", e.Updated}} {
		if s, _ := t.v.(string); !isDateTime(s) {
			c.errorf(15, "%s: %s is not an RFC 3339 date-time", where, t.name)
		}
	}
	links := parseLinks(e.Link, f.url)
	for _, rel := range []string{"self", "hash", "signature"} {
		for _, u := range links[rel] {
			c.mustHTTPS(u, where)
		}
	}
	var self string
	if len(links["self"]) > 0 {
		self = links["self"][0]
	} else {
		c.errorf(15, "%s: no link with rel \"self\"", where)
	}
	if len(links["hash"]) == 0 {
		c.errorf(15, "%s: no link with rel \"hash\"", where)
	}
	if len(links["signature"]) == 0 {
		c.errorf(15, "%s: no link with rel \"signature\"", where)
	}
	if e.Content == nil {
		c.errorf(15, "%s: no content", where)
	} else {
		if e.Content.Type != applicationJSON {
			c.errorf(15, "%s: content.type is %q, not application/json", where, e.Content.Type)
		}
		src := resolve(f.url, e.Content.Src)
		switch {
		case e.Content.Src == "":
			c.errorf(15, "%s: content.src is missing", where)
		case self == "":
			self = src
		case src != self:
			c.warnf(15, "%s: content.src %s differs from the self link %s", where, src, self)
		}
	}
	if e.Format == nil {
		c.errorf(15, "%s: no format", where)
	} else if e.Format.Schema != csafSchemaURL || e.Format.Version != "2.0" {
		c.errorf(15, "%s: format must be {schema %s, version 2.0}, not {%s, %s}", where, csafSchemaURL, e.Format.Schema, e.Format.Version)
	}
	if self == "" {
		return
	}
	d := c.doc(self)
	d.in[channelROLIE] = true
	d.feeds = append(d.feeds, feedUse{feed: f.url, tlp: f.tlp, entryID: id})
	d.hashLinks = appendNew(d.hashLinks, links["hash"]...)
	if len(links["signature"]) > 0 && d.sigLink == "" {
		d.sigLink = links["signature"][0]
	}
}

// checkService checks a ROLIE service document (16).
func (c *checker) checkService(u string, md *metadata) {
	if !c.mustHTTPS(u, "provider-metadata.json") {
		c.errorf(16, "service document %s is not https", u)
		return
	}
	r := c.get(u, false)
	if !r.ok() {
		c.errorf(16, "service document %s: %s", u, r.describe())
		return
	}
	if r.ctype != applicationJSON {
		c.errorf(16, "service document %s is served as %q, not application/json", u, r.ctype)
	}
	var doc struct {
		Service *struct {
			Workspace []struct {
				Title      string `json:"title"`
				Collection []struct {
					Title      string `json:"title"`
					Href       string `json:"href"`
					Categories *struct {
						Category []struct {
							Scheme string `json:"scheme"`
							Term   string `json:"term"`
						} `json:"category"`
					} `json:"categories"`
				} `json:"collection"`
			} `json:"workspace"`
		} `json:"service"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || doc.Service == nil {
		c.errorf(16, "%s is not a ROLIE service document (no \"service\" object)", u)
		return
	}
	if len(doc.Service.Workspace) == 0 {
		c.errorf(16, "%s: service.workspace is empty", u)
	}
	listed := map[string]bool{}
	for i, w := range doc.Service.Workspace {
		if w.Title == "" {
			c.errorf(16, "%s: workspace %d has no title", u, i)
		}
		for j, col := range w.Collection {
			href := resolve(u, col.Href)
			if col.Title == "" || col.Href == "" {
				c.errorf(16, "%s: workspace %d, collection %d needs title and href", u, i, j)
			}
			if col.Categories == nil || len(col.Categories.Category) == 0 {
				c.errorf(16, "%s: collection %s has no categories", u, href)
			}
			listed[href] = true
		}
	}
	for _, f := range md.feeds {
		if !listed[f.url] {
			c.errorf(16, "service document %s does not list the feed %s", u, f.url)
		}
	}
}

// checkCategory checks a ROLIE category document (17).
func (c *checker) checkCategory(u string) {
	if !c.mustHTTPS(u, "provider-metadata.json") {
		c.errorf(17, "category document %s is not https", u)
		return
	}
	r := c.get(u, false)
	if !r.ok() {
		c.errorf(17, "category document %s: %s", u, r.describe())
		return
	}
	if r.ctype != applicationJSON {
		c.errorf(17, "category document %s is served as %q, not application/json", u, r.ctype)
	}
	var doc struct {
		Categories *struct {
			Category []struct {
				Term any `json:"term"`
			} `json:"category"`
		} `json:"categories"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || doc.Categories == nil {
		c.errorf(17, "%s is not a ROLIE category document (no \"categories\" object)", u)
		return
	}
	if len(doc.Categories.Category) == 0 {
		c.errorf(17, "%s: categories.category is empty", u)
	}
	for i, cat := range doc.Categories.Category {
		if s, _ := cat.Term.(string); s == "" {
			c.errorf(17, "%s: category %d has no term", u, i)
		}
	}
}

func appendNew(list []string, xs ...string) []string {
	for _, x := range xs {
		found := false
		for _, y := range list {
			if x == y {
				found = true
			}
		}
		if !found {
			list = append(list, x)
		}
	}
	return list
}
