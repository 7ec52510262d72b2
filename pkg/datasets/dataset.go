package datasets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// Split is one part (train or test) of a dataset held in memory.
type Split struct {
	// N is the number of examples.
	N int
	// Shape is the shape of one image (H, W, C).
	Shape nn.Shape
	// Images holds N×H×W×C pixels, NHWC, row-major.
	Images []uint8
	// Labels holds N class indices in [0, Classes).
	Labels []int32
}

// Image returns the pixels of example i (H×W×C, sharing the split's memory).
func (s *Split) Image(i int) []uint8 {
	sz := s.Shape.Size()
	return s.Images[i*sz : (i+1)*sz : (i+1)*sz]
}

// check verifies that the split's slices agree with N and Shape and that
// every label lies in [0, classes).
func (s *Split) check(classes int) error {
	if s.N < 0 || len(s.Labels) != s.N || len(s.Images) != s.N*s.Shape.Size() {
		return fmt.Errorf("inconsistent split: N=%d, shape %v, %d pixels, %d labels", s.N, s.Shape, len(s.Images), len(s.Labels))
	}
	for i, y := range s.Labels {
		if y < 0 || int(y) >= classes {
			return fmt.Errorf("example %d has label %d outside [0,%d)", i, y, classes)
		}
	}
	return nil
}

// Normalization maps a pixel p of channel c to (p/255 − Mean[c])/Std[c].
type Normalization struct {
	Mean, Std []float32
}

// Dataset is a loaded dataset: its classes, both splits and the
// normalisation the trainer applies to it.
type Dataset struct {
	// Name is the canonical dataset name ("mnist", "cifar10", …).
	Name string
	// Classes is the number of classes; ClassNames names them in label order.
	Classes    int
	ClassNames []string
	// Train and Test are the two splits (TinyImageNet: the official
	// validation set is the test split). With Options.Validation, Test
	// holds the images held out of the training set.
	Train, Test *Split
	// EvalSplit names what Test holds: EvalTest or EvalValidation.
	EvalSplit string
	// Norm is the per-channel normalisation of SPEC §2.2.
	Norm Normalization
	// Augmentable says whether the training transform of SPEC §2.2 includes
	// random crop and flip (false for MNIST and FashionMNIST, whose augment
	// flag is ignored).
	Augmentable bool
	// DropLastTrain is the drop_last setting of the training loader (SPEC
	// §2.2: false for MNIST/FashionMNIST, true for the others). The test
	// loader never drops.
	DropLastTrain bool
}

// TrainLoaderOptions returns the training loader settings of SPEC §2.2 for
// this dataset: shuffled, drop_last per dataset, augmented when augment is
// set and the dataset supports it.
func (d *Dataset) TrainLoaderOptions(batchSize int, augment bool, seed uint64) LoaderOptions {
	return LoaderOptions{BatchSize: batchSize, Shuffle: true, DropLast: d.DropLastTrain, Augment: augment && d.Augmentable, Seed: seed}
}

// TestLoaderOptions returns the test loader settings of SPEC §2.2: in
// order, no augmentation, the last partial batch kept.
func (d *Dataset) TestLoaderOptions(batchSize int) LoaderOptions {
	return LoaderOptions{BatchSize: batchSize}
}

// EnsureFunc returns a local directory holding the verified raw files of the
// named dataset (see package fetch), downloading or importing them first if
// needed.
type EnsureFunc func(ctx context.Context, name string) (dir string, err error)

// Ensure is the default EnsureFunc, used by Load when Options.Dir,
// Options.Source and Options.Ensure are all empty. It is nil until a caller
// (the CLI) wires in package fetch.
var Ensure EnsureFunc

