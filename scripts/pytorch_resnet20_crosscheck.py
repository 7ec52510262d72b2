#!/usr/bin/python3
r"""Training-level cross-check of bsam's ResNet-20-FRN against an independent PyTorch run.

A verification tool, not part of bsam. It trains ResNet-20-FRN on CIFAR-10 with the protocol
of configs/resnet20_cifar10.yaml (SGD or bSAM) in PyTorch, written from the paper and the official code (not
translated from bsam's Go), and writes per-epoch test accuracy and NLL as JSON, so that
`bsam train` runs and these runs can be compared seed-averaged, side by side
(results/crosscheck-resnet20/README.md). Seeds do not match across the two frameworks: the
comparison is statistical (|Δmean| / sqrt(s1²/n1 + s2²/n2) per epoch and metric).

What it matches (the official code, and where bsam does it):
  model        ResNet-20-FRN (the official resnet20 model): the network of ../shared/bench/pytorch_anchor.py,
               copied here so the script is self-contained: conv(SAME, TF convention, bias) -> FRN
               (eps 1e-6) + TLU max(y, tau), identity activations, 1x1 conv+FRN projections,
               8x8/8 average pool, linear head (pkg/nn/models/resnet20.go).
  init         He-normal as haiku's VarianceScaling(2, fan_in, truncated_normal): N(0, σ'²)
               truncated at ±2σ' with σ' = sqrt(2/fan_in)/0.8796 (realised std sqrt(2/fan_in)),
               fan_in = k·k·C_in (conv) or 64 (head); biases 0; FRN γ=1, β=0, τ=0
               (pkg/nn/init.go HeNormal). The anchor's kaiming_normal_ (untruncated) is replaced.
  data         train/<class>/*.jpg and test/<class>/*.jpg of the tar.gz, classes = sorted train
               folders, decoded with PIL (libjpeg; bsam uses Go's IDCT + libjpeg's upsampling and
               colour conversion, so pixels may differ by ~1 level), 50,000 / 10,000 images.
  normalise    (v/255 − mean)/std, mean (0.4914, 0.4822, 0.4465), std (0.2023, 0.1994, 0.2010).
  augment      RandomCrop(32, padding=4, zero fill in pixel space, offsets uniform in 0..8)
               then horizontal flip with probability ½, drawn per example and epoch; test
               images are not augmented.
  order        a fresh random permutation every epoch, batch 200, drop_last (no-op: 50000/200).
  schedule     per-epoch factor (the official schedule (train.py), official extra epoch): E+1 epochs (indices 0..E);
               e < W: (e+1)/W; e ≥ W: ½(1+cos(π(e−W)/(E+1−W))). --epochs 2 --warmup 1 gives
               epochs 0,1,2 with factors 1, 1, 0.5.
  SGD          heavy-ball without dampening, coupled L2 on every parameter:
               gm ← β₁gm + g + δw; w ← w − α·f·gm, δ = priorprec/N, N = 50,000
               (torch.optim.SGD(lr=α·f, momentum=β₁, weight_decay=δ) is exactly this).
  bSAM         the official bSAM (build_bsam_optimizer) with m-sharpness: the batch of 200 is split into m = 8 sub-batches of
               25; per sub-batch k: θ_k = w + e_k/sqrt(N s), g_k = ∇ℓ_k(θ_k), ε_k = ρ g_k / s,
               g̃_k = ∇ℓ_k(w + ε_k); then ḡ = mean g̃_k, h̄ = sqrt(s)·mean|g_k|,
               gm ← β₁gm + (1−β₁)(ḡ + δw); w ← w − α·f·gm/s (old s);
               s ← β₂s + (1−β₂)(h̄ + γ + δ); N = 50,000·dafactor, δ = priorprec/N.
  evaluation   every epoch: the prediction at w (SGD weights / bSAM posterior mean), which is
               what bsam's per-epoch metrics.jsonl holds (pkg/train/trainer.go evaluate()).
               At the end additionally, for bSAM, the BMA of result.json: for every test batch
               32 fresh samples θ_j = w + e_j/sqrt(N s), probabilities averaged.
               Accuracy = % of argmax(p) == y; NLL = mean over the test set of −log p[y]
               (the true mean; bsam's eval.nll_official_factor is off by default).

Run (CPU; tcmalloc and a passive OpenMP wait policy are what ../shared/bench measured best):
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4 OMP_WAIT_POLICY=PASSIVE \
    /usr/bin/python3 scripts/pytorch_resnet20_crosscheck.py \
        --data cifar10-jpeg.tar.gz --method sgd|bsam --seed N \
        --epochs 2 --warmup 1 --out FILE.json
Smoke test on a subset (one epoch of 1,000 images, 1,000 test images):
    ... --train-subset 1000 --test-subset 1000 --epochs 0 --warmup 0 --out /tmp/smoke.json
The decoded images are cached as .npz (--cache, default /tmp/cifar10-jpeg-pil.npz).
Needs Debian's python3-torch (1.13), python3-numpy and python3-pil; no torchvision.

Compare with bsam:
    bsam train --config configs/resnet20_cifar10.yaml --method sgd --seeds 0,1 --epochs 2 \
        --set warmup=1 --set data.source=PATH/cifar10-jpeg.tar.gz --set eval.every=1 --out DIR
and read test_acc / test_nll of each epoch in DIR/*/metrics.jsonl beside "epochs" here
(same keys; accuracy in %, as bsam writes it), or let the script print the side-by-side table
(mean ± std over seeds, σ-distance |Δmean| / sqrt(s1²/n1 + s2²/n2) per epoch and metric):
    /usr/bin/python3 scripts/pytorch_resnet20_crosscheck.py compare DIR PYTORCH_JSON_DIR
Forward-pass check (same weights in both frameworks): evaluate a finished bsam run's
checkpoint.bin with this script's network, PIL decoding and metrics:
    /usr/bin/python3 scripts/pytorch_resnet20_crosscheck.py evalckpt DIR/.../checkpoint.bin \
        --data PATH/cifar10-jpeg.tar.gz [--bma 32]
Optimizer step check (same weights, same batch, same noise draws; S steps in PyTorch and in
bsam's pkg/optim through a small Go harness, results/crosscheck-resnet20/stepcheck/
scripts/crosscheck/xcheckstep.go.txt, built as BIN; --double runs PyTorch in float64 as the reference):
    /usr/bin/python3 scripts/pytorch_resnet20_crosscheck.py stepcheck --harness BIN \
        --data PATH/cifar10-jpeg.tar.gz --method sgd|bsam --steps 1 [--double] [--set priorprec=...]
With 2 seeds per side the std estimates are very rough (1 degree of freedom each): read a
σ-distance of a few as consistent with noise, and look for a gap that is large, one-sided and
persists over epochs and both metrics.

Output JSON: {"framework", "method", "seed", "hyper", "epochs": [{"epoch", "lr_factor",
"train_loss", "test_acc", "test_nll", "seconds"}], "final": {"point", "bma"}, "meta"}.
"""
import argparse
import io
import json
import math
import os
import platform
import sys
import tarfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)
STD = np.array([0.2023, 0.1994, 0.2010], dtype=np.float32)

