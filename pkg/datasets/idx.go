package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// IDX magic numbers (SPEC §9): unsigned-byte data with 3 or 1 dimensions.
const (
	idxMagicImages = 0x00000803 // 2051
	idxMagicLabels = 0x00000801 // 2049
)

// maxIDXBytes bounds the pixel payload an IDX header may announce.
const maxIDXBytes = 1 << 31

// The canonical MNIST/FashionMNIST file names, without the ".gz" suffix.
const (
	idxTrainImages = "train-images-idx3-ubyte"
	idxTrainLabels = "train-labels-idx1-ubyte"
	idxTestImages  = "t10k-images-idx3-ubyte"
	idxTestLabels  = "t10k-labels-idx1-ubyte"
)

// ReadIDXImages reads an IDX image file (magic 2051, big-endian header
// count, rows, cols, then uint8 pixels row-major), gzip-compressed or not.
// It returns the number of images, their shape (rows, cols, 1) and the
// pixels. Short or trailing data are errors.
func ReadIDXImages(r io.Reader) (n int, shape nn.Shape, pix []uint8, err error) {
	br, err := maybeGunzip(r)
	if err != nil {
		return 0, shape, nil, err
	}
	var hdr [16]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return 0, shape, nil, fmt.Errorf("IDX image header: %w", noEOF(err))
	}
	magic := binary.BigEndian.Uint32(hdr[0:])
	if magic != idxMagicImages {
		return 0, shape, nil, fmt.Errorf("IDX image file: magic %#08x, want %#08x (2051)", magic, idxMagicImages)
	}
	cnt, rows, cols := binary.BigEndian.Uint32(hdr[4:]), binary.BigEndian.Uint32(hdr[8:]), binary.BigEndian.Uint32(hdr[12:])
	if rows == 0 || cols == 0 || rows > 1<<16 || cols > 1<<16 {
		return 0, shape, nil, fmt.Errorf("IDX image file: bad image size %d×%d", rows, cols)
	}
	total := uint64(cnt) * uint64(rows) * uint64(cols)
	if total > maxIDXBytes {
		return 0, shape, nil, fmt.Errorf("IDX image file: header announces %d images of %d×%d (%d bytes), more than the limit %d", cnt, rows, cols, total, maxIDXBytes)
	}
	pix, err = readExact(br, int64(total))
	if err != nil {
		return 0, shape, nil, fmt.Errorf("IDX image file with %d images of %d×%d: %w", cnt, rows, cols, err)
	}
	return int(cnt), nn.Shape{H: int(rows), W: int(cols), C: 1}, pix, nil
}

// ReadIDXLabels reads an IDX label file (magic 2049, big-endian count, then
// one uint8 label per item), gzip-compressed or not.
func ReadIDXLabels(r io.Reader) ([]int32, error) {
	br, err := maybeGunzip(r)
	if err != nil {
		return nil, err
	}
	var hdr [8]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, fmt.Errorf("IDX label header: %w", noEOF(err))
	}
	magic := binary.BigEndian.Uint32(hdr[0:])
	if magic != idxMagicLabels {
		return nil, fmt.Errorf("IDX label file: magic %#08x, want %#08x (2049)", magic, idxMagicLabels)
	}
	cnt := binary.BigEndian.Uint32(hdr[4:])
	if uint64(cnt) > maxIDXBytes {
		return nil, fmt.Errorf("IDX label file: header announces %d labels, more than the limit %d", cnt, maxIDXBytes)
	}
	raw, err := readExact(br, int64(cnt))
	if err != nil {
		return nil, fmt.Errorf("IDX label file with %d labels: %w", cnt, err)
	}
	labels := make([]int32, len(raw))
	for i, v := range raw {
		labels[i] = int32(v)
	}
	return labels, nil
}

