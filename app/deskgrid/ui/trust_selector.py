"""The composer's trust level: levels 1 to 5 with their names, what the grid requires at each,
and the price line (`app + fee × level`, and the cost against level 1). Level 1 trusts one
result, so it is offered only for an app with a verifier; the default is 1 for such an app and
2 (standard) for one without."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QWidget

from deskgrid.chain.trust import MAX_TRUST, MIN_TRUST, TRUST_NAMES, task_price
from deskgrid.money import format_rlc

#: What the grid requires before it accepts a result at each level (docs/architecture.md).
REQUIREMENTS = {
    1: "one result, checked by the app's verifier",
    2: "at least 2 volunteers with stake agree (credibility 0.99)",
    3: "at least 2 volunteers with stake agree (credibility 0.999)",
    4: "at least 3 volunteers with stake agree (credibility 0.9999)",
    5: "at least 3 volunteers with stake agree (credibility 0.99999)",
}
NO_VERIFIER = (
    "Level 1 trusts a single result: it is only for apps with a verifier that checks it, and "
    "this app has none."
)
VERIFIED_DEFAULT = 1
UNVERIFIED_DEFAULT = 2


def level_text(level: int) -> str:
    """ "2 — standard": a level as the selector and the review name it."""
    return f"{level} — {TRUST_NAMES[level]}"


def cost_factor(app_price: int, pool_fee: int, level: int) -> float:
    """What a task costs at `level` against its price at level 1."""
    return task_price(app_price, pool_fee, level) / task_price(app_price, pool_fee, MIN_TRUST)


def price_text(app_price: int, pool_fee: int, level: int) -> str:
    """ "4 RLC for the app + 2 × 1 RLC pool fee = <b>6 RLC</b> (1.2× level 1), …"."""
    total = task_price(app_price, pool_fee, level)
    factor = f"{cost_factor(app_price, pool_fee, level):.2f}".rstrip("0").rstrip(".")
    return (
        f"{format_rlc(app_price)} for the app + {level} × {format_rlc(pool_fee)} pool fee "
        f"= <b>{format_rlc(total)}</b> ({factor}× the price at level 1), paid in one "
        "transaction"
    )


class TrustSelector(QComboBox):
    """`level_changed(level)` follows every choice; `level()` is the chosen level."""

    level_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        for level in range(MIN_TRUST, MAX_TRUST + 1):
            self.addItem(level_text(level), level)
            self.setItemData(
                level - MIN_TRUST,
                f"The grid requires {REQUIREMENTS[level]}.",
                Qt.ItemDataRole.ToolTipRole,
            )
        self.verifiable = True
        self.currentIndexChanged.connect(lambda *_: self.level_changed.emit(self.level()))

    def level(self) -> int:
        return int(self.currentData())

    def is_offered(self, level: int) -> bool:
        model = self.model()
        assert isinstance(model, QStandardItemModel)
        return model.item(level - MIN_TRUST).isEnabled()

    def set_verifiable(self, verifiable: bool) -> None:
        """The app's kind: level 1 only with a verifier; back to the app's default level."""
        self.verifiable = verifiable
        model = self.model()
        assert isinstance(model, QStandardItemModel)
        first = model.item(VERIFIED_DEFAULT - MIN_TRUST)
        first.setEnabled(verifiable)
        first.setToolTip(f"The grid requires {REQUIREMENTS[1]}." if verifiable else NO_VERIFIER)
        default = VERIFIED_DEFAULT if verifiable else UNVERIFIED_DEFAULT
        self.setCurrentIndex(default - MIN_TRUST)
        self.level_changed.emit(self.level())
