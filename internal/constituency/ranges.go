package constituency

import (
	"cmp"
	"encoding/binary"
	"net/netip"
)

// IP lookups use a flat table of disjoint address intervals computed at
// build time: nested and overlapping prefixes are resolved once, so a lookup
// is a binary search for the last interval starting at or before the address
// and needs no backtracking. A first-level index on the top 16 bits of the
// address narrows the search to the intervals that start inside its /16 (or
// IPv6 /16).

// u128 is an unsigned 128-bit number; IPv4 addresses use the low 32 bits.
type u128 struct{ hi, lo uint64 }

func (x u128) compare(y u128) int {
	if x.hi != y.hi {
		return cmp.Compare(x.hi, y.hi)
	}
	return cmp.Compare(x.lo, y.lo)
}

func (x u128) less(y u128) bool { return x.hi < y.hi || x.hi == y.hi && x.lo < y.lo }

func (x u128) next() u128 {
	if x.lo == ^uint64(0) {
		return u128{x.hi + 1, 0}
	}
	return u128{x.hi, x.lo + 1}
}

// lastIn returns the last address of the prefix of length bits (of 128)
// starting at x.
func (x u128) lastIn(bits int) u128 {
	if bits >= 64 {
		return u128{x.hi, x.lo | ^uint64(0)>>(bits-64)}
	}
	return u128{x.hi | ^uint64(0)>>bits, ^uint64(0)}
}

func (x u128) addr6() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], x.hi)
	binary.BigEndian.PutUint64(b[8:], x.lo)
	return netip.AddrFrom16(b)
}

func key4(a netip.Addr) u128 {
	b := a.As4()
	return u128{lo: uint64(binary.BigEndian.Uint32(b[:]))}
}

func key16(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// A prefixRange is the address range of one distinct claimed prefix and the
// index of its Match.
type prefixRange struct {
	first, last u128
	val         int32
}

// An interval starts at start and runs to the start of the next one; val is
// the index of its Match, or -1 for no owner.
type interval struct {
	start u128
	val   int32
}

// sweep turns prefix ranges, sorted by first address and then by length
// (containing prefixes first), into disjoint intervals covering [0, last],
// each labelled with the longest prefix covering it. Adjacent intervals with
// the same label are merged. Prefixes either nest or are disjoint, so a stack
// of the open prefixes is enough.
func sweep(ranges []prefixRange, last u128) []interval {
	out := make([]interval, 0, 2*len(ranges)+1)
	emit := func(start u128, val int32) {
		if n := len(out); n > 0 && out[n-1].val == val {
			return
		}
		out = append(out, interval{start, val})
	}
	var stack []prefixRange
	top := func() int32 {
		if len(stack) == 0 {
			return -1
		}
		return stack[len(stack)-1].val
	}
	var cur u128 // first address not yet covered by an emitted interval
	done := false
	for _, r := range ranges {
		for len(stack) > 0 && stack[len(stack)-1].last.less(r.first) {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !p.last.less(cur) {
				emit(cur, p.val)
				cur = p.last.next() // p.last < r.first, so no overflow
			}
		}
		if cur.less(r.first) {
			emit(cur, top())
		}
		cur = r.first
		stack = append(stack, r)
	}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !done && !p.last.less(cur) {
			emit(cur, p.val)
			if p.last == last {
				done = true
			} else {
				cur = p.last.next()
			}
		}
	}
	if !done {
		emit(cur, -1)
	}
	return out
}

type interval4 struct {
	start uint32
	val   int32
}

// A bucketIndex maps the top 16 bits of an address to the range of
// intervals to search: index[b] is the interval holding the first address of
// bucket b, and index[1<<16] the last interval.
type bucketIndex [1<<16 + 1]int32

// fill sets x for n intervals, where startsBy(i, b) reports whether
// interval i starts at or before the first address of bucket b.
func (x *bucketIndex) fill(n int, startsBy func(i int, b uint32) bool) {
	j := 0
	for b := range uint32(1 << 16) {
		for j+1 < n && startsBy(j+1, b) {
			j++
		}
		x[b] = int32(j)
	}
	x[1<<16] = int32(n - 1)
}

// table4 is the IPv4 interval table.
type table4 struct {
	index     bucketIndex
	intervals []interval4
}

func newTable4(ivs []interval) *table4 {
	t := &table4{intervals: make([]interval4, len(ivs))}
	for i, iv := range ivs {
		t.intervals[i] = interval4{uint32(iv.start.lo), iv.val}
	}
	t.index.fill(len(ivs), func(i int, b uint32) bool { return t.intervals[i].start <= b<<16 })
	return t
}

// lookup returns the label of the interval holding a: the last one starting
// at or before a, found between the intervals holding the first addresses
// of a's bucket and of the next.
func (t *table4) lookup(a uint32) int32 {
	b := a >> 16
	lo, hi := int(t.index[b]), int(t.index[b+1])
	ivs := t.intervals
	for lo < hi {
		m := int(uint(lo+hi+1) >> 1)
		if ivs[m].start <= a {
			lo = m
		} else {
			hi = m - 1
		}
	}
	return ivs[lo].val
}

// table6 is the IPv6 interval table. Interval starts are split in two arrays
// so that the search mostly reads the dense high halves.
type table6 struct {
	index    bucketIndex
	his, los []uint64
	vals     []int32
}

func newTable6(ivs []interval) *table6 {
	t := &table6{his: make([]uint64, len(ivs)), los: make([]uint64, len(ivs)), vals: make([]int32, len(ivs))}
	for i, iv := range ivs {
		t.his[i], t.los[i], t.vals[i] = iv.start.hi, iv.start.lo, iv.val
	}
	t.index.fill(len(ivs), func(i int, b uint32) bool {
		return t.his[i] < uint64(b)<<48 || t.his[i] == uint64(b)<<48 && t.los[i] == 0
	})
	return t
}

func (t *table6) lookup(ahi, alo uint64) int32 {
	b := ahi >> 48
	lo, hi := int(t.index[b]), int(t.index[b+1])
	his, los := t.his, t.los[:len(t.his)]
	for lo < hi {
		m := int(uint(lo+hi+1) >> 1)
		if h := his[m]; h < ahi || h == ahi && los[m] <= alo {
			lo = m
		} else {
			hi = m - 1
		}
	}
	return t.vals[lo]
}
