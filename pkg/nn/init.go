package nn

import (
	"math"
	"math/rand/v2"
)

// InitKind selects a parameter initialiser.
type InitKind int

const (
	// InitConst fills with Value.
	InitConst InitKind = iota
	// InitTruncNormal draws N(0, Std²) truncated at ±2·Std by rejection,
	// without variance correction (haiku's TruncatedNormal).
	InitTruncNormal
)

// Init describes how a parameter tensor is initialised.
type Init struct {
	Kind  InitKind
	Std   float64
	Value float64
}

// truncNormalStd is the standard deviation of a standard normal truncated
// at ±2, the constant haiku's VarianceScaling divides by (.87962566103423978).
const truncNormalStd = 0.87962566103423978

// Const returns an initialiser that fills a tensor with v.
func Const(v float64) Init { return Init{Kind: InitConst, Value: v} }

// TruncNormal returns an initialiser drawing N(0, std²) truncated at
// ±2·std, without variance correction (haiku's TruncatedNormal(std)).
func TruncNormal(std float64) Init { return Init{Kind: InitTruncNormal, Std: std} }

// HaikuDefault returns haiku's default weight initialiser for Linear and
// Conv layers with the given fan-in: TruncatedNormal(1/√fanIn). Its realised
// standard deviation is about 0.88/√fanIn (SPEC §3).
func HaikuDefault(fanIn int) Init { return TruncNormal(1 / math.Sqrt(float64(fanIn))) }

// HeNormal returns haiku's VarianceScaling(2.0, "fan_in",
// "truncated_normal"): a normal truncated at ±2σ with σ = √(2/fanIn)/0.8796,
// so the realised standard deviation is √(2/fanIn).
func HeNormal(fanIn int) Init {
	return TruncNormal(math.Sqrt(2/float64(fanIn)) / truncNormalStd)
}

// FillInit fills dst according to init, drawing from r in element order.
// Truncated normals are drawn by rejection: standard normals outside [−2, 2]
// are discarded.
func FillInit[T Float](dst []T, init Init, r *rand.Rand) {
	switch init.Kind {
	case InitConst:
		for i := range dst {
			dst[i] = T(init.Value)
		}
	case InitTruncNormal:
		for i := range dst {
			z := r.NormFloat64()
			for z < -2 || z > 2 {
				z = r.NormFloat64()
			}
			dst[i] = T(init.Std * z)
		}
	default:
		panic("nn: unknown initialiser kind")
	}
}
