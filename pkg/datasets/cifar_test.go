package datasets

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// cifarRecord builds one canonical binary record: label bytes, then the R,
// G and B planes, where plane c holds value (seed + 3·i + c) mod 256 at
// position i.
func cifarRecord(labels []byte, seed int) []byte {
	rec := append([]byte{}, labels...)
	for c := range 3 {
		for i := range 1024 {
			rec = append(rec, byte(seed+3*i+c))
		}
	}
	return rec
}

func TestReadCIFAR(t *testing.T) {
	two := append(cifarRecord([]byte{7}, 0), cifarRecord([]byte{2}, 100)...)
	tests := []struct {
		name       string
		data       []byte
		labelBytes int
		classes    int
		wantLabels []int32
		wantErr    string
	}{
		{"cifar10 two records", two, 1, 10, []int32{7, 2}, ""},
		{"cifar100 fine label", cifarRecord([]byte{3, 42}, 5), 2, 100, []int32{42}, ""},
		{"cifar100 fine out of range", cifarRecord([]byte{3, 100}, 5), 2, 100, nil, "label 100"},
		{"cifar10 label 10", cifarRecord([]byte{10}, 0), 1, 10, nil, "record 0: label 10"},
		{"truncated", two[:len(two)-1], 1, 10, nil, "record 1 is cut short: 3072 of 3073"},
		{"empty", nil, 1, 10, nil, "no records"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ReadCIFAR(bytes.NewReader(tc.data), tc.labelBytes, tc.classes)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.N != len(tc.wantLabels) || s.Shape != cifarShape {
				t.Fatalf("N=%d shape %v", s.N, s.Shape)
			}
			for i, y := range tc.wantLabels {
				if s.Labels[i] != y {
					t.Fatalf("labels %v, want %v", s.Labels, tc.wantLabels)
				}
			}
			// Interleaving: pixel (y, x) channel c of record 0 comes from plane c
			// at index 32y + x.
			seed := 0
			if tc.labelBytes == 2 {
				seed = 5
			}
			img := s.Image(0)
			for _, p := range [][3]int{{0, 0, 0}, {0, 1, 2}, {5, 7, 1}, {31, 31, 2}} {
				y, x, c := p[0], p[1], p[2]
				want := byte(seed + 3*(32*y+x) + c)
				if got := img[(32*y+x)*3+c]; got != want {
					t.Errorf("pixel (%d,%d,%d) = %d, want %d", y, x, c, got, want)
				}
			}
		})
	}
}

