"""Font registry: PDF standard-14 families plus TTFs shipped by pinned pip packages (no system fonts)."""
import os

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

_DONE = False

STD = {"Helvetica": ("Helvetica", "Helvetica-Bold", "Helvetica-Oblique"),
       "Times": ("Times-Roman", "Times-Bold", "Times-Italic"),
       "Courier": ("Courier", "Courier-Bold", "Courier-Oblique")}


def _pkg_dir(mod):
    m = __import__(mod)
    return os.path.join(os.path.dirname(m.__file__), "files")


def _ttf_specs():
    import reportlab
    rl = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    return {
        "Roboto": (_pkg_dir("font_roboto"), "Roboto-Regular.ttf", "Roboto-Bold.ttf", "Roboto-Italic.ttf"),
        "Lato": (_pkg_dir("font_lato"), "Lato-Regular.ttf", "Lato-Bold.ttf", "Lato-Italic.ttf"),
        "SourceSans": (_pkg_dir("font_source_sans_pro"), "SourceSansPro-Regular.ttf", "SourceSansPro-Bold.ttf", "SourceSansPro-It.ttf"),
        "SourceSerif": (_pkg_dir("font_source_serif_pro"), "SourceSerifPro-Regular.ttf", "SourceSerifPro-Bold.ttf", "SourceSerifPro-Regular.ttf"),
        "Caladea": (_pkg_dir("font_caladea"), "Caladea-Regular.ttf", "Caladea-Bold.ttf", "Caladea-Italic.ttf"),
        "Vera": (rl, "Vera.ttf", "VeraBd.ttf", "VeraIt.ttf"),
    }


def register():
    global _DONE
    if _DONE:
        return
    for fam, (d, r, b, i) in _ttf_specs().items():
        for suffix, fn in (("", r), ("-Bold", b), ("-Italic", i)):
            pdfmetrics.registerFont(TTFont(fam + suffix, os.path.join(d, fn)))
    _DONE = True


def faces(family):
    """(regular, bold, italic) reportlab font names."""
    if family in STD:
        return STD[family]
    return (family, family + "-Bold", family + "-Italic")


def width(text, font, size):
    return pdfmetrics.stringWidth(text, font, size)


_AD = {}


def ascent_descent(font, size):
    if font not in _AD:
        a, d = pdfmetrics.getAscentDescent(font, 1000)
        _AD[font] = (a / 1000.0, d / 1000.0)
    a, d = _AD[font]
    return a * size, d * size
