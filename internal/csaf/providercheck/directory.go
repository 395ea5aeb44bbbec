package providercheck

import (
	"encoding/csv"
	"html"
	"maps"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
)

// dirBase is one directory distribution (directory_url).
type dirBase struct {
	url       string // ends in "/"
	indexOK   bool
	changesOK bool
	listings  map[string]*listing // folder URL → its listing
}

// listing is a fetched HTML directory listing.
type listing struct {
	ok    bool
	links map[string]bool // resolved hrefs
}

// checkDirs reads index.txt (12) and changes.csv (13) of each directory
// distribution and registers their documents.
func (c *checker) checkDirs(md *metadata) {
	if len(md.dirs) == 0 {
		for _, n := range []int{12, 13, 14} {
			c.errorf(n, "provider-metadata.json has no directory distribution (directory_url)")
		}
		return
	}
	for _, d := range md.dirs {
		if !strings.HasSuffix(d, "/") {
			d += "/"
		}
		if !c.mustHTTPS(d, "provider-metadata.json") {
			continue
		}
		b := &dirBase{url: d, listings: map[string]*listing{}}
		c.bases = append(c.bases, b)
		c.readIndex(b)
		c.readChanges(b)
	}
}

// register records that channel found u under base b.
func (c *checker) register(b *dirBase, u string, channel int) *docInfo {
	d := c.doc(u)
	d.in[channel] = true
	if d.base == nil {
		d.base = b
	}
	return d
}

// relative resolves a path of index.txt or changes.csv; "" with an error
// under requirement n when it leaves the directory.
func (c *checker) relative(b *dirBase, p string, n int, where string) string {
	ref, err := url.Parse(p)
	if err != nil {
		c.errorf(n, "%s: %q is not a path: %v", where, p, err)
		return ""
	}
	if ref.IsAbs() || strings.HasPrefix(p, "/") {
		c.warnf(n, "%s: %q should be relative to the directory %s", where, p, b.url)
	}
	u := resolve(b.url, p)
	if !strings.HasPrefix(u, b.url) {
		c.errorf(n, "%s: %q is outside the directory %s", where, p, b.url)
		return ""
	}
	return u
}

func (c *checker) readIndex(b *dirBase) {
	u := b.url + "index.txt"
	r := c.get(u, false)
	if !r.ok() {
		c.errorf(12, "%s: %s", u, r.describe())
		return
	}
	b.indexOK = true
	n := 0
	for i, line := range strings.Split(string(r.body), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		where := u + " line " + itoa(i+1)
		if doc := c.relative(b, line, 12, where); doc != "" {
			c.register(b, doc, channelIndex)
			n++
		}
	}
	if n == 0 {
		c.warnf(12, "%s lists no document", u)
	}
}

func (c *checker) readChanges(b *dirBase) {
	u := b.url + "changes.csv"
	r := c.get(u, false)
	if !r.ok() {
		c.errorf(13, "%s: %s", u, r.describe())
		return
	}
	b.changesOK = true
	var prev time.Time
	prevLine := 0
	for i, line := range strings.Split(string(r.body), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		where := u + " line " + itoa(i+1)
		if !strings.HasPrefix(line, `"`) {
			c.errorf(13, "%s: the path is not quoted", where)
		}
		rec, err := csv.NewReader(strings.NewReader(line)).Read()
		if err != nil {
			c.errorf(13, "%s: not CSV: %v", where, err)
			continue
		}
		if len(rec) < 2 {
			c.errorf(13, "%s: needs two columns, path and time", where)
			continue
		}
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(rec[1]))
		if err != nil {
			c.errorf(13, "%s: %q is not an RFC 3339 time (changes.csv has no header)", where, rec[1])
			continue
		}
		if prevLine > 0 && t.After(prev) {
			c.errorf(13, "%s: not sorted newest first (%s is newer than %s on line %d)", where, rec[1], prev.Format(time.RFC3339Nano), prevLine)
		}
		prev, prevLine = t, i+1
		if doc := c.relative(b, rec[0], 13, where); doc != "" {
			d := c.register(b, doc, channelChanges)
			if d.changed.IsZero() || t.After(d.changed) {
				d.changed = t
			}
		}
	}
}

// checkListings fetches the HTML listing of each directory distribution
// and of each folder holding its documents (14); documents linked there
// are registered too.
func (c *checker) checkListings() {
	// Documents found elsewhere (ROLIE) that lie in a directory
	// distribution belong to it.
	for _, u := range c.docOrder {
		d := c.docs[u]
		for _, b := range c.bases {
			if d.base == nil && strings.HasPrefix(u, b.url) {
				d.base = b
			}
		}
	}
	for _, b := range c.bases {
		top := c.listing(b, b.url)
		if !top.ok {
			c.errorf(14, "no directory listing at %s", b.url)
		}
		folders := map[string]bool{}
		for l := range top.links {
			if rest, ok := strings.CutPrefix(l, b.url); ok && yearFolderRE.MatchString(rest) {
				folders[l] = true
			}
		}
		for _, u := range c.docOrder {
			if d := c.docs[u]; d.base == b {
				folders[folderOf(u)] = true
			}
		}
		for _, f := range slices.Sorted(maps.Keys(folders)) {
			if f != b.url && top.ok && !top.links[f] && !top.links[strings.TrimSuffix(f, "/")] {
				c.errorf(14, "the listing %s has no link to the folder %s", b.url, f)
			}
			l := c.listing(b, f)
			if !l.ok {
				c.errorf(14, "no directory listing at %s", f)
				continue
			}
			for href := range l.links {
				rest, ok := strings.CutPrefix(href, f)
				if !ok || rest == "" || strings.Contains(rest, "/") || !strings.HasSuffix(rest, ".json") {
					continue
				}
				if !fileNameRE.MatchString(rest) {
					c.warnf(14, "the listing %s links %s, whose name does not conform to section 5.1", f, rest)
				}
				c.register(b, href, channelListing)
			}
		}
	}
}

var (
	yearFolderRE = regexp.MustCompile(`^[0-9]{4}/$`)
	hrefRE       = regexp.MustCompile(`(?is)<a\s[^>]*?href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))`)
)

// listing fetches and parses the HTML listing at u (cached per base).
func (c *checker) listing(b *dirBase, u string) *listing {
	if l, ok := b.listings[u]; ok {
		return l
	}
	l := &listing{links: map[string]bool{}}
	b.listings[u] = l
	r := c.get(u, false)
	if !r.ok() {
		c.errorf(14, "%s: %s", u, r.describe())
		return l
	}
	l.ok = true
	if ct := strings.ToLower(r.ctype); !strings.HasPrefix(ct, "text/html") && !strings.HasPrefix(ct, "application/xhtml") {
		c.warnf(14, "the listing %s is served as %q, not HTML", u, r.ctype)
	}
	for _, m := range hrefRE.FindAllStringSubmatch(string(r.body), -1) {
		href := html.UnescapeString(m[1] + m[2] + m[3])
		if abs := resolve(r.final, href); abs != "" {
			l.links[abs] = true
		}
	}
	return l
}

// folderOf returns the folder URL (ending in "/") of a document URL.
func folderOf(u string) string {
	i := strings.LastIndex(u, "/")
	return u[:i+1]
}

// yearOf returns the name of the folder holding the document at u.
func yearOf(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return path.Base(path.Dir(pu.Path))
}
