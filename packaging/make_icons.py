"""Render the app icon (the SVG the window uses, ``vqa_studio.qt.style``) into the files installers
need: ``vqa-studio.svg``, ``vqa-studio.png`` (256 px), ``vqa-studio.ico`` (Windows) and
``vqa-studio.icns`` (macOS).

    python packaging/make_icons.py OUT_FOLDER
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(out: Path) -> int:
    from PySide6.QtCore import QByteArray, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from vqa_studio.qt.style import _ICONS

    app = QGuiApplication.instance() or QGuiApplication([])
    out.mkdir(parents=True, exist_ok=True)
    svg = _ICONS["app"]
    (out / "vqa-studio.svg").write_text(svg, encoding="utf-8")
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    image = QImage(256, 256, QImage.Format_ARGB32)
    image.fill(Qt.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    for name, fmt in (("vqa-studio.png", "PNG"), ("vqa-studio.ico", "ICO"), ("vqa-studio.icns", "ICNS")):
        if not image.save(str(out / name), fmt):
            print(f"make_icons: Qt could not write {name} ({fmt})", file=sys.stderr)
            return 1
    del app
    print(f"icons written to {out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    raise SystemExit(main(Path(sys.argv[1])))
