#!/usr/bin/env bash
# Build the DeskGrid installers:
#   bash installer/build.sh
# makes a virtual environment (build/installer/venv) with deskgrid and PyInstaller, renders
# the icons, builds the one-folder bundle (build/installer/dist/deskgrid, with DeskGrid.app
# on macOS) and then, by platform: a .deb on Linux (build/installer/deskgrid_VERSION_ARCH.deb),
# a .dmg on macOS (build/installer/DeskGrid-VERSION.dmg). On Windows, run it from Git Bash,
# then compile installer/windows/deskgrid.iss with Inno Setup (see docs/install.md).
# Environment: PYTHON (interpreter for the venv, default python3; 3.11 or newer),
# DESKGRID_BUILD_DIR (output folder, default build/installer), DESKGRID_NO_PACKAGE=1 (bundle
# only).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${DESKGRID_BUILD_DIR:-$ROOT/build/installer}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

case "$(uname -s)" in
    MINGW* | MSYS* | CYGWIN*) BIN=Scripts ;;
    *) BIN=bin ;;
esac
# Paths as the (native) Python sees them: C:/... under Git Bash on Windows.
native() { cygpath -m "$1" 2>/dev/null || echo "$1"; }
VENV=$OUT/venv
started=$(date +%s)
if [ ! -x "$VENV/$BIN/python" ] && [ ! -x "$VENV/$BIN/python.exe" ]; then
    echo "== virtual environment ($VENV)"
    "$PYTHON" -m venv "$VENV"
    "$VENV/$BIN/python" -m pip install -q --upgrade pip
fi
PY="$VENV/$BIN/python"

echo "== deskgrid and PyInstaller"
# Not editable: the bundle takes the package's files as a wheel installs them.
"$PY" -m pip install -q "$(native "$ROOT")[installer]"
"$PY" -m pip install -q --no-deps --force-reinstall "$(native "$ROOT")"
VERSION=$("$PY" -c "import deskgrid; print(deskgrid.__version__)")

echo "== icons"
"$PY" "$(native "$ROOT/installer/render_icons.py")" "$(native "$OUT/icons")" >/dev/null

echo "== bundle (PyInstaller)"
DESKGRID_ICON_DIR="$(native "$OUT/icons")" DESKGRID_VERSION="$VERSION" "$PY" -m PyInstaller \
    --noconfirm --clean --log-level WARN \
    --distpath "$(native "$OUT/dist")" --workpath "$(native "$OUT/work")" \
    "$(native "$ROOT/installer/deskgrid.spec")"
echo "bundle: $OUT/dist/deskgrid ($(du -sh "$OUT/dist/deskgrid" | cut -f1))"

if [ "${DESKGRID_NO_PACKAGE:-}" != "1" ]; then
    case "$(uname -s)" in
        Linux)
            echo "== .deb"
            deb=$("$PY" "$ROOT/installer/make_deb.py" --bundle "$OUT/dist/deskgrid" \
                --icons "$OUT/icons" --version "$VERSION" --out "$OUT")
            echo "package: $deb ($(du -sh "$deb" | cut -f1))"
            ;;
        Darwin)
            echo "== .dmg"
            bash "$ROOT/installer/macos/make_dmg.sh" "$OUT/dist/DeskGrid.app" \
                "$OUT/DeskGrid-$VERSION.dmg"
            ;;
        *)
            echo "Windows: compile installer/windows/deskgrid.iss with Inno Setup:"
            echo "  iscc /DAppVersion=$VERSION \"/DBundleDir=$(native "$OUT/dist/deskgrid")\" installer/windows/deskgrid.iss"
            ;;
    esac
fi
echo "done in $(($(date +%s) - started)) s"
