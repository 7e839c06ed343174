package clienttest

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/kvorum/kvorum/resp"
)

// Node is a fake node: a resp.Server listening on 127.0.0.1.
type Node struct {
	// Addr is the address clients dial, host:port.
	Addr string

	srv       *resp.Server
	served    chan error
	closeOnce sync.Once
}

// Start serves h on 127.0.0.1 at a port the system picks, with the
// server's default (native) reply mode, until Close.
func Start(h resp.Handler) (*Node, error) {
	return StartConfig(resp.Config{}, h)
}

// StartConfig is Start with a server configuration.
func StartConfig(cfg resp.Config, h resp.Handler) (*Node, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	n := &Node{Addr: ln.Addr().String(), srv: resp.NewServer(cfg, h), served: make(chan error, 1)}
	go func() { n.served <- n.srv.Serve(ln) }()
	return n, nil
}

// Close stops the node: it closes the listener and every connection and
// waits for the server's goroutines. Idempotent.
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		n.srv.Close()
		if serr := <-n.served; !errors.Is(serr, resp.ErrServerClosed) {
			err = serr
		}
	})
	return err
}

// NumConns returns the connections the node is serving.
func (n *Node) NumConns() int { return n.srv.NumConns() }

// Follower returns a handler that answers as a follower does when leader
// leads: -MOVED 0 leader to every command but ROLE, INFO, READWRITE and
// CLUSTER SHARDS (see Replica). With leader "" it answers -CLUSTERDOWN no leader.
func Follower(leader string) resp.Handler { return NewReplica(leader, 1) }

// Replica is a fake follower: it answers ROLE, INFO, READWRITE and CLUSTER SHARDS as
// a follower of its leader in its Raft term would (naming the leader's
// address, reporting raft_term), and every other command with -MOVED 0
// leader, or -CLUSTERDOWN no leader while it knows none. Safe for
// concurrent use.
type Replica struct {
	mu     sync.Mutex
	leader string
	term   uint64
}

// NewReplica returns a follower of leader ("" for none) in term.
func NewReplica(leader string, term uint64) *Replica {
	return &Replica{leader: leader, term: term}
}

// SetLeader changes the leader and term, as an election does.
func (r *Replica) SetLeader(leader string, term uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.leader, r.term = leader, term
}

// Serve answers one command.
func (r *Replica) Serve(c *resp.Conn, args []resp.Value) resp.Reply {
	r.mu.Lock()
	leader, term := r.leader, r.term
	r.mu.Unlock()
	host, port, err := net.SplitHostPort(leader)
	if err != nil {
		host, port = "", "0"
	}
	p, _ := strconv.Atoi(port)
	switch strings.ToUpper(args[0].Text()) {
	case "ROLE":
		state := "connected"
		if host == "" {
			state = "connect"
		}
		return resp.Now(resp.Array(resp.BulkString("slave"), resp.BulkString(host), resp.Int(int64(p)),
			resp.BulkString(state), resp.Int(0)))
	case "INFO":
		return resp.Now(info("slave", term))
	case "READWRITE":
		return resp.Now(resp.OK())
	case "COMMAND":
		return resp.Now(CommandInfo())
	case "CLUSTER":
		if len(args) == 2 && strings.EqualFold(args[1].Text(), "SHARDS") {
			return resp.Now(shards(host, p))
		}
	}
	return resp.Now((&resp.RedirectError{Leader: leader}).Value())
}

// shards is a CLUSTER SHARDS reply whose one shard's master is at
// host:port; no shard if host is "".
func shards(host string, port int) resp.Value {
	if host == "" {
		return resp.Array()
	}
	node := resp.Dict(
		resp.BulkString("port"), resp.Int(int64(port)),
		resp.BulkString("ip"), resp.BulkString(host),
		resp.BulkString("endpoint"), resp.BulkString(host),
		resp.BulkString("role"), resp.BulkString("master"))
	return resp.Array(resp.Dict(
		resp.BulkString("slots"), resp.Array(resp.Int(0), resp.Int(16383)),
		resp.BulkString("nodes"), resp.Array(node)))
}
