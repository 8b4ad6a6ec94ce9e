package server

import (
	"fmt"
	"strconv"
	"strings"
)

// Usage is the help text of `hotgrid server`.
const Usage = `Usage: hotgrid server [options]

Options:
  -b, --bind-address ADDR   address to listen on (default 127.0.0.1)
  -p, --port N              port of the single endpoint (default 11222)
  -s, --server-root DIR     server root holding conf/ and data/ (default: keep nothing on disk)
  -c, --server-config FILE  Infinispan server configuration (XML, YAML or JSON);
                            a relative path resolves in SERVER_ROOT/conf
  -n, --node-name NAME      node name
  -D name=value             set a property for ${name} expressions (repeatable)
      --resp-port N         also serve RESP alone on port N (no detection)
      --memcached-port N    also serve memcached alone on port N (no detection)
      --max-request-size N  largest length a request may declare, in bytes
      --event-loops N       event loops serving plain TCP Hot Rod, RESP and
                            memcached connections (0: one per CPU; -1: a
                            goroutine each)
      --allow-unauthenticated
                            serve without users on a non-loopback address
                            (trusted networks only; without users a node
                            otherwise binds to loopback only)
      --log-level LEVEL     debug, info, warn or error (default info)
  -h, --help                show this help
`

// ParseFlags reads `hotgrid server` arguments. It accepts Infinispan's short
// forms, --flag value and --flag=value, and -Dname=value or -D name=value.
// It returns the log level separately since the logger is built by main.
func ParseFlags(args []string) (opts Options, logLevel string, err error) {
	opts.Properties = map[string]string{}
	logLevel = "info"
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "-h" || arg == "--help" || arg == "-help" {
			return opts, "", errHelp
		}
		if strings.HasPrefix(arg, "-D") {
			prop := arg[2:]
			if prop == "" {
				if i+1 >= len(args) {
					return opts, "", fmt.Errorf("-D needs name=value")
				}
				i++
				prop = args[i]
			}
			k, v, ok := strings.Cut(prop, "=")
			if !ok || k == "" {
				return opts, "", fmt.Errorf("-D%s: want name=value", prop)
			}
			opts.Properties[k] = v
			continue
		}
		if arg == "--allow-unauthenticated" {
			opts.AllowUnauthenticated = true
			continue
		}
		name, value, hasValue := strings.Cut(arg, "=")
		if !strings.HasPrefix(name, "-") {
			return opts, "", fmt.Errorf("unexpected argument %q", arg)
		}
		next := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", name)
			}
			i++
			return args[i], nil
		}
		var v string
		if v, err = next(); err != nil {
			return opts, "", err
		}
		switch strings.TrimLeft(name, "-") {
		case "b", "bind-address":
			opts.BindAddress = v
		case "p", "port":
			p, perr := strconv.Atoi(v)
			if perr != nil || p < 0 || p > 65535 {
				return opts, "", fmt.Errorf("%s: invalid port %q", name, v)
			}
			opts.Port, opts.PortSet = p, true
		case "s", "server-root":
			opts.ServerRoot = v
		case "c", "server-config":
			opts.ServerConfig = v
		case "n", "node-name":
			opts.NodeName = v
		case "resp-port", "memcached-port":
			p, perr := strconv.Atoi(v)
			if perr != nil || p < 0 || p > 65535 {
				return opts, "", fmt.Errorf("%s: invalid port %q", name, v)
			}
			if strings.HasPrefix(strings.TrimLeft(name, "-"), "resp") {
				opts.RESPPort = p
			} else {
				opts.MemcachedPort = p
			}
		case "max-request-size":
			n, perr := strconv.Atoi(v)
			if perr != nil || n <= 0 {
				return opts, "", fmt.Errorf("%s: invalid size %q", name, v)
			}
			opts.MaxRequestSize = n
		case "event-loops":
			n, perr := strconv.Atoi(v)
			if perr != nil || n < -1 || n > 1024 {
				return opts, "", fmt.Errorf("%s: invalid count %q (0 = one per CPU, -1 = none)", name, v)
			}
			opts.EventLoops = n
		case "log-level":
			logLevel = v
		default:
			return opts, "", fmt.Errorf("unknown option %s", name)
		}
	}
	return opts, logLevel, nil
}

// errHelp asks for the usage text.
var errHelp = fmt.Errorf("help requested")

// IsHelp reports whether ParseFlags failed because help was asked for.
func IsHelp(err error) bool { return err == errHelp }
