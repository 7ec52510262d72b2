package kernels

// gemmGeneric is the portable blocked implementation: op(B) is packed into
// gKC×gNR strips (scaled by alpha), op(A) into gMR×gKC strips, and a 2×4
// register tile in Go computes each piece of C. Preconditions (checked by
// Gemm): m, n, k > 0, alpha != 0, slices long enough.
func gemmGeneric[T ~float32 | ~float64](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	s := getScratch()
	defer putScratch(s)
	mem := view[T](s)
	bpan := mem[:gKC*gNC]
	apan := mem[gKC*gNC : gKC*gNC+gMC*gKC]

	for jc := 0; jc < n; jc += gNC {
		nc := min(gNC, n-jc)
		for pc := 0; pc < k; pc += gKC {
			kc := min(gKC, k-pc)
			packBGeneric(transB, kc, nc, alpha, b, ldb, pc, jc, bpan)
			betaEff, load := T(1), true
			if pc == 0 {
				betaEff, load = beta, beta != 0
			}
			for ic := 0; ic < m; ic += gMC {
				mc := min(gMC, m-ic)
				packAGeneric(transA, mc, kc, a, lda, ic, pc, apan)
				for jr := 0; jr < nc; jr += gNR {
					w := min(gNR, nc-jr)
					bp := bpan[jr*kc : jr*kc+gNR*kc]
					for ir := 0; ir < mc; ir += gMR {
						h := min(gMR, mc-ir)
						ap := apan[ir*kc : ir*kc+gMR*kc]
						t := kernelGo(kc, ap, bp)
						for r := 0; r < h; r++ {
							row := c[(ic+ir+r)*ldc+jc+jr : (ic+ir+r)*ldc+jc+jr+w]
							if load {
								for j := range row {
									row[j] = t[r*gNR+j] + betaEff*row[j]
								}
							} else {
								for j := range row {
									row[j] = t[r*gNR+j]
								}
							}
						}
					}
				}
			}
		}
	}
}

// kernelGo returns the gMR×gNR tile Σ_p a[p·gMR+r]·b[p·gNR+j]. The 2×4
// tile keeps its 8 accumulators and 6 operands in the 16 SSE registers the
// Go compiler uses; larger tiles spill.
func kernelGo[T ~float32 | ~float64](kc int, a, b []T) [gMR * gNR]T {
	var c00, c01, c02, c03, c10, c11, c12, c13 T
	a = a[:kc*gMR]
	b = b[:kc*gNR]
	for p := 0; p < kc; p++ {
		av := a[p*gMR : p*gMR+gMR : p*gMR+gMR]
		bv := b[p*gNR : p*gNR+gNR : p*gNR+gNR]
		b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
		a0, a1 := av[0], av[1]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	return [gMR * gNR]T{c00, c01, c02, c03, c10, c11, c12, c13}
}

// packBGeneric packs alpha·op(B)[pc:pc+kc, jc:jc+nc] into gNR-wide strips,
// each kc×gNR row-major and zero-padded on the right.
func packBGeneric[T ~float32 | ~float64](transB bool, kc, nc int, alpha T, b []T, ldb, pc, jc int, dst []T) {
	for j0 := 0; j0 < nc; j0 += gNR {
		w := min(gNR, nc-j0)
		d := dst[j0*kc : j0*kc+gNR*kc]
		if w < gNR {
			clear(d)
		}
		if transB {
			for j := 0; j < w; j++ {
				src := b[(jc+j0+j)*ldb+pc : (jc+j0+j)*ldb+pc+kc]
				for p, v := range src {
					d[p*gNR+j] = alpha * v
				}
			}
			continue
		}
		for p := 0; p < kc; p++ {
			src := b[(pc+p)*ldb+jc+j0 : (pc+p)*ldb+jc+j0+w]
			dp := d[p*gNR : p*gNR+w]
			for j, v := range src {
				dp[j] = alpha * v
			}
		}
	}
}

// packAGeneric packs op(A)[ic:ic+mc, pc:pc+kc] into gMR-row strips, each
// kc×gMR (element (r, p) at p·gMR+r) and zero-padded at the bottom.
func packAGeneric[T ~float32 | ~float64](transA bool, mc, kc int, a []T, lda, ic, pc int, dst []T) {
	for i0 := 0; i0 < mc; i0 += gMR {
		h := min(gMR, mc-i0)
		d := dst[i0*kc : i0*kc+gMR*kc]
		if h < gMR {
			clear(d)
		}
		if transA {
			for p := 0; p < kc; p++ {
				copy(d[p*gMR:p*gMR+h], a[(pc+p)*lda+ic+i0:(pc+p)*lda+ic+i0+h])
			}
			continue
		}
		for r := 0; r < h; r++ {
			src := a[(ic+i0+r)*lda+pc : (ic+i0+r)*lda+pc+kc]
			for p, v := range src {
				d[p*gMR+r] = v
			}
		}
	}
}
