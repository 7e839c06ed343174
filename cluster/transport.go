package cluster

import (
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// tcpLayer is raft's StreamLayer over plain TCP. It is ours (rather than
// raft.NewTCPTransport) so that Config.WrapRaftLayer can wrap it, and the
// TLS layer (tlslayer.go) can run over it.
type tcpLayer struct {
	net.Listener
	advertise net.Addr
}

func (t *tcpLayer) Addr() net.Addr { return t.advertise }

func (t *tcpLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", string(addr), timeout)
}

type addrString string

func (a addrString) Network() string { return "tcp" }
func (a addrString) String() string  { return string(a) }
