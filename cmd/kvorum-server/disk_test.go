package main

import (
	"strings"
	"testing"
)

// With less free disk than --min-free-disk a node refuses writes with
// MISCONF and still serves reads.
func TestDisk_LowRefusesWritesServesReads(t *testing.T) {
	p := start(t, t.TempDir(), "--min-free-disk", "16000000gb")
	c := dial(t, p.addr)
	if v := c.do("SET", "k", "v"); !strings.HasPrefix(v.Text(), "MISCONF kvorum cannot persist writes") {
		t.Fatalf("SET with the disk below the minimum = %v", v)
	}
	if v := c.do("GET", "k"); v.IsError() {
		t.Fatalf("GET with the disk low = %v, want it served", v)
	}
}

func TestSizeFlag(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "4096": 4096, "64mb": 64 << 20, "1GB": 1 << 30, "2k": 2000, "3kb": 3072, "5b": 5} {
		var n uint64
		if err := (sizeFlag{&n}).Set(in); err != nil || n != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, n, err, want)
		}
	}
	for _, bad := range []string{"", "mb", "-1", "12xb", "99999999999999999999", "20000000000gb"} {
		var n uint64
		if err := (sizeFlag{&n}).Set(bad); err == nil {
			t.Errorf("Set(%q) = %d, want an error", bad, n)
		}
	}
	if s := (sizeFlag{new(uint64)}).String(); s != "0" {
		t.Errorf("String of 0 = %q", s)
	}
	n := uint64(64 << 20)
	if s := (sizeFlag{&n}).String(); s != "64mb" {
		t.Errorf("String of 64 MiB = %q", s)
	}
}
