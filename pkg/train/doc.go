// Package train runs experiments: for every method and seed it builds the
// model and optimizer from the run's seed (each random stream — init, data
// order, augmentation, bSAM noise, BMA samples — derived from it by name),
// trains epoch by epoch with the official schedule, evaluates the point
// prediction and, for bSAM, the Bayesian model average, and writes the run
// directory: config.yaml, metrics.jsonl, result.json and meta.json, all
// atomically. Checkpoints (checkpoint.bin) at every epoch end and on
// interruption let a run resume bit-identically; a lock keeps two processes
// off the same run. Bench times training steps for `bsam bench`.
package train
