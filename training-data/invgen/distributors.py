# -*- coding: utf-8 -*-
"""Distributor format specs: each distributor has its own stable layout, locale and product wording."""
import hashlib
import json
import random

from . import lang as L
from .catalog import TYPE_EN
from .util import stable_int, to_cp1252

# country: (language, currency, vat rates, date styles, number styles [(dec, thou)], vat id maker)
COUNTRIES = {
    "DE": ("de", "EUR", [19, 7], ["dmy."], [(",", ".")]),
    "AT": ("de", "EUR", [20, 10], ["dmy."], [(",", "."), (",", " ")]),
    "CH": ("de", "CHF", [8.1, 2.6], ["dmy."], [(".", "'")]),
    "FR": ("fr", "EUR", [20, 10, 5.5], ["dmy/"], [(",", " "), (",", ".")]),
    "BE": ("nl", "EUR", [21, 6], ["dmy/", "dmy-"], [(",", ".")]),
    "ES": ("es", "EUR", [21, 10], ["dmy/", "dmy-"], [(",", ".")]),
    "IT": ("it", "EUR", [22, 10], ["dmy/", "dmy."], [(",", ".")]),
    "PL": ("pl", "PLN", [23, 8], ["dmy.", "iso"], [(",", " "), (",", ".")]),
    "NL": ("nl", "EUR", [21, 9], ["dmy-", "dmy/"], [(",", ".")]),
    "PT": ("pt", "EUR", [23, 13, 6], ["dmy/", "iso"], [(",", " "), (",", ".")]),
    "GB": ("en", "GBP", [20, 5], ["dmy/"], [(".", ",")]),
    "IE": ("en", "EUR", [23, 13.5], ["dmy/"], [(".", ",")]),
    "SE": ("en", "SEK", [25, 12], ["iso"], [(",", " "), (".", ",")]),
    "LU": ("fr", "EUR", [17, 8], ["dmy/", "dmy."], [(",", "."), (",", " ")]),
}
COUNTRY_W = {"DE": 14, "AT": 5, "CH": 4, "FR": 12, "BE": 5, "ES": 9, "IT": 10, "PL": 9, "NL": 8, "PT": 6, "GB": 10, "IE": 3, "SE": 2, "LU": 1}
CURRENCY_SYMBOL = {"EUR": "€", "GBP": "£", "PLN": "zł", "CHF": "CHF", "SEK": "kr"}

