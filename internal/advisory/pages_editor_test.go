package advisory

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/errs"
)

// fieldsOf lists the fields of an Invalid error, or fails.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid {
		t.Fatalf("error = %v, want Invalid", err)
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestAddProductMergesBranches(t *testing.T) {
	d := &csaf.Document{}
	for i, in := range []productInput{
		{Vendor: "Example Networks", Product: "Example Gateway", Version: "4.2.1", CPE: "cpe:2.3:h:example:gateway:4.2.1:*:*:*:*:*:*:*"},
		{Vendor: "example networks", Product: "Example Gateway", Version: "4.2.2", PURL: "pkg:generic/example/gateway@4.2.2"},
		{Vendor: "Example Networks", Product: "Example Switch", Version: "1.0"},
		{Vendor: "Other Vendor", Product: "Thing", Version: "2"},
	} {
		id, err := addProduct(d, in)
		if err != nil {
			t.Fatalf("addProduct(%+v) = %v", in, err)
		}
		if want := []string{"CSAFPID-0001", "CSAFPID-0002", "CSAFPID-0003", "CSAFPID-0004"}[i]; id != want {
			t.Errorf("product %d got id %s, want %s", i, id, want)
		}
	}
	bs := d.ProductTree.Branches
	if len(bs) != 2 || bs[0].Name != "Example Networks" || bs[1].Name != "Other Vendor" {
		t.Fatalf("vendors = %+v, want Example Networks and Other Vendor", bs)
	}
	if len(bs[0].Branches) != 2 || len(bs[0].Branches[0].Branches) != 2 {
		t.Fatalf("Example Networks' branches = %+v, want two products, the first with two versions", bs[0].Branches)
	}
	leaf := bs[0].Branches[0].Branches[1]
	if leaf.Category != "product_version" || leaf.Name != "4.2.2" || leaf.Product.Name != "Example Networks Example Gateway 4.2.2" ||
		leaf.Product.ProductIdentificationHelper.PURL != "pkg:generic/example/gateway@4.2.2" {
		t.Errorf("leaf = %+v %+v", leaf, leaf.Product)
	}
	rows := productRows(d)
	if len(rows) != 4 || rows[0].Vendor != "Example Networks" || rows[0].Product != "Example Gateway" || rows[0].Version != "4.2.1" ||
		rows[0].CPE == "" {
		t.Errorf("rows = %+v", rows)
	}
	// A second copy, and a product without its facts, are refused.
	_, err := addProduct(d, productInput{Vendor: "EXAMPLE NETWORKS", Product: "example gateway", Version: "4.2.1"})
	if f := fieldsOf(t, err); !slices.Equal(f, []string{"version"}) {
		t.Errorf("duplicate: fields %v, want [version]", f)
	}
	_, err = addProduct(d, productInput{CPE: "cpe-2.3", PURL: "npm:x"})
	if f := fieldsOf(t, err); !slices.Equal(f, []string{"vendor", "product", "version", "cpe", "purl"}) {
		t.Errorf("empty: fields %v", f)
	}
}

func TestNextProductID(t *testing.T) {
	d := &csaf.Document{ProductTree: &csaf.ProductTree{
		FullProductNames: []csaf.FullProductName{{Name: "A", ProductID: "CSAFPID-0007"}, {Name: "B", ProductID: "EG-1"}}}}
	if got := nextProductID(d); got != "CSAFPID-0008" {
		t.Errorf("nextProductID = %s, want CSAFPID-0008", got)
	}
	if got := nextProductID(&csaf.Document{}); got != "CSAFPID-0001" {
		t.Errorf("nextProductID(empty) = %s, want CSAFPID-0001", got)
	}
}

func TestRemoveProduct(t *testing.T) {
	d := &csaf.Document{}
	for _, v := range []string{"1", "2"} {
		if _, err := addProduct(d, productInput{Vendor: "V", Product: "P", Version: v}); err != nil {
			t.Fatal(err)
		}
	}
	d.Vulnerabilities = []csaf.Vulnerability{{CVE: "CVE-2026-0001", ProductStatus: &csaf.ProductStatus{KnownAffected: []string{"CSAFPID-0001"}}}}
	err := removeProduct(d, "CSAFPID-0001")
	if e, ok := errs.As(err); !ok || len(e.Fields) != 1 || e.Fields[0].Code != "err.advedit.product_in_use" || e.Fields[0].Args["users"] != "CVE-2026-0001" {
		t.Fatalf("remove a product in use = %v", err)
	}
	if err := removeProduct(d, "CSAFPID-0002"); err != nil {
		t.Fatal(err)
	}
	if rows := productRows(d); len(rows) != 1 || rows[0].ID != "CSAFPID-0001" {
		t.Errorf("after removal: %+v", rows)
	}
	d.Vulnerabilities = nil
	if err := removeProduct(d, "CSAFPID-0001"); err != nil {
		t.Fatal(err)
	}
	if d.ProductTree != nil {
		t.Errorf("the empty tree stays: %+v", d.ProductTree)
	}
	if f := fieldsOf(t, removeProduct(d, "CSAFPID-0001")); !slices.Equal(f, []string{"product_id"}) {
		t.Errorf("unknown product: fields %v", f)
	}
}

