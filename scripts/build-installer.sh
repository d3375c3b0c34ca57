#!/usr/bin/env bash
# Build the Linux installers: the one-folder app (PyInstaller, build.spec), a .tar.gz of it and a .deb.
#
#     scripts/build-installer.sh            # everything, into dist/
#     scripts/build-installer.sh --no-deb   # the folder and the .tar.gz only
#
# Output (dist/ is gitignored):
#   dist/VQA Studio/                                   the one-folder app (run dist/VQA\ Studio/vqa-studio)
#   dist/vqa-studio-VERSION-linux-ARCH.tar.gz           that folder, packed
#   dist/vqa-studio_VERSION_ARCH.deb                    installs it under /opt/vqa-studio, `vqa-studio` in
#                                                       /usr/bin, a .desktop entry and the icon
# What it needs is installed here: PyInstaller into the Python environment ($VQA_BUILD_VENV, default
# .venv; created with the app's dependencies when missing) and, when run as root, the apt packages
# (binutils for PyInstaller, dpkg-dev for dpkg-deb). It then checks the folder app starts
# (`--version`, `info --imports`: torch starts, every optional module it bundles imports) and prints
# the sizes. Install and test the .deb with scripts/smoke-installed.sh.
# Windows and macOS installers are built by .github/workflows/installers.yml.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD_DEB=1
for arg in "$@"; do
  case $arg in
    --no-deb) BUILD_DEB=0 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "build-installer.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
VENV=${VQA_BUILD_VENV:-$ROOT/.venv}
DIST=$ROOT/dist
WORK=$ROOT/build
APP_DIR="$DIST/VQA Studio"
step() { printf '\n== %s\n' "$*"; }

step "system packages"
need_apt=()
command -v objdump >/dev/null || need_apt+=(binutils)
[ "$BUILD_DEB" = 1 ] && ! command -v dpkg-deb >/dev/null && need_apt+=(dpkg-dev)
command -v python3 >/dev/null || need_apt+=(python3 python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    echo "missing: ${need_apt[*]} (run as root, or: sudo apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
fi
echo "ok"

step "Python environment: $VENV"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  # the CPU build of torch keeps the bundle small (a CUDA torch adds several GB)
  "$VENV/bin/pip" install -q torch --index-url https://download.pytorch.org/whl/cpu
  "$VENV/bin/pip" install -q -e ".[bundle]"
fi
PY=$VENV/bin/python
"$PY" -c "import vqa_studio" 2>/dev/null || "$VENV/bin/pip" install -q -e . --no-deps
"$PY" -c "import PyInstaller" 2>/dev/null || "$VENV/bin/pip" install -q "$("$PY" - <<'EOF'
import tomllib
print(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["bundle"][0])
EOF
)"
VERSION=$("$PY" -c "import vqa_studio; print(vqa_studio.__version__)")
ARCH=$(dpkg --print-architecture 2>/dev/null || uname -m)
echo "vqa-studio $VERSION, $("$PY" -c 'import PyInstaller; print("PyInstaller", PyInstaller.__version__)'), $ARCH"

step "icons"
"$PY" packaging/make_icons.py "$WORK/icons"

step "one-folder app (PyInstaller; several minutes)"
t0=$(date +%s)
rm -rf "$APP_DIR"
"$PY" -m PyInstaller --noconfirm --log-level WARN --distpath "$DIST" --workpath "$WORK/pyinstaller" build.spec
echo "built in $(( $(date +%s) - t0 )) s"

step "the folder app starts"
"$APP_DIR/vqa-studio" --version
INFO=$(VQA_STUDIO_HOME=$(mktemp -d) "$APP_DIR/vqa-studio" info --imports) || { echo "$INFO"; echo "info --imports failed" >&2; exit 1; }
echo "$INFO"
if grep -q "could not be asked" <<<"$INFO"; then echo "the bundled torch does not start" >&2; exit 1; fi

step "tar.gz"
TARBALL=$DIST/vqa-studio-$VERSION-linux-$(uname -m).tar.gz
GZ=$(command -v pigz || command -v gzip)
tar -C "$DIST" -cf - "VQA Studio" | "$GZ" -6 > "$TARBALL"
echo "$TARBALL"

if [ "$BUILD_DEB" = 1 ]; then
  step "deb"
  STAGE=$WORK/deb/vqa-studio_${VERSION}_$ARCH
  rm -rf "$STAGE"
  mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
           "$STAGE/usr/share/icons/hicolor/256x256/apps" "$STAGE/usr/share/icons/hicolor/scalable/apps"
  cp -al "$APP_DIR" "$STAGE/opt/vqa-studio" 2>/dev/null || cp -a "$APP_DIR" "$STAGE/opt/vqa-studio"
  install -m 755 packaging/linux/vqa-studio.sh "$STAGE/usr/bin/vqa-studio"
  install -m 644 packaging/linux/vqa-studio.desktop "$STAGE/usr/share/applications/vqa-studio.desktop"
  install -m 644 "$WORK/icons/vqa-studio.png" "$STAGE/usr/share/icons/hicolor/256x256/apps/vqa-studio.png"
  install -m 644 "$WORK/icons/vqa-studio.svg" "$STAGE/usr/share/icons/hicolor/scalable/apps/vqa-studio.svg"
  install -m 755 packaging/linux/postinst packaging/linux/postrm "$STAGE/DEBIAN/"
  SIZE_KB=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
  sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@INSTALLED_SIZE@/$SIZE_KB/" \
      packaging/linux/control.in > "$STAGE/DEBIAN/control"
  DEB=$DIST/vqa-studio_${VERSION}_$ARCH.deb
  # gzip: xz would save ~15% for several more minutes of compression
  dpkg-deb --root-owner-group -Zgzip -z6 --build "$STAGE" "$DEB"
  rm -rf "$STAGE"
fi

step "sizes"
mb() { du -s --apparent-size -B1 "$1" | awk '{printf "%.0f MB (%.2f GB)", $1 / 1e6, $1 / 1e9}'; }
echo "folder app  $(mb "$APP_DIR")  $APP_DIR"
echo "tar.gz      $(mb "$TARBALL")  $TARBALL"
[ "$BUILD_DEB" = 1 ] && echo "deb         $(mb "$DEB")  $DEB"
BYTES=$(du -s --apparent-size -B1 "$APP_DIR" | cut -f1)
if [ "$BYTES" -gt 1100000000 ]; then
  echo "the folder app is over the 1.1 GB budget" >&2
  exit 1
fi
echo "done: install and test the .deb with scripts/smoke-installed.sh"
