"""The app's icons load from deskgrid.resources (the SVG icon engine renders them)."""

from __future__ import annotations

import pytest

from deskgrid.ui.icons import icon

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("name", ["deskgrid", "wallet", "jobs", "volunteer", "settings"])
def test_each_icon_renders(qtbot, name: str):
    image = icon(name).pixmap(32, 32).toImage()
    assert not image.isNull()
    assert any(image.pixelColor(x, y).alpha() for x in range(32) for y in range(32))


def test_a_missing_icon_is_empty(qtbot):
    assert icon("no-such-icon").isNull()
