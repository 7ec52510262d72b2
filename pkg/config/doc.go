// Package config defines bsam's experiment files: the schema, its defaults,
// how a file is resolved with environment variables and flags (precedence
// flag > environment > file > defaults), validation with errors that name
// the field and the file, and the hash that identifies a run.
//
// An experiment file looks like this:
//
//	name: quickstart
//	model: mlp
//	dataset: mnist
//	epochs: 4
//	warmup: 1
//	seeds: [0, 1]
//	optimizer:          # shared by all methods
//	  priorprec: 25
//	methods:            # one entry per method, with its own overrides
//	  sgd:  {lr: 0.05}
//	  bsam: {lr: 0.5, rho: 0.001}
package config
