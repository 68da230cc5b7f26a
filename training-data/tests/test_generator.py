"""Tests of the invoice generator: determinism, GTINs, formats, splits, totals, truth boxes, fixtures, activity."""
import csv
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

from invgen.util import ean13_valid, r2  # noqa: E402
from invgen.distributors import load_heldout  # noqa: E402

FIX = os.path.join(HERE, "fixtures")


def run(*args, cwd=HERE):
    env = dict(os.environ, PYTHONHASHSEED="0")
    subprocess.run([sys.executable, "-m", "invgen", *args], cwd=cwd, check=True, env=env, capture_output=True)


def digest_dir(d):
    out = {}
    for root, _, files in os.walk(d):
        for f in files:
            p = os.path.join(root, f)
            out[os.path.relpath(p, d)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out


@pytest.fixture(scope="session")
def small_set(tmp_path_factory):
    """A small mixed set generated twice (2 workers vs 1 worker) with the same seed."""
    a = tmp_path_factory.mktemp("a")
    b = tmp_path_factory.mktemp("b")
    run("docs", "--out", str(a), "--docs", "12", "--seed", "5", "--workers", "2", "--inconsistent-rate", "0.3")
    run("docs", "--out", str(b), "--docs", "12", "--seed", "5", "--workers", "1", "--inconsistent-rate", "0.3")
    return a, b


@pytest.fixture(scope="session")
def digital_set(tmp_path_factory):
    d = tmp_path_factory.mktemp("dig")
    run("docs", "--out", str(d), "--docs", "80", "--seed", "11", "--kinds", "digital_pdf", "--inconsistent-rate", "0.25")
    return d


def truths(d):
    return [json.load(open(p, encoding="utf-8")) for p in sorted(glob.glob(os.path.join(d, "**", "*.truth.json"), recursive=True))]


# ------------------------------------------------------------------ determinism
def test_same_seed_is_byte_identical(small_set):
    a, b = small_set
    da, db = digest_dir(a), digest_dir(b)
    assert len(da) > 20
    assert da == db


def test_different_seed_differs(small_set, tmp_path):
    a, _ = small_set
    run("docs", "--out", str(tmp_path), "--docs", "3", "--seed", "6", "--kinds", "digital_pdf")
    assert digest_dir(tmp_path)["docs/inv000000.truth.json"] != digest_dir(a)["docs/inv000000.truth.json"]


def test_fixtures_regenerate_identically(tmp_path):
    run("fixtures", "--out", str(tmp_path / "fx"))
    committed = {k: v for k, v in digest_dir(FIX).items() if k != "README.md"}
    assert committed == digest_dir(tmp_path / "fx"), "fixtures/ is stale: run `bash training-data/make.sh --fixtures`"


# ------------------------------------------------------------------ catalog
def test_catalog_schema_and_gtins(small_set):
    a, _ = small_set
    rows = list(csv.DictReader(open(os.path.join(a, "catalog.csv"), encoding="utf-8")))
    assert list(rows[0].keys()) == ["sku", "name", "brand", "family", "gtin", "mpn", "unit", "pack_size", "list_price",
                                    "points_per_unit", "eligible"]
    assert len(rows) == 20000
    assert all(ean13_valid(r["gtin"]) for r in rows)
    assert len({r["sku"] for r in rows}) == len(rows)
    assert len({r["gtin"] for r in rows}) == len(rows)
    assert len({r["name"] for r in rows}) > 0.97 * len(rows)
    fams = {r["family"].split("/")[0] for r in rows}
    assert fams == {"pumps", "heating", "ventilation", "electrical", "plumbing"}


def test_lines_csv_matches_truth(small_set):
    a, _ = small_set
    rows = list(csv.DictReader(open(os.path.join(a, "lines.csv"), encoding="utf-8")))
    n = sum(len(t["lines"]) for t in truths(a))
    assert len(rows) == n > 0
    for r in rows:
        assert (r["sku"] != "") == (r["kind"] == "product")
    fx = list(csv.DictReader(open(os.path.join(FIX, "lines.csv"), encoding="utf-8")))
    assert len(fx) == sum(len(t["lines"]) for t in truths(FIX))


def test_fixture_catalog_covers_fixture_lines():
    skus = {r["sku"] for r in csv.DictReader(open(os.path.join(FIX, "catalog.csv"), encoding="utf-8"))}
    assert 150 <= len(skus) <= 1000
    for t in truths(FIX):
        for l in t["lines"]:
            if l["sku"]:
                assert l["sku"] in skus
            if l["gtin"]:
                assert ean13_valid(l["gtin"])


# ------------------------------------------------------------------ formats and splits
def test_at_least_400_distinct_formats(small_set):
    a, _ = small_set
    dists = json.load(open(os.path.join(a, "distributors.json"), encoding="utf-8"))
    assert len(dists) >= 400
    assert len({d["format_id"] for d in dists}) == len(dists)
    assert len({d["name"] for d in dists}) == len(dists)
    assert len({d["vat_id"] for d in dists}) == len(dists)
    # distinct on layout-relevant fields alone, not just names
    keys = ["language", "currency_style", "decimal_sep", "thousands_sep", "date_style", "font", "font_size", "table_style",
            "item_style", "columns", "logo", "meta_style", "customer_pos", "totals_style", "labels", "naming", "margin_x", "accent"]
    sig = {json.dumps([d[k] for k in keys], sort_keys=True) for d in dists}
    assert len(sig) >= 400
    assert len({d["language"] for d in dists}) == 8
    assert len({d["item_style"] for d in dists}) == 3
    assert len({d["table_style"] for d in dists}) >= 4


def test_heldout_list_respected(small_set):
    a, _ = small_set
    held = load_heldout(os.path.join(HERE, "heldout.txt"))
    assert 70 <= len(held) <= 100  # ~20% of 420
    sp = json.load(open(os.path.join(a, "splits.json"), encoding="utf-8"))
    assert sorted(sp["heldout"]) == sorted(held)
    assert not set(sp["train"]) & set(sp["heldout"])
    for t in truths(a) + truths(FIX):
        assert t["split"] == ("heldout" if t["distributor_id"] in held else "train")


# ------------------------------------------------------------------ totals
def check_totals(t):
    h = t["header"]
    ok = True
    for l in t["lines"]:
        ok &= r2(l["unit_price"] * (1 - l["discount_pct"] / 100.0)) == l["net_price"]
        ok &= r2(l["quantity"] * l["net_price"]) == l["amount"]
    ok &= r2(sum(l["amount"] for l in t["lines"])) == h["subtotal"]
    ok &= r2(sum(v["tax"] for v in h["vat_breakdown"])) == h["tax"]
    ok &= r2(h["subtotal"] + h["tax"]) == h["total"]
    return ok


def test_totals_add_up_unless_flagged(digital_set, small_set):
    ts = truths(digital_set) + truths(small_set[0]) + truths(FIX)
    flagged = 0
    for t in ts:
        if t["totals_consistent"]:
            assert check_totals(t), t["doc_id"]
            assert t["inconsistency"] is None
        else:
            flagged += 1
            assert not check_totals(t), t["doc_id"]
            assert t["inconsistency"]["field"] in ("total", "tax", "subtotal", "line_amount")
    assert flagged > 0
    assert any(t["header"]["is_credit_note"] and t["header"]["total"] < 0 for t in truths(FIX))


def test_content_mix(digital_set):
    ts = truths(digital_set)
    kinds = {l["kind"] for t in ts for l in t["lines"]}
    assert {"product", "other_brand", "service"} <= kinds
    assert kinds & {"shipping", "fee", "discount"}
    for t in ts:
        assert 1 <= len(t["lines"]) <= 60
        for l in t["lines"]:
            assert (l["sku"] is not None) == (l["kind"] == "product")
    assert any(len(t["pages"]) > 1 for t in ts)


# ------------------------------------------------------------------ boxes
def norm(s):
    return "".join(s.split())


def inside(b, w, h):
    return 0 <= b[0] <= b[2] <= w + 0.01 and 0 <= b[1] <= b[3] <= h + 0.01


def check_digital_boxes(t, pdf_path):
    import pypdfium2 as pdfium
    doc = pdfium.PdfDocument(pdf_path)
    checked = 0
    for pi, pg in enumerate(t["pages"]):
        page = doc[pi]
        tp = page.get_textpage()
        k = pg["width"] / pg["width_pt"]
        H = pg["height_pt"]

        def text_in(b):
            pad = 1.0
            return tp.get_text_bounded(left=b[0] / k - pad, bottom=H - b[3] / k - pad, right=b[2] / k + pad, top=H - b[1] / k + pad)
        items = [(f["value_text"], f["bbox"]) for f in pg["fields"]]
        items += [(l["text"][f], l["bbox"][f]) for l in t["lines"] if l["page"] == pi + 1 for f in l["bbox"]]
        for val, b in items:
            assert inside(b, pg["width"], pg["height"]), (t["doc_id"], val, b)
            got = text_in(b)
            assert norm(val) in norm(got), (t["doc_id"], val, got)
            checked += 1
        for w, b in pg["words"][::7]:
            assert norm(w) in norm(text_in(b)), (t["doc_id"], w)
    doc.close()
    return checked


def test_digital_boxes_cover_rendered_text(digital_set):
    n = 0
    ts = truths(digital_set)
    for t in ts[:40] + [t for t in truths(FIX) if t["kind"] == "digital_pdf"]:
        base = digital_set if t["doc_id"].startswith("inv") else FIX
        p = os.path.join(base, "docs", t["files"][0]) if t["doc_id"].startswith("inv") else os.path.join(FIX, t["files"][0])
        n += check_digital_boxes(t, p)
    assert n > 1000


def test_header_fields_present(digital_set):
    need = {"supplier_name", "supplier_vat_id", "invoice_number", "invoice_date", "customer_name", "subtotal", "tax", "total"}
    for t in truths(digital_set):
        names = {f["name"] for pg in t["pages"] for f in pg["fields"]}
        assert need <= names, (t["doc_id"], need - names)


def test_image_boxes_inside_and_exif(small_set):
    from PIL import Image, ImageOps
    for t in truths(FIX) + truths(small_set[0]):
        base = FIX if t["doc_id"].startswith("fx") else os.path.join(small_set[0], "docs")
        for pg in t["pages"]:
            for f in pg["fields"]:
                assert inside(f["bbox"], pg["width"], pg["height"])
        if t["kind"] == "photo":
            im = Image.open(os.path.join(base, t["files"][0]))
            up = ImageOps.exif_transpose(im)
            assert up.size == (t["pages"][0]["width"], t["pages"][0]["height"])
            if t["degradation"]["exif_orientation"]:
                assert im.getexif().get(0x0112) == 6 and im.size == up.size[::-1]


def test_fixture_set_shape():
    ts = {t["doc_id"]: t for t in truths(FIX)}
    kinds = [t["kind"] for t in ts.values()]
    assert all(t["split"] == "train" for t in ts.values())  # fixtures are tuning material
    assert kinds.count("digital_pdf") >= 4 and kinds.count("scanned_pdf") >= 2 and kinds.count("photo") >= 4
    assert any(len(t["pages"]) > 1 for t in ts.values() if t["kind"] == "digital_pdf")
    assert len({t["language"] for t in ts.values()}) >= 6
    total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(FIX, "*")))
    assert total < 3 * 1024 * 1024
    import pypdfium2 as pdfium
    for t in ts.values():
        if t["kind"] == "scanned_pdf":
            doc = pdfium.PdfDocument(os.path.join(FIX, t["files"][0]))
            assert doc[0].get_textpage().get_text_range().strip() == ""  # image only
            assert t["pages"][0]["dpi"] == 300
            doc.close()
        if t["kind"] == "photo":
            w, h = t["pages"][0]["width"], t["pages"][0]["height"]
            assert 2000 <= max(w, h) <= 3200


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
def test_scan_fixture_is_ocr_readable(tmp_path):
    import pypdfium2 as pdfium
    t = json.load(open(os.path.join(FIX, "fx06_scan_es.truth.json"), encoding="utf-8"))
    doc = pdfium.PdfDocument(os.path.join(FIX, t["files"][0]))
    img = [o for o in doc[0].get_objects() if o.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE][0]
    img.extract(str(tmp_path / "scan"))
    src = glob.glob(str(tmp_path / "scan*"))[0]
    out = subprocess.run(["tesseract", src, "-", "--psm", "4"], capture_output=True, text=True, env=dict(os.environ, OMP_THREAD_LIMIT="1")).stdout
    assert norm(t["header"]["invoice_number"]) in norm(out)
    assert norm(t["pages"][0]["fields"][-1]["value_text"]) in norm(out) or t["header"]["customer_name"].split()[0] in out


