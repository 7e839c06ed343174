package clienttest

import (
	"strconv"
	"strings"
	"sync"

	"github.com/kvorum/kvorum/resp"
)

// Store is a fake leader's data: a map from key to value (a byte string,
// integer, array or dict, nested, as kvorum keeps them) under a mutex. As a
// resp.Handler it answers GET, SET (no options), DELETE, DEL, FLUSH, MGET,
// MSET, EXISTS, INCR, PING, ECHO, HELLO and READWRITE, with kvorum's native replies
// (SET -> :1, MSET -> :pairs) or Redis's once HELLO 2/3 switched the
// connection; ROLE and INFO as a leader in its term (SetTerm); and write
// sessions, KVORUM.SESSION and KVORUM.SEQ, as kvorum does (session.go).
// Safe for concurrent use.
type Store struct {
	mu       sync.Mutex
	m        map[string]resp.Value
	index    int64              // the fake's log index: one per write served
	term     uint64             // the Raft term INFO reports
	sessions map[int64]*session // open write sessions by id
}

// NewStore returns an empty store, leading in term 1.
func NewStore() *Store {
	return &Store{m: make(map[string]resp.Value), term: 1, sessions: make(map[int64]*session)}
}

// SetTerm sets the Raft term INFO reports.
func (s *Store) SetTerm(term uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.term = term
}

// Len returns the number of keys.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// Value returns the value at key.
func (s *Store) Value(key string) (resp.Value, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v, ok
}

// Serve answers one command.
func (s *Store) Serve(c *resp.Conn, args []resp.Value) resp.Reply {
	return resp.Now(s.serve(c, args))
}

func (s *Store) serve(c *resp.Conn, args []resp.Value) resp.Value {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run(c, args)
}

// run serves one command (the caller holds s.mu).
func (s *Store) run(c *resp.Conn, args []resp.Value) resp.Value {
	name := strings.ToUpper(args[0].Text())
	native := c == nil || c.Mode() == resp.Native
	arity := func(n int) bool { return len(args) == n || n < 0 && len(args) >= -n }
	wrongArgs := func() resp.Value {
		return resp.Errorf("ERR wrong number of arguments for '%s' command", strings.ToLower(name))
	}
	switch name {
	case "PING":
		if len(args) > 1 {
			return resp.Bulk(args[1].Bytes())
		}
		return resp.Simple("PONG")
	case "ECHO":
		if !arity(2) {
			return wrongArgs()
		}
		return args[1]
	case "HELLO":
		return hello(c, args)
	case "READWRITE":
		return resp.OK()
	case "COMMAND":
		return CommandInfo()
	case "GET":
		if !arity(2) {
			return wrongArgs()
		}
		return s.get(args[1], native)
	case "ROLE":
		return resp.Array(resp.BulkString("master"), resp.Int(s.index), resp.Array())
	case "INFO":
		return info("master", s.term)
	case sessionCommand:
		return s.session(args)
	case seqCommand:
		return s.seq(c, args)
	}
	s.index++
	return s.write(name, args, native)
}

// write serves the writes (the caller holds s.mu).
func (s *Store) write(name string, args []resp.Value, native bool) resp.Value {
	arity := func(n int) bool { return len(args) == n || n < 0 && len(args) >= -n }
	wrongArgs := func() resp.Value {
		return resp.Errorf("ERR wrong number of arguments for '%s' command", strings.ToLower(name))
	}
	switch name {
	case "SET":
		if !arity(3) {
			return wrongArgs()
		}
		s.m[args[1].Text()] = args[2].Clone()
		if native {
			return resp.Int(1)
		}
		return resp.OK()
	case "MSET":
		if !arity(-3) || len(args)%2 != 1 {
			return wrongArgs()
		}
		for i := 1; i < len(args); i += 2 {
			s.m[args[i].Text()] = args[i+1].Clone()
		}
		if native {
			return resp.Int(int64(len(args) / 2))
		}
		return resp.OK()
	case "MGET":
		if !arity(-2) {
			return wrongArgs()
		}
		out := make([]resp.Value, len(args)-1)
		for i, k := range args[1:] {
			out[i] = s.get(k, native)
		}
		return resp.Array(out...)
	case "DELETE", "DEL", "EXISTS":
		if !arity(-2) || name == "DELETE" && !arity(2) {
			return wrongArgs()
		}
		var n int64
		for _, k := range args[1:] {
			if _, ok := s.m[k.Text()]; ok {
				n++
				if name != "EXISTS" {
					delete(s.m, k.Text())
				}
			}
		}
		return resp.Int(n)
	case "FLUSH":
		n := len(s.m)
		clear(s.m)
		return resp.Int(int64(n))
	case "INCR":
		if !arity(2) {
			return wrongArgs()
		}
		old, ok := s.m[args[1].Text()]
		var n int64
		if ok {
			var valid bool
			if n, valid = resp.ParseInt([]byte(old.Text())); !valid || !old.IsScalar() {
				return resp.Err("ERR value is not an integer or out of range")
			}
		}
		s.m[args[1].Text()] = resp.Int(n + 1)
		return resp.Int(n + 1)
	}
	return resp.Errorf("ERR unknown command '%s'", args[0].Text())
}

// get returns the value at key, integers as bulk strings outside native
// mode, as kvorum does.
func (s *Store) get(key resp.Value, native bool) resp.Value {
	var v resp.Value
	var ok bool
	if key.Kind() == resp.KindBulk || key.Kind() == resp.KindSimple {
		v, ok = s.m[string(key.Bytes())] // no copy for a map lookup
	} else {
		v, ok = s.m[key.Text()]
	}
	switch {
	case !ok:
		return resp.NullBulk()
	case !native && v.Kind() == resp.KindInt:
		return resp.BulkString(v.Text())
	}
	return v
}

// info is an INFO reply with the replication and raft sections.
func info(role string, term uint64) resp.Value {
	return resp.BulkString("# Replication\r\nrole:" + role + "\r\n\r\n# Raft\r\nraft_term:" +
		strconv.FormatUint(term, 10) + "\r\n")
}

// hello switches the connection's mode as HELLO 2 / HELLO 3 do.
func hello(c *resp.Conn, args []resp.Value) resp.Value {
	proto := int64(2)
	if c != nil && c.Mode() == resp.RESP3 {
		proto = 3
	}
	if len(args) > 1 {
		n, ok := resp.ParseInt([]byte(args[1].Text()))
		if !ok || n < 2 || n > 3 {
			return resp.Err("NOPROTO unsupported protocol version")
		}
		proto = n
		if c != nil && n == 2 {
			c.SetMode(resp.RESP2)
		} else if c != nil {
			c.SetMode(resp.RESP3)
		}
	}
	return resp.Dict(
		resp.BulkString("server"), resp.BulkString("kvorum-fake"),
		resp.BulkString("proto"), resp.Int(proto),
		resp.BulkString("role"), resp.BulkString("master"),
	)
}

// CommandInfo answers COMMAND INFO as a node that knows none of the
// commands asked about: in particular it takes no KVORUM.SEQS frames, so a
// client sends it each session write wrapped, as it does a node of an
// earlier version.
func CommandInfo() resp.Value { return resp.Array(resp.NullArray()) }
