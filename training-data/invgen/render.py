"""Rendering: digital PDF (reportlab), page rasters (pdfium), scanner and phone-photo degradation.

All randomness comes from a numpy Generator passed in; encoders are deterministic.
"""
import io

import numpy as np

PT = 72.0


def _rl():
    from reportlab import rl_config
    rl_config.useA85 = 0  # raw binary streams: smaller files, and no slow pure-python ASCII85


def write_pdf(pages, title, author):
    from reportlab.pdfgen import canvas
    _rl()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(pages[0].w, pages[0].h), invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setAuthor(author)
    c.setCreator("claimscan invgen")
    c.setProducer("claimscan invgen")
    for pg in pages:
        H = pg.h
        c.setPageSize((pg.w, pg.h))
        for op in pg.ops:
            k = op[0]
            if k == "t":
                _, x, y, s, font, size, color = op
                c.setFillColorRGB(*color)
                c.setFont(font, size)
                c.drawString(x, H - y, s)
            elif k == "l":
                _, x0, y0, x1, y1, w, color = op
                c.setStrokeColorRGB(*color)
                c.setLineWidth(w)
                c.line(x0, H - y0, x1, H - y1)
            elif k == "r":
                _, x0, y0, x1, y1, fill, stroke, w = op
                if fill:
                    c.setFillColorRGB(*fill)
                if stroke:
                    c.setStrokeColorRGB(*stroke)
                    c.setLineWidth(w)
                c.rect(x0, H - y1, x1 - x0, y1 - y0, fill=1 if fill else 0, stroke=1 if stroke else 0)
            elif k == "c":
                _, cx, cy, r, color = op
                c.setFillColorRGB(*color)
                c.circle(cx, H - cy, r, stroke=0, fill=1)
            elif k == "p":
                _, pts, color = op
                c.setFillColorRGB(*color)
                path = c.beginPath()
                path.moveTo(pts[0][0], H - pts[0][1])
                for x, y in pts[1:]:
                    path.lineTo(x, H - y)
                path.close()
                c.drawPath(path, stroke=0, fill=1)
        c.showPage()
    c.save()
    return buf.getvalue()


def images_pdf(images, page_sizes_pt, title):
    """Image-only PDF: one JPEG/PNG per page, stretched over the page (like a scanner's output)."""
    from reportlab.pdfgen import canvas
    from reportlab.lib.utils import ImageReader
    _rl()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=page_sizes_pt[0], invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setCreator("claimscan invgen scanner")
    c.setProducer("claimscan invgen")
    for data, (w, h) in zip(images, page_sizes_pt):
        c.setPageSize((w, h))
        c.drawImage(ImageReader(io.BytesIO(data)), 0, 0, width=w, height=h)
        c.showPage()
    c.save()
    return buf.getvalue()


def rasterize(pdf_bytes, dpi, gray=False):
    import pypdfium2 as pdfium
    doc = pdfium.PdfDocument(pdf_bytes)
    out = []
    for i in range(len(doc)):
        bm = doc[i].render(scale=dpi / PT, grayscale=gray)
        img = np.array(bm.to_pil())
        out.append(img)
        bm.close()
    doc.close()
    return out


# ------------------------------------------------------------------ geometry
def tx_affine(M):
    def f(b):
        pts = np.array([[b[0], b[1], 1], [b[2], b[1], 1], [b[0], b[3], 1], [b[2], b[3], 1]], dtype=np.float64)
        q = pts @ np.asarray(M, dtype=np.float64).T
        return [float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max())]
    return f


def tx_homography(Hm):
    def f(b):
        pts = np.array([[b[0], b[1], 1], [b[2], b[1], 1], [b[0], b[3], 1], [b[2], b[3], 1]], dtype=np.float64)
        q = pts @ Hm.T
        q = q[:, :2] / q[:, 2:3]
        return [float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max())]
    return f


# ------------------------------------------------------------------ scanner
def scan_params(rng, level=None):
    lv = level if level is not None else float(rng.uniform(0.1, 1.0))
    return {
        "level": round(lv, 3), "level_name": "light" if lv < 0.4 else "medium" if lv < 0.75 else "heavy",
        "dpi": int(rng.choice([200, 300, 300])), "skew_deg": round(float(rng.choice([-1, 1]) * rng.uniform(0.15, 0.4 + 1.6 * lv)), 3),
        "shift_px": [int(rng.integers(-25, 26)), int(rng.integers(-25, 26))], "noise_sigma": round(float(2 + 7 * lv * rng.uniform(0.5, 1)), 2),
        "blur_sigma": round(float(rng.uniform(0, 0.4 + 0.6 * lv)), 2), "ink": round(float(rng.uniform(0.75, 1.0)), 3),
        "paper": round(float(rng.uniform(0.9, 0.99)), 3), "speckles": int(rng.integers(0, 40 + int(400 * lv))),
        "edge_shadow": bool(rng.random() < 0.4), "binarize": bool(rng.random() < 0.2 * lv + 0.05),
        "jpeg_quality": int(rng.integers(60, 86)),
    }


