package report

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/bsam-dev/bsam/pkg/eval"
	"github.com/bsam-dev/bsam/pkg/train"
)

// Metric names one of the four scores of the table.
type Metric string

// The four metrics, in table order.
const (
	Acc   Metric = "acc"
	NLL   Metric = "nll"
	ECE   Metric = "ece"
	AUROC Metric = "auroc"
)

// Metrics lists the metrics in table order.
var Metrics = []Metric{Acc, NLL, ECE, AUROC}

// HigherIsBetter reports whether a larger value of m is better (accuracy,
// AUROC) or a smaller one (NLL, ECE).
func (m Metric) HigherIsBetter() bool { return m == Acc || m == AUROC }

// Title is the column heading of m.
func (m Metric) Title() string {
	switch m {
	case Acc:
		return "Accuracy (%)"
	case NLL:
		return "NLL"
	case ECE:
		return "ECE"
	case AUROC:
		return "AUROC"
	}
	return string(m)
}

// Decimals is the number of decimals m is printed with.
func (m Metric) Decimals() int {
	switch m {
	case Acc:
		return 2
	case NLL, AUROC:
		return 3
	case ECE:
		return 4
	}
	return 4
}

func (m Metric) of(x eval.Metrics) float64 {
	switch m {
	case Acc:
		return x.Accuracy
	case NLL:
		return x.NLL
	case ECE:
		return x.ECE
	case AUROC:
		return x.AUROC
	}
	return math.NaN()
}

// Metric sources: which prediction of result.json is scored.
const (
	SourceBMA   = "bma"
	SourcePoint = "point"
)

// Verdicts of the reference comparison.
const (
	VerdictWithin = "within 2σ"
	VerdictBelow  = "below"
	VerdictAbove  = "above"
	VerdictNA     = "n/a"
)

// Protocol of the paper's table, used to list deviations.
const (
	PaperSeeds  = 5   // assumed: the paper does not state its seed count
	PaperEpochs = 181 // --epochs 180 runs epochs 0..180
	PaperTestMC = 32  // BMA samples for bSAM
)

// canonicalSize is the (train, test) size of each dataset as the paper uses it.
var canonicalSize = map[string][2]int{
	"mnist":        {60000, 10000},
	"fmnist":       {60000, 10000},
	"cifar10":      {50000, 10000},
	"cifar100":     {50000, 10000},
	"tinyimagenet": {100000, 10000},
}

// noAugmentTable lists the datasets of the paper's first table, trained
// without data augmentation (the official code ignores the flag for them,
// SPEC §2.2); every other dataset is in the table with augmentation.
var noAugmentTable = map[string]bool{"mnist": true, "fmnist": true}

var (
	modelOrder   = []string{"mlp", "lenet", "resnet20_frn", "resnet18"}
	datasetOrder = []string{"mnist", "fmnist", "cifar10", "cifar100", "tinyimagenet"}
	methodOrder  = []string{"sgd", "sam_sgd", "adam", "sam_adam", "swag", "vogn", "bsam"}
	displayNames = map[string]string{
		"mlp": "MLP", "lenet": "LeNet-5", "resnet20_frn": "ResNet-20-FRN", "resnet18": "ResNet-18",
		"mnist": "MNIST", "fmnist": "FMNIST", "cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "tinyimagenet": "TinyImageNet",
		"sgd": "SGD", "sam_sgd": "SAM-SGD", "adam": "Adam", "sam_adam": "SAM-Adam", "swag": "SWAG", "vogn": "VOGN", "bsam": "bSAM",
	}
)

// DisplayName returns the paper's spelling of a model, dataset or method
// name ("sam_sgd" → "SAM-SGD"); unknown names are returned unchanged.
func DisplayName(name string) string {
	if d, ok := displayNames[name]; ok {
		return d
	}
	return name
}

func rank(order []string, name string) int {
	for i, n := range order {
		if n == name {
			return i
		}
	}
	return len(order)
}

// Options configure Build.
type Options struct {
	Source    string     // SourceBMA (default) or SourcePoint
	Reference *Reference // nil: no comparison
	// Protocol selects the protocols shown: "" all of them, ProtocolLatest
	// the most recently finished family of each model/dataset block, or a
	// hash prefix (of a family or of a row's protocol).
	Protocol string
}

