// Package e2e holds end-to-end tests that build the bsam binary and run it as
// a user would: crash-and-resume, determinism across CPU counts, divergence
// and exit codes. It has no non-test code.
package e2e
