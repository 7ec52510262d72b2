package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Formats accepted by Write.
var Formats = []string{"md", "latex", "csv", "json"}

// Write renders rep in format ("md", "latex", "csv" or "json") to w.
func Write(w io.Writer, rep *Report, format string) error {
	switch format {
	case "md":
		return WriteMarkdown(w, rep)
	case "latex":
		return WriteLaTeX(w, rep)
	case "csv":
		return WriteCSV(w, rep)
	case "json":
		return WriteJSON(w, rep)
	}
	return fmt.Errorf("unknown format %q: want one of %s", format, strings.Join(Formats, ", "))
}

// ours prints "mean ± std" (or the mean alone for one seed) with pm as the
// ± symbol.
func ours(m Metric, c *Cell, pm string) string {
	if math.IsNaN(c.Std) {
		return FormatValue(m, c.Mean)
	}
	return FormatValue(m, c.Mean) + pm + FormatValue(m, c.Std)
}

func paper(m Metric, c *Cell, pm, none, dagger string) string {
	if c.Paper == nil {
		if c.PaperNote != "" {
			return none + " (" + c.PaperNote + ")"
		}
		return none
	}
	s := FormatValue(m, c.Paper.Mean) + pm + FormatValue(m, c.Paper.Std)
	if c.SigmaReplaced {
		s += dagger
	}
	return s
}

func signed(m Metric, x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf("%+.*f", m.Decimals(), noNegZero(roundTo(x, m.Decimals())))
}

// noNegZero turns −0 into +0 so a rounded-away difference prints as +0.
func noNegZero(x float64) float64 {
	if x == 0 {
		return 0
	}
	return x
}

func zString(z float64) string {
	if math.IsNaN(z) {
		return "–"
	}
	return fmt.Sprintf("%+.1f", noNegZero(roundTo(z, 1)))
}

// protocolCell names a row's protocol in tables: its label and the hash
// --protocol selects it by (the family's, or the row's own when the row
// differs from others of its method in hyperparameters).
func protocolCell(row *Row) string {
	h := ShortHash(row.Family)
	if row.HyperLabel != "" {
		h = ShortHash(row.Protocol)
	}
	if l := row.ProtocolLabel(); l != "" {
		return l + " · " + h
	}
	return h
}

// paperCells returns the paper column of each metric of a row for the wide
// results table: a value, or "n/a (why)"; when every metric lacks a value
// for the same reason, only the first cell gives the reason.
func paperCells(row *Row, pm, none, dagger string) []string {
	out := make([]string, len(Metrics))
	same := true
	for _, m := range Metrics {
		c := row.Cells[m]
		if c.Paper != nil || c.PaperNote != row.Cells[Metrics[0]].PaperNote {
			same = false
		}
	}
	for i, m := range Metrics {
		c := row.Cells[m]
		if same && i > 0 {
			out[i] = none
			continue
		}
		out[i] = paper(m, c, pm, none, dagger)
	}
	return out
}

