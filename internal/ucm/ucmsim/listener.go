package ucmsim

import (
	"fmt"
	"net"
	"sync"
)

// switchListener is the server's TCP listener with an off switch, so that a test can make the
// unit refuse connections (the port closed, as while a unit reboots) and then take them again
// on the same address. It also tracks the connections it accepted, so that they can be dropped
// the way a reboot drops them.
type switchListener struct {
	addr *net.TCPAddr

	mu     sync.Mutex
	ln     net.Listener  // nil while refusing
	up     chan struct{} // closed when listening again, or on Close
	closed bool
	conns  map[*trackedConn]struct{}
}

func newSwitchListener(ln net.Listener) *switchListener {
	up := make(chan struct{})
	close(up)
	return &switchListener{addr: ln.Addr().(*net.TCPAddr), ln: ln, up: up, conns: map[*trackedConn]struct{}{}}
}

// Accept waits through a refusing spell: to http.Server the listener is never closed until Close.
func (l *switchListener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		ln, up, closed := l.ln, l.up, l.closed
		l.mu.Unlock()
		switch {
		case closed:
			return nil, net.ErrClosed
		case ln == nil:
			<-up
			continue
		}
		c, err := ln.Accept()
		l.mu.Lock()
		if err != nil {
			switched := l.ln != ln && !l.closed
			l.mu.Unlock()
			if switched {
				continue // closed by refuse: wait for the next listener
			}
			return nil, err
		}
		tc := &trackedConn{Conn: c, l: l}
		l.conns[tc] = struct{}{}
		l.mu.Unlock()
		return tc, nil
	}
}

// refuse closes the listening socket (new connections are refused by the OS) and drops every
// open connection.
func (l *switchListener) refuse() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		_ = l.ln.Close()
		l.ln = nil
		l.up = make(chan struct{})
	}
	l.dropLocked()
}

// listen takes connections again on the same address.
func (l *switchListener) listen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil || l.closed {
		return nil
	}
	ln, err := net.Listen("tcp", l.addr.String())
	if err != nil {
		return fmt.Errorf("ucmsim: listen again on %s: %w", l.addr, err)
	}
	l.ln = ln
	close(l.up)
	return nil
}

// drop closes every open connection; the listener keeps accepting.
func (l *switchListener) drop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropLocked()
}

func (l *switchListener) dropLocked() {
	for c := range l.conns {
		_ = c.Conn.Close()
		delete(l.conns, c)
	}
}

func (l *switchListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var err error
	if l.ln != nil {
		err = l.ln.Close()
		l.ln = nil
	} else {
		close(l.up)
	}
	return err
}

func (l *switchListener) Addr() net.Addr { return l.addr }

// trackedConn leaves the listener's set when closed.
type trackedConn struct {
	net.Conn
	l *switchListener
}

func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}
