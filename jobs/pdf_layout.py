"""Page layout shared by the portal's PDFs: the font, paragraph styles, header and footer."""

import io
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate

# Debian's fonts-dejavu-core installs DejaVu Sans here. It covers the Latin letters of the
# names schools enter (Ł, ś, ş, ı, ễ, ...); reportlab's built-in Helvetica shows those as boxes.
DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
BRAND = colors.HexColor("#154273")
AUTHOR = "Portaal Monitoring Sociale Veiligheid"


class FontMissing(RuntimeError):
    """DejaVu Sans is not installed, so names with non-ASCII letters cannot be drawn."""


def register_fonts() -> None:
    """Register DejaVu Sans with reportlab, or raise FontMissing with the fix."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    regular, bold = DEJAVU_DIR / "DejaVuSans.ttf", DEJAVU_DIR / "DejaVuSans-Bold.ttf"
    for path in (regular, bold):
        if not path.is_file():
            raise FontMissing(
                f"font file {path} not found: install the Debian package fonts-dejavu-core "
                "(make browser-deps installs it as root)"
            )
    pdfmetrics.registerFont(TTFont(FONT, str(regular)))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(bold)))


@dataclass(frozen=True)
class Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    title: ParagraphStyle
    heading: ParagraphStyle


def styles() -> Styles:
    """Return the paragraph styles of the portal's PDFs, in DejaVu Sans."""
    register_fonts()
    # splitLongWords lets a word wider than the frame (a pasted URL, a name without spaces)
    # break inside itself instead of running off the page.
    body = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=13.5, splitLongWords=1)
    return Styles(
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=8, leading=10.5),
        cell=ParagraphStyle("cell", parent=body, fontSize=9, leading=11.5),
        cell_bold=ParagraphStyle(
            "cell-bold", parent=body, fontName=FONT_BOLD, fontSize=8.5, leading=11
        ),
        title=ParagraphStyle(
            "title", parent=body, fontName=FONT_BOLD, fontSize=17, leading=21, spaceAfter=4
        ),
        heading=ParagraphStyle(
            "heading",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=12,
            leading=15,
            spaceBefore=8,
            spaceAfter=4,
            textColor=BRAND,
        ),
    )


def text(value: object, style: ParagraphStyle) -> Paragraph:
    """Return a paragraph of plain text; markup characters in the value are escaped."""
    return Paragraph(escape(str(value)).replace("\n", "<br/>"), style)


class _NumberedCanvas(Canvas):
    """A canvas that draws header and footer after the last page, so it knows the total.

    Each finished page is kept as canvas state until save(); then every page gets its
    header and "pagina X van Y" footer and is written out.
    """

    def __init__(self, *args, header_left: str, header_right: str, footer_left: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._header = (header_left, header_right)
        self._footer_left = footer_left
        self._pages: list[dict] = []

    def showPage(self):  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_frame(number, total)
            super().showPage()
        super().save()

    def _draw_frame(self, number: int, total: int) -> None:
        top = PAGE_HEIGHT - 11 * mm
        self.saveState()
        self.setStrokeColor(BRAND)
        self.setLineWidth(0.6)
        self.line(MARGIN, top - 2 * mm, PAGE_WIDTH - MARGIN, top - 2 * mm)
        self.line(MARGIN, 14 * mm, PAGE_WIDTH - MARGIN, 14 * mm)
        self.setFont(FONT_BOLD, 8)
        self.drawString(MARGIN, top, _fit(self._header[0], FONT_BOLD, 8, 80 * mm))
        self.setFont(FONT, 8)
        self.drawRightString(
            PAGE_WIDTH - MARGIN,
            top,
            _fit(self._header[1], FONT, 8, PAGE_WIDTH - 2 * MARGIN - 85 * mm),
        )
        self.drawString(MARGIN, 10 * mm, _fit(self._footer_left, FONT, 8, 120 * mm))
        self.drawRightString(
            PAGE_WIDTH - MARGIN,
            10 * mm,
            _("pagina %(page)s van %(total)s", page=number, total=total),
        )
        self.restoreState()


def _fit(value: str, font: str, size: float, width: float) -> str:
    """Shorten a header or footer line with an ellipsis so it stays within ``width`` points."""
    if pdfmetrics.stringWidth(value, font, size) <= width:
        return value
    while value and pdfmetrics.stringWidth(value + "…", font, size) > width:
        value = value[:-1]
    return value + "…"


def build_pdf(story: list, title: str, header_right: str, footer_left: str) -> bytes:
    """Lay out ``story`` on A4 pages with the portal's header and footer; return the PDF."""
    register_fonts()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author=AUTHOR,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
    )
    canvasmaker = partial(
        _NumberedCanvas,
        header_left=_("Monitoring Sociale Veiligheid"),
        header_right=header_right,
        footer_left=footer_left,
    )
    document.build(story, canvasmaker=canvasmaker)
    return buffer.getvalue()
