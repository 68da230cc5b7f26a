import hashlib
import unicodedata
from decimal import Decimal, ROUND_HALF_UP


def ean13_check(d12):
    s = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(d12))
    return str((10 - s % 10) % 10)


def ean13(d12):
    assert len(d12) == 12 and d12.isdigit(), d12
    return d12 + ean13_check(d12)


def ean13_valid(code):
    return len(code) == 13 and code.isdigit() and ean13_check(code[:12]) == code[12]


def r2(x):
    return float(Decimal(repr(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def stable_int(*parts):
    h = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "big")


def fmt_num(x, dec_sep, thou_sep, decimals=2):
    neg = x < 0
    s = f"{abs(x):,.{decimals}f}"  # 1,234.56
    s = s.replace(",", "\x00").replace(".", dec_sep).replace("\x00", thou_sep)
    return ("-" if neg else "") + s


def fmt_date(d, style):
    if style == "dmy.":
        return f"{d.day:02d}.{d.month:02d}.{d.year}"
    if style == "dmy/":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if style == "dmy-":
        return f"{d.day:02d}-{d.month:02d}-{d.year}"
    if style == "iso":
        return d.isoformat()
    if style == "mdy/":
        return f"{d.month:02d}/{d.day:02d}/{d.year}"
    raise ValueError(style)


_CP1252_OK = set()


def to_cp1252(text):
    """Standard-14 PDF fonts only cover cp1252: transliterate the rest (as many ERPs do)."""
    out = []
    for ch in text:
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode() or {"ł": "l", "Ł": "L"}.get(ch, "?")
            out.append(base)
    return "".join(out)
