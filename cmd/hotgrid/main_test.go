package main

import (
	"bufio"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The binary logs "started in N ms" once it serves, answers on its port, and
// exits 0 on SIGTERM.
func TestServerProcessLifecycle(t *testing.T) {
	bin := hotgridBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "server", "--port", strconv.Itoa(port))
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	started := regexp.MustCompile(`started in (\d+) ms`)
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(10 * time.Second)
	for ready := false; !ready; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("server exited before it started")
			}
			if m := started.FindStringSubmatch(l); m != nil {
				t.Logf("%s", l)
				ready = true
			}
		case <-deadline:
			t.Fatal("no 'started in N ms' line within 10 s")
		}
	}
	nc, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	nc.Write([]byte{0xA0, 0x01, 0x28, 0x17, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00})
	buf := make([]byte, 64)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if k, err := nc.Read(buf); err != nil || k < 5 || buf[0] != 0xA1 || buf[3] != 0 {
		t.Fatalf("ping: % X %v", buf[:k], err)
	}
	nc.Close()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() {
		for range lines {
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop within 10 s of SIGTERM")
	}
}

// Closing the server's output pipe before SIGTERM (as Java's
// Process.destroy does) must not turn a clean stop into a SIGPIPE death.
func TestStopWithClosedOutputPipe(t *testing.T) {
	bin := hotgridBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "server", "--port", strconv.Itoa(port))
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "started in") {
			break
		}
	}
	stderr.Close()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM with a closed log pipe: %v", err)
	}
}
