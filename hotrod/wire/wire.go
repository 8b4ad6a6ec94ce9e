// Package wire holds the Hot Rod binary protocol's primitives and constants,
// shared by the server (package hotrod) and the Go client (package client).
//
// Decoding works on a byte slice that holds what has been read so far.
// Every decode method returns ErrShort when the slice ends before the value
// does, so a caller can read more bytes and parse the frame again from its
// start. Decoded byte arrays alias the input slice; nothing is allocated.
package wire

import (
	"errors"
	"fmt"
)

// Magic bytes.
const (
	RequestMagic  = 0xA0
	ResponseMagic = 0xA1
)

// Protocol versions (major*10 + minor).
const (
	Version20 = 20
	Version21 = 21
	Version22 = 22
	Version23 = 23
	Version24 = 24
	Version25 = 25
	Version26 = 26
	Version28 = 28
	Version29 = 29
	Version30 = 30
	Version31 = 31
	Version40 = 40
	Version41 = 41
	// VersionLatest is what a server advertises in a ping reply.
	VersionLatest = Version40
)

// Request opcodes. Responses are request+1 except where noted in ResponseOp.
const (
	OpPut                  = 0x01
	OpGet                  = 0x03
	OpPutIfAbsent          = 0x05
	OpReplace              = 0x07
	OpReplaceIfUnmodified  = 0x09
	OpRemove               = 0x0B
	OpRemoveIfUnmodified   = 0x0D
	OpContainsKey          = 0x0F
	OpGetWithVersion       = 0x11
	OpClear                = 0x13
	OpStats                = 0x15
	OpPing                 = 0x17
	OpBulkGet              = 0x19
	OpGetWithMetadata      = 0x1B
	OpBulkGetKeys          = 0x1D
	OpQuery                = 0x1F
	OpAuthMechList         = 0x21
	OpAuth                 = 0x23
	OpAddClientListener    = 0x25
	OpRemoveClientListener = 0x27
	OpSize                 = 0x29
	OpExec                 = 0x2B
	OpPutAll               = 0x2D
	OpGetAll               = 0x2F
	OpIterationStart       = 0x31
	OpIterationNext        = 0x33
	OpIterationEnd         = 0x35
	OpPrepareTx            = 0x3B
	OpCommitTx             = 0x3D
	OpRollbackTx           = 0x3F
	OpCounterCreate        = 0x4B
	OpCounterIsDefined     = 0x4F
	OpError                = 0x50 // response only
	OpCounterGetAndSet     = 0x7F
	OpPrepareTxV2          = 0x7D

	// Event opcodes (server to client).
	OpEventCreated  = 0x60
	OpEventModified = 0x61
	OpEventRemoved  = 0x62
	OpEventExpired  = 0x63
	OpEventCounter  = 0x66
)

// ResponseOp returns the response opcode for a request opcode.
func ResponseOp(req byte) byte {
	switch req {
	case OpCounterIsDefined:
		return 0x51
	case OpCounterGetAndSet:
		return 0x80
	}
	return req + 1
}

// Status codes.
const (
	StatusSuccess             = 0x00
	StatusNotExecuted         = 0x01
	StatusKeyDoesNotExist     = 0x02
	StatusSuccessWithPrev     = 0x03
	StatusNotExecutedWithPrev = 0x04
	StatusInvalidIteration    = 0x05
	StatusInvalidMagic        = 0x81
	StatusUnknownCommand      = 0x82
	StatusUnknownVersion      = 0x83
	StatusParseError          = 0x84
	StatusServerError         = 0x85
	StatusTimeout             = 0x86
	StatusNodeSuspected       = 0x87
	StatusIllegalLifecycle    = 0x88
)

// Header flags.
const (
	FlagForceReturnValue  = 0x0001
	FlagDefaultLifespan   = 0x0002
	FlagDefaultMaxIdle    = 0x0004
	FlagSkipCacheLoad     = 0x0008
	FlagSkipIndexing      = 0x0010
	FlagSkipListenerNotif = 0x0020
)

// Client intelligence levels.
const (
	IntelligenceBasic         = 1
	IntelligenceTopologyAware = 2
	IntelligenceHashAware     = 3
)

// Time units of the expiration block (version 2.2 and later).
const (
	UnitSeconds      = 0
	UnitMilliseconds = 1
	UnitNanoseconds  = 2
	UnitMicroseconds = 3
	UnitMinutes      = 4
	UnitHours        = 5
	UnitDays         = 6
	UnitDefault      = 7
	UnitInfinite     = 8
)

// Metadata block flags.
const (
	MetaInfiniteLifespan = 0x01
	MetaInfiniteMaxIdle  = 0x02
)

// ErrShort means the input ends before the value being decoded does.
var ErrShort = errors.New("hotrod: short input")

// ErrTooLong is returned when a declared length exceeds the decoder's limit.
type ErrTooLong struct {
	What  string
	Len   uint64
	Limit int
}

func (e *ErrTooLong) Error() string {
	return fmt.Sprintf("hotrod: %s length %d exceeds the limit of %d bytes", e.What, e.Len, e.Limit)
}

// ErrMalformed reports an encoding that can never become valid, such as a
// variable-length integer longer than its type allows.
type ErrMalformed struct{ What string }

func (e *ErrMalformed) Error() string { return "hotrod: malformed " + e.What }

// Decoder reads primitives from Buf starting at Pos. Limit bounds every
// declared length (0 means no limit beyond int range).
type Decoder struct {
	Buf   []byte
	Pos   int
	Limit int
}

