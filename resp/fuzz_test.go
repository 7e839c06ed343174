package resp

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReader: whatever the input, the Reader never panics and fails only
// with io.EOF, io.ErrUnexpectedEOF or a *ProtocolError; every value it
// parses, written back with AppendValue, reads back Equal (and so does every
// request through ReadRequest); every mode's encoding of it is one valid
// frame.
func FuzzReader(f *testing.F) {
	for _, seed := range []string{
		"+OK\r\n", "-ERR x\r\n", ":-42\r\n", "$5\r\nhel\r\n\r\n", "$-1\r\n", "*-1\r\n", "*0\r\n", "%0\r\n",
		"_\r\n", "#t\r\n", "#f\r\n", ",1.5\r\n", ",-inf\r\n", ",nan\r\n", ",1e300\r\n", ",-0\r\n", ",0x1p-2\r\n",
		"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
		"*2\r\n%2\r\n+a\r\n*1\r\n:1\r\n$1\r\nb\r\n_\r\n,2.5\r\n",
		"+a\rb\r\n", "+a\r\r\n", "PING\r\nSET \"a b\" 'c\\'d' \"\\x41\\n\"\n\n",
		"ECHO a\"b c\"\r\n", "+SET k v\r\n", "$7\r\nGET \"k\"\r\n",
	} {
		f.Add([]byte(seed))
	}
	for _, depth := range []int{2, 128, 129} {
		arrays, _ := nested(depth, false)
		dicts, _ := nested(depth, true)
		f.Add([]byte(arrays))
		f.Add([]byte(dicts))
	}
	for _, h := range hostile {
		f.Add([]byte(h.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lim := range []Limits{{}, fuzzLimits} {
			r := NewReader(bytes.NewReader(data), lim)
			for {
				v, err := r.ReadValue()
				if err != nil {
					checkReadError(t, data, err)
					break
				}
				checkRoundTrip(t, v, lim)
			}
			r = NewReader(bytes.NewReader(data), lim)
			for {
				args, err := r.ReadRequest()
				if err != nil {
					checkReadError(t, data, err)
					break
				}
				if len(args) == 0 {
					t.Fatalf("ReadRequest returned no arguments for %q", data)
				}
				enc := AppendValue(nil, Array(args...))
				back, err := NewReader(bytes.NewReader(enc), lim).ReadRequest()
				if err != nil || !Equal(Array(back...), Array(args...)) {
					t.Fatalf("request %v encoded as %q reads back as %v, %v", args, enc, back, err)
				}
			}
		}
	})
}

// fuzzLimits are small enough for the fuzzer to reach every bound; what
// a Reader with them accepts, the Writer must write within them too.
var fuzzLimits = Limits{MaxBulk: 64, MaxElements: 8, MaxDepth: 4, MaxInline: 32}

func checkReadError(t *testing.T, data []byte, err error) {
	t.Helper()
	if err != io.EOF && err != io.ErrUnexpectedEOF && !IsProtocolError(err) && !errors.Is(err, ErrUnbalancedQuotes) {
		t.Fatalf("parsing %q: unexpected error %v", data, err)
	}
}

// checkRoundTrip checks that v survives AppendValue under lim and every
// mode's encoding is one frame.
func checkRoundTrip(t *testing.T, v Value, lim Limits) {
	t.Helper()
	enc := AppendValue(nil, v)
	back, err := readAll(string(enc), lim)
	if err != io.EOF || len(back) != 1 || !Equal(back[0], v) {
		t.Fatalf("%v encoded as %q reads back as %v, %v", v, enc, back, err)
	}
	if c := v.Clone(); !Equal(c, v) {
		t.Fatalf("Clone of %v is %v", v, c)
	}
	for _, m := range []Mode{Native, RESP2, RESP3} {
		enc := AppendReply(nil, v, m)
		if vs, err := readAll(string(enc), Limits{}); err != io.EOF || len(vs) != 1 {
			t.Fatalf("%v in %v encoded as %q reads back as %v, %v", v, m, enc, vs, err)
		}
	}
}
