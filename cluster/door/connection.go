package door

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// redisVersion is the Redis version INFO (redis_version) and HELLO
// ("version") claim, one constant so they agree: the Redis whose commands
// and replies kvorum's are (docs/compatibility.md says where they are
// not). Clients choose commands by it: RQ (1.13, Debian's) writes job
// results with XADD and reads them with XREVRANGE once the server says
// 5.0.0 or later, which kvorum's streams serve (TestQueues_RQFailover).
// kvorum's own version is INFO's kvorum_version (internal/version).
const redisVersion = "7.0.15"

// redisMode is INFO's redis_mode and HELLO's "mode": kvorum answers the
// CLUSTER commands (one shard owning every slot), as Redis in cluster mode
// does, so it says "cluster" in both.
const redisMode = "cluster"

// connectionCommands are answered by the node that receives them, leader
// or follower: they concern the connection, not the data.
func connectionCommands() []Command {
	return []Command{
		{Name: "PING", Kind: Local, Flags: Subscribed | Queued, Arity: -1, Answer: cmdPing},
		{Name: "ECHO", Kind: Local, Flags: Queued, Arity: 2, Answer: func(d *Door, c *resp.Conn, a []resp.Value) resp.Value {
			return resp.BulkString(a[1].Text())
		}},
		{Name: "SELECT", Kind: Local, Flags: Queued, Arity: 2, Answer: cmdSelect},
		{Name: "HELLO", Kind: Local, Flags: NoAuth, Arity: -1, Run: cmdHello},
		{Name: "QUIT", Kind: Local, Flags: Subscribed | InMulti | NoAuth, Arity: -1, Answer: func(d *Door, c *resp.Conn, a []resp.Value) resp.Value {
			c.CloseAfterReply()
			return resp.OK()
		}},
		{Name: "CLIENT", Kind: Local, Arity: -2, Answer: cmdClient},
		{Name: "READONLY", Kind: Local, Flags: Aware, Arity: 1, Answer: func(d *Door, c *resp.Conn, a []resp.Value) resp.Value {
			sessionOf(c).readonly = true
			return resp.OK()
		}},
		{Name: "READWRITE", Kind: Local, Flags: Aware, Arity: 1, Answer: func(d *Door, c *resp.Conn, a []resp.Value) resp.Value {
			sessionOf(c).readonly = false
			return resp.OK()
		}},
		{Name: "COMMAND", Kind: Local, Arity: -1, Answer: cmdCommand},
		{Name: "TIME", Kind: Local, Arity: 1, Answer: cmdTime},
	}
}

func cmdPing(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	if len(args) > 2 {
		return fsm.WrongArity("ping")
	}
	if c.Mode() != resp.RESP3 && sessionOf(c).subscriptions > 0 {
		msg := resp.BulkString("")
		if len(args) > 1 {
			msg = resp.BulkString(args[1].Text())
		}
		return resp.Array(resp.BulkString("pong"), msg)
	}
	if len(args) == 2 {
		return resp.BulkString(args[1].Text())
	}
	return resp.Simple("PONG")
}

func cmdSelect(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	if args[1].Text() != "0" {
		return resp.Err("ERR DB index is out of range")
	}
	return resp.OK()
}

func cmdTime(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	now := time.Now()
	return resp.Array(resp.BulkString(strconv.FormatInt(now.Unix(), 10)),
		resp.BulkString(strconv.Itoa(now.Nanosecond()/1000)))
}

// cmdHello switches the connection's protocol (HELLO 2 / HELLO 3), with
// AUTH authenticates it and with SETNAME names it, and answers Redis's
// server description. Nothing changes unless every option is valid and
// the credentials open (Redis checks them first too).
func cmdHello(d *Door, c *resp.Conn, args []resp.Value) resp.Reply {
	s := sessionOf(c)
	proto, name, setName, creds := "", "", false, []string(nil)
	i := 1
	if len(args) > 1 {
		if proto = args[1].Text(); proto != "2" && proto != "3" {
			return resp.Now(resp.Err("NOPROTO unsupported protocol version"))
		}
		i = 2
	}
	for ; i < len(args); i++ {
		switch strings.ToUpper(args[i].Text()) {
		case "SETNAME":
			if i+1 >= len(args) {
				return resp.Now(errSyntax)
			}
			i++
			name, setName = args[i].Text(), true
		case "AUTH":
			if i+2 >= len(args) {
				return resp.Now(errSyntax)
			}
			creds = []string{args[i+1].Text(), args[i+2].Text()}
			i += 2
		default:
			return resp.Now(resp.Err("ERR syntax error in HELLO option '" + args[i].Text() + "'"))
		}
	}
	if creds != nil {
		if r, ok := d.authenticate(c, s, creds[0], creds[1]); !ok {
			return r
		}
	} else if d.startSession(s); s.user == nil {
		return resp.Now(errHelloNoAuth)
	}
	if proto != "" {
		mode := resp.RESP2
		if proto == "3" {
			mode = resp.RESP3
		}
		c.SetMode(mode)
		s.proto = proto
	}
	if setName {
		c.SetName(name)
	}
	return resp.Now(helloReply(d, c))
}

