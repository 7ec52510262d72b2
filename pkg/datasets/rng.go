package datasets

import "math/bits"

// Random streams. Everything random in this package (epoch permutations,
// crop offsets, flips) derives from the run seed through mix64, so results
// are reproducible across Go versions, platforms and worker counts.

// Stream tags keep the independent random streams apart.
const (
	streamShuffle uint64 = 0x53485546464c4531 // "SHUFFLE1"
	streamAugment uint64 = 0x4155474d454e5431 // "AUGMENT1"
	streamHoldOut uint64 = 0x484f4c444f555431 // "HOLDOUT1"
)

// mix64 is the splitmix64 finaliser, a bijective 64-bit hash.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// deriveKey hashes the seed and a sequence of words into a stream key.
func deriveKey(seed uint64, words ...uint64) uint64 {
	k := mix64(seed + 0x9e3779b97f4a7c15)
	for _, w := range words {
		k = mix64(k ^ mix64(w+0x9e3779b97f4a7c15))
	}
	return k
}

// rng is a splitmix64 generator.
type rng struct{ state uint64 }

// Uint64 returns the next 64 random bits.
func (r *rng) Uint64() uint64 {
	r.state += 0x9e3779b97f4a7c15
	return mix64(r.state)
}

// IntN returns a uniform integer in [0, n) for n > 0 (Lemire's method with
// rejection, so there is no modulo bias).
func (r *rng) IntN(n int) int {
	bound := uint64(n)
	for {
		hi, lo := bits.Mul64(r.Uint64(), bound)
		if lo >= bound || lo >= (-bound)%bound {
			return int(hi)
		}
	}
}

// permutation returns a uniformly random permutation of 0..n-1 that
// depends only on (seed, epoch) (Fisher–Yates).
func permutation(n int, seed uint64, epoch int) []int32 {
	p := make([]int32, n)
	for i := range p {
		p[i] = int32(i)
	}
	r := rng{state: deriveKey(seed, streamShuffle, uint64(epoch))}
	for i := n - 1; i > 0; i-- {
		j := r.IntN(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}
