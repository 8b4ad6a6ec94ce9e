package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/hotgrid/hotgrid/hotrod/wire"
)

// call is one request waiting for its response.
type call struct {
	op        byte
	abandoned bool // the caller gave up; the reader frames and drops the response
	// cb, when set, receives the completed call on the reader goroutine
	// instead of a waiting caller; the call is released after it returns.
	cb     func(*call)
	status byte
	body   []byte // response body after the header (and topology)
	err    error
	done   chan struct{}
}

var callPool = sync.Pool{New: func() any { return &call{done: make(chan struct{}, 1)} }}

// EventHandler receives listener events: the event opcode (0x60 created,
// 0x61 modified, 0x62 removed, 0x63 expired) and its body after the header.
type EventHandler func(op byte, body []byte)

// conn is one connection: writers append encoded requests under mu and the
// writer goroutine flushes them in batches; the reader goroutine decodes
// responses and completes calls by message id.
type conn struct {
	cl *Client
	nc net.Conn

	mu      sync.Mutex
	out     []byte
	spare   []byte
	pending map[int64]*call
	kick    chan struct{}
	err     atomic.Pointer[error]

	listeners sync.Map // listener id (string) -> EventHandler
}

func newConn(cl *Client, nc net.Conn) *conn {
	cn := &conn{cl: cl, nc: nc, pending: make(map[int64]*call), kick: make(chan struct{}, 1)}
	go cn.writeLoop()
	go cn.readLoop()
	return cn
}

func (cn *conn) close(err error) {
	if !cn.err.CompareAndSwap(nil, &err) {
		return
	}
	cn.nc.Close()
	cn.mu.Lock()
	for id, c := range cn.pending {
		delete(cn.pending, id)
		switch {
		case c.abandoned:
		case c.cb != nil:
			c.err = err
			c.cb(c)
		default:
			c.err = err
			c.done <- struct{}{}
		}
	}
	cn.mu.Unlock()
	select {
	case cn.kick <- struct{}{}:
	default:
	}
}

// doOp sends a request built by encode (which appends the body after the
// header) and waits for its response. The call records the request op
// before it is sent, since the reader needs it to frame the response.
func (cn *conn) doOp(ctx context.Context, h *reqHeader, encode func([]byte) []byte) (*call, error) {
	c := callPool.Get().(*call)
	c.op, c.status, c.body, c.err, c.cb = h.op, 0, c.body[:0], nil, nil
	id := cn.cl.msgID.Add(1)
	cn.mu.Lock()
	if e := cn.err.Load(); e != nil {
		cn.mu.Unlock()
		callPool.Put(c)
		return nil, *e
	}
	cn.pending[id] = c
	b := h.append(cn.out, id, cn.cl)
	if encode != nil {
		b = encode(b)
	}
	cn.out = b
	cn.mu.Unlock()
	select {
	case cn.kick <- struct{}{}:
	default:
	}
	select {
	case <-c.done:
		if c.err != nil {
			err := c.err
			callPool.Put(c)
			return nil, err
		}
		return c, nil
	case <-ctx.Done():
		cn.mu.Lock()
		if _, ok := cn.pending[id]; ok {
			// The response must still be framed by its op when it
			// arrives, so the call stays registered.
			c.abandoned = true
			cn.mu.Unlock()
			return nil, ctx.Err()
		}
		cn.mu.Unlock()
		<-c.done // completed concurrently: return it normally
		if c.err != nil {
			return nil, c.err
		}
		return c, nil
	}
}

// send queues a request whose response goes to cb on the reader goroutine;
// it does not wait. cb must not block.
func (cn *conn) send(h *reqHeader, encode func([]byte) []byte, cb func(*call)) error {
	c := callPool.Get().(*call)
	c.op, c.status, c.body, c.err, c.cb = h.op, 0, c.body[:0], nil, cb
	id := cn.cl.msgID.Add(1)
	cn.mu.Lock()
	if e := cn.err.Load(); e != nil {
		cn.mu.Unlock()
		callPool.Put(c)
		return *e
	}
	cn.pending[id] = c
	b := h.append(cn.out, id, cn.cl)
	if encode != nil {
		b = encode(b)
	}
	cn.out = b
	cn.mu.Unlock()
	select {
	case cn.kick <- struct{}{}:
	default:
	}
	return nil
}

