package providercheck

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// metadata is what the checker uses of provider-metadata.json.
type metadata struct {
	url        string
	canonical  string
	role       string
	dirs       []string
	feeds      []feedRef
	services   []string
	categories []string
	keys       []keyRef
}

type feedRef struct {
	url, tlp, summary string
}

type keyRef struct {
	url, fingerprint string
}

const wellKnownPath = "/.well-known/csaf/provider-metadata.json"

// checkMetadata finds provider-metadata.json (9, then 8, then 10) and
// validates it (7). It returns nil when no valid one was found.
func (c *checker) checkMetadata() *metadata {
	wk := c.domain.String() + wellKnownPath

	// 9: the well-known URL.
	r9 := c.get(wk, false)
	if r9.ok() {
		c.infof(9, "%s found", wk)
	} else {
		c.errorf(9, "%s: %s", wk, r9.describe())
		r9 = nil
	}

	// 8: security.txt, first CSAF line.
	var r8 *response
	if line := c.securityTxt(); line != "" {
		if !strings.HasPrefix(strings.ToLower(line), "https://") {
			c.errorf(8, "the CSAF line of security.txt (%s) is not an https URL", line)
			c.errorf(3, "the CSAF line of security.txt (%s) is not an https URL", line)
		} else {
			r := c.get(line, false)
			switch {
			case !r.ok():
				c.errorf(8, "the CSAF line of security.txt points to %s: %s", line, r.describe())
			case r9 != nil && sha256.Sum256(r.body) != sha256.Sum256(r9.body):
				c.errorf(8, "%s (from security.txt) does not serve the same content as %s", line, wk)
			default:
				c.infof(8, "the CSAF line of security.txt points to %s", line)
				r8 = r
			}
		}
	}

	// 10: the DNS path (informative).
	var r10 *response
	host := c.domain.Hostname()
	if net.ParseIP(host) != nil {
		c.unmet(10, "not applicable: the domain is an IP address")
	} else {
		h := "csaf.data.security." + host
		if p := c.domain.Port(); p != "" {
			h = net.JoinHostPort(h, p)
		}
		dns := (&url.URL{Scheme: "https", Host: h, Path: "/"}).String()
		// Informative only: a short timeout, so that an unresolvable
		// name does not hold the check up.
		r := c.fetch(dns, !c.credentials, 15*time.Second)
		var first *response
		if r9 != nil {
			first = r9
		} else {
			first = r8
		}
		switch {
		case !r.ok():
			c.unmet(10, "%s: %s", dns, r.describe())
		case first != nil && sha256.Sum256(r.body) != sha256.Sum256(first.body):
			c.errorf(10, "%s does not serve the same content as the provider-metadata.json found", dns)
		default:
			c.infof(10, "%s serves the provider-metadata.json", dns)
			r10 = r
		}
	}

	pmd := r9
	if pmd == nil {
		pmd = r8
	}
	if pmd == nil {
		pmd = r10
	}
	if pmd == nil {
		c.errorf(7, "no provider-metadata.json found (well-known URL, security.txt or DNS path)")
		return nil
	}
	if pmd.ctype != "application/json" {
		c.errorf(7, "%s is served as %q, not application/json", pmd.url, pmd.ctype)
	}
	md, problems := parseMetadata(pmd.body)
	for _, p := range problems {
		c.errorf(7, "%s: %s", pmd.url, p)
	}
	if md == nil || len(problems) > 0 {
		return nil
	}
	md.url = pmd.url
	c.metadataURLs(md)
	if md.canonical != pmd.url {
		c.warnf(7, "canonical_url %s differs from the URL it was read from, %s", md.canonical, pmd.url)
	}
	c.infof(7, "%s is a valid provider-metadata.json (role %s)", pmd.url, md.role)
	return md
}

