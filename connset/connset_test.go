package connset

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// serve reads until its connection fails, as a protocol loop does.
func serve(s *Set[int], id int, nc net.Conn, got chan<- error) {
	defer s.Remove(id)
	_, err := nc.Read(make([]byte, 1))
	got <- err
}

func TestShutdownDrainsAndRefuses(t *testing.T) {
	var s Set[int]
	got := make(chan error, 2)
	for i := 0; i < 2; i++ {
		a, b := net.Pipe()
		defer b.Close()
		if !s.Add(i, a) {
			t.Fatal("Add refused before Shutdown")
		}
		go serve(&s, i, a, got)
	}
	if err := s.Shutdown(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := <-got; !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("reader ended with %v, want a deadline", err)
		}
	}
	a, _ := net.Pipe()
	if s.Add(9, a) || !s.Closing() || s.Len() != 0 {
		t.Fatal("Add accepted after Shutdown")
	}
}

func TestShutdownClosesStragglers(t *testing.T) {
	var s Set[int]
	a, b := net.Pipe()
	defer b.Close()
	s.Add(1, a)
	go func() {
		// A connection that ignores its deadline until it is closed.
		for {
			if _, err := a.Read(make([]byte, 1)); errors.Is(err, net.ErrClosed) || err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				s.Remove(1)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want the context's deadline", err)
	}
}
