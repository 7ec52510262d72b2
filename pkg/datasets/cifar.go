package datasets

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// CIFAR binary record layout (SPEC §9): label byte(s), then 3072 pixel bytes
// as three 32×32 planes (R, G, B), each row-major.
const (
	cifarPlane  = 32 * 32
	cifarPixels = 3 * cifarPlane
)

var cifarShape = nn.Shape{H: 32, W: 32, C: 3}

// ReadCIFAR reads CIFAR binary records from r. labelBytes is 1 for
// CIFAR-10 (label byte, 3073-byte records) and 2 for CIFAR-100 (coarse
// byte, fine byte, 3074-byte records; the fine label is kept). Labels must
// be below classes. The pixels are returned interleaved as 32×32×3 (NHWC).
// The input must be a whole number of records; empty input is an error.
func ReadCIFAR(r io.Reader, labelBytes, classes int) (*Split, error) {
	rec := labelBytes + cifarPixels
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 1<<16)
	}
	buf := make([]byte, rec)
	s := &Split{Shape: cifarShape}
	for {
		n, err := io.ReadFull(br, buf)
		if err == io.EOF {
			break
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("record %d is cut short: %d of %d bytes", s.N, n, rec)
		}
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", s.N, err)
		}
		y := int32(buf[labelBytes-1])
		if int(y) >= classes {
			return nil, fmt.Errorf("record %d: label %d is not below %d", s.N, y, classes)
		}
		s.Labels = append(s.Labels, y)
		s.Images = append(s.Images, make([]uint8, cifarPixels)...)
		planarToInterleaved(s.Images[s.N*cifarPixels:], buf[labelBytes:])
		s.N++
	}
	if s.N == 0 {
		return nil, fmt.Errorf("no records")
	}
	return s, nil
}

// planarToInterleaved converts one CIFAR image from R,G,B planes to HWC.
func planarToInterleaved(dst, src []uint8) {
	r, g, b := src[:cifarPlane], src[cifarPlane:2*cifarPlane], src[2*cifarPlane:3*cifarPlane]
	for i := range cifarPlane {
		dst[3*i] = r[i]
		dst[3*i+1] = g[i]
		dst[3*i+2] = b[i]
	}
}

// readCIFARFiles concatenates the records of several binary files.
func readCIFARFiles(paths []string, labelBytes, classes int) (*Split, error) {
	out := &Split{Shape: cifarShape}
	for _, p := range paths {
		var s *Split
		if err := withFile(p, func(r io.Reader) (err error) {
			s, err = ReadCIFAR(r, labelBytes, classes)
			return
		}); err != nil {
			return nil, err
		}
		out.N += s.N
		out.Images = append(out.Images, s.Images...)
		out.Labels = append(out.Labels, s.Labels...)
	}
	return out, nil
}

// LoadCIFAR10Dir reads cifar-10-batches-bin: data_batch_1..5.bin (train)
// and test_batch.bin (test).
func LoadCIFAR10Dir(dir string) (train, test *Split, err error) {
	var tr []string
	for i := 1; i <= 5; i++ {
		tr = append(tr, filepath.Join(dir, fmt.Sprintf("data_batch_%d.bin", i)))
	}
	if train, err = readCIFARFiles(tr, 1, 10); err != nil {
		return nil, nil, err
	}
	if test, err = readCIFARFiles([]string{filepath.Join(dir, "test_batch.bin")}, 1, 10); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// LoadCIFAR100Dir reads cifar-100-binary: train.bin and test.bin with the
// fine labels, and the class names from fine_label_names.txt when present
// (nil otherwise).
func LoadCIFAR100Dir(dir string) (train, test *Split, names []string, err error) {
	if train, err = readCIFARFiles([]string{filepath.Join(dir, "train.bin")}, 2, 100); err != nil {
		return nil, nil, nil, err
	}
	if test, err = readCIFARFiles([]string{filepath.Join(dir, "test.bin")}, 2, 100); err != nil {
		return nil, nil, nil, err
	}
	p := filepath.Join(dir, "fine_label_names.txt")
	if b, rerr := os.ReadFile(p); rerr == nil {
		names = strings.Fields(string(b))
		if len(names) != 100 {
			return nil, nil, nil, fmt.Errorf("datasets: %s lists %d class names, want 100", p, len(names))
		}
	}
	return train, test, names, nil
}

// cifar100FineNames are the CIFAR-100 fine label names in label order
// (fine_label_names.txt of the binary release).
var cifar100FineNames = []string{
	"apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
	"bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
	"chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
	"dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
	"lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
	"mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
	"plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
	"rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
	"squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
	"train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
}
