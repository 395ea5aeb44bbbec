package providercheck

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// docInfo is one document URL and what each channel says about it.
type docInfo struct {
	url       string
	in        map[int]bool // channels that list it (12, 13, 14, 15)
	base      *dirBase     // the directory distribution it lies in, if any
	feeds     []feedUse
	hashLinks []string
	sigLink   string
	changed   time.Time // its time in changes.csv

	// After fetching.
	parsed     bool
	trackingID string
	tlp        string
	initial    time.Time
	current    time.Time
}

// doc returns the document at u, registering it on first sight.
func (c *checker) doc(u string) *docInfo {
	if d, ok := c.docs[u]; ok {
		return d
	}
	d := &docInfo{url: u, in: map[int]bool{}}
	c.docs[u] = d
	c.docOrder = append(c.docOrder, u)
	return d
}

// channels lists where d was found, for messages.
func (d *docInfo) channels() string {
	var out []string
	for _, n := range []int{channelROLIE, channelIndex, channelChanges, channelListing} {
		if d.in[n] {
			out = append(out, channelNames[n])
		}
	}
	return strings.Join(out, ", ")
}

// checkKeys downloads the keys of public_openpgp_keys and compares their
// fingerprints (20).
func (c *checker) checkKeys(md *metadata) {
	if len(md.keys) == 0 {
		c.errorf(20, "provider-metadata.json lists no public OpenPGP key (public_openpgp_keys)")
		return
	}
	for _, k := range md.keys {
		if !c.mustHTTPS(k.url, "provider-metadata.json") {
			c.errorf(20, "key %s: not an https URL", k.url)
			continue
		}
		r := c.get(k.url, false)
		if !r.ok() {
			c.errorf(20, "key %s: %s", k.url, r.describe())
			continue
		}
		ents, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(r.body))
		if err != nil {
			ents, err = openpgp.ReadKeyRing(bytes.NewReader(r.body))
		}
		if err != nil || len(ents) == 0 {
			c.errorf(20, "key %s is not an OpenPGP public key: %v", k.url, err)
			continue
		}
		for _, e := range ents {
			fpr := strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
			if k.fingerprint == "" {
				c.warnf(20, "key %s: provider-metadata.json gives no fingerprint (the key has %s)", k.url, fpr)
			} else if !strings.EqualFold(k.fingerprint, fpr) {
				c.errorf(20, "key %s has fingerprint %s, but provider-metadata.json says %s", k.url, fpr, k.fingerprint)
				continue
			}
			if bits, err := e.PrimaryKey.BitLength(); err == nil && e.PrimaryKey.PubKeyAlgo.CanSign() &&
				(e.PrimaryKey.PubKeyAlgo == packet.PubKeyAlgoRSA || e.PrimaryKey.PubKeyAlgo == packet.PubKeyAlgoRSASignOnly) && bits < 2048 {
				c.warnf(20, "key %s is a weak %d-bit RSA key", k.url, bits)
			}
			if e.Revoked(time.Now()) {
				c.warnf(20, "key %s (%s) is revoked", k.url, fpr)
			}
			c.keys = append(c.keys, e)
			c.infof(20, "key %s has the fingerprint %s", k.url, fpr)
		}
	}
}

var fileNameRE = regexp.MustCompile(`^[+\-a-z0-9_]+\.json$`)

var nonNameChars = regexp.MustCompile(`[^+\-a-z0-9]+`)

// FileName is the file name of a document with tracking id id (CSAF 2.0
// section 5.1): lower case, each run of other characters than a–z, 0–9,
// + and - replaced by one "_", then ".json".
func FileName(id string) string {
	return nonNameChars.ReplaceAllString(strings.ToLower(id), "_") + ".json"
}

// csafDoc is the part of a document the checker reads.
type csafDoc struct {
	Document struct {
		Distribution struct {
			TLP struct {
				Label string `json:"label"`
			} `json:"tlp"`
		} `json:"distribution"`
		Tracking struct {
			ID                 string `json:"id"`
			InitialReleaseDate string `json:"initial_release_date"`
			CurrentReleaseDate string `json:"current_release_date"`
		} `json:"tracking"`
	} `json:"document"`
}

// checkDocuments fetches every document once and checks it.
func (c *checker) checkDocuments() {
	if len(c.docOrder) == 0 {
		c.warnf(1, "no CSAF document found")
	}
	if c.opt.Validate == nil {
		c.warnf(1, "no validator configured: the schema and the mandatory tests were not run")
	}
	for _, u := range c.docOrder {
		if c.ctx.Err() != nil {
			return
		}
		c.checkDocument(c.docs[u])
	}
}