# ------------------------------------------------------------------ activity
def test_activity_simulator(tmp_path):
    run("activity", "--out", str(tmp_path / "a"), "--partners", "300", "--days", "365", "--chunk", "128")
    run("activity", "--out", str(tmp_path / "b"), "--partners", "300", "--days", "365", "--chunk", "128")
    assert digest_dir(tmp_path / "a") == digest_dir(tmp_path / "b")
    rows = list(csv.DictReader(open(tmp_path / "a" / "activity.csv", encoding="utf-8")))
    assert list(rows[0].keys()) == ["partner_id", "occurred_at", "kind", "quantity", "amount"]
    assert {r["kind"] for r in rows} == {"purchase", "claim", "login", "message_opened", "challenge_joined", "challenge_completed"}
    keys = [(r["partner_id"], r["occurred_at"]) for r in rows]
    assert keys == sorted(keys)
    assert all(r["occurred_at"].endswith("Z") and r["occurred_at"][10] == "T" for r in rows[:1000])
    truth = list(csv.DictReader(open(tmp_path / "a" / "activity_truth.csv", encoding="utf-8")))
    assert len(truth) == 300
    pats = {t["pattern"] for t in truth}
    assert pats == {"regular", "seasonal", "growing", "drifting", "disengaging"}
    for t in truth:
        assert (t["onset_date"] != "") == (t["pattern"] == "disengaging")
    # disengaged partners buy much less after onset than before
    import datetime as dt
    onset = {t["partner_id"]: dt.date.fromisoformat(t["onset_date"]) for t in truth if t["onset_date"]}
    before = after = 0.0
    for r in rows:
        if r["kind"] == "purchase" and r["partner_id"] in onset:
            d = dt.date.fromisoformat(r["occurred_at"][:10])
            o = onset[r["partner_id"]]
            days_before = (o - dt.date(2023, 1, 1)).days
            if d < o:
                before += 1.0 / max(days_before, 1)
            elif (d - o).days > 30:
                after += 1.0 / 365
    assert after < before * 0.5


