package models

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// Options configures the networks New builds.
type Options struct {
	// NetOptions sets the shard size of the resulting Net.
	nn.NetOptions
	// LeNetOfficialHead gives LeNet-5 num_classes−1 outputs, as the
	// official code does (SPEC §3.4). That head cannot be trained with
	// num_classes labels; the default is num_classes outputs.
	LeNetOfficialHead bool
}

// LayersFunc returns a fresh layer sequence of one architecture for
// per-example input shape in and the number of classes, or an error when
// the architecture cannot handle that input. It is called once per shard
// replica and must return the same structure every time.
type LayersFunc[T nn.Float] func(in nn.Shape, classes int, o Options) ([]nn.Layer[T], error)

// arch is one registered architecture.
type arch struct {
	doc string
	f32 LayersFunc[float32]
	f64 LayersFunc[float64]
}

var registry = map[string]arch{}

// Register adds an architecture under name, with its layer constructor
// instantiated for both element types, e.g.
//
//	func init() { Register("mlp", "MLP 784-500-300-K", MLP[float32], MLP[float64]) }
//
// It panics when the name is taken.
func Register(name, doc string, f32 LayersFunc[float32], f64 LayersFunc[float64]) {
	if _, dup := registry[name]; dup {
		panic("models: architecture " + name + " registered twice")
	}
	registry[name] = arch{doc: doc, f32: f32, f64: f64}
}

// Names returns the registered architecture names, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for name := range registry {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Doc returns the one-line description an architecture was registered with.
func Doc(name string) string { return registry[name].doc }

// New builds the named network for per-example input shape in (NHWC) and
// the given number of classes. Its parameters are zero until Init.
func New[T nn.Float](name string, in nn.Shape, classes int, o Options) (*nn.Net[T], error) {
	layers, err := layersFunc[T](name)
	if err != nil {
		return nil, err
	}
	outputs, _, err := probe(name, layers, in, classes, o)
	if err != nil {
		return nil, err
	}
	build := func() []nn.Layer[T] {
		l, err := layers(in, classes, o)
		if err != nil {
			panic(err) // probe built the same network without error
		}
		return l
	}
	return nn.NewNet(in, outputs, build, o.NetOptions), nil
}

// ParamCount returns the number of parameters of the named network (with
// default Options unless some are given) without allocating its buffers.
func ParamCount(name string, in nn.Shape, classes int, opts ...Options) (int, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	layers, err := layersFunc[float32](name)
	if err != nil {
		return 0, err
	}
	_, n, err := probe(name, layers, in, classes, o)
	return n, err
}

// probe builds the network once and returns its outputs per example and
// its parameter count.
func probe[T nn.Float](name string, layers LayersFunc[T], in nn.Shape, classes int, o Options) (outputs, params int, err error) {
	if classes < 2 {
		return 0, 0, fmt.Errorf("models: %s: need at least 2 classes, got %d", name, classes)
	}
	if in.H < 1 || in.W < 1 || in.C < 1 {
		return 0, 0, fmt.Errorf("models: %s: invalid input shape %+v", name, in)
	}
	l, err := layers(in, classes, o)
	if err != nil {
		return 0, 0, fmt.Errorf("models: %s: %w", name, err)
	}
	var b nn.Builder
	out := nn.Assemble(&b, in, l)
	return out.Size(), b.NumParams(), nil
}

// layersFunc looks name up and returns its constructor for T.
func layersFunc[T nn.Float](name string) (LayersFunc[T], error) {
	a, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("models: unknown model %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	var f any
	switch any(T(0)).(type) {
	case float32:
		f = a.f32
	case float64:
		f = a.f64
	}
	l, ok := f.(LayersFunc[T])
	if !ok || l == nil {
		return nil, fmt.Errorf("models: %s: no constructor for element type %T", name, T(0))
	}
	return l, nil
}
