package cli

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/train"
)

// runsOptions are the flags of `bsam runs`.
type runsOptions struct {
	json bool
}

// runInfo is one line of `bsam runs` (and one object of --json).
type runInfo struct {
	Dir       string   `json:"dir"`
	Status    string   `json:"status"`
	Reason    string   `json:"reason,omitempty"`
	Epoch     int      `json:"epoch"`
	Epochs    int      `json:"epochs"`
	TrainLoss float64  `json:"train_loss"`
	TestAcc   *float64 `json:"test_acc,omitempty"` // last evaluated epoch; absent before the first evaluation
	Elapsed   float64  `json:"elapsed_s"`
	Resumed   int      `json:"resumed,omitempty"`
}

func newRunsCmd() *cobra.Command {
	o := &runsOptions{}
	cmd := &cobra.Command{
		Use:   "runs [DIR...]",
		Short: "List runs with their status, epoch, last metrics and elapsed time",
		Long: `runs walks the given directories (default ./runs) for run directories
(those with a meta.json) and prints one line per run: status (running, done,
failed, interrupted), epochs completed, the last epoch's training loss and test
accuracy, and the elapsed time. A "running" run whose process has died shows as
"running?" until it is resumed: rerun the same bsam train command.`,
		Example: `  bsam runs
  bsam runs results/ --json | jq '.[] | select(.status != "done")'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"runs"}
			}
			var infos []runInfo
			for _, root := range args {
				if _, err := os.Stat(root); err != nil {
					return WithCode(ExitRuntime, err)
				}
				err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
					if err != nil || d.IsDir() || d.Name() != "meta.json" {
						return err
					}
					infos = append(infos, readRunInfo(filepath.Dir(path)))
					return nil
				})
				if err != nil {
					return WithCode(ExitRuntime, err)
				}
			}
			sort.Slice(infos, func(i, j int) bool { return infos[i].Dir < infos[j].Dir })
			out := cmd.OutOrStdout()
			if o.json {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if infos == nil {
					infos = []runInfo{}
				}
				return enc.Encode(infos)
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tSTATUS\tEPOCH\tTRAIN LOSS\tTEST ACC\tELAPSED\t")
			for _, r := range infos {
				acc := "-"
				if r.TestAcc != nil {
					acc = fmt.Sprintf("%.2f", *r.TestAcc)
				}
				fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%.4f\t%s\t%s\t\n", r.Dir, r.Status, r.Epoch, r.Epochs, r.TrainLoss, acc,
					(time.Duration(r.Elapsed) * time.Second).String())
			}
			tw.Flush()
			for _, r := range infos {
				if r.Reason != "" && r.Status != "done" {
					fmt.Fprintf(out, "%s: %s\n", r.Dir, r.Reason)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print a JSON array (stable field names) instead of a table")
	return cmd
}

// readRunInfo summarises one run directory from its meta.json, metrics.jsonl
// and config.yaml.
func readRunInfo(dir string) runInfo {
	info := runInfo{Dir: dir}
	var meta train.Meta
	if err := train.ReadJSON(filepath.Join(dir, "meta.json"), &meta); err != nil {
		info.Status, info.Reason = "unreadable", err.Error()
		return info
	}
	info.Status, info.Reason, info.Epoch, info.Resumed = meta.Status, meta.Reason, meta.Epoch, meta.Resumed
	if meta.Status == "running" {
		if !train.LockHeld(dir) {
			info.Status = "running?" // nobody holds the lock: the process died
			info.Reason = "the training process is gone; rerun the same bsam train command to resume"
		}
	}
	end := meta.Ended
	if end.IsZero() {
		end = time.Now()
	}
	info.Elapsed = end.Sub(meta.Started).Round(time.Second).Seconds()
	if meta.Status == "done" && meta.Seconds > 0 {
		info.Elapsed = meta.Seconds
	}
	if b, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl")); err == nil {
		lines := splitLines(b)
		for k := len(lines) - 1; k >= 0; k-- {
			var rec train.EpochRecord
			if json.Unmarshal(lines[k], &rec) != nil {
				continue
			}
			if k == len(lines)-1 {
				info.TrainLoss = rec.TrainLoss
			}
			if rec.Evaluated() {
				info.TestAcc = rec.TestAcc
				break
			}
		}
	}
	if c, err := config.ReadRunDir(dir); err == nil {
		info.Epochs = c.Epochs
		if c.ExtraEpoch {
			info.Epochs++
		}
	}
	return info
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	start := 0
	for i, c := range b {
		if c == '\n' {
			if i > start {
				out = append(out, b[start:i])
			}
			start = i + 1
		}
	}
	if start < len(b) {
		out = append(out, b[start:])
	}
	return out
}
