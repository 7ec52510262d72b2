//go:build !amd64

package optim

// Without a vector path the vec* functions handle nothing.

func vecSampleStd(dst, w, e, sd []float32) int                                       { return 0 }
func vecPerturb(point, w, g, rs, habs []float32, first bool) int                     { return 0 }
func vecSdRs(sd, rs, s []float32, nd, rhoN float32) int                              { return 0 }
func vecBSAMUpdate(w, gm, s, sd, gsum, gt, habs []float32, c *bsamCoef[float32]) int { return 0 }
func vecAddTo(sum, x []float32) int                                                  { return 0 }
func vecScaleAdd(dst, w, g []float32, a float32) int                                 { return 0 }

func vecSumSquares(x []float32, part *[16]float64) int { return 0 }