def degrade_scan(img, P, rng):
    """img: HxW uint8 gray at P['dpi']. Returns (encoded bytes, fmt, box transform, (w, h))."""
    import cv2
    h, w = img.shape
    f = img.astype(np.float32)
    f = 255.0 - (255.0 - f) * P["ink"]
    f *= P["paper"]
    if P["blur_sigma"] > 0.05:
        f = cv2.GaussianBlur(f, (0, 0), P["blur_sigma"])
    M = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), P["skew_deg"], 1.0)
    M[0, 2] += P["shift_px"][0]
    M[1, 2] += P["shift_px"][1]
    bg = 255.0 * P["paper"]
    f = cv2.warpAffine(f, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=bg)
    if P["edge_shadow"]:
        ew = int(rng.integers(8, 40))
        ramp = np.linspace(0.35, 1.0, ew, dtype=np.float32)
        side = int(rng.integers(0, 4))
        if side == 0:
            f[:, :ew] *= ramp[None, :]
        elif side == 1:
            f[:, -ew:] *= ramp[::-1][None, :]
        elif side == 2:
            f[:ew, :] *= ramp[:, None]
        else:
            f[-ew:, :] *= ramp[::-1][:, None]
    n = P["speckles"]
    if n:
        ys = rng.integers(0, h, n)
        xs = rng.integers(0, w, n)
        rs = rng.integers(1, 4, n)
        for yy, xx, rr in zip(ys, xs, rs):
            cv2.circle(f, (int(xx), int(yy)), int(rr), float(rng.uniform(40, 140)), -1)
    noise = rng.standard_normal((h, w), dtype=np.float32)
    f += noise * P["noise_sigma"]
    out = np.clip(f, 0, 255).astype(np.uint8)
    from PIL import Image
    buf = io.BytesIO()
    if P["binarize"]:
        im = Image.fromarray((out > 165).astype(np.uint8) * 255).convert("1")
        im.save(buf, "PNG", optimize=False, dpi=(P["dpi"], P["dpi"]))
        fmt = "png"
    else:
        Image.fromarray(out, "L").save(buf, "JPEG", quality=P["jpeg_quality"], dpi=(P["dpi"], P["dpi"]))
        fmt = "jpeg"
    return buf.getvalue(), fmt, tx_affine(M), (w, h)


# ------------------------------------------------------------------ phone photo
BACKGROUNDS = [(120, 84, 52), (160, 118, 78), (95, 95, 100), (60, 62, 66), (200, 198, 190), (35, 35, 38), (140, 150, 160), (180, 160, 130)]


def photo_params(rng, level=None, **over):
    lv = level if level is not None else float(rng.uniform(0.1, 1.0))
    P = {
        "level": round(lv, 3), "level_name": "light" if lv < 0.4 else "medium" if lv < 0.75 else "heavy",
        "long_side": int(rng.choice([2000, 2400, 2600, 2800])), "sheet_fraction": round(float(rng.uniform(0.62, 0.84)), 3), "perspective": round(float(rng.uniform(0.01, 0.03 + 0.07 * lv)), 4),
        "rotation_deg": round(float(rng.uniform(-3 - 6 * lv, 3 + 6 * lv)), 2), "rot90": int(rng.choice([0, 0, 0, 0, 0, 0, 1, 3])),
        "exif_orientation": bool(rng.random() < 0.1), "crop": bool(rng.random() < 0.12 * lv),
        "background": int(rng.integers(0, len(BACKGROUNDS))), "light_gradient": round(float(rng.uniform(0.05, 0.2 + 0.35 * lv)), 3),
        "shadow": bool(rng.random() < 0.25 + 0.5 * lv), "shadow_strength": round(float(rng.uniform(0.2, 0.25 + 0.35 * lv)), 3),
        "blur_sigma": round(float(rng.choice([0.0, 0.0, rng.uniform(0.3, 0.6 + 1.4 * lv)])), 2),
        "motion_blur_px": int(rng.choice([0, 0, 0, int(rng.integers(3, 4 + int(8 * lv)))])), "noise_sigma": round(float(rng.uniform(1.5, 3 + 4 * lv)), 2),
        "jpeg_quality": int(rng.integers(80, 91)), "paper_tint": [round(float(x), 3) for x in rng.uniform(0.93, 1.0, 3)], "exposure": round(float(rng.uniform(1.02, 1.15)), 3),
    }
    P.update(over)
    # render the page at about the resolution it will have in the photo (slightly above: the warp then downsamples)
    P.setdefault("page_dpi", int(round(P["sheet_fraction"] * P["long_side"] / 11.69 * float(rng.uniform(1.05, 1.25)))))
    return P


