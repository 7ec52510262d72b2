package nn

import "sync"

// Sync lets the shards of one pass combine per-shard partial sums. Every
// shard must call AllReduce the same number of times with vectors of the same
// length; the sum is always taken in shard order, so it is the same whatever
// the number of goroutines or CPUs.
type Sync struct {
	shards  int
	mu      sync.Mutex
	cond    *sync.Cond
	arrived int
	gen     int
	parts   [][]float64
	result  [2][]float64
}

// NewSync returns a Sync for the given number of shards.
func NewSync(shards int) *Sync {
	s := &Sync{shards: shards, parts: make([][]float64, shards)}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// AllReduce deposits this shard's partial vector, waits for all shards and
// returns the element-wise sum over shards 0, 1, …, in that order. part must
// not change until AllReduce returns; the returned slice is read-only and
// valid until the shard's next call.
func (s *Sync) AllReduce(shard int, part []float64) []float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	gen := s.gen
	s.parts[shard] = part
	s.arrived++
	if s.arrived == s.shards {
		buf := s.result[gen&1]
		if cap(buf) < len(part) {
			buf = make([]float64, len(part))
		}
		buf = buf[:len(part)]
		copy(buf, s.parts[0])
		for _, p := range s.parts[1:] {
			for i, v := range p {
				buf[i] += v
			}
		}
		s.result[gen&1] = buf
		s.arrived = 0
		s.gen++
		s.cond.Broadcast()
		return buf
	}
	for s.gen == gen {
		s.cond.Wait()
	}
	return s.result[gen&1]
}
