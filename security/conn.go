package security

import (
	"crypto/tls"
	"net"
)

// TLSState returns the TLS state of a connection, looking through wrappers
// that expose the connection below with NetConn (as tls.Conn and the
// server's detection wrapper do); nil for a plain TCP connection.
func TLSState(nc net.Conn) *tls.ConnectionState {
	for range 8 {
		switch c := nc.(type) {
		case *tls.Conn:
			cs := c.ConnectionState()
			return &cs
		case interface{ NetConn() net.Conn }:
			nc = c.NetConn()
		default:
			return nil
		}
	}
	return nil
}
