//go:build amd64

package kernels

import "golang.org/x/sys/cpu"

var (
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX512 = cpu.X86.HasAVX512F && hasAVX2
)

// The assembly micro-kernels compute the MR×NR tile
//
//	acc[r][j] = Σ_{p<k} A(r, p)·b[p·NR+j]
//
// where A(r, p) is the float32 at a + r·rs + p·ks (byte strides, so A may be
// a packed strip, rs = 4, ks = 4·MR, or a matrix in place) and b is a packed
// k×NR strip. They then store C[r][j] = acc (load == 0) or
// C[r][j] = acc + beta·C[r][j] (load != 0), rows ldc bytes apart.

//go:noescape
func sgemmKernel12x32AVX512(k int, a *float32, rs, ks int, b, c *float32, ldc int, beta float32, load int)

//go:noescape
func sgemmKernel12x16AVX512(k int, a *float32, rs, ks int, b, c *float32, ldc int, beta float32, load int)

// sgemmSumKernel12x16AVX512 sums terms ≥ 1 products A_t·B_t (A_t = ap[t],
// B_t = bp[t]) into one 12×16 tile of C with the bits of one
// sgemmKernel12x16AVX512 call per term (see the assembly).
//
//go:noescape
func sgemmSumKernel12x16AVX512(terms, k int, ap, bp **float32, rs, ks int, c *float32, ldc int)

//go:noescape
func packRows32(dst, src *float32, kc, ldb int)

//go:noescape
func packRows16(dst, src *float32, kc, ldb int)

//go:noescape
func packT12(dst, src *float32, kc, lda int)

//go:noescape
func sgemmKernel6x16AVX2(k int, a *float32, rs, ks int, b, c *float32, ldc int, beta float32, load int)

// tile returns the register tile (MR, NR) of path p and the narrow NR used
// for a last strip of at most nr/2 columns (equal to NR if there is none).
func tile(p Path) (mr, nr, nrHalf int) {
	if p == PathAVX512 {
		return 12, 32, 16
	}
	return 6, 16, 16
}

// sgemmAsm is the blocked float32 driver around the assembly kernels.
// Preconditions (checked by Gemm): m, n, k > 0, alpha != 0, slices long
// enough, p is PathAVX2 or PathAVX512 and supported.
func sgemmAsm(p Path, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmAsmB(p, transA, transB, m, n, k, alpha, a, lda, b, ldb, nil, beta, c, ldc)
}

