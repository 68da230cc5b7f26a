#!/usr/bin/env python3
"""Trains the invoice verifier (crates/layout/src/verifier.rs) and writes it into a manifest.

Input: directories written by `claimscan model eval MODEL --data SET/docs --split train
--words read --read-cache C --catalog SET/catalog.csv --dump DIR`, one JSON per invoice with
`verifier_feature_names`, `verifier_features` (computed by the Rust code that scores at run
time: no train/serve skew) and `right` (every header field and line right). Use *train*-split
distributors only; the held-out ones are for `claimscan model eval`.

The model is an L2-regularised logistic regression on standardised features, fitted by Newton's
method (numpy only). It replaces the `[verifier]` table of MANIFEST and drops its `[calibration]`; fit that
table again afterwards (`claimscan model eval MODEL --fit-calibration` on other documents),
since the calibration maps the verifier's output.

    python pipelines/layout/verifier.py --dump DIR [--dump DIR ...] --manifest models/M/manifest.toml
"""

import argparse
import glob
import json
import os
import re
import sys

import numpy as np


def load(dirs):
    names, xs, ys = None, [], []
    for d in dirs:
        files = sorted(glob.glob(os.path.join(d, "*.json")))
        if not files:
            sys.exit(f"{d}: no dumped invoices")
        for f in files:
            r = json.load(open(f))
            n = r["verifier_feature_names"]
            if names is None:
                names = n
            elif n != names:
                sys.exit(f"{f}: other verifier features than the first file's")
            xs.append(r["verifier_features"])
            ys.append(1.0 if r["right"] else 0.0)
    return names, np.array(xs, dtype=np.float64), np.array(ys)


def fit(x, y, l2, iters=100):
    mean = x.mean(0)
    scale = x.std(0)
    scale[scale < 1e-6] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    w = np.zeros(z.shape[1])
    reg = l2 * np.diag(np.r_[0.0, np.ones(z.shape[1] - 1)])
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-z @ w))
        g = z.T @ (p - y) + reg @ w
        h = (z * (p * (1 - p))[:, None]).T @ z + reg
        step = np.linalg.solve(h, g)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return mean, scale, w


def automation(score, right, max_error=0.01):
    """Largest share of invoices approved above a threshold with at most `max_error` wrong."""
    order = np.argsort(-score)
    best, wrong = 0, 0
    for k, i in enumerate(order, 1):
        wrong += not right[i]
        if k < len(order) and score[order[k]] == score[i]:
            continue
        if wrong / k <= max_error:
            best = k
    return best / len(order)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dump", action="append", required=True, help="a `model eval --dump` directory (train split)")
    ap.add_argument("--manifest", required=True, help="manifest.toml whose [verifier] table is replaced")
    ap.add_argument("--l2", type=float, default=3.0, help="L2 penalty on the standardised weights")
    a = ap.parse_args()

    names, x, y = load(a.dump)
    mean, scale, w = fit(x, y, a.l2)
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    p = 1.0 / (1.0 + np.exp(-z @ w))
    print(f"{len(y)} invoices, {int(y.sum())} right; on them (in sample): automation at <= 1% error "
          f"{automation(p, y.astype(bool)):.1%}, the reader's confidence {automation(x[:, names.index('reader_confidence')], y.astype(bool)):.1%}")
    for n, wi in sorted(zip(names, w[1:]), key=lambda t: -abs(t[1])):
        print(f"  {n:<28} {wi:+.3f}")

    fmt = lambda v: "[" + ", ".join(f"{float(t):.6g}" for t in v) + "]"
    table = "\n".join([
        "[verifier]",
        "# logistic regression over standardised features (crates/layout/src/verifier.rs);",
        "# pipelines/layout/verifier.py",
        "features = [" + ", ".join(f'"{n}"' for n in names) + "]",
        f"mean = {fmt(mean)}",
        f"scale = {fmt(scale)}",
        f"weights = {fmt(w[1:])}",
        f"bias = {float(w[0]):.6g}",
        f'trained_on = "{len(y)} invoices of {", ".join(a.dump)} (l2 {a.l2})"',
    ]) + "\n"
    text = open(a.manifest).read()
    # drop an earlier [verifier] table, and the [calibration] that mapped the old scores (each up
    # to the next table or the end)
    for name in ("verifier", "calibration"):
        text = re.sub(r"\n?\[" + name + r"\]\n(?:(?!\[).*\n?)*", "\n", text)
    text = text.rstrip("\n") + "\n\n" + table
    open(a.manifest, "w").write(text)
    print(f"wrote [verifier] to {a.manifest}; its [calibration] is gone: fit it again "
          "(claimscan model eval DIR --data OTHER --split all --words read --catalog ... --fit-calibration)")


if __name__ == "__main__":
    main()
