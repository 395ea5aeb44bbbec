// Package feeds turns bulk security feeds (Shadowserver reports first) into
// harmonised events, matches them to the constituency, deduplicates them
// and prepares the notifications of the organisations concerned (the
// CSIRT's early warning, csirt.md §1.1–1.2).
//
// Events use IntelMQ's harmonisation (field names such as source.ip and
// classification.taxonomy, and its value normalisation), so that a CERT
// can compare Belfry's output with IntelMQ's for the same file. The fields
// that the pipeline works on (time, classification, severity, the source
// and destination addresses) are typed members of Event; every other
// field is in Fields, in the order the report gives them.
package feeds

import (
	"net/netip"
	"time"
)

// Event is one harmonised event of a feed.
type Event struct {
	// Feed names the kind of input: for Shadowserver, the report type
	// ("scan_http", "event4_sinkhole"); FeedName is IntelMQ's feed.name
	// ("Accessible-HTTP").
	Feed, FeedName string

	// Time is time.source, in UTC; zero when the row gave none.
	Time time.Time
	// Severity is Shadowserver's: critical, high, medium, low or info
	// ("" when not given).
	Severity string
	// Classification (classification.taxonomy, .type, .identifier).
	Taxonomy, Type, Identifier string

	// Source and destination. A zero Addr, port or ASN is absent.
	SrcIP   netip.Addr
	SrcPort uint16
	SrcASN  uint32
	SrcFQDN string
	DstIP   netip.Addr
	DstPort uint16
	DstASN  uint32
	DstFQDN string

	// Fields are the other harmonised fields, as IntelMQ names them
	// ("protocol.transport", "extra.tag"). A value is a string, int64,
	// float64, bool or []string.
	Fields []Field

	// Row is the number of the data row in its file (1 for the first row
	// after the header).
	Row int
}

// Field is one harmonised field of an event beyond the typed members.
type Field struct {
	Key   string
	Value any
}

// Problem is a row that could not be read, kept with the reason: rows are
// never dropped silently.
type Problem struct {
	Row    int    `json:"row"`
	Reason string `json:"reason"`
	Raw    string `json:"raw"` // the row as read, cut to a reasonable length
}