// ProtocolLatest selects, per model and dataset, the family of the most
// recently finished run.
const ProtocolLatest = "latest"

// ErrDuplicateSeed is returned (wrapped) by Build when one protocol holds
// two runs of the same seed.
var ErrDuplicateSeed = errors.New("a seed appears twice within one protocol")

// ErrNoProtocol is returned (wrapped) by Build when Options.Protocol
// matches no run.
var ErrNoProtocol = errors.New("no protocol matches")

// Cell is one metric of one row.
type Cell struct {
	Mean float64
	Std  float64 // sample std (n−1); NaN when N < 2
	N    int
	Best bool // best mean of its (model, dataset, protocol family) block
	// Reference comparison; Paper is nil where the reference has no value,
	// and PaperNote then says why.
	Paper         *Value
	PaperNote     string
	Sigma         float64 // tolerance σ: the paper's std or the fallback
	SigmaReplaced bool    // the paper's std was implausible; Sigma is the fallback
	Diff          float64 // Mean − Paper.Mean
	Z             float64 // Diff / Sigma
	Verdict       string
}

// Row is one (model, dataset, method) group, or in Report.Sweeps one
// (model, dataset, method, swept setting) group.
type Row struct {
	Model, Dataset, Method string
	Swept                  []string           // swept hyperparameter names (sweeps only)
	Setting                map[string]float64 // their values (sweeps only)
	// Protocol is the runs' protocol hash; Family its method-independent
	// part, shared by the rows of one table block (see ProtocolInfo).
	Protocol, Family string
	// FamilyLabel says how the block's protocol differs from the other
	// blocks of the same model and dataset ("31 epochs" vs "1 epoch, 8,000
	// train"); HyperLabel how the row differs from other rows of its
	// method in the same block. Both are "" when nothing differs.
	FamilyLabel, HyperLabel string
	Seeds                   []int
	Cells                   map[Metric]*Cell
	Runs                    []Run
}

// ProtocolLabel joins FamilyLabel and HyperLabel.
func (r *Row) ProtocolLabel() string {
	switch {
	case r.FamilyLabel == "":
		return r.HyperLabel
	case r.HyperLabel == "":
		return r.FamilyLabel
	}
	return r.FamilyLabel + "; " + r.HyperLabel
}

// EvalSplit is the split the row's runs were scored on ("test" or
// "validation"); rows never mix the two (the split is part of the protocol).
func (r *Row) EvalSplit() string {
	if len(r.Runs) == 0 {
		return "test"
	}
	return r.Runs[0].Result.Split()
}

// SettingString formats the swept values as "lr=0.1, rho=0.05".
func (r *Row) SettingString() string {
	parts := make([]string, len(r.Swept))
	for i, name := range r.Swept {
		parts[i] = fmt.Sprintf("%s=%g", name, r.Setting[name])
	}
	return strings.Join(parts, ", ")
}

// N is the number of seeds averaged.
func (r *Row) N() int { return len(r.Runs) }

// Label is "ResNet-20-FRN / CIFAR-10 / SGD", followed by the protocol
// label in brackets when there is one: "… / SGD [31 epochs]".
func (r *Row) Label() string {
	l := DisplayName(r.Model) + " / " + DisplayName(r.Dataset) + " / " + DisplayName(r.Method)
	if p := r.ProtocolLabel(); p != "" {
		l += " [" + p + "]"
	}
	return l
}

// BlockLabel is the row's block: "ResNet-20-FRN / CIFAR-10", followed by
// the family label in brackets when there is one.
func (r *Row) BlockLabel() string {
	l := DisplayName(r.Model) + " / " + DisplayName(r.Dataset)
	if r.FamilyLabel != "" {
		l += " [" + r.FamilyLabel + "]"
	}
	return l
}

// Sensitivity summarises one method's sweep within one protocol family.
type Sensitivity struct {
	Model, Dataset, Method string
	Family, FamilyLabel    string
	EvalSplit              string
	Points                 int                // grid points
	MinSeeds               int                // fewest seeds of any point
	Spread                 map[Metric]float64 // max − min of the per-point means
	BestNLL                string             // setting with the lowest mean NLL
	BestNLLValue           float64
}

