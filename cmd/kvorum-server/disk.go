package main

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"github.com/kvorum/kvorum/cluster/door"
)

// sizeFlag is a flag holding a size in bytes written as Redis writes one
// (64mb, 1gb, 4096: k m g are powers of 1000, kb mb gb of 1024), parsed by
// the door's CONFIG parser but strictly: digits are required and a size
// that does not fit in 64 bits is an error.
type sizeFlag struct{ bytes *uint64 }

// String writes the size in the largest binary unit that divides it.
func (f sizeFlag) String() string {
	if f.bytes == nil || *f.bytes == 0 {
		return "0"
	}
	n := *f.bytes
	for _, u := range []struct {
		name string
		size uint64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}} {
		if n%u.size == 0 {
			return strconv.FormatUint(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatUint(n, 10)
}

func (f sizeFlag) Set(s string) error {
	digits := len(s) - len(strings.TrimLeft(s, "0123456789"))
	unit, ok := door.ParseMemory("1" + s[digits:])
	if digits == 0 || !ok {
		return fmt.Errorf("%q is not a size (digits, then b k kb m mb g gb)", s)
	}
	num, err := strconv.ParseUint(s[:digits], 10, 64)
	hi, n := bits.Mul64(num, unit)
	if err != nil || hi != 0 {
		return fmt.Errorf("%q is too large", s)
	}
	*f.bytes = n
	return nil
}