const vector31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"

func TestApplyVuln(t *testing.T) {
	d := &csaf.Document{}
	for _, v := range []string{"4.2.1", "4.2.2"} {
		if _, err := addProduct(d, productInput{Vendor: "V", Product: "P", Version: v}); err != nil {
			t.Fatal(err)
		}
	}
	products := productRows(d)
	f := url.Values{"cve": {"CVE-26-1"}, "cwe_id": {"79x"}, "cvss3": {"CVSS:3.1/AV:N"}, "cvss4": {vector31}, "products": {"2"},
		"ps-0-id": {"CSAFPID-0001"}, "ps-0": {"broken"}, "rems": {"1"}, "rem-0-details": {"Update."}, "rem-0-url": {"ftp://x"}}
	var v csaf.Vulnerability
	got := fieldsOf(t, applyVuln(&v, f, products))
	for _, want := range []string{"cve", "cwe_id", "cvss3", "cvss4", "ps-0", "rem-0-category", "rem-0-url"} {
		if !slices.Contains(got, want) {
			t.Errorf("fields %v lack %s", got, want)
		}
	}
	if v.CVE != "" {
		t.Error("a refused form changed the vulnerability")
	}
	// Without a known affected product, a score has nothing to apply to.
	f = url.Values{"cvss3": {vector31}, "products": {"2"}, "ps-0-id": {"CSAFPID-0001"}, "ps-0": {"fixed"}}
	if got := fieldsOf(t, applyVuln(&v, f, products)); !slices.Equal(got, []string{"cvss3"}) {
		t.Errorf("score without affected products: fields %v", got)
	}

	f = url.Values{"cve": {" cve-2026-12345 "}, "title": {"RCE"}, "cwe_id": {"CWE-79"}, "cwe_name": {"Cross-site Scripting"},
		"description": {"Runs code."}, "cvss3": {vector31}, "cvss4": {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"},
		"products": {"2"}, "ps-0-id": {"CSAFPID-0001"}, "ps-0": {"known_affected"}, "ps-1-id": {"CSAFPID-0002"}, "ps-1": {"fixed"},
		"rems": {"2"}, "rem-0-category": {"vendor_fix"}, "rem-0-details": {"Update to 4.2.2."}, "rem-0-url": {"https://vendor.example/fix"},
		"impact": {"Full compromise."}}
	if err := applyVuln(&v, f, products); err != nil {
		t.Fatal(err)
	}
	if v.CVE != "CVE-2026-12345" || v.CWE == nil || v.CWE.ID != "CWE-79" ||
		v.CWE.Name != "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')" {
		// The name comes from the CWE List, whatever was typed.
		t.Errorf("CVE %q CWE %+v", v.CVE, v.CWE)
	}
	if ps := v.ProductStatus; ps == nil || !slices.Equal(ps.KnownAffected, []string{"CSAFPID-0001"}) || !slices.Equal(ps.Fixed, []string{"CSAFPID-0002"}) {
		t.Errorf("product status %+v", v.ProductStatus)
	}
	if len(v.Scores) != 1 || v.Scores[0].CVSSv3["baseScore"] != 9.8 || !slices.Equal(v.Scores[0].Products, []string{"CSAFPID-0001"}) {
		t.Errorf("scores %+v", v.Scores)
	}
	if cvss4Vector(v) != "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N" || noteOf(v.Notes, "description") != "Runs code." {
		t.Errorf("notes %+v", v.Notes)
	}
	if len(v.Remediations) != 1 || !slices.Equal(v.Remediations[0].ProductIDs, []string{"CSAFPID-0001"}) || v.Remediations[0].URL == "" {
		t.Errorf("remediations %+v", v.Remediations)
	}
	if len(v.Threats) != 1 || v.Threats[0].Category != "impact" {
		t.Errorf("threats %+v", v.Threats)
	}
	// The form of the saved vulnerability saves the same vulnerability.
	again := v
	again.Notes = slices.Clone(v.Notes)
	if err := applyVuln(&again, vulnForm(v, products), products); err != nil {
		t.Fatal(err)
	}
	a, _ := csaf.Canonical(again)
	b, _ := csaf.Canonical(v)
	if string(a) != string(b) {
		t.Errorf("round trip changed the vulnerability:\n%s\nwant\n%s", a, b)
	}
	// Emptied, the CVSS v4 note, the score and the status go.
	if err := applyVuln(&v, url.Values{"products": {"2"}, "ps-0-id": {"CSAFPID-0001"}, "ps-1-id": {"CSAFPID-0002"}}, products); err != nil {
		t.Fatal(err)
	}
	if v.ProductStatus != nil || len(v.Scores) != 0 || len(v.Notes) != 0 || len(v.Remediations) != 0 || len(v.Threats) != 0 {
		t.Errorf("emptied vulnerability %+v", v)
	}
}

func TestApplyDocument(t *testing.T) {
	d := &csaf.Document{Document: csaf.DocumentMeta{Title: "Old", Lang: "en", Category: "csaf_security_advisory",
		Distribution: &csaf.Distribution{TLP: &csaf.TLP{Label: "WHITE"}},
		Notes:        []csaf.Note{{Category: "legal_disclaimer", Text: "Kept."}},
		References:   []csaf.Reference{{Category: "external", Summary: "Old link", URL: "https://old.example/"}}}}
	f := documentForm(d)
	if f.Get("refs") != "2" || f.Get("ref-0-url") != "https://old.example/" || f.Get("tlp") != "WHITE" || f.Get("acks") != "1" {
		t.Fatalf("form %v", f)
	}
	f.Set("title", " ")
	f.Set("ref-1-url", "vendor.example")
	got := fieldsOf(t, applyDocument(d, f))
	if !slices.Equal(got, []string{"title", "summary", "ref-1-url", "ref-1-summary"}) {
		t.Errorf("fields %v", got)
	}
	f.Set("title", "New title")
	f.Set("tlp", "AMBER")
	f.Set("summary", "What happens.")
	f.Set("ref-0-remove", "yes")
	f.Set("ref-1-url", "https://vendor.example/sa")
	f.Set("ref-1-summary", "Vendor advisory")
	f.Set("ack-0-names", "Alice, , Bob")
	if err := applyDocument(d, f); err != nil {
		t.Fatal(err)
	}
	m := d.Document
	if m.Title != "New title" || m.Distribution.TLP.Label != "AMBER" || noteOf(m.Notes, "summary") != "What happens." ||
		noteOf(m.Notes, "legal_disclaimer") != "Kept." || noteOf(m.Notes, "details") != "" {
		t.Errorf("document %+v", m)
	}
	if len(m.References) != 1 || m.References[0].URL != "https://vendor.example/sa" || m.References[0].Category != "external" {
		t.Errorf("references %+v", m.References)
	}
	if len(m.Acknowledgments) != 1 || !slices.Equal(m.Acknowledgments[0].Names, []string{"Alice", "Bob"}) {
		t.Errorf("acknowledgments %+v", m.Acknowledgments)
	}
}

func TestParseWhen(t *testing.T) {
	zone, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}
	if at, err := parseWhen("now", "ignored", zone); at != nil || err != nil {
		t.Errorf("now = %v, %v", at, err)
	}
	at, err := parseWhen("at", " 2026-12-01  09:00 ", zone)
	if err != nil || !at.Equal(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("winter time = %v, %v; want 08:00 UTC", at, err)
	}
	at, err = parseWhen("at", "2026-7-1T09:30", zone)
	if err != nil || !at.Equal(time.Date(2026, 7, 1, 7, 30, 0, 0, time.UTC)) {
		t.Errorf("summer time = %v, %v; want 07:30 UTC", at, err)
	}
	for _, c := range []struct{ when, at, field string }{{"", "", "when"}, {"at", "", "publish_at"}, {"at", "1 December 9:00", "publish_at"}} {
		if _, err := parseWhen(c.when, c.at, zone); !slices.Equal(fieldsOf(t, err), []string{c.field}) {
			t.Errorf("parseWhen(%q, %q) = %v, want an error on %s", c.when, c.at, err, c.field)
		}
	}
}

func TestSplitEmails(t *testing.T) {
	got := splitEmails("a@x.example, b@y.example;\n<c@z.example>  a@x.example")
	if want := []string{"a@x.example", "b@y.example", "c@z.example"}; !slices.Equal(got, want) {
		t.Errorf("splitEmails = %v, want %v", got, want)
	}
}
