package fsm

// Glob reports whether s matches pattern with Redis's glob rules
// (stringmatchlen): * any run, ? one byte, [abc] [^abc] [a-z] a class, \x
// the byte x literally. As in Redis, a trailing \ is a literal backslash, a
// class left open runs to the end of the pattern, and a range may end in ']'
// ("[a-]" is the range ']'..'a').
func Glob(pattern, s []byte) bool {
	// Iterative matching with one backtrack point for the last '*', so a
	// hostile pattern cannot take exponential time: every other token
	// matches exactly one byte, so a later '*' subsumes the earlier ones.
	var starP, starS = -1, 0
	p, i := 0, 0
	for i < len(s) {
		if p < len(pattern) {
			switch c := pattern[p]; c {
			case '*':
				starP, starS = p, i
				p++
				continue
			case '?':
				p++
				i++
				continue
			case '[':
				if n, ok := matchClass(pattern[p:], s[i]); ok {
					p += n
					i++
					continue
				}
			case '\\':
				lit, n := byte('\\'), 1
				if p+1 < len(pattern) {
					lit, n = pattern[p+1], 2
				}
				if lit == s[i] {
					p += n
					i++
					continue
				}
			default:
				if c == s[i] {
					p++
					i++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		p, i = starP+1, starS
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchClass matches c against the class at the start of pattern ("[...]")
// and returns the class's length in bytes: up to and including its ']', or
// the rest of the pattern if it is not closed.
func matchClass(pattern []byte, c byte) (int, bool) {
	i := 1
	neg := i < len(pattern) && pattern[i] == '^'
	if neg {
		i++
	}
	match := false
	for ; i < len(pattern) && pattern[i] != ']'; i++ {
		switch {
		case pattern[i] == '\\' && i+1 < len(pattern):
			i++
			if pattern[i] == c {
				match = true
			}
		case i+2 < len(pattern) && pattern[i+1] == '-':
			lo, hi := pattern[i], pattern[i+2]
			if lo > hi {
				lo, hi = hi, lo
			}
			if lo <= c && c <= hi {
				match = true
			}
			i += 2
		default:
			if pattern[i] == c {
				match = true
			}
		}
	}
	return min(i+1, len(pattern)), match != neg
}
