package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Column positions of the events table (bowtie.Tables order).
const (
	evID = iota
	evTS
	evReceived
	evType
	evName
	evAnon
	evPerson
	evAccount
	evSource
	evMedium
	evCampaign
	evTerm
	evContent
	evClickType
	evClickID
	evReferrer
	evURL
	evChannel
	evRevenue
	evCurrency
	evProperties
)

// Boxed constants: assigning them to a row does not allocate.
var (
	tPage     any = "page"
	tScreen   any = "screen"
	tTrack    any = "track"
	tIdentify any = "identify"
	tGroup    any = "group"
)

// touch is the campaign context of a session: every event of the session
// carries it (session-scoped attribution, as analytics tools do); the click
// id is on the landing event only.
type touch struct {
	c  *campaign
	cr int
	tm int // term index, -1 for none
}

// emitter writes events rows with ids unique within a unit: prefix, the
// unit's number and a counter.
type emitter struct {
	s   *sink
	r   *rnd
	buf []byte
	pre int
	n   int
}

func (e *emitter) begin(prefix string, unit int) {
	e.buf = append(e.buf[:0], prefix...)
	e.buf = strconv.AppendInt(e.buf, int64(unit), 10)
	e.buf = append(e.buf, '-')
	e.pre = len(e.buf)
	e.n = 0
}

// ev starts an event row at ts with type and name.
func (e *emitter) ev(ts int64, typ, name any) []any {
	row := e.s.row()
	e.buf = strconv.AppendInt(e.buf[:e.pre], int64(e.n), 36)
	e.n++
	row[evID] = string(e.buf)
	row[evTS] = utc(ts)
	// Most events arrive within a second or two; a few are batched by
	// clients that were offline.
	lat := int64(40 + e.r.IntN(1200))
	if e.r.IntN(64) == 0 {
		lat += int64(e.r.IntN(3_600_000))
	}
	row[evReceived] = utcMs(ts, lat)
	row[evType] = typ
	row[evName] = name
	return row
}

// setTouch fills the campaign columns of row from t.
func setTouch(row []any, t *touch) {
	c := t.c
	s := c.src
	row[evSource] = s.vSource
	row[evMedium] = s.vMedium
	row[evCampaign] = c.vName
	if t.tm >= 0 && t.tm < len(c.terms) {
		row[evTerm] = c.terms[t.tm]
	}
	row[evContent] = c.creatives[t.cr]
	row[evReferrer] = s.vRef
	row[evChannel] = c.vChannel
}

// clickID returns a random click id.
func (e *emitter) clickID() string {
	var b [24]byte
	x := strconv.AppendUint(b[:0], e.r.Uint64(), 36)
	return string(x)
}

// idOf returns prefix + a (+ "-" + b when b >= 0).
func idOf(buf []byte, prefix string, a int, b int) string {
	buf = append(buf[:0], prefix...)
	buf = strconv.AppendInt(buf, int64(a), 10)
	if b >= 0 {
		buf = append(buf, '-')
		buf = strconv.AppendInt(buf, int64(b), 10)
	}
	return string(buf)
}

// hashEmail returns the hex SHA-256 of an e-mail address, as people.email_hash.
func hashEmail(addr string) string {
	h := sha256.Sum256([]byte(addr))
	return hex.EncodeToString(h[:])
}
