// Command respserver serves hotgrid's RESP protocol alone on one port, for
// the real-client tests in test/resp. Like the node's single port, it reads
// each connection's first bytes and hands the connection over only once
// resp.Detect claims them, so the tests exercise detection too.
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
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/resp"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:6379", "address to listen on")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	m, err := cache.NewManager(cache.ManagerOptions{Container: &config.Container{Name: "default"}, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := resp.NewServer(resp.Options{Manager: m, Logger: log})
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
	log.Info("resp listening", "addr", ln.Addr().String())
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		go serve(ctx, srv, nc, log)
	}
}

// serve detects the protocol as the node's router does, then serves RESP.
func serve(ctx context.Context, srv *resp.Server, nc net.Conn, log *slog.Logger) {
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	buf := make([]byte, 0, 512)
	nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := nc.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > 0 {
			match, more := resp.Detect(buf)
			if match {
				break
			}
			if !more || len(buf) >= 4096 {
				log.Warn("not RESP", "prefix", string(buf))
				nc.Close()
				return
			}
		}
		if err != nil {
			nc.Close()
			return
		}
	}
	nc.SetReadDeadline(time.Time{})
	srv.ServeConn(ctx, nc, buf)
}
