//go:build unix

package client

import (
	"errors"
	"io"
	"net"
	"syscall"
)

// peekIdle looks, without blocking or consuming, at an idle connection's
// socket (as go-redis's connCheck does): nothing there is healthy; EOF, an
// error or unexpected data means it must not be reused.
func peekIdle(nc net.Conn) error {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var perr error
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n == 0 && err == nil:
			perr = io.EOF
		case n > 0:
			perr = errBrokenIdle
		case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK:
			perr = nil
		default:
			perr = err
		}
		return true
	})
	return errors.Join(err, perr)
}