func (c *checker) checkDocument(d *docInfo) {
	u := d.url
	r := c.get(u, false)
	if !r.ok() {
		for _, n := range []int{channelROLIE, channelIndex, channelChanges, channelListing} {
			if d.in[n] {
				c.errorf(n, "%s is listed in %s but cannot be retrieved: %s", u, channelNames[n], r.describe())
			}
		}
		return
	}
	raw := r.body

	// 1: served as JSON, UTF-8, valid.
	if r.ctype != applicationJSON {
		c.errorf(1, "%s is served as %q, not application/json", u, r.ctype)
	}
	if !utf8.Valid(raw) {
		c.errorf(1, "%s is not valid UTF-8", u)
	}
	var doc csafDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		c.errorf(1, "%s is not a JSON document: %v", u, err)
		return
	}
	d.parsed = true
	if c.opt.Validate != nil {
		for _, p := range c.opt.Validate(raw) {
			c.errorf(1, "%s: %s", u, p)
		}
	}
	tr := doc.Document.Tracking
	d.trackingID = tr.ID
	d.tlp = strings.ToUpper(doc.Document.Distribution.TLP.Label)
	d.initial, _ = time.Parse(time.RFC3339, tr.InitialReleaseDate)
	d.current, _ = time.Parse(time.RFC3339, tr.CurrentReleaseDate)

	// 2: file name.
	name := path.Base(mustPath(u))
	switch {
	case tr.ID == "":
		c.errorf(2, "%s has no /document/tracking/id", u)
	case name != FileName(tr.ID):
		c.errorf(2, "%s: the file name %s does not match the tracking id %q (expected %s)", u, name, tr.ID, FileName(tr.ID))
	}
	if !fileNameRE.MatchString(name) {
		c.errorf(2, "%s: the file name %s does not conform to section 5.1", u, name)
	}

	// 11: year folder.
	folder := yearOf(u)
	isYear := len(folder) == 4 && strings.Trim(folder, "0123456789") == ""
	switch {
	case d.initial.IsZero():
		c.errorf(11, "%s: /document/tracking/initial_release_date %q is not an RFC 3339 date-time", u, tr.InitialReleaseDate)
	case !isYear && d.base != nil:
		c.errorf(11, "%s is not in a year folder", u)
	case !isYear:
		c.infof(11, "%s is not in a year folder", u)
	case folder != strconv.Itoa(d.initial.UTC().Year()):
		c.errorf(11, "%s is in the folder %s, but its initial_release_date %s is in %d (UTC)", u, folder, tr.InitialReleaseDate, d.initial.UTC().Year())
	}

	// 13: the time in changes.csv.
	if d.in[channelChanges] {
		switch {
		case d.current.IsZero():
			c.errorf(13, "%s: /document/tracking/current_release_date %q is not an RFC 3339 date-time", u, tr.CurrentReleaseDate)
		case !d.changed.Equal(d.current):
			c.errorf(13, "%s: changes.csv says %s, but current_release_date is %s", u, d.changed.Format(time.RFC3339Nano), tr.CurrentReleaseDate)
		}
	}

	// 15: what the feeds say about it.
	for _, f := range d.feeds {
		if f.entryID != "" && f.entryID != tr.ID {
			c.errorf(15, "feed %s: entry %q points at %s, whose tracking id is %q", f.feed, f.entryID, u, tr.ID)
		}
		dr, fr := tlpRank(d.tlp), tlpRank(f.tlp)
		switch {
		case dr > fr:
			c.errorf(15, "%s is TLP:%s, above the label of its feed %s (%s)", u, d.tlp, f.feed, f.tlp)
		case dr < fr:
			c.infof(15, "%s is TLP:%s, below the label of its feed %s (%s)", u, labelOr(d.tlp), f.feed, f.tlp)
		}
	}

	// 4, 5: access without credentials.
	switch d.tlp {
	case "WHITE":
		if c.credentials {
			if a := c.get(u, true); !a.ok() {
				c.errorf(4, "the TLP:WHITE document %s cannot be retrieved without credentials: %s", u, a.describe())
			}
		}
	case "AMBER", "RED":
		if a := c.get(u, true); a.ok() {
			c.errorf(5, "the TLP:%s document %s is not access protected", d.tlp, u)
		}
	}

	c.checkHashes(d, raw)
	c.checkSignature(d, raw)
}

func labelOr(l string) string {
	if l == "" {
		return "(unlabelled)"
	}
	return l
}

func mustPath(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	return pu.Path
}

// hashAlgs maps a hash file's extension to its algorithm; strong ones
// satisfy requirement 18.
var hashAlgs = map[string]struct {
	new    func() hash.Hash
	strong bool
}{
	".sha256": {sha256.New, true},
	".sha512": {sha512.New, true},
	".sha1":   {sha1.New, false},
	".md5":    {md5.New, false},
}

