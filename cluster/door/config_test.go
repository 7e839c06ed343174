package door_test

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/cluster/door"
	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// CONFIG's errors, and the listpack and intset thresholds it reads and
// sets, are Redis 7.0's, byte for byte, in RESP2 and RESP3.
func TestRedisDiff_Config(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	script := []redisStep{
		// The thresholds' defaults, by name and by older alias.
		rq("CONFIG", "GET", "hash-max-listpack-entries"), rq("CONFIG", "GET", "hash-max-listpack-value"),
		rq("CONFIG", "GET", "list-max-listpack-size"), rq("CONFIG", "GET", "set-max-intset-entries"),
		rq("CONFIG", "GET", "zset-max-listpack-entries"), rq("CONFIG", "GET", "zset-max-listpack-value"),
		rq("CONFIG", "GET", "hash-max-ziplist-entries"), rq("CONFIG", "GET", "list-max-ziplist-size"),
		rq("CONFIG", "GET", "HASH-MAX-LISTPACK-ENTRIES"),
		rq("CONFIG", "GET", "hash-max-listpack-entries", "HASH-MAX-LISTPACK-ENTRIES"),
		rq("CONFIG", "GET", "nosuch"), rq("CONFIG", "GET", "set-max-listpack-entries"), rq("CONFIG", "GET", "nosuch*"),
		// What kvorum answers as Redis does by default.
		rq("CONFIG", "GET", "maxmemory"), rq("CONFIG", "GET", "maxmemory-policy"), rq("CONFIG", "GET", "save"),
		rq("CONFIG", "GET", "timeout"), rq("CONFIG", "GET", "notify-keyspace-events"), // (not maxclients: Redis lowers it to the fd limit)
		// SET of a threshold, checked as Redis checks it.
		rq("CONFIG", "SET", "hash-max-listpack-entries", "100"), rq("CONFIG", "GET", "hash-max-listpack-entries"),
		rq("CONFIG", "SET", "hash-max-listpack-entries", "100", "hash-max-ziplist-entries", "200"),
		rq("CONFIG", "GET", "hash-max-listpack-entries"),
		rq("CONFIG", "SET", "HASH-MAX-LISTPACK-ENTRIES", "7"), rq("CONFIG", "GET", "hash-max-ziplist-entries"),
		rq("CONFIG", "SET", "zset-max-listpack-value", "1kb"), rq("CONFIG", "GET", "zset-max-listpack-value"),
		rq("CONFIG", "SET", "hash-max-listpack-value", "1GB"), rq("CONFIG", "GET", "hash-max-listpack-value"),
		rq("CONFIG", "SET", "hash-max-listpack-value", "20000000000gb"), rq("CONFIG", "GET", "hash-max-listpack-value"),
		rq("CONFIG", "SET", "hash-max-listpack-value", ""), rq("CONFIG", "GET", "hash-max-listpack-value"),
		rq("CONFIG", "SET", "zset-max-listpack-value", "kb"), rq("CONFIG", "GET", "zset-max-listpack-value"),
		rq("CONFIG", "SET", "list-max-listpack-size", "-6"), rq("CONFIG", "GET", "list-max-listpack-size"),
		rq("CONFIG", "GET", "list-compress-depth"), rq("CONFIG", "SET", "list-compress-depth", "2"),
		rq("CONFIG", "GET", "list-compress-depth"), rq("CONFIG", "SET", "list-compress-depth", "-1"),
		rq("CONFIG", "SET", "list-compress-depth", "2147483648"), rq("CONFIG", "SET", "list-compress-depth", "0"),
		rq("CONFIG", "SET", "set-max-intset-entries", "99999999999"), rq("CONFIG", "GET", "set-max-intset-entries"),
		rq("CONFIG", "SET", "zset-max-listpack-entries", "9223372036854775807"), rq("CONFIG", "GET", "zset-max-listpack-entries"),
		// Values Redis does not parse.
		rq("CONFIG", "SET", "hash-max-listpack-entries", "abc"), rq("CONFIG", "SET", "hash-max-listpack-entries", "-1"),
		rq("CONFIG", "SET", "hash-max-listpack-entries", "1.5"), rq("CONFIG", "SET", "hash-max-listpack-entries", "05"),
		rq("CONFIG", "SET", "hash-max-listpack-entries", "+5"), rq("CONFIG", "SET", "hash-max-listpack-entries", ""),
		rq("CONFIG", "SET", "hash-max-listpack-entries", "9223372036854775808"),
		rq("CONFIG", "SET", "HASH-MAX-LISTPACK-ENTRIES", "abc"), rq("CONFIG", "SET", "hash-max-ziplist-entries", "1k"),
		rq("CONFIG", "SET", "hash-max-listpack-value", "abc"), rq("CONFIG", "SET", "hash-max-listpack-value", "-1"),
		rq("CONFIG", "SET", "hash-max-listpack-value", "1t"), rq("CONFIG", "SET", "hash-max-listpack-value", "1.5"),
		rq("CONFIG", "SET", "hash-max-listpack-value", "9223372036854775808"),
		rq("CONFIG", "SET", "hash-max-listpack-value", "99999999999999999999"),
		rq("CONFIG", "SET", "hash-max-listpack-value", "18446744073709551616kb"),
		rq("CONFIG", "SET", "list-max-listpack-size", "2147483648"), rq("CONFIG", "SET", "list-max-listpack-size", "-2147483649"),
		rq("CONFIG", "SET", "list-max-listpack-size", "-0"),
		rq("CONFIG", "SET", "timeout", "abc"), rq("CONFIG", "SET", "timeout", "-1"), rq("CONFIG", "SET", "timeout", "99999999999"),
		rq("CONFIG", "SET", "maxclients", "0"), rq("CONFIG", "SET", "maxclients", "-1"),
		rq("CONFIG", "SET", "maxmemory", "-1"), rq("CONFIG", "SET", "maxmemory", "1.5gb"),
		rq("CONFIG", "SET", "port", "70000"), rq("CONFIG", "SET", "appendonly", "maybe"),
		rq("CONFIG", "SET", "appendfsync", "bogus"), rq("CONFIG", "SET", "maxmemory-policy", "bogus"),
		// Unknown, immutable and duplicate parameters; the first problem wins.
		rq("CONFIG", "SET", "foo", "bar"), rq("CONFIG", "SET", "Foo", "1"),
		rq("CONFIG", "SET", "hash-max-listpack-entries", "1", "foo", "2"),
		rq("CONFIG", "SET", "databases", "4"), rq("CONFIG", "SET", "DATABASES", "16"),
		rq("CONFIG", "SET", "cluster-enabled", "yes"),
		rq("CONFIG", "SET", "hash-max-listpack-entries", "5", "databases", "3"),
		rq("CONFIG", "SET", "databases", "3", "foo", "1"),
		rq("CONFIG", "SET", "hash-max-listpack-entries", "100", "hash-max-listpack-entries", "200"),
		rq("CONFIG", "SET", "hash-max-listpack-entries", "abc", "foo", "1"),
		rq("CONFIG", "GET", "hash-max-listpack-entries"), // unchanged by the refusals
		// A fixed parameter set to the value it has.
		rq("CONFIG", "SET", "maxmemory", "0"), rq("CONFIG", "SET", "save", ""), rq("CONFIG", "SET", "timeout", "0"),
		rq("CONFIG", "SET", "maxmemory-policy", "NoEviction"), rq("CONFIG", "SET", "notify-keyspace-events", ""),
		// Arity, syntax and subcommands.
		rq("CONFIG"), rq("CONFIG", "GET"), rq("CONFIG", "SET"), rq("CONFIG", "SET", "foo"),
		rq("CONFIG", "SET", "maxmemory"), rq("CONFIG", "SET", "foo", "bar", "baz"),
		rq("CONFIG", "SET", "hash-max-listpack-entries", "1", "foo"),
		rq("CONFIG", "RESETSTAT", "x"), rq("CONFIG", "RESETSTAT"), rq("CONFIG", "REWRITE"), rq("CONFIG", "REWRITE", "x"),
		rq("CONFIG", "HELP"), rq("CONFIG", "help", "x"), rq("CONFIG", "foo"), rq("config", "get", "maxmemory"),
		rq("MULTI"), rq("CONFIG", "GET", "maxmemory"), rq("CONFIG", "SET", "foo", "bar"), rq("EXEC"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}

// CONFIG GET with glob patterns, or several names, answers the same
// parameters as Redis 7.0, each once, though not in the same order (Redis
// answers in its hash table's).
func TestRedisDiff_ConfigGetPatterns(t *testing.T) {
	t.Parallel()
	kvAddr, rdAddr := startForDiff(t)
	patterns := [][]string{
		{"hash-max-*"}, {"zset-max-*"}, {"list-max-*"}, {"set-max-*"}, {"HASH-MAX-*-ENTRIES"}, {"*-max-listpack-[ev]*"},
		{"hash-max-*", "hash-max-listpack-entries"}, {"zset-max-listpack-value", "hash-max-ziplist-value"},
		{"maxmemory", "maxmemory-policy"}, {"hash-max-listpack-entries", "HASH-MAX-LISTPACK-ENTRIES"},
	}
	for _, proto := range []string{"2", "3"} {
		kv, rd := resptest.Dial(t, kvAddr), resptest.Dial(t, rdAddr)
		for _, c := range []*resptest.Conn{kv, rd} {
			c.Do(t, "HELLO", proto)
		}
		for _, p := range patterns {
			args := append([]string{"CONFIG", "GET"}, p...)
			want, got := rd.Do(t, args...), kv.Do(t, args...)
			if got.Kind() != want.Kind() || strings.Join(configPairs(t, got), " ") != strings.Join(configPairs(t, want), " ") {
				t.Errorf("RESP%s %q:\nkvorum %v\nredis  %v", proto, args, got, want)
			}
		}
		kv.Close()
		rd.Close()
	}
}

// configPairs returns CONFIG GET's name=value pairs, sorted.
func configPairs(t *testing.T, v resp.Value) []string {
	t.Helper()
	if v.IsError() {
		t.Fatalf("CONFIG GET = %v", v)
	}
	var out []string
	if v.Kind() == resp.KindDict {
		for i := 0; i < v.Len(); i++ {
			k, val := v.Pair(i)
			out = append(out, k.Text()+"="+val.Text())
		}
	} else {
		e := v.Elems()
		for i := 0; i+1 < len(e); i += 2 {
			out = append(out, e[i].Text()+"="+e[i+1].Text())
		}
	}
	sort.Strings(out)
	return out
}

// startConfigDoor serves a door on a fake store with settings and returns
// the client address.
func startConfigDoor(t *testing.T, settings door.Settings, cfg door.Config) string {
	t.Helper()
	s := newFakeStore()
	s.settings = settings
	cfg.Store = s
	return serve(t, s, door.New(cfg))
}

// configGet returns CONFIG GET args' name -> value.
func configGet(t *testing.T, c *resptest.Conn, args ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range configPairs(t, c.Do(t, append([]string{"CONFIG", "GET"}, args...)...)) {
		k, v, _ := strings.Cut(p, "=")
		out[k] = v
	}
	return out
}

// What CONFIG GET answers of kvorum's own design and of the node's
// settings, and how CONFIG SET refuses to change them.
func TestConfig_KvorumValues(t *testing.T) {
	t.Parallel()
	addr := startConfigDoor(t, door.Settings{ListenAddr: ":6390", MaxClients: 123, IdleTimeout: 7 * time.Second}, door.Config{})
	_, port, _ := strings.Cut(addr, ":")
	c := resptest.Dial(t, addr)
	defer c.Close()
	c.Do(t, "HELLO", "3")
	got := configGet(t, c, "*")
	want := map[string]string{
		"maxmemory": "0", "maxmemory-policy": "noeviction", "save": "", "appendonly": "yes", "appendfsync": "always",
		"databases": "1", "timeout": "7", "maxclients": "123", "port": port, "bind": "* -::*", "protected-mode": "no",
		"requirepass": "", "notify-keyspace-events": "", "cluster-enabled": "yes",
		"list-max-listpack-size": "-2", "list-max-ziplist-size": "-2", "list-compress-depth": "0",
		"hash-max-listpack-entries": "512", "hash-max-ziplist-entries": "512", "hash-max-listpack-value": "64",
		"hash-max-ziplist-value": "64", "set-max-intset-entries": "512",
		"zset-max-listpack-entries": "128", "zset-max-ziplist-entries": "128", "zset-max-listpack-value": "64",
		"zset-max-ziplist-value": "64",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("CONFIG GET * =\n%v\nwant\n%v", got, want)
	}
	for _, tc := range []struct {
		args []string
		want string // the reply's text; a refusal must contain it
	}{
		{[]string{"timeout", "7"}, "OK"},
		{[]string{"timeout", "5"}, "(possibly related to argument 'timeout') - set at start with --timeout; kvorum cannot change it while running"},
		{[]string{"maxclients", "100"}, "--max-clients"},
		{[]string{"port", "6379"}, "--listen"},
		{[]string{"bind", "127.0.0.1"}, "--listen"},
		{[]string{"bind", "* -::*"}, "OK"},
		{[]string{"protected-mode", "yes"}, "--protected-mode"},
		{[]string{"protected-mode", "NO"}, "OK"},
		{[]string{"maxmemory", "1gb"}, "no memory limit"},
		{[]string{"maxmemory-policy", "allkeys-lru"}, "never evicts"},
		{[]string{"save", "900 1"}, "no save schedule"},
		{[]string{"appendonly", "no"}, "Raft log"},
		{[]string{"appendonly", "yes"}, "OK"},
		{[]string{"appendfsync", "everysec"}, "Raft log"},
		{[]string{"appendfsync", "Always"}, "OK"},
		{[]string{"notify-keyspace-events", "KEA"}, "no keyspace notifications"},
		{[]string{"requirepass", "x"}, "--requirepass"},
		{[]string{"databases", "1"}, "can't set immutable config"},
		{[]string{"hash-max-listpack-entries", "7", "timeout", "99"}, "--timeout"},
	} {
		v := c.Do(t, append([]string{"CONFIG", "SET"}, tc.args...)...)
		if v.Text() != tc.want && !(v.IsError() && strings.Contains(v.Text(), tc.want)) {
			t.Errorf("CONFIG SET %q = %v, want %q", tc.args, v, tc.want)
		}
	}
	if v := configGet(t, c, "hash-max-listpack-entries")["hash-max-listpack-entries"]; v != "512" {
		t.Errorf("hash-max-listpack-entries after a refused CONFIG SET with it = %s, want 512 (unchanged)", v)
	}
}

// CONFIG GET answers a flat array in RESP2 and a map in RESP3; bind is
// --listen's host.
func TestConfig_GetShapes(t *testing.T) {
	t.Parallel()
	addr := startConfigDoor(t, door.Settings{ListenAddr: "127.0.0.1:0", MaxClients: 10000}, door.Config{ProtectedMode: true})
	c := resptest.Dial(t, addr)
	defer c.Close()
	for proto, kind := range map[string]resp.Kind{"2": resp.KindArray, "3": resp.KindDict} {
		c.Do(t, "HELLO", proto)
		v := c.Do(t, "CONFIG", "GET", "bind", "protected-mode")
		if v.Kind() != kind || strings.Join(configPairs(t, v), " ") != "bind=127.0.0.1 protected-mode=yes" {
			t.Errorf("RESP%s CONFIG GET bind protected-mode = %v, want a %v of bind 127.0.0.1 and protected-mode yes", proto, v, kind)
		}
	}
}

// With a password, requirepass is left out (kvorum keeps only its hash)
// and cannot be set, not even to "".
func TestConfig_RequirepassHidden(t *testing.T) {
	t.Parallel()
	addr := startAuthDoor(t, mustUsers(t, "", "secret"))
	c := resptest.Dial(t, addr)
	defer c.Close()
	c.Do(t, "AUTH", "secret")
	c.Do(t, "HELLO", "2")
	if v := c.Do(t, "CONFIG", "GET", "requirepass"); v.Kind() != resp.KindArray || v.Len() != 0 {
		t.Fatalf("CONFIG GET requirepass with a password = %v, want an empty reply", v)
	}
	if v := c.Do(t, "CONFIG", "SET", "requirepass", ""); !v.IsError() {
		t.Fatalf("CONFIG SET requirepass \"\" with a password = %v, want a refusal", v)
	}
}

// CONFIG is an @admin and @dangerous command: ACL CAT lists it there, and
// a user without @dangerous may not run it.
func TestConfig_ACLCategories(t *testing.T) {
	t.Parallel()
	addr := startAuthDoor(t, mustUsers(t, testUsers, ""))
	a := resptest.Dial(t, addr)
	defer a.Close()
	a.Do(t, "AUTH", "default", "secret")
	for _, cat := range []string{"admin", "dangerous"} {
		if v := a.Do(t, "ACL", "CAT", cat); !strings.Contains(v.String(), `"config"`) {
			t.Errorf("ACL CAT %s = %v, want config in it", cat, v)
		}
	}
	w := resptest.Dial(t, addr)
	defer w.Close()
	w.Do(t, "AUTH", "writer", "pw2")
	if v := w.Do(t, "CONFIG", "GET", "maxmemory"); v.Code() != "NOPERM" {
		t.Fatalf("writer (-@dangerous) CONFIG GET = %v, want NOPERM", v)
	}
}

// INFO stats and commandstats count the commands served: SETs raise
// total_commands_processed and cmdstat_set's calls, a SET with the wrong
// arity its rejected_calls, reads the keyspace hits and misses; CONFIG
// RESETSTAT zeroes them all.
func TestInfo_CommandstatsAndResetstat(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	c := resptest.Dial(t, addr)
	defer c.Close()
	c.Do(t, "HELLO", "2")
	before := infoFields(c.Do(t, "INFO", "stats").Text())
	for i := 0; i < 5; i++ {
		c.Do(t, "SET", "k", strconv.Itoa(i))
	}
	c.Do(t, "SET", "k")                     // wrong arity: refused
	c.Do(t, "GET", "k")                     // a hit
	c.Do(t, "GET", "nosuch")                // a miss
	c.Do(t, "LPUSH", "k", "x")              // WRONGTYPE, from the log: a failed call
	c.Do(t, "LLEN", "k")                    // WRONGTYPE, from a read: a failed call
	c.Do(t, "CONFIG", "SET", "nosuch", "1") // refused by CONFIG itself: a failed call
	info := c.Do(t, "INFO", "all").Text()
	after := infoFields(info)
	if b, a := atoi(t, before["total_commands_processed"]), atoi(t, after["total_commands_processed"]); a-b != 11 { // five SETs, two GETs, LPUSH, LLEN, CONFIG, the INFO; not the refused SET, as in Redis
		t.Errorf("total_commands_processed went from %d to %d, want +11", b, a)
	}
	set := cmdstat(t, after, "set")
	if set["calls"] != "5" || set["rejected_calls"] != "1" || set["failed_calls"] != "0" || set["usec_per_call"] == "" {
		t.Errorf("cmdstat_set = %v, want calls=5 rejected_calls=1 failed_calls=0 and a usec_per_call", set)
	}
	for _, name := range []string{"lpush", "llen", "config"} {
		if got := cmdstat(t, after, name); got["calls"] != "1" || got["failed_calls"] != "1" {
			t.Errorf("cmdstat_%s = %v, want calls=1 failed_calls=1", name, got)
		}
	}
	if got := cmdstat(t, after, "get"); got["calls"] != "2" {
		t.Errorf("cmdstat_get = %v, want calls=2", got)
	}
	if after["keyspace_hits"] != "2" || after["keyspace_misses"] != "1" { // GET k and LLEN k (a hit, as in Redis, though WRONGTYPE); GET nosuch
		t.Errorf("keyspace_hits %q keyspace_misses %q, want 2 and 1", after["keyspace_hits"], after["keyspace_misses"])
	}
	for _, f := range []string{"instantaneous_ops_per_sec", "expired_keys", "evicted_keys", "rejected_connections"} {
		atoi(t, after[f])
	}
	if !strings.Contains(info, "# Commandstats\r\n") || strings.Contains(c.Do(t, "INFO").Text(), "# Commandstats") {
		t.Errorf("INFO all must have # Commandstats and plain INFO not:\n%s", info)
	}

	if v := c.Do(t, "CONFIG", "RESETSTAT"); v.Text() != "OK" {
		t.Fatalf("CONFIG RESETSTAT = %v", v)
	}
	reset := infoFields(c.Do(t, "INFO", "stats", "commandstats").Text())
	if reset["total_commands_processed"] != "1" { // the INFO itself
		t.Errorf("total_commands_processed after CONFIG RESETSTAT = %q, want 1 (the INFO)", reset["total_commands_processed"])
	}
	if _, ok := reset["cmdstat_set"]; ok {
		t.Errorf("cmdstat_set after CONFIG RESETSTAT = %q, want none", reset["cmdstat_set"])
	}
	if got := cmdstat(t, reset, "config"); got["calls"] != "1" {
		t.Errorf("cmdstat_config after CONFIG RESETSTAT = %v, want the RESETSTAT's own call", got)
	}
	for _, f := range []string{"keyspace_hits", "keyspace_misses", "total_connections_received", "rejected_connections", "expired_keys"} {
		if reset[f] != "0" {
			t.Errorf("%s after CONFIG RESETSTAT = %q, want 0", f, reset[f])
		}
	}
	c.Do(t, "SET", "k", "v")
	if got := cmdstat(t, infoFields(c.Do(t, "INFO", "commandstats").Text()), "set"); got["calls"] != "1" {
		t.Errorf("cmdstat_set after a reset and one SET = %v, want calls=1", got)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("INFO field %q is not an integer", s)
	}
	return n
}

// cmdstat parses INFO's cmdstat_<name> line into its fields.
func cmdstat(t *testing.T, info map[string]string, name string) map[string]string {
	t.Helper()
	line, ok := info["cmdstat_"+name]
	if !ok {
		t.Fatalf("INFO has no cmdstat_%s", name)
	}
	out := map[string]string{}
	for _, f := range strings.Split(line, ",") {
		k, v, _ := strings.Cut(f, "=")
		out[k] = v
	}
	return out
}

// INFO persistence reports the store's snapshots in Redis's fields and
// kvorum's own.
func TestInfo_Persistence(t *testing.T) {
	t.Parallel()
	s := newFakeStore()
	taken := time.Unix(1_700_000_000, 0)
	s.snapshots = door.Snapshots{LastIndex: 2, LastTime: taken, LastSize: 4096, InProgress: true}
	addr := serve(t, s, door.New(door.Config{Store: s}))
	for i := 0; i < 5; i++ {
		resptest.Do(t, addr, "SET", "k", "v")
	}
	got := infoFields(resptest.Do(t, addr, "INFO", "persistence").Text())
	want := map[string]string{"loading": "0", "rdb_bgsave_in_progress": "1", "rdb_last_save_time": "1700000000",
		"rdb_changes_since_last_save": "3", "aof_enabled": "1", "snapshot_last_index": "2", "snapshot_last_size": "4096",
		"snapshot_in_progress": "1"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("INFO persistence %s = %q, want %q", k, got[k], v)
		}
	}
}
