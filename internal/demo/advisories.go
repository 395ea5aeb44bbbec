package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/belfry-cert/belfry/internal/advisory"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/identity"
)

// demoAdvisory is one advisory of the demonstration: a fictional vendor
// and product (vendors, products and CVE numbers are invented; the CWE
// entries are real).
type demoAdvisory struct {
	title, lang, tlp, summary   string
	vendor, product             string
	affected, fixed             string // versions
	cve, cweID, cweName         string
	vulnTitle, description      string
	vector                      string // CVSS 3.1
	remediation, remediationURL string
	exploited                   string // exploit status, "" if none known
	daysAgo                     int
	recipients                  []string // organisation names (AMBER)
}

var demoAdvisories = []demoAdvisory{
	{title: "HarbourGate VPN: authentication bypass exploited in the wild", lang: "en", tlp: "WHITE", daysAgo: 12,
		summary: "An unauthenticated attacker can take over HarbourGate VPN appliances. Exploitation has been seen in Belgium. Update now.",
		vendor:  "Scheldt Software", product: "HarbourGate VPN", affected: "7.4.2", fixed: "7.4.3",
		cve: "CVE-2026-41101", cweID: "CWE-287", cweName: "Improper Authentication", vulnTitle: "Authentication bypass in the web portal",
		description: "A crafted request to the portal's session endpoint is accepted without credentials and grants administrator rights.",
		vector:      "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", remediation: "Update HarbourGate VPN to 7.4.3, then rotate every credential stored on the appliance.",
		remediationURL: "https://scheldt-software.example/psirt/SSA-2026-07", exploited: "Exploited in the wild against Belgian organisations since early November."},
	{title: "Polder Systems NAS: commande OS injectable par l'interface web", lang: "fr", tlp: "WHITE", daysAgo: 9,
		summary: "Un utilisateur authentifié peut exécuter des commandes système sur les NAS Polder Systems. Installez la mise à jour 3.2.1.",
		vendor:  "Polder Systems", product: "PolderStore NAS", affected: "3.2.0", fixed: "3.2.1",
		cve: "CVE-2026-41102", cweID: "CWE-78", cweName: "Improper Neutralization of Special Elements used in an OS Command ('OS Command Injection')",
		vulnTitle: "Injection de commandes", description: "Le champ « nom d'hôte » de la page réseau est transmis tel quel à un shell.",
		vector: "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", remediation: "Installez le micrologiciel 3.2.1.",
		remediationURL: "https://poldersystems.example/security/PS-2026-011"},
	{title: "Ardennes Industrial PLC: hartcodierte Zugangsdaten", lang: "de", tlp: "WHITE", daysAgo: 6,
		summary: "Ardennes-Industrial-Steuerungen enthalten ein festes Wartungskonto. Sperren Sie den Wartungsport an der Netzgrenze.",
		vendor:  "Ardennes Industrial", product: "AI-300 PLC", affected: "2.1", fixed: "2.2",
		cve: "CVE-2026-41103", cweID: "CWE-798", cweName: "Use of Hard-coded Credentials",
		vulnTitle: "Festes Wartungskonto", description: "Das Wartungskonto auf TCP-Port 2323 hat ein in der Firmware festgelegtes Passwort.",
		vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", remediation: "Aktualisieren Sie auf Firmware 2.2 und sperren Sie TCP-Port 2323 an der Netzgrenze.",
		remediationURL: "https://ardennes-industrial.example/psirt/AI-2026-3"},
	{title: "Kempen Web CMS: cross-site scripting in de zoekfunctie", lang: "nl", tlp: "WHITE", daysAgo: 4,
		summary: "Een aanvaller kan via een link scripts laten uitvoeren in de browser van een beheerder van Kempen Web CMS. Werk bij naar 5.0.8.",
		vendor:  "Kempen Web", product: "Kempen Web CMS", affected: "5.0.7", fixed: "5.0.8",
		cve: "CVE-2026-41104", cweID: "CWE-79", cweName: "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
		vulnTitle: "Gereflecteerde XSS", description: "De zoekterm wordt zonder codering in de resultatenpagina geschreven.",
		vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", remediation: "Werk Kempen Web CMS bij naar 5.0.8.",
		remediationURL: "https://kempenweb.example/nieuws/5-0-8"},
	{title: "Meuse Medical infusion pump: path traversal in the maintenance service", lang: "en", tlp: "WHITE", daysAgo: 2,
		summary: "A path traversal in the maintenance service of Meuse Medical infusion pumps exposes configuration files on the hospital network.",
		vendor:  "Meuse Medical", product: "InfuSafe 2", affected: "4.8", fixed: "4.9",
		cve: "CVE-2026-41105", cweID: "CWE-22", cweName: "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')",
		vulnTitle: "Path traversal", description: "File names given to the maintenance service are not confined to its directory.",
		vector: "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", remediation: "Install version 4.9; until then, keep pumps in a separate network segment.",
		remediationURL: "https://meusemedical.example/security/MM-2026-02"},
	{title: "Water treatment SCADA: missing authentication on the historian", lang: "en", tlp: "AMBER", daysAgo: 1,
		summary: "The historian of AquaControl SCADA accepts write requests without authentication. Shared with affected operators only.",
		vendor:  "Scheldt Software", product: "AquaControl SCADA", affected: "9.1", fixed: "9.2",
		cve: "CVE-2026-41106", cweID: "CWE-306", cweName: "Missing Authentication for Critical Function",
		vulnTitle: "Unauthenticated historian writes", description: "The historian's port 4840 accepts writes to set points without a session.",
		vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H", remediation: "Apply hotfix 9.1-HF3 and restrict port 4840 to the engineering network.",
		remediationURL: "https://scheldt-software.example/psirt/SSA-2026-09", recipients: []string{"Brabant Water"}},
}