// checkHashes compares the hash files of d with its bytes (18): the
// linked ones with ROLIE, the name-derived ones otherwise. A missing hash
// file is an error (stricter than the BSI checker).
func (c *checker) checkHashes(d *docInfo, raw []byte) {
	u := d.url
	links, derived := d.hashLinks, false
	if len(links) == 0 {
		links, derived = []string{u + ".sha256", u + ".sha512"}, true
	}
	strong, weak := 0, 0
	var missing []string
	for _, h := range links {
		ext := path.Ext(mustPath(h))
		alg, known := hashAlgs[ext]
		if !known {
			c.warnf(18, "%s: hash file %s has an unknown algorithm", u, h)
			continue
		}
		r := c.get(h, false)
		if !r.ok() {
			missing = append(missing, fmt.Sprintf("%s (%s)", h, r.describe()))
			continue
		}
		fields := strings.Fields(string(r.body))
		if len(fields) == 0 {
			c.errorf(18, "hash file %s is empty", h)
			continue
		}
		want, err := hex.DecodeString(fields[0])
		if err != nil {
			c.errorf(18, "hash file %s does not start with a hex digest", h)
			continue
		}
		sum := alg.new()
		sum.Write(raw)
		if !bytes.Equal(sum.Sum(nil), want) {
			c.errorf(18, "hash file %s does not match the bytes of %s", h, u)
			continue
		}
		if alg.strong {
			strong++
		} else {
			weak++
		}
	}
	switch {
	case derived && len(missing) == len(links):
		c.errorf(18, "%s has no hash file: %s", u, strings.Join(missing, ", "))
	case derived && len(missing) > 0:
		c.warnf(18, "%s: missing hash file %s", u, strings.Join(missing, ", "))
	case len(missing) > 0:
		c.errorf(18, "%s: linked hash file %s cannot be retrieved", u, strings.Join(missing, ", "))
	}
	if strong == 0 && len(missing) < len(links) {
		if weak > 0 {
			c.errorf(18, "%s has only weak hashes (MD5/SHA-1); SHA-256 or SHA-512 is required", u)
		} else if !slices.ContainsFunc(links, func(h string) bool { _, ok := hashAlgs[path.Ext(mustPath(h))]; return ok }) {
			c.errorf(18, "%s has no SHA-256 or SHA-512 hash file", u)
		}
	} else if weak > 0 {
		c.warnf(18, "%s also has weak hashes (MD5/SHA-1)", u)
	}
}

// checkSignature verifies the detached signature of d over its bytes with
// the keys of requirement 20 (19).
func (c *checker) checkSignature(d *docInfo, raw []byte) {
	u := d.url
	sig := d.sigLink
	if sig == "" {
		sig = u + ".asc"
	}
	r := c.get(sig, false)
	if !r.ok() {
		c.errorf(19, "%s has no signature %s: %s", u, sig, r.describe())
		return
	}
	if len(c.keys) == 0 {
		c.errorf(19, "%s: no OpenPGP key to verify the signature with (requirement 20)", u)
		return
	}
	if !bytes.Contains(r.body, []byte("-----BEGIN PGP SIGNATURE-----")) {
		c.errorf(19, "signature %s is not ASCII-armoured", sig)
		return
	}
	if _, err := openpgp.CheckArmoredDetachedSignature(c.keys, bytes.NewReader(raw), bytes.NewReader(r.body), nil); err != nil {
		c.errorf(19, "signature %s does not verify over %s: %v", sig, u, err)
	}
}

// checkConsistent reports documents found in one channel but missing from
// another channel in use, under the requirement of the channel lacking it.
func (c *checker) checkConsistent() {
	// 5: AMBER/RED documents do not share a distribution folder (the
	// parent of the year folder) with WHITE, GREEN or unlabelled ones.
	open := map[string]string{}
	for _, u := range c.docOrder {
		if d := c.docs[u]; d.parsed && tlpRank(d.tlp) < 2 {
			open[folderOf(strings.TrimSuffix(folderOf(u), "/"))] = u
		}
	}
	for _, u := range c.docOrder {
		d := c.docs[u]
		if !d.parsed || tlpRank(d.tlp) < 2 {
			continue
		}
		if w, ok := open[folderOf(strings.TrimSuffix(folderOf(u), "/"))]; ok {
			c.warnf(5, "the TLP:%s document %s shares its folder with %s, which is not TLP:AMBER or TLP:RED; use a separate, access-protected path", d.tlp, u, w)
		}
	}
	for _, u := range c.docOrder {
		d := c.docs[u]
		b := d.base
		if b == nil {
			if len(c.bases) > 0 {
				c.warnf(12, "%s (from %s) is not under any directory distribution", u, d.channels())
			}
		} else {
			if b.indexOK && !d.in[channelIndex] {
				c.errorf(12, "%s (from %s) is missing from %sindex.txt", u, d.channels(), b.url)
			}
			if b.changesOK && !d.in[channelChanges] {
				c.errorf(13, "%s (from %s) is missing from %schanges.csv", u, d.channels(), b.url)
			}
			if l := b.listings[folderOf(u)]; l != nil && l.ok && !l.links[u] {
				c.errorf(14, "%s (from %s) is not linked from the listing %s", u, d.channels(), folderOf(u))
			}
		}
		if c.rolieUsed && c.feedsLoaded && !d.in[channelROLIE] {
			c.errorf(15, "%s (from %s) is in no ROLIE feed", u, d.channels())
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
