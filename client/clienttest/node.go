package clienttest

import (
	"errors"
	"net"
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

// Follower returns a handler that answers every command as a follower does
// when leader leads: -MOVED 0 leader. With leader "" it answers
// -CLUSTERDOWN no leader.
func Follower(leader string) resp.Handler {
	reply := (&resp.RedirectError{Leader: leader}).Value()
	return resp.HandlerFunc(func(*resp.Conn, []resp.Value) resp.Reply { return resp.Now(reply) })
}