// ProtocolSummary describes one protocol family shown in a report.
type ProtocolSummary struct {
	Model, Dataset string
	Family         string // hash
	Label          string // what differs from the other families of the block ("" if none)
	// Description spells the family out: epochs, training images, the
	// evaluation split and its size, the data, augmentation.
	Description string
	EvalSplit   string
	NRuns       int
}

// Report is the aggregated result of a results directory.
type Report struct {
	Source    string
	Reference string // name of the reference table, "" when none
	Searched  []string
	NRuns     int
	Rows      []*Row // main table: runs without swept hyperparameters
	Sweeps    []*Row // runs of hyperparameter sweeps, one row per setting
	// Protocols lists the protocol families shown, in table order.
	Protocols []ProtocolSummary
	// Sensitivity summarises each swept method: the spread of each metric
	// over its grid and the setting with the lowest NLL.
	Sensitivity []Sensitivity
	// Selected is Options.Protocol ("" when every protocol is shown).
	Selected   string
	Failures   []Failure
	Deviations []string // how the runs differ from the paper's protocol
	Notes      []string // how to read the comparison
	Warnings   []string
	ref        *Reference
}

// Build aggregates the finished runs of c. Runs whose result names swept
// hyperparameters go to Report.Sweeps, grouped by their swept values; all
// others to Report.Rows.
func Build(c *Collection, opts Options) (*Report, error) {
	src := opts.Source
	if src == "" {
		src = SourceBMA
	}
	if src != SourceBMA && src != SourcePoint {
		return nil, fmt.Errorf("metric source %q: want %s or %s", src, SourceBMA, SourcePoint)
	}
	rep := &Report{
		Source:   src,
		Searched: c.Searched,
		NRuns:    len(c.Runs),
		Failures: c.Failures,
		Warnings: append([]string(nil), c.Warnings...),
		ref:      opts.Reference,
	}
	if opts.Reference != nil {
		rep.Reference = opts.Reference.Name
	}
	runs, err := selectProtocol(c.Runs, opts.Protocol)
	if err != nil {
		return nil, err
	}
	rep.Selected = opts.Protocol
	rep.NRuns = len(runs)
	main := map[string]*Row{}
	sweeps := map[string]*Row{}
	for _, run := range runs {
		r := run.Result
		pk := run.Protocol.Protocol
		if len(r.Swept) == 0 {
			key := r.Model + "\x00" + r.Dataset + "\x00" + r.Method + "\x00" + pk
			row := main[key]
			if row == nil {
				row = &Row{Model: r.Model, Dataset: r.Dataset, Method: r.Method, Protocol: pk, Family: run.Protocol.Family}
				main[key] = row
			}
			row.Runs = append(row.Runs, run)
			continue
		}
		swept := append([]string(nil), r.Swept...)
		sort.Strings(swept)
		setting := map[string]float64{}
		for _, name := range swept {
			v, ok := r.Hyper[name]
			if !ok {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: swept hyperparameter %q missing from hyper; taken as NaN", run.Dir, name))
				v = math.NaN()
			}
			setting[name] = v
		}
		row := &Row{Model: r.Model, Dataset: r.Dataset, Method: r.Method, Swept: swept, Setting: setting, Protocol: pk, Family: run.Protocol.Family}
		key := r.Model + "\x00" + r.Dataset + "\x00" + r.Method + "\x00" + row.SettingString() + "\x00" + pk
		if old := sweeps[key]; old != nil {
			row = old
		} else {
			sweeps[key] = row
		}
		row.Runs = append(row.Runs, run)
	}
	for _, row := range main {
		rep.Rows = append(rep.Rows, row)
	}
	for _, row := range sweeps {
		rep.Sweeps = append(rep.Sweeps, row)
	}
	for _, rows := range [][]*Row{rep.Rows, rep.Sweeps} {
		for _, row := range rows {
			if err := checkSeeds(row); err != nil {
				return nil, err
			}
		}
	}
	order := rep.label()
	sortRows(rep.Rows, order)
	sortRows(rep.Sweeps, order)
	for _, rows := range [][]*Row{rep.Rows, rep.Sweeps} {
		for _, row := range rows {
			rep.aggregate(row)
		}
	}
	markBest(rep.Rows)
	rep.summarise(order)
	rep.sensitivity()
	rep.deviations()
	rep.notes()
	return rep, nil
}

