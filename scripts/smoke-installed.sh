#!/usr/bin/env bash
# Install the .deb and test the installed app as a user would, with the installed files only (no
# venv, no source tree on the paths):
#   1. dpkg -i (apt-get -f install when dependencies are missing), the files where they belong
#   2. vqa-studio --version
#   3. vqa-studio info --imports: frozen build, versions, training device and why, folders, and every
#      optional module the app imports on demand (open3d, laspy, OpenGL, psycopg2...) imports
#   4. a small demo project (demo --no-gui --no-train)
#   5. the window opens on it under a virtual X server (Xvfb; found with xdotool; time to window)
#   6. Model ▸ Train / fine-tune… (Ctrl+T) in that window, Start training (Enter): the job runs in a
#      child process of the frozen app (multiprocessing spawn), finishes and registers a version
#      (checked with `vqa-studio models --project`)
# Exits non-zero on the first failure; prints what it checked.
#
#     scripts/smoke-installed.sh [dist/vqa-studio_VERSION_ARCH.deb]
# Needs root (dpkg -i), Xvfb and xdotool (installed here when missing), imagemagick for a screenshot
# (optional). SMOKE_OUT (default: a temporary folder) keeps the logs and the screenshot.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEB=${1:-$(ls -t "$ROOT"/dist/vqa-studio_*.deb 2>/dev/null | head -1)}
[ -f "${DEB:-}" ] || { echo "no .deb given and none in dist/ (build it with scripts/build-installer.sh)" >&2; exit 2; }
OUT=${SMOKE_OUT:-$(mktemp -d /tmp/vqa-smoke.XXXXXX)}
mkdir -p "$OUT"
HOME_DIR=$OUT/home
rm -rf "$HOME_DIR"; mkdir -p "$HOME_DIR"
PROJECT=$OUT/demo-project
rm -rf "$PROJECT"
XPID=""; GPID=""
cleanup() {
  [ -n "$GPID" ] && kill "$GPID" 2>/dev/null && wait "$GPID" 2>/dev/null
  [ -n "$XPID" ] && kill "$XPID" 2>/dev/null
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pass() { printf 'ok    %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*" >&2; exit 1; }
# the installed app only: a clean environment, the system PATH, a fresh home, run from an empty folder
app() { (cd "$OUT" && env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$HOME_DIR" LANG=C.UTF-8 \
          ${DISPLAY:+DISPLAY=$DISPLAY} vqa-studio "$@"); }

if [ "$(id -u)" = 0 ]; then
  missing=()
  command -v Xvfb >/dev/null || missing+=(xvfb)
  command -v xdotool >/dev/null || missing+=(xdotool)
  if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${missing[@]}"; fi
else
  fail "run as root (dpkg -i)"
fi

echo "== install $DEB"
if ! dpkg -i "$DEB" > "$OUT/dpkg.log" 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get -f install -y -qq >> "$OUT/dpkg.log" 2>&1 || { cat "$OUT/dpkg.log"; fail "dpkg -i"; }
fi
VERSION=$(dpkg-query -W -f='${Version}' vqa-studio)
pass "installed vqa-studio $VERSION ($(dpkg-query -W -f='${Installed-Size}' vqa-studio) KB)"
[ "$(command -v vqa-studio)" = /usr/bin/vqa-studio ] || fail "vqa-studio on the PATH is $(command -v vqa-studio)"
for f in /opt/vqa-studio/vqa-studio /usr/share/applications/vqa-studio.desktop \
         /usr/share/icons/hicolor/256x256/apps/vqa-studio.png; do
  [ -e "$f" ] || fail "missing $f"
done
pass "files: /usr/bin/vqa-studio, /opt/vqa-studio/, the .desktop entry, the icon"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate /usr/share/applications/vqa-studio.desktop || fail ".desktop entry"
fi

echo "== vqa-studio --version"
v=$(app --version) || fail "--version"
echo "$v"
[ "$v" = "vqa-studio $VERSION" ] || fail "--version says '$v', the package is $VERSION"
pass "--version"

echo "== vqa-studio info --imports"
app info --imports | tee "$OUT/info.txt" || fail "info --imports (an optional module does not import in the bundle)"
grep -q "frozen build" "$OUT/info.txt" || fail "info does not say it runs the frozen build"
grep -q "^Executable *  /opt/vqa-studio/vqa-studio" "$OUT/info.txt" || fail "info: not the installed executable"
grep -Eq "^Training device  (cpu|cuda)" "$OUT/info.txt" || fail "info: no training device"
for label in "torch" "Qt \\(PySide6\\)"; do
  grep -Eq "^$label +[0-9]" "$OUT/info.txt" || fail "info: no $label version"
done
for label in "open3d" "Data folder" "Log folder" "import cv2 +ok" "import laspy +ok" "import OpenGL +ok" \
             "import psycopg2 +ok"; do
  grep -Eq "^$label" "$OUT/info.txt" || fail "info: no '$label' line"
done
pass "info: versions, frozen build, device and why, folders; every optional module imports"

echo "== demo project"
app demo --no-gui -q --project "$PROJECT" --scenes 40 --scenes-3d 0 --questions 10 --no-train > "$OUT/demo.log" 2>&1 \
  || { cat "$OUT/demo.log"; fail "demo --no-gui"; }
tail -3 "$OUT/demo.log"
app models --project "$PROJECT" > "$OUT/models-before.txt" 2>&1 || fail "models --project"
before=$(grep -Ec "^[* ] [^ ]" "$OUT/models-before.txt" || true)
pass "demo project ($before model versions)"

echo "== the window opens (Xvfb)"
for n in $(seq 91 99); do [ -e /tmp/.X11-unix/X$n ] || { DISPLAY=:$n; break; }; done
export DISPLAY
Xvfb "$DISPLAY" -screen 0 1600x1000x24 -nolisten tcp > "$OUT/xvfb.log" 2>&1 & XPID=$!
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
t0=$(date +%s%N)
app gui --project "$PROJECT" > "$OUT/gui.log" 2>&1 & GPID=$!
wid=""
for _ in $(seq 600); do
  wid=$(xdotool search --onlyvisible --name "VQA Studio" 2>/dev/null | head -1 || true)
  [ -n "$wid" ] && break
  kill -0 "$GPID" 2>/dev/null || { cat "$OUT/gui.log"; fail "the app ended before showing a window"; }
  sleep 0.1
done
[ -n "$wid" ] || { cat "$OUT/gui.log"; fail "no window titled 'VQA Studio' within 60 s"; }
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
pass "window '$(xdotool getwindowname "$wid")' after $ms ms"
sleep 3  # the project's queue loads in the background

echo "== Model ▸ Train / fine-tune… (Ctrl+T), Start training (Enter)"
xdotool windowactivate --sync "$wid" 2>/dev/null || xdotool windowfocus --sync "$wid"
xdotool key --clearmodifiers ctrl+t
dlg=""
for _ in $(seq 100); do
  dlg=$(xdotool search --onlyvisible --name "Train / fine-tune" 2>/dev/null | head -1 || true)
  [ -n "$dlg" ] && break; sleep 0.1
done
[ -n "$dlg" ] || fail "Ctrl+T opened no 'Train / fine-tune' dialog"
pass "the train dialog opened"
sleep 4  # the device probe (a spawn child of the frozen app) fills "Detected"
command -v import >/dev/null && import -window root "$OUT/train-dialog.png" 2>/dev/null || true
xdotool windowactivate --sync "$dlg" 2>/dev/null || xdotool windowfocus --sync "$dlg"
xdotool key --clearmodifiers Return
t1=$(date +%s)
registered=""
while [ $(( $(date +%s) - t1 )) -lt 600 ]; do
  kill -0 "$GPID" 2>/dev/null || { cat "$OUT/gui.log"; fail "the app ended during training"; }
  if xdotool search --onlyvisible --name "failed|could not" >/dev/null 2>&1; then
    command -v import >/dev/null && import -window root "$OUT/training-failed.png" 2>/dev/null || true
    fail "the app shows '$(xdotool getwindowname "$(xdotool search --onlyvisible --name "failed|could not" | head -1)")' (screenshot: $OUT/training-failed.png)"
  fi
  app models --project "$PROJECT" > "$OUT/models-after.txt" 2>&1 || true
  after=$(grep -Ec "^[* ] [^ ]" "$OUT/models-after.txt" || true)
  if [ "$after" -gt "$before" ]; then registered=1; break; fi
  sleep 3
done
[ -n "$registered" ] || { cat "$OUT/gui.log"; fail "no model version registered within 600 s of Start training"; }
cat "$OUT/models-after.txt"
pass "training from the Model menu registered a version in $(( $(date +%s) - t1 )) s"
sleep 2
command -v import >/dev/null && import -window root "$OUT/after-training.png" 2>/dev/null || true
grep -qi "traceback" "$OUT/gui.log" && { cat "$OUT/gui.log"; fail "the app's output holds a traceback"; }
pass "no traceback in the app's output"

xdotool windowfocus --sync "$wid" 2>/dev/null || true
xdotool key --clearmodifiers ctrl+q 2>/dev/null || true
how="File ▸ Quit (Ctrl+Q)"
for _ in $(seq 150); do kill -0 "$GPID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$GPID" 2>/dev/null; then kill "$GPID"; how="SIGTERM (Ctrl+Q did not close it within 15 s)"; fi
wait "$GPID" 2>/dev/null || true; GPID=""
for _ in $(seq 100); do pgrep -f "^/opt/vqa-studio/vqa-studio" >/dev/null || break; sleep 0.1; done
if pgrep -f "^/opt/vqa-studio/vqa-studio" >/dev/null; then
  pgrep -af "^/opt/vqa-studio/vqa-studio" >&2
  fail "processes of the app are left running 10 s after the window closed"
fi
pass "closed with $how; no process of the app left"
echo "all checks passed (logs and screenshots in $OUT)"
