# -*- coding: utf-8 -*-
"""Lay an invoice out on pages: a list of drawing ops plus the exact box of every printed value.

Coordinates here are PDF points with the origin at the TOP-left of the page (y grows downwards);
`y` passed to text() is the baseline.
"""
from reportlab.lib.pagesizes import A4, letter

from . import fonts
from .fonts import faces, width, ascent_descent
from .util import fmt_num, fmt_date
from .distributors import CURRENCY_SYMBOL

BLACK = (0, 0, 0)
GREY = (0.35, 0.35, 0.35)
NUMERIC = {"qty", "unit_price", "discount", "net_price", "vat_rate", "amount"}
FIELD_OF_COL = {"pos": "pos", "code": "product_code", "description": "description", "qty": "quantity", "unit": "unit",
                "unit_price": "unit_price", "discount": "discount_pct", "net_price": "net_price", "vat_rate": "vat_rate", "amount": "amount"}


class Page:
    def __init__(self, w, h):
        self.w, self.h = w, h
        self.ops = []
        self.fields = []
        self.words = []

    def text(self, x, y, s, font, size, color=BLACK, align="l"):
        if s is None or s == "":
            return None
        w = width(s, font, size)
        if align == "r":
            x -= w
        elif align == "c":
            x -= w / 2.0
        self.ops.append(("t", x, y, s, font, size, color))
        a, d = ascent_descent(font, size)
        pos = 0
        for part in s.split(" "):
            if part:
                px = x + width(s[:pos], font, size)
                self.words.append([part, [px, y - a, px + width(part, font, size), y - d]])
            pos += len(part) + 1
        return [x, y - a, x + w, y - d]

    def field(self, name, value_text, bbox, **extra):
        if bbox is not None:
            f = {"name": name, "value_text": value_text, "bbox": bbox}
            f.update(extra)
            self.fields.append(f)

    def line(self, x0, y0, x1, y1, w=0.5, color=BLACK):
        self.ops.append(("l", x0, y0, x1, y1, w, color))

    def rect(self, x0, y0, x1, y1, fill=None, stroke=None, w=0.5):
        self.ops.append(("r", x0, y0, x1, y1, fill, stroke, w))


def union(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]


def fit(s, font, size, maxw):
    if width(s, font, size) <= maxw:
        return s
    while s and width(s, font, size) > maxw:
        s = s[:-1]
    return s.rstrip()


def wrap2(s, font, size, maxw):
    """Split into at most two lines (second truncated)."""
    if width(s, font, size) <= maxw:
        return [s]
    words = s.split(" ")
    first = ""
    i = 0
    while i < len(words) and width((first + " " + words[i]).strip(), font, size) <= maxw:
        first = (first + " " + words[i]).strip()
        i += 1
    if not first:
        return [fit(s, font, size, maxw)]
    return [first, fit(" ".join(words[i:]), font, size, maxw)]


