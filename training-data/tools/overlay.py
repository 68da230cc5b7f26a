"""Draw the truth boxes of a document over its page image (for eyeballing): overlay.py DOC.truth.json OUT.png [page]"""
import io
import json
import os
import sys

from PIL import Image, ImageDraw, ImageOps


def page_image(truth_path, page=0):
    t = json.load(open(truth_path, encoding="utf-8"))
    d = os.path.dirname(truth_path)
    fn = os.path.join(d, t["files"][0])
    if fn.endswith(".jpg"):
        im = ImageOps.exif_transpose(Image.open(fn)).convert("RGB")
    else:
        import pypdfium2 as pdfium
        pdf = pdfium.PdfDocument(fn)
        pg = t["pages"][page]
        im = pdf[page].render(scale=pg["width"] / pg["width_pt"]).to_pil().convert("RGB")
    return t, im


def main():
    src, out = sys.argv[1], sys.argv[2]
    page = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    t, im = page_image(src, page)
    dr = ImageDraw.Draw(im)
    for w, b in t["pages"][page]["words"]:
        dr.rectangle(b, outline=(0, 160, 255), width=1)
    for f in t["pages"][page]["fields"]:
        dr.rectangle(f["bbox"], outline=(255, 0, 0), width=3)
    for l in t["lines"]:
        if l["page"] == page + 1:
            for k, b in l["bbox"].items():
                dr.rectangle(b, outline=(0, 200, 0) if l["sku"] else (255, 140, 0), width=3)
    im.thumbnail((1400, 1400))
    im.save(out)


if __name__ == "__main__":
    main()
