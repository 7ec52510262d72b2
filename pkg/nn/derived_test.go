package nn

import (
	"sync"
	"testing"
)

// TestSharedDerived checks that concurrent shards get one buffer per key,
// filled exactly once per pass, and refilled after BeginPass.
func TestSharedDerived(t *testing.T) {
	s := NewSync(4)
	var fills [2]int
	var mu sync.Mutex
	for pass := 1; pass <= 3; pass++ {
		if pass > 1 {
			s.BeginPass()
		}
		var wg sync.WaitGroup
		bufs := make([][]float32, 8)
		for g := range bufs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := g % 2
				buf, fill := sharedDerived[float32](s, key, 3)
				if fill != nil {
					mu.Lock()
					fills[key]++
					mu.Unlock()
					for i := range buf {
						buf[i] = float32(pass*10 + key)
					}
					fill.Unlock()
				}
				bufs[g] = buf
			}()
		}
		wg.Wait()
		for g, b := range bufs {
			want := float32(pass*10 + g%2)
			for _, v := range b {
				if v != want {
					t.Fatalf("pass %d, goroutine %d: buffer holds %v, want %v", pass, g, b, want)
				}
			}
		}
		if fills != [2]int{pass, pass} {
			t.Fatalf("after pass %d: fills per key %v, want one per pass", pass, fills)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a key asked for with another size did not panic")
		}
	}()
	sharedDerived[float32](s, 0, 4)
}
