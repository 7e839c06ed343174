package client

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unsafe"

	"github.com/kvorum/kvorum/resp"
)

var errEmptyCommand = errors.New("client: empty command")

// toValues converts a command's arguments with ToValue, into dst's memory
// if it is large enough.
func toValues(args []any, dst []resp.Value) ([]resp.Value, error) {
	vals := slices.Grow(dst[:0], len(args))[:len(args)]
	for i, a := range args {
		v, err := ToValue(a)
		if err != nil {
			return dst[:0], fmt.Errorf("client: argument %d: %w", i, err)
		}
		vals[i] = v
	}
	return vals, nil
}

// ToValue converts a Go value into the resp.Value the client sends, as the
// tutorial's client does:
//
//	string, []byte                 bulk string
//	int, int8..int64, uint..uint64 integer (':'); kvorum stores it as an integer
//	float32, float64               bulk string in Redis's float notation
//	bool                           integer 1 or 0
//	nil                            null bulk string ($-1)
//	[]any, []string, [][]byte,     array, converted element by element
//	[]int64, []resp.Value
//	map[string]any, map[string]string  dict ('%'), keys in sorted order
//	resp.Value                     itself
//
// Any other type is an error. The result refers to the memory of []byte
// arguments; the caller must not modify them until the call returns.
func ToValue(a any) (resp.Value, error) {
	switch a := a.(type) {
	case nil:
		return resp.NullBulk(), nil
	case resp.Value:
		return a, nil
	case string:
		return resp.Bulk(stringBytes(a)), nil
	case []byte:
		return resp.Bulk(a), nil
	case int:
		return resp.Int(int64(a)), nil
	case int8:
		return resp.Int(int64(a)), nil
	case int16:
		return resp.Int(int64(a)), nil
	case int32:
		return resp.Int(int64(a)), nil
	case int64:
		return resp.Int(a), nil
	case uint:
		return uintValue(uint64(a))
	case uint8:
		return resp.Int(int64(a)), nil
	case uint16:
		return resp.Int(int64(a)), nil
	case uint32:
		return resp.Int(int64(a)), nil
	case uint64:
		return uintValue(a)
	case float32:
		return resp.BulkString(strconv.FormatFloat(float64(a), 'g', -1, 32)), nil
	case float64:
		return resp.BulkString(resp.FormatDouble(a)), nil
	case bool:
		if a {
			return resp.Int(1), nil
		}
		return resp.Int(0), nil
	case []any:
		return arrayOf(a, ToValue)
	case []string:
		return arrayOf(a, func(s string) (resp.Value, error) { return resp.BulkString(s), nil })
	case [][]byte:
		return arrayOf(a, func(b []byte) (resp.Value, error) { return resp.Bulk(b), nil })
	case []int64:
		return arrayOf(a, func(n int64) (resp.Value, error) { return resp.Int(n), nil })
	case []resp.Value:
		return resp.Array(a...), nil
	case map[string]any:
		return dictOf(a)
	case map[string]string:
		return dictOf(a)
	}
	return resp.Value{}, fmt.Errorf("cannot send a %T as a RESP value", a)
}

// stringBytes returns s's bytes without copying them. Values are immutable
// by contract (no one writes to what Value.Bytes returns), so a Value may
// refer to a string's memory as safely as to a []byte's.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func uintValue(n uint64) (resp.Value, error) {
	if n > 1<<63-1 {
		return resp.BulkString(strconv.FormatUint(n, 10)), nil
	}
	return resp.Int(int64(n)), nil
}

func arrayOf[T any](list []T, conv func(T) (resp.Value, error)) (resp.Value, error) {
	out := make([]resp.Value, len(list))
	for i, e := range list {
		v, err := conv(e)
		if err != nil {
			return resp.Value{}, fmt.Errorf("element %d: %w", i, err)
		}
		out[i] = v
	}
	return resp.Array(out...), nil
}

func dictOf[T any](m map[string]T) (resp.Value, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]resp.Value, 0, 2*len(m))
	for _, k := range keys {
		v, err := ToValue(m[k])
		if err != nil {
			return resp.Value{}, fmt.Errorf("key %q: %w", k, err)
		}
		out = append(out, resp.BulkString(k), v)
	}
	return resp.Dict(out...), nil
}

// ToGo converts a reply into plain Go values, recursively:
//
//	null ('_', $-1, *-1)       nil
//	simple or bulk string      string (binary-safe)
//	integer                    int64
//	boolean                    bool
//	double                     float64
//	array                      []any
//	dict                       map[string]any (keys by their text; a later
//	                           duplicate key wins)
//	error                      error (*resp.ReplyError or *resp.RedirectError)
//
// The result shares no memory with v.
func ToGo(v resp.Value) any {
	if v.IsNull() {
		return nil
	}
	switch v.Kind() {
	case resp.KindSimple, resp.KindBulk:
		return string(v.Bytes())
	case resp.KindInt:
		return v.Int()
	case resp.KindBool:
		return v.Bool()
	case resp.KindDouble:
		return v.Float()
	case resp.KindError:
		return resp.AsError(v)
	case resp.KindArray:
		out := make([]any, v.Len())
		for i, e := range v.Elems() {
			out[i] = ToGo(e)
		}
		return out
	case resp.KindDict:
		out := make(map[string]any, v.Len())
		for i := range v.Len() {
			k, e := v.Pair(i)
			out[k.Text()] = ToGo(e)
		}
		return out
	}
	return nil
}
