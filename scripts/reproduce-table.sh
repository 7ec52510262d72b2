#!/usr/bin/env bash
# reproduce-table.sh — the exact commands that reproduce the paper's full table
# (Möllenhoff & Khan 2023, "with data augmentation": 21 cells × 5 seeds) on a
# Slurm cluster, one sweep file per block of the table (configs/sweeps/table_*.yaml;
# each runs every method of its block with the block's own hyperparameters).
#
# Usage, on a login node with bsam built at a path the compute nodes share:
#   scripts/reproduce-table.sh --dry-run            # plan and cost estimate per block
#   scripts/reproduce-table.sh --partition cpu      # submit (extra flags go to bsam sweep)
#   scripts/reproduce-table.sh status               # done/running/failed per block
#   bsam report runs/ --format md                   # the table, ours beside the paper's
# Calling it again resubmits only failed or missing runs.
#
# Data: each job downloads and verifies its dataset into $BSAM_DATA_DIR (set it to
# a shared directory, or run `bsam data download cifar10 cifar100 tinyimagenet` first).
#
# Estimated cost (training only; evaluation adds a few %), from throughput measured
# with `bsam bench` on a 2-core AVX-512 machine (see README, Performance): CPU-hours
# for one cell = 5 seeds × 181 epochs, counted as core-hours at that throughput.
# `--dry-run` prints the same estimate timed on the machine it runs on.
#
# Throughput used (bsam bench, batch 200, 2 cores): ResNet-20-FRN 655 img/s SGD,
# 319 img/s bSAM (SAM-type steps are ~2.05× an SGD step); ResNet-18 61 img/s SGD
# (batch 128), SAM-type ×2.19. TinyImageNet's 64×64 inputs cost ~4× a CIFAR image
# (estimated from the FLOPs, not measured).
#
#   block (cells)                 core-h per seed      core-h per cell (5 seeds)   block
#                                 SGD/Adam  SAM-type   SGD/Adam  SAM-type
#   ResNet-20-FRN CIFAR-10 (5)        7.7      15.8        38        79            ~313
#   ResNet-20-FRN CIFAR-100 (5)       7.7      15.8        38        79            ~313
#   ResNet-20-FRN TinyImageNet (5)     61       126       307       629          ~2,500
#   ResNet-18 CIFAR-10 (3)             82       180       412       902          ~2,200
#   ResNet-18 CIFAR-100 (3)            82       180       412       902          ~2,200
#   all 21 cells × 5 seeds                                                       ~7,500 core-hours
set -euo pipefail
cd "$(dirname "$0")/.."
BSAM=${BSAM:-bin/bsam}
[ -x "$BSAM" ] || make build >&2
blocks=(resnet20_cifar10 resnet20_cifar100 resnet20_tinyimagenet resnet18_cifar10 resnet18_cifar100)

if [ "${1:-}" = status ]; then
	for b in "${blocks[@]}"; do "$BSAM" sweep status "configs/sweeps/table_$b.yaml"; done
	exit 0
fi
if [ "${1:-}" = --dry-run ]; then
	for b in "${blocks[@]}"; do
		echo "== $b"
		"$BSAM" sweep "configs/sweeps/table_$b.yaml" --dry-run | tail -n 4
	done
	exit 0
fi
for b in "${blocks[@]}"; do
	echo "== $b"
	"$BSAM" sweep "configs/sweeps/table_$b.yaml" --executor slurm --report "$@"
done
echo "When the jobs are done: $BSAM report runs/ --format md   (or --format latex)"
