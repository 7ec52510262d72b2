package nn

import (
	"runtime"
	"sync"
)

// rowFiller is work split by rows over the cores (parallelRows): fillRows
// does rows [r0, r1), independent of every other range, so the split does
// not change a bit.
type rowFiller interface {
	fillRows(r0, r1 int)
	waitGroup() *sync.WaitGroup // the filler's own, so a call allocates nothing
}

type rowJob struct {
	f      rowFiller
	r0, r1 int
}

// rowPool is a set of goroutines, started on first use, one per CPU, that
// run rowJobs.
var rowPool struct {
	once sync.Once
	jobs chan rowJob
}

// parallelRows runs f over rows [0, rows) in GOMAXPROCS parts at once (the
// caller does the first) and returns when all are done. It is for work
// that every shard of a pass would otherwise wait for on one core, such as
// the shared derived kernels of a pass.
func parallelRows(f rowFiller, rows int) {
	parts := min(runtime.GOMAXPROCS(0), rows)
	if parts <= 1 {
		f.fillRows(0, rows)
		return
	}
	rowPool.once.Do(func() {
		rowPool.jobs = make(chan rowJob, 4*runtime.NumCPU())
		for range runtime.NumCPU() {
			go func() {
				for j := range rowPool.jobs {
					j.f.fillRows(j.r0, j.r1)
					j.f.waitGroup().Done()
				}
			}()
		}
	})
	wg := f.waitGroup()
	wg.Add(parts - 1)
	for p := 1; p < parts; p++ {
		rowPool.jobs <- rowJob{f, p * rows / parts, (p + 1) * rows / parts}
	}
	f.fillRows(0, rows/parts)
	wg.Wait()
}