// release returns a finished call to the pool.
func release(c *call) { callPool.Put(c) }

func (cn *conn) writeLoop() {
	for range cn.kick {
		if cn.err.Load() != nil {
			return
		}
		cn.mu.Lock()
		b := cn.out
		if len(b) == 0 {
			cn.mu.Unlock()
			continue
		}
		// Double buffering: producers append to the spare while b is
		// written; the spare is handed over exactly once.
		cn.out, cn.spare = cn.spare[:0], nil
		cn.mu.Unlock()
		if _, err := cn.nc.Write(b); err != nil {
			cn.close(err)
			return
		}
		cn.mu.Lock()
		cn.spare = b[:0]
		cn.mu.Unlock()
	}
}

func (cn *conn) readLoop() {
	r := bufio.NewReaderSize(cn.nc, 64<<10)
	var buf []byte
	for {
		var err error
		buf, err = cn.readResponse(r, buf[:0])
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			cn.close(err)
			return
		}
	}
}

// readResponse reads one response. Hot Rod frames carry no length, so the
// reader decodes the header and then the body for the op it answers.
func (cn *conn) readResponse(r *bufio.Reader, scratch []byte) ([]byte, error) {
	fr := frameReader{r: r, version: cn.cl.opts.Version}
	magic := fr.byte()
	if fr.err == nil && magic != wire.ResponseMagic {
		return scratch, errors.New("hotrod: bad response magic")
	}
	id := fr.vlong()
	op := fr.byte()
	status := fr.byte()
	topo := fr.byte()
	if fr.err != nil {
		return scratch, fr.err
	}
	if topo == 1 {
		if err := cn.readTopology(&fr); err != nil {
			return scratch, err
		}
	}
	// Events go to their listener.
	if op >= wire.OpEventCreated && op <= wire.OpEventExpired {
		body := fr.eventBody(op, scratch)
		if fr.err != nil {
			return scratch, fr.err
		}
		d := wire.Decoder{Buf: body}
		lid, _ := d.Bytes("listener id")
		if h, ok := cn.listeners.Load(string(lid)); ok {
			h.(EventHandler)(op, body)
		}
		return body, nil
	}
	cn.mu.Lock()
	c := cn.pending[id]
	delete(cn.pending, id)
	abandoned := c != nil && c.abandoned
	cn.mu.Unlock()
	if c == nil {
		return scratch, fmt.Errorf("hotrod: response to unknown message %d", id)
	}
	req := c.op
	body := fr.body(req, op, status, scratch)
	if fr.err != nil {
		return scratch, fr.err
	}
	if abandoned {
		c.abandoned = false
		callPool.Put(c)
		return body, nil
	}
	c.status = status
	if op == wire.OpError {
		d := wire.Decoder{Buf: body}
		msg, _ := d.Bytes("message")
		c.err = &ServerError{Status: status, Message: string(msg)}
	}
	if c.cb != nil {
		c.body = body // valid during the callback only
		c.cb(c)
		c.body, c.cb = nil, nil
		callPool.Put(c)
		return body, nil
	}
	c.body = append(c.body[:0], body...)
	c.done <- struct{}{}
	return body, nil
}

func (cn *conn) readTopology(fr *frameReader) error {
	t := &topology{id: fr.vint()}
	n := int(fr.vint())
	for i := 0; i < n && fr.err == nil; i++ {
		host := fr.str()
		port := fr.u16()
		t.members = append(t.members, net.JoinHostPort(host, itoa(int(port))))
	}
	if cn.cl.opts.Intelligence >= wire.IntelligenceHashAware {
		hf := fr.byte()
		segs := int(fr.vint())
		if segs < 0 || segs > 1<<16 {
			return errors.New("hotrod: bad segment count in topology")
		}
		if hf != 0 || segs > 0 {
			t.segments = make([]int, segs)
			for s := 0; s < segs && fr.err == nil; s++ {
				owners := int(fr.byte())
				for o := 0; o < owners; o++ {
					idx := int(fr.vint())
					if o == 0 && idx < len(t.members) {
						t.segments[s] = idx
					}
				}
			}
		}
	}
	if fr.err != nil {
		return fr.err
	}
	if len(t.members) > 0 {
		cn.cl.updateTopology(t)
	}
	return nil
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