def _lowfreq(rng, h, w, cells=6):
    import cv2
    small = rng.standard_normal((cells, cells)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def degrade_photo(page_rgb, P, rng):
    """page_rgb: HxWx3 uint8 rendered at P['page_dpi']. Returns (jpeg bytes, box transform (page px -> final px), (w, h))."""
    import cv2
    ph, pw = page_rgb.shape[:2]
    L = P["long_side"]
    Wc, Hc = (L * 3) // 4, L  # portrait canvas
    # sheet quad
    s = P["sheet_fraction"] * Hc / ph
    cw, ch = pw * s, ph * s
    cx = Wc / 2 + rng.uniform(-0.06, 0.06) * Wc
    cy = Hc / 2 + rng.uniform(-0.05, 0.05) * Hc
    a = np.deg2rad(P["rotation_deg"])
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    corners = np.array([[-cw / 2, -ch / 2], [cw / 2, -ch / 2], [cw / 2, ch / 2], [-cw / 2, ch / 2]])
    k = P["perspective"]
    # keystone: top edge narrower/wider, plus per-corner jitter
    key = rng.uniform(-k, k) * cw
    corners[0, 0] += key
    corners[1, 0] -= key
    corners += rng.uniform(-k * 0.5, k * 0.5, corners.shape) * np.array([cw, ch])
    dst = (corners @ R.T) + np.array([cx, cy])
    if P["crop"]:
        # the sheet runs off one side of the frame by 3-12% of its size (partially cut content)
        side = int(rng.integers(0, 4))
        cut = rng.uniform(0.03, 0.12)
        if side == 0:
            dst[:, 0] -= dst[:, 0].min() + cut * cw
        elif side == 1:
            dst[:, 0] += (Wc - dst[:, 0].max()) + cut * cw
        elif side == 2:
            dst[:, 1] -= dst[:, 1].min() + cut * 0.6 * ch
        else:
            dst[:, 1] += (Hc - dst[:, 1].max()) + cut * 0.6 * ch
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], dtype=np.float32)
    Hm = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    # background
    base = np.array(BACKGROUNDS[P["background"]], dtype=np.float32)
    bg = np.empty((Hc, Wc, 3), np.float32)
    lf = _lowfreq(rng, Hc, Wc, 5) * 12
    grain = cv2.resize(rng.standard_normal((Hc // 8, Wc // 8)).astype(np.float32), (Wc, Hc), interpolation=cv2.INTER_LINEAR) * 6
    streak = cv2.resize(rng.standard_normal((Hc // 2, 4)).astype(np.float32), (Wc, Hc), interpolation=cv2.INTER_LINEAR) * 7
    for c in range(3):
        bg[..., c] = base[c] + lf + grain + streak
    page = page_rgb.astype(np.float32) * np.array(P["paper_tint"], np.float32)
    warped = cv2.warpPerspective(page, Hm, (Wc, Hc), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    mask = cv2.warpPerspective(np.ones((ph, pw), np.float32), Hm, (Wc, Hc), flags=cv2.INTER_LINEAR, borderValue=0)
    # low-frequency fields are computed at 1/8 resolution and upsampled (blurs of sigma 20-35 px are costly)
    f8 = 8
    ws, hs = Wc // f8, Hc // f8
    S = np.diag([1.0 / f8, 1.0 / f8, 1.0]) @ Hm
    mask_s = cv2.warpPerspective(np.ones((ph, pw), np.float32), S, (ws, hs), flags=cv2.INTER_LINEAR, borderValue=0)
    sh = cv2.GaussianBlur(mask_s, (0, 0), 18 / f8)
    sh = np.roll(sh, (2, 1), axis=(0, 1))
    yy, xx = np.mgrid[0:hs, 0:ws].astype(np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    g = ((xx / ws - 0.5) * np.cos(ang) + (yy / hs - 0.5) * np.sin(ang))
    light = P.get("exposure", 1.1) - P["light_gradient"] * (g + 0.5)
    r2 = ((xx / ws - 0.5) ** 2 + (yy / hs - 0.5) ** 2)
    light *= 1.0 - 0.3 * r2
    if P["shadow"]:
        # soft shadow of a phone/hand entering from one side
        poly_mask = np.zeros((hs, ws), np.uint8)
        side = int(rng.integers(0, 4))
        p0 = rng.uniform(0.2, 0.8)
        p1 = rng.uniform(0.2, 0.8)
        depth = rng.uniform(0.2, 0.45)
        Wq, Hq = ws, hs
        if side == 0:
            pts = [(0, int(p0 * Hq)), (int(depth * Wq), int(p0 * Hq + 0.1 * Hq)), (int(depth * 0.8 * Wq), Hq), (0, Hq)]
        elif side == 1:
            pts = [(Wq, int(p0 * Hq)), (int((1 - depth) * Wq), int(p1 * Hq)), (int((1 - depth) * Wq), Hq), (Wq, Hq)]
        elif side == 2:
            pts = [(int(p0 * Wq), 0), (int(p1 * Wq), int(depth * Hq)), (Wq, int(depth * 0.7 * Hq)), (Wq, 0)]
        else:
            pts = [(0, Hq), (int(p0 * Wq), int((1 - depth) * Hq)), (int(p1 * Wq), int((1 - depth * 0.6) * Hq)), (Wq, Hq)]
        cv2.fillPoly(poly_mask, [np.array(pts, np.int32)], 255)
        sm = cv2.GaussianBlur(poly_mask.astype(np.float32) / 255.0, (0, 0), 35 / f8)
        light *= 1.0 - P["shadow_strength"] * sm
    light = cv2.resize(light.astype(np.float32), (Wc, Hc), interpolation=cv2.INTER_LINEAR)
    bgmul = cv2.resize((1 - 0.45 * sh).astype(np.float32), (Wc, Hc), interpolation=cv2.INTER_LINEAR)
    m3 = mask[..., None]
    img = bg * ((1 - mask) * bgmul)[..., None] + warped * m3
    img *= light[..., None]
    # warm/cool white balance
    img *= np.array([1.0, 0.985, 0.95], np.float32)[None, None, :] if P["background"] % 2 else np.array([0.97, 0.99, 1.0], np.float32)[None, None, :]
    if P["blur_sigma"] > 0.05:
        img = cv2.GaussianBlur(img, (0, 0), P["blur_sigma"])
    if P["motion_blur_px"]:
        kk = P["motion_blur_px"]
        ker = np.zeros((kk, kk), np.float32)
        ker[kk // 2, :] = 1.0 / kk
        Mr = cv2.getRotationMatrix2D((kk / 2 - 0.5, kk / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
        ker = cv2.warpAffine(ker, Mr, (kk, kk))
        ker /= max(ker.sum(), 1e-6)
        img = cv2.filter2D(img, -1, ker)
    img += rng.standard_normal((Hc, Wc, 1), dtype=np.float32) * P["noise_sigma"]
    out = np.clip(img, 0, 255).astype(np.uint8)
    box = tx_homography(Hm)
    W, Hh = Wc, Hc
    if P["rot90"]:
        out = np.ascontiguousarray(np.rot90(out, k=P["rot90"]))
        prev = box
        kk = P["rot90"]
        # np.rot90 k=1: (x, y) -> (y, W-1-x) ... use exact point mapping on box corners
        def box(b, prev=prev, kk=kk, W0=Wc, H0=Hc):
            x0, y0, x1, y1 = prev(b)
            pts = [(x0, y0), (x1, y0), (x0, y1), (x1, y1)]
            for _ in range(kk):
                pts = [(y, W0 - x) for x, y in pts]
                W0, H0 = H0, W0
            xs = [p[0] for p in pts]
            ys = [p[1] for p in pts]
            return [min(xs), min(ys), max(xs), max(ys)]
        if kk % 2:
            W, Hh = Hc, Wc
    from PIL import Image
    im = Image.fromarray(out, "RGB")
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Phonecam"
    exif[0x0110] = "PC-12"
    if P["exif_orientation"]:
        # store the pixels rotated 90deg counter-clockwise; orientation 6 tells viewers to rotate them back (90deg CW).
        im = im.transpose(Image.Transpose.ROTATE_90)
        exif[0x0112] = 6
    im.save(buf, "JPEG", quality=P["jpeg_quality"], exif=exif.tobytes())
    return buf.getvalue(), box, (W, Hh)
