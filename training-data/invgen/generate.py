# -*- coding: utf-8 -*-
"""Document generation: world (catalog + distributors + splits), documents, truth, fixtures."""
import json
import os
import random
from collections import defaultdict

import numpy as np

from .catalog import generate_catalog, catalog_csv
from .content import make_invoice
from .distributors import generate_distributors, load_heldout, heldout_rule
from .util import stable_int

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELDOUT_FILE = os.path.join(HERE, "heldout.txt")
TRUTH_VERSION = 1
PDF_DPI = 300  # convention: all boxes of PDFs are in pixels of the page rendered at 300 DPI

_W = {}


def build_world(seed, n_dist, n_catalog):
    catalog = generate_catalog(seed, n_catalog)
    by_family = defaultdict(list)
    for p in catalog:
        by_family[p["family"].split("/")[0]].append(p)
    dists = generate_distributors(seed, n_dist)
    held = set(load_heldout(HELDOUT_FILE)) if os.path.exists(HELDOUT_FILE) else set()
    for d in dists:
        idx = int(d["distributor_id"][1:])
        d["split"] = "heldout" if (d["distributor_id"] in held if idx < 420 else heldout_rule(d["distributor_id"])) else "train"
    return {"seed": seed, "catalog": catalog, "by_family": dict(by_family), "dists": dists}


def splits_doc(world):
    tr = [d["distributor_id"] for d in world["dists"] if d["split"] == "train"]
    ho = [d["distributor_id"] for d in world["dists"] if d["split"] == "heldout"]
    return {"seed": world["seed"], "rule": "heldout.txt (fixed list for D0000-D0419); ids >= D0420: sha256('heldout:'+id) % 5 == 0",
            "train": tr, "heldout": ho}


def r(b, nd=1):
    return [round(v, nd) for v in b]


