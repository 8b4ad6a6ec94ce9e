package sqlstore

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// defaultConnectTimeout bounds a connection attempt when the URL sets no
// connect_timeout (connectTimeout in a JDBC URL); pgjdbc's default is the
// same 10 s. Without it a server that drops SYNs would hold Open (and any
// operation that needs a new connection) until the caller's deadline, and
// callers that pass context.Background would wait forever.
const defaultConnectTimeout = 10 * time.Second

// connection is a parsed connection URL.
type connection struct {
	config *pgxpool.Config
	// where names the server for messages and logs:
	// postgresql://user@host:port/database, never the password.
	where string
	// ignored are the JDBC parameters that mean nothing to pgx.
	ignored []string
	// secrets are the passwords to keep out of messages.
	secrets []string
}

// jdbcParams maps pgjdbc's connection parameters to libpq's; a parameter
// mapped to "" is dropped (it only tunes pgjdbc itself).
var jdbcParams = map[string]string{
	"ApplicationName":  "application_name",
	"connectTimeout":   "connect_timeout",
	"currentSchema":    "search_path",
	"targetServerType": "target_session_attrs",
	"options":          "options",
	"sslmode":          "sslmode",
	"sslcert":          "sslcert",
	"sslkey":           "sslkey",
	"sslrootcert":      "sslrootcert",
	"sslpassword":      "sslpassword",
	"user":             "user",
	"password":         "password",
}

// targetServerTypes maps pgjdbc's targetServerType values to libpq's
// target_session_attrs.
var targetServerTypes = map[string]string{
	"any": "any", "primary": "primary", "master": "primary", "secondary": "standby", "slave": "standby",
	"preferSecondary": "prefer-standby", "preferSlave": "prefer-standby", "preferPrimary": "any",
}

// fromJDBC turns a JDBC PostgreSQL URL into a libpq one, which pgx reads:
// jdbc:postgresql://host[:port][,host2[:port2]]/db?params,
// jdbc:postgresql:db and jdbc:postgresql:/ (both on localhost). pgjdbc's
// parameters are renamed or dropped (see jdbcParams); the dropped ones are
// returned. A URL without the jdbc: prefix is returned as is.
func fromJDBC(raw string) (string, []string, error) {
	rest, ok := strings.CutPrefix(raw, "jdbc:")
	if !ok {
		return raw, nil, nil
	}
	rest, ok = strings.CutPrefix(rest, "postgresql:")
	if !ok {
		scheme, _, _ := strings.Cut(rest, ":")
		return "", nil, fmt.Errorf("JDBC URL jdbc:%s:…: only PostgreSQL (jdbc:postgresql:) is supported", scheme)
	}
	if !strings.HasPrefix(rest, "//") {
		rest = "//localhost/" + strings.TrimPrefix(rest, "/")
	}
	hostPath, rawQuery, _ := strings.Cut(rest, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", nil, fmt.Errorf("JDBC URL parameters: %w", err)
	}
	out := url.Values{}
	var ignored []string
	for name, vals := range q {
		v := vals[len(vals)-1]
		switch lib, known := jdbcParams[name]; {
		case name == "ssl":
			// pgjdbc: ssl=true means sslmode=verify-full unless sslmode says otherwise.
			if q.Get("sslmode") == "" {
				if v == "false" {
					out.Set("sslmode", "disable")
				} else {
					out.Set("sslmode", "verify-full")
				}
			}
		case name == "targetServerType":
			if t, ok := targetServerTypes[v]; ok {
				out.Set(lib, t)
			} else {
				ignored = append(ignored, name)
			}
		case known:
			out.Set(lib, v)
		case strings.HasPrefix(name, "pool_") || strings.ToLower(name) == name:
			// libpq's own parameters and pgxpool's pool_* settings
			// are lowercase; pgjdbc's are camelCase.
			out.Set(name, v)
		default:
			ignored = append(ignored, name)
		}
	}
	sort.Strings(ignored)
	s := "postgres:" + hostPath
	if len(out) > 0 {
		s += "?" + out.Encode()
	}
	return s, ignored, nil
}

// parseConnection reads a connection URL (JDBC or libpq form) and sets the
// credentials: Options.Username and Password win over the URL's.
func parseConnection(raw, user, password string) (*connection, error) {
	if raw == "" {
		return nil, fmt.Errorf("no connection URL")
	}
	s, ignored, err := fromJDBC(raw)
	if err != nil {
		return nil, err
	}
	c := &connection{ignored: ignored}
	if password != "" {
		c.secrets = append(c.secrets, password)
	}
	// The URL's own password, if any, for redaction of parse errors.
	if u, err := url.Parse(s); err == nil {
		if p, ok := u.User.Password(); ok && p != "" {
			c.secrets = append(c.secrets, p)
		}
		if p := u.Query().Get("password"); p != "" {
			c.secrets = append(c.secrets, p)
		}
	}
	cfg, err := pgxpool.ParseConfig(s)
	if err != nil {
		// pgconn redacts the password of the URL it quotes; redact
		// again in case it was given elsewhere.
		return nil, fmt.Errorf("connection URL: %s", redact(err.Error(), c.secrets))
	}
	cc := cfg.ConnConfig
	if user != "" {
		cc.User = user
	}
	if password != "" {
		cc.Password = password
	}
	if cc.Password != "" {
		c.secrets = append(c.secrets, cc.Password)
	}
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = defaultConnectTimeout
	}
	if cc.RuntimeParams["application_name"] == "" {
		cc.RuntimeParams["application_name"] = "hotgrid"
	}
	c.config = cfg
	c.where = describe(&cc.Config)
	return c, nil
}

// describe names a server for messages without its credentials:
// postgresql://user@host:port[,host2:port2]/database.
func describe(cc *pgconn.Config) string {
	var b strings.Builder
	b.WriteString("postgresql://")
	if cc.User != "" {
		b.WriteString(url.User(cc.User).String())
		b.WriteByte('@')
	}
	seen := map[string]bool{}
	addr := func(host string, port uint16) {
		a := fmt.Sprintf("%s:%d", host, port)
		if strings.HasPrefix(host, "/") {
			a = url.PathEscape(host) // a Unix socket directory
		} else if strings.Contains(host, ":") {
			a = fmt.Sprintf("[%s]:%d", host, port)
		}
		if !seen[a] {
			if len(seen) > 0 {
				b.WriteByte(',')
			}
			seen[a] = true
			b.WriteString(a)
		}
	}
	addr(cc.Host, cc.Port)
	for _, f := range cc.Fallbacks { // other hosts, and the same host without TLS
		addr(f.Host, f.Port)
	}
	b.WriteString("/" + cc.Database)
	return b.String()
}

// redact replaces every secret in msg.
func redact(msg string, secrets []string) string {
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
			if e := url.QueryEscape(s); e != s {
				msg = strings.ReplaceAll(msg, e, "xxxxx")
			}
		}
	}
	return msg
}

// redactedError is an error whose message had the password taken out; it
// still unwraps to its cause so that errors.Is sees context deadlines and
// driver errors (whose own messages never carry the password).
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }
