package advisory

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/store"
)

// pubFill is fill with another vendor, product, CVE and CVSS v3.1 vector.
func pubFill(vendor, product, cve, vector string) func(*csaf.Document) error {
	return func(d *csaf.Document) error {
		if err := fill(d); err != nil {
			return err
		}
		cv, err := csaf.CVSS3JSON(vector)
		if err != nil {
			return err
		}
		d.ProductTree.Branches[0].Name = vendor
		d.ProductTree.Branches[0].Branches[0].Name = product
		d.Vulnerabilities[0].CVE = cve
		d.Vulnerabilities[0].Scores[0].CVSSv3 = cv
		return nil
	}
}

// pubPublish writes, reviews and publishes an advisory an hour after the
// previous one, and returns its tracking id.
func pubPublish(t *testing.T, f *fixture, title, tlp string, orgs []int64, edit func(*csaf.Document) error) string {
	t.Helper()
	f.now = f.now.Add(time.Hour)
	a, err := f.svc.Create(f.authorCtx, NewInput{Title: title, Lang: "en", TLP: tlp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Edit(f.authorCtx, a.ID, edit); err != nil {
		t.Fatal(err)
	}
	if orgs != nil {
		if _, err := f.svc.SetRecipients(f.authorCtx, a.ID, orgs, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Submit(f.authorCtx, a.ID, SubmitInput{Status: "final"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Approve(f.revCtx, a.ID, nil); err != nil {
		t.Fatalf("publish %s: %v", title, err)
	}
	return a.TrackingID
}

const (
	pubCritical = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
	pubMedium   = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"
)

func pubIDs(list []*Advisory) []string {
	var out []string
	for _, a := range list {
		out = append(out, a.TrackingID)
	}
	return out
}

func TestPublicListByReaderAndFilters(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		w1 := pubPublish(t, f, "Example Gateway: remote code execution", "WHITE", nil,
			pubFill("Example Networks", "Example Gateway", "CVE-2026-12345", pubCritical))
		w2 := pubPublish(t, f, "Other Router: information leak", "WHITE", nil,
			pubFill("Other Corp", "Other Router", "CVE-2026-22222", pubMedium))
		green := pubPublish(t, f, "Community advisory", "GREEN", nil,
			pubFill("Example Networks", "Example Gateway", "CVE-2026-33333", pubCritical))
		amber := pubPublish(t, f, "Restricted advisory", "AMBER", []int64{f.orgA},
			pubFill("Secret Vendor", "Secret Box", "CVE-2026-44444", pubMedium))

		cases := []struct {
			who  string
			ctx  context.Context
			filt ListFilter
			want []string
		}{
			{"anonymous", f.anonymous, ListFilter{}, []string{w2, w1}},
			{"member of the recipient", f.as(f.memberA), ListFilter{}, []string{amber, green, w2, w1}},
			{"member of another organisation", f.as(f.memberB), ListFilter{}, []string{green, w2, w1}},
			{"anonymous, by CVE", f.anonymous, ListFilter{CVE: "cve-2026-22222"}, []string{w2}},
			{"anonymous, by a restricted CVE", f.anonymous, ListFilter{CVE: "CVE-2026-44444"}, nil},
			{"member, by a restricted CVE", f.as(f.memberA), ListFilter{CVE: "CVE-2026-44444"}, []string{amber}},
			{"anonymous, by vendor", f.anonymous, ListFilter{Vendor: "example networks"}, []string{w1}},
			{"member, by vendor", f.as(f.memberB), ListFilter{Vendor: "Example Networks"}, []string{green, w1}},
			{"anonymous, by product", f.anonymous, ListFilter{Product: "Other Router"}, []string{w2}},
			{"anonymous, by severity", f.anonymous, ListFilter{Severity: "medium"}, []string{w2}},
			{"member, by severity", f.as(f.memberA), ListFilter{Severity: "medium"}, []string{amber, w2}},
			{"anonymous, by TLP", f.anonymous, ListFilter{TLP: "AMBER"}, nil},
			{"member, by TLP", f.as(f.memberA), ListFilter{TLP: "AMBER"}, []string{amber}},
			{"anonymous, by text", f.anonymous, ListFilter{Text: "router"}, []string{w2}},
		}
		for _, c := range cases {
			list, total, err := f.svc.List(c.ctx, c.filt)
			if err != nil {
				t.Fatalf("%s: %v", c.who, err)
			}
			if got := pubIDs(list); !slices.Equal(got, c.want) || total != len(c.want) {
				t.Errorf("%s: %v (total %d), want %v", c.who, got, total, c.want)
			}
		}

		// The rows' CVEs and products, and the filters' choices, follow
		// what the reader may see.
		list, _, _ := f.svc.List(f.anonymous, ListFilter{})
		rows, err := f.svc.pubRows(f.anonymous, list)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || !slices.Equal(rows[0].CVEs, []string{"CVE-2026-22222"}) ||
			!slices.Equal(rows[0].Products, []string{"Other Corp Other Router"}) {
			t.Errorf("rows = %+v", rows)
		}
		vendors, products, err := f.svc.pubNames(f.anonymous)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(vendors, []string{"Example Networks", "Other Corp"}) || slices.Contains(products, "Secret Box") {
			t.Errorf("anonymous filter choices: %v %v", vendors, products)
		}
		vendors, _, _ = f.svc.pubNames(f.as(f.memberA))
		if !slices.Contains(vendors, "Secret Vendor") {
			t.Errorf("the recipient's filter choices lack its AMBER advisory's vendor: %v", vendors)
		}
	})
}

func TestPublicViewModel(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		v4 := "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
		tid := pubPublish(t, f, "Example Gateway: remote code execution", "WHITE", nil, func(d *csaf.Document) error {
			if err := fill(d); err != nil {
				return err
			}
			v := &d.Vulnerabilities[0]
			v.Notes = append(v.Notes, csaf.Note{Category: "other", Title: "CVSS v4.0", Text: v4})
			v.CWE = &csaf.CWE{ID: "CWE-78", Name: "Improper Neutralization of Special Elements used in an OS Command ('OS Command Injection')"}
			d.Document.Acknowledgments = []csaf.Acknowledgment{{Names: []string{"Ada Lovelace"}, Organization: "Example Research"}}
			return nil
		})
		a, versions, err := f.svc.Public(f.anonymous, tid)
		if err != nil {
			t.Fatal(err)
		}
		latest, err := f.svc.VersionContent(f.anonymous, tid, 0)
		if err != nil {
			t.Fatal(err)
		}
		v, err := pubBuildView("fr", a, versions, latest)
		if err != nil {
			t.Fatal(err)
		}
		if v.Lang != "en" || len(v.Summary) != 1 || !strings.Contains(v.Summary[0].Text, "remote code execution") {
			t.Errorf("lang %q summary %+v", v.Lang, v.Summary)
		}
		wantProducts := []pubProduct{
			{Name: "Example Networks Example Gateway", Version: "4.2.1", Status: "known_affected", Vuln: "CVE-2026-12345"},
			{Name: "Example Networks Example Gateway", Version: "4.2.2", Status: "fixed", Vuln: "CVE-2026-12345"},
		}
		if !slices.Equal(v.Products, wantProducts) {
			t.Errorf("products = %+v", v.Products)
		}
		if len(v.Remedies) != 1 || v.Remedies[0].Category != "vendor_fix" || v.Remedies[0].Details != "Update to 4.2.2." ||
			!slices.Equal(v.Remedies[0].Products, []string{"Example Networks Example Gateway 4.2.1"}) {
			t.Errorf("remedies = %+v", v.Remedies)
		}
		if v.Top == nil || v.Top.Version != "3.1" || v.Top.Text != "9,8" || v.Top.Severity != "critical" || v.Top.Vector != pubCritical {
			t.Errorf("headline score = %+v", v.Top)
		}
		sc := v.Vulns[0].Scores
		if len(sc) != 2 || sc[1].Version != "4.0" || sc[1].Base != 9.3 || sc[1].Severity != "critical" || sc[1].Vector != v4 {
			t.Errorf("scores = %+v", sc)
		}
		for _, n := range v.Vulns[0].Notes {
			if n.Title == "CVSS v4.0" {
				t.Error("the CVSS v4.0 note is shown as prose")
			}
		}
		if !strings.HasPrefix(v.Vulns[0].CWE, "CWE-78 ") || !slices.Equal(v.Acks, []string{"Ada Lovelace, Example Research"}) {
			t.Errorf("cwe %q acks %v", v.Vulns[0].CWE, v.Acks)
		}
		if v.Downloads[0].URL != "/.well-known/csaf/white/2026/ccb-2026-0001.json" || v.Downloads[3].URL != v.Downloads[0].URL+".asc" ||
			v.Downloads[1].Hash != latest.SHA256 || v.Downloads[0].Size == "" {
			t.Errorf("downloads = %+v", v.Downloads)
		}
		if len(v.Versions) != 1 || len(v.History) != 1 || v.History[0].Number != "1" || v.Initial.IsZero() {
			t.Errorf("versions %d history %+v", len(v.Versions), v.History)
		}
	})
}

// pubAtom is what the tests read of the Atom feed.
type pubAtom struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Links   []struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	} `xml:"link"`
	Author struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Entries []struct {
		ID        string `xml:"id"`
		Title     string `xml:"title"`
		Updated   string `xml:"updated"`
		Published string `xml:"published"`
		Summary   string `xml:"summary"`
		Links     []struct {
			Rel  string `xml:"rel,attr"`
			Type string `xml:"type,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Category struct {
			Term string `xml:"term,attr"`
		} `xml:"category"`
	} `xml:"entry"`
}

// pubParseAtom checks that b is well-formed XML and reads it.
func pubParseAtom(t *testing.T, b []byte) pubAtom {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		if _, err := dec.Token(); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("the feed is not well-formed XML: %v\n%s", err, b)
		}
	}
	var feed pubAtom
	if err := xml.Unmarshal(b, &feed); err != nil {
		t.Fatal(err)
	}
	return feed
}

func TestAtomFeedOnlyWhite(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		empty, err := f.svc.AtomFeed(f.anonymous, "https://belfry.example", "en")
		if err != nil {
			t.Fatal(err)
		}
		if feed := pubParseAtom(t, empty); len(feed.Entries) != 0 || feed.Updated == "" || feed.ID == "" {
			t.Errorf("empty feed = %+v", feed)
		}
		white := pubPublish(t, f, "Example Gateway: remote code execution", "WHITE", nil,
			pubFill("Example Networks", "Example Gateway", "CVE-2026-12345", pubCritical))
		pubPublish(t, f, "Community advisory", "GREEN", nil, fill)
		pubPublish(t, f, "Restricted advisory", "AMBER", []int64{f.orgA}, fill)
		// Even the authority's staff get only the public advisories.
		for who, ctx := range map[string]context.Context{"anonymous": f.anonymous, "staff": f.as(f.auditor), "recipient": f.as(f.memberA)} {
			b, err := f.svc.AtomFeed(ctx, "https://belfry.example", "nl")
			if err != nil {
				t.Fatal(err)
			}
			feed := pubParseAtom(t, b)
			if len(feed.Entries) != 1 {
				t.Fatalf("%s: %d entries, want the WHITE one only", who, len(feed.Entries))
			}
			e := feed.Entries[0]
			if !strings.HasPrefix(e.ID, "tag:belfry.example,2026-11-28:advisory:") || e.Title != white+": Example Gateway: remote code execution" ||
				e.Category.Term != "critical" || !strings.Contains(e.Summary, "remote code execution") || e.Updated == "" || e.Published == "" {
				t.Errorf("%s: entry = %+v", who, e)
			}
			if e.Links[0].Rel != "alternate" || e.Links[0].Href != "https://belfry.example/nl/advisories/"+white {
				t.Errorf("%s: entry links = %+v", who, e.Links)
			}
			if feed.ID != "https://belfry.example/nl/advisories.atom" || feed.Updated != e.Updated || feed.Author.Name == "" ||
				feed.Links[0].Rel != "self" || feed.Links[0].Href != feed.ID {
				t.Errorf("%s: feed = %+v", who, feed)
			}
			if strings.Contains(string(b), "Restricted") || strings.Contains(string(b), "Community") {
				t.Errorf("%s: the feed shows a restricted advisory", who)
			}
		}
	})
}
