#!/usr/bin/env bash
# Make a compressed disk image with DeskGrid.app and a link to /Applications (macOS only):
#   bash installer/macos/make_dmg.sh build/installer/dist/DeskGrid.app build/installer/DeskGrid-0.1.0.dmg
# installer/build.sh calls it on macOS after PyInstaller. Signing and notarization are separate
# steps (see docs/install.md); DESKGRID_CODESIGN_IDENTITY at build time signs the bundle.
# The app's icon is already in DeskGrid.app: PyInstaller makes its .icns from the 512 px PNG
# that installer/render_icons.py renders from resources/icons/deskgrid.svg.
set -euo pipefail
app=${1:?the path of DeskGrid.app}
dmg=${2:?the path of the .dmg to write}
[ -d "$app" ] || { echo "make_dmg: $app is not a folder"; exit 1; }
command -v hdiutil >/dev/null || { echo "make_dmg: hdiutil is macOS only"; exit 1; }

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
rm -f "$dmg"
hdiutil create -volname "DeskGrid" -srcfolder "$staging" -fs HFS+ -format UDZO \
    -imagekey zlib-level=9 -ov "$dmg" >/dev/null
hdiutil verify "$dmg" >/dev/null
echo "disk image: $dmg ($(du -h "$dmg" | cut -f1))"
