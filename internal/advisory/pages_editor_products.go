package advisory

// The editor's products page: the product tree as a list, a product added
// as branches vendor → product_name → product_version → product (merged
// into the vendor and product branches already there), and a product
// removed when no vulnerability names it.

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// productRow is a product of the tree as the editor lists it.
type productRow struct {
	ID      string
	Name    string
	Vendor  string
	Product string
	Version string
	CPE     string
	PURL    string
}

// productRows lists every product the document defines: the leaves of the
// branches (with their vendor, product name and version), then the full
// product names and the relationships' products.
func productRows(d *csaf.Document) []productRow {
	if d.ProductTree == nil {
		return nil
	}
	var out []productRow
	var walk func(bs []csaf.Branch, r productRow)
	walk = func(bs []csaf.Branch, r productRow) {
		for _, b := range bs {
			c := r
			switch b.Category {
			case "vendor":
				c.Vendor = b.Name
			case "product_name":
				c.Product = b.Name
			case "product_version", "product_version_range":
				c.Version = b.Name
			}
			if b.Product != nil {
				out = append(out, withProduct(c, b.Product))
			}
			walk(b.Branches, c)
		}
	}
	walk(d.ProductTree.Branches, productRow{})
	for i := range d.ProductTree.FullProductNames {
		out = append(out, withProduct(productRow{}, &d.ProductTree.FullProductNames[i]))
	}
	for i := range d.ProductTree.Relationships {
		out = append(out, withProduct(productRow{}, &d.ProductTree.Relationships[i].FullProductName))
	}
	return out
}

func withProduct(r productRow, p *csaf.FullProductName) productRow {
	r.ID, r.Name = p.ProductID, p.Name
	if h := p.ProductIdentificationHelper; h != nil {
		r.CPE, r.PURL = h.CPE, h.PURL
	}
	return r
}

var productIDRE = regexp.MustCompile(`^CSAFPID-(\d+)$`)

// nextProductID returns a readable product id the document does not use
// yet: CSAFPID-0001, CSAFPID-0002, … after the highest one in use.
func nextProductID(d *csaf.Document) string {
	used := map[string]bool{}
	n := 0
	for _, p := range productRows(d) {
		used[p.ID] = true
		if m := productIDRE.FindStringSubmatch(p.ID); m != nil {
			if k, err := strconv.Atoi(m[1]); err == nil && k > n {
				n = k
			}
		}
	}
	for {
		n++
		id := fmt.Sprintf("CSAFPID-%04d", n)
		if !used[id] {
			return id
		}
	}
}

// productInput is the add-a-product form.
type productInput struct {
	Vendor, Product, Version, CPE, PURL string
}

func productInputOf(f url.Values) productInput {
	return productInput{Vendor: strings.TrimSpace(f.Get("vendor")), Product: strings.TrimSpace(f.Get("product")),
		Version: strings.TrimSpace(f.Get("version")), CPE: strings.TrimSpace(f.Get("cpe")), PURL: strings.TrimSpace(f.Get("purl"))}
}

