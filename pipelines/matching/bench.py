"""Side-by-side benchmark: `claimscan match` vs rapidfuzz process.extractOne (WRatio, token_set_ratio).

Same catalog, same queries (held-out distributors' lines, catalog and non-catalog), one run.
The 100k catalog = the generator's 20k catalog + 80k distractors: each real SKU copied 4 times
with its series renamed to an invented word, model digits redrawn, new SKU/GTIN/maker code and a
list price drawn around the original - so queries keep their truth and the distractors look like
more product lines of the same maker (same nouns, attributes, sizes).
"""
import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import time

from rapidfuzz import fuzz, process, utils


def ean13(d12):
    s = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(d12))
    return d12 + str((10 - s % 10) % 10)


def big_catalog(src, dst, n_total=100000, seed=7):
    rows = list(csv.DictReader(open(src, encoding="utf-8")))
    if os.path.exists(dst):
        return
    rng = random.Random(seed)
    syll = ["ka", "lo", "vi", "tu", "mer", "sa", "no", "ri", "zen", "pa", "do", "qua", "fle", "bor", "tim", "gal"]
    out = list(rows)
    i = 0
    words = {}
    while len(out) < n_total:
        r = dict(rows[i % len(rows)])
        rep = i // len(rows) + 1
        toks = r["name"].split()
        # the series word = first all-caps token of length >= 3
        k = next((j for j, t in enumerate(toks) if t.isupper() and len(t) >= 3 and t.isalpha()), None)
        if k is not None:
            key = (toks[k], rep)
            if key not in words:
                words[key] = "".join(rng.choice(syll) for _ in range(3)).upper()
            toks[k] = words[key]
        toks = ["".join(str(rng.randint(0, 9)) if c.isdigit() and rng.random() < 0.5 else c for c in t)
                if any(c.isdigit() for c in t) and j > (k or 0) else t for j, t in enumerate(toks)]
        r["name"] = " ".join(toks)
        r["sku"] = f"XD-{len(out):07d}"
        r["gtin"] = ean13("20" + f"{len(out):010d}")
        r["mpn"] = f"XD{len(out):08d}"
        r["list_price"] = f"{float(r['list_price']) * rng.uniform(0.7, 1.3):.2f}"
        out.append(r)
        i += 1
    with open(dst, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
        w.writeheader()
        w.writerows(out)


def run_claimscan(bin_, catalog, queries, out):
    t = time.time()
    p = subprocess.run([bin_, "match", "--catalog", catalog, "--queries", queries, "--format", "json", "--out", out],
                       capture_output=True, text=True)
    if p.returncode:
        sys.exit(p.stderr)
    wall = time.time() - t
    res = json.load(open(out))
    return res, p.stderr.strip(), wall


def parse_stats(stderr):
    # "... N lines matched in Xs (Y lines/s), p50 Z us, p99 W us"
    import re
    m = re.search(r"indexed in ([\d.]+)s, (\d+) lines matched in ([\d.]+)s \((\d+) lines/s\), p50 (\d+) us", stderr)
    return {"index_s": float(m.group(1)), "qps": float(m.group(4)), "p50_us": float(m.group(5))}


def rf_run(queries, choices, keys, scorer):
    lat, top = [], []
    proc = [utils.default_process(c) for c in choices]
    for q in queries:
        t = time.perf_counter()
        best = process.extractOne(utils.default_process(q), proc, scorer=scorer, processor=None)
        lat.append(time.perf_counter() - t)
        top.append(keys[best[2]] if best else None)
    return top, len(queries) / sum(lat), statistics.median(lat) * 1e6


def bench_invoices(a):
    lines = [r for r in csv.DictReader(open(os.path.join(a.data, "lines.csv"), encoding="utf-8")) if r["split"] == "heldout"]
    rng = random.Random(1)
    sample = rng.sample(lines, min(a.queries, len(lines)))
    qpath = os.path.join(a.data, "bench_queries.csv")
    with open(qpath, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "description", "product_code", "unit_price", "distributor"])
        for i, r in enumerate(sample):
            w.writerow([i, r["description"], r["product_code"], r["unit_price"], r["distributor_id"]])
    big = os.path.join(a.data, "catalog_100k.csv")
    big_catalog(os.path.join(a.data, "catalog.csv"), big)
    truth = [r["sku"] or None for r in sample]
    cat_idx = [i for i, t in enumerate(truth) if t]
    print(f"queries: {len(sample)} held-out lines ({len(cat_idx)} catalog, {len(sample) - len(cat_idx)} non-catalog)")
    print(f"{'catalog':>8} {'tool':<28} {'q/s':>9} {'p50 us':>9} {'top-1':>7} {'none@review':>11}")
    for name, cat in (("20k", os.path.join(a.data, "catalog.csv")), ("100k", big)):
        res, err, _ = run_claimscan(a.claimscan, cat, qpath, os.path.join(a.data, f"bench_out_{name}.json"))
        st = parse_stats(err)
        top = [r["candidates"][0]["sku"] if r["candidates"] else None for r in res]
        t1 = sum(top[i] == truth[i] for i in cat_idx) / len(cat_idx)
        neg = [i for i, t in enumerate(truth) if not t]
        none = sum(res[i]["decision"] == "none" for i in neg) / max(1, len(neg))
        print(f"{name:>8} {'claimscan match (1 thread)':<28} {st['qps']:9.0f} {st['p50_us']:9.0f} {t1:7.4f} {none:11.4f}"
              f"   (index {st['index_s']:.2f}s)")
        crow = list(csv.DictReader(open(cat, encoding="utf-8")))
        choices = [r["name"] for r in crow]
        keys = [r["sku"] for r in crow]
        for sname, scorer in (("rapidfuzz WRatio", fuzz.WRatio), ("rapidfuzz token_set_ratio", fuzz.token_set_ratio)):
            top, qps, p50 = rf_run([r["description"] for r in sample], choices, keys, scorer)
            t1 = sum(top[i] == truth[i] for i in cat_idx) / len(cat_idx)
            print(f"{name:>8} {sname:<28} {qps:9.1f} {p50:9.0f} {t1:7.4f} {'-':>11}")


