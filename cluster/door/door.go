package door

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// Config configures a Door. Zero fields take their defaults.
type Config struct {
	Store Store // required
	// WakeTimeout bounds how long a write that woke blocked pops waits
	// for their attempts before it answers (default 5s).
	WakeTimeout time.Duration
	// SentinelMaster is the master name SENTINEL answers for (default
	// "mymaster"): the Raft leader, under the name Sentinel clients ask
	// for (sentinel.go).
	SentinelMaster string
	// Proxy makes a follower relay a plain client's connection to the
	// leader instead of answering -MOVED (--follower-mode proxy; proxy.go).
	Proxy bool
	// DialLeader opens the proxy's connection to the leader (proxy.go);
	// nil: plain TCP to its client address.
	DialLeader Dialer
	// Users are the ACL users (ParseUsers; acl.go, auth.go); nil: the
	// default user, on, with no password and every permission.
	Users *Users
	// ProtectedMode refuses connections from beyond loopback (Admit): cmd
	// sets it when no password is set and the node listens beyond
	// loopback, unless --protected-mode no.
	ProtectedMode bool
	// FirstLeaderWait bounds how long a request that needs the leader
	// waits for one before this node has known any (firstleader.go); 0:
	// no wait.
	FirstLeaderWait time.Duration
	Logger          *slog.Logger // default: discard
}

// Door is the Redis front door of one node: a resp.Handler that routes
// each request by its registry row, and owns the per-connection sessions,
// MULTI/WATCH, pub/sub and blocking waits. Create it with New, serve it
// with a resp.Server, stop it with Close.
type Door struct {
	store    Store
	fsm      *fsm.FSM
	reg      *Registry
	seqCmd   *Command  // KVORUM.SEQ's row: a framed write is counted as the wrapped one it stands for
	seqStats *cmdStats // KVORUM.SEQ's commandstats, which a session write's failure counts against
	log      *slog.Logger
	cfg      Config
	waiters  *waiters
	pubsub   *pubsub
	tenures  *tenures
	proxies  *proxies
	sentinel *sentinel
	bg       *group        // the door's own goroutines, stopped by Close
	commands atomic.Uint64 // requests served (INFO stats)
	stats    *stats        // INFO stats and commandstats beyond commands (server.go)
	params   *params       // what CONFIG SET changed (config.go)
	// leaderSeen: the node has known a leader once; firstLeaderBy: until
	// when requests wait for the first one (firstleader.go).
	leaderSeen    atomic.Bool
	firstLeaderBy time.Time
	// users by name, their names sorted (ACL LIST), and the user a new
	// connection is authenticated as, nil if it must AUTH.
	users     map[string]*user
	userNames []string
	autoUser  *user
}