// Byte reads one byte.
func (d *Decoder) Byte() (byte, error) {
	if d.Pos >= len(d.Buf) {
		return 0, ErrShort
	}
	b := d.Buf[d.Pos]
	d.Pos++
	return b, nil
}

// Bool reads a one-byte boolean.
func (d *Decoder) Bool() (bool, error) {
	b, err := d.Byte()
	return b != 0, err
}

// Uvarint64 reads an unsigned LEB128 value of at most 10 bytes (vLong).
func (d *Decoder) Uvarint64() (uint64, error) {
	var x uint64
	var s uint
	for i := 0; i < 10; i++ {
		if d.Pos >= len(d.Buf) {
			return 0, ErrShort
		}
		b := d.Buf[d.Pos]
		d.Pos++
		if b < 0x80 {
			return x | uint64(b)<<s, nil
		}
		x |= uint64(b&0x7f) << s
		s += 7
	}
	return 0, &ErrMalformed{"vLong"}
}

// VLong reads a vLong as a signed 64-bit value (two's complement).
func (d *Decoder) VLong() (int64, error) {
	v, err := d.Uvarint64()
	return int64(v), err
}

// VInt reads a vInt (at most 5 bytes) as a signed 32-bit value; negative
// values arrive as their 32-bit two's complement.
func (d *Decoder) VInt() (int32, error) {
	var x uint32
	var s uint
	for i := 0; i < 5; i++ {
		if d.Pos >= len(d.Buf) {
			return 0, ErrShort
		}
		b := d.Buf[d.Pos]
		d.Pos++
		if b < 0x80 {
			return int32(x | uint32(b)<<s), nil
		}
		x |= uint32(b&0x7f) << s
		s += 7
	}
	return 0, &ErrMalformed{"vInt"}
}

// SignedVInt reads a ZigZag-encoded vInt.
func (d *Decoder) SignedVInt() (int32, error) {
	v, err := d.VInt()
	u := uint32(v)
	return int32(u>>1) ^ -int32(u&1), err
}

// Uint16 reads a big-endian 16-bit value.
func (d *Decoder) Uint16() (uint16, error) {
	if len(d.Buf)-d.Pos < 2 {
		return 0, ErrShort
	}
	v := uint16(d.Buf[d.Pos])<<8 | uint16(d.Buf[d.Pos+1])
	d.Pos += 2
	return v, nil
}

// Int32 reads a big-endian 32-bit value.
func (d *Decoder) Int32() (int32, error) {
	if len(d.Buf)-d.Pos < 4 {
		return 0, ErrShort
	}
	b := d.Buf[d.Pos:]
	d.Pos += 4
	return int32(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])), nil
}

// Int64 reads a big-endian 64-bit value.
func (d *Decoder) Int64() (int64, error) {
	if len(d.Buf)-d.Pos < 8 {
		return 0, ErrShort
	}
	b := d.Buf[d.Pos:]
	d.Pos += 8
	return int64(uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])), nil
}

// Bytes reads a vInt-length-prefixed byte array. The result aliases Buf.
func (d *Decoder) Bytes(what string) ([]byte, error) {
	n, err := d.VInt()
	if err != nil {
		return nil, err
	}
	return d.take(what, int64(uint32(n)))
}

// OptionalBytes reads a signed-vInt-length-prefixed array; -1 means absent
// (nil, false).
func (d *Decoder) OptionalBytes(what string) ([]byte, bool, error) {
	n, err := d.SignedVInt()
	if err != nil {
		return nil, false, err
	}
	if n < 0 {
		return nil, false, nil
	}
	b, err := d.take(what, int64(n))
	return b, true, err
}

// Skip advances over n bytes.
func (d *Decoder) Skip(n int) error {
	if len(d.Buf)-d.Pos < n {
		return ErrShort
	}
	d.Pos += n
	return nil
}

func (d *Decoder) take(what string, n int64) ([]byte, error) {
	if d.Limit > 0 && n > int64(d.Limit) {
		return nil, &ErrTooLong{What: what, Len: uint64(n), Limit: d.Limit}
	}
	if int64(len(d.Buf)-d.Pos) < n {
		return nil, ErrShort
	}
	b := d.Buf[d.Pos : d.Pos+int(n) : d.Pos+int(n)]
	d.Pos += int(n)
	return b, nil
}

// Encoding helpers append to a byte slice and return it.

// AppendUvarint appends an unsigned LEB128 value.
func AppendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// AppendVInt appends a vInt; negative values are written as 32-bit two's
// complement, as Java clients do.
func AppendVInt(b []byte, v int32) []byte { return AppendUvarint(b, uint64(uint32(v))) }

// AppendVLong appends a vLong.
func AppendVLong(b []byte, v int64) []byte { return AppendUvarint(b, uint64(v)) }

// AppendSignedVInt appends a ZigZag-encoded vInt.
func AppendSignedVInt(b []byte, v int32) []byte {
	return AppendUvarint(b, uint64(uint32((v<<1)^(v>>31))))
}

// AppendUint16 appends a big-endian 16-bit value.
func AppendUint16(b []byte, v uint16) []byte { return append(b, byte(v>>8), byte(v)) }

// AppendInt32 appends a big-endian 32-bit value.
func AppendInt32(b []byte, v int32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// AppendInt64 appends a big-endian 64-bit value.
func AppendInt64(b []byte, v int64) []byte {
	return append(b, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
		byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// AppendBytes appends a vInt-length-prefixed byte array.
func AppendBytes(b, v []byte) []byte {
	b = AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// AppendString appends a vInt-length-prefixed UTF-8 string.
func AppendString(b []byte, s string) []byte {
	b = AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
