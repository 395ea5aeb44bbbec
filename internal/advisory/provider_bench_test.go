package advisory

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/dbtest"
)

// BenchmarkProviderTree measures what the provider tree and the public
// list do per request, with BELFRY_BENCH_ADVISORIES published advisories
// (default 1,000; each published through the real workflow: validated,
// signed, stored) on SQLite:
//
//	go test ./internal/advisory -run '^$' -bench ProviderTree -benchtime 200x
func BenchmarkProviderTree(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("BELFRY_BENCH_ADVISORIES")); err == nil && v > 0 {
		n = v
	}
	db := dbtest.SQLite(b)
	f := newFixture(b, db)
	start := time.Now()
	var last *Advisory
	for i := range n {
		a, err := f.svc.Create(f.authorCtx, NewInput{Title: fmt.Sprintf("Advisory %d", i), Lang: "en", TLP: "WHITE"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.svc.Edit(f.authorCtx, a.ID, fill); err != nil {
			b.Fatal(err)
		}
		if _, err := f.svc.Submit(f.authorCtx, a.ID, SubmitInput{}); err != nil {
			b.Fatal(err)
		}
		if last, err = f.svc.Approve(f.revCtx, a.ID, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("published %d advisories in %s (%.1f ms each: validate, sign, store)", n, time.Since(start).Round(time.Millisecond),
		float64(time.Since(start).Milliseconds())/float64(n))
	ctx := context.Background()
	base := "https://belfry.example"
	b.Run("index", func(b *testing.B) {
		for b.Loop() {
			if vs, err := f.svc.Tree(ctx, "WHITE"); err != nil || len(vs) != n {
				b.Fatal(len(vs), err)
			}
		}
	})
	b.Run("rolie-feed", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.svc.Feed(ctx, base, "WHITE"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("document", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.svc.treeFile(ctx, "WHITE", last.Published.Year, csaf.FileName(last.TrackingID)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("provider-metadata", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.svc.ProviderMetadata(ctx, base); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("public-list-search", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := f.svc.List(ctx, ListFilter{Text: "gateway", CVE: "CVE-2026-12345", Limit: 20}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
