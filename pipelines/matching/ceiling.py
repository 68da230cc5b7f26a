"""How well can any matcher do on held-out distributors without memory? A Bayes ceiling.

The generator knows each distributor's wording rules, so for every held-out catalog line it can
tell what separates the true SKU from the rest of the catalog:

  code_ident       the printed article code is the maker's MPN or the GTIN: exact
  desc_code_ident  the description carries the MPN or GTIN: exact
  unique_wording   no other SKU gets the same description from this distributor (as printed:
                   a description the layout cut to its column is shared by every SKU whose
                   wording starts so; the abbreviation of the product type a distributor gives a
                   SKU is a hash of the SKU, so all its abbreviations count as the same wording)
  price_unique     several SKUs get the same description, one has the unit price in its band
                   (list price x 0.88..1.12, the generator's rule)
  price_map_right  several in band, the most probable (the cheapest list price: the highest
  price_map_wrong  density 1/(0.24 list)) is / is not the true one

A matcher that knew the generator's rules (but not the distributor's own article codes, which
only the memory learns) would get every line right except `price_map_wrong` (and typos). With
`--dump` (output of `claimscan match eval --dump FILE` on the same lines.csv) it prints the
matcher's top-1 per category, which shows where it loses against the ceiling.

  training-data/.venv/bin/python pipelines/matching/ceiling.py --lines DIR/lines.csv [--dump FILE]
      [--misses N]   also print N misses of each category (printed text, true and chosen name)
"""
import argparse
import bisect
import collections
import csv
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "training-data"))

from invgen.generate import build_world  # noqa: E402
from invgen import lang as L  # noqa: E402
from invgen.distributors import describe, font_safe, stable_int  # noqa: E402


class NoExtras:
    """An rng that never adds the random extras (MPN/EAN in the text, typos)."""

    def random(self):
        return 1.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", required=True)
    ap.add_argument("--dump", help="claimscan match eval --dump output for the same lines")
    ap.add_argument("--misses", type=int, default=0, help="print N misses per category (needs --dump)")
    ap.add_argument("--split", default="heldout")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--catalog-size", type=int, default=20000)
    ap.add_argument("--distributors", type=int, default=420)
    a = ap.parse_args()
    world = build_world(a.seed, a.distributors, a.catalog_size)
    cat = world["catalog"]
    by_sku = {p["sku"]: p for p in cat}
    dists = {d["distributor_id"]: d for d in world["dists"]}
    base_of, groups = {}, {}

    def base(spec, p):
        k = (spec["distributor_id"], p["sku"])
        if k not in base_of:
            base_of[k] = font_safe(spec, describe(spec, p, NoExtras()))
        return base_of[k]

    def wordings(spec, p):
        """The product's wording, and the same with each other abbreviation of its type where the
        distributor abbreviates the type: which abbreviation a SKU gets is a hash of the SKU, so
        it tells nothing a matcher could know (`TOWEL RAD`, `TR`, `BADHK` all print towel
        radiators)."""
        b = base(spec, p)
        n = spec["naming"]
        if n["noun"] != "abbr":
            return [b]
        t = p["type"]
        srng = random.Random(stable_int(spec["distributor_id"], "desc", p.get("sku") or p["name"]))
        chosen = srng.choice(L.ABBR[t])
        case = str.upper if n["case"] == "upper" else str.title if n["case"] == "title" else str
        out = [b]
        for alt in L.ABBR[t]:
            w = b.replace(case(chosen), case(alt), 1)
            if w not in out:
                out.append(w)
        return out

    def group(spec):
        d = spec["distributor_id"]
        if d not in groups:
            g = collections.defaultdict(list)
            for p in cat:
                for w in wordings(spec, p):
                    g[w].append(p)
            groups[d] = g
        return groups[d]

    sorted_bases = {}

    def cut_group(spec, printed):
        d = spec["distributor_id"]
        if d not in sorted_bases:
            sorted_bases[d] = sorted(group(spec).keys())
        keys = sorted_bases[d]
        i = bisect.bisect_left(keys, printed)
        out = []
        while i < len(keys) and keys[i].startswith(printed):
            out.extend(group(spec)[keys[i]])
            i += 1
        return out

    cats, texts = {}, {}
    with open(a.lines, encoding="utf-8") as fh:
        for row_no, row in enumerate(csv.DictReader(fh)):
            if row["split"] != a.split or row["kind"] != "product":
                continue
            spec, p = dists[row["distributor_id"]], by_sku[row["sku"]]
            texts[row_no] = (row["product_code"], row["description"], row["unit_price"], p)
            if spec["naming"]["code_source"] in ("mpn", "gtin"):
                cats[row_no] = "code_ident"
                continue
            if p["mpn"] in row["description"] or p["gtin"] in row["description"]:
                cats[row_no] = "desc_code_ident"
                continue
            same = group(spec)[base(spec, p)]
            printed = row["description"].strip()
            if printed != base(spec, p) and base(spec, p).startswith(printed):
                # the layout cut the wording to its column (`... 450x1300` of `... 450x1300 mm
                # anthracite RAL 7016`): every SKU whose wording starts so was printed the same
                same = cut_group(spec, printed)
            same = list({q["sku"]: q for q in same}.values())
            if len(same) == 1:
                cats[row_no] = "unique_wording"
                continue
            u = float(row["unit_price"])
            band = [q for q in same if 0.88 <= u / q["list_price"] <= 1.12 + 1e-9]
            if len(band) == 1:
                cats[row_no] = "price_unique"
                continue
            best = min(band, key=lambda q: q["list_price"])
            cats[row_no] = "price_map_right" if best["sku"] == p["sku"] else "price_map_wrong"
    right, chosen = {}, {}
    if a.dump:
        with open(a.dump, encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                top = r["top5"].split(" ")[0] if r["top5"] else ""
                right[int(r["row"])] = top == r["truth"]
                chosen[int(r["row"])] = top
    n = len(cats)
    count = collections.Counter(cats.values())
    order = ["code_ident", "desc_code_ident", "unique_wording", "price_unique", "price_map_right", "price_map_wrong"]
    print(f"{a.split} catalog lines: {n}")
    print(f"{'category':18s} {'lines':>6s} {'share':>6s}" + ("  matcher top-1" if a.dump else ""))
    for k in order:
        c = count[k]
        line = f"{k:18s} {c:6d} {c / max(n, 1):6.3f}"
        if a.dump:
            ok = sum(right.get(r, False) for r, v in cats.items() if v == k)
            line += f"  {ok / max(c, 1):.3f}"
        print(line)
    print(f"ceiling (all but price_map_wrong): {1 - count['price_map_wrong'] / max(n, 1):.4f}")
    if a.dump:
        print(f"matcher top-1: {sum(right.get(r, False) for r in cats) / max(n, 1):.4f}")
    for k in order if a.dump and a.misses else []:
        missed = [r for r, v in sorted(cats.items()) if v == k and not right.get(r, False)]
        print(f"\n{k}: {len(missed)} misses, first {min(a.misses, len(missed))}")
        for r in missed[: a.misses]:
            code, desc, price, p = texts[r]
            q = by_sku.get(chosen.get(r, ""))
            got = f"{q['name']} ({q['list_price']})" if q else "-"
            print(f"  row {r}: [{code}] {desc!r} @ {price}\n    truth {p['name']} ({p['list_price']})\n    top-1 {got}")


if __name__ == "__main__":
    main()
