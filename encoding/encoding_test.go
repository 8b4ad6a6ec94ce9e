package encoding

import (
	"bytes"
	"testing"
)

func TestConvert(t *testing.T) {
	hello := []byte{0x4a, 0x05, 'h', 'e', 'l', 'l', 'o'} // Java client's ProtoStream "hello"
	tests := []struct {
		name     string
		in       []byte
		from, to string
		want     []byte
	}{
		{"proto string to text", hello, Protostream, TextPlain, []byte("hello")},
		{"text to proto string", []byte("hello"), TextPlain, Protostream, hello},
		{"octet to proto bytes", []byte{1, 2}, OctetStream, Protostream, []byte{0x52, 2, 1, 2}},
		{"proto int32 to text", []byte{0x28, 0x2a}, Protostream, TextPlain, []byte("42")},
		{"proto int64 negative", []byte{0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, Protostream, TextPlain, []byte("-1")},
		{"proto bool to json", []byte{0x40, 1}, Protostream, JSON, []byte("true")},
		{"proto string to json", hello, Protostream, JSON, []byte(`"hello"`)},
		{"json string to text", []byte(`"hi"`), JSON, TextPlain, []byte("hi")},
		{"text to json", []byte("hi"), TextPlain, JSON, []byte(`"hi"`)},
		{"text with charset is identity", []byte("x"), "text/plain; charset=UTF-8", TextPlain, []byte("x")},
		{"unknown storage is identity", hello, Protostream, Unknown, hello},
	}
	for _, tt := range tests {
		got, err := Convert(nil, tt.in, tt.from, tt.to)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !bytes.Equal(got, tt.want) {
			t.Errorf("%s: got %x, want %x", tt.name, got, tt.want)
		}
	}
}

func TestConvertErrors(t *testing.T) {
	if _, err := Convert(nil, []byte{0x07}, Protostream, TextPlain); err == nil {
		t.Error("bad wire type accepted")
	}
	if _, err := Convert(nil, []byte{0x4a, 0x09, 'x'}, Protostream, TextPlain); err == nil {
		t.Error("truncated field accepted")
	}
	if _, err := Convert(nil, []byte("x"), "image/png", Protostream); err != nil {
		// image/png is wrapped as a string: not an error, by design.
		t.Logf("png to proto: %v", err)
	}
}

func FuzzConvert(f *testing.F) {
	f.Add([]byte{0x4a, 0x05, 'h', 'e', 'l', 'l', 'o'}, uint8(0), uint8(1))
	types := []string{TextPlain, OctetStream, JSON, JavaObject, Protostream, Unknown}
	f.Fuzz(func(t *testing.T, data []byte, a, b uint8) {
		from, to := types[int(a)%len(types)], types[int(b)%len(types)]
		Convert(nil, data, from, to)
	})
}