# ------------------------------------------------------------------ repeat buying
def test_repeat_rate_makes_distributors_sell_their_assortment_again():
    import random
    from invgen.generate import build_world
    from invgen.content import make_invoice

    world = build_world(17, 4, 3000)
    spec = world["dists"][0]

    def invoices(opts):
        return [make_invoice(random.Random(f"t:{i}"), spec, world["catalog"], world["by_family"], i, dict(opts)) for i in range(30)]

    def repeat_share(invs):
        seen, again, n = set(), 0, 0
        for inv in invs:
            skus = [l["sku"] for l in inv["lines"] if l["kind"] == "product"]
            again += sum(s in seen for s in skus)
            n += len(skus)
            seen.update(skus)
        return again / n

    plain = invoices({"inconsistent_rate": 0.05})
    # rate 0 draws nothing more: the same invoices as before the option existed
    assert invoices({"inconsistent_rate": 0.05, "repeat_rate": 0.0}) == plain
    repeat = invoices({"inconsistent_rate": 0.05, "repeat_rate": 0.8})
    print(f"repeat share: plain {repeat_share(plain):.3f}, rate 0.8 {repeat_share(repeat):.3f}")
    assert repeat_share(plain) < 0.2, repeat_share(plain)
    assert repeat_share(repeat) > 0.45, repeat_share(repeat)
    # the assortment stays within the distributor's focus families
    fams = set(spec["family_focus"])
    fam_of = {p["sku"]: p["family"].split("/")[0] for p in world["catalog"]}
    assert all(fam_of[l["sku"]] in fams for inv in repeat for l in inv["lines"] if l["kind"] == "product")
