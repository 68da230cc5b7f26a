# -*- coding: utf-8 -*-
"""Invoice content: header values and lines with exact amounts (the ground truth)."""
import datetime as dt
import random
from collections import defaultdict

from . import lang as L
from .catalog import other_brand_product
from .distributors import SURNAMES, TRADES, FORMS, COUNTRIES, company_name, address, article_code, describe, font_safe
from .util import r2

INSTALLER_WORDS = {"de": "Installationsbetrieb", "fr": "Plomberie", "es": "Instalaciones", "it": "Impianti", "pl": "Instalatorstwo",
                   "nl": "Installatiebedrijf", "pt": "Instalações", "en": "Heating & Plumbing"}


def n_lines(rng, forced=None):
    if forced:
        return forced
    u = rng.random()
    if u < 0.55:
        return rng.randint(1, 6)
    if u < 0.85:
        return rng.randint(7, 20)
    return rng.randint(21, 60)


def _qty(rng, p):
    if p["unit"] in ("roll", "bar"):
        return rng.choice([1, 1, 2, 3, 4, 5, 10])
    if p["unit"] == "box":
        return rng.choice([1, 2, 3, 5, 10, 20])
    if p.get("list_price", 0) > 500:
        return rng.choice([1, 1, 1, 2, 3])
    return rng.choice([1, 1, 2, 2, 3, 4, 5, 6, 8, 10, 12, 20, 25, 50])


ASSORTMENT_SIZE = 40


def assortment(spec, by_family):
    """The articles a distributor's customers buy again and again: a fixed list drawn from its
    focus families, likeliest first (its own RNG, so it is the same on every invoice)."""
    key = (spec["distributor_id"], spec["format_id"], id(by_family))
    cached = _ASSORTMENTS.get(key)
    if cached is None:
        arng = random.Random(f"assortment:{spec['distributor_id']}:{spec['format_id']}")
        fams = spec["family_focus"]
        cached = []
        while len(cached) < ASSORTMENT_SIZE:
            pool = by_family[arng.choice(fams)]
            p = pool[arng.randrange(len(pool))]
            if p not in cached:
                cached.append(p)
        _ASSORTMENTS[key] = cached
    return cached


_ASSORTMENTS = {}


def pick_products(rng, spec, by_family, catalog, k, repeat_rate=0.0):
    """Products for an order: focus families, runs within one series (hard near-duplicates).

    With `repeat_rate` > 0, each pick comes with that probability from the distributor's
    assortment (`assortment`), ranked like real repeat buying: the article of rank r with weight
    1/(r+1). At 0 (the default) no extra draw is made, so existing sets are unchanged."""
    fams = spec["family_focus"]
    out = []
    while len(out) < k:
        if repeat_rate > 0 and rng.random() < repeat_rate:
            a = assortment(spec, by_family)
            out.append(rng.choices(a, weights=[1.0 / (r + 1) for r in range(len(a))])[0])
            continue
        fam = rng.choice(fams)
        pool = by_family[fam]
        p = pool[rng.randrange(len(pool))]
        out.append(p)
        if rng.random() < 0.35 and len(out) < k:  # a sibling from the same series (catalog is sorted by series)
            i = pool.index(p)
            j = min(len(pool) - 1, max(0, i + rng.choice([-3, -2, -1, 1, 2, 3])))
            out.append(pool[j])
    return out[:k]


