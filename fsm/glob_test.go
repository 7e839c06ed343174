package fsm_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/fsm"
)

// globCases were checked against redis-server 7.0 (KEYS pattern).
var globCases = []struct {
	pattern string
	match   []string
	miss    []string
}{
	{"", []string{""}, []string{"a"}},
	{"*", []string{"", "a", "anything at all", "\r\n\x00"}, nil},
	{"a", []string{"a"}, []string{"", "A", "aa", "b"}},
	{"a*", []string{"a", "ab", "a]", `a\`}, []string{"", "ba"}},
	{"*a", []string{"a", "aa", "ba"}, []string{"ab", ""}},
	{"a**", []string{"a", "abc"}, []string{"b"}},
	{"a*b*c", []string{"abc", "axxbyyc", "abbbc", "acbc"}, []string{"axxcyyb", "ab", "abcd"}},
	{"?", []string{"a", "]", "\x00", "\xff"}, []string{"", "ab"}},
	{"??", []string{"ab", `a\`}, []string{"a", "abc"}},
	{"*?", []string{"a", "abc"}, []string{""}},
	{"h?llo", []string{"hello", "hallo", "h[llo", "h?llo"}, []string{"hllo", "heello"}},
	{"h*llo", []string{"hllo", "hello", "heeeello"}, []string{"hell", "hellox"}},
	{"h[ae]llo", []string{"hello", "hallo"}, []string{"hillo", "hllo", "haello"}},
	{"h[^e]llo", []string{"hallo", "hxllo", "h[llo", "h*llo"}, []string{"hello", "hllo"}},
	{"h[a-b]llo", []string{"hallo", "hbllo"}, []string{"hcllo", "hello"}},
	{"h[b-a]llo", []string{"hallo", "hbllo"}, []string{"hcllo"}}, // a reversed range is the same range
	{"[^a-z]", []string{"A", "]", "-", "[", "_", "^"}, []string{"a", "m", "z", "AB"}},
	{"[a-c-x]", []string{"a", "b", "c", "-", "x"}, []string{"d", "w"}},
	{"[!a]", []string{"!", "a"}, []string{"b"}}, // '!' is not a negation in Redis
	{"[\\]]", []string{"]"}, []string{"\\", "a"}},
	{"[\\-]", []string{"-"}, []string{"\\"}},
	{"[]", nil, []string{"", "]", "[", "a"}},       // an empty class matches nothing
	{"[]]", nil, []string{"]", "]]"}},              // ... then ']' is a literal
	{"[^]", []string{"a", "]", "^"}, []string{""}}, // an empty negated class matches anything
	{"[^]a", []string{"aa", "ba"}, []string{"a", "ab"}},

	// Escapes.
	{`h\*llo`, []string{"h*llo"}, []string{"hello", "hllo"}},
	{`h\?llo`, []string{"h?llo"}, []string{"hello"}},
	{`h\[llo`, []string{"h[llo"}, []string{"hello"}},
	{`\a`, []string{"a"}, []string{`\a`, `\`}},
	{`\\`, []string{`\`}, []string{`\\`}},
	{`a\`, []string{`a\`}, []string{"a", `a\\`}}, // a trailing backslash is literal
	{`*\`, []string{`\`, `a\`}, []string{"a"}},

	// Redis's unclosed classes and ranges that end in ']'.
	{"[abc", []string{"a", "b", "c"}, []string{"d", "ab", "["}},
	{"h[ae", []string{"ha", "he"}, []string{"h", "hae", "h[ae"}},
	{"[", nil, []string{"", "[", "a"}},
	{"[^", []string{"a", "[", "^"}, []string{"", "ab"}},
	{`[\`, []string{`\`}, []string{"[", ""}},
	{`a[\`, []string{`a\`}, []string{"a"}},
	{"[a-]", []string{"]", "^", "_", "`", "a"}, []string{"-", "b", "\\"}}, // the range ']'..'a'
	{"[a-]x", []string{"]", "x", "a"}, []string{"ax", "-x"}},              // ... and the class runs on

	// Binary bytes are bytes.
	{"\x00*\xff", []string{"\x00\xff", "\x00abc\xff"}, []string{"\x00", "\xff"}},
	{"[\x80-\xff]", []string{"\x80", "\xc3", "\xff"}, []string{"\x7f"}},
}

func TestGlob(t *testing.T) {
	for _, c := range globCases {
		for _, s := range c.match {
			if !fsm.Glob([]byte(c.pattern), []byte(s)) {
				t.Errorf("Glob(%q, %q) = false, want true", c.pattern, s)
			}
		}
		for _, s := range c.miss {
			if fsm.Glob([]byte(c.pattern), []byte(s)) {
				t.Errorf("Glob(%q, %q) = true, want false", c.pattern, s)
			}
		}
	}
}

// TestGlob_Pathological: patterns that take exponential time in a naive
// backtracking matcher finish at once.
func TestGlob_Pathological(t *testing.T) {
	long := strings.Repeat("a", 100_000)
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"a*a*a*a*a*a*b", long, false},
		{"a*a*a*a*a*a*b", long + "b", true},
		{strings.Repeat("*a", 50) + "*b", long, false},
		{strings.Repeat("?*", 40) + "c", long, false},
		{"*[ab]*[ab]*[ab]*[^a]", long, false},
		{strings.Repeat("a*", 1000) + "a", long, true},
	} {
		start := time.Now()
		got := fsm.Glob([]byte(c.pattern), []byte(c.s))
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Glob(%.20q..., %d bytes) took %v", c.pattern, len(c.s), d)
		}
		if got != c.want {
			t.Errorf("Glob(%.20q..., %d bytes) = %v, want %v", c.pattern, len(c.s), got, c.want)
		}
	}
}

// TestGlob_Reference compares Glob with globRef, a slow matcher written
// another way, on many random short patterns and strings over the bytes
// that matter.
func TestGlob_Reference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(alphabet string, max int) []byte {
		b := make([]byte, rng.IntN(max+1))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return b
	}
	for range 20_000 {
		p, s := word(`ab*?[]^-\`, 8), word(`ab]-^\`, 6)
		if got, want := fsm.Glob(p, s), globRef(p, s); got != want {
			t.Fatalf("Glob(%q, %q) = %v, reference says %v", p, s, got, want)
		}
	}
}

func FuzzGlob(f *testing.F) {
	for _, c := range globCases {
		for _, s := range append(c.match, c.miss...) {
			f.Add([]byte(c.pattern), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, p, s []byte) {
		if len(p) > 64 || len(s) > 64 {
			return // globRef is quadratic; short inputs find the bugs
		}
		if got, want := fsm.Glob(p, s), globRef(p, s); got != want {
			t.Fatalf("Glob(%q, %q) = %v, reference says %v", p, s, got, want)
		}
	})
}

// globRef is a reference matcher: it compiles the pattern into tokens (a
// star, or a set of bytes matching one byte), following Redis's
// stringmatchlen rules, then matches by dynamic programming over (token,
// byte) positions.
func globRef(pattern, s []byte) bool {
	type token struct {
		star bool
		set  [256]bool
	}
	var toks []token
	for p := 0; p < len(pattern); p++ {
		var tk token
		switch c := pattern[p]; c {
		case '*':
			tk.star = true
		case '?':
			for i := range tk.set {
				tk.set[i] = true
			}
		case '\\':
			if p+1 < len(pattern) {
				p++
			}
			tk.set[pattern[p]] = true
		case '[':
			p++
			neg := p < len(pattern) && pattern[p] == '^'
			if neg {
				p++
			}
			for ; p < len(pattern) && pattern[p] != ']'; p++ {
				rest := len(pattern) - p
				switch {
				case pattern[p] == '\\' && rest >= 2:
					p++
					tk.set[pattern[p]] = true
				case rest >= 3 && pattern[p+1] == '-':
					lo, hi := min(pattern[p], pattern[p+2]), max(pattern[p], pattern[p+2])
					for b := int(lo); b <= int(hi); b++ {
						tk.set[b] = true
					}
					p += 2
				default:
					tk.set[pattern[p]] = true
				}
			}
			if neg {
				for i := range tk.set {
					tk.set[i] = !tk.set[i]
				}
			}
		default:
			tk.set[c] = true
		}
		toks = append(toks, tk)
	}
	// m[i][j]: toks[i:] matches s[j:].
	m := make([][]bool, len(toks)+1)
	for i := range m {
		m[i] = make([]bool, len(s)+1)
	}
	m[len(toks)][len(s)] = true
	for i := len(toks) - 1; i >= 0; i-- {
		for j := len(s); j >= 0; j-- {
			if toks[i].star {
				m[i][j] = m[i+1][j] || (j < len(s) && m[i][j+1])
			} else {
				m[i][j] = j < len(s) && toks[i].set[s[j]] && m[i+1][j+1]
			}
		}
	}
	return m[0][0]
}
