package feeds

import (
	"bytes"
	"encoding/csv"
	"net/netip"
	"testing"
	"time"
)

// TestWriteSyntheticScan: the report is valid CSV with the scan_http
// header, reproducible, and puts the asked share outside the prefixes.
func TestWriteSyntheticScan(t *testing.T) {
	prefixes := SyntheticPrefixes(50)
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var a, b bytes.Buffer
	if err := WriteSyntheticScan(&a, 2000, prefixes, 0.25, 7, day); err != nil {
		t.Fatal(err)
	}
	if err := WriteSyntheticScan(&b, 2000, prefixes, 0.25, 7, day); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the same seed gave two reports")
	}
	rows, err := csv.NewReader(&a).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2001 || len(rows[0]) != len(ScanHTTPColumns) {
		t.Fatalf("%d rows of %d columns", len(rows), len(rows[0]))
	}
	inside := 0
	for _, r := range rows[1:] {
		if len(r) != len(ScanHTTPColumns) {
			t.Fatalf("row of %d columns: %q", len(r), r)
		}
		ip := netip.MustParseAddr(r[2])
		for _, p := range prefixes {
			if p.Contains(ip) {
				inside++
				break
			}
		}
	}
	if share := float64(2000-inside) / 2000; share < 0.2 || share > 0.3 {
		t.Errorf("%.2f outside, want about 0.25", share)
	}
}