def make_invoice(rng, spec, catalog, by_family, seq, opts):
    lang = spec["language"]
    country = spec["country"]
    is_credit = opts.get("force_credit", rng.random() < spec["credit_rate"])
    sign = -1 if is_credit else 1
    d0 = dt.date(2023, 1, 2) + dt.timedelta(days=rng.randrange(0, 900))
    inv = spec["invoice_number"]
    number = f"{inv['prefix']}{inv['start'] + seq * rng.randint(3, 40) + rng.randint(0, 9):0{inv['digits']}d}"
    if is_credit and rng.random() < 0.5:
        number = ("CN" if lang == "en" else "G" if lang == "de" else "AV") + number.lstrip("INV-RF/ ")
    clang = COUNTRIES[country][0]
    cust = f"{rng.choice(SURNAMES[clang])} {INSTALLER_WORDS[clang]}" if rng.random() < 0.6 else company_name(rng, country, clang)
    rates = spec["vat_rates"]
    lines = []
    k = n_lines(rng, opts.get("n_lines"))
    n_extra = 0 if k < 3 else rng.choice([0, 0, 1, 1, 2])
    n_prod = max(1, k - n_extra)
    prods = pick_products(rng, spec, by_family, catalog, n_prod, opts.get("repeat_rate", 0.0))
    for p in prods:
        u = rng.random()
        if u < spec["other_brand_rate"]:
            p = other_brand_product(rng, catalog)
            kind = "other_brand"
        elif u < spec["other_brand_rate"] + 0.04:
            kind = "service"
        else:
            kind = "product"
        if kind == "service":
            desc = font_safe(spec, rng.choice(L.SERVICES[lang]))
            unit = rng.choice(["h", "set"])
            qty = rng.choice([1, 2, 3, 4, 6, 8]) if unit == "h" else 1
            price = r2(rng.uniform(40, 95) if unit == "h" else rng.uniform(60, 350))
            line = {"kind": "service", "description": desc, "product_code": f"{spec['naming']['code_prefix'] or 'S'}{rng.randint(900, 999)}",
                    "unit": spec["units"][unit], "sku": None, "qty": qty, "unit_price": price, "discount_pct": 0.0}
        else:
            desc = font_safe(spec, describe(spec, p, rng))
            price = r2(p["list_price"] * rng.uniform(0.88, 1.12))
            line = {"kind": kind, "description": desc, "product_code": article_code(spec, p), "unit": spec["units"].get(p["unit"], p["unit"]),
                    "sku": p["sku"] if kind == "product" else None, "qty": _qty(rng, p), "unit_price": price,
                    "discount_pct": float(rng.choice([0, 0, 5, 10, 15, 20, 25, 30, 35, 40, 42.5])) if "discount" in spec["columns"] else 0.0,
                    "gtin": p["gtin"], "mpn": p["mpn"]}
        lines.append(line)
    for _ in range(n_extra):
        u = rng.random()
        if u < 0.45:
            lines.append({"kind": "shipping", "description": font_safe(spec, rng.choice(L.SHIPPING[lang])), "product_code": rng.choice(["FRACHT", "PORT", "TRANS", "9999", "SHIP"]),
                          "unit": spec["units"]["set"], "sku": None, "qty": 1, "unit_price": r2(rng.uniform(8, 65)), "discount_pct": 0.0})
        elif u < 0.75:
            lines.append({"kind": "fee", "description": font_safe(spec, rng.choice(L.FEES[lang])), "product_code": rng.choice(["FEE", "9990", "ZUS", "EMB"]),
                          "unit": spec["units"]["pc"], "sku": None, "qty": rng.choice([1, 1, 2]), "unit_price": r2(rng.uniform(1.5, 25)), "discount_pct": 0.0})
        else:
            base = sum(r2(l["qty"] * l["unit_price"]) for l in lines)
            pct = rng.choice([2, 3, 5])
            lines.append({"kind": "discount", "description": font_safe(spec, f"{rng.choice(L.DISCOUNTS[lang])} {pct}%"), "product_code": "",
                          "unit": "", "sku": None, "qty": 1, "unit_price": -r2(base * pct / 100.0), "discount_pct": 0.0})
    std = rates[0]
    for i, l in enumerate(lines):
        l["qty"] = sign * l["qty"]
        l["net_price"] = r2(l["unit_price"] * (1 - l["discount_pct"] / 100.0))
        l["amount"] = r2(l["qty"] * l["net_price"])
        l["vat_rate"] = float(std if (len(rates) == 1 or rng.random() > 0.06 or l["kind"] == "discount") else rates[1])
        l["pos"] = i + 1
    return finish(rng, spec, {
        "invoice_number": number, "invoice_date": d0, "due_date": d0 + dt.timedelta(days=rng.choice([14, 30, 30, 45, 60])),
        "customer_name": font_safe(spec, cust), "customer_address": [font_safe(spec, a) for a in address(rng, country, clang)],
        "customer_number": str(rng.randint(10000, 999999)), "order_ref": f"{rng.choice(['PO', 'B', 'ORD', ''])}{rng.randint(1000, 99999)}",
        "is_credit_note": is_credit, "lines": lines}, opts)


def vat_groups(lines):
    g = defaultdict(float)
    for l in lines:
        g[l["vat_rate"]] += l["amount"]
    return [(rate, r2(base), r2(r2(base) * rate / 100.0)) for rate, base in sorted(g.items(), reverse=True)]


def finish(rng, spec, inv, opts):
    lines = inv["lines"]
    groups = vat_groups(lines)
    subtotal = r2(sum(l["amount"] for l in lines))
    tax = r2(sum(t for _, _, t in groups))
    total = r2(subtotal + tax)
    inv.update(subtotal=subtotal, tax=tax, total=total, vat_groups=groups, totals_consistent=True, inconsistency=None)
    if rng.random() < opts.get("inconsistent_rate", 0.05):
        mode = rng.choice(["total", "tax", "line_amount", "subtotal"])
        delta = r2(rng.choice([-1, 1]) * rng.choice([0.01, 0.1, 1.0, 9.0, 10.0, 100.0, rng.uniform(0.5, 50)]))
        if mode == "total":
            inv["inconsistency"] = {"field": "total", "printed": r2(total + delta), "expected": total}
            inv["total"] = r2(total + delta)
        elif mode == "tax":
            inv["inconsistency"] = {"field": "tax", "printed": r2(tax + delta), "expected": tax}
            inv["tax"] = r2(tax + delta)
            inv["total"] = r2(subtotal + inv["tax"])  # total follows the wrong tax; tax != sum(rates)
            inv["vat_groups"] = groups  # per-rate rows stay right
        elif mode == "subtotal":
            inv["inconsistency"] = {"field": "subtotal", "printed": r2(subtotal + delta), "expected": subtotal}
            inv["subtotal"] = r2(subtotal + delta)
        else:
            i = rng.randrange(len(lines))
            exp = lines[i]["amount"]
            lines[i]["amount"] = r2(exp + delta)
            inv["inconsistency"] = {"field": "line_amount", "line": i, "printed": lines[i]["amount"], "expected": exp}
        inv["totals_consistent"] = False
    return inv
