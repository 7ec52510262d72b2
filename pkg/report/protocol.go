package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/train"
)

// A protocol is everything about a run that can change its result except
// the seed. Runs are averaged into one cell only when their protocols are
// equal: two smoke-test epochs and a 181-epoch run of the same method never
// share a mean.
//
// Each run has two protocol hashes, both computed from its resolved
// config.yaml (see protocolOf):
//
//   - Protocol: the run's config hash (config.Run.Hash: it already leaves out
//     where the data are cached, the loader's worker count and the
//     hyperparameters the method does not use) with the seed, the experiment
//     name, eval.every and the list of swept names cleared, and data.source reduced to
//     its base name (the same archive under another path is the same data).
//     A table row holds the runs of one Protocol.
//   - Family: the same with the method and everything method-specific
//     (optimizer settings, BMA samples, shard size) cleared as well. The
//     rows of a table block are the methods of one family: "the five
//     methods trained for 31 epochs on all 50,000 images".
//
// Runs without a readable config.yaml fall back to a hash of what their
// result.json records (model, dataset, epochs, split sizes, data, the
// method's hyperparameters).

// ProtocolInfo describes the protocol of one run.
type ProtocolInfo struct {
	Protocol string // 12 hex digits: the row's protocol
	Family   string // 12 hex digits: the block's protocol (method-independent)
	// Fields are the method-independent settings, flattened to dotted
	// paths, from which family labels are built.
	Fields map[string]string
	// Hyper are the method-specific settings (hyperparameters used, test_mc
	// for Bayesian methods, the shard size).
	Hyper map[string]string
}

// protocolOf computes the protocol of a finished run from its config.yaml
// (nil: unreadable) and result.json.
func protocolOf(cfg *config.Run, res train.Result) ProtocolInfo {
	if cfg == nil {
		return protocolFromResult(res)
	}
	c := *cfg
	c.Seed, c.Experiment, c.Swept = 0, "", nil
	c.Data.Dir, c.Data.Offline, c.Engine.Workers = "", false, 0
	// How often the test set is scored during training changes
	// metrics.jsonl, never the final result (pkg/train's
	// TestEvalEveryDoesNotChangeResults).
	c.Eval.Every = 0
	if c.Data.Source != "" {
		c.Data.Source = filepath.Base(c.Data.Source)
	}
	// Older config.yaml files lack these; take them from result.json so the
	// same run reads the same either way.
	if c.Model == "" {
		c.Model = res.Model
	}
	if c.Dataset == "" {
		c.Dataset = res.Dataset
	}
	if c.Method == "" {
		c.Method = res.Method
	}
	// The convolution algorithm the run used is in result.json; one
	// written before the field existed was computed directly, whatever
	// the model's default is now.
	c.Engine.Conv = res.Conv
	if c.Engine.Conv == "" {
		c.Engine.Conv = "direct"
	}
	info := ProtocolInfo{Hyper: map[string]string{}}
	for k, v := range c.HyperMap() {
		info.Hyper[k] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	// result.json's hyperparameters too: a hand-written or truncated
	// config.yaml must not merge runs that differ in them.
	resHyper := map[string]string{}
	for k, v := range res.Hyper {
		resHyper[k] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	info.Protocol = hashMap(resHyper, nil, "config="+c.Hash())
	if config.IsBayesian(c.Method) {
		info.Hyper["test_mc"] = strconv.Itoa(c.TestMC)
	}
	if c.Engine.ShardSize != 0 {
		info.Hyper["engine.shard_size"] = strconv.Itoa(c.Engine.ShardSize)
	}
	fam := c
	fam.Method, fam.Optimizer, fam.TestMC, fam.Engine.ShardSize = "", config.Optimizer{}, 0, 0
	info.Family = fam.Hash()
	info.Fields = flatten(fam)
	addResultFields(info.Fields, res)
	return info
}

// protocolFromResult is protocolOf for a run directory without config.yaml.
func protocolFromResult(res train.Result) ProtocolInfo {
	info := ProtocolInfo{Fields: map[string]string{}, Hyper: map[string]string{}}
	info.Fields["model"], info.Fields["dataset"] = res.Model, res.Dataset
	addResultFields(info.Fields, res)
	for k, v := range res.Hyper {
		info.Hyper[k] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	if config.IsBayesian(res.Method) {
		info.Hyper["test_mc"] = strconv.Itoa(res.TestMC)
	}
	info.Family = hashMap(info.Fields, nil)
	info.Protocol = hashMap(info.Fields, info.Hyper, "method="+res.Method)
	return info
}

// addResultFields adds what result.json says about the data actually used:
// the epochs run, the split sizes and the evaluation split.
func addResultFields(f map[string]string, res train.Result) {
	f["~epochs_run"] = strconv.Itoa(res.Epochs)
	f["~ntrain"] = strconv.Itoa(res.NTrain)
	f["~neval"] = strconv.Itoa(res.NTest)
	f["~eval_split"] = res.Split()
	f["~augment"] = strconv.FormatBool(res.Augment)
	if res.DataSource != "" {
		f["~data"] = res.DataSource
	} else {
		f["~data"] = ""
	}
}

func hashMap(a, b map[string]string, extra ...string) string {
	var lines []string
	for _, m := range []map[string]string{a, b} {
		for k, v := range m {
			lines = append(lines, k+"="+v)
		}
	}
	sort.Strings(lines)
	lines = append(lines, extra...)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:])[:12]
}

// flatten renders a run configuration as dotted path → value.
func flatten(r config.Run) map[string]string {
	b, err := yaml.Marshal(r)
	if err != nil {
		panic(err) // a plain struct always marshals
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, vv := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, vv)
			}
		default:
			out[prefix] = fmt.Sprint(x)
		}
	}
	walk("", m)
	return out
}