// selectProtocol keeps the runs of the protocols sel names (see
// Options.Protocol).
func selectProtocol(runs []Run, sel string) ([]Run, error) {
	sel = strings.ToLower(strings.TrimSpace(sel))
	if sel == "" {
		return runs, nil
	}
	var kept []Run
	if sel == ProtocolLatest {
		newest := map[string]Run{} // model/dataset → newest run
		for _, run := range runs {
			k := run.Result.Model + "\x00" + run.Result.Dataset
			if old, ok := newest[k]; !ok || run.Ended.After(old.Ended) || (run.Ended.Equal(old.Ended) && run.Dir > old.Dir) {
				newest[k] = run
			}
		}
		for _, run := range runs {
			if n := newest[run.Result.Model+"\x00"+run.Result.Dataset]; n.Protocol.Family == run.Protocol.Family {
				kept = append(kept, run)
			}
		}
		return kept, nil
	}
	have := map[string]bool{}
	for _, run := range runs {
		if strings.HasPrefix(run.Protocol.Family, sel) || strings.HasPrefix(run.Protocol.Protocol, sel) {
			kept = append(kept, run)
		}
		have[run.Result.Model+"/"+run.Result.Dataset+" "+ShortHash(run.Protocol.Family)] = true
	}
	if len(kept) == 0 {
		list := make([]string, 0, len(have))
		for k := range have {
			list = append(list, k)
		}
		sort.Strings(list)
		return nil, fmt.Errorf("%w %q (the protocols found are: %s; bsam report without --protocol lists them)", ErrNoProtocol, sel, strings.Join(list, ", "))
	}
	return kept, nil
}

// checkSeeds refuses a row in which one seed appears twice: the two runs
// have the same protocol and seed, so averaging both would count one result
// twice (usually the same results directory passed twice, or a copy).
func checkSeeds(row *Row) error {
	first := map[int]string{}
	sort.SliceStable(row.Runs, func(i, j int) bool { return row.Runs[i].Dir < row.Runs[j].Dir })
	for _, run := range row.Runs {
		s := run.Result.Seed
		if d, ok := first[s]; ok {
			return fmt.Errorf("%w: %s, protocol %s: seed %d in both %s and %s; remove one of them, or report the directories separately",
				ErrDuplicateSeed, DisplayName(row.Model)+" / "+DisplayName(row.Dataset)+" / "+DisplayName(row.Method), ShortHash(row.Protocol), s, d, run.Dir)
		}
		first[s] = run.Dir
	}
	return nil
}

// familyOrder ranks the families of the report: the longest protocol first
// (epochs, then training images), test before validation, then by label
// and hash so the order never depends on the file system.
type familyOrder map[string]int

