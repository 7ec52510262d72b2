// Package check is bsam's reproducibility check: it trains a suite of small
// deterministic experiments twice, asserts that both runs give bit-identical
// metrics, and compares them with committed expected values within stated
// tolerances. A difference is "drift" (exit code 4 in the CLI).
//
// Suites are experiment files embedded from suites/: "ci" holds the files
// named ci_*.yaml (MLP on a real-MNIST subset with SGD and bSAM; ResNet-20-FRN
// on a subset of the shared real CIFAR-10 copy with all five methods), "full"
// adds full_*.yaml.
package check