func writeCIFAR10Dir(t *testing.T, root string, perBatch int) {
	t.Helper()
	dir := filepath.Join(root, "cifar-10-batches-bin")
	os.MkdirAll(dir, 0o755)
	names := []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"}
	for f, name := range names {
		var b []byte
		for k := range perBatch {
			b = append(b, cifarRecord([]byte{byte((f + k) % 10)}, 10*f+k)...)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadCIFAR10(t *testing.T) {
	root := t.TempDir()
	writeCIFAR10Dir(t, root, 3)
	ds, err := Load(t.Context(), "cifar10", Options{Dir: root})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.N != 15 || ds.Test.N != 3 || ds.Classes != 10 || ds.ClassNames[0] != "airplane" || ds.ClassNames[9] != "truck" {
		t.Fatalf("train %d test %d classes %d %v", ds.Train.N, ds.Test.N, ds.Classes, ds.ClassNames)
	}
	// Batches are concatenated in order 1..5: example 3·f + k is record k of batch f.
	for i := range 15 {
		f, k := i/3, i%3
		if ds.Train.Labels[i] != int32((f+k)%10) || ds.Train.Image(i)[0] != byte(10*f+k) {
			t.Fatalf("train example %d: label %d red %d", i, ds.Train.Labels[i], ds.Train.Image(i)[0])
		}
	}
	if ds.Test.Image(2)[0] != 52 || ds.Test.Labels[2] != 7 {
		t.Fatalf("test example 2: red %d label %d", ds.Test.Image(2)[0], ds.Test.Labels[2])
	}
	if !ds.DropLastTrain || !ds.Augmentable || ds.Norm.Mean[0] != 0.4914 || ds.Norm.Std[2] != 0.2010 {
		t.Errorf("CIFAR-10 policy %+v", ds)
	}
	os.Remove(filepath.Join(root, "cifar-10-batches-bin", "data_batch_4.bin"))
	if _, err := Load(t.Context(), "cifar10", Options{Dir: root}); err == nil || !strings.Contains(err.Error(), "data_batch_4.bin") {
		t.Fatalf("missing batch: err = %v", err)
	}
}

func TestLoadCIFAR100(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cifar-100-binary")
	os.MkdirAll(dir, 0o755)
	var train, test []byte
	for k := range 4 {
		train = append(train, cifarRecord([]byte{byte(k), byte(99 - k)}, k)...)
	}
	test = cifarRecord([]byte{19, 55}, 9)
	os.WriteFile(filepath.Join(dir, "train.bin"), train, 0o644)
	os.WriteFile(filepath.Join(dir, "test.bin"), test, 0o644)
	ds, err := Load(t.Context(), "cifar100", Options{Dir: root})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Classes != 100 || ds.Train.N != 4 || ds.Test.N != 1 || ds.Train.Labels[1] != 98 || ds.Test.Labels[0] != 55 {
		t.Fatalf("classes %d train %d test %d labels %v %v", ds.Classes, ds.Train.N, ds.Test.N, ds.Train.Labels, ds.Test.Labels)
	}
	if ds.ClassNames[55] != "otter" || ds.Norm.Mean[1] != 0.4865 {
		t.Fatalf("class 55 = %s, norm %v", ds.ClassNames[55], ds.Norm)
	}
	// fine_label_names.txt, when present, names the classes.
	var names []string
	for i := range 100 {
		names = append(names, fmt.Sprintf("c%03d", i))
	}
	os.WriteFile(filepath.Join(dir, "fine_label_names.txt"), []byte(strings.Join(names, "\n")+"\n"), 0o644)
	ds, err = Load(t.Context(), "cifar100", Options{Dir: root})
	if err != nil || ds.ClassNames[55] != "c055" {
		t.Fatalf("names from file: %v, %v", err, ds)
	}
	os.WriteFile(filepath.Join(dir, "fine_label_names.txt"), []byte("a\nb\n"), 0o644)
	if _, err := Load(t.Context(), "cifar100", Options{Dir: root}); err == nil || !strings.Contains(err.Error(), "fine_label_names.txt lists 2") {
		t.Fatalf("short names file: err = %v", err)
	}
}

func TestCIFAR100NamesSorted(t *testing.T) {
	// The canonical fine label names are the 100 class names in
	// alphabetical order.
	if len(cifar100FineNames) != 100 || !sort.StringsAreSorted(cifar100FineNames) {
		t.Fatalf("%d names, sorted %v", len(cifar100FineNames), sort.StringsAreSorted(cifar100FineNames))
	}
	if !sort.StringsAreSorted(cifar10Name) {
		t.Fatal("CIFAR-10 names not in alphabetical (label) order")
	}
}

func TestLoadOptions(t *testing.T) {
	if _, err := Load(t.Context(), "svhn", Options{}); err == nil || !strings.Contains(err.Error(), "unknown dataset") {
		t.Fatalf("unknown name: err = %v", err)
	}
	if _, err := Load(t.Context(), "cifar10", Options{}); err == nil || !strings.Contains(err.Error(), "Ensure") {
		t.Fatalf("no dir: err = %v", err)
	}
	root := t.TempDir()
	writeCIFAR10Dir(t, root, 2)
	var asked string
	ensure := func(ctx context.Context, name string) (string, error) { asked = name; return root, nil }
	ds, err := Load(t.Context(), "CIFAR10", Options{Ensure: ensure})
	if err != nil || asked != "cifar10" || ds.Train.N != 10 {
		t.Fatalf("Options.Ensure: err %v, asked %q", err, asked)
	}
	old := Ensure
	Ensure = func(ctx context.Context, name string) (string, error) { return "", fmt.Errorf("offline") }
	defer func() { Ensure = old }()
	if _, err := Load(t.Context(), "cifar10", Options{}); err == nil || !strings.Contains(err.Error(), "offline") {
		t.Fatalf("package Ensure: err = %v", err)
	}
	for _, n := range []string{"fashion", "FashionMNIST", "fmnist"} {
		if info, err := Lookup(n); err != nil || info.Name != "fmnist" || info.ClassNames[9] != "Ankle boot" {
			t.Fatalf("Lookup(%q) = %v, %v", n, info, err)
		}
	}
}

func TestSubset(t *testing.T) {
	// Labels 0 1 2 0 1 2 0 0 1 …; red channel = example index.
	labels := []int32{0, 1, 2, 0, 1, 2, 0, 0, 1, 1}
	s := rampSplit(len(labels), cifarShape, 3)
	copy(s.Labels, labels)
	for i := range s.N {
		s.Image(i)[0] = byte(i)
	}
	tests := []struct {
		n    int
		want []int // kept example indices
	}{
		{3, []int{0, 1, 2}},
		{5, []int{0, 1, 2, 3, 4}},
		{7, []int{0, 1, 2, 3, 4, 5, 6}},
		// 8 → quotas 3,3,2; class 2 has only 2 examples.
		{8, []int{0, 1, 2, 3, 4, 5, 6, 8}},
		{9, []int{0, 1, 2, 3, 4, 5, 6, 8}},
		{10, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
	}
	for _, tc := range tests {
		sub := s.Subset(tc.n, 3)
		if sub.N != len(tc.want) {
			t.Fatalf("Subset(%d): N=%d, want %d", tc.n, sub.N, len(tc.want))
		}
		for k, i := range tc.want {
			if sub.Image(k)[0] != byte(i) || sub.Labels[k] != labels[i] {
				t.Fatalf("Subset(%d) example %d is %d (label %d), want %d", tc.n, k, sub.Image(k)[0], sub.Labels[k], i)
			}
		}
	}
}