# configs/resnet20_cifar10.yaml
HYPER = {
    "sgd": dict(lr=0.1, beta1=0.9, priorprec=25.0, dafactor=1.0),
    "bsam": dict(lr=0.5, beta1=0.9, beta2=0.999, rho=0.01, priorprec=40.0, dafactor=4.0,
                 batchsplit=8, damping=0.1, s_init=1.0, test_mc=32),
}


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------
def load_cifar_jpeg(path, cache):
    """Returns (classes, xtr uint8 N×32×32×3, ytr int64, xte, yte), classes = sorted train dirs."""
    if cache and os.path.exists(cache):
        z = np.load(cache, allow_pickle=False)
        if str(z["source"]) == os.path.abspath(path):
            return list(z["classes"]), z["xtr"], z["ytr"], z["xte"], z["yte"]
    from PIL import Image

    entries = {"train": [], "test": []}
    with tarfile.open(path, "r:*") as tf:
        for m in tf:
            if not m.isfile() or not m.name.lower().endswith((".jpg", ".jpeg", ".png")):
                continue
            parts = m.name.split("/")
            # .../{train,test}/<class>/<file>
            if len(parts) < 3 or parts[-3] not in entries:
                continue
            img = Image.open(io.BytesIO(tf.extractfile(m).read())).convert("RGB")
            entries[parts[-3]].append((parts[-2], parts[-1], np.asarray(img, dtype=np.uint8)))
    classes = sorted({c for c, _, _ in entries["train"]})
    idx = {c: i for i, c in enumerate(classes)}
    out = []
    for split in ("train", "test"):
        es = sorted(entries[split], key=lambda e: (idx[e[0]], e[1]))
        out.append(np.stack([e[2] for e in es]))
        out.append(np.array([idx[e[0]] for e in es], dtype=np.int64))
    if cache:
        np.savez(cache, source=os.path.abspath(path), classes=np.array(classes), xtr=out[0],
                 ytr=out[1], xte=out[2], yte=out[3])
    return (classes, *out)


