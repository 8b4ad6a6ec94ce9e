package tinylfu

import "math/bits"

// sketch is a count-min sketch of 4-bit counters estimating how often a hash
// was seen recently. Four rows of counters are packed into uint64 words;
// all four counters of one hash lie in the same 64-byte block of eight words,
// so an increment or an estimate touches one cache line. Every sampleSize
// additions all counters are halved, so popularity fades unless renewed.
type sketch struct {
	words      []uint64
	blockMask  uint64 // number of blocks - 1
	additions  int64
	sampleSize int64
}

const (
	blockWords = 8 // 64 bytes
	// maxCount is the saturation value of a 4-bit counter.
	maxCount       = 15
	minSketchWords = 2 * blockWords
	// maxSketchWords caps the table at 128 MiB (16Mi words); beyond that the
	// estimates degrade gracefully rather than memory growing without bound.
	maxSketchWords = 1 << 24
	// initialSketchWords bounds the table New allocates up front when the
	// capacity may be a byte count; the table grows with the entry count.
	initialSketchWords = 1 << 12
)

// init sizes the table for about n tracked keys, one word (sixteen
// counters) per key rounded up to a power of two, and zeroes it. Counters are
// halved after ten additions per word.
func (s *sketch) init(n int64) {
	words := int64(minSketchWords)
	for words < n && words < maxSketchWords {
		words <<= 1
	}
	s.words = make([]uint64, words)
	s.blockMask = uint64(words/blockWords) - 1
	s.additions = 0
	s.sampleSize = 10 * words
}

func (s *sketch) reset() {
	clear(s.words)
	s.additions = 0
}

// mix is a 64-bit finaliser (MurmurHash3's fmix64): the caller's hash may
// carry its entropy in only some of its bits, and the sketch needs all of
// them to be independent.
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// The four counters of a hash lie in one block of the table: the low bits of
// the mixed hash choose the block, its high 32 bits give one byte per row.
// In row r's byte, bit 0 picks one of the row's two words in the block
// (words 2r and 2r+1) and bits 1-4 one of that word's sixteen counters.

// block returns the block of mixed hash m.
func (s *sketch) block(m uint64) *[blockWords]uint64 {
	base := (m & s.blockMask) * blockWords
	return (*[blockWords]uint64)(s.words[base : base+blockWords])
}

// slot returns the word within the block and the bit shift of row r's
// counter for mixed hash m.
func slot(m uint64, r uint) (word, shift uint) {
	sel := uint(m >> (32 + 8*r))
	return (2*r + sel&1) & (blockWords - 1), (sel >> 1 & 15) * 4
}

// increment records one occurrence of h. It is a conservative update: only
// the counters holding the current minimum grow, which keeps the others from
// drifting up through collisions.
func (s *sketch) increment(h uint64) {
	m := mix(h)
	b := s.block(m)
	w0, s0 := slot(m, 0)
	w1, s1 := slot(m, 1)
	w2, s2 := slot(m, 2)
	w3, s3 := slot(m, 3)
	v0, v1, v2, v3 := b[w0]>>s0&0xf, b[w1]>>s1&0xf, b[w2]>>s2&0xf, b[w3]>>s3&0xf
	low := min(v0, v1, v2, v3)
	if low == maxCount {
		return
	}
	b[w0] += eq(v0, low) << s0
	b[w1] += eq(v1, low) << s1
	b[w2] += eq(v2, low) << s2
	b[w3] += eq(v3, low) << s3
	s.additions++
	if s.additions >= s.sampleSize {
		s.age()
	}
}

// eq is 1 if a == b, else 0, without a branch to mispredict.
func eq(a, b uint64) uint64 {
	var r uint64
	if a == b {
		r = 1
	}
	return r
}

// estimate returns the estimated recent frequency of h, 0 to 15.
func (s *sketch) estimate(h uint64) uint64 {
	m := mix(h)
	b := s.block(m)
	low := uint64(maxCount)
	for r := range uint(4) {
		w, sh := slot(m, r)
		low = min(low, b[w]>>sh&0xf)
	}
	return low
}

// raise lifts h's counters to at least f; used to carry resident keys'
// frequencies into a larger table.
func (s *sketch) raise(h, f uint64) {
	m := mix(h)
	b := s.block(m)
	for r := range uint(4) {
		w, sh := slot(m, r)
		if v := b[w] >> sh & 0xf; v < f {
			b[w] += (f - v) << sh
		}
	}
}

// age halves every counter. The additions counter is halved too, less the
// halves lost to truncating odd counters (a quarter per odd counter, since an
// addition moves up to four counters).
func (s *sketch) age() {
	var odd int
	for i, w := range s.words {
		odd += bits.OnesCount64(w & 0x1111111111111111)
		s.words[i] = (w >> 1) & 0x7777777777777777
	}
	s.additions = max(s.additions-int64(odd/4), 0) / 2
}
