"""A small line chart of earnings over time, drawn with QPainter."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from deskgrid.money import format_rlc

LINE = QColor("#2e7d32")
AXIS = QColor("#9aa5b1")
MARGIN = 8.0


class EarningsChart(QWidget):
    """`set_samples([(time, nrlc), ...])`; a flat line for one sample, a hint for none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.samples: list[tuple[float, int]] = []
        self.setMinimumHeight(110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(360, 120)

    def set_samples(self, samples: Sequence[tuple[float, int]]) -> None:
        self.samples = list(samples)
        self.update()

    def points(self, area: QRectF) -> list[QPointF]:
        """The samples mapped into `area` (time → x, amount → y; up is more)."""
        if not self.samples:
            return []
        t0, t1 = self.samples[0][0], self.samples[-1][0]
        low = min(v for _, v in self.samples)
        high = max(v for _, v in self.samples)
        span_t = (t1 - t0) or 1.0
        span_v = (high - low) or 1
        return [
            QPointF(
                area.left() + (t - t0) / span_t * area.width(),
                area.bottom() - (v - low) / span_v * area.height(),
            )
            for t, v in self.samples
        ]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area = QRectF(self.rect()).adjusted(MARGIN, MARGIN + 14, -MARGIN, -MARGIN)
        painter.setPen(QPen(AXIS, 1))
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        painter.drawLine(area.bottomLeft(), area.topLeft())
        if not self.samples:
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "No earnings yet")
            painter.end()
            return
        painter.drawText(
            QRectF(MARGIN, 0, self.width() - 2 * MARGIN, 18),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            format_rlc(self.samples[-1][1]),
        )
        points = self.points(area)
        if len(points) == 1:
            points = [QPointF(area.left(), points[0].y()), QPointF(area.right(), points[0].y())]
        painter.setPen(QPen(LINE, 2))
        painter.drawPolyline(QPolygonF(points))
        painter.end()