// Options tell Load where the data are and how to prepare them.
type Options struct {
	// Dir is the directory of the dataset's raw files (the layout that
	// fetch.Ensure returns). Empty: ask Ensure.
	Dir string
	// Source, when set, is an image folder (a directory or a .tar.gz in the
	// <root>/{train,test}/<class>/ layout) loaded instead of the canonical
	// files. The named dataset's classes and normalisation are kept; class
	// folders are matched to the dataset's class names.
	Source string
	// CacheDir holds decoded image datasets. Empty: <user cache dir>/bsam/datasets.
	CacheDir string
	// NoCache disables reading and writing the decoded-image cache.
	NoCache bool
	// Logger receives progress messages; nil discards them.
	Logger *slog.Logger
	// TrainSubset and TestSubset, when positive, keep a class-balanced
	// deterministic subset of that many examples: the first examples of each
	// class in file order.
	TrainSubset, TestSubset int
	// Validation, when positive, holds out that many training examples
	// (see HoldOut) before TrainSubset is applied; they replace the test
	// split, and Dataset.EvalSplit becomes "validation".
	Validation int
	// Workers bounds the goroutines decoding images; 0 means GOMAXPROCS.
	Workers int
	// Ensure overrides the package-level Ensure hook.
	Ensure EnsureFunc
	// Norm overrides the normalisation ("imagefolder" defaults to none).
	Norm *Normalization
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Info describes a known dataset: its classes, image shape, normalisation
// and loader policy (SPEC §2.2).
type Info struct {
	Name       string   // canonical name
	Classes    int      // number of classes
	ClassNames []string // in label order; nil for TinyImageNet (the sorted wnids of the data)
	Shape      nn.Shape // image shape (H, W, C)
	Norm       Normalization
	// Augmentable and DropLastTrain are copied to Dataset.
	Augmentable   bool
	DropLastTrain bool
	TrainN, TestN int // sizes of the canonical splits
}

var (
	mnistNames  = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	fmnistNames = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
	cifar10Name = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
	noNorm1     = Normalization{Mean: []float32{0}, Std: []float32{1}}
)

// Lookup returns the description of a dataset by name ("mnist", "fmnist",
// "cifar10", "cifar100", "tinyimagenet"; "fashion" and "fashionmnist" are
// accepted for "fmnist").
func Lookup(name string) (Info, error) {
	switch strings.ToLower(name) {
	case "mnist":
		return Info{Name: "mnist", Classes: 10, ClassNames: mnistNames, Shape: nn.Shape{H: 28, W: 28, C: 1}, Norm: noNorm1, TrainN: 60000, TestN: 10000}, nil
	case "fmnist", "fashion", "fashionmnist", "fashion-mnist":
		return Info{Name: "fmnist", Classes: 10, ClassNames: fmnistNames, Shape: nn.Shape{H: 28, W: 28, C: 1}, Norm: noNorm1, TrainN: 60000, TestN: 10000}, nil
	case "cifar10":
		return Info{Name: "cifar10", Classes: 10, ClassNames: cifar10Name, Shape: nn.Shape{H: 32, W: 32, C: 3},
			Norm:        Normalization{Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2023, 0.1994, 0.2010}},
			Augmentable: true, DropLastTrain: true, TrainN: 50000, TestN: 10000}, nil
	case "cifar100":
		return Info{Name: "cifar100", Classes: 100, ClassNames: cifar100FineNames, Shape: nn.Shape{H: 32, W: 32, C: 3},
			Norm:        Normalization{Mean: []float32{0.5071, 0.4865, 0.4409}, Std: []float32{0.2673, 0.2564, 0.2761}},
			Augmentable: true, DropLastTrain: true, TrainN: 50000, TestN: 10000}, nil
	case "tinyimagenet":
		return Info{Name: "tinyimagenet", Classes: 200, Shape: nn.Shape{H: 64, W: 64, C: 3},
			Norm:        Normalization{Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}},
			Augmentable: true, DropLastTrain: true, TrainN: 100000, TestN: 10000}, nil
	}
	return Info{}, fmt.Errorf("datasets: unknown dataset %q (known: mnist, fmnist, cifar10, cifar100, tinyimagenet, imagefolder)", name)
}

