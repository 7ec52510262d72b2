package datasets

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyPNG returns a 64×64 PNG whose pixel (x, y) is (id, x, y); id tells
// the images apart.
func tinyPNG(t testing.TB, id uint8) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			img.Set(x, y, color.NRGBA{id, uint8(x), uint8(y), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeTinyImageNet writes a miniature tiny-imagenet-200 tree in the
// canonical layout (SPEC §9) with the wnids in file order given, nTrain
// images per class and the validation images val (file → wnid, image id).
// Image files are named .JPEG as in the archive; they hold PNG data so
// pixel values can be checked exactly (the decoder sniffs the format).
func writeTinyImageNet(t testing.TB, root string, wnids []string, nTrain int, val [][3]string) string {
	t.Helper()
	dir := filepath.Join(root, "tiny-imagenet-200")
	w := func(rel string, data []byte) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w("wnids.txt", []byte(strings.Join(wnids, "\n")+"\n"))
	w("words.txt", []byte("n00000001\tthing\n"))
	for c, wn := range wnids {
		var boxes strings.Builder
		for i := range nTrain {
			name := fmt.Sprintf("%s_%d.JPEG", wn, i)
			w("train/"+wn+"/images/"+name, tinyPNG(t, uint8(16*c+i)))
			fmt.Fprintf(&boxes, "%s\t0\t0\t63\t63\n", name)
		}
		w("train/"+wn+"/"+wn+"_boxes.txt", []byte(boxes.String()))
	}
	var ann strings.Builder
	for _, v := range val {
		var id int
		fmt.Sscan(v[2], &id)
		w("val/images/"+v[0], tinyPNG(t, uint8(id)))
		fmt.Fprintf(&ann, "%s\t%s\t1\t2\t60\t61\n", v[0], v[1])
	}
	w("val/val_annotations.txt", []byte(ann.String()))
	w("test/images/test_0.JPEG", tinyPNG(t, 255))
	return dir
}

func TestLoadTinyImageNet(t *testing.T) {
	// wnids.txt is not sorted; labels follow the sorted order: nA=0, nB=1, nC=2.
	wnids := []string{"nC", "nA", "nB"}
	val := [][3]string{{"val_0.JPEG", "nB", "200"}, {"val_1.JPEG", "nA", "201"}, {"val_2.JPEG", "nB", "202"}, {"val_3.JPEG", "nC", "203"}}
	root := t.TempDir()
	writeTinyImageNet(t, root, wnids, 3, val)
	cache := t.TempDir()
	ds, err := Load(t.Context(), "tinyimagenet", Options{Dir: root, CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Classes != 3 || strings.Join(ds.ClassNames, ",") != "nA,nB,nC" || ds.Train.N != 9 || ds.Test.N != 4 {
		t.Fatalf("classes %d %v, train %d, test %d", ds.Classes, ds.ClassNames, ds.Train.N, ds.Test.N)
	}
	// Train: by sorted class, then file name. Class nA was written second
	// (c = 1 in the file order), so its images carry ids 16..18.
	wantTrainID := []uint8{16, 17, 18, 32, 33, 34, 0, 1, 2}
	for i, id := range wantTrainID {
		if ds.Train.Labels[i] != int32(i/3) || ds.Train.Image(i)[0] != id {
			t.Fatalf("train %d: label %d id %d, want %d %d", i, ds.Train.Labels[i], ds.Train.Image(i)[0], i/3, id)
		}
	}
	// Test: by class, then file: val_1 (nA), val_0, val_2 (nB), val_3 (nC).
	wantTestID := []uint8{201, 200, 202, 203}
	wantTestLab := []int32{0, 1, 1, 2}
	for i := range wantTestID {
		if ds.Test.Labels[i] != wantTestLab[i] || ds.Test.Image(i)[0] != wantTestID[i] {
			t.Fatalf("test %d: label %d id %d, want %d %d", i, ds.Test.Labels[i], ds.Test.Image(i)[0], wantTestLab[i], wantTestID[i])
		}
	}
	img := ds.Test.Image(3)
	if o := (10*64 + 20) * 3; img[o+1] != 20 || img[o+2] != 10 {
		t.Fatalf("pixel (x=20, y=10) = %v, want (203, 20, 10)", img[o:o+3])
	}
	if ds.Norm.Mean[0] != 0.485 || ds.Norm.Std[2] != 0.225 || !ds.DropLastTrain || !ds.Augmentable {
		t.Errorf("TinyImageNet policy %+v", ds)
	}
	// Second load comes from the cache.
	if files, _ := filepath.Glob(filepath.Join(cache, "tinyimagenet-*.bsd")); len(files) != 1 {
		t.Fatalf("cache files %v", files)
	}
	ds2, err := Load(t.Context(), "tinyimagenet", Options{Dir: root, CacheDir: cache})
	if err != nil || !bytes.Equal(ds2.Train.Images, ds.Train.Images) || !bytes.Equal(ds2.Test.Images, ds.Test.Images) {
		t.Fatalf("cached load: %v", err)
	}
}

func TestLoadTinyImageNetLayouts(t *testing.T) {
	wnids := []string{"nA", "nB"}
	val := [][3]string{{"val_0.JPEG", "nB", "9"}, {"val_1.JPEG", "nA", "8"}}
	// Reorganised validation folder (setup_tinyimagenet.py moved the files
	// into val/images/<wnid>/) and one grayscale JPEG among the training images.
	root := t.TempDir()
	dir := writeTinyImageNet(t, root, wnids, 2, val)
	for _, v := range val {
		os.MkdirAll(filepath.Join(dir, "val", "images", v[1]), 0o755)
		if err := os.Rename(filepath.Join(dir, "val", "images", v[0]), filepath.Join(dir, "val", "images", v[1], v[0])); err != nil {
			t.Fatal(err)
		}
	}
	gray := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range gray.Pix {
		gray.Pix[i] = 77
	}
	var jb bytes.Buffer
	jpeg.Encode(&jb, gray, &jpeg.Options{Quality: 100})
	os.WriteFile(filepath.Join(dir, "train", "nB", "images", "nB_1.JPEG"), jb.Bytes(), 0o644)
	ds, err := Load(t.Context(), "tinyimagenet", Options{Dir: root, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Test.N != 2 || ds.Test.Image(0)[0] != 8 || ds.Test.Labels[1] != 1 {
		t.Fatalf("reorganised val: N=%d", ds.Test.N)
	}
	g := ds.Train.Image(3)
	if g[0] != 77 || g[1] != 77 || g[2] != 77 || g[3*64*64-1] != 77 {
		t.Fatalf("grayscale JPEG → RGB: %v", g[:6])
	}
}

func TestLoadTinyImageNetErrors(t *testing.T) {
	wnids := []string{"nA", "nB"}
	val := [][3]string{{"val_0.JPEG", "nB", "9"}}
	tests := []struct {
		name    string
		edit    func(dir string)
		wantErr string
	}{
		{"unknown wnid", func(dir string) {
			os.WriteFile(filepath.Join(dir, "val", "val_annotations.txt"), []byte("val_0.JPEG\tnZ\t0\t0\t1\t1\n"), 0o644)
		}, "val_annotations.txt: line 1: wnid \"nZ\""},
		{"missing val image", func(dir string) { os.Remove(filepath.Join(dir, "val", "images", "val_0.JPEG")) }, "lists val_0.JPEG, but neither"},
		{"missing class", func(dir string) { os.RemoveAll(filepath.Join(dir, "train", "nA")) }, "train/nA"},
		{"duplicate wnid", func(dir string) { os.WriteFile(filepath.Join(dir, "wnids.txt"), []byte("nA\nnB\nnA\n"), 0o644) }, "wnids.txt: line 3: wnid nA repeated"},
		{"wrong size", func(dir string) {
			var b bytes.Buffer
			png.Encode(&b, image.NewGray(image.Rect(0, 0, 32, 32)))
			os.WriteFile(filepath.Join(dir, "train", "nB", "images", "nB_0.JPEG"), b.Bytes(), 0o644)
		}, "nB_0.JPEG is 32×32"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			tc.edit(writeTinyImageNet(t, root, wnids, 1, val))
			_, err := Load(t.Context(), "tinyimagenet", Options{Dir: root, NoCache: true})
			if err == nil || !strings.Contains(filepath.ToSlash(err.Error()), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestReadValAnnotations(t *testing.T) {
	labels := map[string]int32{"n1": 0, "n2": 1}
	tests := []struct {
		name    string
		in      string
		want    []ValAnnotation
		wantErr string
	}{
		{"canonical", "val_0.JPEG\tn2\t0\t32\t44\t62\nval_1.JPEG\tn1\t52\t37\t63\t63\n",
			[]ValAnnotation{{"val_0.JPEG", "n2", 1}, {"val_1.JPEG", "n1", 0}}, ""},
		{"CRLF and blank lines", "val_0.JPEG\tn1\t0\t0\t1\t1\r\n\n", []ValAnnotation{{"val_0.JPEG", "n1", 0}}, ""},
		{"no tab", "val_0.JPEG n1 0 0 1 1\n", nil, "line 1: 1 tab-separated"},
		{"path escape", "../x.JPEG\tn1\n", nil, "bad file name"},
		{"duplicate", "a\tn1\na\tn2\n", nil, "line 2: file a annotated twice"},
	}
	for _, tc := range tests {
		got, err := ReadValAnnotations(strings.NewReader(tc.in), labels)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err = %v, want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Fatalf("%s: %v, %v", tc.name, got, err)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
	}
}
