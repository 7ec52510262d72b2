// Package datasets turns the raw files of the benchmark's datasets into
// in-memory uint8 images and streams them to the trainer as normalised,
// optionally augmented float32 batches.
//
// It covers the five datasets of the paper (SPEC §2.2, §9) and arbitrary
// image folders:
//
//   - "mnist", "fmnist": the four gzip-compressed IDX files (idx.go);
//   - "cifar10", "cifar100": the canonical binary batches (cifar.go);
//   - "tinyimagenet": the tiny-imagenet-200 tree, validation set as the
//     test split (tinyimagenet.go);
//   - "imagefolder", or any of the above with Options.Source: a
//     <root>/{train,test}/<class>/*.{jpg,jpeg,png} tree given as a
//     directory or a .tar.gz (imagefolder.go).
//
// JPEG files are decoded as PIL (and so torchvision's ImageFolder) sees
// them: 4:2:0 chroma is upsampled with libjpeg's triangle filter and
// converted with libjpeg's fixed-point YCbCr→RGB (ycbcr.go); only the
// inverse DCT is Go's, which leaves a few values one or two levels off.
//
// Load returns a Dataset of two Splits holding N×H×W×C (NHWC) uint8 pixels
// and int32 labels. Decoding JPEG is slow, so decoded image datasets are
// kept in a compact binary cache (cache.go) keyed by the source's path,
// size and modification time.
//
// NewLoader streams a Split in batches (loader.go). Shuffling and
// augmentation (random crop with zero padding and horizontal flips, as
// torchvision's RandomCrop(pad=4) and RandomHorizontalFlip) draw from
// random streams derived only from (seed, epoch) and (seed, epoch,
// example), so the batches are identical whatever the number of workers,
// and an epoch can be resumed at any batch.
//
// Downloading and verifying the canonical archives is the job of the
// sub-package fetch; Load calls it through the Ensure hook when
// Options.Dir and Options.Source are both empty.
package datasets
