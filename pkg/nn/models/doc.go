// Package models builds the networks of the benchmark by name (SPEC §3):
// the MLP and LeNet-5 here, ResNet-20-FRN and ResNet-18 in their own files.
// Each architecture registers a layer constructor for float32 and float64;
// New turns it into an nn.Net.
package models
