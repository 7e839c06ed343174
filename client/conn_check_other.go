//go:build !unix

package client

import "net"

// peekIdle cannot look at the socket on this platform; a broken idle
// connection shows up as an error on first use instead.
func peekIdle(net.Conn) error { return nil }