// addProduct adds a product to the tree under its vendor and product name
// branches, and returns its new product id.
func addProduct(d *csaf.Document, in productInput) (string, error) {
	var v errs.Validator
	v.Check(in.Vendor != "", "vendor", "err.advedit.vendor_missing")
	v.Check(in.Product != "", "product", "err.advedit.product_missing")
	v.Check(in.Version != "", "version", "err.advedit.version_missing")
	v.Check(in.CPE == "" || strings.HasPrefix(in.CPE, "cpe:2.3:") || strings.HasPrefix(strings.ToLower(in.CPE), "cpe:/"), "cpe", "err.advedit.cpe")
	v.Check(in.PURL == "" || strings.HasPrefix(in.PURL, "pkg:") && strings.Contains(in.PURL, "/"), "purl", "err.advedit.purl")
	for _, p := range productRows(d) {
		if strings.EqualFold(p.Vendor, in.Vendor) && strings.EqualFold(p.Product, in.Product) && strings.EqualFold(p.Version, in.Version) {
			v.Add("version", "err.advedit.product_exists", map[string]any{"name": p.Name})
			break
		}
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	id := nextProductID(d)
	if d.ProductTree == nil {
		d.ProductTree = &csaf.ProductTree{}
	}
	vendor := branch(&d.ProductTree.Branches, "vendor", in.Vendor)
	product := branch(&vendor.Branches, "product_name", in.Product)
	// The full name spells the vendor and product as their branches do.
	fpn := &csaf.FullProductName{Name: vendor.Name + " " + product.Name + " " + in.Version, ProductID: id}
	if in.CPE != "" || in.PURL != "" {
		fpn.ProductIdentificationHelper = &csaf.ProductIdentificationHelper{CPE: in.CPE, PURL: in.PURL}
	}
	product.Branches = append(product.Branches, csaf.Branch{Category: "product_version", Name: in.Version, Product: fpn})
	return id, nil
}

// branch returns the branch of category and name among bs (names compared
// without case), adding it when missing.
func branch(bs *[]csaf.Branch, category, name string) *csaf.Branch {
	for i := range *bs {
		if b := &(*bs)[i]; b.Category == category && strings.EqualFold(b.Name, name) && b.Product == nil {
			return b
		}
	}
	*bs = append(*bs, csaf.Branch{Category: category, Name: name})
	return &(*bs)[len(*bs)-1]
}

// productUsers names the vulnerabilities (CVE or title, else their number)
// and product groups that refer to product id.
func productUsers(d *csaf.Document, id string) []string {
	var out []string
	for i, v := range d.Vulnerabilities {
		if vulnRefers(v, id) {
			out = append(out, vulnLabel(v, i))
		}
	}
	if d.ProductTree != nil {
		for _, g := range d.ProductTree.ProductGroups {
			if slices.Contains(g.ProductIDs, id) {
				out = append(out, g.GroupID)
			}
		}
		for _, r := range d.ProductTree.Relationships {
			if r.ProductReference == id || r.RelatesToProductReference == id {
				out = append(out, r.FullProductName.ProductID)
			}
		}
	}
	return out
}

func vulnLabel(v csaf.Vulnerability, i int) string {
	switch {
	case v.CVE != "":
		return v.CVE
	case v.Title != "":
		return v.Title
	}
	return "#" + strconv.Itoa(i+1)
}

func vulnRefers(v csaf.Vulnerability, id string) bool {
	if ps := v.ProductStatus; ps != nil {
		for _, l := range [][]string{ps.FirstAffected, ps.FirstFixed, ps.Fixed, ps.KnownAffected, ps.KnownNotAffected, ps.LastAffected,
			ps.Recommended, ps.UnderInvestigation} {
			if slices.Contains(l, id) {
				return true
			}
		}
	}
	for _, s := range v.Scores {
		if slices.Contains(s.Products, id) {
			return true
		}
	}
	for _, r := range v.Remediations {
		if slices.Contains(r.ProductIDs, id) {
			return true
		}
	}
	for _, t := range v.Threats {
		if slices.Contains(t.ProductIDs, id) {
			return true
		}
	}
	for _, f := range v.Flags {
		if slices.Contains(f.ProductIDs, id) {
			return true
		}
	}
	return false
}

// removeProduct takes product id out of the branches, and the branches
// left empty by it; a product still referred to stays, with the reason.
func removeProduct(d *csaf.Document, id string) error {
	var name string
	for _, p := range productRows(d) {
		if p.ID == id {
			name = p.Name
		}
	}
	if name == "" {
		return errs.Field("product_id", "err.advedit.product_unknown", nil)
	}
	if users := productUsers(d, id); len(users) > 0 {
		return errs.Field("product_id", "err.advedit.product_in_use", map[string]any{"name": name, "users": strings.Join(users, ", ")})
	}
	t := d.ProductTree
	var found bool
	t.Branches, found = dropProduct(t.Branches, id)
	if !found {
		// A full product name outside the branches.
		t.FullProductNames = slices.DeleteFunc(t.FullProductNames, func(p csaf.FullProductName) bool { return p.ProductID == id })
		t.Relationships = slices.DeleteFunc(t.Relationships, func(r csaf.Relationship) bool { return r.FullProductName.ProductID == id })
	}
	if len(t.Branches) == 0 && len(t.FullProductNames) == 0 && len(t.ProductGroups) == 0 && len(t.Relationships) == 0 {
		d.ProductTree = nil
	}
	return nil
}

// dropProduct removes the branch carrying product id and the parents it
// leaves empty, and reports whether it was found.
func dropProduct(bs []csaf.Branch, id string) ([]csaf.Branch, bool) {
	for i := range bs {
		b := &bs[i]
		if b.Product != nil && b.Product.ProductID == id {
			if len(b.Branches) > 0 {
				b.Product = nil
				return bs, true
			}
			return slices.Delete(bs, i, i+1), true
		}
		var found bool
		if b.Branches, found = dropProduct(b.Branches, id); found {
			if len(b.Branches) == 0 && b.Product == nil {
				return slices.Delete(bs, i, i+1), true
			}
			return bs, true
		}
	}
	return bs, false
}

// ---- pages ----

func (h *handlers) productsPage(w http.ResponseWriter, r *http.Request) error {
	a, err := h.load(r)
	if err != nil {
		return err
	}
	return h.renderProducts(w, r, a, nil, nil)
}

func (h *handlers) renderProducts(w http.ResponseWriter, r *http.Request, a *Advisory, form url.Values, ferr error) error {
	d, err := a.Doc()
	if err != nil {
		return err
	}
	data := editData(r, a)
	data["Products"] = productRows(d)
	p := &web.Page{Title: h.t(r, "advedit.products.title", nil), Form: form, Data: data}
	return h.render(w, r, "adv_edit_products", p, ferr, func(f string) bool { return f != "product_id" })
}

func (h *handlers) addProductPost(w http.ResponseWriter, r *http.Request) error {
	a, err := h.load(r)
	if err != nil {
		return err
	}
	in := productInputOf(r.PostForm)
	if _, err := h.svc.Edit(r.Context(), a.ID, func(d *csaf.Document) error {
		_, err := addProduct(d, in)
		return err
	}); err != nil {
		return h.renderProducts(w, r, a, r.PostForm, err)
	}
	return h.done(w, r, "advedit.flash.product_added", manageBase(a.ID)+"/products")
}

func (h *handlers) removeProductPost(w http.ResponseWriter, r *http.Request) error {
	a, err := h.load(r)
	if err != nil {
		return err
	}
	id := r.PostForm.Get("product_id")
	if _, err := h.svc.Edit(r.Context(), a.ID, func(d *csaf.Document) error { return removeProduct(d, id) }); err != nil {
		return h.renderProducts(w, r, a, nil, err)
	}
	return h.done(w, r, "advedit.flash.product_removed", manageBase(a.ID)+"/products")
}
