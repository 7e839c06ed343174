package client_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/resp"
)

func TestToValue_Nested(t *testing.T) {
	v, err := client.ToValue([]any{"v2-0", 1, nil, 2.5, true, []byte("b"), map[string]any{"z": []string{"a"}, "a": int64(-1)}})
	if err != nil {
		t.Fatal(err)
	}
	want := resp.Array(
		resp.BulkString("v2-0"), resp.Int(1), resp.NullBulk(), resp.BulkString("2.5"), resp.Int(1), resp.BulkString("b"),
		resp.Dict(resp.BulkString("a"), resp.Int(-1), resp.BulkString("z"), resp.Array(resp.BulkString("a"))),
	)
	if !resp.Equal(v, want) {
		t.Fatalf("ToValue = %v; want %v", v, want)
	}
	if _, err := client.ToValue([]any{1, struct{}{}}); err == nil {
		t.Fatal("ToValue(struct) succeeded; want an error")
	}
}

func TestToGo(t *testing.T) {
	v := resp.Array(
		resp.BulkString("s"), resp.Simple("OK"), resp.Int(7), resp.NullBulk(), resp.Null(), resp.Bool(true), resp.Double(1.5),
		resp.Dict(resp.BulkString("k"), resp.Array(resp.Int(1))),
		resp.Err("WRONGTYPE x"),
	)
	got := client.ToGo(v).([]any)
	want := []any{"s", "OK", int64(7), nil, nil, true, 1.5, map[string]any{"k": []any{int64(1)}}}
	if !reflect.DeepEqual(got[:8], want) {
		t.Fatalf("ToGo = %#v; want %#v", got[:8], want)
	}
	var re *resp.ReplyError
	if err, ok := got[8].(error); !ok || !errors.As(err, &re) || re.Msg != "WRONGTYPE x" {
		t.Fatalf("ToGo(error) = %#v; want a *resp.ReplyError", got[8])
	}
}
