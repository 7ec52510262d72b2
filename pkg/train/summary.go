package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/bsam-dev/bsam/pkg/eval"
)

// WriteSummary prints a mean ± sample-std (n−1) table over seeds for every
// method of the outcomes, using the Bayesian model average (equal to the
// point prediction for deterministic methods). Failed runs are listed below
// the table and not averaged in.
func WriteSummary(w io.Writer, outs []Outcome) {
	type group struct {
		method string
		res    []eval.Metrics
	}
	var groups []*group
	find := func(m string) *group {
		for _, g := range groups {
			if g.method == m {
				return g
			}
		}
		g := &group{method: m}
		groups = append(groups, g)
		return g
	}
	var failed []Outcome
	busy := map[string]int{}
	for _, o := range outs {
		g := find(o.Run.Method)
		if o.Result == nil {
			failed = append(failed, o)
			if o.Busy() {
				busy[g.method]++
			}
			continue
		}
		g.res = append(g.res, o.Result.BMA)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "method\tseeds\taccuracy (%)\tNLL\tECE\tAUROC\t")
	for _, g := range groups {
		cols := []func(eval.Metrics) float64{
			func(m eval.Metrics) float64 { return m.Accuracy },
			func(m eval.Metrics) float64 { return m.NLL },
			func(m eval.Metrics) float64 { return m.ECE },
			func(m eval.Metrics) float64 { return m.AUROC },
		}
		prec := []int{2, 4, 4, 4}
		fmt.Fprintf(tw, "%s\t%d\t", g.method, len(g.res))
		for i, c := range cols {
			if len(g.res) == 0 {
				if busy[g.method] > 0 {
					fmt.Fprint(tw, "busy\t")
				} else {
					fmt.Fprint(tw, "failed\t")
				}
				continue
			}
			xs := make([]float64, len(g.res))
			for j, m := range g.res {
				xs[j] = c(m)
			}
			mean, std := eval.MeanStd(xs)
			if len(xs) > 1 && !math.IsNaN(std) {
				fmt.Fprintf(tw, "%.*f ± %.*f\t", prec[i], mean, prec[i], std)
			} else {
				fmt.Fprintf(tw, "%.*f\t", prec[i], mean)
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Fprintln(w, "(mean ± sample std over seeds, n−1; bSAM: Bayesian model average)")
	for _, o := range failed {
		if errors.Is(o.Err, context.Canceled) {
			fmt.Fprintf(w, "INTERRUPTED %s seed %d: checkpoint saved in %s; rerun to resume\n", o.Run.Method, o.Run.Seed, o.Dir)
			continue
		}
		var locked *LockedError
		if errors.As(o.Err, &locked) {
			pid := "another process"
			if locked.PID > 0 {
				pid = fmt.Sprintf("pid %d", locked.PID)
			}
			fmt.Fprintf(w, "BUSY %s seed %d: %s is training it (%s); not failed, left alone\n", o.Run.Method, o.Run.Seed, pid, o.Dir)
			continue
		}
		fmt.Fprintf(w, "FAILED %s seed %d: %v (%s)\n", o.Run.Method, o.Run.Seed, o.Err, o.Dir)
	}
}

// Busy reports whether the run was left alone because another process
// holds its lock.
func (o Outcome) Busy() bool {
	var locked *LockedError
	return errors.As(o.Err, &locked)
}

// Counts tallies outcomes.
type Counts struct {
	Done, Skipped, Failed, Busy, Interrupted int
}

// Tally counts the outcomes by kind: a busy run (another process holds its
// lock) and an interrupted one are not failures.
func Tally(outs []Outcome) Counts {
	var c Counts
	for _, o := range outs {
		switch {
		case o.Err == nil && o.Skipped:
			c.Skipped++
		case o.Err == nil:
			c.Done++
		case o.Busy():
			c.Busy++
		case errors.Is(o.Err, context.Canceled):
			c.Interrupted++
		default:
			c.Failed++
		}
	}
	return c
}
