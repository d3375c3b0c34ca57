#!/usr/bin/env bash
# Put "dist/VQA Studio.app" (build.spec's BUNDLE on macOS) into a compressed disk image with an
# Applications link:   packaging/macos/make-dmg.sh VERSION   ->  dist/vqa-studio-VERSION-macos-ARCH.dmg
set -euo pipefail
VERSION=${1:?version}
APP="dist/VQA Studio.app"
[ -d "$APP" ] || { echo "no $APP (build it with pyinstaller build.spec on macOS)" >&2; exit 1; }
STAGE=$(mktemp -d)
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
DMG="dist/vqa-studio-$VERSION-macos-$(uname -m).dmg"
rm -f "$DMG"
hdiutil create -volname "VQA Studio $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG"
rm -rf "$STAGE"
du -sh "$APP" "$DMG"
