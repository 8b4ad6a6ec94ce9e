package resp

import (
	"math"
	"strconv"
)

// writer appends replies to a buffer in the connection's protocol version:
// RESP2 by default, RESP3 after HELLO 3. RESP3 types that RESP2 lacks are
// written as RESP2 does: maps and sets as arrays, doubles as bulk strings,
// booleans as integers, push messages as arrays, nulls as the null bulk
// string (or the null array where Redis sends that).
type writer struct {
	b     []byte
	proto int // 2 or 3
}

func (w *writer) resp3() bool { return w.proto == 3 }

// simple writes a status reply (+OK).
func (w *writer) simple(s string) {
	w.b = append(w.b, '+')
	w.b = append(w.b, s...)
	w.b = append(w.b, '\r', '\n')
}

func (w *writer) ok() { w.b = append(w.b, "+OK\r\n"...) }

// err writes an error reply; s starts with its code ("ERR ...").
func (w *writer) err(s string) {
	w.b = append(w.b, '-')
	w.b = append(w.b, s...)
	w.b = append(w.b, '\r', '\n')
}

func (w *writer) int(n int64) {
	w.b = append(w.b, ':')
	w.b = strconv.AppendInt(w.b, n, 10)
	w.b = append(w.b, '\r', '\n')
}

func (w *writer) bulk(p []byte) {
	w.b = append(w.b, '$')
	w.b = strconv.AppendInt(w.b, int64(len(p)), 10)
	w.b = append(w.b, '\r', '\n')
	w.b = append(w.b, p...)
	w.b = append(w.b, '\r', '\n')
}

func (w *writer) bulkString(s string) {
	w.b = append(w.b, '$')
	w.b = strconv.AppendInt(w.b, int64(len(s)), 10)
	w.b = append(w.b, '\r', '\n')
	w.b = append(w.b, s...)
	w.b = append(w.b, '\r', '\n')
}

// bulkInt writes an integer as a bulk string (INCRBYFLOAT-style replies).
func (w *writer) bulkInt(n int64) {
	var tmp [24]byte
	w.bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// null writes the null bulk string ($-1) in RESP2 and _ in RESP3.
func (w *writer) null() {
	if w.proto == 3 {
		w.b = append(w.b, "_\r\n"...)
		return
	}
	w.b = append(w.b, "$-1\r\n"...)
}

// nullArray writes the null array (*-1) in RESP2 and _ in RESP3.
func (w *writer) nullArray() {
	if w.proto == 3 {
		w.b = append(w.b, "_\r\n"...)
		return
	}
	w.b = append(w.b, "*-1\r\n"...)
}

func (w *writer) header(c byte, n int) {
	w.b = append(w.b, c)
	w.b = strconv.AppendInt(w.b, int64(n), 10)
	w.b = append(w.b, '\r', '\n')
}

func (w *writer) array(n int) { w.header('*', n) }

// mapLen starts a map of n pairs (an array of 2n elements in RESP2).
func (w *writer) mapLen(n int) {
	if w.proto == 3 {
		w.header('%', n)
		return
	}
	w.header('*', 2*n)
}

// set starts a set of n elements (an array in RESP2).
func (w *writer) set(n int) {
	if w.proto == 3 {
		w.header('~', n)
		return
	}
	w.header('*', n)
}

// push starts an out-of-band push message (an array in RESP2).
func (w *writer) push(n int) {
	if w.proto == 3 {
		w.header('>', n)
		return
	}
	w.header('*', n)
}

// double writes a floating-point reply: a RESP3 double, or a bulk string
// in RESP2, formatted as Redis formats scores (shortest round-trip form,
// inf and -inf).
func (w *writer) double(f float64) {
	if w.proto == 3 {
		w.b = append(w.b, ',')
		w.b = appendDouble3(w.b, f)
		w.b = append(w.b, '\r', '\n')
		return
	}
	var tmp [32]byte
	w.bulk(appendFloat(tmp[:0], f))
}

// verbatim writes a RESP3 verbatim string of format txt (a bulk string in
// RESP2), as INFO and CLIENT INFO reply.
func (w *writer) verbatim(s []byte) {
	if w.proto != 3 {
		w.bulk(s)
		return
	}
	w.b = append(w.b, '=')
	w.b = strconv.AppendInt(w.b, int64(len(s)+4), 10)
	w.b = append(w.b, "\r\ntxt:"...)
	w.b = append(w.b, s...)
	w.b = append(w.b, '\r', '\n')
}

// appendFloat formats f as Redis formats floats for clients: %.17g-like
// shortest form, "inf"/"-inf".
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case math.IsNaN(f):
		return append(b, "nan"...)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e17 {
		return strconv.AppendInt(b, int64(f), 10)
	}
	// Redis 7 prints the shortest form that round-trips, as strconv's -1
	// precision does.
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

func appendDouble3(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case math.IsNaN(f):
		return append(b, "nan"...)
	}
	return appendFloat(b, f)
}