SURNAMES = {"de": ["Müller", "Schmidt", "Becker", "Hoffmann", "Krause", "Wagner", "Richter", "Brandt", "Vogel", "Keller", "Lorenz", "Hartmann", "Engel", "Frank", "Seidel"],
            "fr": ["Durand", "Moreau", "Lefèvre", "Girard", "Mercier", "Bonnet", "Fontaine", "Chevalier", "Robin", "Gauthier", "Perrin", "Marchand"],
            "es": ["García", "Sanz", "Navarro", "Ortega", "Castillo", "Romero", "Molina", "Herrera", "Vidal", "Iglesias", "Cano"],
            "it": ["Rossi", "Bianchi", "Ferrari", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "Mancini", "Lombardi"],
            "pl": ["Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński", "Szymański", "Dąbrowski", "Kozłowski"],
            "nl": ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Peeters", "Maes", "Willems"],
            "pt": ["Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins", "Sousa", "Fernandes"],
            "en": ["Smith", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Wright", "Hughes", "Edwards", "Murphy", "Kelly", "Andersson", "Lindqvist"]}
TRADES = {"de": ["Haustechnik", "Sanitär & Heizung", "Elektrogroßhandel", "HKL-Fachhandel", "Installationsbedarf", "Gebäudetechnik"],
          "fr": ["Plomberie", "Chauffage Sanitaire", "Matériel Électrique", "Distribution Thermique", "Négoce Sanitaire"],
          "es": ["Suministros", "Fontanería y Calefacción", "Material Eléctrico", "Climatización", "Saneamientos"],
          "it": ["Termoidraulica", "Idrotermosanitari", "Materiale Elettrico", "Forniture Idrauliche", "Commerciale Termica"],
          "pl": ["Hurtownia Instalacyjna", "Technika Grzewcza", "Elektro-Hurt", "Instalacje Sanitarne", "Hydro-Term"],
          "nl": ["Installatietechniek", "Technische Groothandel", "Sanitair & Verwarming", "Elektrotechniek", "Installatiegroothandel"],
          "pt": ["Materiais de Construção", "Aquecimento e Canalizações", "Material Elétrico", "Climatização", "Comércio de Ferragens"],
          "en": ["Plumbing Supplies", "Heating Merchants", "Electrical Wholesale", "Building Services", "Pipe & Pump Centre", "Trade Supplies"]}
FORMS = {"DE": ["GmbH", "GmbH & Co. KG", "KG", "e.K."], "AT": ["GmbH", "Ges.m.b.H."], "CH": ["AG", "GmbH"], "FR": ["SARL", "SAS", "SA"], "BE": ["BV", "NV", "BVBA"],
         "ES": ["S.L.", "S.A."], "IT": ["S.r.l.", "S.p.A.", "S.n.c."], "PL": ["Sp. z o.o.", "S.A.", "Sp.j."], "NL": ["B.V.", "V.O.F."],
         "PT": ["Lda.", "S.A."], "GB": ["Ltd", "Limited", "plc"], "IE": ["Ltd", "Teoranta"], "SE": ["AB"], "LU": ["S.à r.l.", "S.A."]}
STREET_EXTRA = {"de": ["Industrie", "Kanal", "Mühlen", "Bahnhof"], "fr": ["de la Gare", "Victor Hugo", "des Artisans"], "es": ["Mayor", "del Sol", "Industria"],
                "it": ["Garibaldi", "Roma", "dell'Industria"], "pl": ["Przemysłowa", "Polna", "Długa"], "nl": ["Industrie", "Kerk", "Haven"],
                "pt": ["Atlântico", "da Liberdade", "do Comércio"], "en": ["Mill", "Station", "Victoria", "Church"]}
PHONE_CC = {"DE": 49, "AT": 43, "CH": 41, "FR": 33, "BE": 32, "ES": 34, "IT": 39, "PL": 48, "NL": 31, "PT": 351, "GB": 44, "IE": 353, "SE": 46, "LU": 352}
STREETS = {"de": "Str.", "fr": "rue", "es": "Calle", "it": "Via", "pl": "ul.", "nl": "straat", "pt": "Rua", "en": "Road"}
CITIES = {"DE": ["Köln", "Hamburg", "Leipzig", "Stuttgart", "Dortmund", "Nürnberg"], "AT": ["Wien", "Linz", "Graz"], "CH": ["Zürich", "Basel", "Bern"],
          "FR": ["Lyon", "Nantes", "Lille", "Toulouse", "Rennes"], "BE": ["Antwerpen", "Gent", "Brussel"], "ES": ["Madrid", "Valencia", "Zaragoza", "Sevilla"],
          "IT": ["Milano", "Torino", "Bologna", "Verona", "Bergamo"], "PL": ["Warszawa", "Kraków", "Poznań", "Wrocław", "Łódź"], "NL": ["Utrecht", "Eindhoven", "Zwolle", "Breda"],
          "PT": ["Lisboa", "Porto", "Braga", "Coimbra"], "GB": ["Leeds", "Bristol", "Manchester", "Reading"], "IE": ["Dublin", "Cork", "Galway"],
          "SE": ["Göteborg", "Malmö", "Uppsala"], "LU": ["Luxembourg", "Esch-sur-Alzette"]}

FONT_FAMILIES = ["Helvetica", "Times", "Courier", "Roboto", "Lato", "SourceSans", "SourceSerif", "Caladea", "Vera"]
FONT_W = [22, 10, 3, 14, 10, 12, 6, 5, 8]

COLUMN_SETS = [
    ["code", "description", "qty", "unit", "unit_price", "amount"],
    ["pos", "code", "description", "qty", "unit", "unit_price", "discount", "net_price", "amount"],
    ["code", "description", "qty", "unit_price", "vat_rate", "amount"],
    ["pos", "description", "qty", "unit", "unit_price", "vat_rate", "amount"],
    ["code", "description", "qty", "unit", "unit_price", "discount", "amount"],
    ["description", "code", "qty", "unit_price", "amount"],
    ["pos", "code", "description", "unit", "qty", "unit_price", "discount", "vat_rate", "amount"],
    ["code", "description", "qty", "unit", "net_price", "vat_rate", "amount"],
    ["qty", "code", "description", "unit_price", "amount"],
    ["pos", "code", "description", "qty", "unit", "unit_price", "net_price", "vat_rate", "amount"],
]
COL_WEIGHT = {"pos": 0.045, "code": 0.13, "description": 0.42, "qty": 0.07, "unit": 0.055, "unit_price": 0.10, "discount": 0.065,
              "net_price": 0.10, "vat_rate": 0.06, "amount": 0.11}


def company_name(rng, country, lang):
    sur = rng.choice(SURNAMES[lang])
    trade = rng.choice(TRADES[lang])
    form = rng.choice(FORMS[country])
    pat = rng.randrange(4)
    if pat == 0:
        return f"{sur} {trade} {form}"
    if pat == 1:
        return f"{trade} {sur} {form}"
    if pat == 2:
        return f"{sur} & {rng.choice(SURNAMES[lang])} {form}"
    return f"{sur.upper()[:3]}{rng.choice(['TEC', 'TERM', 'HYDRO', 'ELEK', 'PRO', 'MAT'])} {trade} {form}"


def vat_id(rng, country):
    d = lambda n: "".join(str(rng.randint(0, 9)) for _ in range(n))
    return {"DE": lambda: "DE" + d(9), "AT": lambda: "ATU" + d(8), "CH": lambda: f"CHE-{d(3)}.{d(3)}.{d(3)} MWST",
            "FR": lambda: "FR" + d(11), "BE": lambda: "BE0" + d(9), "ES": lambda: "ES" + rng.choice("ABM") + d(8),
            "IT": lambda: "IT" + d(11), "PL": lambda: "PL" + d(10), "NL": lambda: "NL" + d(9) + "B0" + d(1),
            "PT": lambda: "PT" + d(9), "GB": lambda: "GB" + d(9), "IE": lambda: "IE" + d(7) + rng.choice("ABCW"),
            "SE": lambda: "SE" + d(12), "LU": lambda: "LU" + d(8)}[country]()


def address(rng, country, lang):
    city = rng.choice(CITIES[country])
    no = rng.randint(1, 180)
    name = rng.choice(SURNAMES[lang] + STREET_EXTRA[lang])
    if lang == "de":
        street = f"{name.split(' ')[-1]}str. {no}"
    elif lang in ("fr",):
        street = f"{no} rue {name}"
    elif lang == "nl":
        street = f"{name.split(' ')[-1]}straat {no}"
    elif lang == "en":
        street = f"{no} {name} Road"
    else:
        street = f"{STREETS[lang]} {name} {no}"
    pc = {"GB": f"{rng.choice(['LS', 'BS', 'M', 'RG'])}{rng.randint(1, 20)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJ')}{rng.choice('LNPQRSTUWXYZ')}",
          "NL": f"{rng.randint(1000, 9999)} {rng.choice('ABCDEFGHJKLM')}{rng.choice('NPRSTVWXZ')}", "PL": f"{rng.randint(10, 99)}-{rng.randint(100, 999)}",
          "PT": f"{rng.randint(1000, 9999)}-{rng.randint(100, 999)}", "SE": f"{rng.randint(100, 999)} {rng.randint(10, 99)}",
          "IE": f"D{rng.randint(1, 24):02d}"}.get(country, f"{rng.randint(10000, 99999) if country not in ('AT', 'CH', 'BE', 'LU') else rng.randint(1000, 9999)}")
    return [street, f"{pc} {city}"]


def make_distributor(seed, idx):
    rng = random.Random(f"{seed}:dist:{idx}")
    did = f"D{idx:04d}"
    country = rng.choices(list(COUNTRY_W), weights=list(COUNTRY_W.values()))[0]
    clang, currency, rates, dstyles, nstyles = COUNTRIES[country]
    language = clang if rng.random() > 0.1 else "en"
    if country == "BE" and rng.random() < 0.4:
        language = "fr"
    if country == "CH" and rng.random() < 0.3:
        language = "fr"
    dec, thou = rng.choice(nstyles)
    if rng.random() < 0.08:
        thou = ""
    date_style = rng.choice(dstyles) if rng.random() > 0.1 else rng.choice(["iso", "dmy.", "dmy/"])
    fam = rng.choices(FONT_FAMILIES, weights=FONT_W)[0]
    labels = {k: rng.choice(v) for k, v in sorted(L.LABELS[language].items())}
    labels["currency_h"] = {"en": "Currency", "de": "Währung", "fr": "Devise", "es": "Moneda", "it": "Valuta",
                            "pl": "Waluta", "nl": "Valuta", "pt": "Moeda"}[language]
    table_style = rng.choice(["ruled", "unruled", "zebra", "header_band"])
    item_style = rng.choices(["one_line", "two_line", "block"], weights=[6, 3, 1.5])[0]
    cols = list(rng.choice(COLUMN_SETS))
    if item_style == "block":
        cols = [c for c in cols if c != "pos"]
    if rng.random() < 0.3 and "discount" not in cols and "unit_price" in cols:
        cols.insert(cols.index("unit_price") + 1, "discount")
    if rng.random() < 0.25 and "vat_rate" not in cols:
        cols.insert(len(cols) - 1, "vat_rate")
    accent = [rng.randint(0, 160), rng.randint(0, 160), rng.randint(40, 200)]
    rng.shuffle(accent)
    body = rng.choice([8, 8.5, 9, 9, 9.5, 10])
    unit_words = {u: rng.choice(ws) for u, ws in sorted(L.UNIT_WORDS[language].items())}
    prefix = "".join(rng.choice("ABCDEFGHKLMNPRSTVWXZ") for _ in range(rng.choice([0, 1, 2, 2, 3])))
    naming = {
        "code_prefix": prefix, "code_digits": rng.choice([5, 6, 6, 7, 8]), "code_sep": rng.choice(["", "", "-", ".", " "]),
        "code_source": rng.choices(["own", "mpn", "gtin"], weights=[8, 2, 1])[0],
        "noun": rng.choices(["en", "local", "abbr", "none"], weights=[2, 5, 3, 1])[0] if language != "en" else rng.choices(["en", "abbr", "none"], weights=[6, 3, 1])[0],
        "order": rng.choice(["tsma", "tsma", "smta", "stma", "tmsa", "smat"]),
        "attrs_keep": rng.choice([0, 1, 2, 9, 9]), "case": rng.choices(["as_is", "upper", "title"], weights=[5, 4, 1])[0],
        "max_len": rng.choice([None, None, 24, 28, 32, 36, 40, 48]), "abbr_words": rng.random() < 0.35,
        "mpn_in_desc": rng.choice([0, 0, 0.3, 1.0]), "gtin_in_desc": rng.choice([0, 0, 0, 0.5]), "typo_rate": rng.choice([0, 0, 0.01, 0.02, 0.05]),
        "second_line": rng.choice(["gtin", "mpn", "both", "wrap"]),
    }
    spec = {
        "distributor_id": did, "format_id": None, "country": country, "language": language, "currency": currency,
        "currency_style": rng.choice(["code_after", "symbol_after", "symbol_before", "header_only"]) if currency != "GBP" else rng.choice(["symbol_before", "header_only"]),
        "vat_rates": rates, "decimal_sep": dec, "thousands_sep": thou, "date_style": date_style, "locale": f"{language}-{country}",
        "name": company_name(rng, country, clang), "address": address(rng, country, clang), "vat_id": vat_id(rng, country),
        "phone": f"+{PHONE_CC[country]} {rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        "iban": f"{country}{rng.randint(10, 99)} " + " ".join(str(rng.randint(1000, 9999)) for _ in range(4)),
        "invoice_number": {"prefix": rng.choice(["", "INV-", "RE", "F", "FA/", "FV ", "", "2024-", "R-"]), "digits": rng.choice([5, 6, 7, 8]),
                           "start": rng.randint(1000, 90000)},
        "page_size": "Letter" if (language == "en" and rng.random() < 0.15) else "A4",
        "margin_x": rng.choice([30, 36, 42, 48, 56]), "margin_top": rng.choice([28, 36, 44, 52]),
        "font": fam, "font_size": body, "title_size": rng.choice([13, 15, 18, 22]), "mono_codes": rng.random() < 0.2,
        "accent": accent, "fill": [min(255, 200 + c // 4) for c in accent] if rng.random() < 0.7 else [225, 225, 225],
        "logo": {"shape": rng.choice(["circle", "square", "diamond", "bars", "triangle", "ring", "wordmark"]), "pos": rng.choice(["left", "left", "right", "center"]),
                 "size": rng.choice([34, 42, 50, 60])},
        "meta_style": rng.choice(["right_list", "grid", "left_list", "title_line"]), "customer_pos": rng.choice(["left", "right"]),
        "vat_id_pos": rng.choice(["header", "footer"]), "totals_style": rng.choice(["right_stack", "boxed", "vat_table"]),
        "uppercase_labels": rng.random() < 0.3, "table_style": table_style, "item_style": item_style, "columns": cols,
        "row_pad": rng.choice([2, 3, 4, 5]), "qty_decimals": rng.choice([0, 0, 2, 3]), "labels": labels, "units": unit_words,
        "naming": naming, "credit_rate": rng.choice([0.0, 0.03, 0.08]),
        "family_focus": sorted(rng.sample(["pumps", "heating", "ventilation", "electrical", "plumbing"], rng.randint(1, 4))),
        "other_brand_rate": rng.choice([0.05, 0.15, 0.3, 0.5]),
    }
    if fam in ("Helvetica", "Times", "Courier", "Vera"):
        # these fonts only cover cp1252: print what such an ERP prints (transliterated text)
        spec["labels"] = {k: to_cp1252(v) for k, v in spec["labels"].items()}
        spec["units"] = {k: to_cp1252(v) for k, v in spec["units"].items()}
        spec["name"] = to_cp1252(spec["name"])
        spec["address"] = [to_cp1252(a) for a in spec["address"]]
    spec["format_id"] = _digest(spec, idx)
    return spec


def load_heldout(path):
    ids = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line:
                ids.append(line)
    return ids


def heldout_rule(did):
    """Rule used to create heldout.txt (and for ids beyond the committed list): ~20% of ids."""
    return stable_int("heldout", did) % 5 == 0


# ------------------------------------------------------------- product wording
def _typo(rng, s):
    if len(s) < 5:
        return s
    i = rng.randrange(1, len(s) - 1)
    op = rng.randrange(3)
    if op == 0:
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    if op == 1:
        return s[:i] + s[i + 1:]
    return s[:i] + s[i] + s[i:]


def article_code(spec, product):
    n = spec["naming"]
    src = n["code_source"]
    if product.get("sku") is None and src != "own":
        src = "own"
    if src == "mpn":
        return product["mpn"]
    if src == "gtin":
        return product["gtin"]
    key = product.get("sku") or product["name"]
    num = stable_int(spec["distributor_id"], "code", key) % (10 ** n["code_digits"])
    digits = f"{num:0{n['code_digits']}d}"
    if n["code_prefix"]:
        return n["code_prefix"] + n["code_sep"] + digits
    return digits


def describe(spec, product, rng):
    """The distributor's own wording of a product. Stable parts come from the spec; typos/extras use rng."""
    n = spec["naming"]
    lang = spec["language"]
    t = product["type"]
    srng = random.Random(stable_int(spec["distributor_id"], "desc", product.get("sku") or product["name"]))
    noun = {"en": TYPE_EN[t], "local": L.TYPE_L.get(lang, {}).get(t, TYPE_EN[t]), "abbr": srng.choice(L.ABBR[t]), "none": ""}[n["noun"]]
    attrs = product["attrs"][: n["attrs_keep"]]
    if n["abbr_words"]:
        out = []
        for a in attrs:
            for w, ab in L.WORD_ABBR.items():
                a = a.replace(w, ab)
            out.append(a.replace(" mm", "mm").replace(" kW", "kW").replace(" W", "W").replace(" L", "L"))
        attrs = out
    parts = {"t": noun, "s": product["series"], "m": product["model"], "a": " ".join(attrs)}
    text = " ".join(parts[c] for c in n["order"] if parts[c])
    if n["case"] == "upper":
        text = text.upper()
    elif n["case"] == "title":
        text = text.title()
    if product.get("sku") and rng.random() < n["mpn_in_desc"]:
        text += f" {product['mpn']}"
    if rng.random() < n["gtin_in_desc"]:
        text += f" EAN {product['gtin']}"
    if n["max_len"] and len(text) > n["max_len"]:
        text = text[: n["max_len"]].rstrip()
    if n["typo_rate"] and rng.random() < n["typo_rate"] * 5:
        text = _typo(rng, text)
    return text.replace("  ", " ").strip()


def font_safe(spec, text):
    if spec["font"] in ("Helvetica", "Times", "Courier", "Vera"):
        return to_cp1252(text)
    return text


def _digest(spec, idx):
    digest = hashlib.sha256(json.dumps({k: v for k, v in spec.items() if k not in ("format_id",)}, sort_keys=True).encode()).hexdigest()[:10]
    return f"F{idx:04d}-{digest}"


def generate_distributors(seed, n):
    out, names = [], set()
    for i in range(n):
        d = make_distributor(seed, i)
        k = 0
        while d["name"] in names:  # distributor names are unique
            k += 1
            rng = random.Random(f"{seed}:dist:{i}:rename:{k}")
            clang = COUNTRIES[d["country"]][0]
            nm = company_name(rng, d["country"], clang)
            d["name"] = to_cp1252(nm) if d["font"] in ("Helvetica", "Times", "Courier", "Vera") else nm
            d["format_id"] = _digest(d, i)
        names.add(d["name"])
        out.append(d)
    return out