def normalise(x_uint8):
    """uint8 N×H×W×C -> float32 N×C×H×W, (v/255 − mean)/std."""
    x = (x_uint8.astype(np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def augment(x_uint8, rng, pad=4):
    """RandomCrop(32, padding=pad, fill 0) + RandomHorizontalFlip(0.5), per example."""
    n, h, w, c = x_uint8.shape
    padded = np.zeros((n, h + 2 * pad, w + 2 * pad, c), dtype=np.uint8)
    padded[:, pad:pad + h, pad:pad + w] = x_uint8
    dy = rng.integers(0, 2 * pad + 1, size=n)
    dx = rng.integers(0, 2 * pad + 1, size=n)
    flip = rng.random(n) < 0.5
    out = np.empty_like(x_uint8)
    for i in range(n):
        crop = padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
        out[i] = crop[:, ::-1] if flip[i] else crop
    return out


# --------------------------------------------------------------------------------------
# ResNet-20-FRN (from ../shared/bench/pytorch_anchor.py; init replaced by haiku's He-normal)
# --------------------------------------------------------------------------------------
class FRN(nn.Module):
    """nu2 = mean_{H,W} x²; x̂ = x·rsqrt(nu2 + 1e-6); y = γx̂ + β; z = max(y, τ).

    max(y, τ) is computed as τ + relu(y − τ): the same function, much cheaper backward on
    PyTorch 1.13 CPU (the anchor's --tlu relu)."""

    def __init__(self, channels, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))
        self.tau = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        nu2 = x.pow(2).mean(dim=(2, 3), keepdim=True)
        x = x * torch.rsqrt(nu2 + self.eps)
        g = self.gamma.view(1, -1, 1, 1)
        b = self.beta.view(1, -1, 1, 1)
        t = self.tau.view(1, -1, 1, 1)
        return t + F.relu(g * x + b - t)


class FRNLayer(nn.Module):
    """Conv2d (bias, TF/haiku SAME padding) -> FRN+TLU."""

    def __init__(self, cin, cout, k=3, stride=1):
        super().__init__()
        self.k, self.stride = k, stride
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=0, bias=True)
        self.frn = FRN(cout)

    def forward(self, x):
        h = x.shape[-1]
        out = -(-h // self.stride)
        total = max((out - 1) * self.stride + self.k - h, 0)
        before = total // 2
        if total:
            x = F.pad(x, (before, total - before, before, total - before))
        return self.frn(self.conv(x))


class FRNBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.layer1 = FRNLayer(cin, cout, 3, stride)
        self.layer2 = FRNLayer(cout, cout, 3, 1)
        self.shortcut = FRNLayer(cin, cout, 1, stride) if (stride != 1 or cin != cout) else None

    def forward(self, x):
        y = self.layer2(self.layer1(x))
        if self.shortcut is not None:
            x = self.shortcut(x)
        return x + y  # identity activation


class ResNet20FRN(nn.Module):
    def __init__(self, num_classes=10, width=16):
        super().__init__()
        self.stem = FRNLayer(3, width, 3, 1)
        stacks, cin = [], width
        for s in range(3):
            cout = width * (2 ** s)
            blocks = []
            for b in range(3):
                blocks.append(FRNBlock(cin, cout, 2 if (s > 0 and b == 0) else 1))
                cin = cout
            stacks.append(nn.Sequential(*blocks))
        self.stack1, self.stack2, self.stack3 = stacks
        self.head = nn.Linear(cin, num_classes)
        haiku_he_normal_init(self)

    def forward(self, x):
        x = self.stack3(self.stack2(self.stack1(self.stem(x))))
        x = F.avg_pool2d(x, 8, 8)  # 8×8/8 VALID
        return self.head(torch.flatten(x, 1))


TRUNC_STD = 0.87962566103423978  # std of a standard normal truncated at ±2


def haiku_he_normal_init(model):
    """VarianceScaling(2.0, 'fan_in', 'truncated_normal'): σ' = sqrt(2/fan_in)/0.8796, ±2σ'."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()
            sd = math.sqrt(2.0 / fan_in) / TRUNC_STD
            with torch.no_grad():
                nn.init.trunc_normal_(m.weight, mean=0.0, std=sd, a=-2 * sd, b=2 * sd)
                nn.init.zeros_(m.bias)


# --------------------------------------------------------------------------------------
# Schedule, optimizers
# --------------------------------------------------------------------------------------
def lr_factor(e, epochs, warmup):
    """the official schedule (train.py) with the official extra epoch (epoch indices 0..epochs)."""
    if e < warmup:
        return (e + 1) / warmup
    span = epochs + 1 - warmup
    if span <= 0:
        return 1.0
    return 0.5 * (1 + math.cos(math.pi * (e - warmup) / span))


def grads_at(model, params, point, x, y):
    """Loads `point` into the model, returns (mean CE loss, list of gradients)."""
    with torch.no_grad():
        for p, v in zip(params, point):
            p.copy_(v)
    loss = F.cross_entropy(model(x), y)
    gs = torch.autograd.grad(loss, params)
    return loss.item(), gs


class BSAM:
    """Bayesian SAM of the official bSAM (build_bsam_optimizer) (the official code's version) with m sub-batches."""

    def __init__(self, params, h, ntrain, gen):
        self.params = params
        self.lr, self.b1, self.b2 = h["lr"], h["beta1"], h["beta2"]
        self.rho, self.gamma, self.m = h["rho"], h["damping"], h["batchsplit"]
        self.N = ntrain * h["dafactor"]
        self.delta = h["priorprec"] / self.N
        self.w = [p.detach().clone() for p in params]
        self.gm = [torch.zeros_like(p) for p in params]
        self.s = [torch.full_like(p, h["s_init"]) for p in params]
        self.gen = gen
        self.fixed_noise = None  # optional callable k -> list of standard-normal tensors

    def posterior_std(self):
        return [torch.sqrt(1.0 / (self.N * s)) for s in self.s]

    def step(self, model, x, y, factor):
        m = self.m
        n = x.shape[0]
        assert n % m == 0, "batch must be divisible by batchsplit"
        sd = self.posterior_std()
        gbar = [torch.zeros_like(w) for w in self.w]
        gabs = [torch.zeros_like(w) for w in self.w]
        losses = []
        for k in range(m):
            xs, ys = x[k * n // m:(k + 1) * n // m], y[k * n // m:(k + 1) * n // m]
            if self.fixed_noise is not None:  # stepcheck: replay given draws
                e = self.fixed_noise(k)
            else:
                e = [torch.randn(w.shape, generator=self.gen) for w in self.w]
            theta = [w + ek * d for w, ek, d in zip(self.w, e, sd)]
            _, g = grads_at(model, self.params, theta, xs, ys)          # g_k at the noisy sample
            pert = [w + self.rho * gk / s for w, gk, s in zip(self.w, g, self.s)]  # w + ε_k
            loss, gt = grads_at(model, self.params, pert, xs, ys)        # g̃_k at mean + ε_k
            losses.append(loss)
            for a, b, gk, gtk in zip(gbar, gabs, g, gt):
                a.add_(gtk, alpha=1.0 / m)
                b.add_(gk.abs(), alpha=1.0 / m)
        with torch.no_grad():
            for w, gm, s, gb, ga in zip(self.w, self.gm, self.s, gbar, gabs):
                gm.mul_(self.b1).add_(gb + self.delta * w, alpha=1 - self.b1)
                hbar = torch.sqrt(s) * ga                                # uses the old s
                w.sub_(self.lr * factor * gm / s)                        # old s
                s.mul_(self.b2).add_(hbar + self.gamma + self.delta, alpha=1 - self.b2)
            for p, w in zip(self.params, self.w):
                p.copy_(w)
        return sum(losses) / m


# --------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------
@torch.no_grad()
def evaluate(model, params, xte, yte, batch, samples=None):
    """samples: None -> prediction at the current parameters; else (w, sd, J, gen) -> BMA with J
    fresh samples per test batch. Returns accuracy (%) and mean NLL over the test set."""
    model.eval()
    correct, nll_sum, n = 0, 0.0, 0
    for i in range(0, xte.shape[0], batch):
        x = normalise(xte[i:i + batch])
        y = torch.from_numpy(yte[i:i + batch])
        if samples is None:
            lp = F.log_softmax(model(x).double(), dim=1)
        else:
            w, sd, J, gen = samples
            lps = []
            for _ in range(J):
                for p, wi, di in zip(params, w, sd):
                    p.copy_(wi + torch.randn(wi.shape, generator=gen) * di)
                lps.append(F.log_softmax(model(x).double(), dim=1))
            lp = torch.logsumexp(torch.stack(lps), dim=0) - math.log(J)  # log of mean probs
        correct += (lp.argmax(1) == y).sum().item()
        nll_sum += -lp.gather(1, y[:, None]).sum().item()
        n += y.shape[0]
    if samples is not None:
        for p, wi in zip(params, samples[0]):
            p.copy_(wi)
    model.train()
    return {"test_acc": 100.0 * correct / n, "test_nll": nll_sum / n, "n": n}


# --------------------------------------------------------------------------------------
# Comparison: bsam run directories vs this script's JSON files
# --------------------------------------------------------------------------------------
def _mean_std(v):
    v = np.asarray(v, dtype=np.float64)
    return v.mean(), (v.std(ddof=1) if len(v) > 1 else float("nan")), len(v)


def _sigma(a, b):
    """|Δmean| / sqrt(s1²/n1 + s2²/n2). A side with a single run has no std of its own: it
    borrows the other side's seed-to-seed std (equal-variance assumption; marked † by compare)."""
    (m1, s1, n1), (m2, s2, n2) = a, b
    if n1 < 2 and n2 < 2:
        return float("nan")
    if n1 < 2:
        s1 = s2
    if n2 < 2:
        s2 = s1
    se = math.sqrt(s1 ** 2 / n1 + s2 ** 2 / n2)
    return abs(m1 - m2) / se if se > 0 else float("inf")


def compare(bsam_dir, pt_dir):
    """Prints a markdown table: per method, epoch and metric, mean ± std over seeds for bsam
    (DIR/**/metrics.jsonl, result.json) and PyTorch (PT_DIR/*.json), and the σ-distance."""
    runs = {}  # (framework, method) -> list of {"epochs": [...], "bma": {...}}
    for root, _, files in os.walk(bsam_dir):
        if "metrics.jsonl" in files and "result.json" in files:
            res = json.load(open(os.path.join(root, "result.json")))
            eps = [json.loads(l) for l in open(os.path.join(root, "metrics.jsonl")) if l.strip()]
            runs.setdefault(("bsam", res["method"]), []).append(
                {"seed": res["seed"], "epochs": eps, "bma": {"test_acc": res["bma"]["acc"], "test_nll": res["bma"]["nll"]}})
    for f in sorted(os.listdir(pt_dir)):
        if f.endswith(".json"):
            d = json.load(open(os.path.join(pt_dir, f)))
            runs.setdefault(("pytorch", d["method"]), []).append(
                {"seed": d["seed"], "epochs": d["epochs"], "bma": d["final"]["bma"]})
    print("| method | epoch | metric | bsam (n) | PyTorch (n) | Δ (bsam − PyTorch) | σ-distance |")
    print("|---|---|---|---|---|---|---|")
    for method in ("sgd", "bsam"):
        b, p = runs.get(("bsam", method), []), runs.get(("pytorch", method), [])
        if not b or not p:
            continue
        ne = min(min(len(r["epochs"]) for r in b), min(len(r["epochs"]) for r in p))
        rows = [(str(e), lambda r, e=e: r["epochs"][e]) for e in range(ne)]
        if method == "bsam":
            rows.append(("final BMA (J=32)", lambda r: r["bma"]))
        for label, get in rows:
            for key, name, fmt in (("test_acc", "acc %", "%.2f"), ("test_nll", "NLL", "%.4f")):
                a = _mean_std([get(r)[key] for r in b])
                c = _mean_std([get(r)[key] for r in p])
                sd = lambda v: (fmt % v[1]) if v[2] > 1 else "–"
                print("| %s | %s | %s | %s ± %s (%d) | %s ± %s (%d) | %s | %.2f%s |" % (
                    method, label, name, fmt % a[0], sd(a), a[2], fmt % c[0], sd(c), c[2],
                    ("%+" + fmt[1:]) % (a[0] - c[0]), _sigma(a, c), "†" if min(a[2], c[2]) < 2 else ""))


# --------------------------------------------------------------------------------------
# Forward-pass check: a bsam checkpoint's weights evaluated by this script's network
# --------------------------------------------------------------------------------------
def read_bsam_checkpoint(path):
    """Parses a bsam checkpoint.bin (magic BSAMCKP1, u32 header length, JSON header, float32
    arrays in header order, SHA-256). Returns (header, {name: np.float32 array})."""
    import hashlib
    import struct
    b = open(path, "rb").read()
    if b[:8] != b"BSAMCKP1" or hashlib.sha256(b[:-32]).digest() != b[-32:]:
        raise ValueError("%s: not a valid bsam checkpoint" % path)
    hl = struct.unpack("<I", b[8:12])[0]
    hdr = json.loads(b[12:12 + hl])
    p, arrays = 12 + hl, {}
    for a in hdr["arrays"]:
        arrays[a["name"]] = np.frombuffer(b, dtype="<f4", count=a["len"], offset=p).astype(np.float32)
        p += 4 * a["len"]
    return hdr, arrays


def load_flat_into(model, flat):
    """bsam's flat parameter vector -> this model. bsam registers parameters in the same order
    as this module tree (conv weight, conv bias, FRN γ, β, τ per unit; block: layer1, layer2,
    shortcut; head weight, bias); conv weights are (K, K, Cin, Cout), linear (in, out)."""
    flat = torch.from_numpy(flat)
    off = 0
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 4:
                o, i, kh, kw = p.shape
                v = flat[off:off + p.numel()].view(kh, kw, i, o).permute(3, 2, 0, 1)
            elif p.dim() == 2:
                o, i = p.shape
                v = flat[off:off + p.numel()].view(i, o).t()
            else:
                v = flat[off:off + p.numel()]
            p.copy_(v)
            off += p.numel()
    assert off == flat.numel(), "parameter count mismatch: %d vs %d" % (off, flat.numel())


def flat_to_tensors(model, flat):
    """Splits a bsam-layout flat vector into tensors shaped like model's parameters."""
    out, off = [], 0
    for p in model.parameters():
        v = flat[off:off + p.numel()]
        if p.dim() == 4:
            o, i, kh, kw = p.shape
            v = v.view(kh, kw, i, o).permute(3, 2, 0, 1)
        elif p.dim() == 2:
            o, i = p.shape
            v = v.view(i, o).t()
        out.append(v.contiguous().view(p.shape))
        off += p.numel()
    return out


def tensors_to_flat(tensors):
    """Inverse of flat_to_tensors: conv (O, I, kh, kw) -> (kh, kw, I, O), linear (O, I) -> (I, O)."""
    parts = []
    for t in tensors:
        if t.dim() == 4:
            t = t.permute(2, 3, 1, 0)
        elif t.dim() == 2:
            t = t.t()
        parts.append(t.contiguous().view(-1))
    return torch.cat(parts)


def stepcheck(args):
    """Runs S optimizer steps from the same weights, on the same batch, with the same noise,
    in this script and in bsam's Go optimizer (through a small harness that calls pkg/optim
    and pkg/nn, given by --harness), and prints the differences of w, gm and s."""
    import subprocess
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    _, xtr, ytr, _, _ = load_cifar_jpeg(args.data, args.cache)
    idx = rng.choice(xtr.shape[0], args.batch, replace=False)
    xb = augment(xtr[idx], rng)
    x, y = normalise(xb), torch.from_numpy(ytr[idx])
    model = ResNet20FRN(10)
    params = list(model.parameters())
    w0 = tensors_to_flat([p.detach() for p in params])
    if args.double:  # the PyTorch side in float64: its own float32 error is then visible
        model.double()
        x = x.double()
        params = list(model.parameters())
    n = w0.numel()
    h = dict(HYPER[args.method])
    for kv in args.set:  # e.g. priorprec=20000 or beta2=0.5: make single terms visible
        k, v = kv.split("=", 1)
        if k not in h:
            sys.exit("unknown hyperparameter %r" % k)
        h[k] = type(h[k])(float(v))
    ntrain = 50000
    d = args.workdir
    os.makedirs(d, exist_ok=True)
    w0.numpy().astype("<f4").tofile(os.path.join(d, "params.f32"))
    x.permute(0, 2, 3, 1).contiguous().numpy().astype("<f4").tofile(os.path.join(d, "x.f32"))
    y.numpy().astype("<i4").tofile(os.path.join(d, "y.i32"))
    hyper = {"LR": h["lr"], "Beta1": h["beta1"], "PriorPrec": h["priorprec"], "DAFactor": h["dafactor"]}
    losses = []
    if args.method == "bsam":
        hyper.update({"Beta2": h["beta2"], "Rho": h["rho"], "BatchSplit": h["batchsplit"],
                      "Damping": h["damping"], "SInit": h["s_init"]})
        m = h["batchsplit"]
        noise = torch.from_numpy(rng.standard_normal((args.steps, m, n)).astype(np.float32))
        noise.numpy().astype("<f4").tofile(os.path.join(d, "noise.f32"))
        opt = BSAM(params, h, ntrain, None)
        step = [0]
        opt.fixed_noise = lambda k: [t.to(x.dtype) for t in flat_to_tensors(model, noise[step[0], k])]
        for t in range(args.steps):
            step[0] = t
            losses.append(opt.step(model, x, y, args.lr_factor))
        state = {"w": opt.w, "gm": opt.gm, "s": opt.s}
    else:
        delta = h["priorprec"] / (ntrain * h["dafactor"])
        opt = torch.optim.SGD(params, lr=h["lr"] * args.lr_factor, momentum=h["beta1"], weight_decay=delta)
        for t in range(args.steps):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        state = {"w": [p.detach() for p in params],
                 "gm": [opt.state[p]["momentum_buffer"] for p in params]}
    json.dump({"method": args.method, "steps": args.steps, "lr_factor": args.lr_factor, "ntrain": ntrain,
               "batch": args.batch, "hyper": hyper}, open(os.path.join(d, "config.json"), "w"))
    r = subprocess.run([args.harness, d], capture_output=True, text=True)
    if r.returncode:
        sys.exit("harness failed: " + r.stdout + r.stderr)
    go_losses = json.load(open(os.path.join(d, "go_losses.json")))
    report = {"method": args.method, "steps": args.steps, "lr_factor": args.lr_factor, "hyper": h,
              "loss_pytorch": losses, "loss_bsam": go_losses, "vectors": {}}
    for name, ts in state.items():
        a = tensors_to_flat([t.detach() for t in ts]).double()
        b = torch.from_numpy(np.fromfile(os.path.join(d, "go_%s.f32" % name), dtype="<f4")).double()
        a.numpy().astype("<f8").tofile(os.path.join(d, "pt_%s.f64" % name))
        ref = (a - w0.double()) if name == "w" else a
        report["vectors"][name] = {
            "max_abs_diff": (a - b).abs().max().item(),
            "rel_diff": ((a - b).norm() / ref.norm()).item(),  # w: relative to the update w − w0
            "norm_ref": ref.norm().item()}
        if name == "w":  # where the difference sits: per parameter tensor, largest first
            names = [nm for nm, _ in model.named_parameters()]
            per, off = [], 0
            for nm, p in zip(names, params):
                sl = slice(off, off + p.numel())
                per.append((((a[sl] - b[sl]).norm() / max(ref[sl].norm().item(), 1e-30)).item(), nm))
                off += p.numel()
            report["w_worst_tensors"] = sorted(per, reverse=True)[:6]
    print(json.dumps(report, indent=1))


def evalckpt(args):
    """Evaluates a bsam checkpoint's parameters (and, for bSAM, its BMA) with this script's
    network, data decoding and metrics; prints them beside the run's own metrics."""
    torch.set_num_threads(args.threads)
    hdr, arr = read_bsam_checkpoint(args.checkpoint)
    _, _, _, xte, yte = load_cifar_jpeg(args.data, args.cache)
    model = ResNet20FRN(10)
    params = list(model.parameters())
    load_flat_into(model, arr["params"])
    ev = evaluate(model, params, xte, yte, 200)
    rec = hdr["records"][-1] if hdr.get("records") else {}
    # The run's identity (experiment/run/checkpoint.bin), not where this
    # machine kept it.
    ck = os.path.join(*os.path.normpath(os.path.abspath(args.checkpoint)).split(os.sep)[-3:])
    out = {"checkpoint": ck, "epoch": hdr["epoch"], "bsam_point": {
        "test_acc": rec.get("test_acc"), "test_nll": rec.get("test_nll")}, "pytorch_point": ev}
    if "opt.s" in arr and args.bma:
        w = [p.detach().clone() for p in params]
        load_flat_into(model, arr["opt.s"])  # reuse the layout conversion for s
        s = [p.detach().clone() for p in params]
        for p, wi in zip(params, w):
            with torch.no_grad():
                p.copy_(wi)
        N = 50000 * 4.0
        sd = [torch.sqrt(1.0 / (N * si)) for si in s]
        out["pytorch_bma"] = evaluate(model, params, xte, yte, 200,
                                      samples=(w, sd, args.bma, torch.Generator().manual_seed(args.bma_seed)))
    print(json.dumps(out, indent=1))


# --------------------------------------------------------------------------------------
def main():
    if len(sys.argv) > 1 and sys.argv[1] == "stepcheck":
        ap = argparse.ArgumentParser(prog="pytorch_resnet20_crosscheck.py stepcheck")
        ap.add_argument("--harness", required=True, help="Go binary that runs bsam's optimizer (see README)")
        ap.add_argument("--data", required=True)
        ap.add_argument("--method", choices=["sgd", "bsam"], required=True)
        ap.add_argument("--steps", type=int, default=3)
        ap.add_argument("--lr-factor", type=float, default=1.0)
        ap.add_argument("--batch", type=int, default=200)
        ap.add_argument("--seed", type=int, default=0)
        ap.add_argument("--workdir", default="/tmp/xcheck-step")
        ap.add_argument("--cache", default="/tmp/cifar10-jpeg-pil.npz")
        ap.add_argument("--threads", type=int, default=2)
        ap.add_argument("--double", action="store_true", help="run the PyTorch side in float64")
        ap.add_argument("--set", action="append", default=[], help="override a hyperparameter, KEY=VALUE")
        stepcheck(ap.parse_args(sys.argv[2:]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "evalckpt":
        ap = argparse.ArgumentParser(prog="pytorch_resnet20_crosscheck.py evalckpt")
        ap.add_argument("checkpoint")
        ap.add_argument("--data", required=True)
        ap.add_argument("--cache", default="/tmp/cifar10-jpeg-pil.npz")
        ap.add_argument("--threads", type=int, default=2)
        ap.add_argument("--bma", type=int, default=0, help="also the BMA with this many samples (bSAM)")
        ap.add_argument("--bma-seed", type=int, default=7, help="seed of the BMA's posterior samples")
        evalckpt(ap.parse_args(sys.argv[2:]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "compare":
        if len(sys.argv) != 4:
            sys.exit("usage: pytorch_resnet20_crosscheck.py compare BSAM_RUNS_DIR PYTORCH_JSON_DIR")
        compare(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="cifar10-jpeg.tar.gz (train/<class>/, test/<class>/)")
    ap.add_argument("--method", choices=["sgd", "bsam"], required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=2, help="E; E+1 epochs run (official extra epoch)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--test-batch", type=int, default=200)
    ap.add_argument("--train-subset", type=int, default=0, help="train on a random subset of N images (smoke tests)")
    ap.add_argument("--test-subset", type=int, default=0)
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache", default="/tmp/cifar10-jpeg-pil.npz", help="decoded-image cache ('' = none)")
    ap.add_argument("--out", required=True, help="output JSON")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    gen = torch.Generator().manual_seed(10_000 + args.seed)       # training noise
    bma_gen = torch.Generator().manual_seed(20_000 + args.seed)   # BMA samples
    t_start = time.time()

    classes, xtr, ytr, xte, yte = load_cifar_jpeg(args.data, args.cache)
    if args.train_subset:
        sel = np.sort(np.random.default_rng(12345).permutation(xtr.shape[0])[:args.train_subset])
        xtr, ytr = xtr[sel], ytr[sel]
    if args.test_subset:
        sel = np.sort(np.random.default_rng(54321).permutation(xte.shape[0])[:args.test_subset])
        xte, yte = xte[sel], yte[sel]
    ntrain = xtr.shape[0]
    t_data = time.time() - t_start
    print("data: %d train, %d test, classes %s (%.1fs)" % (ntrain, xte.shape[0], classes, t_data), flush=True)

    h = dict(HYPER[args.method])
    N = ntrain * h["dafactor"]
    h["delta"] = h["priorprec"] / N
    h["ndata"] = N

    model = ResNet20FRN(len(classes))
    model.train()
    params = list(model.parameters())
    print("params: %d" % sum(p.numel() for p in params), flush=True)
    if args.method == "sgd":
        opt = torch.optim.SGD(params, lr=h["lr"], momentum=h["beta1"], dampening=0,
                              weight_decay=h["delta"], nesterov=False)
    else:
        opt = BSAM(params, h, ntrain, gen)

    records = []
    nb = ntrain // args.batch  # drop_last
    for e in range(args.epochs + 1):
        t0 = time.time()
        f = lr_factor(e, args.epochs, args.warmup)
        order = rng.permutation(ntrain)
        loss_sum = 0.0
        for b in range(nb):
            idx = order[b * args.batch:(b + 1) * args.batch]
            xb = xtr[idx] if args.no_augment else augment(xtr[idx], rng)
            x, y = normalise(xb), torch.from_numpy(ytr[idx])
            if args.method == "sgd":
                for g in opt.param_groups:
                    g["lr"] = h["lr"] * f
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                loss_sum += loss.item()
            else:
                loss_sum += opt.step(model, x, y, f)
            if (b + 1) % 50 == 0:
                print("  epoch %d step %d/%d loss %.4f (%.0fs)" % (e, b + 1, nb, loss_sum / (b + 1),
                                                                 time.time() - t0), flush=True)
        train_s = time.time() - t0
        ev = evaluate(model, params, xte, yte, args.test_batch)
        rec = {"epoch": e, "lr_factor": f, "train_loss": loss_sum / nb, "test_acc": ev["test_acc"],
               "test_nll": ev["test_nll"], "train_seconds": train_s, "seconds": time.time() - t0}
        records.append(rec)
        print("epoch %d factor %.4f train_loss %.4f test_acc %.2f test_nll %.4f (%.0fs)" % (
            e, f, rec["train_loss"], rec["test_acc"], rec["test_nll"], rec["seconds"]), flush=True)

    final = {"point": {k: records[-1][k] for k in ("test_acc", "test_nll")}}
    if args.method == "bsam":
        t0 = time.time()
        bma = evaluate(model, params, xte, yte, args.test_batch,
                       samples=(opt.w, opt.posterior_std(), h["test_mc"], bma_gen))
        final["bma"] = {"test_acc": bma["test_acc"], "test_nll": bma["test_nll"], "test_mc": h["test_mc"],
                        "seconds": time.time() - t0}
        s_all = torch.cat([s.flatten() for s in opt.s])
        final["s_stats"] = {"min": s_all.min().item(), "median": s_all.median().item(),
                            "max": s_all.max().item(), "mean": s_all.mean().item()}
        print("final BMA (J=%d): acc %.2f nll %.4f" % (h["test_mc"], bma["test_acc"], bma["test_nll"]))
    else:
        final["bma"] = dict(final["point"], test_mc=1)

    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    out = {
        "framework": "pytorch", "method": args.method, "seed": args.seed, "hyper": h,
        "protocol": {"epochs": args.epochs, "epochs_run": args.epochs + 1, "warmup": args.warmup,
                     "batch": args.batch, "test_batch": args.test_batch, "augment": not args.no_augment,
                     "ntrain": ntrain, "ntest": int(xte.shape[0]), "data": os.path.basename(args.data)},
        "epochs": records, "final": final,
        "meta": {"torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
                 "threads": torch.get_num_threads(), "cpu": cpu, "data_seconds": t_data,
                 "wall_seconds": time.time() - t_start,
                 "ld_preload": os.environ.get("LD_PRELOAD", ""), "argv": sys.argv[1:]},
    }
    with open(args.out, "w") as fo:
        json.dump(out, fo, indent=1)
    print("wrote %s (%.0fs)" % (args.out, out["meta"]["wall_seconds"]))


if __name__ == "__main__":
    main()
