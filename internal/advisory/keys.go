package advisory

// The OpenPGP key that signs published documents (CSAF 2.0 requirements
// 19 and 20). It is generated or imported by `belfry csaf key …`; its
// private half is stored encrypted with the instance's data key
// (AES-256-GCM, the key id bound as additional data) and is decrypted
// only in memory, to sign. Nothing exports it. Older keys stay listed so
// that the signatures they made still verify after a rotation.

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

type keyring struct {
	db    *store.DB
	aead  cipher.AEAD
	keyID string // id of the data key, bound into each ciphertext

	mu     sync.Mutex
	fpr    string // fingerprint of the cached entity
	entity *openpgp.Entity
}

func newKeyring(db *store.DB, dataKey []byte) (*keyring, error) {
	if len(dataKey) != 32 {
		return nil, errors.New("advisory: the data key must be 32 bytes")
	}
	b, err := aes.NewCipher(dataKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte("belfry csaf signing key\x00"), dataKey...))
	return &keyring{db: db, aead: aead, keyID: hex.EncodeToString(sum[:8])}, nil
}

// Key is a signing key as the provider metadata lists it.
type Key struct {
	Fingerprint string    `json:"fingerprint"`
	PublicKey   string    `json:"-"` // ASCII-armoured
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
	UserID      string    `json:"user_id"`
}