// LoadIDXDir reads the four canonical MNIST/FashionMNIST files from dir
// ("train-images-idx3-ubyte.gz" etc.; uncompressed files without ".gz" are
// accepted too) and returns the training and test splits. Image and label
// counts must agree and the labels must lie in 0..9.
func LoadIDXDir(dir string) (train, test *Split, err error) {
	if train, err = loadIDXPair(dir, idxTrainImages, idxTrainLabels); err != nil {
		return nil, nil, err
	}
	if test, err = loadIDXPair(dir, idxTestImages, idxTestLabels); err != nil {
		return nil, nil, err
	}
	if train.Shape != test.Shape {
		return nil, nil, fmt.Errorf("datasets: %s: train images are %dx%d but test images %dx%d", dir, train.Shape.H, train.Shape.W, test.Shape.H, test.Shape.W)
	}
	return train, test, nil
}

func loadIDXPair(dir, images, labels string) (*Split, error) {
	ipath, err := findIDX(dir, images)
	if err != nil {
		return nil, err
	}
	lpath, err := findIDX(dir, labels)
	if err != nil {
		return nil, err
	}
	var (
		n     int
		shape nn.Shape
		pix   []uint8
		lab   []int32
	)
	if err := withFile(ipath, func(f io.Reader) (err error) { n, shape, pix, err = ReadIDXImages(f); return }); err != nil {
		return nil, err
	}
	if err := withFile(lpath, func(f io.Reader) (err error) { lab, err = ReadIDXLabels(f); return }); err != nil {
		return nil, err
	}
	if len(lab) != n {
		return nil, fmt.Errorf("datasets: %s holds %d images but %s holds %d labels", ipath, n, lpath, len(lab))
	}
	for i, y := range lab {
		if y > 9 {
			return nil, fmt.Errorf("datasets: %s: label %d of item %d is not in 0..9", lpath, y, i)
		}
	}
	return &Split{N: n, Shape: shape, Images: pix, Labels: lab}, nil
}

// findIDX returns dir/base.gz, or dir/base when only the uncompressed file
// exists.
func findIDX(dir, base string) (string, error) {
	gz := filepath.Join(dir, base+".gz")
	if _, err := os.Stat(gz); err == nil {
		return gz, nil
	}
	plain := filepath.Join(dir, base)
	if _, err := os.Stat(plain); err == nil {
		return plain, nil
	}
	return "", fmt.Errorf("datasets: %s not found (nor %s)", gz, plain)
}

// withFile opens path, passes it to fn and wraps fn's error with the path.
func withFile(path string, fn func(io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	if err := fn(bufio.NewReaderSize(f, 1<<20)); err != nil {
		return fmt.Errorf("datasets: %s: %w", path, err)
	}
	return nil
}

// maybeGunzip returns a reader of r's content, decompressed when r starts
// with the gzip magic bytes.
func maybeGunzip(r io.Reader) (io.Reader, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	head, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if bytes.Equal(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return bufio.NewReaderSize(zr, 1<<16), nil
	}
	return br, nil
}

// readExact reads exactly n bytes and then requires end of input. Memory
// grows with the data actually present, so a header announcing a huge
// payload over a short stream fails without a huge allocation.
func readExact(r io.Reader, n int64) ([]byte, error) {
	const chunk = 1 << 22
	var buf []byte
	if n <= chunk {
		buf = make([]byte, 0, n)
	}
	for int64(len(buf)) < n {
		want := min(n-int64(len(buf)), chunk)
		if int64(cap(buf)-len(buf)) < want {
			nb := make([]byte, len(buf), min(n, max(2*int64(cap(buf)), int64(len(buf))+want)))
			copy(nb, buf)
			buf = nb
		}
		got, err := io.ReadFull(r, buf[len(buf):len(buf)+int(want)])
		buf = buf[:len(buf)+got]
		if err != nil {
			return nil, fmt.Errorf("data end after %d of %d bytes: %w", len(buf), n, noEOF(err))
		}
	}
	var one [1]byte
	if k, err := r.Read(one[:]); k > 0 || (err != nil && !errors.Is(err, io.EOF)) {
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("after %d bytes of data: %w", n, err)
		}
		return nil, fmt.Errorf("unexpected data after the %d bytes the header announces", n)
	}
	return buf, nil
}

// noEOF turns a bare io.EOF into io.ErrUnexpectedEOF (the input was cut
// short, not cleanly finished).
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
