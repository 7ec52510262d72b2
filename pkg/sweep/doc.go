// Package sweep expands a sweep file (a base experiment plus a per-method
// grid of hyperparameter values) into ordinary runs and executes them,
// locally with a pool of subprocesses or on a Slurm cluster as an sbatch job
// array.
//
// # Sweep file
//
//	base: ../quickstart.yaml     # experiment file, relative to the sweep file
//	name: rho_mnist              # experiment name of the runs (default: file name)
//	seeds: [0, 1]                # default: the base file's seeds
//	out: runs                    # default: the base file's out (relative to the working directory)
//	set: {epochs: 3}             # fixed overrides (dotted paths, as bsam train --set)
//	grid:                        # per method: dotted optimizer paths → values
//	  sgd:  {optimizer.lr: [0.01, 0.05]}
//	  bsam: {optimizer.rho: [1.0e-4, 1.0e-3], optimizer.lr: [0.1, 0.5]}
//	slurm: {partition: cpu, time: "02:00:00", cpus_per_task: 2, mem: 4G,
//	        gres: "", throttle: 8, account: "", qos: "", extra: ["--constraint=avx2"]}
//
// Grid paths are optimizer hyperparameters (optimizer.<field>) that matter
// for the method (config.Run.HyperMap), because reports plot the metrics
// against those names. A grid's methods must be in the base experiment.
//
// # Expansion order
//
// Runs are numbered 0, 1, … in this order: methods in the order the grid
// lists them; within a method the cartesian product of its axes with the
// first axis varying slowest (nested loops in the order written, values in
// the order written); seeds innermost, in the order of seeds. Each point is
// the base file resolved with, in increasing precedence, the set overrides,
// name, seeds, out, swept=<hyperparameter names> and the point's values, and
// only the point's method selected. It therefore has an ordinary run
// directory (train.RunDir), so skip-done, resume and bsam report work
// unchanged. The swept names are the hyperparameter keys of result.json
// (rho, lr, …), which is what bsam report groups by.
//
// # State
//
// Everything the executors record lives in the sweep's state directory
// <out>/<name>/.sweep/: state.json (submissions: job ids, plans, scripts),
// plan-<n>.json (task index → run of submission n), the generated sbatch
// scripts, tasks/<hash>.json (one record per run: host, pid, job, start,
// end, exit code; written by the process that executes the run), logs/
// (local executor) and slurm/ (Slurm output and error files). All of it is
// written atomically. Whether a run is finished is decided only by its
// result.json, as bsam train decides it.
package sweep
