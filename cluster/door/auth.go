package door

import (
	"errors"
	"net"
	"strings"
	"time"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// Authentication, Redis's way: a connection is the "default" user, already
// authenticated if that user is on and nopass (no --requirepass, or a
// users file that says so); otherwise every command but AUTH, HELLO and
// QUIT answers -NOAUTH until AUTH (or HELLO ... AUTH) names a user and its
// password. Each command is then checked against the user's ACL (acl.go):
// -NOPERM if the user may not run it or touch its keys. A connection's
// user lives in its session; the follower proxy replays its credentials
// upstream.

var (
	errNoAuth      = resp.Err("NOAUTH Authentication required.")
	errHelloNoAuth = resp.Err("NOAUTH HELLO must be called with the client already authenticated, otherwise the " +
		"HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol " +
		"version at the same time")
	errWrongPass  = resp.Err("WRONGPASS invalid username-password pair or user is disabled.")
	errAuthNoPass = resp.Err("ERR AUTH <password> called without any password configured for the default user. " +
		"Are you sure your configuration is correct?")
	errSyntax = resp.Err("ERR syntax error")
)

// maxAuthDelay bounds the pause before a failed AUTH's reply, which
// doubles with each failure on a connection (a password guesser gets a
// few tries a second, a mistyped password a short wait).
const maxAuthDelay = time.Second

// authorize returns the refusal of cmd for s's user, if any: -NOAUTH before
// authentication, -NOPERM for a command or key the user may not use.
// Commands flagged NoAuth (AUTH, HELLO, QUIT) pass; KVORUM.SEQ and a
// KVORUM.SEQS frame are checked by the commands they stamp (sessions.go).
func (d *Door) authorize(s *session, cmd *Command, args []resp.Value) (resp.Value, bool) {
	if cmd.has(NoAuth) {
		return resp.Value{}, true
	}
	d.startSession(s)
	switch {
	case s.user == nil:
		return errNoAuth, false
	case s.user.everything || cmd.Name == fsm.SeqCommand || cmd.Name == seqsCommand:
		return resp.Value{}, true
	}
	return s.user.permit(cmd, args)
}

// startSession makes a connection's first command find it authenticated
// as the default user, if that user needs no password.
func (d *Door) startSession(s *session) {
	if !s.started {
		s.started = true
		s.user = d.autoUser
	}
}

// authenticate checks name's password and makes it s's user, answering
// OK. On failure the user stays as it was, and the reply is WRONGPASS
// after a pause that grows with the connection's failures.
func (d *Door) authenticate(c *resp.Conn, s *session, name, password string) (resp.Reply, bool) {
	d.startSession(s)
	if u := d.users[name]; u != nil && u.check([]byte(password)) {
		s.user, s.authFails = u, 0
		if d.cfg.Proxy {
			s.creds = []string{name, password}
		}
		return resp.Now(resp.OK()), true
	}
	s.authFails++
	wait := min(maxAuthDelay, 10*time.Millisecond<<min(s.authFails, 10))
	return resp.Later(&delayed{v: errWrongPass, wait: wait, ctx: c.Context().Done()}), false
}

// delayed is a reply sent after a pause, or at once if the connection
// closes meanwhile.
type delayed struct {
	v    resp.Value
	wait time.Duration
	ctx  <-chan struct{}
}

func (f *delayed) Wait() resp.Value {
	t := time.NewTimer(f.wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-f.ctx:
	}
	return f.v
}

// cmdAuth serves AUTH password and AUTH username password.
func cmdAuth(d *Door, c *resp.Conn, args []resp.Value) resp.Reply {
	s := sessionOf(c)
	switch len(args) {
	case 2:
		if def := d.users["default"]; def != nil && def.nopass {
			return resp.Now(errAuthNoPass)
		}
		r, _ := d.authenticate(c, s, "default", args[1].Text())
		return r
	case 3:
		r, _ := d.authenticate(c, s, args[1].Text(), args[2].Text())
		return r
	}
	return resp.Now(errSyntax)
}

// cmdACL serves ACL WHOAMI, ACL LIST, ACL USERS and ACL CAT [category].
func cmdACL(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	s := sessionOf(c)
	switch sub := strings.ToUpper(args[1].Text()); {
	case sub == "WHOAMI" && len(args) == 2:
		return resp.BulkString(s.user.name)
	case sub == "LIST" && len(args) == 2, sub == "USERS" && len(args) == 2:
		var out []resp.Value
		for _, name := range d.userNames {
			if sub == "LIST" {
				out = append(out, resp.BulkString(d.users[name].describe()))
			} else {
				out = append(out, resp.BulkString(name))
			}
		}
		return resp.Array(out...)
	case sub == "CAT" && len(args) == 2:
		var out []resp.Value
		for _, cn := range categoryNames {
			out = append(out, resp.BulkString(cn.name))
		}
		return resp.Array(out...)
	case sub == "CAT" && len(args) == 3:
		cat, ok := categoryNamed(args[2].Text())
		if !ok {
			return resp.Err("ERR Unknown category '" + args[2].Text() + "'")
		}
		var out []resp.Value
		for _, cmd := range d.reg.rows {
			if cmd.Cats&cat != 0 {
				out = append(out, resp.BulkString(strings.ToLower(cmd.Name)))
			}
		}
		return resp.Array(out...)
	case sub == "WHOAMI" || sub == "LIST" || sub == "USERS" || sub == "CAT":
		return fsm.WrongArity("acl|" + strings.ToLower(sub))
	}
	return errUnknownSubcommand(args[1], "ACL")
}

func authCommands() []Command {
	return []Command{
		{Name: "AUTH", Kind: Local, Flags: NoAuth, Cats: CatConnection, Arity: -2, Run: cmdAuth},
		{Name: "ACL", Kind: Local, Cats: CatAdmin | CatDangerous, Arity: -2, Answer: cmdACL},
	}
}

// errDenied is protected mode's refusal (Admit), Redis's text adapted.
var errDenied = errors.New("DENIED kvorum is running in protected mode because protected mode is enabled and no " +
	"password is set for the default user. In this mode connections are only accepted from the loopback interface. " +
	"If you want to connect from external computers to kvorum you may adopt one of the following solutions: " +
	"1) Set a password for the default user (--requirepass, or a users file with --users-file). " +
	"2) Disable protected mode with '--protected-mode no', and MAKE SURE kvorum is not publicly accessible from " +
	"the internet if you do so.")

// Admit refuses a connection from anywhere but the loopback interface in
// protected mode (resp.Admitter): a node that listens beyond loopback with
// no password would otherwise serve anyone who can reach it.
func (d *Door) Admit(remote net.Addr) error {
	if !d.cfg.ProtectedMode || isLocal(remote) {
		return nil
	}
	return errDenied
}

// isLocal reports whether a client's address is local as Redis counts it:
// 127.0.0.1, ::1 or a unix socket (127.0.0.2 is not).
func isLocal(a net.Addr) bool {
	switch a := a.(type) {
	case *net.UnixAddr:
		return true
	case *net.TCPAddr:
		return a.IP.Equal(net.IPv4(127, 0, 0, 1)) || a.IP.Equal(net.IPv6loopback)
	}
	return false
}
