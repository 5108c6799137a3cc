"""The spec's choice of what the bundle keeps (installer/bundle_filter.py)."""

from __future__ import annotations

import sys

import pytest

from tests.conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "installer"))
bundle_filter = pytest.importorskip("bundle_filter")


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/plugins/platforms/qwindows.dll",
        "PySide6/Qt/plugins/imageformats/libqsvg.so",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
        "PySide6/Qt/lib/libQt6Widgets.so.6",
        "PySide6/Qt/lib/libicudata.so.73",
        "coincurve/_libsecp256k1.so",
        "libpython3.11.so.1.0",
    ],
)
def test_kept(dest: str):
    assert bundle_filter.keep_binary(dest, "linux")


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/plugins/platforms/libqeglfs.so",
        "PySide6/Qt/plugins/platforms/libqminimalegl.so",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "PySide6/Qt/plugins/imageformats/libqpdf.so",
        "PySide6/Qt/plugins/tls/libqopensslbackend.so",
        "PySide6/Qt/plugins/egldeviceintegrations/libqeglfs-kms-integration.so",
        "PySide6/Qt/lib/libQt6Qml.so.6",
        "PySide6/Qt/lib/libQt6Pdf.so.6",
        "PySide6/Qt/lib/libQt6OpenGL.so.6",
        "PySide6/opengl32sw.dll",
    ],
)
def test_dropped(dest: str):
    assert not bundle_filter.keep_binary(dest, "linux")


def test_linux_system_libraries_come_from_the_system_only_on_linux():
    assert not bundle_filter.keep_binary("libstdc++.so.6", "linux")
    assert bundle_filter.keep_binary("libstdc++.so.6", "darwin")
    assert "libstdc++6" in bundle_filter.debian_depends()


def test_translations_are_dropped_other_data_kept():
    assert not bundle_filter.keep_data("PySide6/Qt/translations/qtbase_de.qm", "linux")
    assert not bundle_filter.keep_data("PySide6/translations/qt_fr.qm", "win32")
    assert bundle_filter.keep_data("deskgrid/chain/artifacts/Hub.json", "linux")
    assert bundle_filter.keep_data("deskgrid/resources/icons/deskgrid.svg", "linux")