// sgemmAsmB is sgemmAsm, with op(B) already packed into pre (packSumB's
// layout of one term, for path p and alpha 1) unless pre is nil.
func sgemmAsmB(p Path, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, pre []float32, beta float32, c []float32, ldc int) {
	mr, nr, nrHalf := tile(p)
	s := getScratch()
	defer putScratch(s)
	mem := view[float32](s)
	bpan := mem[:sKC*sNC]
	aedge := mem[sKC*sNC : sKC*sNC+sMR*sKC]
	asliver := mem[sKC*sNC+sMR*sKC : sKC*sNC+2*sMR*sKC]
	tmp := mem[sKC*sNC+2*sMR*sKC : sKC*sNC+2*sMR*sKC+sMR*sNR]

	// A transposed sliver (mr columns of a k×m matrix) read in place spans
	// kc cache lines lda apart, which can alias in L1; when it is reused
	// across more than two strips of B, it is packed first.
	packTrans := transA && n > 2*nr

	// A is read in place by the micro-kernels (they prefetch ahead), which
	// measured faster than repacking it for every shape of interest; only a
	// last strip of fewer than mr rows is packed, zero-padded, into aedge.
	for jc := 0; jc < n; jc += sNC {
		nc := min(sNC, n-jc)
		for pc := 0; pc < k; pc += sKC {
			kc := min(sKC, k-pc)
			// A B of one full strip width whose rows are contiguous is
			// already in packed layout (the skinny N = 16, 32 products of
			// convolution weight gradients): the kernels read it in place.
			bstrips := bpan
			if pre != nil {
				bstrips = pre[jc*k+pc*stripsWidth(nc, nr, nrHalf):]
			} else if !transB && alpha == 1 && ldb == n && (n == nr || n == nrHalf) {
				bstrips = b[pc*ldb : (pc+kc)*ldb]
			} else {
				packBF32(transB, kc, nc, nr, nrHalf, alpha, b, ldb, pc, jc, bpan)
			}
			betaEff, load := float32(1), 1
			if pc == 0 {
				betaEff, load = beta, 0
				if beta != 0 {
					load = 1
				}
			}
			for ic := 0; ic < m; ic += sMC {
				mc := min(sMC, m-ic)
				// A last strip of fewer than mr rows is packed once per block.
				if h := mc % mr; h != 0 {
					packAF32(transA, h, kc, mr, a, lda, ic+mc-h, pc, aedge)
				}
				for ir := 0; ir < mc; ir += mr {
					h := min(mr, mc-ir)
					var ap *float32
					var rs, ks int
					switch {
					case h < mr:
						ap, rs, ks = &aedge[0], 4, 4*mr
					case packTrans:
						packAF32(transA, mr, kc, mr, a, lda, ic+ir, pc, asliver)
						ap, rs, ks = &asliver[0], 4, 4*mr
					case transA:
						ap, rs, ks = &a[pc*lda+ic+ir], 4, 4*lda
					default:
						ap, rs, ks = &a[(ic+ir)*lda+pc], 4*lda, 4
					}
					for jr := 0; jr < nc; jr += nr {
						w := min(nr, nc-jr)
						sw := nr
						if w <= nrHalf {
							sw = nrHalf
						}
						bp := &bstrips[jr*kc]
						ci := (ic+ir)*ldc + jc + jr
						if h == mr && w == sw {
							callKernel(p, sw, kc, ap, rs, ks, bp, &c[ci], 4*ldc, betaEff, load)
							continue
						}
						callKernel(p, sw, kc, ap, rs, ks, bp, &tmp[0], 4*sw, 0, 0)
						for r := 0; r < h; r++ {
							row := c[ci+r*ldc : ci+r*ldc+w]
							t := tmp[r*sw : r*sw+w]
							if load != 0 {
								for j := range row {
									row[j] = t[j] + betaEff*row[j]
								}
							} else {
								copy(row, t)
							}
						}
					}
				}
			}
		}
	}
}

// callKernel runs the micro-kernel of path p with tile width nr.
func callKernel(p Path, nr, kc int, a *float32, rs, ks int, b, c *float32, ldc int, beta float32, load int) {
	switch {
	case p == PathAVX512 && nr == 32:
		sgemmKernel12x32AVX512(kc, a, rs, ks, b, c, ldc, beta, load)
	case p == PathAVX512:
		sgemmKernel12x16AVX512(kc, a, rs, ks, b, c, ldc, beta, load)
	default:
		sgemmKernel6x16AVX2(kc, a, rs, ks, b, c, ldc, beta, load)
	}
}

// packBF32 packs alpha·op(B)[pc:pc+kc, jc:jc+nc] into strips of nr columns
// (a last strip of at most nrHalf columns gets width nrHalf), each kc×width
// row-major, zero-padded on the right; strip j0 starts at j0·kc.
func packBF32(transB bool, kc, nc, nr, nrHalf int, alpha float32, b []float32, ldb, pc, jc int, dst []float32) {
	for j0 := 0; j0 < nc; j0 += nr {
		w := min(nr, nc-j0)
		sw := nr
		if w <= nrHalf {
			sw = nrHalf
		}
		d := dst[j0*kc : j0*kc+sw*kc]
		if !transB && alpha == 1 && w == sw && (sw == 32 || sw == 16) {
			// Full-width strip: whole rows in assembly (a per-row copy
			// calls runtime.memmove).
			first := pc*ldb + jc + j0
			_ = b[first+max(kc-1, 0)*ldb+sw-1]
			if sw == 32 {
				packRows32(&d[0], &b[first], kc, ldb)
			} else {
				packRows16(&d[0], &b[first], kc, ldb)
			}
			continue
		}
		if !transB {
			for p := 0; p < kc; p++ {
				src := b[(pc+p)*ldb+jc+j0 : (pc+p)*ldb+jc+j0+w]
				dp := d[p*sw : p*sw+sw]
				if alpha == 1 {
					copy(dp, src)
				} else {
					for j, v := range src {
						dp[j] = alpha * v
					}
				}
				clear(dp[w:])
			}
			continue
		}
		// Bᵀ: gather one element from each of the w source rows per output
		// row, so that the writes are sequential.
		var off [sNR]int
		for j := 0; j < w; j++ {
			off[j] = (jc+j0+j)*ldb + pc
		}
		last := b[:off[w-1]+kc]
		for p := 0; p < kc; p++ {
			dp := d[p*sw : p*sw+sw]
			if alpha == 1 {
				// A plain copy: multiplying denormal values, even by 1,
				// takes a slow microcode path.
				for j, o := range off[:w] {
					dp[j] = last[o+p]
				}
			} else {
				for j, o := range off[:w] {
					dp[j] = alpha * last[o+p]
				}
			}
			clear(dp[w:])
		}
	}
}