// Load reads the named dataset ("mnist", "fmnist", "cifar10", "cifar100",
// "tinyimagenet" or "imagefolder") into memory.
//
// With Options.Source the images come from that image folder (directory or
// .tar.gz) instead of the canonical files; "imagefolder" requires Source.
// Otherwise the raw files are read from Options.Dir, or from the directory
// that Options.Ensure (else the package's Ensure) returns.
func Load(ctx context.Context, name string, opts Options) (*Dataset, error) {
	log := opts.logger()
	var (
		ds  *Dataset
		err error
	)
	if strings.ToLower(name) == "imagefolder" {
		if opts.Source == "" {
			return nil, errors.New("datasets: dataset \"imagefolder\" needs Options.Source (a directory or .tar.gz)")
		}
		ds, err = loadImageFolderDataset(ctx, "imagefolder", nil, opts)
	} else {
		info, lerr := Lookup(name)
		if lerr != nil {
			return nil, lerr
		}
		if opts.Source != "" {
			ds, err = loadImageFolderDataset(ctx, info.Name, &info, opts)
		} else {
			dir := opts.Dir
			if dir == "" {
				ensure := opts.Ensure
				if ensure == nil {
					ensure = Ensure
				}
				if ensure == nil {
					return nil, fmt.Errorf("datasets: no data directory for %s: set Options.Dir or Options.Source, or wire datasets.Ensure to the fetch package", info.Name)
				}
				if dir, err = ensure(ctx, info.Name); err != nil {
					return nil, fmt.Errorf("datasets: obtaining %s: %w", info.Name, err)
				}
			}
			ds, err = loadCanonical(ctx, info, dir, opts)
		}
	}
	if err != nil {
		return nil, err
	}
	if opts.Norm != nil {
		ds.Norm = *opts.Norm
	}
	for _, sp := range []struct {
		s    *Split
		name string
	}{{ds.Train, "train"}, {ds.Test, "test"}} {
		if err := sp.s.check(ds.Classes); err != nil {
			return nil, fmt.Errorf("datasets: %s %s split: %w", ds.Name, sp.name, err)
		}
	}
	if len(ds.Norm.Mean) != ds.Train.Shape.C || len(ds.Norm.Std) != ds.Train.Shape.C {
		return nil, fmt.Errorf("datasets: %s: normalisation has %d means and %d stds for %d channels", ds.Name, len(ds.Norm.Mean), len(ds.Norm.Std), ds.Train.Shape.C)
	}
	ds.EvalSplit = EvalTest
	if opts.Validation > 0 {
		if opts.Validation >= ds.Train.N {
			return nil, fmt.Errorf("datasets: %s: validation hold-out of %d examples leaves nothing to train on (the training split has %d)", ds.Name, opts.Validation, ds.Train.N)
		}
		ds.Train, ds.Test = ds.Train.HoldOut(opts.Validation, ds.Classes)
		ds.EvalSplit = EvalValidation
	}
	if opts.TrainSubset > 0 {
		ds.Train = ds.Train.Subset(opts.TrainSubset, ds.Classes)
	}
	if opts.TestSubset > 0 {
		ds.Test = ds.Test.Subset(opts.TestSubset, ds.Classes)
	}
	log.Info("dataset loaded", "name", ds.Name, "train", ds.Train.N, ds.EvalSplit, ds.Test.N, "classes", ds.Classes, "shape", fmt.Sprintf("%dx%dx%d", ds.Train.Shape.H, ds.Train.Shape.W, ds.Train.Shape.C))
	return ds, nil
}