// helloReply is HELLO's server description.
func helloReply(d *Door, c *resp.Conn) resp.Value {
	role := "replica"
	if d.store.Leading() != nil {
		role = "master"
	}
	return resp.Dict(
		resp.BulkString("server"), resp.BulkString("redis"),
		resp.BulkString("version"), resp.BulkString(redisVersion),
		resp.BulkString("proto"), resp.Int(int64(protoNumber(c.Mode()))),
		resp.BulkString("id"), resp.Int(int64(c.ID())),
		resp.BulkString("mode"), resp.BulkString(redisMode),
		resp.BulkString("role"), resp.BulkString(role),
		resp.BulkString("modules"), resp.Array(),
	)
}

func cmdClient(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	switch sub := strings.ToUpper(args[1].Text()); sub {
	case "SETNAME":
		if len(args) != 3 {
			return fsm.WrongArity("client|setname")
		}
		name := args[2].Text()
		if strings.ContainsAny(name, " \n\r") {
			return resp.Err("ERR Client names cannot contain spaces, newlines or special characters.")
		}
		c.SetName(name)
		return resp.OK()
	case "GETNAME":
		if c.Name() == "" {
			return resp.NullBulk()
		}
		return resp.BulkString(c.Name())
	case "ID":
		return resp.Int(int64(c.ID()))
	case "LIST", "INFO":
		conns := []*resp.Conn{c}
		if sub == "LIST" {
			conns = d.store.Conns()
			sort.Slice(conns, func(i, j int) bool { return conns[i].ID() < conns[j].ID() })
		}
		var sb strings.Builder
		for _, k := range conns {
			fmt.Fprintf(&sb, "id=%d addr=%s name=%s age=%d db=0 resp=%d\n", k.ID(), k.RemoteAddr(), k.Name(),
				int(time.Since(k.Created()).Seconds()), protoNumber(k.Mode()))
		}
		return resp.BulkString(sb.String())
	case "UNBLOCK":
		return clientUnblock(d, args)
	case "SETINFO", "NO-EVICT", "NO-TOUCH", "REPLY":
		return resp.OK()
	}
	return errUnknownSubcommand(args[1], "CLIENT")
}

// clientUnblock is CLIENT UNBLOCK id [TIMEOUT|ERROR]: it ends connection
// id's blocking command on this node as its timeout would (TIMEOUT, the
// default) or with -UNBLOCKED (ERROR), and answers 1, or 0 if that
// connection is not blocked here.
func clientUnblock(d *Door, args []resp.Value) resp.Value {
	if len(args) < 3 {
		return fsm.WrongArity("client|unblock")
	}
	if len(args) > 4 { // Redis's CLIENT checks this itself, in its older words
		return resp.Err("ERR unknown subcommand or wrong number of arguments for '" + args[1].Text() + "'. Try CLIENT HELP.")
	}
	id, ok := resp.ParseInt(args[2].TextBytes())
	if !ok {
		return resp.Err("ERR value is not an integer or out of range")
	}
	v := resp.Null() // the command's own timeout reply
	if len(args) == 4 {
		switch strings.ToUpper(args[3].Text()) {
		case "TIMEOUT":
		case "ERROR":
			v = resp.Err("UNBLOCKED client unblocked via CLIENT UNBLOCK")
		default:
			return resp.Err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
		}
	}
	if id < 0 || !d.waiters.unblock(uint64(id), v) {
		return resp.Int(0)
	}
	return resp.Int(1)
}

func protoNumber(m resp.Mode) int {
	if m == resp.RESP3 {
		return 3
	}
	return 2
}

// cmdCommand answers COMMAND, COMMAND COUNT, COMMAND INFO and COMMAND DOCS
// from the registry, so they list exactly what routing serves.
func cmdCommand(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	if len(args) == 1 {
		out := make([]resp.Value, 0, d.reg.Len())
		for _, cmd := range d.reg.All() {
			out = append(out, cmd.info())
		}
		return resp.Array(out...)
	}
	switch strings.ToUpper(args[1].Text()) {
	case "COUNT":
		return resp.Int(int64(d.reg.Len()))
	case "INFO", "DOCS":
		docs := strings.EqualFold(args[1].Text(), "DOCS")
		rows := d.reg.All()
		if len(args) > 2 {
			rows = make([]*Command, len(args)-2)
			for i, a := range args[2:] {
				rows[i] = d.reg.Lookup([]byte(a.Text()))
			}
		}
		out := make([]resp.Value, 0, 2*len(rows))
		for _, cmd := range rows {
			switch {
			case docs && cmd != nil:
				out = append(out, resp.BulkString(strings.ToLower(cmd.Name)), cmd.docs())
			case cmd != nil:
				out = append(out, cmd.info())
			case !docs:
				out = append(out, resp.NullArray())
			}
		}
		if docs {
			return resp.Dict(out...)
		}
		return resp.Array(out...)
	}
	return errUnknownSubcommand(args[1], "COMMAND")
}

// errUnknownSubcommand is Redis's reply to a subcommand of cmd it lacks.
func errUnknownSubcommand(sub resp.Value, cmd string) resp.Value {
	return resp.Err("ERR unknown subcommand '" + sub.Text() + "'. Try " + cmd + " HELP.")
}