// packAF32 packs op(A)[ic:ic+mc, pc:pc+kc] into strips of mr rows, each
// kc×mr (element (r, p) at p·mr+r), zero-padded at the bottom; strip i0
// starts at i0·kc.
func packAF32(transA bool, mc, kc, mr int, a []float32, lda, ic, pc int, dst []float32) {
	for i0 := 0; i0 < mc; i0 += mr {
		h := min(mr, mc-i0)
		d := dst[i0*kc : i0*kc+mr*kc]
		if transA {
			o := pc*lda + ic + i0
			switch {
			case h == 12 && mr == 12:
				// In assembly: a 48-byte array move compiles to a
				// runtime.memmove call per row.
				_ = a[o+max(kc-1, 0)*lda+11]
				_ = d[kc*12-1]
				packT12(&d[0], &a[o], kc, lda)
			case h == 6 && mr == 6:
				for p := 0; p < kc; p, o = p+1, o+lda {
					*(*[6]float32)(d[p*6:]) = [6]float32(a[o:])
				}
			case mr == 12:
				// An edge strip (the weight gradients of 16- and
				// 64-channel layers leave 4 rows): element moves, as
				// copy and clear of a few values per row each call
				// the runtime.
				for p := 0; p < kc; p, o = p+1, o+lda {
					dp := (*[12]float32)(d[p*12:])
					switch h {
					case 4:
						*(*[4]float32)(dp[:]) = [4]float32(a[o:])
						*(*[8]float32)(dp[4:]) = [8]float32{}
					case 8:
						*(*[8]float32)(dp[:]) = [8]float32(a[o:])
						*(*[4]float32)(dp[8:]) = [4]float32{}
					default:
						*dp = [12]float32{}
						for j, v := range a[o : o+h] {
							dp[j] = v
						}
					}
				}
			default:
				for p := 0; p < kc; p, o = p+1, o+lda {
					dp := d[p*mr : p*mr+mr]
					copy(dp, a[o:o+h])
					clear(dp[h:])
				}
			}
			continue
		}
		for r := 0; r < h; r++ {
			src := a[(ic+i0+r)*lda+pc : (ic+i0+r)*lda+pc+kc]
			for p, v := range src {
				d[p*mr+r] = v
			}
		}
		if h < mr {
			for p := 0; p < kc; p++ {
				clear(d[p*mr+h : p*mr+mr])
			}
		}
	}
}

// maxSumTerms is the most terms sgemmSumKernel12x16AVX512 takes in one call
// (a 3×3 convolution has 3 or 9; longer sums run term by term).
const maxSumTerms = 16

