package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var staticFS embed.FS

// staticFiles serves the embedded assets under content-hashed names
// (/static/belfry.3f2a9c1e.css) with a year-long cache lifetime.
type staticFiles struct {
	byHashed map[string][]byte
}

var staticNames = map[string]string{} // logical name -> hashed URL path

func newStaticFiles() *staticFiles {
	sf := &staticFiles{byHashed: map[string][]byte{}}
	fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := staticFS.ReadFile(p)
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:4]) + ext
		sf.byHashed[hashed] = b
		staticNames[name] = "/static/" + hashed
		return nil
	})
	return sf
}

// staticPath returns the hashed URL of an embedded asset.
func staticPath(name string) string {
	if p, ok := staticNames[name]; ok {
		return p
	}
	return "/static/" + name
}

func (sf *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	b, ok := sf.byHashed[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(b)
}
