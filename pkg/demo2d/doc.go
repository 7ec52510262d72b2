// Package demo2d is the 2-D illustration of "SAM as an Optimal Relaxation
// of Bayes" (Möllenhoff & Khan, ICLR 2023), after demo2d.py of the
// official code (team-approx-bayes/bayesian-sam): on two moons, SGD and
// SAM-SGD stay confident (predictive probabilities near 0 or 1) far from
// the training points, while bSAM's Bayesian model average fades towards
// ½ there and its posterior samples spread their decision boundaries where
// there is no data.
//
// Reading order:
//
//   - moons.go: the two-moons data (scikit-learn's make_moons
//     construction, seeded PCG) and the named random streams;
//   - config.go: every setting, DefaultConfig (the official demo's values
//     and the documented choices for SGD and SAM-SGD) and the optim.Hyper
//     of each method;
//   - model.go: the MLP 2→32→32→32→32→1 with ELU on pkg/nn, with
//     nn.BinaryHead turning the softmax cross-entropy into the logistic
//     loss, the optim.Objective of a minibatch and the predictor of
//     p(class 1);
//   - train.go: Train, which runs pkg/optim's optimizers (no update rule
//     of its own) over the official schedule, and Predict, which evaluates
//     the point prediction or bSAM's model average over posterior samples
//     drawn with optim.PosteriorSampleStd;
//   - measure.go: the grid, the distance of grid points to the data and
//     the mean max-probability measure;
//   - plot.go: the gonum figure (PNG, SVG) and the GIF frames;
//   - demo.go: Run, which puts it together and writes demo2d.json.
//
// Everything is float64, as the official demo (jax_enable_x64), and every
// random stream derives from Config.Seed; a batch of 6 or 30 points runs as
// one shard of the engine and grid evaluations do not depend on the number
// of goroutines, so demo2d.json is byte-identical for a seed on any number
// of CPUs.
package demo2d
