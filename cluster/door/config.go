package door

import (
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// CONFIG GET, SET, RESETSTAT, REWRITE and HELP answer as Redis 7.0 does,
// in its words, for the parameters that clients, tools and Redis's test
// suites read. Every value is the truth about this node:
//
//   - maxmemory is 0 and maxmemory-policy noeviction: kvorum has no memory
//     limit and never evicts a key.
//   - appendonly is yes and appendfsync always: every write is in the Raft
//     log, fsynced, before it is answered, which is what those two promise
//     a tool that asks how durable the server is. save is "": there is no
//     save schedule; snapshots compact the log by its size.
//   - databases is 1: SELECT takes only 0. cluster-enabled is yes, as INFO
//     cluster and redis_mode say (kvorum answers CLUSTER).
//   - timeout, maxclients, port, bind and protected-mode are what the node
//     was started with (--timeout, --max-clients, --listen,
//     --protected-mode). protected-mode is yes when it is in force.
//   - requirepass is "" when the default user needs no password. When it
//     needs one it is left out: kvorum keeps only the password's SHA-256,
//     so it cannot answer it as Redis does.
//   - notify-keyspace-events is "": kvorum publishes no keyspace events.
//   - The listpack and intset thresholds (hash-max-listpack-entries, ...,
//     and their older ziplist names) have Redis 7.0's defaults. kvorum has
//     one representation per type, so they change no behaviour; they are
//     the thresholds under which OBJECT ENCODING reports the encoding
//     Redis would choose (fsm.EncodingLimits). They are the only parameters CONFIG SET changes,
//     on this node alone, as Redis's CONFIG SET does on one server.
//     (set-max-listpack-entries is Redis 7.2's: 7.0 does not know it.)
//
// A parameter fixed at start or by design accepts a CONFIG SET of the
// value it has (a harness that sets save "" goes on) and refuses any other
// with Redis's "CONFIG SET failed" text and the reason; one Redis itself
// cannot change (databases, cluster-enabled) gets Redis's "can't set
// immutable config". A value Redis would not parse is refused with
// Redis's error before that. There is no configuration file: CONFIG
// REWRITE answers as a Redis started without one does.

// cmdConfig routes CONFIG's subcommands, checking their arity as Redis's
// subcommand table does.
func cmdConfig(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	sub := strings.ToUpper(args[1].Text())
	arity := 2 // RESETSTAT, REWRITE, HELP
	switch sub {
	case "GET":
		arity = -3
	case "SET":
		arity = -4
	case "RESETSTAT", "REWRITE", "HELP":
	default:
		return errUnknownSubcommand(args[1], "CONFIG")
	}
	if (arity > 0 && len(args) != arity) || (arity < 0 && len(args) < -arity) {
		return fsm.WrongArity("config|" + strings.ToLower(sub))
	}
	switch sub {
	case "GET":
		return configGet(d, args[2:])
	case "SET":
		return configSet(d, args)
	case "RESETSTAT":
		d.resetStats()
		return resp.OK()
	case "REWRITE":
		return resp.Err("ERR The server is running without a config file")
	}
	return configHelp()
}

// paramKind is how CONFIG SET parses a parameter's value, as Redis does.
type paramKind uint8

const (
	intParam  paramKind = iota // a strict integer (string2ll) within lo..hi
	memParam                   // a memory value (digits, then b k kb m mb g gb) within lo..hi
	boolParam                  // yes or no
	enumParam                  // one of choices
	textParam                  // any text
)

// paramRule is what CONFIG SET may do to a parameter.
type paramRule uint8

const (
	// settable parameters take CONFIG SET's value, on this node.
	settable paramRule = iota
	// fixed parameters keep kvorum's value: a SET of another value is
	// refused with why.
	fixed
	// immutable parameters cannot be set in Redis either.
	immutable
)

// param is one parameter CONFIG answers.
type param struct {
	name, alias string // alias: Redis 7's older name, "" if none
	kind        paramKind
	lo          int64  // intParam, memParam: the lowest value
	hi          uint64 // the highest
	unsigned    bool   // Redis compares the value as unsigned (size_t, unsigned types)
	choices     []string
	rule        paramRule
	slot        int   // settable: its place in params.v
	def         int64 // settable: Redis 7.0's default
	// get answers a fixed or immutable parameter's value, or false to
	// leave the parameter out of CONFIG GET's reply.
	get func(d *Door) (string, bool)
	why string // fixed: why CONFIG SET cannot change it
}

// The settable parameters' slots in params.v.
const (
	slotHashEntries = iota
	slotHashValue
	slotListSize
	slotListCompress
	slotIntsetEntries
	slotZsetEntries
	slotZsetValue
	numSlots
)

const atStart = "; kvorum cannot change it while running"

// configParams are the parameters CONFIG answers, sorted by name: CONFIG
// GET with a pattern answers them in this order.
var configParams = []param{
	{name: "appendfsync", kind: enumParam, choices: []string{"everysec", "always", "no"}, rule: fixed, get: constant("always"),
		why: "kvorum fsyncs every write in its Raft log before it answers: always"},
	{name: "appendonly", kind: boolParam, rule: fixed, get: constant("yes"),
		why: "kvorum writes every change to its Raft log before it answers: always yes"},
	{name: "bind", kind: textParam, rule: fixed, get: getBind, why: "set at start with --listen" + atStart},
	{name: "cluster-enabled", kind: boolParam, rule: immutable, get: constant("yes")},
	{name: "databases", kind: intParam, lo: math.MinInt32, hi: math.MaxInt32, rule: immutable, get: constant("1")},
	{name: "hash-max-listpack-entries", alias: "hash-max-ziplist-entries", kind: intParam, hi: math.MaxInt64, unsigned: true,
		rule: settable, slot: slotHashEntries, def: 512},
	{name: "hash-max-listpack-value", alias: "hash-max-ziplist-value", kind: memParam, hi: math.MaxInt64, unsigned: true,
		rule: settable, slot: slotHashValue, def: 64},
	{name: "list-compress-depth", kind: intParam, hi: math.MaxInt32, rule: settable, slot: slotListCompress, def: 0},
	{name: "list-max-listpack-size", alias: "list-max-ziplist-size", kind: intParam, lo: math.MinInt32, hi: math.MaxInt32,
		rule: settable, slot: slotListSize, def: -2},
	{name: "maxclients", kind: intParam, lo: 1, hi: math.MaxUint32, unsigned: true, rule: fixed,
		get: func(d *Door) (string, bool) { return strconv.Itoa(d.store.Settings().MaxClients), true },
		why: "set at start with --max-clients" + atStart},
	{name: "maxmemory", kind: memParam, hi: math.MaxUint64, unsigned: true, rule: fixed, get: constant("0"),
		why: "kvorum has no memory limit and never evicts keys"},
	{name: "maxmemory-policy", kind: enumParam, rule: fixed, get: constant("noeviction"),
		choices: []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"},
		why:     "kvorum never evicts keys"},
	{name: "notify-keyspace-events", kind: textParam, rule: fixed, get: constant(""),
		why: "kvorum publishes no keyspace notifications"},
	{name: "port", kind: intParam, hi: 65535, rule: fixed, get: getPort, why: "set at start with --listen" + atStart},
	{name: "protected-mode", kind: boolParam, rule: fixed, get: getProtectedMode,
		why: "set at start with --protected-mode" + atStart},
	{name: "requirepass", kind: textParam, rule: fixed, get: getRequirepass,
		why: "set at start with --requirepass, --requirepass-file or --users-file" + atStart},
	{name: "save", kind: textParam, rule: fixed, get: constant(""),
		why: "kvorum has no save schedule: it snapshots its Raft log by size (--snapshot-threshold)"},
	{name: "set-max-intset-entries", kind: intParam, hi: math.MaxInt64, unsigned: true, rule: settable, slot: slotIntsetEntries, def: 512},
	{name: "timeout", kind: intParam, hi: math.MaxInt32, rule: fixed,
		get: func(d *Door) (string, bool) {
			return strconv.FormatInt(int64(d.store.Settings().IdleTimeout/time.Second), 10), true
		},
		why: "set at start with --timeout" + atStart},
	{name: "zset-max-listpack-entries", alias: "zset-max-ziplist-entries", kind: intParam, hi: math.MaxInt64, unsigned: true,
		rule: settable, slot: slotZsetEntries, def: 128},
	{name: "zset-max-listpack-value", alias: "zset-max-ziplist-value", kind: memParam, hi: math.MaxInt64, unsigned: true,
		rule: settable, slot: slotZsetValue, def: 64},
}

func constant(v string) func(*Door) (string, bool) {
	return func(*Door) (string, bool) { return v, true }
}

// getBind answers bind from --listen: its host, or Redis's "* -::*" for
// every interface.
func getBind(d *Door) (string, bool) {
	host, _, err := net.SplitHostPort(d.store.Settings().ListenAddr)
	if err != nil || host == "" {
		return "* -::*", true
	}
	return host, true
}

func getPort(d *Door) (string, bool) {
	_, port := splitHostPort(d.store.Status().ClientAddr)
	return port, true
}

func getProtectedMode(d *Door) (string, bool) {
	if d.cfg.ProtectedMode {
		return "yes", true
	}
	return "no", true
}

func getRequirepass(d *Door) (string, bool) {
	def := d.users["default"]
	if def.on && def.nopass {
		return "", true
	}
	return "", false // kvorum keeps only the password's hash
}

// params holds the settable parameters' values for one door.
type params struct {
	mu sync.Mutex
	v  [numSlots]int64
}

func newParams() *params {
	p := &params{}
	for _, pr := range configParams {
		if pr.rule == settable {
			p.v[pr.slot] = pr.def
		}
	}
	return p
}

// limits are the thresholds OBJECT ENCODING reports by. The caller holds
// p.mu.
func (p *params) limits() fsm.EncodingLimits {
	return fsm.EncodingLimits{HashEntries: p.v[slotHashEntries], HashValue: p.v[slotHashValue],
		IntsetEntries: p.v[slotIntsetEntries], ZsetEntries: p.v[slotZsetEntries], ZsetValue: p.v[slotZsetValue]}
}

// get returns a settable parameter's value.
func (p *params) get(slot int) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.v[slot]
}

