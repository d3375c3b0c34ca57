#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run them.
#   - Debian/Ubuntu: installs the system libraries (open3d's libusb, Xvfb + Mesa for the OpenGL views,
#     the xcb libraries Qt needs, PostgreSQL for the team-database tests) when run as root or with sudo.
#   - makes .venv with the CPU build of torch 2.13.0 (pinned: an unpinned torch pulls GBs of CUDA)
#     and the package with its test extras, then runs pytest under a virtual X server.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo -n"; fi
  if $SUDO true 2>/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends \
      libusb-1.0-0 xvfb xauth libgl1 libegl1 libgl1-mesa-dri libglx-mesa0 libxkbcommon-x11-0 \
      libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-randr0 libxcb-render-util0 \
      libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libfontconfig1 libdbus-1-3 postgresql >/dev/null
  else
    echo "note: not root and no sudo: skipping the system packages (see scripts/run-tests.sh)" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -e ".[test]"
# the example plugins (tests/test_plugins.py checks that installed plugins are discovered; their own
# tests run from plugins/*/tests, see pyproject.toml's testpaths)
for plugin in plugins/*/; do
  .venv/bin/python -m pip install -q -e "$plugin"
done
# Label Studio's own parser for the labelstudio plugin's tests (that one check is skipped without it).
# label-studio-sdk pins numpy < 2.3 and OpenCV < 4.13, which would replace the versions VQA Studio runs
# on: its other requirements go in, then the package itself without its dependencies.
if .venv/bin/python -m pip install -q --no-deps "label-studio-sdk>=2"; then
  .venv/bin/python -c '
import re
from importlib.metadata import requires
for r in requires("label-studio-sdk") or []:
    name = re.split(r"[ <>=!~;\[(]", r)[0].lower()
    if "extra ==" not in r and name not in ("numpy", "opencv-python-headless", "opencv-python"):
        print(r)' > .venv/label-studio-sdk-requirements.txt
  .venv/bin/python -m pip install -q -r .venv/label-studio-sdk-requirements.txt \
    || echo "note: label-studio-sdk's requirements did not install; its check in the labelstudio tests is skipped" >&2
else
  echo "note: label-studio-sdk is not installable here; its check in the labelstudio plugin's tests is skipped" >&2
fi

# A PostgreSQL server for the team-database tests, when the machine has one installed.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "${VQA_STUDIO_TEST_PG_URL:-}" ] && [ -n "$PG_BIN" ]; then
  PGDIR=$(mktemp -d /tmp/vqa-pg.XXXXXX)
  chmod 755 "$PGDIR"
  RUN_AS=""
  if [ "$(id -u)" = 0 ]; then chown postgres "$PGDIR"; RUN_AS="runuser -u postgres --"; fi
  $RUN_AS "$PG_BIN/initdb" -D "$PGDIR/data" -A trust -U vqa >/dev/null
  $RUN_AS "$PG_BIN/pg_ctl" -D "$PGDIR/data" -o "-p 54329 -k $PGDIR -c listen_addresses=localhost" -l "$PGDIR/log" -w start >/dev/null
  trap '$RUN_AS "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m fast stop >/dev/null 2>&1 || true' EXIT
  export VQA_STUDIO_TEST_PG_URL="postgresql+psycopg2://vqa@localhost:54329/postgres"
fi

if [ "$(uname -s)" = Linux ] && [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null 2>&1; then
  # OpenGL views need a real X server; 2D widget tests set QT_QPA_PLATFORM=offscreen themselves
  xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python -m pytest "$@"
else
  .venv/bin/python -m pytest "$@"
fi
