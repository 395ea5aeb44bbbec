package app

import (
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/belfry-cert/belfry/internal/advisory"
	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/store"
)

// newAdvisories builds the advisories service from the settings: the
// tracking id prefix and publisher default to the authority's name and
// the public URL; the CSAF schemas are loaded from their directory (a
// missing directory is logged: documents cannot be published until the
// schemas are installed, with `belfry csaf update-schemas`).
func newAdvisories(cfg Config, db *store.DB, log *slog.Logger, dataKey []byte, baseURL string) (*advisory.Service, error) {
	if dir := cfg.CSAFSchemaDir(); dir != "" {
		if err := csaf.SetSchemaDir(dir); err != nil {
			return nil, fmt.Errorf("--csaf-schemas: %w", err)
		}
	}
	if err := csaf.SchemasReady(); err != nil {
		log.Warn("advisories cannot be published until the CSAF schemas are installed", "err", err)
	}
	prefix := cfg.CSAFPrefix
	if prefix == "" {
		prefix = strings.ToUpper(regexp.MustCompile(`[^A-Za-z0-9-]+`).ReplaceAllString(cfg.Authority, ""))
		if prefix == "" {
			prefix = "CSIRT"
		}
	}
	name := cfg.CSAFPublisherName
	if name == "" {
		name = cfg.Authority
	}
	ns := cfg.CSAFPublisherNamespace
	if ns == "" {
		ns = baseURL
	}
	contact := cfg.CSAFContact
	if contact == "" {
		contact = "mailto:" + cfg.AdminEmail
	}
	return advisory.NewService(db, log, advisory.Config{Prefix: prefix, BaseURL: baseURL, TreeURL: cfg.PublicURL, Contact: contact, Version: buildVersion(),
		Publisher: csaf.Publisher{Category: "coordinator", Name: name, Namespace: ns, ContactDetails: strings.TrimPrefix(contact, "mailto:")}}, dataKey)
}

// buildVersion is the module version the binary was built from.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
