"""Invoice *lines* of the training-data generator, without rendering the documents.

Replays exactly what `python -m invgen docs` does per document (same per-document RNG, same
distributor choice, same content and the same layout pass that truncates/wraps the printed
description) but skips the PDF/scan/photo rendering, so 10,000 documents take seconds instead of
tens of minutes. Document i here has the same lines as out/docs/inv{i:06d}.truth.json.

  training-data/.venv/bin/python pipelines/matching/gen_lines.py --docs 4000 --out /tmp/m
writes catalog.csv and lines.csv:
  doc_id,doc_seq,distributor_id,split,kind,product_code,description,unit_price,sku
"""
import argparse
import csv
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TD = os.path.join(HERE, "..", "..", "training-data")
sys.path.insert(0, TD)

from invgen.generate import build_world, KIND_W  # noqa: E402
from invgen.catalog import catalog_csv  # noqa: E402
from invgen.content import make_invoice  # noqa: E402
from invgen.layout import Layout  # noqa: E402
from invgen.util import stable_int  # noqa: E402


def doc_lines(world, i, opts):
    dists = world["dists"]
    rng = random.Random(f"{world['seed']}:doc:{i}")
    spec = dists[i % len(dists)] if i < len(dists) else dists[rng.randrange(len(dists))]
    kinds = [k for k, _ in KIND_W]
    rng.choices(kinds, weights=[dict(KIND_W)[k] for k in kinds])
    doc_id = f"inv{i:06d}"
    seq = stable_int(doc_id) % 5000
    inv = make_invoice(rng, spec, world["catalog"], world["by_family"], seq, opts)
    _pages, line_truth = Layout(spec, inv).build()
    out = []
    for l, lt in zip(inv["lines"], line_truth):
        out.append([doc_id, i, spec["distributor_id"], spec["split"], l["kind"], lt["text"].get("product_code") or "",
                    lt["text"].get("description", l["description"]), f"{l['unit_price']:.2f}", l["sku"] or ""])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--docs", type=int, default=840)
    ap.add_argument("--start", type=int, default=0, help="first document index")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--catalog-size", type=int, default=20000)
    ap.add_argument("--distributors", type=int, default=420)
    ap.add_argument("--repeat-rate", type=float, default=0.0,
                    help="share of product lines bought again from the distributor's assortment (invgen docs --repeat-rate)")
    a = ap.parse_args()
    t0 = time.time()
    world = build_world(a.seed, a.distributors, a.catalog_size)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "catalog.csv"), "w", encoding="utf-8") as fh:
        fh.write(catalog_csv(world["catalog"]))
    n = 0
    with open(os.path.join(a.out, "lines.csv"), "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["doc_id", "doc_seq", "distributor_id", "split", "kind", "product_code", "description", "unit_price", "sku"])
        for i in range(a.start, a.start + a.docs):
            for row in doc_lines(world, i, {"inconsistent_rate": 0.05, "repeat_rate": a.repeat_rate}):
                w.writerow(row)
                n += 1
    print(f"gen_lines: {a.docs} documents, {n} lines, catalog {len(world['catalog'])} -> {a.out} in {time.time() - t0:.1f}s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