// value is the parameter's value as CONFIG GET answers it, or false if it
// is left out.
func (p *param) value(d *Door) (string, bool) {
	if p.rule == settable {
		return strconv.FormatInt(d.params.get(p.slot), 10), true
	}
	return p.get(d)
}

// lookupParam finds a parameter by its name or alias, case-insensitively,
// and returns the name it matched.
func lookupParam(name string) (*param, string) {
	for i := range configParams {
		p := &configParams[i]
		switch {
		case strings.EqualFold(name, p.name):
			return p, p.name
		case p.alias != "" && strings.EqualFold(name, p.alias):
			return p, p.alias
		}
	}
	return nil, ""
}

// configGet answers CONFIG GET pattern...: each parameter at most once, a
// name without glob characters as the client wrote it, patterns matched
// case-insensitively against every name and alias. A map in RESP3, a flat
// array in RESP2.
func configGet(d *Door, patterns []resp.Value) resp.Value {
	var out []resp.Value
	seen := map[string]bool{}
	add := func(name string, p *param) {
		key := strings.ToLower(name)
		if seen[key] {
			return
		}
		seen[key] = true
		if v, ok := p.value(d); ok {
			out = append(out, resp.BulkString(name), resp.BulkString(v))
		}
	}
	for _, pat := range patterns {
		text := pat.Text()
		if !strings.ContainsAny(text, "*?[") {
			if p, _ := lookupParam(text); p != nil {
				add(text, p)
			}
			continue
		}
		// Redis matches without case; lowering both sides is the same.
		lower := []byte(strings.ToLower(text))
		for i := range configParams {
			p := &configParams[i]
			for _, name := range []string{p.name, p.alias} {
				if name != "" && fsm.Glob(lower, []byte(name)) {
					add(name, p)
				}
			}
		}
	}
	return resp.Dict(out...)
}

