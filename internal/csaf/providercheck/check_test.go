package providercheck

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// fakeDoc is one advisory of the fake provider.
type fakeDoc struct {
	id, tlp          string
	initial, current string
	folder           string // year folder override; "" = UTC year of initial
	name             string // file name override; "" = FileName(id)
	invalid          bool   // csaf_version "2.1", which the test validator rejects
	noSigLink        bool   // its ROLIE entry has no signature link
}

type fakeFile struct {
	body      []byte
	ctype     string
	protected bool // needs the bearer token
}

// provider is a complete fake CSAF trusted provider: directory and ROLIE
// distribution for TLP:WHITE, a ROLIE feed for TLP:AMBER behind a bearer
// token, hashes, signatures and the OpenPGP key.
type provider struct {
	t         *testing.T
	srv       *httptest.Server
	mu        sync.Mutex
	files     map[string]*fakeFile
	redirects map[string]string
	docs      []fakeDoc
	paths     []string // URL path of each doc after build
	noROLIE   bool
	keyFpr    string // fingerprint written into provider-metadata.json; "" = the real one
}

const token = "s3cret"

var (
	keyOnce sync.Once
	testKey *openpgp.Entity
	keyErr  error
)

func signingKey(t *testing.T) *openpgp.Entity {
	t.Helper()
	keyOnce.Do(func() {
		testKey, keyErr = openpgp.NewEntity("Test CERT", "", "csaf@example.org", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	})
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return testKey
}

func newProvider(t *testing.T) *provider {
	p := &provider{
		t:         t,
		files:     map[string]*fakeFile{},
		redirects: map[string]string{},
		docs: []fakeDoc{
			{id: "TEST-2024-0001", tlp: "WHITE", initial: "2024-03-01T10:00:00Z", current: "2024-03-05T08:00:00.123Z"},
			// The UTC year of initial_release_date is 2025; changes.csv
			// writes current_release_date in UTC.
			{id: "Test-2024:0002", tlp: "WHITE", initial: "2024-12-31T23:30:00-02:00", current: "2025-01-06T09:00:00+01:00"},
			{id: "TEST-2024-0003", tlp: "AMBER", initial: "2024-06-01T00:00:00Z", current: "2024-06-01T00:00:00Z"},
		},
	}
	p.srv = httptest.NewTLSServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	f, ok := p.files[r.URL.Path]
	to, redirect := p.redirects[r.URL.Path]
	p.mu.Unlock()
	switch {
	case redirect:
		http.Redirect(w, r, to, http.StatusFound)
	case !ok:
		http.NotFound(w, r)
	case f.protected && r.Header.Get("Authorization") != "Bearer "+token:
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	default:
		w.Header().Set("Content-Type", f.ctype)
		w.Write(f.body)
	}
}

func (p *provider) put(path string, body []byte, ctype string, protected bool) {
	p.files[path] = &fakeFile{body: body, ctype: ctype, protected: protected}
}

func (p *provider) putJSON(path string, v any, protected bool) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		p.t.Fatal(err)
	}
	p.put(path, b, "application/json", protected)
}