// LoadAdvisories gives the demo, once, a signing key and the advisories
// above, each written by the analyst Sofie Maes, reviewed by Tim Claes and
// published (signed) on its day; and one more draft waiting for Tim's
// review, so that the workflow can be tried.
func LoadAdvisories(ctx context.Context, svc *advisory.Service, ids *identity.Service) error {
	sys := auth.With(ctx, auth.System)
	if _, n, err := svc.List(sys, advisory.ListFilter{Manage: true, Limit: 1}); err != nil || n > 0 {
		return err // already loaded
	}
	author, err := staffPrincipal(sys, ids, "sofie.analyst@ccb.example")
	if err != nil {
		return err
	}
	reviewer, err := staffPrincipal(sys, ids, "tim.analyst@ccb.example")
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Minute)
	defer svc.SetClock(time.Now)
	svc.SetClock(func() time.Time { return now.AddDate(0, 0, -30) })
	if keys, err := svc.Keys(sys); err != nil {
		return err
	} else if len(keys) == 0 {
		if _, err := svc.GenerateKey(sys, svc.Config().Publisher.Name+" CSAF demo", "csaf@ccb.example"); err != nil {
			return err
		}
	}
	orgs, _, err := ids.Organisations(sys, identity.OrgFilter{Limit: 100})
	if err != nil {
		return err
	}
	orgID := map[string]int64{}
	for _, o := range orgs {
		orgID[o.Name] = o.ID
	}
	actx, rctx := auth.With(ctx, author), auth.With(ctx, reviewer)
	for i, da := range demoAdvisories {
		at := now.AddDate(0, 0, -da.daysAgo).Add(time.Duration(i) * 17 * time.Minute)
		svc.SetClock(func() time.Time { return at })
		a, err := svc.Create(actx, advisory.NewInput{Title: da.title, Lang: da.lang, TLP: da.tlp})
		if err != nil {
			return fmt.Errorf("demo advisory %q: %w", da.title, err)
		}
		if _, err := svc.Edit(actx, a.ID, da.fill); err != nil {
			return fmt.Errorf("demo advisory %q: %w", da.title, err)
		}
		if len(da.recipients) > 0 {
			var ids []int64
			for _, name := range da.recipients {
				ids = append(ids, orgID[name])
			}
			if _, err := svc.SetRecipients(actx, a.ID, ids, nil); err != nil {
				return err
			}
		}
		if _, err := svc.Submit(actx, a.ID, advisory.SubmitInput{Status: "final", Summary: "Initial version"}); err != nil {
			return fmt.Errorf("demo advisory %q: %w", da.title, err)
		}
		svc.SetClock(func() time.Time { return at.Add(40 * time.Minute) })
		if _, err := svc.Approve(rctx, a.ID, nil); err != nil {
			return fmt.Errorf("demo advisory %q: %w", da.title, err)
		}
	}
	// A draft waiting for review.
	svc.SetClock(func() time.Time { return now.Add(-time.Hour) })
	da := demoAdvisory{title: "Polder Systems NAS: second injection in the backup page", lang: "en", tlp: "WHITE",
		summary: "A second command injection was found in the backup page of PolderStore NAS.",
		vendor:  "Polder Systems", product: "PolderStore NAS", affected: "3.2.1", fixed: "",
		cve: "CVE-2026-41107", cweID: "CWE-78", cweName: "Improper Neutralization of Special Elements used in an OS Command ('OS Command Injection')",
		vulnTitle: "Command injection in the backup page", description: "The backup target field reaches a shell unescaped.",
		vector: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", remediation: "Restrict the web interface to the management network until a fix is available."}
	a, err := svc.Create(actx, advisory.NewInput{Title: da.title, Lang: da.lang, TLP: da.tlp})
	if err != nil {
		return err
	}
	if _, err := svc.Edit(actx, a.ID, da.fill); err != nil {
		return err
	}
	_, err = svc.Submit(actx, a.ID, advisory.SubmitInput{Status: "interim", Summary: "Initial version, no fix yet"})
	return err
}

