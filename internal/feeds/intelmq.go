package feeds

import (
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// IntelMQOptions are the parts of IntelMQ's event that are not in Event.
type IntelMQOptions struct {
	// Raw is the event's source text (for Shadowserver, the header line
	// and the row); written base64-encoded as "raw" when not nil.
	Raw []byte
	// Observation is written as time.observation when not zero. IntelMQ
	// sets it to the time its collector fetched the report, so it differs
	// between runs; leave it zero for reproducible output.
	Observation time.Time
	// Provider is written as feed.provider when not empty ("Shadowserver").
	Provider string
}

// AppendIntelMQ appends ev as one line of IntelMQ's JSON: a flat object
// with dotted keys ("source.ip", "extra.tag"), sorted as IntelMQ sorts
// them, followed by a newline. Times are in IntelMQ's form
// (2026-03-01T04:05:06+00:00), ASNs and ports are numbers, and Fields keep
// their types. Text is written as UTF-8, not \u-escaped.
func AppendIntelMQ(dst []byte, ev *Event, o IntelMQOptions) []byte {
	var buf [48]Field
	kv := buf[:0]
	str := func(k, v string) {
		if v != "" {
			kv = append(kv, Field{k, v})
		}
	}
	num := func(k string, v uint32) {
		if v != 0 {
			kv = append(kv, Field{k, int64(v)})
		}
	}
	str("feed.name", ev.FeedName)
	str("feed.provider", o.Provider)
	if !ev.Time.IsZero() {
		kv = append(kv, Field{"time.source", ev.Time})
	}
	if !o.Observation.IsZero() {
		kv = append(kv, Field{"time.observation", o.Observation})
	}
	str("severity", ev.Severity)
	str("classification.taxonomy", ev.Taxonomy)
	str("classification.type", ev.Type)
	str("classification.identifier", ev.Identifier)
	if ev.SrcIP.IsValid() {
		kv = append(kv, Field{"source.ip", ev.SrcIP.String()})
	}
	num("source.port", uint32(ev.SrcPort))
	num("source.asn", ev.SrcASN)
	str("source.fqdn", ev.SrcFQDN)
	if ev.DstIP.IsValid() {
		kv = append(kv, Field{"destination.ip", ev.DstIP.String()})
	}
	num("destination.port", uint32(ev.DstPort))
	num("destination.asn", ev.DstASN)
	str("destination.fqdn", ev.DstFQDN)
	kv = append(kv, ev.Fields...)
	if o.Raw != nil {
		kv = append(kv, Field{"raw", base64.StdEncoding.EncodeToString(o.Raw)})
	}
	slices.SortStableFunc(kv, func(a, b Field) int { return strings.Compare(a.Key, b.Key) })

	dst = append(dst, '{')
	for i, f := range kv {
		if i > 0 && f.Key == kv[i-1].Key {
			continue // a key once, the first value wins
		}
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = appendString(dst, f.Key)
		dst = append(dst, ": "...)
		dst = appendJSONValue(dst, f.Value)
	}
	return append(dst, "}\n"...)
}

func appendJSONValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendString(dst, v)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case int:
		return strconv.AppendInt(dst, int64(v), 10)
	case float64:
		return appendPythonFloat(dst, v)
	case bool:
		return strconv.AppendBool(dst, v)
	case time.Time:
		dst = append(dst, '"')
		dst = AppendTime(dst, v)
		return append(dst, '"')
	case []string:
		dst = append(dst, '[')
		for i, s := range v {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = appendString(dst, s)
		}
		return append(dst, ']')
	case nil:
		return append(dst, "null"...)
	}
	return append(dst, "null"...)
}

// appendPythonFloat writes a float as Python's json does: 2.0, not 2.
func appendPythonFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
		return append(dst, ".0"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

// AppendTime appends t as IntelMQ writes times (Python's isoformat in
// UTC): 2026-03-01T04:05:06+00:00, with microseconds when there are any.
func AppendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	if t.Nanosecond()/1000 != 0 {
		dst = t.AppendFormat(dst, "2006-01-02T15:04:05.000000")
	} else {
		dst = t.AppendFormat(dst, "2006-01-02T15:04:05")
	}
	return append(dst, "+00:00"...)
}