// labelFields are the settings a protocol label describes in words, in the
// order they are listed; every other differing setting is listed as
// path=value after them.
var labelFields = []struct {
	key    string
	render func(v string, f map[string]string) string
	covers []string // config paths this entry already describes
}{
	{"~epochs_run", func(v string, _ map[string]string) string {
		return v + " epoch" + plural(atoi(v))
	}, []string{"epochs", "extra_epoch"}},
	{"~ntrain", func(v string, _ map[string]string) string { return thousands(v) + " train" }, []string{"data.train_subset"}},
	{"~eval_split", func(v string, f map[string]string) string {
		if v == "validation" {
			return "validation split (" + thousands(f["~neval"]) + " held out)"
		}
		return "test split (" + thousands(f["~neval"]) + ")"
	}, []string{"data.validation"}},
	{"~neval", func(v string, f map[string]string) string {
		if f["~eval_split"] == "validation" {
			return "" // said by ~eval_split
		}
		return thousands(v) + " test"
	}, []string{"data.test_subset"}},
	{"~data", func(v string, _ map[string]string) string {
		if v == "" {
			return "canonical data"
		}
		return "data " + v
	}, []string{"data.source"}},
	{"~augment", func(v string, _ map[string]string) string {
		if v == "true" {
			return "augmentation"
		}
		return "no augmentation"
	}, []string{"augment"}},
	{"engine.precision", func(v string, _ map[string]string) string {
		if v == "" {
			return "fp32"
		}
		return v
	}, nil},
	{"warmup", func(v string, _ map[string]string) string { return "warm-up " + v }, nil},
	{"batch_size", func(v string, _ map[string]string) string { return "batch " + v }, nil},
}

// familyLabels labels each family of one (model, dataset) block by the
// settings in which it differs from the block's other families; a block
// with one family gets "".
func familyLabels(fields map[string]map[string]string) map[string]string {
	labels := map[string]string{}
	if len(fields) < 2 {
		for fam := range fields {
			labels[fam] = ""
		}
		return labels
	}
	differs := func(key string) bool {
		first, set := "", false
		for _, f := range fields {
			if !set {
				first, set = f[key], true
			} else if f[key] != first {
				return true
			}
		}
		return false
	}
	covered := map[string]bool{"model": true, "dataset": true, "method": true, "seed": true, "experiment": true}
	var keysInWords []int
	for i, lf := range labelFields {
		for _, c := range lf.covers {
			covered[c] = true
		}
		covered[lf.key] = true
		// The evaluation split's label already gives its size.
		if differs(lf.key) && (lf.key != "~neval" || !differs("~eval_split")) {
			keysInWords = append(keysInWords, i)
		}
	}
	var rest []string
	all := map[string]bool{}
	for _, f := range fields {
		for k := range f {
			all[k] = true
		}
	}
	for k := range all {
		if !covered[k] && differs(k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for fam, f := range fields {
		var parts []string
		for _, i := range keysInWords {
			if s := labelFields[i].render(f[labelFields[i].key], f); s != "" {
				parts = append(parts, s)
			}
		}
		for _, k := range rest {
			parts = append(parts, k+"="+orDash(f[k]))
		}
		labels[fam] = strings.Join(parts, ", ")
	}
	return labels
}

// hyperLabels labels rows of one method within one family that differ in
// method-specific settings: "rho=0.01" vs "rho=0.05".
func hyperLabels(hyper map[string]map[string]string) map[string]string {
	labels := map[string]string{}
	keys := map[string]bool{}
	for _, h := range hyper {
		for k := range h {
			keys[k] = true
		}
	}
	var diff []string
	for k := range keys {
		first, set := "", false
		for _, h := range hyper {
			if !set {
				first, set = h[k], true
			} else if h[k] != first {
				diff = append(diff, k)
				break
			}
		}
	}
	sort.Strings(diff)
	for p, h := range hyper {
		parts := make([]string, len(diff))
		for i, k := range diff {
			parts[i] = k + "=" + orDash(h[k])
		}
		labels[p] = strings.Join(parts, ", ")
	}
	return labels
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// thousands formats an integer string with thousands separators: 50000 →
// 50,000.
func thousands(s string) string {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1000 {
		return s
	}
	var parts []string
	for n >= 1000 {
		parts = append([]string{fmt.Sprintf("%03d", n%1000)}, parts...)
		n /= 1000
	}
	return strings.Join(append([]string{strconv.Itoa(n)}, parts...), ",")
}

// ShortHash is how tables print a protocol hash (and the shortest prefix
// --protocol is documented to take).
func ShortHash(h string) string {
	if len(h) > 8 {
		return h[:8]
	}
	return h
}
