"""Make the README sample images: report_images.py OUT_DIR (a generated set) -> training-data/report/*.jpg

Thumbnails of fixtures (each kind of degradation) and a contact sheet of 12 different distributor formats.
"""
import glob
import json
import os
import sys

from PIL import Image, ImageDraw, ImageOps

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REP = os.path.join(HERE, "report")


def first_page(path, scale=1.0):
    if path.endswith(".jpg"):
        return ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    import pypdfium2 as pdfium
    d = pdfium.PdfDocument(path)
    return d[0].render(scale=scale).to_pil().convert("RGB")


def save(im, name, maxside, q=80):
    im = im.copy()
    im.thumbnail((maxside, maxside), Image.LANCZOS)
    p = os.path.join(REP, name)
    im.save(p, "JPEG", quality=q, optimize=True)
    print(name, im.size, os.path.getsize(p))


def boxes(im, truth, page_scale):
    dr = ImageDraw.Draw(im)
    pg = truth["pages"][0]
    k = page_scale
    for f in pg["fields"]:
        dr.rectangle([v * k for v in f["bbox"]], outline=(230, 0, 0), width=3)
    for l in truth["lines"]:
        if l["page"] == 1:
            for b in l["bbox"].values():
                dr.rectangle([v * k for v in b], outline=(0, 170, 0) if l["sku"] else (255, 140, 0), width=2)
    return im


def main():
    os.makedirs(REP, exist_ok=True)
    fx = os.path.join(HERE, "fixtures")
    for name, maxside in [("fx01_digital_de_multipage.pdf", 900), ("fx03_digital_en_twoline.pdf", 900), ("fx06_scan_es.pdf", 900),
                          ("fx08_photo_de_exif.jpg", 900), ("fx10_photo_pt_shadow_rot90.jpg", 900), ("fx11_photo_fr_perspective.jpg", 900)]:
        save(first_page(os.path.join(fx, name), 1.5), name.rsplit(".", 1)[0] + ".jpg", maxside)
    # truth overlay on a photo (boxes follow the perspective warp)
    t = json.load(open(os.path.join(fx, "fx09_photo_en_blur.truth.json"), encoding="utf-8"))
    im = first_page(os.path.join(fx, "fx09_photo_en_blur.jpg"))
    save(boxes(im, t, 1.0), "truth_boxes_photo.jpg", 1000)
    # contact sheet of 12 formats from a generated set
    if len(sys.argv) > 1:
        out = sys.argv[1]
        idx = [l.split(",") for l in open(os.path.join(out, "index.csv")).read().splitlines()[1:]]
        seen, picks = set(), []
        for doc_id, did, split, kind, pages, nl, ok in idx:
            if kind == "digital_pdf" and did not in seen and len(picks) < 12:
                seen.add(did)
                picks.append(doc_id)
        tiles = [first_page(os.path.join(out, "docs", f"{d}.pdf"), 0.55) for d in picks]
        tw, th = 300, 424
        sheet = Image.new("RGB", (tw * 4 + 50, th * 3 + 40), (235, 235, 235))
        for i, im in enumerate(tiles):
            im.thumbnail((tw, th), Image.LANCZOS)
            sheet.paste(im, (10 + (i % 4) * (tw + 10), 10 + (i // 4) * (th + 10)))
        save(sheet, "formats_contact_sheet.jpg", 1400, q=78)
        # a heavily degraded photo with a partial crop, and a heavy scan, from the bulk set
        ts = [json.load(open(os.path.join(out, "docs", f"{r[0]}.truth.json"), encoding="utf-8")) for r in idx if r[3] != "digital_pdf"]
        ph = [t for t in ts if t["kind"] == "photo" and t["degradation"]["crop"]]
        if ph:
            save(first_page(os.path.join(out, "docs", ph[0]["files"][0])), "bulk_photo_partial_crop.jpg", 800)
        sc = sorted([t for t in ts if t["kind"] == "scanned_pdf" and not t["degradation"]["binarize"]], key=lambda t: -t["degradation"]["level"])
        if sc:
            im = first_page(os.path.join(out, "docs", sc[0]["files"][0]), 2.0)
            w, h = im.size
            save(im.crop((0, 0, w, h // 2)), "bulk_scan_heavy_top_half.jpg", 900)


if __name__ == "__main__":
    main()
