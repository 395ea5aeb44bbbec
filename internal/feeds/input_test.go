package feeds

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpenReader(t *testing.T) {
	var names []string
	collect := func(name string, r io.Reader) error {
		b, err := io.ReadAll(r)
		names = append(names, name+"="+string(b))
		return err
	}
	if err := OpenReader("a.csv", strings.NewReader("x,y\n"), collect); err != nil || names[0] != "a.csv=x,y\n" {
		t.Errorf("plain: %v, %q", err, names)
	}
	// A zip from a stream that cannot seek.
	err := OpenReader("a.zip", io.MultiReader(strings.NewReader("PK\x03\x04....")), collect)
	if !errors.Is(err, ErrZipStream) {
		t.Errorf("zip stream: %v, want ErrZipStream", err)
	}
	// A zip without a CSV member, from a file.
	var zb bytes.Buffer
	w := zip.NewWriter(&zb)
	f, _ := w.Create("notes.txt")
	f.Write([]byte("hello"))
	w.Close()
	p := filepath.Join(t.TempDir(), "x.zip")
	os.WriteFile(p, zb.Bytes(), 0o600)
	if err := Open(p, collect); err == nil || !strings.Contains(err.Error(), "no .csv file") {
		t.Errorf("zip without CSV: %v", err)
	}
	if err := Open(filepath.Join(t.TempDir(), "missing.csv"), collect); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestAppendIntelMQ(t *testing.T) {
	ev := &Event{
		FeedName: "Accessible-HTTP", Time: time.Date(2026, 3, 1, 4, 5, 6, 0, time.UTC), Severity: "high",
		Taxonomy: "vulnerable", SrcIP: netip.MustParseAddr("192.0.2.1"), SrcPort: 443, SrcASN: 64496,
		Fields: []Field{
			{"extra.z", "quote\" backslash\\ newline\n tab\t ctl\x01 é \xff"},
			{"extra.a", int64(7)}, {"extra.f", 2.0}, {"extra.g", 1.5}, {"extra.b", true}, {"extra.l", []string{"x", "y"}},
		},
	}
	got := string(AppendIntelMQ(nil, ev, IntelMQOptions{Raw: []byte("a\n"), Observation: time.Date(2026, 3, 2, 0, 0, 0, 500000000, time.UTC)}))
	want := `{"classification.taxonomy": "vulnerable", "extra.a": 7, "extra.b": true, "extra.f": 2.0, "extra.g": 1.5, "extra.l": ["x", "y"], ` +
		`"extra.z": "quote\" backslash\\ newline\n tab\t ctl\u0001 é \ufffd", "feed.name": "Accessible-HTTP", "raw": "YQo=", "severity": "high", ` +
		`"source.asn": 64496, "source.ip": "192.0.2.1", "source.port": 443, "time.observation": "2026-03-02T00:00:00.500000+00:00", "time.source": "2026-03-01T04:05:06+00:00"}` + "\n"
	if got != want {
		t.Errorf("AppendIntelMQ =\n%s\nwant\n%s", got, want)
	}
}