func sign(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&b, signingKey(t), bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustTime(t *testing.T, s string) time.Time {
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// build writes every file of the provider.
func (p *provider) build() {
	t := p.t
	base := p.srv.URL
	key := signingKey(t)
	fpr := strings.ToUpper(hex.EncodeToString(key.PrimaryKey.Fingerprint))

	var pub bytes.Buffer
	aw, err := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := key.Serialize(aw); err != nil {
		t.Fatal(err)
	}
	aw.Close()
	p.put("/.well-known/csaf/openpgp/"+fpr+".asc", pub.Bytes(), "application/pgp-keys", false)

	type entry = map[string]any
	feeds := map[string][]entry{}
	folders := map[string]map[string]bool{} // white year folder → file names
	type change struct {
		rel string
		t   time.Time
	}
	var index []string
	var changes []change
	p.paths = nil
	for _, d := range p.docs {
		folder := d.folder
		if folder == "" {
			folder = fmt.Sprint(mustTime(t, d.initial).UTC().Year())
		}
		name := d.name
		if name == "" {
			name = FileName(d.id)
		}
		tlpDir := strings.ToLower(d.tlp)
		if d.tlp != "AMBER" {
			tlpDir = "white"
		}
		rel := folder + "/" + name
		path := "/.well-known/csaf/" + tlpDir + "/" + rel
		p.paths = append(p.paths, path)
		version := "2.0"
		if d.invalid {
			version = "2.1"
		}
		doc := map[string]any{"document": map[string]any{
			"category":     "csaf_base",
			"csaf_version": version,
			"distribution": map[string]any{"tlp": map[string]any{"label": d.tlp}},
			"publisher":    map[string]any{"category": "coordinator", "name": "Test CERT", "namespace": "https://cert.example.org"},
			"title":        "Advisory " + d.id,
			"tracking": map[string]any{
				"current_release_date": d.current,
				"id":                   d.id,
				"initial_release_date": d.initial,
				"revision_history":     []any{map[string]any{"date": d.current, "number": "1", "summary": "Initial version."}},
				"status":               "final",
				"version":              "1",
			},
		}}
		raw, _ := json.MarshalIndent(doc, "", "  ")
		protected := d.tlp == "AMBER"
		p.put(path, raw, "application/json", protected)
		s256, s512 := sha256.Sum256(raw), sha512.Sum512(raw)
		p.put(path+".sha256", []byte(hex.EncodeToString(s256[:])+"  "+name+"\n"), "text/plain", protected)
		p.put(path+".sha512", []byte(hex.EncodeToString(s512[:])+"  "+name+"\n"), "text/plain", protected)
		p.put(path+".asc", sign(t, raw), "application/pgp-signature", protected)

		links := []any{
			map[string]any{"rel": "self", "href": base + path},
			map[string]any{"rel": "hash", "href": base + path + ".sha256"},
			map[string]any{"rel": "hash", "href": base + path + ".sha512"},
		}
		if !d.noSigLink {
			links = append(links, map[string]any{"rel": "signature", "href": base + path + ".asc"})
		}
		feeds[tlpDir] = append(feeds[tlpDir], entry{
			"id": d.id, "title": "Advisory " + d.id, "link": links,
			"published": d.initial, "updated": d.current,
			"content": map[string]any{"type": "application/json", "src": base + path},
			"format":  map[string]any{"schema": csafSchemaURL, "version": "2.0"},
		})
		if tlpDir == "white" {
			index = append(index, rel)
			changes = append(changes, change{rel, mustTime(t, d.current)})
			if folders[folder] == nil {
				folders[folder] = map[string]bool{}
			}
			folders[folder][name] = true
		}
	}

	// Directory distribution (WHITE).
	p.put("/.well-known/csaf/white/index.txt", []byte(strings.Join(index, "\n")+"\n"), "text/plain", false)
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].t.After(changes[j].t) })
	var csv strings.Builder
	for _, c := range changes {
		fmt.Fprintf(&csv, "%q,%q\n", c.rel, c.t.UTC().Format(time.RFC3339Nano))
	}
	p.put("/.well-known/csaf/white/changes.csv", []byte(csv.String()), "text/csv", false)
	var top strings.Builder
	top.WriteString("<html><body><a href=\"../\">../</a>\n<a href=\"index.txt\">index.txt</a>\n")
	for _, y := range slices.Sorted(mapKeysOf(folders)) {
		fmt.Fprintf(&top, "<a href=\"%s/\">%s/</a>\n", y, y)
		var l strings.Builder
		l.WriteString("<html><body><a href=\"../\">../</a>\n")
		for _, n := range slices.Sorted(mapKeysOf(folders[y])) {
			for _, ext := range []string{"", ".sha256", ".sha512", ".asc"} {
				fmt.Fprintf(&l, "<a href='%s%s'>%s%s</a>\n", n, ext, n, ext)
			}
		}
		l.WriteString("</body></html>")
		p.put("/.well-known/csaf/white/"+y+"/", []byte(l.String()), "text/html; charset=utf-8", false)
	}
	top.WriteString("</body></html>")
	p.put("/.well-known/csaf/white/", []byte(top.String()), "text/html; charset=utf-8", false)

	// ROLIE.
	feedURL := map[string]string{}
	for _, tlp := range []string{"white", "amber"} {
		u := base + "/.well-known/csaf/" + tlp + "/csaf-feed-tlp-" + tlp + ".json"
		feedURL[tlp] = u
		p.putJSON(strings.TrimPrefix(u, base), map[string]any{"feed": map[string]any{
			"id":       "test-csaf-feed-tlp-" + tlp,
			"title":    "Test CERT CSAF feed (TLP:" + strings.ToUpper(tlp) + ")",
			"link":     []any{map[string]any{"rel": "self", "href": u}},
			"category": []any{map[string]any{"scheme": rolieInfoScheme, "term": "csaf"}},
			"updated":  "2025-01-06T08:00:00Z",
			"entry":    feeds[tlp],
		}}, tlp == "amber")
	}
	p.putJSON("/.well-known/csaf/service.json", map[string]any{"service": map[string]any{"workspace": []any{map[string]any{
		"title": "CSAF feeds",
		"collection": []any{
			map[string]any{"title": "TLP:WHITE", "href": feedURL["white"], "categories": map[string]any{"category": []any{map[string]any{"scheme": rolieInfoScheme, "term": "csaf"}}}},
			map[string]any{"title": "TLP:AMBER", "href": feedURL["amber"], "categories": map[string]any{"category": []any{map[string]any{"scheme": rolieInfoScheme, "term": "csaf"}}}},
		},
	}}}}, false)
	p.putJSON("/.well-known/csaf/white/category-white.json", map[string]any{"categories": map[string]any{"category": []any{
		map[string]any{"term": "csaf_base"},
	}}}, false)

	// provider-metadata.json and security.txt.
	pmdURL := base + wellKnownPath
	dists := []any{map[string]any{"directory_url": base + "/.well-known/csaf/white/"}}
	if !p.noROLIE {
		dists = append(dists, map[string]any{"rolie": map[string]any{
			"feeds": []any{
				map[string]any{"summary": "TLP:WHITE advisories", "tlp_label": "WHITE", "url": feedURL["white"]},
				map[string]any{"summary": "TLP:AMBER advisories", "tlp_label": "AMBER", "url": feedURL["amber"]},
			},
			"services":   []any{base + "/.well-known/csaf/service.json"},
			"categories": []any{base + "/.well-known/csaf/white/category-white.json"},
		}})
	}
	listedFpr := fpr
	if p.keyFpr != "" {
		listedFpr = p.keyFpr
	}
	p.putJSON(wellKnownPath, map[string]any{
		"canonical_url":              pmdURL,
		"distributions":              dists,
		"last_updated":               "2025-01-06T08:00:00Z",
		"list_on_CSAF_aggregators":   true,
		"metadata_version":           "2.0",
		"mirror_on_CSAF_aggregators": true,
		"public_openpgp_keys":        []any{map[string]any{"fingerprint": listedFpr, "url": base + "/.well-known/csaf/openpgp/" + fpr + ".asc"}},
		"publisher":                  map[string]any{"category": "coordinator", "name": "Test CERT", "namespace": "https://cert.example.org"},
		"role":                       "csaf_trusted_provider",
	}, false)
	p.put("/.well-known/security.txt", []byte("Contact: mailto:csaf@example.org\nCSAF: "+pmdURL+"\nExpires: 2030-01-01T00:00:00Z\n"), "text/plain", false)
}

