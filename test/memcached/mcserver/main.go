// Command mcserver serves hotgrid's memcached protocol alone on one port,
// for the real-client tests in test/memcached until the hotgrid binary
// routes memcached on its single port.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/memcached"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:11211", "address to listen on")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	m, err := cache.NewManager(cache.ManagerOptions{Container: &config.Container{Name: "default"}, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := memcached.NewServer(memcached.Options{Manager: m, Logger: log})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
		ln.Close()
	}()
	log.Info("memcached listening", "addr", ln.Addr().String())
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			if tc, ok := nc.(*net.TCPConn); ok {
				tc.SetNoDelay(true)
			}
			srv.ServeConn(ctx, nc, nil)
		}()
	}
}
