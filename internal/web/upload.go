package web

// UploadPage registers a portal page that takes a multipart/form-data body
// of up to maxBody bytes instead of MaxFormBytes (a file upload). The body
// is parsed in memory up to that limit, so that an uploaded file is never
// written to a temporary file on disk.
func (s *Server) UploadPage(pattern string, h Handler, maxBody int64) {
	if s.bodyLimits == nil {
		s.bodyLimits = map[string]int64{}
	}
	s.bodyLimits[pattern] = maxBody
	s.Page(pattern, h)
}

// bodyLimit is the body limit of the portal route pattern.
func (s *Server) bodyLimit(pattern string) int64 {
	if n, ok := s.bodyLimits[pattern]; ok && n > MaxFormBytes {
		return n
	}
	return MaxFormBytes
}