// sgemmSumAsm is GemmSum's float32 driver: for each register tile of C it
// runs the terms one after another (the tile stays in L1; a whole 12×16
// tile on AVX-512 stays in registers, all terms in one kernel call), in the
// order and with the rounding of separate Gemm calls. It handles k ≤ sKC (one K
// block, so the order is the same) and reports whether it did the product.
//
// With pre non-nil, B is not read: its terms are already packed there
// (packSumB's layout for path p), so no panel needs the scratch and a
// k > sKC product runs as the separate products it stands for.
func sgemmSumAsm(p Path, m, n, k int, a []float32, lda int, aoff []int, b []float32, ldb int, pre []float32, c []float32, ldc int) bool {
	S := len(aoff)
	mr, nr, nrHalf := tile(p)
	nPad := stripsWidth(n, nr, nrHalf)
	if k > sKC {
		if pre == nil {
			return false
		}
		for t, o := range aoff {
			beta := float32(1)
			if t == 0 {
				beta = 0
			}
			sgemmAsmB(p, false, false, m, n, k, 1, a[o:], lda, nil, 0, pre[t*k*nPad:], beta, c, ldc)
		}
		return true
	}
	// The packed panels of all terms share the B scratch: bound NC.
	ncMax := min(sNC, sKC*sNC/(S*k)) / nr * nr
	inPlace := ldb == n && (n == nr || n == nrHalf)
	if pre != nil {
		ncMax, inPlace = n, false
	}
	if ncMax < nr && !inPlace && pre == nil {
		return false
	}
	s := getScratch()
	defer putScratch(s)
	mem := view[float32](s)
	bpan := mem[:sKC*sNC]
	aedge := mem[sKC*sNC : sKC*sNC+sMR*sKC]
	tmp := mem[sKC*sNC+2*sMR*sKC : sKC*sNC+2*sMR*sKC+sMR*sNR]
	kc := k
	for jc := 0; jc < n; jc += ncMax {
		nc := min(ncMax, n-jc)
		// Panel of term t: strips of term t start at t·kc·ncPad.
		ncPad := (nc + nr - 1) / nr * nr
		switch {
		case inPlace:
			nc, ncPad = n, 0
		case pre != nil:
		default:
			for t := 0; t < S; t++ {
				packBF32(false, kc, nc, nr, nrHalf, 1, b[t*k*ldb:], ldb, 0, jc, bpan[t*kc*ncPad:])
			}
		}
		for ic := 0; ic < m; ic += sMC {
			mc := min(sMC, m-ic)
			for ir := 0; ir < mc; ir += mr {
				h := min(mr, mc-ir)
				for jr := 0; jr < nc; jr += nr {
					w := min(nr, nc-jr)
					sw := nr
					if w <= nrHalf {
						sw = nrHalf
					}
					ci := (ic+ir)*ldc + jc + jr
					// The strip of term t: bsrc[b0+t·bstep], packed here,
					// read in place or packed by the caller.
					bsrc, b0, bstep := bpan, jr*kc, kc*ncPad
					switch {
					case inPlace:
						bsrc, b0, bstep = b, 0, k*ldb
					case pre != nil:
						bsrc, b0, bstep = pre, (jc+jr)*kc, k*nPad
					}
					if p == PathAVX512 && sw == 16 && h == mr && w == sw && S <= maxSumTerms {
						// Whole 12×16 tile: all terms in one call, the
						// tile kept in registers.
						var aps, bps [maxSumTerms]*float32
						for t, o := range aoff {
							aps[t] = &a[o+(ic+ir)*lda]
							bps[t] = &bsrc[b0+t*bstep]
						}
						sgemmSumKernel12x16AVX512(S, kc, &aps[0], &bps[0], 4*lda, 4, &c[ci], 4*ldc)
						continue
					}
					for t, o := range aoff {
						bp := &bsrc[b0+t*bstep]
						var ap *float32
						if h < mr {
							packAF32(false, h, kc, mr, a[o:], lda, ic+ir, 0, aedge)
							ap = &aedge[0]
						} else {
							ap = &a[o+(ic+ir)*lda]
						}
						rs, ks := 4*lda, 4
						if h < mr {
							rs, ks = 4, 4*mr
						}
						load, beta := 1, float32(1)
						if t == 0 {
							load, beta = 0, 0
						}
						if h == mr && w == sw {
							callKernel(p, sw, kc, ap, rs, ks, bp, &c[ci], 4*ldc, beta, load)
							continue
						}
						callKernel(p, sw, kc, ap, rs, ks, bp, &tmp[0], 4*sw, 0, 0)
						for r := 0; r < h; r++ {
							row := c[ci+r*ldc : ci+r*ldc+w]
							tr := tmp[r*sw : r*sw+w]
							if load != 0 {
								for j := range row {
									row[j] = tr[j] + beta*row[j]
								}
							} else {
								copy(row, tr)
							}
						}
					}
				}
			}
		}
	}
	return true
}

