package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kvorum/kvorum/resp"
)

// parseLine splits a typed line into a command's arguments.
//
// Words and quoted strings are split by resp.SplitArgs, exactly as
// redis-cli and kvorum's inline requests do. In addition, an unquoted word
// that starts with '[' or '{' opens a literal array or dict, written as the
// tutorial's Python (or JSON) writes one, which runs to its matching
// bracket and is sent as one nested argument:
//
//	MSET k1 v1 k2 ['v2-0', 1, 'v2-2'] k3 v3
//	SET kx {'vx': {'vy': 0, 'vz': [1, 2, 3]}}
//
// Inside a literal, integers are sent as integers, None or null as nil,
// other numbers and quoted text as strings. To send text that starts with
// a bracket, quote it: SET k '[not a list]'.
func parseLine(line string) ([]resp.Value, error) {
	var args []resp.Value
	plainStart := 0 // start of the words not yet handed to SplitArgs
	flush := func(end int) error {
		vals, err := resp.SplitArgs([]byte(line[plainStart:end]))
		args = append(args, vals...)
		return err
	}
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case isSpace(c):
			i++
		case c == '[' || c == '{':
			if err := flush(i); err != nil {
				return nil, err
			}
			p := &literal{s: line, i: i}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			if p.i < len(line) && !isSpace(line[p.i]) {
				return nil, fmt.Errorf("literal at column %d: unexpected %q after the closing bracket", i+1, line[p.i])
			}
			args = append(args, v)
			i, plainStart = p.i, p.i
		default:
			i = skipWord(line, i)
		}
	}
	if err := flush(len(line)); err != nil {
		return nil, err
	}
	return args, nil
}

// skipWord returns the end of the word at i, stepping over quoted parts
// (so a bracket inside quotes does not open a literal).
func skipWord(s string, i int) int {
	for i < len(s) && !isSpace(s[i]) {
		if s[i] == '"' || s[i] == '\'' {
			i = skipQuoted(s, i)
			continue
		}
		i++
	}
	return i
}

// skipQuoted returns the index after the quoted string starting at i (or
// len(s) if it is unterminated): backslash escapes anything in double
// quotes and a quote in single quotes, as in resp.SplitArgs.
func skipQuoted(s string, i int) int {
	q := s[i]
	for i++; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && (q == '"' || s[i+1] == '\''):
			i++
		case s[i] == q:
			return i + 1
		}
	}
	return len(s)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

// literal parses one bracketed value from s at i.
type literal struct {
	s     string
	i     int
	depth int
}

const maxLiteralDepth = 128 // kvorum's nesting limit (SPEC §1)

func (p *literal) errorf(format string, args ...any) error {
	return fmt.Errorf("literal at column %d: %s", p.i+1, fmt.Sprintf(format, args...))
}

func (p *literal) skipSpace() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

func (p *literal) value() (resp.Value, error) {
	p.skipSpace()
	if p.i >= len(p.s) {
		return resp.Value{}, p.errorf("unexpected end of line")
	}
	switch c := p.s[p.i]; {
	case c == '[' || c == '{':
		if p.depth++; p.depth > maxLiteralDepth {
			return resp.Value{}, p.errorf("nesting deeper than %d", maxLiteralDepth)
		}
		defer func() { p.depth-- }()
		return p.aggregate(c)
	case c == '"' || c == '\'':
		end := skipQuoted(p.s, p.i)
		vals, err := resp.SplitArgs([]byte(p.s[p.i:end]))
		if err != nil || len(vals) != 1 {
			return resp.Value{}, p.errorf("unterminated string")
		}
		p.i = end
		return vals[0], nil
	default:
		start := p.i
		for p.i < len(p.s) && !strings.ContainsRune(",:]} \t", rune(p.s[p.i])) {
			p.i++
		}
		return scalar(p.s[start:p.i], p)
	}
}

// scalar reads an unquoted word inside a literal.
func scalar(w string, p *literal) (resp.Value, error) {
	switch w {
	case "None", "null", "nil":
		return resp.NullBulk(), nil
	case "":
		return resp.Value{}, p.errorf("expected a value")
	}
	if n, ok := resp.ParseInt([]byte(w)); ok {
		return resp.Int(n), nil
	}
	if _, err := resp.ParseDouble([]byte(w)); err == nil {
		return resp.BulkString(w), nil
	}
	return resp.Value{}, p.errorf("%q is not a number, None or a quoted string", w)
}

var errDictKey = errors.New("dict keys must be strings or numbers")

// aggregate reads [v, ...] or {k: v, ...}; a trailing comma is allowed.
func (p *literal) aggregate(open byte) (resp.Value, error) {
	closing, dict := byte(']'), open == '{'
	if dict {
		closing = '}'
	}
	p.i++
	var elems []resp.Value
	for {
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == closing {
			p.i++
			if dict {
				return resp.Dict(elems...), nil
			}
			return resp.Array(elems...), nil
		}
		v, err := p.value()
		if err != nil {
			return resp.Value{}, err
		}
		if dict {
			if !v.IsScalar() {
				return resp.Value{}, p.errorf("%v", errDictKey)
			}
			p.skipSpace()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return resp.Value{}, p.errorf("expected ':' after a dict key")
			}
			p.i++
			val, err := p.value()
			if err != nil {
				return resp.Value{}, err
			}
			elems = append(elems, v, val)
		} else {
			elems = append(elems, v)
		}
		p.skipSpace()
		switch {
		case p.i < len(p.s) && p.s[p.i] == ',':
			p.i++
		case p.i < len(p.s) && p.s[p.i] == closing:
		default:
			return resp.Value{}, p.errorf("expected ',' or %q", closing)
		}
	}
}