// configSet answers CONFIG SET name value [name value ...]: all the
// values are checked, in Redis's order and words, before any is set, so
// a refused request changes nothing.
func configSet(d *Door, args []resp.Value) resp.Value {
	if len(args)%2 != 0 {
		return errSyntax
	}
	type change struct {
		p     *param
		name  string // the name or alias it was found by
		value string
	}
	var changes []change
	for i := 2; i < len(args); i += 2 {
		typed := args[i].Text()
		p, name := lookupParam(typed)
		if p == nil {
			return resp.Err("ERR Unknown option or number of arguments for CONFIG SET - '" + typed + "'")
		}
		if p.rule == immutable {
			return errConfigSet(typed, "can't set immutable config")
		}
		for _, ch := range changes {
			if ch.name == name {
				return errConfigSet(typed, "duplicate parameter")
			}
		}
		changes = append(changes, change{p: p, name: name, value: args[i+1].Text()})
	}
	values := make([]int64, len(changes))
	for i, ch := range changes {
		n, canonical, problem := ch.p.parse(ch.value)
		if problem == "" && ch.p.rule == fixed {
			if cur, ok := ch.p.get(d); !ok || canonical != cur {
				problem = ch.p.why
			}
		}
		if problem != "" {
			return errConfigSet(ch.name, problem)
		}
		values[i] = n
	}
	d.params.mu.Lock()
	for i, ch := range changes {
		if ch.p.rule == settable {
			d.params.v[ch.p.slot] = values[i]
		}
	}
	limits := d.params.limits()
	d.params.mu.Unlock()
	d.fsm.SetEncodingLimits(limits)
	return resp.OK()
}

