package ingest

import (
	"hash/maphash"
	"time"
)

// dedupeSet remembers the messageIds stored most recently: at most max of
// them, none older than window. It keeps two 64-bit hashes of each id (128
// bits: a false match between two different ids is out of reach in
// practice) and a ring of them in arrival order to expire the oldest.
// About 45 bytes per id. Not safe for concurrent use: Ingester.dmu guards it.
type dedupeSet struct {
	s1, s2 maphash.Seed
	set    map[[2]uint64]struct{}
	ring   []dedupeEntry
	head   int // index of the oldest entry
	n      int // entries in ring
	window time.Duration
}

type dedupeEntry struct {
	key [2]uint64
	at  int64 // Unix nanoseconds
}

func newDedupeSet(max int, window time.Duration) *dedupeSet {
	return &dedupeSet{s1: maphash.MakeSeed(), s2: maphash.MakeSeed(), set: make(map[[2]uint64]struct{}, min(max, 1<<16)),
		ring: make([]dedupeEntry, max), window: window}
}

func (d *dedupeSet) key(id string) [2]uint64 {
	return [2]uint64{maphash.String(d.s1, id), maphash.String(d.s2, id)}
}

// seen reports whether id was added and has not expired.
func (d *dedupeSet) seen(id string) bool { return d.seenKey(d.key(id)) }

// seenKey is seen of the id whose key is k.
func (d *dedupeSet) seenKey(k [2]uint64) bool {
	_, ok := d.set[k]
	return ok
}

// add records id as stored at time at, evicting the oldest ids beyond the
// bounds.
func (d *dedupeSet) add(id string, at time.Time) { d.addKey(d.key(id), at) }

// addKey is add of the id whose key is k.
func (d *dedupeSet) addKey(k [2]uint64, at time.Time) {
	if _, ok := d.set[k]; ok {
		return
	}
	for d.n > 0 && (d.n == len(d.ring) || time.Duration(at.UnixNano()-d.ring[d.head].at) > d.window) {
		delete(d.set, d.ring[d.head].key)
		d.head = (d.head + 1) % len(d.ring)
		d.n--
	}
	d.ring[(d.head+d.n)%len(d.ring)] = dedupeEntry{k, at.UnixNano()}
	d.n++
	d.set[k] = struct{}{}
}

// len returns the number of ids remembered.
func (d *dedupeSet) len() int { return d.n }
