//go:build amd64

package optim

//go:noescape
func sampleStdAVX512(dst, w, e, sd *float32, n int)

//go:noescape
func perturbAVX512(point, w, gr, rs, habs *float32, n int, first int)

//go:noescape
func sdrsAVX512(sd, rs, s *float32, n int, nd, rhoN float32)

//go:noescape
func bsamUpdateAVX512(w, gm, s, sd, gsum, gt, habs *float32, n int, c *bsamCoef[float32])

//go:noescape
func addToAVX512(sum, x *float32, n int)

//go:noescape
func scaleAddAVX512(dst, w, gr *float32, n int, a float32)

// The vec* functions run the AVX-512 kernel on the first n&^15 values of
// equal-length float32 slices and return how many they handled (0 without
// AVX-512); the caller's Go loop does the rest.

func vecSampleStd(dst, w, e, sd []float32) int {
	n := len(dst) &^ 15
	if !useAVX512 || n == 0 {
		return 0
	}
	sampleStdAVX512(&dst[0], &w[0], &e[0], &sd[0], n)
	return n
}

func vecPerturb(point, w, g, rs, habs []float32, first bool) int {
	n := len(point) &^ 15
	if !useAVX512 || n == 0 {
		return 0
	}
	f := 0
	if first {
		f = 1
	}
	perturbAVX512(&point[0], &w[0], &g[0], &rs[0], &habs[0], n, f)
	return n
}

func vecSdRs(sd, rs, s []float32, nd, rhoN float32) int {
	n := len(sd) &^ 15
	if !useAVX512 || n == 0 {
		return 0
	}
	sdrsAVX512(&sd[0], &rs[0], &s[0], n, nd, rhoN)
	return n
}

func vecBSAMUpdate(w, gm, s, sd, gsum, gt, habs []float32, c *bsamCoef[float32]) int {
	n := len(w) &^ 15
	if !useAVX512 || n == 0 {
		return 0
	}
	bsamUpdateAVX512(&w[0], &gm[0], &s[0], &sd[0], &gsum[0], &gt[0], &habs[0], n, c)
	return n
}

func vecAddTo(sum, x []float32) int {
	n := len(sum) &^ 15
	if !useAVX512 || n == 0 {
		return 0
	}
	addToAVX512(&sum[0], &x[0], n)
	return n
}

func vecScaleAdd(dst, w, g []float32, a float32) int {
	n := len(dst) &^ 15
	if !useAVX512 || n == 0 {
		return 0
	}
	scaleAddAVX512(&dst[0], &w[0], &g[0], n, a)
	return n
}

//go:noescape
func sumSquaresAVX512(x *float32, n int, part *[16]float64)

func vecSumSquares(x []float32, part *[16]float64) int {
	n := len(x) &^ 15
	if !useAVX512 || n == 0 {
		return 0
	}
	sumSquaresAVX512(&x[0], n, part)
	return n
}
