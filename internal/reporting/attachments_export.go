package reporting

// The checks of attachments (attachments_check.go) as other capabilities
// reuse them: the cases' attachments (cases/attachments.go) accept the
// same files, cleaned, checked and downloaded the same way.

import "io"

// CleanAttachmentName returns a file name cleaned as attachments' are:
// without directories, control and formatting characters, in NFC, at
// most 150 characters with its extension kept; "" when nothing is left.
func CleanAttachmentName(name string) string { return cleanName(name) }

// DetectAttachmentType returns the media type of an accepted file named
// name with content b (by its extension, checked against its content), or
// the message key of why it is refused (err.att.type_not_allowed,
// err.att.type_mismatch).
func DetectAttachmentType(name string, b []byte) (media, code string) { return detectType(name, b) }

// AttachmentSizeText writes a size limit for messages: "20 MB".
func AttachmentSizeText(n int64) string { return sizeText(n) }

// ReadAttachment reads an uploaded file of at most max bytes; a larger
// one is refused (TooLargeError) without reading the rest.
func ReadAttachment(rd io.Reader, name string, max int64) ([]byte, error) {
	return readFile(rd, name, max)
}