func mapKeysOf[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// validate is the test's requirement-1 validator.
func validate(doc []byte) []string {
	var d struct {
		Document struct {
			Version string `json:"csaf_version"`
		} `json:"document"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return []string{err.Error()}
	}
	if d.Document.Version != "2.0" {
		return []string{"schema: /document/csaf_version must be \"2.0\""}
	}
	return nil
}

func (p *provider) check(withToken bool) *Report {
	p.t.Helper()
	opt := Options{Client: p.srv.Client(), Validate: validate}
	if withToken {
		opt.Header = http.Header{"Authorization": {"Bearer " + token}}
	}
	rep, err := Check(p.t.Context(), p.srv.URL, opt)
	if err != nil {
		p.t.Fatalf("Check = %v", err)
	}
	return rep
}

// notPassed lists the requirements that did not pass, without 10 (the DNS
// path never resolves for 127.0.0.1).
func notPassed(r *Report) []int {
	var out []int
	for _, q := range r.Requirements {
		if !q.Passed && q.Num != 10 {
			out = append(out, q.Num)
		}
	}
	return out
}

func nums(rs []Requirement) []int {
	out := []int{}
	for _, r := range rs {
		out = append(out, r.Num)
	}
	return out
}

func dump(r *Report) string {
	var b strings.Builder
	for _, q := range r.Requirements {
		for _, m := range q.Messages {
			if m.Level != LevelInfo || !q.Passed {
				fmt.Fprintf(&b, "  %2d %-7s %s\n", q.Num, m.Level, m.Text)
			}
		}
	}
	return b.String()
}

func TestCleanProvider(t *testing.T) {
	p := newProvider(t)
	p.build()
	rep := p.check(true)
	if got := notPassed(rep); len(got) != 0 {
		t.Fatalf("clean provider: requirements %v did not pass\n%s", got, dump(rep))
	}
	if f := rep.Failed(); len(f) != 0 {
		t.Errorf("Failed() = %v", nums(f))
	}
	if rep.Documents != 3 || rep.Role != RoleTrustedProvider || len(rep.Requirements) != 20 {
		t.Errorf("documents %d, role %q, %d requirements", rep.Documents, rep.Role, len(rep.Requirements))
	}
	if q := rep.Requirements[9]; q.Num != 10 || q.Passed {
		t.Errorf("requirement 10 on an IP address: %+v", q)
	}
	// The AMBER document was checked with the token: no warning about
	// the feed.
	for _, m := range rep.Requirements[14].Messages {
		if m.Level != LevelInfo {
			t.Errorf("requirement 15: %v", m)
		}
	}
}

func TestMutations(t *testing.T) {
	white1 := func(p *provider) string { return p.paths[0] }
	for _, c := range []struct {
		name       string
		pre, post  func(p *provider)
		noToken    bool
		want       []int // requirements not passed (10 aside)
		wantFailed []int // Failed(); nil = same as want
		wantText   string
	}{
		{name: "wrong hash", post: func(p *provider) {
			p.files[white1(p)+".sha256"].body = []byte(strings.Repeat("ab", 32) + "  x.json\n")
		}, want: []int{18}, wantText: "does not match"},
		{name: "missing hash files", post: func(p *provider) {
			delete(p.files, white1(p)+".sha256")
			delete(p.files, white1(p)+".sha512")
		}, want: []int{18}, wantText: "cannot be retrieved"},
		{name: "bad signature", post: func(p *provider) {
			p.files[white1(p)+".asc"].body = sign(p.t, []byte("other bytes"))
		}, want: []int{19}, wantText: "does not verify"},
		{name: "missing signature", post: func(p *provider) {
			delete(p.files, white1(p)+".asc")
		}, want: []int{19}, wantText: "has no signature"},
		{name: "wrong file name", pre: func(p *provider) {
			p.docs[0].name = "acme-2024-0001.json"
		}, want: []int{2}, wantText: "does not match the tracking id"},
		{name: "wrong year folder", pre: func(p *provider) {
			p.docs[0].folder = "2023"
		}, want: []int{11}, wantText: "is in the folder 2023"},
		{name: "changes.csv out of order", post: func(p *provider) {
			f := p.files["/.well-known/csaf/white/changes.csv"]
			lines := strings.Split(strings.TrimSpace(string(f.body)), "\n")
			slices.Reverse(lines)
			f.body = []byte(strings.Join(lines, "\n") + "\n")
		}, want: []int{13}, wantText: "newest first"},
		{name: "changes.csv wrong time", post: func(p *provider) {
			f := p.files["/.well-known/csaf/white/changes.csv"]
			f.body = bytes.Replace(f.body, []byte("2024-03-05T08:00:00.123Z"), []byte("2024-03-05T08:00:00Z"), 1)
		}, want: []int{13}, wantText: "current_release_date is"},
		{name: "changes.csv header", post: func(p *provider) {
			f := p.files["/.well-known/csaf/white/changes.csv"]
			f.body = append([]byte("\"path\",\"time\"\n"), f.body...)
		}, want: []int{13}, wantText: "no header"},
		{name: "missing from index.txt", post: func(p *provider) {
			f := p.files["/.well-known/csaf/white/index.txt"]
			f.body = []byte(strings.Replace(string(f.body), "2024/test-2024-0001.json\n", "", 1))
		}, want: []int{12}, wantText: "missing from"},
		{name: "missing from listing", post: func(p *provider) {
			f := p.files["/.well-known/csaf/white/2024/"]
			f.body = []byte(strings.Replace(string(f.body), "<a href='test-2024-0001.json'>", "<span>", 1))
		}, want: []int{14}, wantText: "not linked from the listing"},
		{name: "wrong content type", post: func(p *provider) {
			p.files[white1(p)].ctype = "application/json; charset=utf-8"
		}, want: []int{1}, wantText: "not application/json"},
		{name: "invalid document", pre: func(p *provider) {
			p.docs[0].invalid = true
		}, want: []int{1}, wantText: "csaf_version"},
		{name: "AMBER without credentials", post: func(p *provider) {
			p.files[p.paths[2]].protected = false
		}, want: []int{5}, wantText: "is not access protected"},
		{name: "http in security.txt", post: func(p *provider) {
			f := p.files["/.well-known/security.txt"]
			f.body = bytes.Replace(f.body, []byte("CSAF: https://"), []byte("CSAF: http://"), 1)
		}, want: []int{3, 8}, wantFailed: []int{3}, wantText: "not an https URL"},
		{name: "feed entry without signature link", pre: func(p *provider) {
			p.docs[0].noSigLink = true
		}, want: []int{15}, wantText: `no link with rel "signature"`},
		{name: "document above the feed's TLP", pre: func(p *provider) {
			p.docs[0].tlp = "GREEN"
		}, want: []int{15}, wantText: "above the label"},
		{name: "wrong key fingerprint", pre: func(p *provider) {
			p.keyFpr = strings.Repeat("A", 40)
		}, want: []int{19, 20}, wantText: "but provider-metadata.json says"},
		{name: "directory only", pre: func(p *provider) {
			p.noROLIE = true
		}, want: []int{15}, wantFailed: []int{}, wantText: "lists no ROLIE feed"},
		{name: "no credentials", noToken: true, want: []int{}, wantText: "access protected"},
		{name: "redirect", post: func(p *provider) {
			f := p.files["/.well-known/security.txt"]
			f.body = bytes.Replace(f.body, []byte("/.well-known/csaf/provider-metadata.json"), []byte("/pmd"), 1)
			p.redirects["/pmd"] = wellKnownPath
		}, want: []int{}, wantText: "redirect from"},
		{name: "no provider-metadata.json", post: func(p *provider) {
			delete(p.files, wellKnownPath)
		}, want: []int{1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20},
			wantFailed: []int{1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, wantText: "no provider-metadata.json found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newProvider(t)
			if c.pre != nil {
				c.pre(p)
			}
			p.build()
			if c.post != nil {
				c.post(p)
			}
			rep := p.check(!c.noToken)
			got := notPassed(rep)
			if got == nil {
				got = []int{}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("not passed %v, want %v\n%s", got, c.want, dump(rep))
			}
			wantFailed := c.wantFailed
			if wantFailed == nil {
				wantFailed = c.want
			}
			if f := nums(rep.Failed()); !slices.Equal(f, wantFailed) {
				t.Errorf("Failed() = %v, want %v", f, wantFailed)
			}
			found := false
			for _, q := range rep.Requirements {
				for _, m := range q.Messages {
					found = found || strings.Contains(m.Text, c.wantText)
				}
			}
			if !found {
				t.Errorf("no message contains %q\n%s", c.wantText, dump(rep))
			}
		})
	}
}

func TestFileName(t *testing.T) {
	for id, want := range map[string]string{
		"RHSA-2019:1862":   "rhsa-2019_1862.json",
		"2022_#01-A":       "2022_01-a.json",
		"BSI-2022-0001":    "bsi-2022-0001.json",
		"a  b//c+d":        "a_b_c+d.json",
		"ÄÖ-1":             "_-1.json",
		"cisco-sa-2018 xx": "cisco-sa-2018_xx.json",
	} {
		if got := FileName(id); got != want {
			t.Errorf("FileName(%q) = %q, want %q", id, got, want)
		}
	}
}

// TestFailedRoles evaluates the rule tree of section 7.2 per role.
func TestFailedRoles(t *testing.T) {
	rep := func(role string, failing ...int) *Report {
		r := &Report{Role: role}
		for n := 1; n <= 20; n++ {
			r.Requirements = append(r.Requirements, Requirement{Num: n, Passed: !slices.Contains(failing, n)})
		}
		return r
	}
	for _, c := range []struct {
		r    *Report
		want []int
	}{
		{rep(RolePublisher, 5, 8, 9, 10, 18), []int{}},
		{rep(RolePublisher, 2), []int{2}},
		{rep(RoleProvider, 8, 10, 18, 19, 20), []int{}},
		{rep(RoleProvider, 8, 9, 10), []int{8, 9, 10}},
		{rep(RoleProvider, 12, 16), []int{12, 16}},
		{rep(RoleProvider, 15), []int{}},
		{rep(RoleTrustedProvider, 15, 19), []int{19}},
		{rep("", 20), []int{20}},
	} {
		if got := nums(c.r.Failed()); !slices.Equal(got, c.want) {
			t.Errorf("%s failing %v: Failed() = %v, want %v", c.r.Role, notPassed(c.r), got, c.want)
		}
	}
	// With the distributions known, each one in use must be complete.
	r := rep(RoleTrustedProvider, 11)
	r.dirUsed, r.rolieUsed = true, true
	if got := nums(r.Failed()); !slices.Equal(got, []int{11}) {
		t.Errorf("both distributions, 11 failing: %v", got)
	}
}
