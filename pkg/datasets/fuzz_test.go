package datasets

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"strings"
	"testing"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// Fuzz targets: malformed input must give an error, never a panic, and
// accepted input must be self-consistent.

func FuzzIDX(f *testing.F) {
	f.Add(idxBytes(2051, []uint32{2, 2, 3}, make([]byte, 12)))
	f.Add(idxBytes(2049, []uint32{3}, []byte{1, 2, 3}))
	f.Add(gz(f, idxBytes(2051, []uint32{1, 1, 1}, []byte{9})))
	f.Add(idxBytes(2051, []uint32{0xffffffff, 0xffff, 0xffff}, nil))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		n, shape, pix, err := ReadIDXImages(bytes.NewReader(data))
		if err == nil && len(pix) != n*shape.Size() {
			t.Fatalf("accepted %d images of %v with %d pixels", n, shape, len(pix))
		}
		labels, err := ReadIDXLabels(bytes.NewReader(data))
		if err == nil && len(data) < 8+len(labels) {
			t.Fatalf("accepted %d labels from %d bytes", len(labels), len(data))
		}
	})
}

func FuzzCIFAR(f *testing.F) {
	// The first byte selects the format: even CIFAR-10, odd CIFAR-100.
	f.Add(append([]byte{0}, cifarRecord([]byte{3}, 0)...))
	f.Add(append([]byte{1}, cifarRecord([]byte{1, 99}, 0)...))
	f.Add([]byte{0})
	f.Add(make([]byte, 3076))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		labelBytes, classes := 1, 10
		if data[0]%2 == 1 {
			labelBytes, classes = 2, 100
		}
		data = data[1:]
		s, err := ReadCIFAR(bytes.NewReader(data), labelBytes, classes)
		if err != nil {
			return
		}
		if len(data) != s.N*(labelBytes+3072) {
			t.Fatalf("accepted %d records from %d bytes", s.N, len(data))
		}
		if err := s.check(classes); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzTinyImageNetAnnotations(f *testing.F) {
	f.Add("val_0.JPEG\tn01443537\t0\t32\t44\t62\n", "n01443537\nn01629819\n")
	f.Add("\t\t\n\r\n", "a")
	f.Add("x\ty\nx\ty\n", "y\n y \n")
	f.Fuzz(func(t *testing.T, ann, wnids string) {
		ids, err := ReadWNIDs(strings.NewReader(wnids))
		if err != nil {
			return
		}
		labels := map[string]int32{}
		for i, w := range ids {
			labels[w] = int32(i)
		}
		got, err := ReadValAnnotations(strings.NewReader(ann), labels)
		if err != nil {
			return
		}
		for _, a := range got {
			if ids[a.Label] != a.WNID || a.File == "" || strings.ContainsAny(a.File, "/\\") {
				t.Fatalf("bad annotation %+v", a)
			}
		}
	})
}

func FuzzCache(f *testing.F) {
	d := &decoded{Classes: []string{"a", "b"},
		Train: &Split{N: 2, Shape: nn.Shape{H: 1, W: 2, C: 1}, Images: []uint8{1, 2, 3, 4}, Labels: []int32{0, 1}},
		Test:  &Split{N: 1, Shape: nn.Shape{H: 1, W: 2, C: 1}, Images: []uint8{5, 6}, Labels: []int32{1}}}
	path := f.TempDir() + "/seed.bsd"
	if err := writeCache(path, "k", d); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)-4])
	f.Add([]byte(cacheMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		// As given, and with a valid checksum appended so the fuzzer gets
		// past it to the header and the splits.
		fixed := binary.LittleEndian.AppendUint32(append([]byte{}, data...), crc32.Checksum(data, castagnoli))
		for _, in := range [][]byte{data, fixed} {
			got, err := parseCache(in, "")
			if err != nil {
				continue
			}
			for _, s := range []*Split{got.Train, got.Test} {
				if len(s.Images) != s.N*s.Shape.Size() || len(s.Labels) != s.N {
					t.Fatalf("inconsistent split %+v", s)
				}
			}
		}
	})
}

func FuzzDecodeImage(f *testing.F) {
	f.Add(tinyPNG(f, 3))
	f.Add([]byte("\xff\xd8\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		pix, w, h, err := decodeImage(data, 3)
		if err == nil && len(pix) != w*h*3 {
			t.Fatalf("%d values for %d×%d", len(pix), w, h)
		}
	})
}