// label fills the rows' FamilyLabel and HyperLabel and returns the order of
// the families.
func (rep *Report) label() familyOrder {
	all := append(append([]*Row(nil), rep.Rows...), rep.Sweeps...)
	// Family labels per (model, dataset), over main and sweep rows alike so
	// a sweep and its reference runs read the same.
	byBlock := map[string]map[string]map[string]string{}
	for _, row := range all {
		k := row.Model + "\x00" + row.Dataset
		if byBlock[k] == nil {
			byBlock[k] = map[string]map[string]string{}
		}
		byBlock[k][row.Family] = row.Runs[0].Protocol.Fields
	}
	famLabels := map[string]string{}
	for k, fams := range byBlock {
		for fam, l := range familyLabels(fams) {
			famLabels[k+"\x00"+fam] = l
		}
	}
	// Hyper labels per (model, dataset, family, method, setting).
	byMethod := map[string]map[string]map[string]string{}
	for _, row := range all {
		row.FamilyLabel = famLabels[row.Model+"\x00"+row.Dataset+"\x00"+row.Family]
		k := strings.Join([]string{row.Model, row.Dataset, row.Family, row.Method, row.SettingString(), fmt.Sprint(len(row.Swept) > 0)}, "\x00")
		if byMethod[k] == nil {
			byMethod[k] = map[string]map[string]string{}
		}
		h := map[string]string{}
		for name, v := range row.Runs[0].Protocol.Hyper {
			if !containsString(row.Swept, name) {
				h[name] = v
			}
		}
		byMethod[k][row.Protocol] = h
	}
	for _, row := range all {
		k := strings.Join([]string{row.Model, row.Dataset, row.Family, row.Method, row.SettingString(), fmt.Sprint(len(row.Swept) > 0)}, "\x00")
		if len(byMethod[k]) > 1 {
			row.HyperLabel = hyperLabels(byMethod[k])[row.Protocol]
		}
	}
	// Family order.
	type famKey struct {
		fam            string
		epochs, ntrain int
		validation     bool
		label          string
	}
	seen := map[string]bool{}
	var keys []famKey
	for _, row := range all {
		if seen[row.Family] {
			continue
		}
		seen[row.Family] = true
		f := row.Runs[0].Protocol.Fields
		keys = append(keys, famKey{row.Family, atoi(f["~epochs_run"]), atoi(f["~ntrain"]), f["~eval_split"] == "validation", row.FamilyLabel})
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		switch {
		case a.validation != b.validation:
			return !a.validation
		case a.epochs != b.epochs:
			return a.epochs > b.epochs
		case a.ntrain != b.ntrain:
			return a.ntrain > b.ntrain
		case a.label != b.label:
			return a.label < b.label
		}
		return a.fam < b.fam
	})
	order := familyOrder{}
	for i, k := range keys {
		order[k.fam] = i
	}
	return order
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// summarise lists the families shown, in table order.
func (rep *Report) summarise(order familyOrder) {
	type sumKey struct{ model, dataset, fam string }
	idx := map[sumKey]int{}
	for _, rows := range [][]*Row{rep.Rows, rep.Sweeps} {
		for _, row := range rows {
			k := sumKey{row.Model, row.Dataset, row.Family}
			if i, ok := idx[k]; ok {
				rep.Protocols[i].NRuns += row.N()
				continue
			}
			f := row.Runs[0].Protocol.Fields
			idx[k] = len(rep.Protocols)
			rep.Protocols = append(rep.Protocols, ProtocolSummary{
				Model: row.Model, Dataset: row.Dataset, Family: row.Family, Label: row.FamilyLabel,
				Description: describe(f), EvalSplit: f["~eval_split"], NRuns: row.N(),
			})
		}
	}
	sort.SliceStable(rep.Protocols, func(i, j int) bool {
		a, b := rep.Protocols[i], rep.Protocols[j]
		return compareBlock(a.Model, a.Dataset, a.Family, b.Model, b.Dataset, b.Family, order) < 0
	})
}

