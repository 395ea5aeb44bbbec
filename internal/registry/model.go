// Package registry is the NIS2 entity registry: each organisation's
// registration (addresses, services, size, contacts), its classification as
// essential or important entity, the authority's review and designation
// decisions, versions and reminders, bulk import and export, and the
// constituency claims (IP prefixes, ASNs, domains) behind the feeds.
package registry

import (
	"bytes"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/nis2"
)

// Status is where a registration stands in the authority's review.
type Status string

const (
	StatusDraft            Status = "draft"             // being filled in or changed by the entity
	StatusSubmitted        Status = "submitted"         // waiting for the authority
	StatusChangesRequested Status = "changes_requested" // the authority asked for corrections
	StatusApproved         Status = "approved"          // in the registry
	StatusRejected         Status = "rejected"          // not an entity the authority registers
)

// Statuses lists the statuses in workflow order.
var Statuses = []Status{StatusDraft, StatusSubmitted, StatusChangesRequested, StatusApproved, StatusRejected}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, x := range Statuses {
		if x == s {
			return true
		}
	}
	return false
}

// Classes are the values of a classification, as decided by nis2.Classify.
var Classes = []string{"essential", "important", "registrar_only", "out_of_scope"}

func validClass(c string) bool {
	for _, x := range Classes {
		if x == c {
			return true
		}
	}
	return false
}

// ContactRole says what a contact point is for (reporting-forms.md §4.2).
type ContactRole string

const (
	RoleLegalRepresentative ContactRole = "legal_representative"
	RoleRegistrationManager ContactRole = "registration_manager"
	RoleNIS2Contact         ContactRole = "nis2_contact"     // regulatory point of contact
	RoleIncident24x7        ContactRole = "incident_24x7"    // CSIRT-facing, at any hour
	RoleTechnicalAlerts     ContactRole = "technical_alerts" // receives threat alerts for networks
	RoleEURepresentative    ContactRole = "eu_representative"
	RoleGeneral             ContactRole = "general" // the organisation's general address and number
)

// ContactRoles lists the roles in display order.
var ContactRoles = []ContactRole{RoleIncident24x7, RoleNIS2Contact, RoleTechnicalAlerts, RoleLegalRepresentative, RoleRegistrationManager, RoleEURepresentative, RoleGeneral}

func (r ContactRole) valid() bool {
	for _, x := range ContactRoles {
		if x == r {
			return true
		}
	}
	return false
}

