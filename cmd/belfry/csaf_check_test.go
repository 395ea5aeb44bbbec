package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// csafTestProvider serves a minimal directory-based CSAF trusted provider
// with one published example (read in place from ../shared) over TLS,
// and returns the server, a function removing one of its files, the --ca
// file and the X-Check header values it received.
func csafTestProvider(t *testing.T) (*httptest.Server, func(string), string, *sync.Map) {
	t.Helper()
	raw, err := os.ReadFile(sharedCSAF(t, "examples", "csaf", "bsi-2022-0001.json"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var seen sync.Map // header X-Check values received
	var mu sync.Mutex
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("X-Check"); v != "" {
			seen.Store(v, true)
		}
		mu.Lock()
		body, ok := files[r.URL.Path]
		mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		switch {
		case strings.HasSuffix(r.URL.Path, "/"):
			w.Header().Set("Content-Type", "text/html")
		case strings.HasSuffix(r.URL.Path, ".json"):
			w.Header().Set("Content-Type", "application/json")
		default:
			w.Header().Set("Content-Type", "text/plain")
		}
		w.Write(body)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the run without --ca fails the handshake
	srv.StartTLS()
	t.Cleanup(srv.Close)

	key, err := openpgp.NewEntity("Test CERT", "", "csaf@example.org", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	fpr := strings.ToUpper(hex.EncodeToString(key.PrimaryKey.Fingerprint))
	var pub bytes.Buffer
	aw, _ := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err := key.Serialize(aw); err != nil {
		t.Fatal(err)
	}
	aw.Close()
	var sig bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&sig, key, bytes.NewReader(raw), nil); err != nil {
		t.Fatal(err)
	}
	dir := "/.well-known/csaf/white/"
	doc := dir + "2022/bsi-2022-0001.json"
	s256, s512 := sha256.Sum256(raw), sha512.Sum512(raw)
	pmd, _ := json.Marshal(map[string]any{
		"canonical_url":              srv.URL + "/.well-known/csaf/provider-metadata.json",
		"distributions":              []any{map[string]any{"directory_url": srv.URL + dir}},
		"last_updated":               "2022-03-17T13:03:42.105Z",
		"list_on_CSAF_aggregators":   true,
		"metadata_version":           "2.0",
		"mirror_on_CSAF_aggregators": true,
		"public_openpgp_keys":        []any{map[string]any{"fingerprint": fpr, "url": srv.URL + "/.well-known/csaf/openpgp/" + fpr + ".asc"}},
		"publisher":                  map[string]any{"category": "coordinator", "name": "Test CERT", "namespace": "https://cert.example.org"},
		"role":                       "csaf_trusted_provider",
	})
	for p, b := range map[string]string{
		"/.well-known/security.txt":                 "CSAF: " + srv.URL + "/.well-known/csaf/provider-metadata.json\n",
		"/.well-known/csaf/provider-metadata.json":  string(pmd),
		"/.well-known/csaf/openpgp/" + fpr + ".asc": pub.String(),
		dir:                 `<html><body><a href="2022/">2022/</a></body></html>`,
		dir + "index.txt":   "2022/bsi-2022-0001.json\n",
		dir + "changes.csv": `"2022/bsi-2022-0001.json","2022-03-17T13:03:42.105Z"` + "\n",
		dir + "2022/":       `<html><body><a href="bsi-2022-0001.json">bsi-2022-0001.json</a></body></html>`,
		doc:                 string(raw),
		doc + ".sha256":     hex.EncodeToString(s256[:]) + "  bsi-2022-0001.json\n",
		doc + ".sha512":     hex.EncodeToString(s512[:]) + "  bsi-2022-0001.json\n",
		doc + ".asc":        sig.String(),
	} {
		files[p] = []byte(b)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	remove := func(p string) {
		mu.Lock()
		defer mu.Unlock()
		delete(files, p)
	}
	return srv, remove, ca, &seen
}

// TestCsafCheck: a conforming directory-based provider passes (exit 0),
// its report comes out as JSON with --json, a missing signature fails
// requirement 19 (exit 1), and bad usage exits 2.
func TestCsafCheck(t *testing.T) {
	schemas := sharedCSAF(t, "schemas")
	srv, remove, ca, seen := csafTestProvider(t)

	out := mustRun(t, "csaf", "check", "--schemas", schemas, "--ca", ca, "--header", "X-Check: yes", srv.URL)
	for _, want := range []string{"PASS  1 Valid CSAF document", "PASS 19 Signatures", "FAIL 15 ROLIE feed (not required", "OK: the provider meets"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if _, ok := seen.Load("yes"); !ok {
		t.Error("--header was not sent")
	}

	out = mustRun(t, "csaf", "check", "--schemas", schemas, "--insecure", "--json", srv.URL)
	var rep struct {
		Domain       string `json:"domain"`
		Role         string `json:"role"`
		Documents    int    `json:"documents"`
		Requirements []struct {
			Num    int  `json:"num"`
			Passed bool `json:"passed"`
		} `json:"requirements"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if rep.Domain != srv.URL || rep.Role != "csaf_trusted_provider" || rep.Documents != 1 || len(rep.Requirements) != 20 || !rep.Requirements[0].Passed {
		t.Errorf("--json report: %+v", rep)
	}

	// Without the CA the TLS handshake fails: nothing can be found.
	code, out, stderr := runCLI(t, "csaf", "check", "--schemas", schemas, srv.URL)
	if code != 1 || !strings.Contains(out, "FAIL  9") || !strings.Contains(stderr, "requirements of the role") {
		t.Errorf("without --ca: exit %d, stderr %q", code, short(stderr))
	}

	remove("/.well-known/csaf/white/2022/bsi-2022-0001.json.asc")
	code, out, stderr = runCLI(t, "csaf", "check", "--schemas", schemas, "--ca", ca, srv.URL)
	if code != 1 || !strings.Contains(out, "FAIL 19 Signatures") || !strings.Contains(stderr, "failed: 19") {
		t.Errorf("missing signature: exit %d, stdout %q, stderr %q", code, out, short(stderr))
	}

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"csaf", "check"}, 2, "want one provider URL"},
		{[]string{"csaf", "check", srv.URL, srv.URL}, 2, "want one provider URL"},
		{[]string{"csaf", "check", "http://" + strings.TrimPrefix(srv.URL, "https://")}, 2, "https only"},
		{[]string{"csaf", "check", "--header", "no colon", srv.URL}, 2, "Name: value"},
		{[]string{"csaf", "check", "--schemas", t.TempDir(), srv.URL}, 1, "--schemas"},
		{[]string{"csaf", "check", "--ca", filepath.Join(t.TempDir(), "none.pem"), srv.URL}, 1, "--ca"},
	} {
		code, _, stderr := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, short(stderr), c.code, c.want)
		}
	}
}
