// Package cli implements `hotgrid cli`: get, put and remove entries and
// create, list and remove caches on a running node over Hot Rod.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/hotgrid/hotgrid/client"
)

const usage = `Usage: hotgrid cli [--server HOST:PORT] [--cache NAME] COMMAND [ARGS]

Commands:
  ping                              check the server answers
  get KEY                           print the value of KEY
  put KEY VALUE [--lifespan D] [--max-idle D]
                                    store VALUE under KEY (durations like 10s, 5m)
  remove KEY                        remove KEY
  size                              number of entries
  clear                             remove every entry
  stats                             cache statistics
  keys                              list the keys
  create cache NAME [--template T | --file CONFIG]
                                    create a cache from a template or an
                                    XML, JSON or YAML configuration file
  ls caches | caches                list the caches
  remove cache NAME | drop NAME     remove a cache
  backup NAME [--out FILE] [--caches A,B]
                                    back the node up (configurations and
                                    entries) to FILE (default NAME.zip)
  restore FILE [--name NAME] [--caches A,B]
                                    restore a backup archive into the node

Options:
  --server HOST:PORT   server address (default 127.0.0.1:11222)
  --cache NAME         cache to use (default: the server's default cache)
  --user NAME          authenticate as NAME (Hot Rod SCRAM-SHA-256, REST
                       Digest); the password comes from --password or the
                       HOTGRID_PASSWORD environment variable
  --password PASS      the user's password (prefer HOTGRID_PASSWORD: a
                       command line is visible to other local users)
  --tls-ca FILE        connect with TLS, trusting the PEM certificates in FILE
`

// Run runs the CLI with args (without the "cli" word) and returns the exit
// status.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hotgrid cli", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	server := fs.String("server", "127.0.0.1:11222", "")
	cacheName := fs.String("cache", "", "")
	lifespan := fs.Duration("lifespan", 0, "")
	maxIdle := fs.Duration("max-idle", 0, "")
	template := fs.String("template", "", "")
	file := fs.String("file", "", "")
	out := fs.String("out", "", "")
	caches := fs.String("caches", "", "")
	opName := fs.String("name", "", "")
	user := fs.String("user", "", "")
	password := fs.String("password", "", "")
	tlsCA := fs.String("tls-ca", "", "")
	// Flags may come before or after the command words.
	var words []string
	rest := args
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, usage)
				return 0
			}
			fmt.Fprintf(stderr, "hotgrid cli: %v\n\n%s", err, usage)
			return 2
		}
		rest = fs.Args()
		if len(rest) > 0 {
			words = append(words, rest[0])
			rest = rest[1:]
		}
	}
	if len(words) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	o := cmdOpts{*lifespan, *maxIdle, *template, *file, *out, *caches, *opName}
	conn, err := connectOptions(*server, *user, *password, *tlsCA)
	if err != nil {
		fmt.Fprintf(stderr, "hotgrid cli: %v\n", err)
		return 2
	}
	switch words[0] {
	case "backup", "restore":
		// Long operations over REST: no overall timeout, progress on
		// stderr.
		run := backupCmd
		if words[0] == "restore" {
			run = restoreCmd
		}
		if err := run(ctx, conn, words, o, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "hotgrid cli: %v\n", err)
			var ue usageError
			if errors.As(err, &ue) {
				return 2
			}
			return 1
		}
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cl, err := client.New(ctx, client.Options{Servers: []string{*server}, KeyMediaType: "text/plain", ValueMediaType: "text/plain",
		User: conn.user, Password: conn.password, TLS: conn.tls})
	if err != nil {
		fmt.Fprintf(stderr, "hotgrid cli: %v\n", err)
		return 1
	}
	defer cl.Close()
	c := cl.Cache(*cacheName)
	err = run(ctx, cl, c, words, stdout, o)
	if err != nil {
		if errors.Is(err, client.ErrCacheNotFound) {
			name := *cacheName
			if len(words) > 2 && words[1] == "cache" {
				name = words[2]
			}
			err = fmt.Errorf("cache '%s' not found", name)
		}
		fmt.Fprintf(stderr, "hotgrid cli: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprint(stderr, "\n"+usage)
			return 2
		}
		return 1
	}
	return 0
}

type cmdOpts struct {
	lifespan, maxIdle time.Duration
	template, file    string
	out, caches, name string // backup and restore
}

type usageError string

func (e usageError) Error() string { return string(e) }

func need(words []string, n int, form string) error {
	if len(words) != n {
		return usageError("usage: " + form)
	}
	return nil
}

func run(ctx context.Context, cl *client.Client, c *client.Cache, w []string, out io.Writer, o cmdOpts) error {
	switch w[0] {
	case "ping":
		if err := c.Ping(ctx); err != nil {
			return err
		}
		fmt.Fprintln(out, "PONG")
	case "get":
		if err := need(w, 2, "get KEY"); err != nil {
			return err
		}
		v, ok, err := c.Get(ctx, []byte(w[1]))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("key '%s' not found", w[1])
		}
		fmt.Fprintf(out, "%s\n", v)
	case "put":
		if err := need(w, 3, "put KEY VALUE"); err != nil {
			return err
		}
		var opts []client.WriteOption
		if o.lifespan != 0 {
			opts = append(opts, client.Lifespan(o.lifespan))
		}
		if o.maxIdle != 0 {
			opts = append(opts, client.MaxIdle(o.maxIdle))
		}
		return c.Set(ctx, []byte(w[1]), []byte(w[2]), opts...)
	case "remove", "rm", "drop":
		if w[0] == "drop" || (len(w) == 3 && w[1] == "cache") {
			name := w[len(w)-1]
			if len(w) != 2 && len(w) != 3 {
				return usageError("usage: remove cache NAME")
			}
			return cl.RemoveCache(ctx, name)
		}
		if err := need(w, 2, "remove KEY"); err != nil {
			return err
		}
		_, ok, err := c.Remove(ctx, []byte(w[1]))
		if err == nil && !ok {
			return fmt.Errorf("key '%s' not found", w[1])
		}
		return err
	case "size":
		n, err := c.Size(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, n)
	case "clear":
		return c.Clear(ctx)
	case "stats":
		st, err := c.Stats(ctx)
		if err != nil {
			return err
		}
		names := make([]string, 0, len(st))
		for k := range st {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(out, "%s: %s\n", k, st[k])
		}
	case "keys":
		return c.Iterate(ctx, 1000, false, func(e client.Entry) bool {
			fmt.Fprintf(out, "%s\n", e.Key)
			return true
		})
	case "create":
		if err := need(w, 3, "create cache NAME [--template T | --file CONFIG]"); err != nil || w[1] != "cache" {
			return usageError("usage: create cache NAME [--template T | --file CONFIG]")
		}
		spec := o.template
		if o.file != "" {
			data, err := os.ReadFile(o.file)
			if err != nil {
				return err
			}
			spec = string(data)
		}
		return cl.CreateCache(ctx, w[2], spec)
	case "ls", "caches":
		if w[0] == "ls" && (len(w) != 2 || w[1] != "caches") {
			return usageError("usage: ls caches")
		}
		names, err := cl.CacheNames(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, strings.Join(names, "\n"))
	default:
		return usageError(fmt.Sprintf("unknown command %q", w[0]))
	}
	return nil
}
