"""Manufacturer SKU catalog (fictional maker "Norvik") and other-brand products.

Every product carries structured parts (type, series, model, attributes) so that
distributors can re-word it; the CSV only exposes the documented columns.
"""
import csv
import io
import random

from .util import ean13

MAKER = "Norvik"
GTIN_PREFIX = "40"
COMPANY = "57312"  # fictional GS1 company prefix -> 4057312xxxxxc

CSV_COLUMNS = ["sku", "name", "brand", "family", "gtin", "mpn", "unit", "pack_size",
               "list_price", "points_per_unit", "eligible"]


def _p(type_key, series, model, attrs, brand, family, price, unit="pc", pack=1, mpn_stem=None):
    return {"type": type_key, "series": series, "model": model, "attrs": [a for a in attrs if a],
            "brand": brand, "family": family, "price": price, "unit": unit, "pack": pack,
            "mpn_stem": mpn_stem or (series.replace(" ", "")[:4].upper())}


def _space():
    """Yield the full combinatorial product space (~30k); sampled down later."""
    B = MAKER
    # ---------------- pumps
    for ser, base, elec in [("CIRCA", 95, "1x230V"), ("CIRCA E", 180, "1x230V"), ("CIRCA MAX", 340, "1x230V"),
                            ("CIRCA SOLAR", 150, "1x230V"), ("CIRCA N", 260, "1x230V")]:
        for dn in (15, 20, 25, 32, 40):
            for head in (40, 50, 60, 70, 80, 100, 120):
                for ln in (130, 180, 220):
                    if dn >= 32 and ln == 130:
                        continue
                    for thread in ("", "PN10"):
                        price = base + dn * 2.1 + head * 0.9 + (ln - 130) * 0.2 + (15 if thread else 0)
                        yield _p("circulator_pump", ser, f"{dn}-{head}", [f"{ln} mm", thread, elec],
                                 "Norvik Aquaro", "pumps/circulators", price, mpn_stem="CI")
    for ser in ("DRENA", "DRENA INOX", "DRENA VORTEX"):
        for w in (250, 400, 550, 750, 900, 1100, 1300):
            for fl in ("A", "M", ""):
                for cable in ("5 m", "10 m", "15 m"):
                    yield _p("drainage_pump", ser, str(w), [fl and ("float" if fl == "A" else "manual"), f"{w} W", f"cable {cable}"],
                             "Norvik Aquaro", "pumps/drainage", 80 + w * 0.22 + (60 if "INOX" in ser else 0), mpn_stem="DR")
    for ser in ("BORA 3S", "BORA 4S", "BORA 6S"):
        for q in (2, 3, 5, 8, 12, 16):
            for st in (6, 9, 12, 15, 18, 24, 30):
                kw = round(0.25 + q * st * 0.012, 2)
                for ph in ("1x230V", "3x400V"):
                    yield _p("borehole_pump", ser, f"{q}-{st}", [f"{kw} kW", ph], "Norvik Aquaro", "pumps/borehole",
                             300 + kw * 210, mpn_stem="BO")
    for ser in ("PRESSA", "PRESSA DUO", "PRESSA TRIO"):
        for q in (2, 3, 4, 6, 10):
            for h in (35, 45, 55, 65, 75):
                for ph in ("M", "T"):
                    yield _p("booster_set", ser, f"{q}-{h} {ph}", ["1x230V" if ph == "M" else "3x400V", "with 24 L vessel"],
                             "Norvik Aquaro", "pumps/boosters", 450 + q * 40 + h * 6 + (900 if "TRIO" in ser else 400 if "DUO" in ser else 0), mpn_stem="PR")
    for ser in ("LINEA", "LINEA PLUS"):
        for dn in (32, 40, 50, 65, 80, 100):
            for imp in (125, 160, 200, 250):
                for pole in (2, 4):
                    kw = round(dn * imp / 4000.0 / (pole / 2), 1) or 0.5
                    yield _p("inline_pump", ser, f"{dn}-{imp}/{pole}", [f"{kw} kW", "3x400V", "PN16"], "Norvik Aquaro",
                             "pumps/inline", 900 + kw * 260 + dn * 4, mpn_stem="LI")
    for ser in ("LIFTA", "LIFTA COMPACT"):
        for v in (40, 60, 100, 150, 250):
            for inl in ("1 inlet", "3 inlets", "5 inlets"):
                yield _p("lifting_station", ser, f"{v}", [f"{v} L tank", inl], "Norvik Aquaro", "pumps/lifting",
                         600 + v * 4.5, mpn_stem="LF")
    # ---------------- heating
    for ser in ("THERMA C", "THERMA CS", "THERMA SYSTEM"):
        for kw in (18, 20, 24, 25, 28, 30, 35, 40):
            for gas in ("G20 natural gas", "G31 LPG"):
                for flue in ("", "with flue kit"):
                    yield _p("condensing_boiler", ser, f"{kw}", [f"{kw} kW", gas, flue], "Norvik Thermalis", "heating/boilers",
                             1200 + kw * 35 + (180 if flue else 0), mpn_stem="TH")
    for typ in ("10", "11", "20", "21", "22", "33"):
        for h in (300, 400, 450, 500, 550, 600, 750, 900):
            for ln in range(400, 3100, 100):
                for con in ("C", "V", "VM"):
                    for col, cf in (("white RAL 9016", 1.0), ("anthracite RAL 7016", 1.25), ("pure white RAL 9010", 1.1)):
                        price = (30 + h * ln / 9000.0) * {"10": 0.9, "11": 1.0, "20": 1.3, "21": 1.4, "22": 1.6, "33": 2.3}[typ] * cf + (12 if con != "C" else 0)
                        yield _p("panel_radiator", f"RADIA {con}", f"type {typ}", [f"{h}x{ln} mm", col],
                                 "Norvik Thermalis", "heating/radiators", price, mpn_stem="RA" + con)
    for h in (700, 800, 1100, 1200, 1500, 1800):
        for w in (400, 450, 500, 600, 750):
            for col in ("white", "chrome", "anthracite"):
                for shape in ("straight", "curved"):
                    for el in ("", "electric 300W", "electric 500W"):
                        yield _p("towel_radiator", "TOWELA", f"{h}x{w} {shape}", [col, el], "Norvik Thermalis", "heating/radiators",
                                 60 + h * w / 9000.0 + (90 if el else 0) + (40 if col == "chrome" else 0), mpn_stem="TW")
    for ser in ("TRV", "TRV PRESET"):
        for shape in ("straight", "angle", "reverse angle", "corner"):
            for dn in ("DN10 3/8\"", "DN15 1/2\"", "DN20 3/4\""):
                for fin in ("nickel", "chrome", "brass"):
                    yield _p("thermostatic_valve", ser, shape, [dn, fin], "Norvik Thermalis", "heating/valves",
                             9 + (4 if fin == "chrome" else 0) + (3 if "20" in dn else 0), mpn_stem="TV")
    for ser in ("THERMO HEAD", "THERMO HEAD LIQUID", "THERMO HEAD DIGITAL"):
        for con in ("M30x1.5", "M28x1.5", "RA click", "snap-on"):
            for col in ("white", "chrome", "black"):
                yield _p("thermostatic_head", ser, con, [col], "Norvik Thermalis", "heating/valves",
                         12 + (45 if "DIGITAL" in ser else 4 if "LIQUID" in ser else 0), mpn_stem="TH")
    for ser in ("AERO HP", "AERO HP PLUS", "AERO SPLIT"):
        for kw in (4, 6, 8, 10, 12, 14, 16):
            for ph in ("1x230V", "3x400V"):
                yield _p("heat_pump", ser, f"{kw}", [f"{kw} kW", "monobloc" if "SPLIT" not in ser else "split", ph, "R290"],
                         "Norvik Thermalis", "heating/heatpumps", 4200 + kw * 420, mpn_stem="HP")
    for ser in ("AQUA", "AQUA SOLAR", "AQUA DUO"):
        for v in (80, 100, 120, 150, 200, 250, 300, 400, 500):
            for coil in ("indirect", "direct electric 3 kW"):
                yield _p("hot_water_cylinder", ser, f"{v}", [f"{v} L", coil], "Norvik Thermalis", "heating/cylinders",
                         320 + v * 2.6, mpn_stem="AQ")
    for ser in ("FLOORA", "FLOORA PRO"):
        for ways in range(2, 13):
            for flow in ("with flow meters", "without flow meters"):
                yield _p("ufh_manifold", ser, f"{ways}-way", [flow, "1\""], "Norvik Thermalis", "heating/underfloor",
                         70 + ways * 24, mpn_stem="FL")
    # ---------------- ventilation
    for ser in ("VENTA", "VENTA EC", "VENTA SILENT"):
        for d in (100, 125, 150, 160, 200, 250, 315):
            for m in ("inline", "mixed-flow"):
                for sp in ("1-speed", "2-speed"):
                    yield _p("duct_fan", ser, f"{d}", [f"D{d} mm", m, sp], "Norvik Ventora", "ventilation/fans",
                             60 + d * 0.5 + (70 if "EC" in ser else 0), mpn_stem="VE")
    for ser in ("SILENTO", "SILENTO PLUS", "SILENTO DESIGN"):
        for d in (100, 120, 150):
            for opt in ("", "T timer", "H humidistat", "P pull cord", "TH timer+humidistat"):
                for col in ("white", "silver", "black"):
                    yield _p("extract_fan", ser, f"{d} {opt.split(' ')[0] if opt else 'S'}", [opt.partition(' ')[2], col],
                             "Norvik Ventora", "ventilation/fans", 25 + d * 0.12 + (15 if opt else 0), mpn_stem="SI")
    for ser in ("RECO", "RECO FLAT", "RECO PLUS"):
        for m3 in (150, 200, 250, 350, 450, 550):
            for side in ("left", "right"):
                for bp in ("with bypass", "without bypass"):
                    yield _p("mvhr_unit", ser, f"{m3}", [f"{m3} m3/h", f"{side} version", bp], "Norvik Ventora",
                             "ventilation/mvhr", 1500 + m3 * 4, mpn_stem="RE")
    for ser in ("GRILLE", "GRILLE LINEAR", "GRILLE ROUND"):
        for w in (100, 150, 200, 250, 300, 400, 500, 600):
            for h in (100, 150, 200, 300):
                if "ROUND" in ser and h != 100:
                    continue
                for col in ("white", "aluminium", "black RAL 9005", "stainless"):
                    yield _p("air_grille", ser, f"{w}x{h}" if "ROUND" not in ser else f"D{w}", [col], "Norvik Ventora",
                             "ventilation/grilles", 8 + w * h / 6000.0, mpn_stem="GR")
    # ---------------- electrical
    for ser in ("ELVO", "ELVO PRO"):
      for curve in ("B", "C", "D"):
        for a in (2, 4, 6, 10, 13, 16, 20, 25, 32, 40, 50, 63):
            for poles in ("1P", "1P+N", "2P", "3P", "4P"):
                for ka in ("4.5kA", "6kA", "10kA"):
                    yield _p("mcb", ser, f"{curve}{a} {poles}", [ka], "Norvik Elvion", "electrical/protection",
                             6 + a * 0.1 + {"1P": 0, "1P+N": 6, "2P": 10, "3P": 18, "4P": 26}[poles] + (5 if ka == "10kA" else 0),
                             mpn_stem="EL")
    for ser in ("ELVO RCBO", "ELVO RCBO PRO"):
        for curve in ("B", "C"):
            for a in (6, 10, 13, 16, 20, 25, 32, 40):
                for ma in (10, 30, 100):
                    for poles in ("1P+N", "2P"):
                        for t in ("type A", "type AC"):
                            yield _p("rcbo", ser, f"{curve}{a} {ma}mA {poles}", [t], "Norvik Elvion", "electrical/protection",
                                     38 + a * 0.5 + (10 if t == "type A" else 0), mpn_stem="EC")
    for a in (25, 40, 63, 80, 100):
        for ma in (10, 30, 100, 300):
            for poles in ("2P", "4P"):
                for t in ("type A", "type AC", "type B"):
                    yield _p("rcd", "ELVO RCD", f"{a}A {ma}mA {poles}", [t], "Norvik Elvion", "electrical/protection",
                             35 + a * 0.4 + (150 if t == "type B" else 0) + (20 if poles == "4P" else 0), mpn_stem="ER")
    for ser, typ, pr in [("ELVO LINE", "socket_outlet", 4.5), ("ELVO LINE", "switch", 3.9), ("ELVO STYLE", "socket_outlet", 7.5),
                         ("ELVO STYLE", "switch", 6.5), ("ELVO IP44", "socket_outlet", 9.0), ("ELVO IP44", "switch", 8.5)]:
        models = ["1-gang", "2-gang", "3-gang", "USB-A/C", "with shutters"] if typ == "socket_outlet" else \
            ["1-way", "2-way", "intermediate", "double 2-way", "push button", "dimmer 400W"]
        for mo in models:
            for col in ("white", "cream", "anthracite", "aluminium", "black matt", "polar white", "stainless"):
                for mt in ("flush", "surface"):
                    yield _p(typ, ser, mo, [col, mt], "Norvik Elvion", "electrical/wiring-devices", pr * (1.3 if mt == "surface" else 1),
                             mpn_stem="EW")
    for ct in ("NYM-J", "H07RN-F", "YDY", "NYY-J", "H05VV-F"):
        for cores in (2, 3, 4, 5):
            for sec in (0.75, 1.5, 2.5, 4, 6, 10, 16):
                if ct == "H05VV-F" and sec > 2.5:
                    continue
                for ln in (50, 100, 500):
                  for col in (("grey", "black", "white") if ct in ("NYM-J", "H05VV-F", "YDY") else ("black",)):
                    yield _p("cable", "ELVOCAB", f"{ct} {cores}x{sec:g}", [f"{ln} m", "ring" if ln < 500 else "drum", col],
                             "Norvik Elvion", "electrical/cable", 0.35 * cores * sec * ln / 2 + ln * 0.1, unit="roll", mpn_stem="CB")
    for ser in ("LUMA", "LUMA BACKLIT", "LUMA UGR19"):
        for size in ("300x300", "600x600", "300x1200", "625x625"):
            for w in (18, 24, 30, 36, 40):
                for k in ("3000K", "4000K", "6500K"):
                    for dim in ("", "DALI dimmable", "1-10V dimmable"):
                        yield _p("led_panel", ser, size, [f"{w}W", k, dim], "Norvik Elvion", "electrical/lighting",
                                 18 + w * 0.8 + (25 if dim else 0), mpn_stem="LU")
    for d in (68, 90, 120, 170, 200):
        for w in (5, 7, 9, 12, 18, 24):
            for k in ("3000K", "4000K", "CCT"):
                for ip in ("IP20", "IP44", "IP65"):
                    for col in ("white", "black"):
                        yield _p("led_downlight", "LUMA DOWN", f"D{d} {w}W", [k, ip, col], "Norvik Elvion", "electrical/lighting",
                                 9 + w * 0.9 + (6 if ip == "IP65" else 0), mpn_stem="LD")
    for ser in ("ELVO BOX", "ELVO BOX IP65"):
        for ways in (4, 6, 8, 12, 18, 24, 36, 48):
            for mt in ("flush", "surface"):
                yield _p("consumer_unit", ser, f"{ways}-way", [mt], "Norvik Elvion", "electrical/enclosures", 25 + ways * 3.2,
                         mpn_stem="EB")
    # ---------------- plumbing
    mats = [("copper", 1.0), ("carbon steel", 0.8), ("stainless steel", 1.6)]
    shapes = ["elbow 90", "elbow 45", "tee", "equal coupling", "slip coupling", "male adaptor", "female adaptor", "end cap",
              "reducer", "elbow 90 male", "elbow 90 female", "wall plate elbow", "tee reducing", "flange adaptor"]
    for mat, mf in mats:
        for sh in shapes:
            for d in (12, 15, 18, 22, 28, 35, 42, 54) + (() if mat == "copper" else (64, 76.1, 88.9, 108)):
                reds = [r for r in (12, 15, 18, 22, 28, 35, 42) if r < d] if sh == "reducer" else [None]
                for r in reds:
                    model = f"{sh} {d}x{r} mm" if r else f"{sh} {d} mm"
                    for pk in (1, 5, 10):
                        yield _p("press_fitting", "PRESSFIT", model, [mat, f"pack of {pk}" if pk > 1 else ""], "Norvik",
                                 "plumbing/fittings", (2 + d * 0.15) * mf * pk, unit="pc" if pk == 1 else "box", pack=pk,
                                 mpn_stem="PF")
    for d, s in [(14, 2), (16, 2), (18, 2), (20, 2), (26, 3), (32, 3), (40, 3.5)]:
        for ln in (5, 25, 50, 100, 200):
            for ins in ("", "insulated 6 mm", "insulated 10 mm", "red sleeve", "blue sleeve"):
                yield _p("multilayer_pipe", "MULTIPEX", f"{d}x{s:g}", [f"{ln} m", ins], "Norvik", "plumbing/pipe",
                         ln * d * 0.06 + (ln * 0.4 if ins else 0), unit="roll" if ln > 5 else "bar", mpn_stem="MP")
    for ser, pr in (("MULTIPRESS", 1.0), ("MULTIPRESS PPSU", 0.8)):
        for sh in ("elbow 90", "tee", "coupling", "reducer", "male adaptor", "female adaptor", "wall plate", "end cap"):
            for d in (14, 16, 18, 20, 26, 32, 40, 50, 63):
                threads = ("1/2\"", "3/4\"", "1\"") if "adaptor" in sh or sh == "wall plate" else ("",)
                for th in threads:
                    for pk in (1, 10):
                        yield _p("ml_press_fitting", ser, f"{sh} {d}" + (f"x{th}" if th else ""), [f"pack of {pk}" if pk > 1 else ""],
                                 "Norvik", "plumbing/fittings", (3 + d * 0.2) * pr * pk, unit="pc" if pk == 1 else "box", pack=pk, mpn_stem="MF")
    sizes = ("1/4\"", "3/8\"", "1/2\"", "3/4\"", "1\"", "1 1/4\"", "1 1/2\"", "2\"")
    for fin, ff in (("brass", 1.0), ("nickel-plated brass", 1.3), ("galvanised malleable iron", 0.7)):
        for sh in ("elbow 90 FF", "elbow 90 MF", "tee", "socket", "hex nipple", "union", "plug", "cap", "cross", "elbow 45"):
            for sz in sizes:
                for pk in (1, 10):
                    yield _p("threaded_fitting", "THREADA", f"{sh} {sz}", [fin, f"pack of {pk}" if pk > 1 else ""], "Norvik",
                             "plumbing/fittings", (1.5 + len(sz) * 1.2) * ff * pk, unit="pc" if pk == 1 else "box", pack=pk, mpn_stem="TF")
        for sh in ("reducing bush", "reducing socket"):
            for i, a in enumerate(sizes):
                for b in sizes[:i]:
                    yield _p("threaded_fitting", "THREADA", f"{sh} {a}x{b}", [fin], "Norvik", "plumbing/fittings",
                             (1.5 + len(a) * 1.2) * ff, mpn_stem="TF")
    for ser in ("PEXA", "PERTA"):
        for d, s in [(14, 2), (16, 2), (17, 2), (20, 2), (25, 2.3), (32, 2.9)]:
            for ln in (50, 100, 200, 240, 500, 600):
                for bar in ("with oxygen barrier", "without oxygen barrier"):
                    yield _p("pex_pipe", ser, f"{d}x{s:g}", [f"{ln} m", bar], "Norvik", "plumbing/pipe", ln * d * 0.03, unit="roll", mpn_stem="PX")
    for d in (6, 8, 10, 12, 15, 18, 22, 28, 35, 42, 48, 54, 60, 76, 89, 108, 114):
        for wall in (6, 9, 13, 19, 25, 32):
            for ln in ("1 m", "2 m"):
                yield _p("pipe_insulation", "ISOFLEX", f"{d}x{wall}", [ln], "Norvik", "plumbing/insulation", 1 + d * wall / 300.0, mpn_stem="IF")
    for ser in ("BALLO", "BALLO HD"):
        for sz in ("1/4\"", "3/8\"", "1/2\"", "3/4\"", "1\"", "1 1/4\"", "1 1/2\"", "2\""):
            for ends in ("FF", "MF", "MM"):
                for handle in ("lever", "butterfly", "T-handle", "lockable lever"):
                    yield _p("ball_valve", ser, f"{sz} {ends}", [handle, "PN25" if "HD" in ser else "PN16"], "Norvik",
                             "plumbing/valves", 6 + len(sz) * 3, mpn_stem="BV")
    for ser in ("CHECKA", "CHECKA SPRING"):
        for sz in ("1/2\"", "3/4\"", "1\"", "1 1/4\"", "1 1/2\"", "2\""):
            for mat in ("brass", "stainless"):
                yield _p("check_valve", ser, sz, [mat], "Norvik", "plumbing/valves", 7 + len(sz) * 2.5, mpn_stem="CV")
    for ser in ("REDUCA", "REDUCA PLUS"):
        for sz in ("1/2\"", "3/4\"", "1\"", "1 1/4\""):
            for rng in ("1.5-6 bar", "0.5-2 bar"):
                for gauge in ("with gauge", "without gauge"):
                    yield _p("pressure_reducing_valve", ser, sz, [rng, gauge], "Norvik", "plumbing/valves", 30 + len(sz) * 6,
                             mpn_stem="RV")
    for ser in ("EXPA", "EXPA SOLAR", "EXPA AQUA"):
        for v in (8, 12, 18, 24, 35, 50, 80, 100, 150, 200):
            for pr in ("1.5 bar", "2.5 bar", "4 bar"):
                yield _p("expansion_vessel", ser, f"{v}", [f"{v} L", f"precharge {pr}"], "Norvik", "plumbing/vessels",
                         25 + v * 1.1, mpn_stem="EX")
    for ser in ("MIXA", "MIXA THERMO", "MIXA LUX"):
        for mo in ("basin mixer", "kitchen mixer", "shower mixer", "bath-shower mixer", "concealed shower mixer"):
            for fin in ("chrome", "brushed steel", "black matt", "white matt"):
                for var in ("", "with pop-up waste", "eco 5 l/min"):
                    yield _p("mixer_tap", ser, mo, [fin, var], "Norvik", "plumbing/taps", 60 + (80 if "LUX" in ser else 0),
                             mpn_stem="MX")