// packedSumLen is the length of packSumB's layout of terms k×n operands.
func packedSumLen(p Path, n, k, terms int) int {
	_, nr, nrHalf := tile(p)
	return terms * k * stripsWidth(n, nr, nrHalf)
}

// packSumB packs the terms B_t = b[t·k·ldb:] (k×n, leading dimension ldb)
// of a GemmSum for path p, term after term, each as the panels sgemmAsm
// would pack, one after another: the (jc, pc) panel of NC columns from jc
// and KC rows from pc at jc·k + pc·(its strips' width). Every panel but the
// last of a term is NC wide and NC is a whole number of strips, so strip j
// of a term with k ≤ KC starts at j·k whatever the panel.
func packSumB(p Path, n, k, terms int, b []float32, ldb int, dst []float32) {
	_, nr, nrHalf := tile(p)
	forSumPanels(p, n, k, terms, dst, func(t, jc, pc, nc, kc int, d []float32) {
		packBF32(false, kc, nc, nr, nrHalf, 1, b[t*k*ldb:], ldb, pc, jc, d)
	})
}

// forSumPanels calls f for every panel of packSumB's layout of terms k×n
// operands for path p: term t's nc columns from jc and kc rows from pc,
// with d the panel's place in dst.
func forSumPanels(p Path, n, k, terms int, dst []float32, f func(t, jc, pc, nc, kc int, d []float32)) {
	_, nr, nrHalf := tile(p)
	nPad := stripsWidth(n, nr, nrHalf)
	for t := 0; t < terms; t++ {
		dt := dst[t*k*nPad:]
		for jc := 0; jc < n; jc += sNC {
			nc := min(sNC, n-jc)
			ncw := stripsWidth(nc, nr, nrHalf)
			for pc := 0; pc < k; pc += sKC {
				f(t, jc, pc, nc, min(sKC, k-pc), dt[jc*k+pc*ncw:])
			}
		}
	}
}

// packFlippedB is packSumB of the K terms of PackFlipped's flipped kernel,
// gathered from w: row r = (j, co) of term t, column ci is
// w[((t·K + K−1−j)·cin + ci)·cout + co], so a packed row reads one value
// from each of its strip's rows of w, cout apart; the next row reads their
// neighbours, in the same cache lines. The strips are packBF32's.
func packFlippedB(p Path, K, cin, cout int, w []float32, dst []float32) {
	_, nr, nrHalf := tile(p)
	forSumPanels(p, cin, K*cout, K, dst, func(t, jc, pc, nc, kc int, d []float32) {
		for j0 := 0; j0 < nc; j0 += nr {
			wd := min(nr, nc-j0)
			sw := stripsWidth(wd, nr, nrHalf) // a strip's width, as packBF32's
			ds := d[j0*kc : j0*kc+sw*kc]
			for q := 0; q < kc; q++ {
				j, co := (pc+q)/cout, (pc+q)%cout
				src := w[((t*K+K-1-j)*cin+jc+j0)*cout+co:]
				_ = src[(wd-1)*cout]
				dp := ds[q*sw : q*sw+sw]
				for jj := range wd {
					dp[jj] = src[jj*cout]
				}
				clear(dp[wd:])
			}
		}
	})
}

// sgemmPackedTerm is C = A·B (beta 0) with B packed in pre (packSumB's
// layout of one term for path p).
func sgemmPackedTerm(p Path, m, n, k int, a []float32, lda int, pre []float32, c []float32, ldc int) {
	sgemmAsmB(p, false, false, m, n, k, 1, a, lda, nil, 0, pre, 0, c, ldc)
}