func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// WriteMarkdown renders the report as Markdown: the table with the paper's
// values beside ours, the per-cell comparison, sweeps, deviations from the
// paper's protocol, failed runs and notes.
func WriteMarkdown(w io.Writer, rep *Report) error {
	var b strings.Builder
	b.WriteString("# bsam report\n\n")
	fmt.Fprintf(&b, "%d finished run%s below %s; metric source: %s; reference: %s.\n",
		rep.NRuns, plural(rep.NRuns), strings.Join(rep.Searched, ", "), rep.Source, orNone(rep.Reference))
	b.WriteString("Cells: mean ± sample std (n−1) over n seeds; one seed shows no std. Runs are averaged only within one protocol (everything that changes a result except the seed); best method per model/dataset/protocol block in **bold**.\n")
	if rep.Selected != "" {
		fmt.Fprintf(&b, "Protocols shown: %s (--protocol).\n", rep.Selected)
	}
	if len(rep.Protocols) > 0 {
		b.WriteString("\n## Protocols\n\n")
		b.WriteString("| Model | Dataset | Protocol | Label | Evaluated on | What the runs did | runs |\n|:--|:--|:--|:--|:--|:--|--:|\n")
		for _, p := range rep.Protocols {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %d |\n", mdEscape(DisplayName(p.Model)), mdEscape(DisplayName(p.Dataset)),
				ShortHash(p.Family), mdEscape(orDash(p.Label)), p.EvalSplit, mdEscape(p.Description), p.NRuns)
		}
	}
	if len(rep.Rows) > 0 {
		b.WriteString("\n## Results\n\n")
		b.WriteString("| Model | Dataset | Protocol | Method | n |")
		for _, m := range Metrics {
			fmt.Fprintf(&b, " %s | paper |", m.Title())
		}
		b.WriteString("\n|:--|:--|:--|:--|--:|")
		for range Metrics {
			b.WriteString("--:|--:|")
		}
		b.WriteString("\n")
		for _, row := range rep.Rows {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %d |", mdEscape(DisplayName(row.Model)), mdEscape(DisplayName(row.Dataset)), mdEscape(protocolCell(row)), mdEscape(DisplayName(row.Method)), row.N())
			pc := paperCells(row, " ± ", "n/a", "†")
			for i, m := range Metrics {
				c := row.Cells[m]
				s := ours(m, c, " ± ")
				if c.Best {
					s = "**" + s + "**"
				}
				fmt.Fprintf(&b, " %s | %s |", s, mdEscape(pc[i]))
			}
			b.WriteString("\n")
		}
		if rep.Reference != "" {
			b.WriteString("\n## Comparison with the paper\n\n")
			b.WriteString("| Model | Dataset | Protocol | Method | Metric | ours | paper | Δ | z | verdict |\n")
			b.WriteString("|:--|:--|:--|:--|:--|--:|--:|--:|--:|:--|\n")
			for _, row := range rep.Rows {
				for _, m := range Metrics {
					c := row.Cells[m]
					fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
						mdEscape(DisplayName(row.Model)), mdEscape(DisplayName(row.Dataset)), mdEscape(protocolCell(row)), mdEscape(DisplayName(row.Method)), m.Title(),
						ours(m, c, " ± "), mdEscape(paper(m, c, " ± ", "n/a", "†")), signed(m, c.Diff), zString(c.Z), c.Verdict)
				}
			}
			counts := map[string]int{}
			for _, row := range rep.Rows {
				for _, m := range Metrics {
					counts[row.Cells[m].Verdict]++
				}
			}
			fmt.Fprintf(&b, "\nVerdicts: %d within 2σ, %d below, %d above, %d n/a.\n",
				counts[VerdictWithin], counts[VerdictBelow], counts[VerdictAbove], counts[VerdictNA])
		}
	}
	if len(rep.Sweeps) > 0 {
		b.WriteString("\n## Sweeps\n\n")
		b.WriteString("| Model | Dataset | Protocol | Method | Setting | n |")
		for _, m := range Metrics {
			fmt.Fprintf(&b, " %s |", m.Title())
		}
		b.WriteString("\n|:--|:--|:--|:--|:--|--:|")
		for range Metrics {
			b.WriteString("--:|")
		}
		b.WriteString("\n")
		for _, row := range rep.Sweeps {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d |", mdEscape(DisplayName(row.Model)), mdEscape(DisplayName(row.Dataset)), mdEscape(protocolCell(row)), mdEscape(DisplayName(row.Method)), mdEscape(row.SettingString()), row.N())
			for _, m := range Metrics {
				fmt.Fprintf(&b, " %s |", ours(m, row.Cells[m], " ± "))
			}
			b.WriteString("\n")
		}
	}
	if len(rep.Sensitivity) > 0 {
		b.WriteString("\n## Sensitivity\n\n")
		b.WriteString("Spread = max − min of the per-setting means over the method's grid (smaller: less sensitive). Best by NLL: the setting with the lowest mean NLL, the proper scoring rule that rewards accuracy and calibration together.\n\n")
		b.WriteString("| Model | Dataset | Protocol | Method | points | seeds | Accuracy spread | NLL spread | ECE spread | AUROC spread | best by NLL | evaluated on |\n")
		b.WriteString("|:--|:--|:--|:--|--:|--:|--:|--:|--:|--:|:--|:--|\n")
		for _, x := range rep.Sensitivity {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | ≥ %d |", mdEscape(DisplayName(x.Model)), mdEscape(DisplayName(x.Dataset)),
				mdEscape(orDash(x.FamilyLabel)+" · "+ShortHash(x.Family)), mdEscape(DisplayName(x.Method)), x.Points, x.MinSeeds)
			for _, m := range Metrics {
				fmt.Fprintf(&b, " %s |", FormatValue(m, x.Spread[m]))
			}
			fmt.Fprintf(&b, " %s (NLL %s) | %s |\n", mdEscape(x.BestNLL), FormatValue(NLL, x.BestNLLValue), x.EvalSplit)
		}
		for _, x := range rep.Sensitivity {
			if x.EvalSplit != "validation" {
				b.WriteString("\nA best setting chosen on the test split is tuned on the test set: choose on a validation split (data.validation) instead.\n")
				break
			}
		}
	}
	if len(rep.Deviations) > 0 {
		b.WriteString("\n## Differences from the paper's protocol\n\n")
		for _, d := range rep.Deviations {
			fmt.Fprintf(&b, "- %s\n", mdEscape(d))
		}
	}
	if len(rep.Failures) > 0 {
		b.WriteString("\n## Failed or unfinished runs (not averaged)\n\n")
		b.WriteString("| Run directory | Status | Reason |\n|:--|:--|:--|\n")
		for _, f := range rep.Failures {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", mdEscape(f.Dir), mdEscape(f.Status), mdEscape(f.Reason))
		}
	}
	if len(rep.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range rep.Notes {
			fmt.Fprintf(&b, "- %s\n", mdEscape(n))
		}
		if hasReplaced(rep) {
			b.WriteString("- † paper std not used as tolerance (see above).\n")
		}
	}
	if len(rep.Warnings) > 0 {
		b.WriteString("\n## Warnings\n\n")
		for _, n := range rep.Warnings {
			fmt.Fprintf(&b, "- %s\n", mdEscape(n))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func hasReplaced(rep *Report) bool {
	for _, row := range rep.Rows {
		for _, m := range Metrics {
			if c := row.Cells[m]; c.Paper != nil && c.SigmaReplaced {
				return true
			}
		}
	}
	return false
}

var texReplacer = strings.NewReplacer(
	`\`, `\textbackslash{}`, `{`, `\{`, `}`, `\}`, `$`, `\$`, `&`, `\&`, `#`, `\#`,
	`%`, `\%`, `_`, `\_`, `~`, `\textasciitilde{}`, `^`, `\textasciicircum{}`,
	"–", "--", "−", "-", "±", "+/-", "σ", "sigma", "Δ", "diff", "×", "x", "ö", `\"o`, "†", "(*)",
)

var asciiReplacer = strings.NewReplacer("\n", " ", "±", "+/-", "−", "-", "–", "-", "Δ", "diff", "σ", "sigma",
	"≤", "<=", "≥", ">=", "×", "x", "†", "dagger", "ö", "oe")

// TeXEscape escapes s for LaTeX text mode.
func TeXEscape(s string) string { return texReplacer.Replace(s) }

// WriteLaTeX renders the main table as a booktabs tabular (needs
// \usepackage{booktabs}): our mean \pm std beside the paper's per metric,
// the best method per block in \textbf. Notes, deviations and failed runs
// follow as % comments so the fragment can be \input into a table.
func WriteLaTeX(w io.Writer, rep *Report) error {
	var b strings.Builder
	b.WriteString("% bsam report: mean +/- sample std (n-1) over n seeds; one seed shows no std.\n")
	fmt.Fprintf(&b, "%% metric source: %s; reference: %s\n", rep.Source, asciiReplacer.Replace(orNone(rep.Reference)))
	b.WriteString("% requires \\usepackage{booktabs}\n")
	b.WriteString("\\begin{tabular}{llllr" + strings.Repeat("rr", len(Metrics)) + "}\n\\toprule\n")
	b.WriteString("Model & Dataset & Protocol & Method & $n$")
	for _, m := range Metrics {
		fmt.Fprintf(&b, " & %s & Paper", TeXEscape(m.Title()))
	}
	b.WriteString(" \\\\\n")
	for i, row := range rep.Rows {
		model, dataset, proto := "", "", ""
		if i == 0 || !sameBlock(row, rep.Rows[i-1]) {
			b.WriteString("\\midrule\n")
			model, dataset = TeXEscape(DisplayName(row.Model)), TeXEscape(DisplayName(row.Dataset))
			proto = TeXEscape(protocolCell(row))
		} else if row.HyperLabel != "" {
			proto = TeXEscape(protocolCell(row))
		}
		fmt.Fprintf(&b, "%s & %s & %s & %s & %d", model, dataset, proto, TeXEscape(DisplayName(row.Method)), row.N())
		for _, m := range Metrics {
			c := row.Cells[m]
			s := ours(m, c, " $\\pm$ ")
			if c.Best {
				s = "\\textbf{" + s + "}"
			}
			p := "n/a"
			if c.Paper != nil {
				p = paper(m, c, " $\\pm$ ", "n/a", "$^\\dagger$")
			}
			fmt.Fprintf(&b, " & %s & %s", s, p)
		}
		b.WriteString(" \\\\\n")
	}
	b.WriteString("\\bottomrule\n\\end{tabular}\n")
	comment := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(&b, "%% %s:\n", title)
		for _, l := range lines {
			fmt.Fprintf(&b, "%%   %s\n", asciiReplacer.Replace(l))
		}
	}
	var protos []string
	for _, p := range rep.Protocols {
		protos = append(protos, fmt.Sprintf("%s / %s %s%s: %s", DisplayName(p.Model), DisplayName(p.Dataset), ShortHash(p.Family), bracket(p.Label), p.Description))
	}
	comment("Protocols", protos)
	var nas []string
	for _, row := range rep.Rows {
		if c := row.Cells[Metrics[0]]; c.Paper == nil && c.PaperNote != "" {
			nas = append(nas, row.Label()+": "+c.PaperNote)
		}
	}
	comment("Paper n/a", nas)
	comment("Differences from the paper's protocol", rep.Deviations)
	var fails []string
	for _, f := range rep.Failures {
		fails = append(fails, fmt.Sprintf("%s: %s %s", f.Dir, f.Status, f.Reason))
	}
	comment("Failed or unfinished runs (not averaged)", fails)
	notes := rep.Notes
	if hasReplaced(rep) {
		notes = append(append([]string(nil), notes...), "dagger: paper std not used as tolerance.")
	}
	comment("Notes", notes)
	_, err := io.WriteString(w, b.String())
	return err
}

func bracket(s string) string {
	if s == "" {
		return ""
	}
	return " [" + s + "]"
}

func num(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	return strconv.FormatFloat(x, 'g', 12, 64)
}

// round12 rounds x to 12 significant digits, hiding float noise such as
// 0.3199999999999932 in machine-readable output.
func round12(x float64) float64 {
	y, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	if err != nil {
		return x
	}
	return y
}

// CSVHeader is the header row of WriteCSV.
var CSVHeader = []string{"model", "dataset", "method", "setting", "metric", "source", "mean", "std", "n", "best",
	"paper_mean", "paper_std", "sigma", "sigma_replaced", "diff", "z", "verdict",
	"protocol", "family", "protocol_label", "eval_split", "paper_note"}

// WriteCSV writes one row per (row, metric) of the main table, then of the
// sweeps (setting non-empty, no comparison). Numbers are full precision;
// an absent value is an empty field.
func WriteCSV(w io.Writer, rep *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, rows := range [][]*Row{rep.Rows, rep.Sweeps} {
		for _, row := range rows {
			for _, m := range Metrics {
				c := row.Cells[m]
				rec := []string{row.Model, row.Dataset, row.Method, row.SettingString(), string(m), rep.Source,
					num(c.Mean), num(c.Std), strconv.Itoa(c.N), strconv.FormatBool(c.Best), "", "", "", "", "", "", c.Verdict,
					row.Protocol, row.Family, row.ProtocolLabel(), row.EvalSplit(), c.PaperNote}
				if c.Paper != nil {
					rec[10], rec[11], rec[12] = num(c.Paper.Mean), num(c.Paper.Std), num(c.Sigma)
					rec[13], rec[14], rec[15] = strconv.FormatBool(c.SigmaReplaced), num(c.Diff), num(c.Z)
				}
				if err := cw.Write(rec); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// SchemaVersion identifies the JSON layout of WriteJSON.
const SchemaVersion = "bsam.report/v1"

// JSONReport is the document WriteJSON writes. Absent numbers are null.
type JSONReport struct {
	Schema      string            `json:"schema"`
	Source      string            `json:"metric_source"`
	Std         string            `json:"std"`
	Reference   string            `json:"reference"`
	Searched    []string          `json:"searched"`
	NRuns       int               `json:"runs"`
	Selected    string            `json:"protocol_selection,omitempty"`
	Sensitivity []JSONSensitivity `json:"sensitivity"`
	Protocols   []JSONProtocol    `json:"protocols"`
	Rows        []JSONRow         `json:"rows"`
	Sweeps      []JSONRow         `json:"sweeps"`
	Failed      []Failure         `json:"failed"`
	Deviations  []string          `json:"deviations"`
	Notes       []string          `json:"notes"`
	Warnings    []string          `json:"warnings"`
}

// JSONSensitivity is one entry of JSONReport.Sensitivity.
type JSONSensitivity struct {
	Model     string              `json:"model"`
	Dataset   string              `json:"dataset"`
	Method    string              `json:"method"`
	Family    string              `json:"family"`
	EvalSplit string              `json:"eval_split"`
	Points    int                 `json:"points"`
	MinSeeds  int                 `json:"min_seeds"`
	Spread    map[Metric]*float64 `json:"spread"`
	BestNLL   string              `json:"best_by_nll"`
}

// JSONProtocol is one protocol family of JSONReport.
type JSONProtocol struct {
	Model       string `json:"model"`
	Dataset     string `json:"dataset"`
	Family      string `json:"family"`
	Label       string `json:"label"`
	EvalSplit   string `json:"eval_split"`
	Description string `json:"description"`
	Runs        int    `json:"runs"`
}

// JSONRow is one row of JSONReport.
type JSONRow struct {
	Model         string              `json:"model"`
	Dataset       string              `json:"dataset"`
	Method        string              `json:"method"`
	Protocol      string              `json:"protocol"`
	Family        string              `json:"family"`
	ProtocolLabel string              `json:"protocol_label"`
	EvalSplit     string              `json:"eval_split"`
	Setting       map[string]float64  `json:"setting,omitempty"`
	N             int                 `json:"n"`
	Seeds         []int               `json:"seeds"`
	Dirs          []string            `json:"dirs"`
	Metrics       map[Metric]JSONCell `json:"metrics"`
}

// JSONCell is one metric of a JSONRow.
type JSONCell struct {
	Mean          *float64 `json:"mean"`
	Std           *float64 `json:"std"`
	Best          bool     `json:"best"`
	PaperMean     *float64 `json:"paper_mean"`
	PaperStd      *float64 `json:"paper_std"`
	PaperNote     string   `json:"paper_note,omitempty"`
	Sigma         *float64 `json:"sigma"`
	SigmaReplaced bool     `json:"sigma_replaced"`
	Diff          *float64 `json:"diff"`
	Z             *float64 `json:"z"`
	Verdict       string   `json:"verdict"`
}

func ptr(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	x = round12(x)
	return &x
}

// JSON converts rep to its JSON document.
func (rep *Report) JSON() JSONReport {
	conv := func(rows []*Row) []JSONRow {
		out := []JSONRow{}
		for _, row := range rows {
			jr := JSONRow{Model: row.Model, Dataset: row.Dataset, Method: row.Method, N: row.N(), Seeds: row.Seeds,
				Protocol: row.Protocol, Family: row.Family, ProtocolLabel: row.ProtocolLabel(), EvalSplit: row.EvalSplit(),
				Metrics: map[Metric]JSONCell{}}
			if len(row.Swept) > 0 {
				jr.Setting = row.Setting
			}
			for _, run := range row.Runs {
				jr.Dirs = append(jr.Dirs, run.Dir)
			}
			for _, m := range Metrics {
				c := row.Cells[m]
				jc := JSONCell{Mean: ptr(c.Mean), Std: ptr(c.Std), Best: c.Best, Verdict: c.Verdict, PaperNote: c.PaperNote}
				if c.Paper != nil {
					jc.PaperMean, jc.PaperStd, jc.Sigma = ptr(c.Paper.Mean), ptr(c.Paper.Std), ptr(c.Sigma)
					jc.SigmaReplaced, jc.Diff, jc.Z = c.SigmaReplaced, ptr(c.Diff), ptr(c.Z)
				}
				jr.Metrics[m] = jc
			}
			out = append(out, jr)
		}
		return out
	}
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	failed := rep.Failures
	if failed == nil {
		failed = []Failure{}
	}
	protos := []JSONProtocol{}
	for _, p := range rep.Protocols {
		protos = append(protos, JSONProtocol{Model: p.Model, Dataset: p.Dataset, Family: p.Family, Label: p.Label,
			EvalSplit: p.EvalSplit, Description: p.Description, Runs: p.NRuns})
	}
	sens := []JSONSensitivity{}
	for _, x := range rep.Sensitivity {
		js := JSONSensitivity{Model: x.Model, Dataset: x.Dataset, Method: x.Method, Family: x.Family, EvalSplit: x.EvalSplit,
			Points: x.Points, MinSeeds: x.MinSeeds, Spread: map[Metric]*float64{}, BestNLL: x.BestNLL}
		for m, v := range x.Spread {
			js.Spread[m] = ptr(v)
		}
		sens = append(sens, js)
	}
	return JSONReport{
		Sensitivity: sens,
		Schema:      SchemaVersion, Source: rep.Source, Std: "sample (n-1); null for one seed", Reference: rep.Reference,
		Selected: rep.Selected, Protocols: protos,
		Searched: rep.Searched, NRuns: rep.NRuns, Rows: conv(rep.Rows), Sweeps: conv(rep.Sweeps), Failed: failed,
		Deviations: nonNil(rep.Deviations), Notes: nonNil(rep.Notes), Warnings: nonNil(rep.Warnings),
	}
}

// WriteJSON writes rep.JSON() indented.
func WriteJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(rep.JSON())
}
