"""A QR code as a flowable, drawn as vector modules with ReportLab's own barcode support
(``reportlab.graphics.barcode.qr``): no image, no new dependency, deterministic bytes.

``QRBlock(data, size_mm)`` centres a square code of ``size_mm`` (quiet zone included) on the
measure. Error correction level M; the data is encoded as given (a URL: ASCII, percent-encoded).
"""

from __future__ import annotations

from reportlab.platypus import Flowable

from inspect_kit.publish.layout import MM

QUIET_MODULES = 4  # the quiet zone ISO/IEC 18004 asks for, in modules


class QRBlock(Flowable):
    def __init__(self, data: str, size_mm: float = 30.0):
        super().__init__()
        self.data, self.size = data, size_mm * MM

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        self.height = self.size
        return self.width, self.height

    def draw(self) -> None:
        from reportlab.graphics import renderPDF
        from reportlab.graphics.barcode.qr import QrCodeWidget
        from reportlab.graphics.shapes import Drawing

        widget = QrCodeWidget(self.data, barLevel="M", barBorder=QUIET_MODULES)
        x0, y0, x1, y1 = widget.getBounds()
        scale = self.size / max(x1 - x0, y1 - y0)
        drawing = Drawing(self.size, self.size, transform=[scale, 0, 0, scale, -x0 * scale, -y0 * scale])
        drawing.add(widget)
        renderPDF.draw(drawing, self.canv, (self.width - self.size) / 2, 0)