// loadCanonical reads the canonical raw files of a known dataset from dir.
func loadCanonical(ctx context.Context, info Info, dir string, opts Options) (*Dataset, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("datasets: %s data directory: %w", info.Name, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("datasets: %s data directory %s is not a directory", info.Name, dir)
	}
	ds := &Dataset{Name: info.Name, Classes: info.Classes, ClassNames: info.ClassNames, Norm: info.Norm,
		Augmentable: info.Augmentable, DropLastTrain: info.DropLastTrain}
	var err error
	switch info.Name {
	case "mnist", "fmnist":
		ds.Train, ds.Test, err = LoadIDXDir(dir)
	case "cifar10":
		ds.Train, ds.Test, err = LoadCIFAR10Dir(filepath.Join(dir, "cifar-10-batches-bin"))
	case "cifar100":
		var names []string
		ds.Train, ds.Test, names, err = LoadCIFAR100Dir(filepath.Join(dir, "cifar-100-binary"))
		if names != nil {
			ds.ClassNames = names
		}
	case "tinyimagenet":
		var names []string
		ds.Train, ds.Test, names, err = loadTinyImageNetCached(ctx, filepath.Join(dir, "tiny-imagenet-200"), opts)
		ds.ClassNames, ds.Classes = names, len(names)
	default:
		err = fmt.Errorf("datasets: no canonical loader for %s", info.Name)
	}
	if err != nil {
		return nil, err
	}
	if ds.Train.Shape != info.Shape || ds.Test.Shape != info.Shape {
		return nil, fmt.Errorf("datasets: %s in %s: images are %d×%d×%d, want %d×%d×%d", info.Name, dir, ds.Train.Shape.H, ds.Train.Shape.W, ds.Train.Shape.C, info.Shape.H, info.Shape.W, info.Shape.C)
	}
	return ds, nil
}

// Subset returns a class-balanced deterministic subset of about n examples:
// class c keeps its first n/classes examples (the first n mod classes
// classes one more), in the split's order. A class with too few examples
// keeps all of them, so the result can be smaller than n. The subset
// shares no memory with s. n ≥ s.N returns s itself.
func (s *Split) Subset(n, classes int) *Split {
	if n >= s.N || classes <= 0 {
		return s
	}
	quota := make([]int, classes)
	for c := range quota {
		quota[c] = n / classes
		if c < n%classes {
			quota[c]++
		}
	}
	keep := make([]int, 0, n)
	for i, y := range s.Labels {
		if quota[y] > 0 {
			quota[y]--
			keep = append(keep, i)
		}
	}
	return s.gather(keep)
}

// Evaluation splits (Dataset.EvalSplit).
const (
	EvalTest       = "test"
	EvalValidation = "validation"
)

// HoldOut splits s into a training part and a held-out validation part of
// about n examples, class-balanced as Subset is (class c holds out
// n/classes examples, the first n mod classes classes one more; a class with
// too few examples gives all but one). Which examples of a class are held
// out is drawn by a fixed random stream keyed by the class alone, never by
// a run seed or method: every run of every method holds out the same
// images. Both parts keep the split's order and share no memory with s.
func (s *Split) HoldOut(n, classes int) (rest, held *Split) {
	if n <= 0 || classes <= 0 {
		return s, s.gather(nil)
	}
	byClass := make([][]int, classes)
	for i, y := range s.Labels {
		byClass[y] = append(byClass[y], i)
	}
	out := make([]bool, s.N)
	for c, idx := range byClass {
		q := n / classes
		if c < n%classes {
			q++
		}
		q = min(q, max(len(idx)-1, 0))
		// A partial Fisher–Yates shuffle of the class's indices: the first
		// q positions are a uniform sample of q of them.
		perm := append([]int(nil), idx...)
		r := rng{state: deriveKey(0, streamHoldOut, uint64(c))}
		for k := 0; k < q; k++ {
			j := k + r.IntN(len(perm)-k)
			perm[k], perm[j] = perm[j], perm[k]
			out[perm[k]] = true
		}
	}
	var keep, hold []int
	for i := range s.N {
		if out[i] {
			hold = append(hold, i)
		} else {
			keep = append(keep, i)
		}
	}
	return s.gather(keep), s.gather(hold)
}

// gather returns a new split holding the examples idx of s, in that order.
func (s *Split) gather(idx []int) *Split {
	sz := s.Shape.Size()
	out := &Split{N: len(idx), Shape: s.Shape, Images: make([]uint8, len(idx)*sz), Labels: make([]int32, len(idx))}
	for k, i := range idx {
		copy(out.Images[k*sz:(k+1)*sz], s.Images[i*sz:(i+1)*sz])
		out.Labels[k] = s.Labels[i]
	}
	return out
}
