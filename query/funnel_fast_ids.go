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

// aliasTable resolves anonymous ids to people for the per-person pass: the
// rows of identities of kind 'anonymous' (alias_id is unique per kind),
// looked up by the hash of a row's unit key ('a' + anonymous id). DuckDB's
// LEFT JOIN did the same in the selecting query at about twice the cost; a
// lookup here is a probe of an open-addressing table, with the alias
// compared on equal hashes.
type aliasTable struct {
	// filter has a bit set per identity, at the top bits of its hash: a
	// megabyte per million identities, so that most anonymous ids never
	// linked (most page views of most sites) are told apart in the CPU's
	// cache, without a probe of slots (one in nine passes the filter).
	filter     []uint64
	filterBits int
	slots      []aliasSlot  // a power of two in length
	ents       []aliasEntry // per identity
	arena      []byte       // uvarint length + key, as the row arenas
}

// aliasSlot is a slot of the table: the alias key's hash and its entry
// + 1 (0: empty), so that a miss, the common case (visitors never
// identified), costs one cache line.
type aliasSlot struct {
	h uint64
	e uint32
}

// aliasEntry is an identity: where its alias key lies in the arena, and
// its person's key (offset and hash).
type aliasEntry struct {
	alias, pOff uint32
	pH          uint64
}

// loadAliases reads identities into an aliasTable whose large buffers
// come from bufs.
func loadAliases(ctx context.Context, db *sql.DB, bufs *fastBuffers) (*aliasTable, error) {
	t := &aliasTable{}
	var key []byte
	var hs []uint64
	err := rawscan.ScanParallel(ctx, db, "-- query.RunEventFunnel (per-person pass: identities)\n"+
		"SELECT alias_id, person_id FROM identities WHERE kind = 'anonymous'", nil, 1, func(slots int) error {
		t.ents = fastSlice[aliasEntry](bufs, slots)[:0]
		hs = fastSlice[uint64](bufs, slots)[:0]
		t.arena = fastSlice[byte](bufs, 48*slots)[:0]
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
			var e aliasEntry
			key = append(append(key[:0], 'a'), as.Bytes(r)...)
			hs = append(hs, maphash.Bytes(fastSeed, key))
			e.alias = uint32(len(t.arena))
			t.arena = appendKey(t.arena, key)
			key = append(append(key[:0], 'p'), ps.Bytes(r)...)
			e.pH = maphash.Bytes(fastSeed, key)
			e.pOff = uint32(len(t.arena))
			t.arena = appendKey(t.arena, key)
			if len(t.arena) >= 1<<arenaBits {
				return errNotFast
			}
			t.ents = append(t.ents, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	t.filterBits = max(bits.Len(uint(8*len(hs))), 6)
	t.filter = fastSlice[uint64](bufs, 1<<(t.filterBits-6))
	for _, h := range hs {
		f := h >> (64 - t.filterBits)
		t.filter[f>>6] |= 1 << (f & 63)
	}
	t.slots = fastSlice[aliasSlot](bufs, 1<<bits.Len(uint(2*len(hs))))
	mask := uint64(len(t.slots) - 1)
	for e, h := range hs {
		i := h & mask
		for t.slots[i].e != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = aliasSlot{h, uint32(e + 1)}
	}
	return t, nil
}

// lookup returns the entry of the alias key with hash h, or -1.
func (t *aliasTable) lookup(h uint64, key []byte) int {
	if f := h >> (64 - t.filterBits); t.filter[f>>6]&(1<<(f&63)) == 0 {
		return -1
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; t.slots[i].e != 0; i = (i + 1) & mask {
		if s := t.slots[i]; s.h == h {
			if e := int(s.e - 1); bytes.Equal(arenaKey(t.arena, t.ents[e].alias), key) {
				return e
			}
		}
	}
	return -1
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
