package query

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"hash/maphash"
	"math/bits"

	"github.com/bowtie-analytics/bowtie/internal/rawscan"
)

// keyTable finds unit keys ('p' + person id, 'a' + anonymous id) for the
// per-person pass: an open-addressing table of the keys' hashes, with the
// key compared on equal hashes, behind a bit filter.
type keyTable struct {
	// filter has a bit set per key, at the top bits of its hash: a
	// megabyte per million keys, so that most keys looked up in vain (the
	// anonymous ids never linked to a person: most page views of most
	// sites) are told apart in the CPU's cache, without a probe of slots
	// (one in nine passes the filter).
	filter     []uint64
	filterBits int
	slots      []keySlot // a power of two in length
	hs         []uint64  // per entry, until build
	keys       []uint32  // per entry: where its key lies in arena
	arena      []byte    // uvarint length + key, as the row arenas
}

// keySlot is a slot of the table: the key's hash and its entry + 1 (0:
// empty), so that a miss costs one cache line.
type keySlot struct {
	h uint64
	e uint32
}

// reserve sizes the table's buffers, from bufs, for n entries whose keys
// take about keyBytes each.
func (t *keyTable) reserve(bufs *fastBuffers, n, keyBytes int) {
	t.hs = fastSlice[uint64](bufs, n)[:0]
	t.keys = fastSlice[uint32](bufs, n)[:0]
	t.arena = fastSlice[byte](bufs, keyBytes*n)[:0]
}

// add appends the entry of key (with hash h), returns its offset in the
// arena, or errNotFast when the arena is full.
func (t *keyTable) add(key []byte, h uint64) (uint32, error) {
	off := uint32(len(t.arena))
	t.arena = appendKey(t.arena, key)
	if len(t.arena) >= 1<<arenaBits {
		return 0, errNotFast
	}
	t.hs = append(t.hs, h)
	t.keys = append(t.keys, off)
	return off, nil
}

// build fills the filter and the slots once every entry is added.
func (t *keyTable) build(bufs *fastBuffers) {
	t.filterBits = max(bits.Len(uint(8*len(t.hs))), 6)
	t.filter = fastSlice[uint64](bufs, 1<<(t.filterBits-6))
	t.slots = fastSlice[keySlot](bufs, 1<<bits.Len(uint(2*len(t.hs))))
	mask := uint64(len(t.slots) - 1)
	for e, h := range t.hs {
		f := h >> (64 - t.filterBits)
		t.filter[f>>6] |= 1 << (f & 63)
		i := h & mask
		for t.slots[i].e != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = keySlot{h, uint32(e + 1)}
	}
	t.hs = nil
}

// lookup returns the entry of key (with hash h), or -1.
func (t *keyTable) lookup(h uint64, key []byte) int {
	if f := h >> (64 - t.filterBits); t.filter[f>>6]&(1<<(f&63)) == 0 {
		return -1
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; t.slots[i].e != 0; i = (i + 1) & mask {
		if s := t.slots[i]; s.h == h {
			if e := int(s.e - 1); bytes.Equal(arenaKey(t.arena, t.keys[e]), key) {
				return e
			}
		}
	}
	return -1
}

// aliasTable resolves anonymous ids to people: the rows of identities of
// kind 'anonymous' (alias_id is unique per kind), keyed 'a' + alias, each
// with its person's key ('p' + person id; offset in the same arena and
// hash). DuckDB's LEFT JOIN did the same in the selecting query at about
// twice the cost.
type aliasTable struct {
	keyTable
	pOff []uint32
	pH   []uint64
}

// loadAliases reads identities, on conn, into an aliasTable whose large
// buffers come from bufs.
func loadAliases(ctx context.Context, conn *sql.Conn, bufs *fastBuffers) (*aliasTable, error) {
	t := &aliasTable{}
	var key []byte
	err := rawscan.ScanParallelConn(ctx, conn, "-- query.RunEventFunnel (per-person pass: identities)\n"+
		"SELECT alias_id, person_id FROM identities WHERE kind = 'anonymous'", nil, 1, func(slots int) error {
		t.reserve(bufs, slots, 48)
		t.pOff = fastSlice[uint32](bufs, slots)[:0]
		t.pH = fastSlice[uint64](bufs, slots)[:0]
		return nil
	}, func(_ int, c *rawscan.Chunk, _ int) error {
		as, err := c.Strings(0)
		if err != nil {
			return err
		}
		ps, err := c.Strings(1)
		if err != nil {
			return err
		}
		for r := 0; r < c.Len(); r++ {
			key = append(append(key[:0], 'a'), as.Bytes(r)...)
			if _, err := t.add(key, maphash.Bytes(fastSeed, key)); err != nil {
				return err
			}
			key = append(append(key[:0], 'p'), ps.Bytes(r)...)
			t.pH = append(t.pH, maphash.Bytes(fastSeed, key))
			t.pOff = append(t.pOff, uint32(len(t.arena)))
			if t.arena = appendKey(t.arena, key); len(t.arena) >= 1<<arenaBits {
				return errNotFast
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	t.build(bufs)
	return t, nil
}

// appendKey appends key to arena with its uvarint length.
func appendKey(arena, key []byte) []byte {
	return append(binary.AppendUvarint(arena, uint64(len(key))), key...)
}

// arenaKey returns the key written at off by appendKey.
func arenaKey(arena []byte, off uint32) []byte {
	n, w := binary.Uvarint(arena[off:])
	return arena[int(off)+w : int(off)+w+int(n)]
}
