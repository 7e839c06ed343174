package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kvorum/kvorum/resp"
)

// formatTTY renders a reply as redis-cli does for a terminal (its
// cliFormatReplyTTY): strings quoted, "(integer) 1", "(nil)", "(error) ...",
// arrays numbered "1) ", dicts "1# key => value" as redis-cli prints RESP3
// maps, nested entries indented by the width of their parent's numbers.
// The result ends in a newline.
func formatTTY(v resp.Value) string {
	var sb strings.Builder
	writeTTY(&sb, v, "")
	return sb.String()
}

func writeTTY(sb *strings.Builder, v resp.Value, prefix string) {
	switch {
	case v.IsNull():
		sb.WriteString("(nil)\n")
	case v.Kind() == resp.KindError:
		sb.WriteString("(error) ")
		sb.Write(v.Bytes())
		sb.WriteByte('\n')
	case v.Kind() == resp.KindSimple:
		sb.Write(v.Bytes())
		sb.WriteByte('\n')
	case v.Kind() == resp.KindInt:
		fmt.Fprintf(sb, "(integer) %d\n", v.Int())
	case v.Kind() == resp.KindDouble:
		fmt.Fprintf(sb, "(double) %s\n", v.Text())
	case v.Kind() == resp.KindBool:
		if v.Bool() {
			sb.WriteString("(true)\n")
		} else {
			sb.WriteString("(false)\n")
		}
	case v.Kind() == resp.KindBulk:
		sb.WriteString(repr(v.Bytes()))
		sb.WriteByte('\n')
	case v.Kind() == resp.KindArray && v.Len() == 0:
		sb.WriteString("(empty array)\n")
	case v.Kind() == resp.KindDict && v.Len() == 0:
		sb.WriteString("(empty hash)\n")
	default:
		writeAggregate(sb, v, prefix)
	}
}

// writeAggregate writes a non-empty array or dict. The first entry follows
// whatever the caller wrote on the current line; later entries start with
// prefix, and nested values are indented by prefix plus the width of the
// numbers and their separator.
func writeAggregate(sb *strings.Builder, v resp.Value, prefix string) {
	n := v.Len()
	width := len(strconv.Itoa(n))
	sep := byte(')')
	if v.Kind() == resp.KindDict {
		sep = '#'
	}
	inner := prefix + strings.Repeat(" ", width+2)
	for i := range n {
		if i > 0 {
			sb.WriteString(prefix)
		}
		fmt.Fprintf(sb, "%*d%c ", width, i+1, sep)
		if v.Kind() == resp.KindArray {
			writeTTY(sb, v.Elems()[i], inner)
			continue
		}
		key, val := v.Pair(i)
		var ks strings.Builder
		writeTTY(&ks, key, inner)
		sb.WriteString(strings.TrimSuffix(ks.String(), "\n"))
		sb.WriteString(" => ")
		writeTTY(sb, val, inner)
	}
}

// repr quotes b as redis-cli's sdscatrepr does: \\ \" \n \r \t \a \b
// escaped, other non-printable bytes as \xHH.
func repr(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) + 2)
	sb.WriteByte('"')
	for _, c := range b {
		switch c {
		case '\\', '"':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\t':
			sb.WriteString(`\t`)
		case '\a':
			sb.WriteString(`\a`)
		case '\b':
			sb.WriteString(`\b`)
		default:
			if c >= 0x20 && c < 0x7f {
				sb.WriteByte(c)
			} else {
				fmt.Fprintf(&sb, `\x%02x`, c)
			}
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

// formatRaw renders a reply as redis-cli --raw does (its
// cliFormatReplyRaw): strings and errors as they are, integers as digits,
// null as nothing, array elements and dict entries ("key value") one per
// line. The result ends in a newline.
func formatRaw(v resp.Value) string {
	var sb strings.Builder
	writeRaw(&sb, v)
	sb.WriteByte('\n')
	return sb.String()
}

func writeRaw(sb *strings.Builder, v resp.Value) {
	switch {
	case v.IsNull():
	case v.Kind() == resp.KindBool:
		if v.Bool() {
			sb.WriteString("(true)")
		} else {
			sb.WriteString("(false)")
		}
	case v.Kind() == resp.KindArray:
		for i, e := range v.Elems() {
			if i > 0 {
				sb.WriteByte('\n')
			}
			writeRaw(sb, e)
		}
	case v.Kind() == resp.KindDict:
		for i := range v.Len() {
			if i > 0 {
				sb.WriteByte('\n')
			}
			k, e := v.Pair(i)
			writeRaw(sb, k)
			sb.WriteByte(' ')
			writeRaw(sb, e)
		}
	default:
		sb.WriteString(v.Text())
	}
}
