package web

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
)

//go:embed openapi.json
var openapiBase []byte

// OpenAPI merges the base document with every capability's fragment. Two
// fragments that define the same path or schema are an error.
func (s *Server) OpenAPI() (map[string]any, error) {
	var doc map[string]any
	if err := json.Unmarshal(openapiBase, &doc); err != nil {
		return nil, fmt.Errorf("web: openapi base: %w", err)
	}
	paths := map[string]any{}
	comps := doc["components"].(map[string]any)
	for i, frag := range s.openapi[1:] {
		var f struct {
			Paths      map[string]any            `json:"paths"`
			Components map[string]map[string]any `json:"components"`
		}
		if err := json.Unmarshal(frag, &f); err != nil {
			return nil, fmt.Errorf("web: openapi fragment %d: %w", i+1, err)
		}
		for p, v := range f.Paths {
			if _, dup := paths[p]; dup {
				return nil, fmt.Errorf("web: openapi path %s defined twice", p)
			}
			paths[p] = v
		}
		for kind, m := range f.Components {
			dst, _ := comps[kind].(map[string]any)
			if dst == nil {
				dst = map[string]any{}
				comps[kind] = dst
			}
			for name, v := range m {
				if _, dup := dst[name]; dup {
					return nil, fmt.Errorf("web: openapi component %s/%s defined twice", kind, name)
				}
				dst[name] = v
			}
		}
	}
	doc["paths"] = paths
	return doc, nil
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) error {
	doc, err := s.OpenAPI()
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(b)
	return err
}