def generate_catalog(seed, n=20000):
    rng = random.Random(f"{seed}:catalog")
    space = list(_space())
    if n < len(space):
        idx = sorted(rng.sample(range(len(space)), n))
        space = [space[i] for i in idx]
    products = []
    skus = rng.sample(range(100000, 999999), len(space))
    mpns = rng.sample(range(1000000, 9999999), len(space))
    for i, p in enumerate(space):
        q = dict(p)
        q["sku"] = f"NV-{skus[i]:06d}"
        q["gtin"] = ean13(GTIN_PREFIX + COMPANY + f"{i:05d}")
        q["mpn"] = f"{p['mpn_stem']}{mpns[i]}"
        q["name"] = product_name_en(q)
        q["list_price"] = round(max(0.5, q["price"] * rng.uniform(0.95, 1.05)), 2)
        q["points_per_unit"] = max(1, int(q["list_price"] // 10)) if q["list_price"] >= 10 else 1
        q["eligible"] = rng.random() > 0.06
        q["pack_size"] = q.pop("pack")
        products.append(q)
    return products


TYPE_EN = {
    "circulator_pump": "Circulator pump", "drainage_pump": "Submersible drainage pump", "borehole_pump": "Borehole pump",
    "booster_set": "Booster set", "inline_pump": "In-line pump", "lifting_station": "Wastewater lifting station",
    "condensing_boiler": "Gas condensing boiler", "panel_radiator": "Panel radiator", "thermostatic_valve": "Thermostatic valve",
    "thermostatic_head": "Thermostatic head", "heat_pump": "Air-to-water heat pump", "hot_water_cylinder": "Hot water cylinder",
    "ufh_manifold": "Underfloor heating manifold", "duct_fan": "Duct fan", "extract_fan": "Bathroom extract fan",
    "mvhr_unit": "Heat recovery ventilation unit", "air_grille": "Air grille", "mcb": "Circuit breaker",
    "rcd": "Residual current device", "socket_outlet": "Socket outlet", "switch": "Switch", "cable": "Installation cable",
    "led_panel": "LED panel", "consumer_unit": "Consumer unit", "press_fitting": "Press fitting",
    "multilayer_pipe": "Multilayer pipe", "ball_valve": "Ball valve", "check_valve": "Check valve",
    "pressure_reducing_valve": "Pressure reducing valve", "expansion_vessel": "Expansion vessel", "mixer_tap": "Mixer tap",
    "towel_radiator": "Towel radiator", "rcbo": "RCBO", "led_downlight": "LED downlight", "ml_press_fitting": "Multilayer press fitting",
    "threaded_fitting": "Threaded fitting", "pex_pipe": "PEX pipe", "pipe_insulation": "Pipe insulation",
}


def product_name_en(p):
    return " ".join([TYPE_EN[p["type"]], p["series"], p["model"]] + p["attrs"])


def catalog_csv(products):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for p in products:
        w.writerow([p["sku"], p["name"], p["brand"], p["family"], p["gtin"], p["mpn"], p["unit"], p["pack_size"],
                    f"{p['list_price']:.2f}", p["points_per_unit"], "true" if p["eligible"] else "false"])
    return buf.getvalue()


# ---------------------------------------------------------------- other brands (must match no SKU)
OTHER_BRANDS = [("Hydrotec", ["HX", "AQUAFLOW", "PRIMO"]), ("Voltaris", ["VX", "SAFEGRID", "LUXO"]),
                ("Calorex", ["CX", "WARMLINE", "DUOTHERM"]), ("Airmax", ["AMX", "BREEZE", "FLOWAIR"]),
                ("Fluxa", ["FX", "PROPRESS", "STEELINE"]), ("Termica", ["TM", "TERMO", "CALDA"]),
                ("Brixo", ["BX", "SOLIDO", "FORTE"]), ("Kaltmann", ["KM", "KALTEC", "NORDIC"])]


def other_brand_product(rng, products):
    """A competitor product of a type we also make; series names never collide with ours."""
    base = rng.choice(products)
    brand, series = rng.choice(OTHER_BRANDS)
    ser = rng.choice(series)
    model = "".join(c if not c.isdigit() else str(rng.randint(0, 9)) for c in base["model"])
    attrs = list(base["attrs"])
    q = {"type": base["type"], "series": f"{brand.upper()} {ser}", "model": model, "attrs": attrs, "brand": brand,
         "sku": None, "gtin": ean13("8" + str(rng.randint(10**10, 10**11 - 1))), "mpn": f"{ser[:2]}{rng.randint(10000, 99999)}",
         "list_price": round(base["list_price"] * rng.uniform(0.7, 1.3), 2), "unit": base["unit"], "pack_size": base["pack_size"]}
    q["name"] = " ".join([TYPE_EN[q["type"]], q["series"], q["model"]] + q["attrs"])
    return q