def bench_amazon_google(a):
    d = a.amazon_google
    if not os.path.isdir(d):
        print(f"amazon_google: {d} absent - skipped")
        return
    A = list(csv.DictReader(open(os.path.join(d, "tableA.csv"), encoding="utf-8")))
    B = list(csv.DictReader(open(os.path.join(d, "tableB.csv"), encoding="utf-8")))
    truth = {}
    for r in csv.DictReader(open(os.path.join(d, "matches.csv"), encoding="utf-8")):
        truth.setdefault(r["tableA_id"], set()).add(r["tableB_id"])
    tmp = os.path.join(a.data, "ag")
    os.makedirs(tmp, exist_ok=True)
    with open(os.path.join(tmp, "catalog.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["sku", "name"])
        for r in B:
            w.writerow([r["id"], r["title"]])
    qa = [r for r in A if r["id"] in truth]
    with open(os.path.join(tmp, "queries.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "description"])
        for r in qa:
            w.writerow([r["id"], r["title"]])
    res, err, _ = run_claimscan(a.claimscan, os.path.join(tmp, "catalog.csv"), os.path.join(tmp, "queries.csv"),
                                os.path.join(tmp, "out.json"))
    st = parse_stats(err)
    t1 = sum(bool(r["candidates"]) and r["candidates"][0]["sku"] in truth[r["id"]] for r in res) / len(res)
    print(f"amazon_google: {len(qa)} tableA titles with a match, catalog = {len(B)} tableB titles")
    print(f"  claimscan match: top-1 {t1:.4f}  ({st['qps']:.0f} q/s, p50 {st['p50_us']:.0f} us)")
    choices = [r["title"] for r in B]
    keys = [r["id"] for r in B]
    for sname, scorer in (("WRatio", fuzz.WRatio), ("token_set_ratio", fuzz.token_set_ratio)):
        top, qps, p50 = rf_run([r["title"] for r in qa], choices, keys, scorer)
        t1 = sum(top[i] in truth[r["id"]] for i, r in enumerate(qa)) / len(qa)
        print(f"  rapidfuzz {sname}: top-1 {t1:.4f}  ({qps:.0f} q/s, p50 {p50:.0f} us)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--claimscan", required=True)
    ap.add_argument("--queries", type=int, default=400)
    ap.add_argument("--amazon-google", default="")
    a = ap.parse_args()
    bench_invoices(a)
    bench_amazon_google(a)


if __name__ == "__main__":
    main()