// New returns the front door for cfg.Store and registers the blocked
// pops' wake-ups on its FSM. It panics if a command is registered twice,
// a programming error caught at start.
func New(cfg Config) *Door {
	if cfg.WakeTimeout <= 0 {
		cfg.WakeTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SentinelMaster == "" {
		cfg.SentinelMaster = "mymaster"
	}
	cfg.Store = brokenStore(cfg.Store) // the identity but in a kvorum_broken build (broken.go): a planted bug
	bg := newGroup()
	d := &Door{store: cfg.Store, fsm: cfg.Store.FSM(), log: cfg.Logger, cfg: cfg, waiters: newWaiters(), pubsub: newPubsub(),
		tenures: newTenures(bg), sentinel: newSentinel(cfg.SentinelMaster), bg: bg, stats: &stats{}, params: newParams(),
		firstLeaderBy: time.Now().Add(cfg.FirstLeaderWait)}
	reg, err := NewRegistry(d.fsm.Table(), families()...)
	if err != nil {
		panic(err)
	}
	d.reg = reg
	d.seqCmd = reg.Lookup([]byte(fsm.SeqCommand))
	d.seqStats = d.seqCmd.stats
	d.proxies = newProxies(d.leaderAddr, bg)
	users := cfg.Users
	if users == nil {
		users, _ = ParseUsers("", "") // the default user, on, nopass, everything
	}
	d.users, d.userNames = users.resolve(reg)
	if def := d.users["default"]; def.on && def.nopass {
		d.autoUser = def
	}
	d.fsm.WatchPushes(d.waiters.notify)
	return d
}

// families are the door's own command families, with their ACL
// categories; the registry adds fsm's data commands to them.
func families() [][]Command {
	return [][]Command{
		inCategory(CatConnection, connectionCommands()), inCategory(CatAdmin|CatDangerous, serverCommands()),
		inCategory(CatTransaction, txCommands()), inCategory(CatPubsub, pubsubCommands()), sessionCommands(),
		inCategory(CatAdmin|CatDangerous, sentinelCommands()), authCommands(),
		inCategory(CatAdmin|CatDangerous, backupCommands()),
	}
}

// inCategory adds cat to the categories of rows.
func inCategory(cat Category, rows []Command) []Command {
	for i := range rows {
		rows[i].Cats |= cat
	}
	return rows
}

// Registry returns the door's command registry.
func (d *Door) Registry() *Registry { return d.reg }

// Close stops what the door runs on its own (the watch that closes plain
// connections and subscribers when leadership ends, the proxy's leader
// watch, the Sentinel switch watch) and waits for it. Idempotent.
func (d *Door) Close() { d.bg.close() }

// session is the front door's per-connection state. Only the connection's
// reader goroutine touches it.
type session struct {
	readonly bool // READONLY: serve reads from this node's state even on a follower
	// aware: the client follows redirects (it sent READONLY, READWRITE,
	// CLUSTER or KVORUM.SEQ), so leadership's end does not close it and a
	// follower proxy does not relay it (tenure.go, proxy.go).
	aware bool
	// started: the connection's first command was authorized; user is
	// who it is authenticated as (nil: not yet), authFails its failed
	// AUTHs, creds what the proxy replays upstream (auth.go).
	started   bool
	user      *user
	authFails int
	creds     []string
	// tenure is the leadership this connection is bound to, if any.
	tenure  <-chan struct{}
	proto   string   // the version its HELLO asked for, replayed by the proxy
	tx      *txState // open MULTI, nil outside one (tx.go)
	watched []watch  // WATCHed keys with their modification indexes
	// subscriptions counts the channels and patterns subscribed (pubsub.go).
	subscriptions int64
	// reads counts this connection's leader reads handed out but not yet
	// executed. A read runs when its turn comes in the pipeline, so a write
	// behind it must not enter the log before then, or the read would see it.
	reads int
	// frame is the session frame in progress (KVORUM.SEQS, sessions.go);
	// seqArgs the scratch its writes are stamped in.
	frame   frame
	seqArgs []resp.Value
}

func sessionOf(c *resp.Conn) *session {
	s, _ := c.Session.(*session)
	if s == nil {
		s = &session{}
		c.Session = s
	}
	return s
}

// Serve routes one request (resp.Handler): it finds the command's row,
// checks arity, subscribe mode and MULTI, and hands it on by its kind.
func (d *Door) Serve(c *resp.Conn, args []resp.Value) resp.Reply {
	r := d.serve(c, args)
	if v, ok := r.Known(); ok && v.IsError() && isFrameHeader(args) {
		// A refused KVORUM.SEQS frame header, whatever refused it (no
		// authentication, a bad stamp, subscribe mode, another frame):
		// its writes follow in the pipeline and must not be served bare
		// or under another stamp, and its client expects no reply of a
		// header. End the connection here.
		c.CloseAfterReply()
	}
	return r
}

func (d *Door) serve(c *resp.Conn, args []resp.Value) resp.Reply {
	start := time.Now()
	s := sessionOf(c)
	if s.frame.left > 0 {
		return d.serveFramed(c, s, args, start)
	}
	cmd, refused, ok := d.check(s, args)
	if !ok {
		d.countRefused(args) // rejected_calls, not total_commands_processed, as in Redis
		return refused
	}
	d.countRequest(start)
	if needsLeader(cmd, s) {
		d.awaitFirstLeader(c.Context())
	}
	r := d.route(c, s, cmd, args)
	countServed(cmd, start, r)
	return r
}

// check finds args' command and checks its arity and that the connection's
// user may run it; otherwise it returns the refusal. KVORUM.SEQ checks the
// command it wraps the same way.
func (d *Door) check(s *session, args []resp.Value) (*Command, resp.Reply, bool) {
	cmd := d.reg.Lookup(args[0].TextBytes())
	switch {
	case cmd == nil:
		return nil, s.refuse(fsm.UnknownCommand(args[0].TextBytes(), args[1:]...)), false
	case !cmd.arityOK(len(args)):
		return nil, s.refuseCmd(cmd, fsm.WrongArity(cmd.Name)), false
	}
	if v, ok := d.authorize(s, cmd, args); !ok {
		return nil, s.refuseCmd(cmd, v), false
	}
	return cmd, resp.Reply{}, true
}

// route hands a checked request on: refused in subscribe mode, queued in
// MULTI, relayed by a proxying follower, else by its kind.
func (d *Door) route(c *resp.Conn, s *session, cmd *Command, args []resp.Value) resp.Reply {
	switch {
	case s.subscriptions > 0 && c.Mode() != resp.RESP3 && !cmd.has(Subscribed):
		return resp.Now(errSubscribed(cmd.Name))
	case s.tx != nil && !cmd.has(InMulti):
		return s.queue(cmd, args)
	}
	if cmd.has(Aware) {
		d.markAware(c, s)
	}
	if d.relays(s, cmd, args) {
		return d.proxy(c, s, args)
	}
	switch cmd.Kind {
	case Write:
		return d.write(c, s, cmd.stats, args)
	case Read:
		return d.read(c, s, cmd, args)
	case Blocking:
		return d.block(c, cmd.Data, args, args)
	case Leader:
		if d.lead(c, s) == nil {
			return resp.Now(d.notLeading())
		}
	}
	if cmd.Answer != nil {
		return resp.Now(cmd.Answer(d, c, args))
	}
	return cmd.Run(d, c, args)
}

// ConnClosed drops a closed connection's subscriptions (resp.ConnCloser).
func (d *Door) ConnClosed(c *resp.Conn) {
	d.pubsub.drop(c)
	d.tenures.unbind(c)
}

// notLeading is the reply of a node that cannot serve a leader's command.
func (d *Door) notLeading() resp.Value {
	d.stats.redirects.Add(1)
	return errorValue(d.store.NotLeading())
}
