package csaf

// Typed CSAF 2.0 documents, for writing them (the advisory editor): every
// property of the CSAF 2.0 JSON schema, with its JSON name. Validation
// works on the untyped tree (Doc); these types only build and edit
// documents. CVSS objects stay untyped: they are FIRST's JSON, written by
// CVSS3JSON and checked by tests 6.1.8 to 6.1.10.

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Document is a CSAF 2.0 document.
type Document struct {
	Document        DocumentMeta    `json:"document"`
	ProductTree     *ProductTree    `json:"product_tree,omitempty"`
	Vulnerabilities []Vulnerability `json:"vulnerabilities,omitempty"`
}

// DocumentMeta is /document.
type DocumentMeta struct {
	Acknowledgments   []Acknowledgment   `json:"acknowledgments,omitempty"`
	AggregateSeverity *AggregateSeverity `json:"aggregate_severity,omitempty"`
	Category          string             `json:"category"`
	CSAFVersion       string             `json:"csaf_version"`
	Distribution      *Distribution      `json:"distribution,omitempty"`
	Lang              string             `json:"lang,omitempty"`
	Notes             []Note             `json:"notes,omitempty"`
	Publisher         Publisher          `json:"publisher"`
	References        []Reference        `json:"references,omitempty"`
	SourceLang        string             `json:"source_lang,omitempty"`
	Title             string             `json:"title"`
	Tracking          Tracking           `json:"tracking"`
}

// Acknowledgment thanks people or organisations.
type Acknowledgment struct {
	Names        []string `json:"names,omitempty"`
	Organization string   `json:"organization,omitempty"`
	Summary      string   `json:"summary,omitempty"`
	URLs         []string `json:"urls,omitempty"`
}

// AggregateSeverity is the publisher's overall rating.
type AggregateSeverity struct {
	Namespace string `json:"namespace,omitempty"`
	Text      string `json:"text"`
}

// Distribution carries the TLP label.
type Distribution struct {
	Text string `json:"text,omitempty"`
	TLP  *TLP   `json:"tlp,omitempty"`
}

// TLP is a CSAF 2.0 TLP label: WHITE, GREEN, AMBER or RED (TLP 1.0 words;
// TLP:CLEAR is written WHITE in CSAF 2.0).
type TLP struct {
	Label string `json:"label"`
	URL   string `json:"url,omitempty"`
}

// Note is a note of the document or of a vulnerability.
type Note struct {
	Audience string `json:"audience,omitempty"`
	Category string `json:"category"`
	Text     string `json:"text"`
	Title    string `json:"title,omitempty"`
}

// Publisher is who issues the document.
type Publisher struct {
	Category         string `json:"category"`
	ContactDetails   string `json:"contact_details,omitempty"`
	IssuingAuthority string `json:"issuing_authority,omitempty"`
	Name             string `json:"name"`
	Namespace        string `json:"namespace"`
}

// Reference is a link with a summary.
type Reference struct {
	Category string `json:"category,omitempty"`
	Summary  string `json:"summary"`
	URL      string `json:"url"`
}

// Tracking is /document/tracking.
type Tracking struct {
	Aliases            []string   `json:"aliases,omitempty"`
	CurrentReleaseDate string     `json:"current_release_date"`
	Generator          *Generator `json:"generator,omitempty"`
	ID                 string     `json:"id"`
	InitialReleaseDate string     `json:"initial_release_date"`
	RevisionHistory    []Revision `json:"revision_history"`
	Status             string     `json:"status"`
	Version            string     `json:"version"`
}

// Generator names the tool that wrote the document.
type Generator struct {
	Date   string `json:"date,omitempty"`
	Engine Engine `json:"engine"`
}

// Engine is a generator's name and version.
type Engine struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// Revision is one entry of the revision history.
type Revision struct {
	Date          string `json:"date"`
	LegacyVersion string `json:"legacy_version,omitempty"`
	Number        string `json:"number"`
	Summary       string `json:"summary"`
}

// ProductTree is /product_tree.
type ProductTree struct {
	Branches         []Branch          `json:"branches,omitempty"`
	FullProductNames []FullProductName `json:"full_product_names,omitempty"`
	ProductGroups    []ProductGroup    `json:"product_groups,omitempty"`
	Relationships    []Relationship    `json:"relationships,omitempty"`
}

// Branch is a node of the product tree: a vendor, a product name, a
// version…; a leaf carries a product.
type Branch struct {
	Branches []Branch         `json:"branches,omitempty"`
	Category string           `json:"category"`
	Name     string           `json:"name"`
	Product  *FullProductName `json:"product,omitempty"`
}

// FullProductName defines a product id.
type FullProductName struct {
	Name                        string                       `json:"name"`
	ProductID                   string                       `json:"product_id"`
	ProductIdentificationHelper *ProductIdentificationHelper `json:"product_identification_helper,omitempty"`
}

// ProductIdentificationHelper identifies a product for machines.
type ProductIdentificationHelper struct {
	CPE           string       `json:"cpe,omitempty"`
	Hashes        []FileHashes `json:"hashes,omitempty"`
	ModelNumbers  []string     `json:"model_numbers,omitempty"`
	PURL          string       `json:"purl,omitempty"`
	SBOMURLs      []string     `json:"sbom_urls,omitempty"`
	SerialNumbers []string     `json:"serial_numbers,omitempty"`
	SKUs          []string     `json:"skus,omitempty"`
	XGenericURIs  []GenericURI `json:"x_generic_uris,omitempty"`
}

