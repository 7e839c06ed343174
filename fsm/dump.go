package fsm

import (
	"bytes"
	"encoding/binary"
	"hash/crc64"

	"github.com/kvorum/kvorum/resp"
)

// DUMP and RESTORE move one key's value as an opaque payload, with
// RESTORE's options and errors as Redis 7.0 answers them. The payload is
// kvorum's own, not Redis's RDB encoding: the value and its kind as a
// snapshot record holds them ([value, kind], written with
// resp.AppendValue), then a 2-byte format version and a CRC-64 (ECMA) of
// everything before it, both little-endian, as Redis lays out its footer.
// So a payload moves between kvorum nodes and versions, not to or from
// Redis, which refuses it as Redis refuses a payload of an unknown RDB
// version ("DUMP payload version or checksum are wrong").
//
// RESTORE's IDLETIME and FREQ are checked as Redis checks them and then
// have nothing to set: kvorum keeps neither access times nor frequencies
// (OBJECT).

func dumpCommands() []Command {
	return []Command{
		{Name: "DUMP", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdDump},
		{Name: "RESTORE", Arity: -4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdRestore},
	}
}

// dumpVersion is the payload format's version.
const dumpVersion = 1

var crcTable = crc64.MakeTable(crc64.ECMA)

func cmdDump(c *Ctx, args []resp.Value) resp.Value {
	key, ok := keyOf(args[1])
	if !ok {
		return errBadKey
	}
	e := c.State.get(key, c.Now)
	if e == nil {
		return resp.NullBulk()
	}
	kind := int64(recordPlain)
	switch {
	case e.zset != nil:
		kind = recordZset
	case e.set != nil:
		kind = recordSet
	case e.stream != nil:
		kind = recordStream
	}
	b := resp.AppendValue(nil, resp.Array(e.Val(), resp.Int(kind)))
	b = binary.LittleEndian.AppendUint16(b, dumpVersion)
	b = binary.LittleEndian.AppendUint64(b, crc64.Checksum(b, crcTable))
	return resp.Bulk(b)
}

func cmdRestore(c *Ctx, args []resp.Value) resp.Value {
	replace, absTTL := false, false
	idle, freq := int64(-1), int64(-1)
	for j := 4; j < len(args); j++ {
		more := len(args) - j - 1
		switch opt := argUpper(args[j]); {
		case opt == "REPLACE":
			replace = true
		case opt == "ABSTTL":
			absTTL = true
		case opt == "IDLETIME" && freq == -1 && more >= 1:
			n, ok := argInt(args[j+1])
			if !ok {
				return errNotInt
			}
			if n < 0 {
				return resp.Err("ERR Invalid IDLETIME value, must be >= 0")
			}
			idle = n
			j++
		case opt == "FREQ" && idle == -1 && more >= 1:
			n, ok := argInt(args[j+1])
			if !ok {
				return errNotInt
			}
			if n < 0 || n > 255 {
				return resp.Err("ERR Invalid FREQ value, must be >= 0 and <= 255")
			}
			freq = n
			j++
		default:
			return errSyntax
		}
	}
	key, ok := keyOf(args[1])
	if !ok {
		return errBadKey
	}
	if !replace && c.State.get(key, c.Now) != nil {
		return resp.Err("BUSYKEY Target key name already exists.")
	}
	ttl, ok := argInt(args[2])
	if !ok {
		return errNotInt
	}
	if ttl < 0 {
		return resp.Err("ERR Invalid TTL value, must be >= 0")
	}
	payload := args[3].TextBytes()
	if n := len(payload); n < 10 || binary.LittleEndian.Uint16(payload[n-10:]) != dumpVersion ||
		binary.LittleEndian.Uint64(payload[n-8:]) != crc64.Checksum(payload[:n-8], crcTable) {
		return resp.Err("ERR DUMP payload version or checksum are wrong")
	}
	e, ok := decodeDump(payload[:len(payload)-10])
	if !ok {
		return resp.Err("ERR Bad data format")
	}
	if replace {
		c.State.del(key, c.Now)
	}
	if ttl > 0 && !absTTL {
		ttl += c.Now
	}
	if ttl > 0 && ttl <= c.Now { // already expired: the old key is gone, nothing is added
		return c.OK()
	}
	e.Expire, e.Mod = ttl, c.Index
	c.State.put(key, e)
	if e.isList() || e.isZSet() {
		c.Pushed = append(c.Pushed, key)
	}
	return c.OK()
}

// decodeDump reads a payload's [value, kind] into a new entry.
func decodeDump(b []byte) (*Entry, bool) {
	rd := resp.NewReader(bytes.NewReader(b), resp.Limits{})
	v, err := rd.ReadValue()
	if err != nil || v.Kind() != resp.KindArray || len(v.Elems()) != 2 {
		return nil, false
	}
	if _, err := rd.ReadValue(); err == nil { // trailing bytes
		return nil, false
	}
	f := v.Elems()
	e := &Entry{Value: f[0]}
	if !restoreKind(e, f[1]) {
		return nil, false
	}
	return e, !e.plain() || !e.Value.IsNull()
}