class Layout:
    def __init__(self, spec, inv):
        fonts.register()
        self.s = spec
        self.inv = inv
        self.R, self.B, self.I = faces(spec["font"])
        self.MONO = "Courier" if spec["mono_codes"] else self.R
        self.fs = spec["font_size"]
        self.W, self.H = A4 if spec["page_size"] == "A4" else letter
        self.mx = spec["margin_x"]
        self.accent = tuple(c / 255.0 for c in spec["accent"])
        self.fill = tuple(c / 255.0 for c in spec["fill"])
        self.pages = []
        self.line_truth = [dict(page=None, bbox={}, text={}) for _ in inv["lines"]]
        self.lh = self.fs * 1.25 + 2 * spec["row_pad"]

    # ---------------------------------------------------------- helpers
    def lab(self, key):
        t = self.s["labels"][key]
        return t.upper() if self.s["uppercase_labels"] else t

    def num(self, x, dec=2):
        return fmt_num(x, self.s["decimal_sep"], self.s["thousands_sep"], dec)

    def pct(self, x):
        return fmt_num(x, self.s["decimal_sep"], "", 0 if float(x).is_integer() else 1)

    def qty(self, q):
        return fmt_num(q, self.s["decimal_sep"], self.s["thousands_sep"], self.s["qty_decimals"])

    def date(self, d):
        return fmt_date(d, self.s["date_style"])

    def new_page(self):
        p = Page(self.W, self.H)
        self.pages.append(p)
        return p

    def money_text(self, p, xr, y, value, font, size, field=None, **extra):
        """Right-aligned amount at xr with the distributor's currency style; box covers the number only."""
        cs = self.s["currency_style"]
        cur = self.s["currency"]
        sym = CURRENCY_SYMBOL[cur]
        txt = self.num(value)
        if cs in ("symbol_after", "code_after"):
            c = sym if cs == "symbol_after" else cur
            if font in ("Helvetica", "Helvetica-Bold", "Times-Roman", "Times-Bold", "Courier", "Courier-Bold") and c == "zł":
                c = "PLN"
            p.text(xr, y, c, font, size, align="r")
            xr -= width(c, font, size) + width(" ", font, size)
            bb = p.text(xr, y, txt, font, size, align="r")
        else:
            bb = p.text(xr, y, txt, font, size, align="r")
            if cs == "symbol_before":
                c = sym if sym != "zł" else "PLN"
                p.text(bb[0] - width(" ", font, size), y, c, font, size, align="r")
        if field:
            p.field(field, txt, bb, **extra)
        return bb

    # ---------------------------------------------------------- header
    def logo(self, p, x, y, size):
        lg = self.s["logo"]
        name = self.s["name"]
        initials = "".join(w[0] for w in name.replace("&", " ").split()[:2] if w[0].isalpha()).upper() or name[:2].upper()
        a = self.accent
        sh = lg["shape"]
        if sh == "wordmark":
            word = name.split()[0].upper()
            fsz = size * 0.42
            p.text(x, y + size * 0.6, word, self.B, fsz, color=a)
            p.rect(x, y + size * 0.72, x + width(word, self.B, fsz), y + size * 0.72 + 3, fill=a)
            return x + width(word, self.B, fsz)
        if sh == "circle":
            p.ops.append(("c", x + size / 2, y + size / 2, size / 2, a))
        elif sh == "ring":
            p.ops.append(("c", x + size / 2, y + size / 2, size / 2, a))
            p.ops.append(("c", x + size / 2, y + size / 2, size / 2 - 4, (1, 1, 1)))
        elif sh == "square":
            p.rect(x, y, x + size, y + size, fill=a)
        elif sh == "diamond":
            p.ops.append(("p", [(x + size / 2, y), (x + size, y + size / 2), (x + size / 2, y + size), (x, y + size / 2)], a))
        elif sh == "triangle":
            p.ops.append(("p", [(x + size / 2, y), (x + size, y + size), (x, y + size)], a))
        elif sh == "bars":
            bw = size / 5.0
            for i in range(3):
                p.rect(x + i * bw * 1.6, y + size * (0.5 - 0.2 * i), x + i * bw * 1.6 + bw, y + size, fill=a)
            return x + size
        col = a if sh == "ring" else (1, 1, 1)
        fsz = size * (0.42 if len(initials) > 1 else 0.55)
        ty = y + size * (0.66 if sh != "triangle" else 0.85)
        p.text(x + size / 2, ty, initials, self.B, fsz if sh != "triangle" else fsz * 0.7, color=col, align="c")
        return x + size

    def supplier_block(self, p, x, y, align="l"):
        s = self.s
        fs = self.fs
        bb = p.text(x, y + fs + 3, s["name"], self.B, fs + 3, align=align)
        p.field("supplier_name", s["name"], bb)
        yy = y + fs + 3
        for ln in s["address"] + [s["phone"]]:
            yy += fs * 1.25
            p.text(x, yy, ln, self.R, fs - 0.5, color=GREY, align=align)
        if s["vat_id_pos"] == "header":
            yy += fs * 1.25
            lbl = self.lab("vat_id") + ": "
            if align == "l":
                lb = p.text(x, yy, lbl.strip(), self.R, fs - 0.5, color=GREY)
                bb = p.text(lb[2] + width(" ", self.R, fs - 0.5), yy, s["vat_id"], self.R, fs - 0.5, color=GREY)
            else:
                xr = x if align == "r" else x + width(lbl + s["vat_id"], self.R, fs - 0.5) / 2
                bb = p.text(xr, yy, s["vat_id"], self.R, fs - 0.5, color=GREY, align="r")
                p.text(bb[0] - width(" ", self.R, fs - 0.5), yy, lbl.strip(), self.R, fs - 0.5, color=GREY, align="r")
            p.field("supplier_vat_id", s["vat_id"], bb)
        return yy + fs * 0.6

    def meta_entries(self):
        inv = self.inv
        e = [("invoice_no", inv["invoice_number"], "invoice_number"), ("date", self.date(inv["invoice_date"]), "invoice_date")]
        if not inv["is_credit_note"]:
            e.append(("due", self.date(inv["due_date"]), "due_date"))
        e.append(("customer_no", inv["customer_number"], "customer_number"))
        if inv["order_ref"]:
            e.append(("order", inv["order_ref"], "order_ref"))
        return e

    def meta_list(self, p, x, y, entries, right_edge=None):
        fs = self.fs
        lw = max(width(self.lab(k) + ":", self.R, fs) for k, _, _ in entries) + 8
        for k, v, name in entries:
            y += fs * 1.45
            p.text(x, y, self.lab(k) + ":", self.R, fs, color=GREY)
            bb = p.text(x + lw, y, v, self.B if name == "invoice_number" else self.R, fs)
            p.field(name, v, bb)
        return y + fs * 0.6

    def customer_block(self, p, x, y):
        fs = self.fs
        inv = self.inv
        y += fs * 1.3
        p.text(x, y, self.lab("customer"), self.B, fs - 0.5, color=self.accent)
        y += fs * 1.5
        bb = p.text(x, y, inv["customer_name"], self.B, fs + 1)
        p.field("customer_name", inv["customer_name"], bb)
        for ln in inv["customer_address"]:
            y += fs * 1.3
            p.text(x, y, ln, self.R, fs)
        return y + fs * 0.6

    def first_header(self, p):
        s, fs, W, mx = self.s, self.fs, self.W, self.mx
        y = s["margin_top"]
        L = s["logo"]
        size = L["size"]
        if L["pos"] == "left":
            xe = self.logo(p, mx, y, size)
            yb = max(y + size, self.supplier_block(p, xe + 12, y - 2))
        elif L["pos"] == "right":
            self.logo(p, W - mx - size if L["shape"] != "wordmark" else W - mx - width(s["name"].split()[0].upper(), self.B, size * 0.42), y, size)
            yb = max(y + size, self.supplier_block(p, mx, y - 2))
        else:
            lw = size if L["shape"] != "wordmark" else width(s["name"].split()[0].upper(), self.B, size * 0.42)
            self.logo(p, W / 2 - lw / 2, y, size)
            yb = self.supplier_block(p, W / 2, y + size + 2, align="c")
        y = yb + 10
        title = self.lab("credit_note") if self.inv["is_credit_note"] else self.lab("invoice")
        ts = s["title_size"]
        ms = s["meta_style"]
        entries = self.meta_entries()
        if s["currency_style"] == "header_only":
            entries.append(("currency_h", s["currency"], "currency"))
        half = mx + (W - 2 * mx) * 0.55
        if ms == "right_list":
            p.text(W - mx, y + ts, title, self.B, ts, color=self.accent, align="r")
            y += ts + 4
            y1 = self.customer_block(p, mx, y)
            y2 = self.meta_list(p, half, y, entries)
            y = max(y1, y2)
        elif ms == "left_list":
            p.text(mx, y + ts, title, self.B, ts, color=self.accent)
            y += ts + 4
            y1 = self.meta_list(p, mx, y, entries)
            y2 = self.customer_block(p, half, y)
            y = max(y1, y2)
        elif ms == "grid":
            p.text(mx if s["customer_pos"] == "right" else W - mx, y + ts, title, self.B, ts, color=self.accent,
                   align="l" if s["customer_pos"] == "right" else "r")
            y += ts + 8
            cw = (W - 2 * mx) / len(entries)
            gh = fs * 3.2
            for i, (k, v, name) in enumerate(entries):
                x0 = mx + i * cw
                p.rect(x0, y, x0 + cw, y + gh, fill=self.fill if i % 2 == 0 else None, stroke=GREY, w=0.5)
                p.text(x0 + 4, y + fs * 1.2, fit(self.lab(k), self.R, fs - 1.5, cw - 6), self.R, fs - 1.5, color=GREY)
                bb = p.text(x0 + 4, y + fs * 2.6, fit(v, self.B, fs, cw - 6), self.B, fs)
                p.field(name, fit(v, self.B, fs, cw - 6), bb)
            y += gh + 4
            y = self.customer_block(p, mx if s["customer_pos"] == "left" else half, y)
        else:  # title_line
            y += ts
            tb = p.text(mx, y, title, self.B, ts, color=self.accent)
            x = tb[2] + 14
            k, v, name = entries[0]
            lb = p.text(x, y, self.lab(k), self.R, fs, color=GREY)
            bb = p.text(lb[2] + 5, y, v, self.B, fs + 1)
            p.field(name, v, bb)
            k, v, name = entries[1]
            lb = p.text(bb[2] + 14, y, self.lab(k) + ":", self.R, fs, color=GREY)
            bb = p.text(lb[2] + 5, y, v, self.B, fs + 1)
            p.field(name, v, bb)
            p.line(mx, y + 6, W - mx, y + 6, 1.0, self.accent)
            y += 8
            cx, ox = (mx, half) if s["customer_pos"] == "left" else (half, mx)
            y1 = self.customer_block(p, cx, y)
            y2 = self.meta_list(p, ox, y, entries[2:]) if len(entries) > 2 else y
            y = max(y1, y2)
        return y + 14

    def cont_header(self, p, pageno):
        fs, W, mx = self.fs, self.W, self.mx
        y = self.s["margin_top"] + fs + 2
        bb = p.text(mx, y, self.s["name"], self.B, fs + 1)
        p.field("supplier_name", self.s["name"], bb)
        bb = p.text(W - mx, y, self.inv["invoice_number"], self.B, fs + 1, align="r")
        p.field("invoice_number", self.inv["invoice_number"], bb)
        p.text(bb[0] - 5, y, self.lab("invoice_no"), self.R, fs, color=GREY, align="r")
        p.line(mx, y + 5, W - mx, y + 5, 0.6, GREY)
        return y + 18

    # ---------------------------------------------------------- table
    def columns(self):
        cols = self.s["columns"]
        tot = sum(FIELD_W(c) for c in cols)
        cw = self.W - 2 * self.mx
        xs = []
        x = self.mx
        for c in cols:
            w = cw * FIELD_W(c) / tot
            xs.append((c, x, x + w))
            x += w
        return xs

    def table_header(self, p, y):
        s, fs = self.s, self.fs
        if s["item_style"] == "block":
            p.line(self.mx, y, self.W - self.mx, y, 1.0, self.accent)
            return y + 4
        hh = fs * 1.3 + 2 * s["row_pad"] + 2
        st = s["table_style"]
        color = BLACK
        if st == "zebra":
            p.rect(self.mx, y, self.W - self.mx, y + hh, fill=self.accent)
            color = (1, 1, 1)
        elif st in ("header_band", "ruled"):
            p.rect(self.mx, y, self.W - self.mx, y + hh, fill=self.fill, stroke=BLACK if st == "ruled" else None, w=0.6)
        hs = fs - 0.5
        for c, x0, x1 in self.cols:
            t = self.lab(c if c != "pos" else "pos")
            sz = hs
            while width(t, self.B, sz) > (x1 - x0 - 4) and sz > fs - 2.5:
                sz -= 0.5
            t = fit(t, self.B, sz, x1 - x0 - 3)
            base = y + hh / 2 + sz * 0.35
            if c in NUMERIC:
                p.text(x1 - 3, base, t, self.B, sz, color=color, align="r")
            else:
                p.text(x0 + 3, base, t, self.B, sz, color=color)
        if st == "unruled":
            p.line(self.mx, y + hh, self.W - self.mx, y + hh, 1.0, self.accent)
        return y + hh

    def cell_value(self, l, c):
        if c == "pos":
            return str(l["pos"])
        if c == "code":
            return l["product_code"] or ""
        if c == "description":
            return l["description"]
        if c == "qty":
            return self.qty(l["qty"])
        if c == "unit":
            return l["unit"]
        if c == "unit_price":
            return self.num(l["unit_price"])
        if c == "discount":
            return self.pct(l["discount_pct"]) if l["discount_pct"] else ""
        if c == "net_price":
            return self.num(l["net_price"])
        if c == "vat_rate":
            return self.pct(l["vat_rate"])
        if c == "amount":
            return self.num(l["amount"])

    def item_height(self, l):
        s = self.s
        if s["item_style"] == "one_line":
            return self.lh
        if s["item_style"] == "block":
            return self.lh * 2 + 4
        return self.lh + (self.fs * 1.1 if self.second_line(l) else 0)

    def second_line(self, l):
        sl = self.s["naming"]["second_line"]
        if sl == "wrap":
            c = [x for x in self.cols if x[0] == "description"][0]
            parts = wrap2(l["description"], self.R, self.fs, c[2] - c[1] - 6)
            return parts[1] if len(parts) > 1 else None
        if not l.get("gtin"):
            return None
        return sl

    def draw_item(self, p, y, i, l, zebra_on):
        s, fs = self.s, self.fs
        tr = self.line_truth[i]
        tr["page"] = len(self.pages) - 1
        h = self.item_height(l)
        if s["table_style"] == "zebra" and zebra_on and s["item_style"] != "block":
            p.rect(self.mx, y, self.W - self.mx, y + h, fill=tuple(0.5 + c / 2 for c in self.fill))
        a, _ = ascent_descent(self.R, fs)
        base = y + s["row_pad"] + a + 1
        if s["item_style"] == "block":
            return self.draw_block(p, y, base, i, l)
        sl = self.second_line(l) if s["item_style"] == "two_line" else None
        for c, x0, x1 in self.cols:
            v = self.cell_value(l, c)
            if v == "" or v is None:
                continue
            font = self.MONO if c == "code" else self.R
            size = fs - 0.5 if c == "code" and font == "Courier" else fs
            if c == "code":  # codes shrink rather than being cut
                while width(v, font, size) > x1 - x0 - 5 and size > fs - 2.5:
                    size -= 0.5
            if c == "description" and s["item_style"] == "two_line" and s["naming"]["second_line"] == "wrap" and sl:
                v = wrap2(v, self.R, fs, x1 - x0 - 6)[0]
            v = fit(v, font, size, x1 - x0 - 5)
            if c in NUMERIC:
                bb = p.text(x1 - 3, base, v, font, size, align="r")
            else:
                bb = p.text(x0 + 3, base, v, font, size)
            f = FIELD_OF_COL[c]
            tr["bbox"][f] = bb
            tr["text"][f] = v
        if sl:
            c = [x for x in self.cols if x[0] == "description"][0]
            y2 = base + fs * 1.1
            ss = fs - 1.5
            x = c[1] + 3
            if sl == "wrap" or sl not in ("gtin", "mpn", "both"):
                t2 = fit(self.second_line(l), self.R, fs, c[2] - c[1] - 6)
                bb = p.text(x, y2 + 1, t2, self.R, fs)
                tr["bbox"]["description"] = union(tr["bbox"].get("description"), bb)
                tr["text"]["description"] = tr["text"]["description"] + " " + t2
            else:
                for key, lk in (("gtin", "ean"), ("mpn", "mref")):
                    if sl in (key, "both"):
                        lb = p.text(x, y2, self.lab(lk) + ":", self.I, ss, color=GREY)
                        bb = p.text(lb[2] + 3, y2, l[key], self.I, ss, color=GREY)
                        tr["bbox"][key] = bb
                        tr["text"][key] = l[key]
                        x = bb[2] + 12
        if s["table_style"] == "ruled":
            p.line(self.mx, y + h, self.W - self.mx, y + h, 0.4, GREY)
        return y + h

    def draw_block(self, p, y, base, i, l):
        s, fs = self.s, self.fs
        tr = self.line_truth[i]
        x = self.mx + 4
        if l["product_code"]:
            bb = p.text(x, base, l["product_code"], self.MONO if self.MONO != "Courier" else "Courier-Bold", fs)
            tr["bbox"]["product_code"], tr["text"]["product_code"] = bb, l["product_code"]
            x = bb[2] + 12
        d = fit(l["description"], self.B, fs, self.W - self.mx - x - 4)
        bb = p.text(x, base, d, self.B, fs)
        tr["bbox"]["description"], tr["text"]["description"] = bb, d
        y2 = base + self.lh
        x = self.mx + 24
        items = [("qty", self.qty(l["qty"]), "quantity")]
        if l["unit"]:
            items.append((None, l["unit"], "unit"))
        if l["unit_price"] is not None:
            items.append(("unit_price", self.num(l["unit_price"]), "unit_price"))
        if "discount" in s["columns"] and l["discount_pct"]:
            items.append(("discount", self.pct(l["discount_pct"]), "discount_pct"))
        if "vat_rate" in s["columns"]:
            items.append(("vat_rate", self.pct(l["vat_rate"]), "vat_rate"))
        for lk, v, f in items:
            if lk:
                lb = p.text(x, y2, self.lab(lk) + ":", self.R, fs - 1, color=GREY)
                x = lb[2] + 4
            bb = p.text(x, y2, v, self.R, fs)
            tr["bbox"][f], tr["text"][f] = bb, v
            x = bb[2] + (4 if lk == "qty" else 14)
        v = self.num(l["amount"])
        bb = p.text(self.W - self.mx - 4, y2, v, self.B, fs, align="r")
        tr["bbox"]["amount"], tr["text"]["amount"] = bb, v
        p.text(bb[0] - 6, y2, self.lab("amount") + ":", self.R, fs - 1, color=GREY, align="r")
        p.line(self.mx, y + self.lh * 2 + 2, self.W - self.mx, y + self.lh * 2 + 2, 0.3, GREY)
        return y + self.lh * 2 + 4

    def running_row(self, p, y, key, value, field):
        fs = self.fs
        a, _ = ascent_descent(self.B, fs)
        base = y + self.s["row_pad"] + a + 1
        amt = [x for x in self.cols if x[0] == "amount"] if self.s["item_style"] != "block" else []
        xr = amt[0][2] - 3 if amt else self.W - self.mx - 4
        bb = p.text(xr, base, self.num(value), self.B, fs, align="r")
        p.field(field, self.num(value), bb)
        p.text(bb[0] - 12, base, self.lab(key) + ":", self.B, fs, align="r")
        return y + self.lh + 2

    # ---------------------------------------------------------- totals & footer
    def totals_height(self):
        n = len(self.inv["vat_groups"])
        h = (3 + n) * self.fs * 1.7 + 24
        if self.s["totals_style"] == "vat_table":
            h = max(h, (n + 2) * self.fs * 1.6 + 24)
        return h

    def totals(self, p, y):
        s, fs, inv, W, mx = self.s, self.fs, self.inv, self.W, self.mx
        y += 10
        groups = inv["vat_groups"]
        xr = W - mx - 4
        xl = W - mx - 230
        st = s["totals_style"]
        rows = [("subtotal", inv["subtotal"], "subtotal", {})]
        if st == "vat_table":
            rows.append(("tax", inv["tax"], "tax", {}))
            # VAT summary at the left
            hx = [mx, mx + 60, mx + 140, mx + 220]
            yy = y + fs * 1.4
            p.text(mx, yy, self.lab("vat_summary"), self.B, fs)
            yy += 4
            p.line(mx, yy, mx + 220, yy, 0.6, GREY)
            yy += fs * 1.4
            for lk, xx in (("rate", hx[0]), ("base", hx[2]), ("tax", hx[3])):
                p.text(xx if lk == "rate" else xx - 4, yy, self.lab(lk), self.B, fs - 1, color=GREY, align="l" if lk == "rate" else "r")
            for rate, base, tax in groups:
                yy += fs * 1.45
                bb = p.text(hx[0], yy, self.pct(rate) + " %", self.R, fs)
                bb = p.text(hx[2] - 4, yy, self.num(base), self.R, fs, align="r")
                p.field("vat_base", self.num(base), bb, rate=rate)
                bb = p.text(hx[3] - 4, yy, self.num(tax), self.R, fs, align="r")
                p.field("vat_amount", self.num(tax), bb, rate=rate)
        else:
            if len(groups) == 1 and inv["totals_consistent"] or (len(groups) == 1 and inv["inconsistency"]["field"] != "tax"):
                rows.append((None, inv["tax"], "tax", {"label": f"{self.lab('tax')} {self.pct(groups[0][0])} %"}))
            else:
                for rate, base, tax in groups:
                    rows.append((None, tax, "vat_amount", {"label": f"{self.lab('tax')} {self.pct(rate)} %", "rate": rate}))
                rows.append(("tax", inv["tax"], "tax", {}))
        rows.append(("total", inv["total"], "total", {}))
        if st == "boxed":
            p.rect(xl - 6, y, xr + 4, y + len(rows) * fs * 1.7 + fs * 0.4 + 6, stroke=GREY, w=0.6)
        yy = y
        for k, val, field, ex in rows:
            big = field == "total"
            size = fs + 1.5 if big else fs
            font = self.B if big else self.R
            yy += fs * (2.1 if big else 1.7)
            if big and st != "vat_table":
                p.rect(xl - 6, yy - size - 3, xr + 4, yy + 5, fill=self.fill)
            if big and st == "vat_table":
                p.line(xl, yy - size - 4, xr, yy - size - 4, 0.8, BLACK)
            label = ex.pop("label", None) or self.lab(k)
            p.text(xl, yy, label, font, size)
            self.money_text(p, xr, yy, val, font, size, field=field, **ex)
        return yy + 10

    def footer(self, p, pageno, npages):
        s, fs, W, mx, H = self.s, self.fs, self.W, self.mx, self.H
        y = H - 30 - fs * 2.6
        p.line(mx, y - fs, W - mx, y - fs, 0.5, GREY)
        sz = fs - 1.5
        p.text(mx, y, self.lab("terms"), self.R, sz, color=GREY)
        lb = p.text(mx, y + sz * 1.4, self.lab("bank") + ": " + s["iban"], self.R, sz, color=GREY)
        if s["vat_id_pos"] == "footer" and pageno == 1:
            lb = p.text(mx, y + sz * 2.8, s["name"] + " · " + self.lab("vat_id") + ":", self.R, sz, color=GREY)
            bb = p.text(lb[2] + 3, y + sz * 2.8, s["vat_id"], self.R, sz, color=GREY)
            p.field("supplier_vat_id", s["vat_id"], bb)
        txt = f"{self.lab('page')} {pageno} {self.lab('of')} {npages}" if self.lab("of") != "/" else f"{self.lab('page')} {pageno}/{npages}"
        p.text(W - mx, y, txt, self.R, sz, color=GREY, align="r")

    # ---------------------------------------------------------- main
    def build(self):
        s, inv = self.s, self.inv
        self.cols = self.columns()
        foot_top = self.H - 30 - self.fs * 2.6 - self.fs - 8
        p = self.new_page()
        y = self.first_header(p)
        y = self.table_header(p, y)
        running = 0.0
        n = len(inv["lines"])
        for i, l in enumerate(inv["lines"]):
            h = self.item_height(l)
            need = h + self.lh + 4
            if i == n - 1:
                need = max(need, h + self.totals_height())
            if y + need > foot_top and i > 0:
                y = self.running_row(p, y + 2, "carried", running, "carried_forward")
                p = self.new_page()
                y = self.cont_header(p, len(self.pages))
                y = self.table_header(p, y)
                y = self.running_row(p, y, "brought", running, "brought_forward")
            y = self.draw_item(p, y, i, l, i % 2 == 1)
            running = round(running + l["amount"], 2)
        if s["table_style"] in ("unruled", "header_band", "zebra"):
            p.line(self.mx, y + 1, self.W - self.mx, y + 1, 0.8, GREY)
        if y + self.totals_height() > foot_top:
            p = self.new_page()
            y = self.cont_header(p, len(self.pages))
        self.totals(p, y)
        for k, pg in enumerate(self.pages):
            self.footer(pg, k + 1, len(self.pages))
        return self.pages, self.line_truth


def FIELD_W(c):
    from .distributors import COL_WEIGHT
    return COL_WEIGHT[c]
