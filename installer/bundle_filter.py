"""What the bundle keeps: the spec filters PyInstaller's collected binaries and data through
these, so unused Qt plugins, libraries and translations stay out of the folder, and on Linux
the system libraries every desktop has come from the system instead (the .deb depends on them).

Paths are the bundle-relative destinations PyInstaller gives (`PySide6/Qt/plugins/...` on
Linux and macOS, `PySide6/plugins/...` on Windows), compared with forward slashes.
"""

from __future__ import annotations

import sys

# Plugin folders the app needs, and within them the plugins to keep (None: all of them).
KEPT_PLUGINS: dict[str, tuple[str, ...] | None] = {
    "platforms": ("qxcb", "qwayland", "qoffscreen", "qminimal", "qwindows", "qcocoa"),
    "platformthemes": ("qxdgdesktopportal",),
    "platforminputcontexts": None,
    "xcbglintegrations": None,
    "wayland-shell-integration": None,
    "wayland-decoration-client": None,
    "imageformats": ("qsvg", "qico", "qgif", "qjpeg"),
    "iconengines": None,
    "styles": None,
}

# Qt libraries no kept plugin or module needs (some plugins drag them in).
DROPPED_LIBRARIES = (
    "Qt6Qml",
    "Qt6Quick",
    "Qt6Pdf",
    "Qt6VirtualKeyboard",
    "Qt6OpenGL",
    "Qt6Multimedia",
    "Qt6WebEngine",
    "Qt6Designer",
    "opengl32sw",
)

# Linux: shared libraries taken from the system, with the Debian package that provides each.
# All are on any desktop; the .deb lists the packages in Depends.
LINUX_SYSTEM_LIBRARIES: dict[str, str] = {
    "libcrypto.so.3": "libssl3",
    "libssl.so.3": "libssl3",
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
    "libsqlite3.so.0": "libsqlite3-0",
    "libX11.so.6": "libx11-6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgcrypt.so.20": "libgcrypt20",
    "libgpg-error.so.0": "libgpg-error0",
    "libsystemd.so.0": "libsystemd0",
    "libkrb5.so.3": "libgssapi-krb5-2",
    "libgssapi_krb5.so.2": "libgssapi-krb5-2",
    "libk5crypto.so.3": "libgssapi-krb5-2",
    "libkrb5support.so.0": "libgssapi-krb5-2",
    "libfreetype.so.6": "libfreetype6",
    "libfontconfig.so.1": "libfontconfig1",
    "libzstd.so.1": "libzstd1",
    "libpcre2-8.so.0": "libpcre2-8-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libpng16.so.16": "libpng16-16",
    "libexpat.so.1": "libexpat1",
    "liblzma.so.5": "liblzma5",
    "libz.so.1": "zlib1g",
    "libbz2.so.1.0": "libbz2-1.0",
    "libffi.so.8": "libffi8",
}


def _parts(dest: str) -> list[str]:
    return dest.replace("\\", "/").split("/")


def _plugin(dest: str) -> tuple[str, str] | None:
    """(folder, plugin name) for a Qt plugin path, None for anything else."""
    parts = _parts(dest)
    if parts[0] != "PySide6" or "plugins" not in parts:
        return None
    i = parts.index("plugins")
    if len(parts) < i + 3:
        return None
    return parts[i + 1], parts[-1].split(".")[0].removeprefix("lib")


def keep_binary(dest: str, platform: str = sys.platform) -> bool:
    """Keep everything but unused Qt plugins and libraries, and Linux system libraries."""
    plugin = _plugin(dest)
    if plugin is not None:
        folder, name = plugin
        if folder not in KEPT_PLUGINS:
            return False
        wanted = KEPT_PLUGINS[folder]
        return wanted is None or name in wanted
    name = _parts(dest)[-1]
    if any(lib in name for lib in DROPPED_LIBRARIES):
        return False
    return not (platform.startswith("linux") and name in LINUX_SYSTEM_LIBRARIES)


def keep_data(dest: str, platform: str = sys.platform) -> bool:
    """Keep everything but Qt's translations (the app is in English) and unused QML."""
    parts = _parts(dest)
    if parts[0] != "PySide6":
        return True
    return not ({"translations", "qml"} & set(parts)) and keep_binary(dest, platform)


def debian_depends() -> list[str]:
    """The Debian packages for the system libraries the Linux bundle leaves out."""
    return sorted(set(LINUX_SYSTEM_LIBRARIES.values()))
