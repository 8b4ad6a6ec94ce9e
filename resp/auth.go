package resp

import (
	"context"
	"errors"

	"github.com/hotgrid/hotgrid/security/authz"
)

// Replies of Redis' ACL system that clients recognise.
const (
	errNoAuth      = "NOAUTH Authentication required."
	errNoAuthHello = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
	errWrongPass   = "WRONGPASS invalid username-password pair or user is disabled."
)

// allowedBeforeAuth are the commands a connection may send before it
// authenticates, as in Redis.
func allowedBeforeAuth(name string) bool {
	return name == "auth" || name == "hello" || name == "quit"
}

// authenticated reports whether commands may run; it is false on a node
// that requires authentication until AUTH or HELLO … AUTH succeeds.
func (c *conn) authenticated() bool { return c.srv.opts.Guard == nil || c.authCtx != nil }

// runContext is the context commands run with: ctx carrying the
// authenticated subject.
func (c *conn) runContext(ctx context.Context) context.Context {
	if c.authCtx != nil {
		return c.authCtx
	}
	return ctx
}

// authenticate checks credentials; AUTH with one argument authenticates
// Redis' "default" user. It returns the error reply, "" on success. On a
// node without security it behaves as Redis without requirepass: the
// default user accepts any password.
func (c *conn) authenticate(ctx context.Context, user, pass []byte) string {
	g := c.srv.opts.Guard
	if g == nil {
		switch {
		case user == nil:
			return "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
		case string(user) == "default":
			return ""
		}
		return errWrongPass
	}
	if user == nil {
		user = []byte("default")
	}
	s, err := g.Login(ctx, c.nc.RemoteAddr().String(), "resp", string(user), string(pass))
	if err != nil {
		return errWrongPass
	}
	c.authCtx = authz.WithSubject(ctx, s)
	c.infoMu.Lock()
	c.user = s.Name
	c.infoMu.Unlock()
	return ""
}

// databaseErrorReply answers a failed Server.database: NOPERM when the
// subject may not create the database, else the error, which already reads
// as a Redis error ("ERR DB index is out of range").
func (c *conn) databaseErrorReply(err error) string {
	if errors.Is(err, authz.ErrDenied) {
		return c.errorReply(err)
	}
	return sanitize(err.Error())
}

// errorReply turns a cache error into its reply: NOPERM for an
// authorization failure, as Redis' ACLs answer, else ERR.
func (c *conn) errorReply(err error) string {
	var d *authz.DeniedError
	switch {
	case errors.As(err, &d):
		return sanitize("NOPERM User " + d.Subject + " has no permissions to run the '" + c.lastCmd + "' command (" + d.Error() + ")")
	case errors.Is(err, authz.ErrUnauthenticated):
		return errNoAuth
	}
	return sanitize("ERR " + err.Error())
}