// FileHashes are the hashes of one file.
type FileHashes struct {
	FileHashes []FileHash `json:"file_hashes"`
	Filename   string     `json:"filename"`
}

// FileHash is one hash of a file.
type FileHash struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}

// GenericURI is an identifier in a namespace.
type GenericURI struct {
	Namespace string `json:"namespace"`
	URI       string `json:"uri"`
}

// ProductGroup names a set of products.
type ProductGroup struct {
	GroupID    string   `json:"group_id"`
	ProductIDs []string `json:"product_ids"`
	Summary    string   `json:"summary,omitempty"`
}

// Relationship defines a product made of two others.
type Relationship struct {
	Category                  string          `json:"category"`
	FullProductName           FullProductName `json:"full_product_name"`
	ProductReference          string          `json:"product_reference"`
	RelatesToProductReference string          `json:"relates_to_product_reference"`
}

// Vulnerability is one entry of /vulnerabilities.
type Vulnerability struct {
	Acknowledgments []Acknowledgment `json:"acknowledgments,omitempty"`
	CVE             string           `json:"cve,omitempty"`
	CWE             *CWE             `json:"cwe,omitempty"`
	DiscoveryDate   string           `json:"discovery_date,omitempty"`
	Flags           []Flag           `json:"flags,omitempty"`
	IDs             []VulnID         `json:"ids,omitempty"`
	Involvements    []Involvement    `json:"involvements,omitempty"`
	Notes           []Note           `json:"notes,omitempty"`
	ProductStatus   *ProductStatus   `json:"product_status,omitempty"`
	References      []Reference      `json:"references,omitempty"`
	ReleaseDate     string           `json:"release_date,omitempty"`
	Remediations    []Remediation    `json:"remediations,omitempty"`
	Scores          []ScoreSet       `json:"scores,omitempty"`
	Threats         []Threat         `json:"threats,omitempty"`
	Title           string           `json:"title,omitempty"`
}

// CWE is a weakness.
type CWE struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Flag is a machine-readable reason a product is not affected.
type Flag struct {
	Date       string   `json:"date,omitempty"`
	GroupIDs   []string `json:"group_ids,omitempty"`
	Label      string   `json:"label"`
	ProductIDs []string `json:"product_ids,omitempty"`
}

// VulnID is an identifier of the vulnerability other than a CVE.
type VulnID struct {
	SystemName string `json:"system_name"`
	Text       string `json:"text"`
}

// Involvement is a party's part in handling the vulnerability.
type Involvement struct {
	Date    string `json:"date,omitempty"`
	Party   string `json:"party"`
	Status  string `json:"status"`
	Summary string `json:"summary,omitempty"`
}

// ProductStatus lists the products per status.
type ProductStatus struct {
	FirstAffected      []string `json:"first_affected,omitempty"`
	FirstFixed         []string `json:"first_fixed,omitempty"`
	Fixed              []string `json:"fixed,omitempty"`
	KnownAffected      []string `json:"known_affected,omitempty"`
	KnownNotAffected   []string `json:"known_not_affected,omitempty"`
	LastAffected       []string `json:"last_affected,omitempty"`
	Recommended        []string `json:"recommended,omitempty"`
	UnderInvestigation []string `json:"under_investigation,omitempty"`
}

// Remediation says what to do.
type Remediation struct {
	Category        string           `json:"category"`
	Date            string           `json:"date,omitempty"`
	Details         string           `json:"details"`
	Entitlements    []string         `json:"entitlements,omitempty"`
	GroupIDs        []string         `json:"group_ids,omitempty"`
	ProductIDs      []string         `json:"product_ids,omitempty"`
	RestartRequired *RestartRequired `json:"restart_required,omitempty"`
	URL             string           `json:"url,omitempty"`
}

// RestartRequired says what a remediation needs restarted.
type RestartRequired struct {
	Category string `json:"category"`
	Details  string `json:"details,omitempty"`
}

// ScoreSet is a set of CVSS scores for products.
type ScoreSet struct {
	CVSSv2   map[string]any `json:"cvss_v2,omitempty"`
	CVSSv3   map[string]any `json:"cvss_v3,omitempty"`
	Products []string       `json:"products"`
}

// Threat is an impact, an exploit status or a target set.
type Threat struct {
	Category   string   `json:"category"`
	Date       string   `json:"date,omitempty"`
	Details    string   `json:"details"`
	GroupIDs   []string `json:"group_ids,omitempty"`
	ProductIDs []string `json:"product_ids,omitempty"`
}

// DecodeDocument reads a document into the typed model. Unknown
// properties are an error: the model covers the whole CSAF 2.0 schema, so
// they would be lost on the next write.
func DecodeDocument(raw []byte) (*Document, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("csaf: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("csaf: data after the JSON object")
	}
	return &d, nil
}

// Marshal writes the document as CSAF's section 5.1 asks: JSON with the
// keys of every object sorted, indented by two spaces, ending in a new
// line. The same document always gives the same bytes.
func (d *Document) Marshal() ([]byte, error) {
	return Canonical(d)
}

// Canonical writes any JSON value with sorted keys, two-space indentation
// and a final new line; numbers keep their text.
func Canonical(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(tree); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
