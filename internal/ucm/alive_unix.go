//go:build linux || darwin || freebsd || netbsd || openbsd

package ucm

import (
	"errors"
	"net"
	"syscall"
)

// alive reports whether an idle connection can still carry a request: a non-blocking peek at
// the socket finds nothing to read. A unit that closed the connection shows as end of file (or
// as its TLS close_notify, which is data); anything else unasked-for from a unit between
// exchanges also means the connection is not in a state to reuse.
func alive(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	err = raw.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		_ = n
		open = errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK)
		return true // never wait: the answer is now
	})
	return err == nil && open
}
