package hash

import "testing"

// Vectors computed from Infinispan's MurmurHash3.java (15.0.x) and
// cross-checked against the js-client 0.16 implementation.
func TestMurmur3Vectors(t *testing.T) {
	tests := []struct {
		key  []byte
		hash int32
		seg  int
	}{
		{[]byte(""), 89125410, 10},
		{[]byte("a"), -1119243492, 122},
		{[]byte("k1"), -1345520365, 95},
		{[]byte("hello"), 1671093224, 199},
		{[]byte("key-0001"), -824814715, 157},
		{[]byte("0123456789abcdef"), 26898387, 3},
		{[]byte("0123456789abcdefXYZ"), 226040757, 26},
		{[]byte{0xff}, -29042976, 252},
		{[]byte{0x80, 0x01}, 1162588308, 138},
		{[]byte{0x0a, 0x05, 0xc3, 0xa9}, 1696851205, 202},
		{[]byte{0x4a, 0x05, 'h', 'e', 'l', 'l', 'o'}, -149686208, 238},
	}
	for _, tt := range tests {
		if got := Murmur3(tt.key); got != tt.hash {
			t.Errorf("Murmur3(%q) = %d, want %d", tt.key, got, tt.hash)
		}
		if got := Segment(tt.key, 256); got != tt.seg {
			t.Errorf("Segment(%q, 256) = %d, want %d", tt.key, got, tt.seg)
		}
	}
}

func BenchmarkMurmur3(b *testing.B) {
	key := []byte("0123456789abcdef")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Murmur3(key)
	}
}
