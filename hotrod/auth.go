package hotrod

import (
	"context"
	"fmt"
	"strings"

	"github.com/hotgrid/hotgrid/hotrod/wire"
	"github.com/hotgrid/hotgrid/security"
	"github.com/hotgrid/hotgrid/security/authz"
)

// authState is a connection's authentication: the subject's context once a
// SASL exchange completes, and the exchange in progress.
type authState struct {
	ctx      context.Context // carries the subject; nil until authenticated
	exchange *security.Exchange
}

// allowedBeforeAuth are the operations Infinispan serves on a connection
// that has not authenticated (HotRodOperation requiresAuthentication).
func allowedBeforeAuth(op byte) bool {
	return op == wire.OpPing || op == wire.OpAuthMechList || op == wire.OpAuth
}

// authorize returns the context requests on c run with, or false after
// queueing the "requires authentication" error Infinispan sends.
func (c *conn) authorize(ctx context.Context) (context.Context, bool) {
	if c.srv.opts.Guard == nil {
		return ctx, true
	}
	if c.auth.ctx != nil {
		return c.auth.ctx, true
	}
	if allowedBeforeAuth(c.req.op) {
		return ctx, true
	}
	c.fail(wire.StatusServerError, fmt.Sprintf("ISPN006017: Operation '%s' requires authentication", opName(c.req.op)))
	return nil, false
}

// authMechList answers AUTH_MECH_LIST with the mechanisms this connection
// may use.
func (c *conn) authMechList() {
	var mechs []string
	if g := c.srv.opts.Guard; g != nil {
		mechs = g.Mechanisms(security.TLSState(c.nc))
	}
	b := c.out.lock()
	b = c.header(b, wire.StatusSuccess, nil)
	b = wire.AppendVInt(b, int32(len(mechs)))
	for _, m := range mechs {
		b = wire.AppendString(b, m)
	}
	c.out.unlock(b)
}

// authenticate runs one AUTH step. The
// response's completed byte is 1 only when the server has nothing more to
// send; a final SCRAM or DIGEST-MD5 message goes out with completed=0 and
// the client, which checks it, ends the exchange (Infinispan's
// Encoder2x.authResponse).
func (c *conn) authenticate(ctx context.Context) {
	g := c.srv.opts.Guard
	if g == nil {
		c.fail(wire.StatusServerError, "ISPN006015: Authentication is not enabled on this endpoint")
		return
	}
	r := &c.req
	// A request naming a mechanism starts an exchange unless one with that
	// mechanism is under way: the Node.js client names it on every step,
	// and Infinispan's server continues its SASL server whatever the name.
	if len(r.mech) > 0 && (c.auth.exchange == nil || !strings.EqualFold(c.auth.exchange.Mechanism(), string(r.mech))) {
		x, err := g.StartSASL(string(r.mech), "hotrod", c.nc.RemoteAddr().String(), security.TLSState(c.nc))
		if err != nil {
			c.fail(wire.StatusServerError, "ELY05089: Unsupported or disallowed SASL mechanism "+string(r.mech))
			return
		}
		c.auth.exchange = x
	}
	if c.auth.exchange == nil {
		c.fail(wire.StatusServerError, "ISPN006018: No SASL mechanism selected")
		return
	}
	challenge, done, subject, err := c.auth.exchange.Step(ctx, r.saslResponse)
	if err != nil {
		c.auth.exchange = nil
		c.fail(wire.StatusServerError, "ELY05013: Authentication mechanism password not verified")
		return
	}
	if done {
		c.auth.exchange = nil
		c.auth.ctx = authz.WithSubject(ctx, subject)
	}
	b := c.out.lock()
	b = c.header(b, wire.StatusSuccess, nil)
	if done && challenge == nil {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = wire.AppendBytes(b, challenge)
	c.out.unlock(b)
}

// opNames are the operation names Infinispan's messages use.
var opNames = map[byte]string{
	wire.OpPut: "PUT", wire.OpGet: "GET", wire.OpPutIfAbsent: "PUT_IF_ABSENT", wire.OpReplace: "REPLACE",
	wire.OpReplaceIfUnmodified: "REPLACE_IF_UNMODIFIED", wire.OpRemove: "REMOVE", wire.OpRemoveIfUnmodified: "REMOVE_IF_UNMODIFIED",
	wire.OpContainsKey: "CONTAINS_KEY", wire.OpGetWithVersion: "GET_WITH_VERSION", wire.OpClear: "CLEAR", wire.OpStats: "STATS",
	wire.OpBulkGet: "BULK_GET", wire.OpGetWithMetadata: "GET_WITH_METADATA", wire.OpBulkGetKeys: "BULK_GET_KEYS", wire.OpQuery: "QUERY",
	wire.OpAddClientListener: "ADD_CLIENT_LISTENER", wire.OpRemoveClientListener: "REMOVE_CLIENT_LISTENER", wire.OpSize: "SIZE",
	wire.OpExec: "EXEC", wire.OpPutAll: "PUT_ALL", wire.OpGetAll: "GET_ALL", wire.OpIterationStart: "ITERATION_START",
	wire.OpIterationNext: "ITERATION_NEXT", wire.OpIterationEnd: "ITERATION_END",
}

func opName(op byte) string {
	if n, ok := opNames[op]; ok {
		return n
	}
	return fmt.Sprintf("0x%02X", op)
}
