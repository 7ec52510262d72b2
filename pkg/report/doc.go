// Package report aggregates finished bsam runs into the benchmark table of
// "SAM as an Optimal Relaxation of Bayes" (Möllenhoff & Khan, ICLR 2023) and
// compares it with the paper's numbers.
//
// Load walks one or more results directories for run directories (those
// holding result.json or meta.json), Build groups the finished runs by
// (model, dataset, method), computes the mean and the sample standard
// deviation (n−1 denominator) of accuracy, NLL, ECE and AUROC over seeds,
// marks the best method per (model, dataset) block, places the reference
// table beside each cell with the difference, the difference in units of the
// paper's standard deviation and a verdict, and lists how the runs deviate
// from the paper's protocol. Failed and unfinished runs are listed, never
// averaged in.
//
// The report is rendered as Markdown, LaTeX (booktabs), CSV (one row per
// cell and metric) or JSON (schema SchemaVersion) by WriteMarkdown,
// WriteLaTeX, WriteCSV and WriteJSON; WritePlots draws reliability diagrams,
// per-epoch curves and hyperparameter-sweep plots as PNG and SVG with
// gonum/plot.
//
// The paper's table is embedded (reference/paper_table.yaml) so a report
// works from any directory; LoadReference reads another file in the same
// format.
package report