def make_doc(world, doc_id, rng, spec, kind, opts, outdir):
    """Generate one document; writes files into outdir and returns the truth dict."""
    from .layout import Layout
    from .render import write_pdf, rasterize, scan_params, degrade_scan, photo_params, degrade_photo, images_pdf
    seq = stable_int(doc_id) % 5000
    inv = make_invoice(rng, spec, world["catalog"], world["by_family"], seq, opts)
    pages, line_truth = Layout(spec, inv).build()
    if kind == "photo" and len(pages) > 1 and not opts.get("keep_kind"):
        kind = "scanned_pdf"
    pdf = write_pdf(pages, f"{spec['labels']['invoice']} {inv['invoice_number']}", spec["name"])
    nrng = np.random.default_rng(stable_int(doc_id, "img", world["seed"]))
    files = []
    page_meta = []
    s = PDF_DPI / 72.0
    if kind == "digital_pdf":
        fn = f"{doc_id}.pdf"
        with open(os.path.join(outdir, fn), "wb") as f:
            f.write(pdf)
        files.append(fn)
        degradation = {"level": 0.0, "level_name": "none"}
        for pg in pages:
            page_meta.append(({"width": round(pg.w * s), "height": round(pg.h * s), "dpi": PDF_DPI, "width_pt": round(pg.w, 2),
                               "height_pt": round(pg.h, 2)}, lambda b: [v * s for v in b], (round(pg.w * s), round(pg.h * s))))
    elif kind == "scanned_pdf":
        P = scan_params(nrng, opts.get("level"))
        P.update(opts.get("degradation", {}))
        imgs = rasterize(pdf, P["dpi"], gray=True)
        enc = []
        for pi, (pg, img) in enumerate(zip(pages, imgs)):
            Pi = dict(P)
            if pi > 0:  # each sheet goes through the feeder a little differently
                Pi["skew_deg"] = round(P["skew_deg"] + float(nrng.uniform(-0.6, 0.6)), 3)
                Pi["shift_px"] = [int(nrng.integers(-25, 26)), int(nrng.integers(-25, 26))]
            data, fmt, tf, (w, h) = degrade_scan(img, Pi, nrng)
            enc.append(data)
            k = P["dpi"] / 72.0
            page_meta.append(({"width": w, "height": h, "dpi": P["dpi"], "width_pt": round(pg.w, 2), "height_pt": round(pg.h, 2), "image_format": fmt,
                               "skew_deg": Pi["skew_deg"], "shift_px": Pi["shift_px"]},
                              (lambda b, tf=tf, k=k: tf([v * k for v in b])), (w, h)))
        fn = f"{doc_id}.pdf"
        with open(os.path.join(outdir, fn), "wb") as f:
            f.write(images_pdf(enc, [(pg.w, pg.h) for pg in pages], f"scan {doc_id}"))
        files.append(fn)
        degradation = P
    else:
        P = photo_params(nrng, opts.get("level"), **opts.get("degradation", {}))
        img = rasterize(pdf, P["page_dpi"], gray=False)[0]
        data, tf, (w, h) = degrade_photo(img, P, nrng)
        fn = f"{doc_id}.jpg"
        with open(os.path.join(outdir, fn), "wb") as f:
            f.write(data)
        files.append(fn)
        k = P["page_dpi"] / 72.0
        page_meta.append(({"width": w, "height": h, "dpi": None, "page_dpi": P["page_dpi"], "width_pt": round(pages[0].w, 2), "height_pt": round(pages[0].h, 2)},
                          (lambda b, tf=tf, k=k: tf([v * k for v in b])), (w, h)))
        degradation = P

    def clip(b, wh):
        w, h = wh
        c = [max(0.0, b[0]), max(0.0, b[1]), min(float(w), b[2]), min(float(h), b[3])]
        area = max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])
        carea = max(0.0, c[2] - c[0]) * max(0.0, c[3] - c[1])
        return r(c), (round(carea / area, 3) if area > 0 else 0.0)

    out_pages = []
    for i, pg in enumerate(pages):
        meta, tf, wh = page_meta[i]
        fields = []
        for f in pg.fields:
            b, vis = clip(tf(f["bbox"]), wh)
            g = dict(f)
            g["bbox"] = b
            if kind == "photo":
                g["visible"] = vis
            fields.append(g)
        words = []
        for t, b in pg.words:
            bb, vis = clip(tf(b), wh)
            if vis > 0:
                words.append([t, bb])
        m = dict(meta)
        m.update(fields=fields, words=words)
        out_pages.append(m)
    lines = []
    for l, lt in zip(inv["lines"], line_truth):
        meta, tf, wh = page_meta[lt["page"]]
        boxes = {}
        vis = {}
        for k2, b in sorted(lt["bbox"].items()):
            boxes[k2], vis[k2] = clip(tf(b), wh)
        d = {"pos": l["pos"], "kind": l["kind"], "sku": l["sku"], "description": lt["text"].get("description", l["description"]),
             "product_code": lt["text"].get("product_code"), "quantity": l["qty"], "unit": l["unit"] or None, "unit_price": l["unit_price"],
             "discount_pct": l["discount_pct"], "net_price": l["net_price"], "amount": l["amount"], "vat_rate": l["vat_rate"],
             "gtin": l.get("gtin") if l["kind"] in ("product", "other_brand") else None, "page": lt["page"] + 1,
             "text": dict(sorted(lt["text"].items())), "bbox": boxes}
        if kind == "photo":
            d["visible"] = vis
        lines.append(d)
    truth = {
        "truth_version": TRUTH_VERSION, "doc_id": doc_id, "files": files, "distributor_id": spec["distributor_id"], "format_id": spec["format_id"],
        "split": spec["split"], "kind": kind, "degradation": degradation, "currency": spec["currency"], "locale": spec["locale"],
        "language": spec["language"], "country": spec["country"], "decimal_sep": spec["decimal_sep"], "thousands_sep": spec["thousands_sep"],
        "date_style": spec["date_style"], "layout": {"table_style": spec["table_style"], "item_style": spec["item_style"], "columns": spec["columns"]},
        "header": {"supplier_name": spec["name"], "supplier_vat_id": spec["vat_id"], "invoice_number": inv["invoice_number"],
                   "invoice_date": inv["invoice_date"].isoformat(), "due_date": None if inv["is_credit_note"] else inv["due_date"].isoformat(),
                   "customer_name": inv["customer_name"], "customer_number": inv["customer_number"], "order_ref": inv["order_ref"],
                   "subtotal": inv["subtotal"], "tax": inv["tax"], "total": inv["total"], "is_credit_note": inv["is_credit_note"],
                   "vat_breakdown": [{"rate": a, "base": b, "tax": c} for a, b, c in inv["vat_groups"]]},
        "totals_consistent": inv["totals_consistent"], "inconsistency": inv["inconsistency"],
        "pages": out_pages, "lines": lines,
    }
    with open(os.path.join(outdir, f"{doc_id}.truth.json"), "w", encoding="utf-8") as f:
        json.dump(truth, f, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    return truth


# ----------------------------------------------------------------- bulk generation (multiprocessing)
KIND_W = [("digital_pdf", 0.4), ("scanned_pdf", 0.3), ("photo", 0.3)]


def _init(world, outdir, opts):
    import cv2
    cv2.setNumThreads(1)
    _W.update(world=world, outdir=outdir, opts=opts)


def _doc_task(i):
    world, outdir, opts = _W["world"], _W["outdir"], _W["opts"]
    dists = world["dists"]
    rng = random.Random(f"{world['seed']}:doc:{i}")
    spec = dists[i % len(dists)] if i < len(dists) * opts.get("round_robin", 1) else dists[rng.randrange(len(dists))]
    kinds = opts.get("kinds") or [k for k, _ in KIND_W]
    kind = rng.choices(kinds, weights=[dict(KIND_W)[k] for k in kinds])[0]
    t = make_doc(world, f"inv{i:06d}", rng, spec, kind, {"inconsistent_rate": opts.get("inconsistent_rate", 0.05), "repeat_rate": opts.get("repeat_rate", 0.0)}, outdir)
    return (t["doc_id"], t["distributor_id"], t["split"], t["kind"], len(t["pages"]), len(t["lines"]), t["totals_consistent"])


def generate_docs(world, outdir, n_docs, workers=2, opts=None):
    opts = opts or {}
    os.makedirs(outdir, exist_ok=True)
    if workers <= 1:
        _init(world, outdir, opts)
        return [_doc_task(i) for i in range(n_docs)]
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    with ctx.Pool(workers, initializer=_init, initargs=(world, outdir, opts)) as pool:
        return list(pool.imap(_doc_task, range(n_docs), chunksize=4))


# ----------------------------------------------------------------- fixtures
FIXTURES = [
    # (id, kind, wanted spec properties, options)
    ("fx01_digital_de_multipage", "digital_pdf", {"language": "de", "item_style": "one_line"}, {"n_lines": 48}),
    ("fx02_digital_fr_credit", "digital_pdf", {"language": "fr", "item_style": "one_line"}, {"n_lines": 6, "force_credit": True}),
    ("fx03_digital_en_twoline", "digital_pdf", {"language": "en", "item_style": "two_line", "decimal_sep": ".", "naming.second_line": "both"}, {"n_lines": 9}),
    ("fx04_digital_it_blocks", "digital_pdf", {"language": "it", "item_style": "block"}, {"n_lines": 5}),
    ("fx05_digital_pl_iso", "digital_pdf", {"language": "pl", "date_style": "iso"}, {"n_lines": 12}),
    ("fx06_scan_es", "scanned_pdf", {"language": "es", "item_style": "one_line"}, {"n_lines": 10, "level": 0.35,
                                                                                    "degradation": {"dpi": 300, "binarize": False, "jpeg_quality": 65, "noise_sigma": 2.5, "speckles": 60}}),
    ("fx07_scan_nl_binarized", "scanned_pdf", {"language": "nl"}, {"n_lines": 7, "level": 0.5, "degradation": {"dpi": 300, "binarize": True}}),
    ("fx08_photo_de_exif", "photo", {"language": "de", "item_style": "one_line"}, {"n_lines": 8, "level": 0.3,
                                                                                   "degradation": {"long_side": 2400, "noise_sigma": 2.0, "jpeg_quality": 83, "exif_orientation": True, "rot90": 0, "blur_sigma": 0.0, "motion_blur_px": 0, "crop": False}}),
    ("fx09_photo_en_blur", "photo", {"language": "en", "decimal_sep": "."}, {"n_lines": 6, "level": 0.3,
                                                                          "degradation": {"long_side": 2400, "noise_sigma": 2.0, "jpeg_quality": 83, "blur_sigma": 1.1, "motion_blur_px": 0, "rot90": 0, "exif_orientation": False, "shadow": False, "crop": False}}),
    ("fx10_photo_pt_shadow_rot90", "photo", {"language": "pt"}, {"n_lines": 5, "level": 0.55,
                                                               "degradation": {"long_side": 2400, "noise_sigma": 2.0, "jpeg_quality": 83, "shadow": True, "shadow_strength": 0.4, "rot90": 1, "exif_orientation": False, "blur_sigma": 0.0, "motion_blur_px": 0, "crop": False}}),
    ("fx11_photo_fr_perspective", "photo", {"language": "fr"}, {"n_lines": 4, "level": 0.6,
                                                              "degradation": {"long_side": 2400, "noise_sigma": 2.0, "jpeg_quality": 83, "perspective": 0.07, "rotation_deg": -6.0, "rot90": 0, "exif_orientation": False, "blur_sigma": 0.0, "motion_blur_px": 0, "crop": False}}),
]


LINES_CSV_COLUMNS = ["doc_id", "distributor_id", "format_id", "split", "language", "line_pos", "kind", "product_code", "description",
                     "unit", "sku"]


def write_lines_csv(truths, path):
    """Flat (printed wording -> true SKU) table of every line: the matching task without parsing JSON."""
    import csv
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(LINES_CSV_COLUMNS)
        for t in truths:
            for l in t["lines"]:
                w.writerow([t["doc_id"], t["distributor_id"], t["format_id"], t["split"], t["language"], l["pos"], l["kind"],
                            l["product_code"] or "", l["description"], l["unit"] or "", l["sku"] or ""])


def generate_fixtures(world, outdir):
    os.makedirs(outdir, exist_ok=True)
    used = set()
    truths = []
    for fid, kind, want, opts in FIXTURES:
        def get(d, k):
            for part in k.split("."):
                d = d.get(part) if isinstance(d, dict) else None
            return d
        spec = next(d for d in world["dists"] if d["split"] == "train" and all(get(d, k) == v for k, v in want.items())
                    and d["distributor_id"] not in used)  # fixtures are tuning material: never a held-out format
        used.add(spec["distributor_id"])
        rng = random.Random(f"{world['seed']}:fixture:{fid}")
        o = dict(opts)
        o["inconsistent_rate"] = 0.0
        o["keep_kind"] = True
        truths.append(make_doc(world, fid, rng, spec, kind, o, outdir))
    # small catalog: every SKU on a fixture + its series siblings (near-duplicates), capped
    cat = world["catalog"]
    idx = {p["sku"]: i for i, p in enumerate(cat)}
    keep = set()
    for t in truths:
        for l in t["lines"]:
            if l["sku"]:
                i = idx[l["sku"]]
                for j in range(max(0, i - 3), min(len(cat), i + 4)):
                    keep.add(j)
    rng = random.Random(f"{world['seed']}:fixture-catalog")
    extra = rng.sample(range(len(cat)), 60)
    keep |= set(extra)
    with open(os.path.join(outdir, "catalog.csv"), "w", encoding="utf-8") as f:
        f.write(catalog_csv([cat[i] for i in sorted(keep)]))
    write_lines_csv(truths, os.path.join(outdir, "lines.csv"))
    return truths