// sensitivity fills rep.Sensitivity from the sweep rows (sorted, so the
// points of one method and family are adjacent).
func (rep *Report) sensitivity() {
	for i := 0; i < len(rep.Sweeps); {
		j := i
		for j < len(rep.Sweeps) && sameBlock(rep.Sweeps[j], rep.Sweeps[i]) && rep.Sweeps[j].Method == rep.Sweeps[i].Method {
			j++
		}
		pts := rep.Sweeps[i:j]
		s := Sensitivity{Model: pts[0].Model, Dataset: pts[0].Dataset, Method: pts[0].Method, Family: pts[0].Family,
			FamilyLabel: pts[0].FamilyLabel, EvalSplit: pts[0].EvalSplit(), Points: len(pts), MinSeeds: math.MaxInt,
			Spread: map[Metric]float64{}, BestNLLValue: math.Inf(1)}
		for _, m := range Metrics {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, p := range pts {
				v := p.Cells[m].Mean
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
			s.Spread[m] = hi - lo
		}
		for _, p := range pts {
			s.MinSeeds = min(s.MinSeeds, p.N())
			if v := p.Cells[NLL].Mean; v < s.BestNLLValue {
				s.BestNLL, s.BestNLLValue = p.SettingString(), v
			}
		}
		rep.Sensitivity = append(rep.Sensitivity, s)
		i = j
	}
}

// describe spells out a family's protocol from its fields.
func describe(f map[string]string) string {
	parts := []string{f["~epochs_run"] + " epoch" + plural(atoi(f["~epochs_run"]))}
	if w := f["warmup"]; w != "" {
		parts[0] += " (warm-up " + w + ")"
	}
	if b := f["batch_size"]; b != "" && b != "0" {
		parts = append(parts, "batch "+b)
	}
	parts = append(parts, thousands(f["~ntrain"])+" training images")
	if f["~eval_split"] == "validation" {
		parts = append(parts, "scored on the validation split ("+thousands(f["~neval"])+" training images held out)")
	} else {
		parts = append(parts, "scored on the test split ("+thousands(f["~neval"])+" images)")
	}
	if d := f["~data"]; d != "" {
		parts = append(parts, "data from "+d)
	}
	if f["~augment"] == "true" {
		parts = append(parts, "augmentation")
	} else {
		parts = append(parts, "no augmentation")
	}
	if p := f["engine.precision"]; p != "" && p != "fp32" {
		parts = append(parts, p+" GEMMs")
	}
	return strings.Join(parts, ", ")
}

// compareBlock orders table blocks: models and datasets in the paper's
// order (unknown names after, alphabetically), then protocol families in
// order. It returns −1, 0 or +1.
func compareBlock(am, ad, af, bm, bd, bf string, order familyOrder) int {
	keys := [][2]int{
		{rank(modelOrder, am), rank(modelOrder, bm)},
		{strings.Compare(am, bm), 0},
		{rank(datasetOrder, ad), rank(datasetOrder, bd)},
		{strings.Compare(ad, bd), 0},
		{order[af], order[bf]},
	}
	for _, k := range keys {
		if k[0] != k[1] {
			if k[0] < k[1] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func sortRows(rows []*Row, order familyOrder) {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if c := compareBlock(a.Model, a.Dataset, a.Family, b.Model, b.Dataset, b.Family, order); c != 0 {
			return c < 0
		}
		if x, y := rank(methodOrder, a.Method), rank(methodOrder, b.Method); x != y {
			return x < y
		}
		if a.Method != b.Method {
			return a.Method < b.Method
		}
		if !equalSetting(a, b) {
			return lessSetting(a, b)
		}
		if a.HyperLabel != b.HyperLabel {
			return a.HyperLabel < b.HyperLabel
		}
		return a.Protocol < b.Protocol
	})
}

func equalSetting(a, b *Row) bool { return !lessSetting(a, b) && !lessSetting(b, a) }

func lessSetting(a, b *Row) bool {
	as, bs := strings.Join(a.Swept, ","), strings.Join(b.Swept, ",")
	if as != bs {
		return as < bs
	}
	for _, name := range a.Swept {
		if x, y := a.Setting[name], b.Setting[name]; x != y {
			return x < y
		}
	}
	return false
}

// value returns the scored metrics of a result under the report's source.
func (rep *Report) value(r train.Result) eval.Metrics {
	if rep.Source == SourcePoint {
		return r.Point
	}
	return r.BMA
}

func (rep *Report) aggregate(row *Row) {
	sort.SliceStable(row.Runs, func(i, j int) bool { return row.Runs[i].Result.Seed < row.Runs[j].Result.Seed })
	for _, run := range row.Runs {
		row.Seeds = append(row.Seeds, run.Result.Seed) // distinct: Build checked
	}
	row.Cells = map[Metric]*Cell{}
	for _, m := range Metrics {
		xs := make([]float64, len(row.Runs))
		for i, run := range row.Runs {
			xs[i] = m.of(rep.value(run.Result))
		}
		mean, std := eval.MeanStd(xs)
		if len(xs) < 2 {
			std = math.NaN() // one seed: no spread to report
		}
		cell := &Cell{Mean: mean, Std: std, N: len(xs), Verdict: VerdictNA, Diff: math.NaN(), Z: math.NaN(), Sigma: math.NaN()}
		if len(row.Swept) == 0 && rep.ref != nil {
			cell.PaperNote = rep.paperNote(row, m)
			if v := rep.ref.Lookup(row.Model, row.Dataset, row.Method, m); v != nil && cell.PaperNote == "" {
				sg := rep.ref.Sigma(m, *v)
				cell.Paper = v
				cell.Sigma, cell.SigmaReplaced = sg.Value, sg.Replaced
				cell.Diff = mean - v.Mean
				if sg.Value > 0 {
					cell.Z = cell.Diff / sg.Value
					// Decimal inputs carry float noise (0.0045/0.002 is
					// 2.2500000000000004): judge z rounded to 1e-9.
					z := roundTo(cell.Z, 9)
					switch {
					case z < -2:
						cell.Verdict = VerdictBelow
					case z > 2:
						cell.Verdict = VerdictAbove
					default:
						cell.Verdict = VerdictWithin
					}
				}
			}
		}
		row.Cells[m] = cell
	}
}

// paperNote says why a cell of row has no paper value to compare with, or
// "" when the reference has one.
func (rep *Report) paperNote(row *Row, m Metric) string {
	if row.EvalSplit() == "validation" {
		return "validation split; the paper reports the test split"
	}
	if rep.ref.Lookup(row.Model, row.Dataset, row.Method, m) != nil {
		return ""
	}
	if noAugmentTable[row.Dataset] && !rep.ref.HasBlock(row.Model, row.Dataset) {
		return "no-augmentation table not available"
	}
	if rep.ref.HasRow(row.Model, row.Dataset, row.Method) {
		return "the paper gives no " + m.Title()
	}
	if rep.ref.HasBlock(row.Model, row.Dataset) {
		return DisplayName(row.Method) + " is not in the paper's table"
	}
	return DisplayName(row.Model) + " / " + DisplayName(row.Dataset) + " is not in the paper's table"
}

// markBest marks, per (model, dataset, protocol family) block and metric,
// the rows whose mean (rounded to the printed decimals) is best.
func markBest(rows []*Row) {
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && sameBlock(rows[j], rows[i]) {
			j++
		}
		for _, m := range Metrics {
			best := math.NaN()
			for _, row := range rows[i:j] {
				v := roundTo(row.Cells[m].Mean, m.Decimals())
				if math.IsNaN(v) {
					continue
				}
				if math.IsNaN(best) || (m.HigherIsBetter() && v > best) || (!m.HigherIsBetter() && v < best) {
					best = v
				}
			}
			for _, row := range rows[i:j] {
				row.Cells[m].Best = roundTo(row.Cells[m].Mean, m.Decimals()) == best
			}
		}
		i = j
	}
}

// sameBlock reports whether two rows belong to one table block: the same
// model, dataset and protocol family.
func sameBlock(a, b *Row) bool {
	return a.Model == b.Model && a.Dataset == b.Dataset && a.Family == b.Family
}

func roundTo(x float64, dec int) float64 {
	p := math.Pow(10, float64(dec))
	return math.Round(x*p) / p
}

// deviations lists, per row of the main table, how its runs differ from the
// paper's protocol.
func (rep *Report) deviations() {
	for _, row := range rep.Rows {
		var ds []string
		if n := row.N(); n < PaperSeeds {
			ds = append(ds, fmt.Sprintf("%d seed%s (paper: %d assumed)", n, plural(n), PaperSeeds))
		}
		if vals := distinct(row.Runs, func(r train.Result) int { return r.Epochs }, func(v int) bool { return v != PaperEpochs }); vals != "" {
			ds = append(ds, fmt.Sprintf("epochs %s (paper: %d)", vals, PaperEpochs))
		}
		if size, ok := canonicalSize[row.Dataset]; ok {
			if vals := distinct(row.Runs, func(r train.Result) int { return r.NTrain }, func(v int) bool { return v != size[0] }); vals != "" {
				ds = append(ds, fmt.Sprintf("ntrain %s (canonical: %d)", vals, size[0]))
			}
			if vals := distinct(row.Runs, func(r train.Result) int { return r.NTest }, func(v int) bool { return v != size[1] }); vals != "" {
				ds = append(ds, fmt.Sprintf("ntest %s (canonical: %d)", vals, size[1]))
			}
		}
		off := 0
		sources := map[string]bool{}
		for _, run := range row.Runs {
			if !run.Result.Augment {
				off++
			}
			if run.Result.DataSource != "" {
				sources[run.Result.DataSource] = true
			}
		}
		if len(sources) > 0 {
			names := make([]string, 0, len(sources))
			for n := range sources {
				names = append(names, n)
			}
			sort.Strings(names)
			ds = append(ds, fmt.Sprintf("data from %s (paper: the canonical archive)", strings.Join(names, ", ")))
		}
		if noAugmentTable[row.Dataset] {
			if on := row.N() - off; on > 0 {
				ds = append(ds, fmt.Sprintf("augmentation on in %d of %d runs (paper: off)", on, row.N()))
			}
		} else if off > 0 {
			ds = append(ds, fmt.Sprintf("augmentation off in %d of %d runs (paper: on)", off, row.N()))
		}
		if row.Method == "bsam" {
			if rep.Source == SourcePoint {
				ds = append(ds, "scored at the posterior mean (paper: BMA)")
			} else if vals := distinct(row.Runs, func(r train.Result) int { return r.TestMC }, func(v int) bool { return v != PaperTestMC }); vals != "" {
				ds = append(ds, fmt.Sprintf("test_mc %s (paper: %d)", vals, PaperTestMC))
			}
		}
		if names := differingHyper(row.Runs); len(names) > 0 {
			ds = append(ds, "seeds differ in "+strings.Join(names, ", "))
		}
		if len(ds) > 0 {
			rep.Deviations = append(rep.Deviations, row.Label()+": "+strings.Join(ds, "; "))
		}
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// distinct returns the sorted distinct values of f over runs, joined by "/",
// when any of them is flagged by bad; "" otherwise.
func distinct(runs []Run, f func(train.Result) int, bad func(int) bool) string {
	set := map[int]bool{}
	flagged := false
	for _, run := range runs {
		v := f(run.Result)
		set[v] = true
		flagged = flagged || bad(v)
	}
	if !flagged {
		return ""
	}
	vals := make([]int, 0, len(set))
	for v := range set {
		vals = append(vals, v)
	}
	sort.Ints(vals)
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, "/")
}

// differingHyper names the hyperparameters whose values differ between the
// runs of a group.
func differingHyper(runs []Run) []string {
	names := map[string]bool{}
	for _, run := range runs {
		for k := range run.Result.Hyper {
			names[k] = true
		}
	}
	var diff []string
	for k := range names {
		v0, ok0 := runs[0].Result.Hyper[k]
		for _, run := range runs[1:] {
			v, ok := run.Result.Hyper[k]
			if ok != ok0 || v != v0 {
				diff = append(diff, k)
				break
			}
		}
	}
	sort.Strings(diff)
	return diff
}

// notes explains the comparison: std kind, tolerance rule, NLL convention.
func (rep *Report) notes() {
	n := []string{
		"Cells are mean ± sample standard deviation (denominator n−1) over n seeds; a cell with one seed shows no std.",
	}
	if rep.Source == SourceBMA {
		n = append(n, "Metrics of the Bayesian model average (BMA) prediction; for the deterministic methods it equals the point prediction.")
	} else {
		n = append(n, "Metrics of the point prediction (posterior mean for bSAM); the paper's bSAM numbers are most likely BMA.")
	}
	if rep.ref == nil {
		rep.Notes = n
		return
	}
	n = append(n,
		"Δ = ours − paper; z = Δ / σ with σ the paper's std; verdict: within 2σ (|z| ≤ 2), below (z < −2), above (z > 2), n/a where the paper gives no value.",
		fmt.Sprintf("The paper does not state its seed count; %d is assumed.", PaperSeeds),
		"Paper NLLs come from code that divides the summed batch NLL by 49 instead of 50 batches (×1.0204); ours are true means and are compared uncorrected.",
	)
	var replaced []string
	replacedMetric := map[Metric]bool{}
	for _, row := range rep.Rows {
		for _, m := range Metrics {
			if c := row.Cells[m]; c.Paper != nil && c.SigmaReplaced {
				replacedMetric[m] = true
				replaced = append(replaced, fmt.Sprintf("%s %s (std %s)", row.Label(), m.Title(), FormatValue(m, c.Paper.Std)))
			}
		}
	}
	if len(replaced) > 0 {
		n = append(n, fmt.Sprintf("Paper stds larger than %g× their mean are implausible (the TinyImageNet ECE stds 0.032–0.034 are probably 0.0032–0.0034) and not used as tolerance; σ falls back to the median of the table's plausible stds of the metric: %s.",
			ImplausibleStdRatio, strings.Join(replaced, "; ")))
		var fb []string
		for _, m := range Metrics {
			if replacedMetric[m] {
				fb = append(fb, fmt.Sprintf("%s %s", m.Title(), FormatValue(m, rep.ref.FallbackSigma(m))))
			}
		}
		n = append(n, "Fallback σ: "+strings.Join(fb, ", ")+".")
	}
	rep.Notes = n
}

// FormatValue prints x with the decimals of m; NaN prints as "–".
func FormatValue(m Metric, x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf("%.*f", m.Decimals(), x)
}
