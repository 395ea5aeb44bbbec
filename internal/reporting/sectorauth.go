package reporting

// The sector authorities that notifications are forwarded to (nis2.md
// §3.1: sectoral authorities support the CCB and may inspect their
// sector): each with the NIS2 sectors it covers and the mailbox it reads.
// The authority's administrators keep the list; every change is audited.

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/store"
)

// SectorAuthority is a national authority of one or more NIS2 sectors.
type SectorAuthority struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Sectors   []string  `json:"sectors"`
	Email     string    `json:"email"`
	Country   string    `json:"country,omitempty"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SectorAuthorityInput creates a sector authority, or changes the members
// given (nil members stay as they are).
type SectorAuthorityInput struct {
	Name    *string   `json:"name"`
	Sectors *[]string `json:"sectors"`
	Email   *string   `json:"email"`
	Country *string   `json:"country"`
	Active  *bool     `json:"active"`
}

// CanManageSectorAuthorities reports whether the signed-in person keeps
// the list of sector authorities (the authority's administrators).
func CanManageSectorAuthorities(ctx context.Context) bool {
	p := auth.From(ctx)
	return p.IsAuthorityAdmin() && p.CanWrite()
}

// Covers reports whether the authority covers one of sectors.
func (a SectorAuthority) Covers(sectors []string) bool {
	return slices.ContainsFunc(a.Sectors, func(s string) bool { return slices.Contains(sectors, s) })
}

const selectSectorAuthority = `SELECT id, name, sectors, email, country, active, created_at, updated_at FROM sector_authorities`

func scanSectorAuthority(row interface{ Scan(...any) error }) (*SectorAuthority, error) {
	var a SectorAuthority
	var sectors string
	err := row.Scan(&a.ID, &a.Name, &sectors, &a.Email, &a.Country, &a.Active, &a.CreatedAt, &a.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "err.not_found")
	}
	if err != nil {
		return nil, err
	}
	a.Sectors = append([]string{}, strings.Fields(sectors)...)
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return &a, nil
}

func sectorAuthority(ctx context.Context, q store.Querier, id int64) (*SectorAuthority, error) {
	return scanSectorAuthority(q.QueryRow(ctx, selectSectorAuthority+` WHERE id = ?`, id))
}

// SectorAuthorities lists the sector authorities by name (the authority's
// staff, who choose among them when forwarding).
func (s *Service) SectorAuthorities(ctx context.Context) ([]SectorAuthority, error) {
	if !auth.From(ctx).IsAuthority() {
		return nil, forbidden()
	}
	rows, err := s.db.Query(ctx, selectSectorAuthority+` ORDER BY lower(name), id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []SectorAuthority{}
	for rows.Next() {
		a, err := scanSectorAuthority(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// SectorAuthority returns one sector authority (the authority's staff).
func (s *Service) SectorAuthority(ctx context.Context, id int64) (*SectorAuthority, error) {
	if !auth.From(ctx).IsAuthority() {
		return nil, forbidden()
	}
	return sectorAuthority(ctx, s.db, id)
}

// apply validates in and writes it over a.
func (in SectorAuthorityInput) apply(a *SectorAuthority) error {
	var v errs.Validator
	if in.Name != nil {
		a.Name = strings.Join(strings.Fields(*in.Name), " ")
		switch {
		case a.Name == "":
			v.Add("name", "err.secauth.name_required", nil)
		case utf8.RuneCountInString(a.Name) > 200:
			v.Add("name", "err.too_long", map[string]any{"max": 200})
		}
	}
	if in.Sectors != nil {
		a.Sectors = []string{}
		for i, code := range *in.Sectors {
			code = strings.TrimSpace(code)
			switch {
			case code == "":
			case !slices.ContainsFunc(nis2.Sectors(), func(s nis2.Sector) bool { return s.Code == code }):
				v.Add(field("sectors", i), "err.inbox.sector_invalid", nil)
			case !slices.Contains(a.Sectors, code):
				a.Sectors = append(a.Sectors, code)
			}
		}
	}
	if len(a.Sectors) == 0 && !v.Has("sectors") {
		v.Add("sectors", "err.secauth.sectors_required", nil)
	}
	if in.Email != nil {
		e := strings.TrimSpace(*in.Email)
		if n, ok := identity.NormalizeEmail(e); ok {
			a.Email = n
		} else if e == "" {
			v.Add("email", "err.email.required", nil)
		} else {
			v.Add("email", "err.email.invalid", nil)
		}
	}
	if a.Email == "" && !v.Has("email") {
		v.Add("email", "err.email.required", nil)
	}
	if in.Country != nil {
		a.Country = strings.ToUpper(strings.TrimSpace(*in.Country))
		if a.Country != "" && !slices.Contains(MemberStates, a.Country) {
			v.Add("country", "err.share.country_invalid", nil)
		}
	}
	if in.Active != nil {
		a.Active = *in.Active
	}
	return v.Err()
}

// SaveSectorAuthority creates a sector authority (id 0; active unless
// said otherwise) or changes one (the authority's administrators).
// Audited.
func (s *Service) SaveSectorAuthority(ctx context.Context, id int64, in SectorAuthorityInput) (*SectorAuthority, error) {
	p := auth.From(ctx)
	if !CanManageSectorAuthorities(ctx) {
		return nil, forbidden()
	}
	now := s.tick()
	var out *SectorAuthority
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		a := &SectorAuthority{Active: true, CreatedAt: now}
		var before *SectorAuthority
		if id != 0 {
			cur, err := sectorAuthority(ctx, tx, id)
			if err != nil {
				return err
			}
			c := *cur
			before, a = cur, &c
			a.Sectors = slices.Clone(cur.Sectors)
		}
		if err := in.apply(a); err != nil {
			return err
		}
		a.UpdatedAt = now
		var dup int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM sector_authorities WHERE lower(name) = lower(?) AND id <> ?`, a.Name, id).Scan(&dup); err != nil {
			return err
		}
		if dup > 0 {
			return errs.Field("name", "err.secauth.name_taken", nil)
		}
		sectors := " " + strings.Join(a.Sectors, " ") + " "
		action := "sector_authority.update"
		if id == 0 {
			action = "sector_authority.create"
			if err := tx.QueryRow(ctx, `INSERT INTO sector_authorities (name, sectors, email, country, active, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.Name, sectors, a.Email, a.Country, a.Active, now, now).Scan(&a.ID); err != nil {
				return err
			}
		} else if _, err := tx.Exec(ctx, `UPDATE sector_authorities SET name = ?, sectors = ?, email = ?, country = ?, active = ?, updated_at = ?
			WHERE id = ?`, a.Name, sectors, a.Email, a.Country, a.Active, now, id); err != nil {
			return err
		}
		out = a
		var b any
		if before != nil {
			b = before
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: action, ObjectType: "sector_authority", ObjectID: itoa(a.ID), OrgID: p.OrgID,
			Before: b, After: a})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
