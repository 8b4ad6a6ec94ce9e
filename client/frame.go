package client

import (
	"bufio"
	"errors"
	"io"

	"github.com/hotgrid/hotgrid/hotrod/wire"
)

// maxField bounds a length the server declares, so that a corrupt stream
// cannot make the client allocate without bound.
const maxField = 256 << 20

// frameReader reads a response from a buffered stream. Hot Rod responses
// carry no length, so the body is read field by field, per operation, and
// recorded so the caller can decode it at leisure with wire.Decoder.
type frameReader struct {
	r       *bufio.Reader
	version byte
	rec     []byte // the body bytes read so far, when recording
	on      bool
	err     error
}

func (f *frameReader) byte() byte {
	if f.err != nil {
		return 0
	}
	b, err := f.r.ReadByte()
	if err != nil {
		f.err = err
		return 0
	}
	if f.on {
		f.rec = append(f.rec, b)
	}
	return b
}

func (f *frameReader) uvarint(max int) uint64 {
	var x uint64
	for i := 0; i < max; i++ {
		b := f.byte()
		if f.err != nil {
			return 0
		}
		x |= uint64(b&0x7f) << (7 * uint(i))
		if b < 0x80 {
			return x
		}
	}
	f.err = errors.New("hotrod: malformed varint in response")
	return 0
}

func (f *frameReader) vint() int32  { return int32(uint32(f.uvarint(5))) }
func (f *frameReader) vlong() int64 { return int64(f.uvarint(10)) }

func (f *frameReader) n(k int) []byte {
	if f.err != nil {
		return nil
	}
	start := len(f.rec)
	if !f.on {
		f.rec = f.rec[:0]
		start = 0
	}
	f.rec = append(f.rec, make([]byte, k)...)
	if _, err := io.ReadFull(f.r, f.rec[start:]); err != nil {
		f.err = err
		return nil
	}
	return f.rec[start:]
}

func (f *frameReader) u16() uint16 {
	b := f.n(2)
	if b == nil {
		return 0
	}
	return uint16(b[0])<<8 | uint16(b[1])
}

func (f *frameReader) long() { f.n(8) }

func (f *frameReader) field() []byte {
	n := f.uvarint(5)
	if n > maxField {
		f.err = errors.New("hotrod: response field too long")
		return nil
	}
	return f.n(int(n))
}

func (f *frameReader) str() string { return string(f.field()) }

func (f *frameReader) mediaType() {
	switch f.byte() {
	case 1:
		f.vint()
	case 2:
		f.field()
	default:
		return
	}
	for n := f.vint(); n > 0 && f.err == nil; n-- {
		f.field()
		f.field()
	}
}

func (f *frameReader) meta() {
	flags := f.byte()
	if flags&wire.MetaInfiniteLifespan == 0 {
		f.long()
		f.vint()
	}
	if flags&wire.MetaInfiniteMaxIdle == 0 {
		f.long()
		f.vint()
	}
	f.long()
}

// record starts recording into scratch.
func (f *frameReader) record(scratch []byte) {
	f.rec, f.on = scratch[:0], true
}

// eventBody reads a listener event's body: listener id, custom and retried
// markers, then the converter's data or the key (and the version, for
// created and modified events).
func (f *frameReader) eventBody(op byte, scratch []byte) []byte {
	f.record(scratch)
	f.field() // listener id
	custom := f.byte()
	f.byte() // retried
	switch {
	case custom != 0:
		f.field()
	case op == wire.OpEventCreated || op == wire.OpEventModified:
		f.field()
		f.long()
	default:
		f.field()
	}
	return f.rec
}

// body reads the body of a response to request op req.
func (f *frameReader) body(req, op, status byte, scratch []byte) []byte {
	f.record(scratch)
	if op == wire.OpError {
		f.field()
		return f.rec
	}
	prev := status == wire.StatusSuccessWithPrev || status == wire.StatusNotExecutedWithPrev
	ok := status == wire.StatusSuccess
	switch req {
	case wire.OpPut, wire.OpPutIfAbsent, wire.OpReplace, wire.OpReplaceIfUnmodified,
		wire.OpRemove, wire.OpRemoveIfUnmodified:
		if prev {
			if f.version >= wire.Version40 {
				f.meta()
			}
			f.field()
		}
	case wire.OpGet:
		if ok {
			f.field()
		}
	case wire.OpGetWithVersion:
		if ok {
			f.long()
			f.field()
		}
	case wire.OpGetWithMetadata:
		if ok {
			f.meta()
			f.field()
		}
	case wire.OpSize:
		f.vlong()
	case wire.OpStats:
		for n := f.vint(); n > 0 && f.err == nil; n-- {
			f.field()
			f.field()
		}
	case wire.OpPing:
		if f.version >= wire.Version29 {
			f.mediaType()
			f.mediaType()
		}
		if f.version >= wire.Version30 {
			f.byte()
			for n := f.vint(); n > 0 && f.err == nil; n-- {
				f.u16()
			}
		}
	case wire.OpBulkGetKeys:
		for f.err == nil && f.byte() == 1 {
			f.field()
		}
	case wire.OpGetAll:
		for n := f.vint(); n > 0 && f.err == nil; n-- {
			f.field()
			f.field()
		}
	case wire.OpExec, wire.OpIterationStart:
		f.field()
	case wire.OpAuthMechList:
		for n := f.vint(); n > 0 && f.err == nil; n-- {
			f.field()
		}
	case wire.OpAuth:
		f.byte()
		f.field()
	case wire.OpIterationNext:
		if ok {
			f.field() // finished segments
			n := f.vint()
			proj := int32(1)
			if n > 0 {
				proj = f.vint()
			}
			for ; n > 0 && f.err == nil; n-- {
				if f.version >= wire.Version25 && f.byte() == 1 {
					f.meta()
				}
				f.field()
				for p := int32(0); p < proj; p++ {
					f.field()
				}
			}
		}
	}
	return f.rec
}
