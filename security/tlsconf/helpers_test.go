package tlsconf

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/security/tlsconf/tlstest"
)

// generate writes a tlstest certificate set into a fresh directory.
func generate(t *testing.T, o tlstest.Options) *tlstest.Files {
	t.Helper()
	f, err := tlstest.Generate(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// newConfig builds a Config and fails the test on error.
func newConfig(t *testing.T, o Options) *Config {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// serve runs a TLS echo server on loopback until the test ends.
func serve(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return
				}
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// clientConfig trusts f's CA and sends serverName.
func clientConfig(t *testing.T, f *tlstest.Files, serverName string) *tls.Config {
	t.Helper()
	pool, err := f.CertPool()
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{RootCAs: pool, ServerName: serverName}
}

// roundTrip dials addr, completes the handshake and checks one echoed
// message, which is when a server's rejection of a TLS 1.3 client
// certificate becomes visible.
func roundTrip(addr string, cfg *tls.Config) (*tls.Conn, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := echo(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// echo writes a message and reads it back.
func echo(c *tls.Conn) error {
	msg := []byte("ping")
	if _, err := c.Write(msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if !bytes.Equal(got, msg) {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// peer is the server leaf certificate seen by the client.
func peer(c *tls.Conn) *x509.Certificate {
	return c.ConnectionState().PeerCertificates[0]
}

// keytool runs Java's keytool in dir; a missing keytool fails the test.
func keytool(t *testing.T, dir string, args ...string) {
	t.Helper()
	path, err := exec.LookPath("keytool")
	if err != nil {
		t.Fatalf("keytool is required for this test (install a JDK 17): %v", err)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("keytool %v: %v\n%s", args, err, out)
	}
}

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testLogger returns a debug-level logger writing into a buffer.
func testLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}
