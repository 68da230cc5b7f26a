"""CLI: python -m invgen {docs,fixtures,activity} [options]"""
import argparse
import json
import os
import sys
import time


def main(argv=None):
    ap = argparse.ArgumentParser(prog="invgen")
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("docs", help="catalog + distributors + splits + documents")
    d.add_argument("--out", default="out")
    d.add_argument("--seed", type=int, default=20240611)
    d.add_argument("--docs", type=int, default=840)
    d.add_argument("--distributors", type=int, default=420)
    d.add_argument("--catalog-size", type=int, default=20000)
    d.add_argument("--workers", type=int, default=2)
    d.add_argument("--inconsistent-rate", type=float, default=0.05)
    d.add_argument("--kinds", default="", help="comma list of digital_pdf,scanned_pdf,photo (default: all)")
    d.add_argument("--repeat-rate", type=float, default=0.0,
                   help="share of product lines bought again from the distributor's fixed assortment (default 0: none)")
    f = sub.add_parser("fixtures", help="small committed fixture set")
    f.add_argument("--out", default="fixtures")
    f.add_argument("--seed", type=int, default=20240611)
    a = sub.add_parser("activity", help="partner activity simulator")
    a.add_argument("--out", default="out")
    a.add_argument("--seed", type=int, default=20240611)
    a.add_argument("--partners", type=int, default=10000)
    a.add_argument("--days", type=int, default=730)
    a.add_argument("--start", default="2023-01-01")
    a.add_argument("--parquet", action="store_true")
    a.add_argument("--chunk", type=int, default=20000)
    args = ap.parse_args(argv)

    from .generate import build_world, splits_doc, generate_docs, generate_fixtures
    from .catalog import catalog_csv
    t0 = time.time()
    if args.cmd == "docs":
        world = build_world(args.seed, args.distributors, args.catalog_size)
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "catalog.csv"), "w", encoding="utf-8") as fh:
            fh.write(catalog_csv(world["catalog"]))
        with open(os.path.join(args.out, "distributors.json"), "w", encoding="utf-8") as fh:
            json.dump(world["dists"], fh, ensure_ascii=False, indent=1, sort_keys=True)
        with open(os.path.join(args.out, "splits.json"), "w", encoding="utf-8") as fh:
            json.dump(splits_doc(world), fh, indent=1)
        opts = {"inconsistent_rate": args.inconsistent_rate, "repeat_rate": args.repeat_rate}
        if args.kinds:
            opts["kinds"] = args.kinds.split(",")
        rows = generate_docs(world, os.path.join(args.out, "docs"), args.docs, args.workers, opts)
        with open(os.path.join(args.out, "index.csv"), "w", encoding="utf-8") as fh:
            fh.write("doc_id,distributor_id,split,kind,pages,lines,totals_consistent\n")
            for r in rows:
                fh.write(",".join(str(x).lower() if isinstance(x, bool) else str(x) for x in r) + "\n")
        from .generate import write_lines_csv
        write_lines_csv((json.load(open(os.path.join(args.out, "docs", f"{r[0]}.truth.json"), encoding="utf-8")) for r in rows),
                        os.path.join(args.out, "lines.csv"))
        nd = len({r[1] for r in rows})
        print(f"invgen: {len(rows)} documents from {nd} distributors/formats, catalog {len(world['catalog'])} SKUs -> {args.out} "
              f"in {time.time() - t0:.1f}s", file=sys.stderr)
    elif args.cmd == "fixtures":
        world = build_world(args.seed, 420, 20000)
        truths = generate_fixtures(world, args.out)
        print(f"invgen: {len(truths)} fixtures -> {args.out} in {time.time() - t0:.1f}s", file=sys.stderr)
    else:
        from .activity import simulate
        n = simulate(args.out, args.partners, args.days, args.start, args.seed, args.parquet, args.chunk)
        print(f"invgen: {args.partners} partners, {n} events -> {args.out}/activity.csv in {time.time() - t0:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
