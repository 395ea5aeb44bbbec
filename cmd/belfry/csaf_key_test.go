package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/belfry-cert/belfry/internal/csaf/csaftest"
)

// TestCsafKey: generate, list and export the signing key of a data
// directory; a second key retires the first; import takes a protected
// private key with its passphrase; the private key is never printed; usage
// errors exit 2.
func TestCsafKey(t *testing.T) {
	data := t.TempDir()
	fprRE := regexp.MustCompile(`[0-9A-F]{40}`)
	out := mustRun(t, "csaf", "key", "generate", "--data", data, "--name", "CCB CSAF", "--email", "csaf@ccb.example")
	first := fprRE.FindString(out)
	if first == "" {
		t.Fatalf("generate printed no fingerprint: %s", out)
	}
	list := mustRun(t, "csaf", "key", "list", "--data", data)
	if !strings.Contains(list, first) || !strings.Contains(list, "active") {
		t.Errorf("list = %s", list)
	}
	pub := mustRun(t, "csaf", "key", "export-public", "--data", data)
	if !strings.Contains(pub, "BEGIN PGP PUBLIC KEY BLOCK") || strings.Contains(pub, "PRIVATE") {
		t.Errorf("export-public = %.200s", pub)
	}
	kr, err := openpgp.ReadArmoredKeyRing(strings.NewReader(pub))
	if err != nil || len(kr) != 1 || kr[0].PrivateKey != nil {
		t.Fatalf("exported key: %v (%d entities)", err, len(kr))
	}

	// Import a passphrase-protected key: it becomes the active one.
	e, err := openpgp.NewEntity("Imported", "", "imported@ccb.example", nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := armor.Encode(&buf, openpgp.PrivateKeyType, nil)
	if err := e.EncryptPrivateKeys([]byte("s3cret pass"), nil); err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivateWithoutSigning(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	keyFile, passFile := filepath.Join(t.TempDir(), "key.asc"), filepath.Join(t.TempDir(), "pass")
	os.WriteFile(keyFile, buf.Bytes(), 0o600)
	os.WriteFile(passFile, []byte("s3cret pass\n"), 0o600)
	if code, _, stderr := runCLI(t, "csaf", "key", "import", "--data", data, keyFile); code != 1 || !strings.Contains(stderr, "passphrase") {
		t.Errorf("import without the passphrase = %d %s", code, stderr)
	}
	out = mustRun(t, "csaf", "key", "import", "--data", data, "--passphrase-file", passFile, keyFile)
	second := fprRE.FindString(out)
	if second == "" || second == first {
		t.Fatalf("import printed %s", out)
	}
	list = mustRun(t, "csaf", "key", "list", "--data", data)
	if !regexp.MustCompile(second+`\s+active`).MatchString(list) || !regexp.MustCompile(first+`\s+retired`).MatchString(list) {
		t.Errorf("after import, list = %s", list)
	}
	if pub := mustRun(t, "csaf", "key", "export-public", "--data", data, first); !strings.Contains(pub, "BEGIN PGP PUBLIC KEY BLOCK") {
		t.Errorf("the retired key is not exported: %s", pub)
	}
	for _, args := range [][]string{{"csaf", "key"}, {"csaf", "key", "rotate"}, {"csaf", "key", "import", "--data", data},
		{"csaf", "key", "list", "--data", data, "extra"}} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("belfry %s = exit %d, want 2", strings.Join(args, " "), code)
		}
	}
}

// TestCsafUpdateSchemas installs the schemas of ../shared into a data
// directory, where a serving instance finds them; a directory without them
// is refused and leaves nothing installed.
func TestCsafUpdateSchemas(t *testing.T) {
	src := csaftest.SchemaDir(t)
	data := t.TempDir()
	if code, _, stderr := runCLI(t, "csaf", "update-schemas", "--data", data, "--from", t.TempDir()); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("update-schemas from an empty directory = %d %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(data, "csaf", "schemas")); err == nil {
		t.Error("a failed update installed a schema directory")
	}
	mustRun(t, "csaf", "update-schemas", "--data", data, "--from", src)
	for _, f := range []string{"csaf_json_schema.json", "first/cvss-v2.0.json", "first/cvss-v3.0.json", "first/cvss-v3.1.json"} {
		if _, err := os.Stat(filepath.Join(data, "csaf", "schemas", f)); err != nil {
			t.Errorf("not installed: %s", f)
		}
	}
	// The validator finds them there.
	doc := filepath.Join(t.TempDir(), "empty.json")
	os.WriteFile(doc, []byte(`{"document": {}}`), 0o600)
	code, stdout, stderr := runCLI(t, "csaf", "validate", "--data", data, doc)
	if code != 1 || !strings.Contains(stdout, "invalid") || strings.Contains(stderr, "not found") {
		t.Errorf("validate with the installed schemas = %d %s %s", code, stdout, stderr)
	}
}
