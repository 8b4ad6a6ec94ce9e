// Package hash implements the key hash Infinispan uses to place keys in
// segments: its own 2010 variant of MurmurHash3 x64 (not bit-compatible with
// the canonical MurmurHash3_x64_128), truncated to 32 bits, and the
// key-to-segment function Hot Rod clients apply to the wire key bytes.
package hash

import "math/bits"

// Seed is the seed Infinispan uses for keys.
const Seed = 9001

const (
	initH1 = 0x9368e53c2f6af274
	initH2 = 0x586dcd208f7cd3fd
	initC1 = 0x87c37b91114253d5
	initC2 = 0x4cf5ad432745937f
)

// Murmur3 returns Infinispan's 32-bit MurmurHash3 of key with Seed.
func Murmur3(key []byte) int32 {
	h1 := uint64(initH1) ^ Seed
	h2 := uint64(initH2) ^ Seed
	c1 := uint64(initC1)
	c2 := uint64(initC2)
	n := len(key)
	i := 0
	for ; i+16 <= n; i += 16 {
		k1 := le64(key[i:])
		k2 := le64(key[i+8:])
		h1, h2, c1, c2 = bmix(h1, h2, k1, k2, c1, c2)
	}
	if tail := key[i:]; len(tail) > 0 {
		var k1, k2 uint64
		for j := len(tail) - 1; j >= 0; j-- {
			// Java bytes are signed: the cast to long sign-extends.
			v := uint64(int64(int8(tail[j])))
			if j >= 8 {
				k2 ^= v << (8 * uint(j-8))
			} else {
				k1 ^= v << (8 * uint(j))
			}
		}
		h1, h2, _, _ = bmix(h1, h2, k1, k2, c1, c2)
	}
	h2 ^= uint64(n)
	h1 += h2
	h2 += h1
	h1 = fmix(h1)
	h2 = fmix(h2)
	h1 += h2
	return int32(h1 >> 32)
}

func bmix(h1, h2, k1, k2, c1, c2 uint64) (uint64, uint64, uint64, uint64) {
	k1 *= c1
	k1 = bits.RotateLeft64(k1, 23)
	k1 *= c2
	h1 ^= k1
	h1 += h2

	h2 = bits.RotateLeft64(h2, 41)

	k2 *= c2
	k2 = bits.RotateLeft64(k2, 23)
	k2 *= c1
	h2 ^= k2
	h2 += h1

	h1 = h1*3 + 0x52dce729
	h2 = h2*3 + 0x38495ab5

	c1 = c1*5 + 0x7b7d159c
	c2 = c2*5 + 0x6bce6396
	return h1, h2, c1, c2
}

func fmix(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// SegmentSize is ceil(2^31 / numSegments), Infinispan's Util.getSegmentSize.
func SegmentSize(numSegments int) int32 {
	return int32((int64(1)<<31 + int64(numSegments) - 1) / int64(numSegments))
}

// Segment returns the segment of key among numSegments segments.
func Segment(key []byte, numSegments int) int {
	return int((Murmur3(key) & 0x7fffffff) / SegmentSize(numSegments))
}
