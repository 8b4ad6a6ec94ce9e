// Command hotgrid is the hotgrid data grid: `hotgrid server` runs a node,
// `hotgrid cli` talks to one over Hot Rod.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hotgrid/hotgrid/cli"
	"github.com/hotgrid/hotgrid/server"
)

const usage = `Usage: hotgrid <command> [options]

Commands:
  server    run a node (hotgrid server --help)
  cli       get, put and remove entries, create and list caches
  version   print the version
`

func main() {
	start := time.Now()
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "server":
		os.Exit(runServer(start, os.Args[2:], os.Stderr))
	case "cli":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		os.Exit(cli.Run(ctx, os.Args[2:], os.Stdout, os.Stderr))
	case "user":
		os.Exit(runUser(os.Args[2:], os.Stdout, os.Stderr))
	case "version", "--version", "-v":
		fmt.Println("hotgrid", server.Version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "hotgrid: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}

func runServer(start time.Time, args []string, stderr io.Writer) int {
	opts, level, err := server.ParseFlags(args)
	if server.IsHelp(err) {
		fmt.Fprint(stderr, server.Usage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "hotgrid server: %v\n\n%s", err, server.Usage)
		return 2
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		fmt.Fprintf(stderr, "hotgrid server: --log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	opts.Logger = log
	opts.Start = start

	// A closed log pipe must not kill the node: without this, Go exits on
	// SIGPIPE when a write to stderr fails (a supervisor that closes our
	// pipes while stopping us would turn a clean stop into status 141).
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	node, err := server.New(opts)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if err := node.Start(ctx); err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	<-ctx.Done()
	stop()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := node.Shutdown(sctx); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