// Keys lists the signing keys, the active one first.
func (s *Service) Keys(ctx context.Context) ([]Key, error) {
	rows, err := s.db.Query(ctx, `SELECT fingerprint, public_key, active, created_at FROM csaf_keys ORDER BY active DESC, created_at DESC, id DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		var k Key
		if err := rows.Scan(&k.Fingerprint, &k.PublicKey, &k.Active, &k.CreatedAt); err != nil {
			return nil, err
		}
		k.CreatedAt = k.CreatedAt.UTC()
		if el, err := openpgp.ReadArmoredKeyRing(strings.NewReader(k.PublicKey)); err == nil && len(el) > 0 {
			for name := range el[0].Identities {
				k.UserID = name
				break
			}
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// PublicKey returns the armoured public key with this fingerprint.
func (s *Service) PublicKey(ctx context.Context, fpr string) (string, error) {
	var pub string
	err := s.db.QueryRow(ctx, `SELECT public_key FROM csaf_keys WHERE fingerprint = ?`, strings.ToUpper(fpr)).Scan(&pub)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound()
	}
	return pub, err
}

// GenerateKey makes a new signing key (Ed25519, OpenPGP v4) with the
// user id "name <email>" and makes it the active one.
func (s *Service) GenerateKey(ctx context.Context, name, email string) (*Key, error) {
	if !auth.From(ctx).IsAuthorityAdmin() {
		return nil, forbidden()
	}
	// OpenPGP user ids cannot hold these in the name or the address.
	clean := strings.NewReplacer("(", "", ")", "", "<", "", ">", "", "\x00", "")
	name, email = strings.TrimSpace(clean.Replace(name)), strings.TrimSpace(clean.Replace(email))
	e, err := openpgp.NewEntity(name, "CSAF signing key", email, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: s.now})
	if err != nil {
		return nil, fmt.Errorf("csaf key: %w", err)
	}
	return s.storeKey(ctx, e, "generate")
}

// ImportKey stores an ASCII-armoured or binary private key (decrypted with
// passphrase when it is protected) and makes it the active signing key.
func (s *Service) ImportKey(ctx context.Context, data []byte, passphrase []byte) (*Key, error) {
	if !auth.From(ctx).IsAuthorityAdmin() {
		return nil, forbidden()
	}
	var el openpgp.EntityList
	var err error
	if bytes.Contains(data, []byte("-----BEGIN PGP")) {
		el, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	} else {
		el, err = openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("csaf key: %w", err)
	}
	if len(el) != 1 {
		return nil, fmt.Errorf("csaf key: want one key, the file has %d", len(el))
	}
	e := el[0]
	if e.PrivateKey == nil {
		return nil, errors.New("csaf key: the file holds a public key only; import the private key")
	}
	if e.PrivateKey.Encrypted {
		if len(passphrase) == 0 {
			return nil, errors.New("csaf key: the private key is protected by a passphrase: give it with --passphrase-file")
		}
		if err := e.DecryptPrivateKeys(passphrase); err != nil {
			return nil, fmt.Errorf("csaf key: %w", err)
		}
	}
	if !e.PrivateKey.CanSign() {
		return nil, errors.New("csaf key: the key cannot sign")
	}
	return s.storeKey(ctx, e, "import")
}

func (s *Service) storeKey(ctx context.Context, e *openpgp.Entity, action string) (*Key, error) {
	var pub, priv bytes.Buffer
	w, err := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, err
	}
	if err := e.Serialize(w); err != nil {
		return nil, err
	}
	w.Close()
	pub.WriteByte('\n')
	if err := e.SerializePrivateWithoutSigning(&priv, nil); err != nil {
		return nil, fmt.Errorf("csaf key: %w", err)
	}
	nonce := make([]byte, s.keys.aead.NonceSize())
	rand.Read(nonce)
	sealed := s.keys.aead.Seal(nil, nonce, priv.Bytes(), []byte(s.keys.keyID))
	fpr := strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
	now := s.tick()
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE csaf_keys SET active = FALSE WHERE active`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO csaf_keys (fingerprint, public_key, nonce, private_key, key_id, active, created_at)
			VALUES (?, ?, ?, ?, ?, TRUE, ?)`, fpr, pub.String(), nonce, sealed, s.keys.keyID, now); err != nil {
			if store.IsUniqueViolation(err) {
				return errs.E(errs.Conflict, "err.adv.key_exists")
			}
			return err
		}
		return auditKey(ctx, tx, now, action, fpr)
	})
	if err != nil {
		return nil, err
	}
	return &Key{Fingerprint: fpr, PublicKey: pub.String(), Active: true, CreatedAt: now}, nil
}

// active returns the active signing key, decrypted (cached while it stays
// the active one).
func (k *keyring) active(ctx context.Context, q store.Querier) (*openpgp.Entity, string, error) {
	var fpr, keyID string
	var nonce, sealed []byte
	err := q.QueryRow(ctx, `SELECT fingerprint, key_id, nonce, private_key FROM csaf_keys WHERE active`).Scan(&fpr, &keyID, &nonce, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", errs.E(errs.Conflict, "err.adv.no_key")
	}
	if err != nil {
		return nil, "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fpr == fpr && k.entity != nil {
		return k.entity, fpr, nil
	}
	if keyID != k.keyID {
		return nil, "", fmt.Errorf("csaf signing key %s was stored with data key %s, this instance has %s: give every instance the same key file", fpr, keyID, k.keyID)
	}
	plain, err := k.aead.Open(nil, nonce, sealed, []byte(keyID))
	if err != nil {
		return nil, "", fmt.Errorf("csaf signing key %s: %w", fpr, err)
	}
	e, err := openpgp.ReadEntity(packet.NewReader(bytes.NewReader(plain)))
	if err != nil {
		return nil, "", fmt.Errorf("csaf signing key %s: %w", fpr, err)
	}
	k.fpr, k.entity = fpr, e
	return e, fpr, nil
}

// sign returns the ASCII-armoured detached signature of content, made at
// now (the publication time), and the signing key's fingerprint.
func (k *keyring) sign(ctx context.Context, q store.Querier, content []byte, now time.Time) (string, string, error) {
	e, fpr, err := k.active(ctx, q)
	if err != nil {
		return "", "", err
	}
	var buf bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&buf, e, bytes.NewReader(content), &packet.Config{Time: func() time.Time { return now }}); err != nil {
		return "", "", fmt.Errorf("csaf sign: %w", err)
	}
	buf.WriteByte('\n')
	return buf.String(), fpr, nil
}

func auditKey(ctx context.Context, tx *store.Tx, now time.Time, action, fpr string) error {
	return audit.Append(ctx, tx, now, audit.Change{Action: "csaf_key." + action, ObjectType: "csaf_key", ObjectID: fpr,
		After: map[string]any{"fingerprint": fpr, "active": true}})
}
