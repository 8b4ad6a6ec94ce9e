package memcached

import (
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/hotgrid/hotgrid/security"
	"github.com/hotgrid/hotgrid/security/authz"
)

// Authentication replies.
var (
	rUnauthenticated = []byte("CLIENT_ERROR unauthenticated\r\n")
	rAuthFailed      = []byte("CLIENT_ERROR authentication failed\r\n")
)

// authState is a connection's authentication.
type authState struct {
	ctx      context.Context // carries the subject; nil until authenticated
	exchange *security.Exchange
}

func (c *conn) authenticated() bool { return c.srv.opts.Guard == nil || c.auth.ctx != nil }

// runContext is the context requests run with once authenticated.
func (c *conn) runContext(ctx context.Context) context.Context {
	if c.auth.ctx != nil {
		return c.auth.ctx
	}
	return ctx
}

// textAuth handles a command on a text connection that has not
// authenticated. As in Infinispan (and memcached with an auth file), the
// first command must be "set <any key> <flags> <exptime> <bytes>" whose data
// is "<user> <password>"; anything else gets CLIENT_ERROR unauthenticated.
// It returns how much of data it consumed, -1 if it needs more.
func (c *conn) textAuth(ctx context.Context, n int, data []byte) (int, error) {
	if n < 5 || n > 6 || string(c.toks[0]) != "set" {
		if n > 0 && string(c.toks[0]) == "quit" {
			return 0, errQuit
		}
		c.out = append(c.out, rUnauthenticated...)
		return 0, nil
	}
	size, err := strconv.Atoi(string(c.toks[4]))
	if err != nil || size < 0 || size > maxLineLen {
		c.out = append(c.out, rBadFormat...)
		return 0, nil
	}
	if len(data) < size+2 {
		return -1, nil
	}
	cred := data[:size]
	user, pass, _ := strings.Cut(string(bytes.TrimSpace(cred)), " ")
	s, lerr := c.srv.opts.Guard.Login(ctx, c.nc.RemoteAddr().String(), "memcached", user, pass)
	if lerr != nil {
		c.out = append(c.out, rAuthFailed...)
		return size + 2, nil
	}
	c.auth.ctx = authz.WithSubject(ctx, s)
	c.out = append(c.out, rStored...)
	return size + 2, nil
}

// binaryAllowedBeforeAuth are the opcodes served before SASL completes.
func binaryAllowedBeforeAuth(op byte) bool {
	switch op {
	case opcSASLList, opcSASLAuth, opcSASLStep, opcVersion, opcNoop, opcQuit, opcQuitQ:
		return true
	}
	return false
}

// binSASL answers SASL_LIST_MECHS, SASL_AUTH (key: mechanism, value:
// initial response) and SASL_STEP (value: next response). Success is status
// 0 with "Authenticated" (or the mechanism's final message), a challenge is
// status 0x21 "further authentication steps required".
func (c *conn) binSASL(ctx context.Context, r *binReq) {
	g := c.srv.opts.Guard
	if r.opcode == opcSASLList {
		var mechs []string
		if g != nil {
			mechs = g.Mechanisms(security.TLSState(c.nc))
		}
		body := strings.Join(mechs, " ")
		c.binHeader(r, stOK, 0, 0, len(body), 0)
		c.out = append(c.out, body...)
		return
	}
	if g == nil {
		c.binError(r, stAuthError)
		return
	}
	if r.opcode == opcSASLAuth {
		x, err := g.StartSASL(string(r.key), "memcached", c.nc.RemoteAddr().String(), security.TLSState(c.nc))
		if err != nil {
			c.binError(r, stAuthError)
			return
		}
		c.auth.exchange = x
	}
	if c.auth.exchange == nil {
		c.binError(r, stAuthError)
		return
	}
	challenge, done, subject, err := c.auth.exchange.Step(ctx, r.value)
	switch {
	case err != nil:
		c.auth.exchange = nil
		c.binError(r, stAuthError)
	case done:
		c.auth.exchange = nil
		c.auth.ctx = authz.WithSubject(ctx, subject)
		if challenge == nil {
			challenge = []byte("Authenticated")
		}
		c.binHeader(r, stOK, 0, 0, len(challenge), 0)
		c.out = append(c.out, challenge...)
	default:
		c.binHeader(r, stAuthContinue, 0, 0, len(challenge), 0)
		c.out = append(c.out, challenge...)
	}
}