func staffPrincipal(ctx context.Context, ids *identity.Service, email string) (*auth.Principal, error) {
	u, err := ids.UserByEmail(ctx, email)
	if err != nil {
		return nil, fmt.Errorf("demo: %s: %w", email, err)
	}
	return &auth.Principal{UserID: u.ID, OrgID: u.OrgID, OrgKind: string(u.OrgKind), Email: u.Email, Name: u.Name, Roles: u.Roles}, nil
}

// fill writes the advisory's content into the working copy.
func (da demoAdvisory) fill(d *csaf.Document) error {
	d.Document.Notes = []csaf.Note{{Category: "summary", Title: "Summary", Text: da.summary}}
	d.Document.References = []csaf.Reference{{Category: "external", Summary: da.vendor + " security advisory", URL: da.remediationURL}}
	if da.remediationURL == "" {
		d.Document.References[0].URL = "https://" + "psirt.example/" + da.cve
	}
	d.Document.Acknowledgments = []csaf.Acknowledgment{{Organization: da.vendor + " PSIRT", Summary: "coordinated the disclosure"}}
	versions := []csaf.Branch{{Category: "product_version", Name: da.affected,
		Product: &csaf.FullProductName{Name: da.vendor + " " + da.product + " " + da.affected, ProductID: "CSAFPID-0001"}}}
	status := &csaf.ProductStatus{KnownAffected: []string{"CSAFPID-0001"}}
	if da.fixed != "" {
		versions = append(versions, csaf.Branch{Category: "product_version", Name: da.fixed,
			Product: &csaf.FullProductName{Name: da.vendor + " " + da.product + " " + da.fixed, ProductID: "CSAFPID-0002"}})
		status.Fixed = []string{"CSAFPID-0002"}
	}
	d.ProductTree = &csaf.ProductTree{Branches: []csaf.Branch{{Category: "vendor", Name: da.vendor, Branches: []csaf.Branch{
		{Category: "product_name", Name: da.product, Branches: versions}}}}}
	cvss, err := csaf.CVSS3JSON(da.vector)
	if err != nil {
		return err
	}
	category := "vendor_fix"
	if da.fixed == "" {
		category = "mitigation"
	}
	v := csaf.Vulnerability{CVE: da.cve, CWE: &csaf.CWE{ID: da.cweID, Name: da.cweName}, Title: da.vulnTitle,
		Notes:         []csaf.Note{{Category: "description", Title: "Description", Text: da.description}},
		ProductStatus: status,
		Remediations:  []csaf.Remediation{{Category: category, Details: da.remediation, URL: da.remediationURL, ProductIDs: []string{"CSAFPID-0001"}}},
		Scores:        []csaf.ScoreSet{{CVSSv3: cvss, Products: []string{"CSAFPID-0001"}}},
		Threats:       []csaf.Threat{{Category: "impact", Details: da.vulnTitle + ".", ProductIDs: []string{"CSAFPID-0001"}}}}
	if da.exploited != "" {
		v.Threats = append(v.Threats, csaf.Threat{Category: "exploit_status", Details: da.exploited, ProductIDs: []string{"CSAFPID-0001"}})
	}
	d.Vulnerabilities = []csaf.Vulnerability{v}
	return nil
}