func errConfigSet(name, problem string) resp.Value {
	return resp.Err("ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + problem)
}

// parse parses a CONFIG SET value as Redis parses the parameter's kind,
// and returns it as a number (int and memory kinds), its text as CONFIG
// GET would answer it, or Redis's reason to refuse it.
func (p *param) parse(value string) (int64, string, string) {
	switch p.kind {
	case boolParam:
		if v := strings.ToLower(value); v == "yes" || v == "no" {
			return 0, v, ""
		}
		return 0, "", "argument must be 'yes' or 'no'"
	case enumParam:
		for _, c := range p.choices {
			if strings.EqualFold(value, c) {
				return 0, c, ""
			}
		}
		return 0, "", "argument(s) must be one of the following: " + strings.Join(p.choices, ", ")
	case textParam:
		return 0, value, ""
	}
	var n int64
	if p.kind == memParam {
		u, ok := memToULL(value)
		if !ok {
			return 0, "", "argument must be a memory value"
		}
		n = int64(u) // as Redis does: the bounds below compare it as unsigned
	} else {
		v, ok := resp.ParseInt([]byte(value))
		if !ok {
			return 0, "", "argument couldn't be parsed into an integer"
		}
		n = v
	}
	if p.unsigned {
		if uint64(n) < uint64(p.lo) || uint64(n) > p.hi {
			return 0, "", "argument must be between " + strconv.FormatUint(uint64(p.lo), 10) + " and " +
				strconv.FormatUint(p.hi, 10) + " inclusive"
		}
		return n, strconv.FormatUint(uint64(n), 10), ""
	}
	if n < p.lo || n > int64(p.hi) {
		return 0, "", "argument must be between " + strconv.FormatInt(p.lo, 10) + " and " +
			strconv.FormatUint(p.hi, 10) + " inclusive"
	}
	return n, strconv.FormatInt(n, 10), ""
}

// ParseMemory parses a size as Redis writes one ("64mb", "1gb", "4096"):
// memToULL's reading, for a flag that takes a size.
func ParseMemory(s string) (uint64, bool) { return memToULL(s) }

// memToULL parses a memory value as Redis 7.0's memtoull: leading digits
// (none is 0) and an optional unit, b k kb m mb g gb in any case; no sign.
// Like strtoull it saturates on overflow, and like memtoull the unit's
// product wraps.
func memToULL(s string) (uint64, bool) {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	var m uint64
	switch strings.ToLower(s[i:]) {
	case "", "b":
		m = 1
	case "k":
		m = 1000
	case "kb":
		m = 1024
	case "m":
		m = 1000 * 1000
	case "mb":
		m = 1024 * 1024
	case "g":
		m = 1000 * 1000 * 1000
	case "gb":
		m = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	if i >= 128 { // memtoull's digit buffer holds 127
		return 0, false
	}
	var n uint64
	for _, c := range s[:i] {
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			n = math.MaxUint64
			break
		}
		n = n*10 + d
	}
	return n * m, true
}

// configHelp is CONFIG HELP, Redis 7.0's text.
func configHelp() resp.Value {
	lines := []string{
		"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.",
		"HELP",
		"    Prints this help.",
	}
	out := make([]resp.Value, len(lines))
	for i, l := range lines {
		out[i] = resp.Simple(l)
	}
	return resp.Array(out...)
}