// securityTxt returns the first CSAF line of security.txt, "" if none.
func (c *checker) securityTxt() string {
	u := c.domain.String() + "/.well-known/security.txt"
	r := c.get(u, false)
	if !r.ok() {
		legacy := c.domain.String() + "/security.txt"
		lr := c.get(legacy, false)
		if !lr.ok() {
			c.errorf(8, "no security.txt: %s: %s; %s: %s", u, r.describe(), legacy, lr.describe())
			return ""
		}
		c.warnf(8, "security.txt found only at the legacy location %s", legacy)
		r = lr
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), "CSAF") {
			lines = append(lines, strings.TrimSpace(value))
		}
	}
	if len(lines) == 0 {
		c.errorf(8, "%s has no CSAF line", r.url)
		return ""
	}
	if len(lines) > 1 {
		c.infof(8, "%s has %d CSAF lines; the first one is used", r.url, len(lines))
	}
	return lines[0]
}

// metadataURLs checks that the URLs of provider-metadata.json are https
// (3).
func (c *checker) metadataURLs(md *metadata) {
	where := "provider-metadata.json"
	c.mustHTTPS(md.canonical, where)
	for _, d := range md.dirs {
		c.mustHTTPS(d, where)
	}
	for _, f := range md.feeds {
		c.mustHTTPS(f.url, where)
	}
	for _, s := range append(append([]string{}, md.services...), md.categories...) {
		c.mustHTTPS(s, where)
	}
	for _, k := range md.keys {
		c.mustHTTPS(k.url, where)
	}
}

var (
	fingerprintRE = regexp.MustCompile(`^[0-9a-fA-F]{40,}$`)
	tlpLabels     = map[string]bool{"UNLABELED": true, "WHITE": true, "GREEN": true, "AMBER": true, "RED": true}
	roles         = map[string]bool{RolePublisher: true, RoleProvider: true, RoleTrustedProvider: true}
	pubCategories = map[string]bool{"coordinator": true, "discoverer": true, "other": true, "translator": true, "user": true, "vendor": true}
)

// parseMetadata validates provider-metadata.json against the rules of the
// provider schema (provider_json_schema.json of CSAF 2.0), by code, and
// extracts what the checker follows.
func parseMetadata(raw []byte) (*metadata, []string) {
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		return nil, []string{fmt.Sprintf("not a JSON object: %v", err)}
	}
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	md := &metadata{}

	for _, k := range []string{"canonical_url", "last_updated", "list_on_CSAF_aggregators", "metadata_version", "mirror_on_CSAF_aggregators", "publisher", "role"} {
		if _, ok := root[k]; !ok {
			bad("required property %q is missing", k)
		}
	}
	if v, ok := root["canonical_url"]; ok {
		s, isStr := v.(string)
		switch {
		case !isStr || !isURI(s):
			bad("canonical_url must be a URL")
		case !strings.HasSuffix(s, "/provider-metadata.json"):
			bad("canonical_url %q must end in /provider-metadata.json", s)
		default:
			md.canonical = s
		}
	}
	if v, ok := root["last_updated"]; ok {
		if s, isStr := v.(string); !isStr || !isDateTime(s) {
			bad("last_updated must be an RFC 3339 date-time")
		}
	}
	for _, k := range []string{"list_on_CSAF_aggregators", "mirror_on_CSAF_aggregators"} {
		if v, ok := root[k]; ok {
			if _, isBool := v.(bool); !isBool {
				bad("%s must be a boolean", k)
			}
		}
	}
	if v, ok := root["metadata_version"]; ok && v != "2.0" {
		bad(`metadata_version must be "2.0"`)
	}
	if v, ok := root["role"]; ok {
		s, _ := v.(string)
		if !roles[s] {
			bad("role must be csaf_publisher, csaf_provider or csaf_trusted_provider, not %v", v)
		}
		md.role = s
	}
	if v, ok := root["publisher"]; ok {
		pub, isObj := v.(map[string]any)
		if !isObj {
			bad("publisher must be an object")
		} else {
			for _, k := range []string{"category", "name", "namespace"} {
				if _, ok := pub[k]; !ok {
					bad("publisher.%s is missing", k)
				}
			}
			if v, ok := pub["category"]; ok {
				if s, _ := v.(string); !pubCategories[s] {
					bad("publisher.category %v is not one of coordinator, discoverer, other, translator, user, vendor", v)
				}
			}
			if v, ok := pub["name"]; ok {
				if s, _ := v.(string); s == "" {
					bad("publisher.name must be a non-empty string")
				}
			}
			if v, ok := pub["namespace"]; ok {
				if s, _ := v.(string); !isURI(s) {
					bad("publisher.namespace must be a URL")
				}
			}
		}
	}
	if v, ok := root["distributions"]; ok {
		ds, isArr := v.([]any)
		if !isArr || len(ds) == 0 {
			bad("distributions must be a non-empty array")
		}
		for i, dv := range ds {
			d, isObj := dv.(map[string]any)
			if !isObj || len(d) == 0 {
				bad("distributions[%d] must be a non-empty object", i)
				continue
			}
			if v, ok := d["directory_url"]; ok {
				if s, _ := v.(string); !isURI(s) {
					bad("distributions[%d].directory_url must be a URL", i)
				} else {
					md.dirs = append(md.dirs, s)
				}
			}
			if v, ok := d["rolie"]; ok {
				p = append(p, parseROLIERef(md, v, fmt.Sprintf("distributions[%d].rolie", i))...)
			}
		}
	}
	if v, ok := root["public_openpgp_keys"]; ok {
		ks, isArr := v.([]any)
		if !isArr {
			bad("public_openpgp_keys must be an array")
		}
		for i, kv := range ks {
			k, isObj := kv.(map[string]any)
			if !isObj {
				bad("public_openpgp_keys[%d] must be an object", i)
				continue
			}
			ref := keyRef{}
			if s, _ := k["url"].(string); !isURI(s) {
				bad("public_openpgp_keys[%d].url must be a URL", i)
			} else {
				ref.url = s
			}
			if v, ok := k["fingerprint"]; ok {
				if s, _ := v.(string); !fingerprintRE.MatchString(s) {
					bad("public_openpgp_keys[%d].fingerprint must be at least 40 hexadecimal digits", i)
				} else {
					ref.fingerprint = s
				}
			}
			if ref.url != "" {
				md.keys = append(md.keys, ref)
			}
		}
	}
	if len(p) > 0 {
		return md, p
	}
	return md, nil
}