// MemberStates are the EU Member States by ISO 3166-1 alpha-2 code (Greece
// as GR, not the EU's EL).
var MemberStates = []string{"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
	"LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}

func memberState(c string) bool {
	for _, x := range MemberStates {
		if x == c {
			return true
		}
	}
	return false
}

// Address is a postal address.
type Address struct {
	Street   string `json:"street"`
	Postcode string `json:"postcode"`
	City     string `json:"city"`
	Country  string `json:"country"`
}

// Empty reports whether no part of a is filled in.
func (a Address) Empty() bool { return a == Address{} }

// Contact is a point of contact of the entity.
type Contact struct {
	Role  ContactRole `json:"role"`
	Name  string      `json:"name"`
	Email string      `json:"email"`
	Phone string      `json:"phone,omitempty"`
	// PGPKey is an ASCII-armoured OpenPGP public key for encrypted mail.
	PGPKey string `json:"pgp_key,omitempty"`
	// PGPFingerprint is derived from PGPKey.
	PGPFingerprint string `json:"pgp_fingerprint,omitempty"`
	Language       string `json:"language,omitempty"`
}

// Profile is the registration data an entity keeps current (NIS2 Art. 3(4)
// and 27(2); reporting-forms.md §4.2). The legal name and enterprise number
// live on the organisation.
type Profile struct {
	Address Address `json:"address"`
	// MainEstablishment is the EU main establishment of an Art. 27 entity
	// when it is not the address above.
	MainEstablishment Address `json:"main_establishment"`
	Website           string  `json:"website,omitempty"`
	// Facts are the classification facts: entity types, size, countries
	// and the special cases of Art. 2 and 3.
	Facts    nis2.Facts `json:"facts"`
	Contacts []Contact  `json:"contacts"`
	// Tasks records which sections of the task list have been completed.
	Tasks map[string]bool `json:"tasks,omitempty"`
}

// Task names of the registration task list (UX.md pattern 17).
const (
	TaskOrganisation = "organisation"
	TaskServices     = "services"
	TaskSize         = "size"
	TaskContacts     = "contacts"
	TaskNetworks     = "networks"
)

// Tasks lists the sections in order.
var Tasks = []string{TaskOrganisation, TaskServices, TaskSize, TaskContacts, TaskNetworks}

// Registration is an organisation's entry in the registry.
type Registration struct {
	OrgID            int64     `json:"organisation_id"`
	Name             string    `json:"legal_name"`
	EnterpriseNumber string    `json:"enterprise_number,omitempty"`
	Status           Status    `json:"status"`
	Version          int64     `json:"version"`
	Profile          Profile   `json:"profile"`
	Decision         *Decision `json:"classification,omitempty"`
	// Class is the class that applies: the override if there is one,
	// otherwise the computed class ("" while facts are incomplete).
	Class                 string     `json:"class"`
	Override              *Override  `json:"override,omitempty"`
	ReviewNote            string     `json:"review_note,omitempty"`
	SubmittedAt           *time.Time `json:"submitted_at,omitempty"`
	ReviewedAt            *time.Time `json:"reviewed_at,omitempty"`
	ApprovedAt            *time.Time `json:"approved_at,omitempty"`
	ChangeStartedAt       *time.Time `json:"change_started_at,omitempty"`
	ChangeDueAt           *time.Time `json:"change_due_at,omitempty"`
	CreatedAt             time.Time  `json:"created_at"`
	UpdatedAt             time.Time  `json:"updated_at"`
	Sectors               []string   `json:"sectors"`
	Size                  string     `json:"size,omitempty"`
	computedClass, search string
}

// Decision is the computed classification with its reasons.
type Decision = nis2.Decision

// Override is the authority's designation decision, replacing the computed
// class (NIS2 Art. 2(2)(b)–(e), 3(1)(e); BE law Art. 11–12).
type Override struct {
	Class         string    `json:"class"`
	Justification string    `json:"justification"`
	By            int64     `json:"by_user_id"`
	At            time.Time `json:"at"`
}

// Version is one recorded state of a registration.
type Version struct {
	Version   int64     `json:"version"`
	Event     string    `json:"event"`
	Status    Status    `json:"status"`
	Class     string    `json:"class"`
	Note      string    `json:"note,omitempty"`
	ActorID   int64     `json:"actor_id,omitempty"`
	ActorName string    `json:"actor_name,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Profile   Profile   `json:"profile"`
}

// ---- validation ----

func trimmed(s string, max int, field string, v *errs.Validator) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		v.Add(field, "err.too_long", map[string]any{"max": max})
	}
	return s
}

func (a *Address) normalise(prefix string, v *errs.Validator) {
	a.Street = trimmed(a.Street, 200, prefix+".street", v)
	a.Postcode = trimmed(a.Postcode, 20, prefix+".postcode", v)
	a.City = trimmed(a.City, 100, prefix+".city", v)
	a.Country = strings.ToUpper(strings.TrimSpace(a.Country))
	if a.Country != "" && (len(a.Country) != 2 || strings.Trim(a.Country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		v.Add(prefix+".country", "err.country.invalid", nil)
	}
}

func (a Address) complete(prefix string, v *errs.Validator) {
	if a.Street == "" {
		v.Add(prefix+".street", "err.reg.street_required", nil)
	}
	if a.Postcode == "" {
		v.Add(prefix+".postcode", "err.reg.postcode_required", nil)
	}
	if a.City == "" {
		v.Add(prefix+".city", "err.reg.city_required", nil)
	}
	if a.Country == "" {
		v.Add(prefix+".country", "err.reg.country_required", nil)
	}
}

// normalise cleans c and reports faults under prefix (like contacts[0]).
func (c *Contact) normalise(prefix string, v *errs.Validator) {
	c.Role = ContactRole(strings.TrimSpace(string(c.Role)))
	if c.Role == "" {
		v.Add(prefix+".role", "err.reg.contact_role_required", nil)
	} else if !c.Role.valid() {
		v.Add(prefix+".role", "err.reg.contact_role_invalid", nil)
	}
	c.Name = trimmed(c.Name, 200, prefix+".name", v)
	if c.Name == "" {
		v.Add(prefix+".name", "err.reg.contact_name_required", nil)
	}
	c.Email = strings.TrimSpace(c.Email)
	if c.Email == "" {
		v.Add(prefix+".email", "err.email.required", nil)
	} else if e, ok := identity.NormalizeEmail(c.Email); ok {
		c.Email = e
	} else {
		v.Add(prefix+".email", "err.email.invalid", nil)
	}
	c.Phone = strings.TrimSpace(c.Phone)
	if c.Phone != "" && !identity.ValidPhone(c.Phone) {
		v.Add(prefix+".phone", "err.phone.invalid", nil)
	}
	if c.Role == RoleIncident24x7 && c.Phone == "" {
		v.Add(prefix+".phone", "err.reg.contact_phone_24x7", nil)
	}
	c.Language = strings.TrimSpace(c.Language)
	if c.Language != "" && !i18n.Supported(c.Language) {
		v.Add(prefix+".language", "err.locale.invalid", nil)
	}
	c.PGPKey = strings.TrimSpace(c.PGPKey)
	c.PGPFingerprint = ""
	if c.PGPKey != "" {
		fp, err := pgpFingerprint(c.PGPKey)
		if err != nil {
			v.Add(prefix+".pgp_key", "err.reg.pgp_key_invalid", nil)
		} else {
			c.PGPFingerprint = fp
		}
	}
}

// pgpFingerprint reads one ASCII-armoured OpenPGP public key and returns
// its primary key's fingerprint in upper-case hex.
func pgpFingerprint(armored string) (string, error) {
	if len(armored) > 64<<10 {
		return "", errs.E(errs.Invalid, "err.reg.pgp_key_invalid")
	}
	keys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader([]byte(armored)))
	if err != nil || len(keys) != 1 || keys[0].PrivateKey != nil {
		return "", errs.E(errs.Invalid, "err.reg.pgp_key_invalid")
	}
	return strings.ToUpper(hex.EncodeToString(keys[0].PrimaryKey.Fingerprint)), nil
}

// normalise cleans every part of p that is filled in. It does not require
// completeness: drafts are saved as they are.
func (p *Profile) normalise(v *errs.Validator) {
	p.Address.normalise("address", v)
	p.MainEstablishment.normalise("main_establishment", v)
	p.Website = trimmed(p.Website, 300, "website", v)
	if p.Website != "" && !strings.HasPrefix(p.Website, "https://") && !strings.HasPrefix(p.Website, "http://") {
		p.Website = "https://" + p.Website
	}
	for i := range p.Contacts {
		p.Contacts[i].normalise(itemField("contacts", i), v)
	}
	if len(p.Contacts) > 50 {
		v.Add("contacts", "err.reg.too_many_contacts", map[string]any{"max": 50})
	}
	for k := range p.Tasks {
		if !validTask(k) {
			delete(p.Tasks, k)
		}
	}
}

func validTask(k string) bool {
	for _, t := range Tasks {
		if t == k {
			return true
		}
	}
	return false
}

func itemField(name string, i int) string { return name + "[" + itoa(int64(i)) + "]" }

// complete reports what a submission still lacks.
func (p *Profile) complete(v *errs.Validator) {
	p.Address.complete("address", v)
	has24x7 := false
	for _, c := range p.Contacts {
		if c.Role == RoleIncident24x7 && c.Phone != "" && c.Email != "" {
			has24x7 = true
		}
	}
	if !has24x7 {
		v.Add("contacts", "err.reg.contact_24x7_required", nil)
	}
	if len(p.Facts.ServiceCountries) == 0 {
		v.Add("facts.service_countries", "err.reg.service_countries_required", nil)
	}
}