func parseROLIERef(md *metadata, v any, where string) []string {
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	ro, isObj := v.(map[string]any)
	if !isObj {
		return []string{where + " must be an object"}
	}
	fv, ok := ro["feeds"]
	fs, isArr := fv.([]any)
	if !ok || !isArr || len(fs) == 0 {
		bad("%s.feeds must be a non-empty array", where)
	}
	for j, f := range fs {
		fo, isObj := f.(map[string]any)
		if !isObj {
			bad("%s.feeds[%d] must be an object", where, j)
			continue
		}
		ref := feedRef{}
		ref.tlp, _ = fo["tlp_label"].(string)
		if !tlpLabels[ref.tlp] {
			bad("%s.feeds[%d].tlp_label must be UNLABELED, WHITE, GREEN, AMBER or RED", where, j)
		}
		ref.url, _ = fo["url"].(string)
		if !isURI(ref.url) || !strings.HasSuffix(ref.url, ".json") {
			bad("%s.feeds[%d].url must be a URL ending in .json", where, j)
		}
		if s, ok := fo["summary"]; ok {
			if ref.summary, ok = s.(string); !ok {
				bad("%s.feeds[%d].summary must be a string", where, j)
			}
		}
		md.feeds = append(md.feeds, ref)
	}
	for _, k := range []string{"services", "categories"} {
		v, ok := ro[k]
		if !ok {
			continue
		}
		arr, isArr := v.([]any)
		if !isArr || len(arr) == 0 {
			bad("%s.%s must be a non-empty array", where, k)
		}
		for j, x := range arr {
			s, _ := x.(string)
			if !isURI(s) || !strings.HasSuffix(s, ".json") {
				bad("%s.%s[%d] must be a URL ending in .json", where, k, j)
				continue
			}
			if k == "services" {
				md.services = append(md.services, s)
			} else {
				md.categories = append(md.categories, s)
			}
		}
	}
	return p
}

// isURI reports an absolute URL.
func isURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.IsAbs() && (u.Host != "" || u.Opaque != "")
}

// isDateTime reports an RFC 3339 date-time.
func isDateTime(s string) bool {
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}
