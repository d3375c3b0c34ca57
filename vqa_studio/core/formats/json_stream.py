"""A bounded reader of big JSON files shaped ``{..., "<key>": [element, element, ...], ...}``.

VQA v2's annotation files hold millions of small objects: parsed whole, the Python objects take
several times the file's size (a 330 MB train2014 annotations file: about 4 GB). :func:`stream_list`
parses one element at a time (the standard library's C scanner, ``JSONDecoder.raw_decode``) from a
window of the file, so memory holds the window and the element being read, whatever the file's size.
The other top-level fields are parsed whole (they are small: info, license, data_subtype...) and
returned as they are met.

Problems are ``BadInputError`` with the messages of :func:`~vqa_studio.core.formats.base.load_json`:
"truncated JSON (the file ends before the data is complete)" or "broken JSON: <what>" at a line and
column of the file, "not UTF-8 text", "JSON nested too deeply", "a value JSON cannot hold here".
"""
from __future__ import annotations

import codecs
import json
import re
from pathlib import Path
from typing import Any, Iterator

from ..errors import BadInputError

#: bytes read at a time; the window is refilled when less than ``LOOKAHEAD`` characters are left,
#: so a number or a short value is never parsed cut short at the window's end
READ_BYTES = 4 << 20
LOOKAHEAD = 1 << 20
_WS = re.compile(r"[ \t\n\r]*")
_ELEMENT_DECODER = json.JSONDecoder()


class _Window:
    """The part of the file being parsed: ``text[pos:]``, with the count of lines already dropped."""

    def __init__(self, path: Path):
        self.path = path
        self.fh = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text, self.pos, self.eof = "", 0, False
        self.dropped_lines, self.dropped_chars, self.bytes_read = 0, 0, 0

    def close(self) -> None:
        self.fh.close()

    def fill(self, at_least: int = LOOKAHEAD) -> None:
        """Read until ``at_least`` characters are ahead of ``pos`` (or the file ends); drop what lies behind."""
        if self.pos > READ_BYTES:
            gone = self.text[: self.pos]
            self.dropped_lines += gone.count("\n")
            self.dropped_chars += len(gone)
            self.text, self.pos = self.text[self.pos:], 0
        parts = [self.text]
        ahead = len(self.text) - self.pos
        while ahead < at_least and not self.eof:
            data = self.fh.read(READ_BYTES)
            self.bytes_read += len(data)
            try:
                chunk = self.decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                raise BadInputError(self.path, f"not UTF-8 text (byte {self.bytes_read - len(data) + exc.start})") from None
            self.eof = not data
            parts.append(chunk)
            ahead += len(chunk)
        self.text = "".join(parts)

    def skip_ws(self) -> str:
        """The next character that is not white space ('' at the end of the file)."""
        while True:
            self.pos = _WS.match(self.text, self.pos).end()
            if self.pos < len(self.text) or self.eof:
                return self.text[self.pos: self.pos + 1]
            self.fill()

    def expect(self, chars: str, context: str) -> str:
        c = self.skip_ws()
        if c == "" or c not in chars:
            self.fail(f"expected {' or '.join(repr(x) for x in chars)} {context}", at_end=c == "")
        self.pos += 1
        return c

    def value(self, decoder: json.JSONDecoder = _ELEMENT_DECODER) -> Any:
        """The JSON value at ``pos`` (read further while it runs past the window)."""
        self.skip_ws()
        need = LOOKAHEAD
        while True:
            if len(self.text) - self.pos < LOOKAHEAD and not self.eof:
                self.fill(need)
            try:
                value, end = decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                if not self.eof:  # perhaps only cut by the window: read more and try again
                    need = 2 * max(need, len(self.text) - self.pos)
                    self.fill(need)
                    continue
                at_end = exc.pos >= len(self.text.rstrip()) or exc.msg.startswith("Unterminated string")
                self.fail(exc.msg, at_end=at_end, pos=exc.pos)
            except RecursionError:
                raise BadInputError(self.path, "JSON nested too deeply to be an annotation file") from None
            except ValueError as exc:  # e.g. an integer of thousands of digits (Python's int limit)
                raise BadInputError(self.path, f"a value JSON cannot hold here ({str(exc)[:80]})") from None
            self.pos = end
            return value

    def fail(self, msg: str, at_end: bool, pos: int | None = None) -> None:
        pos = self.pos if pos is None else pos
        line = self.dropped_lines + self.text.count("\n", 0, pos) + 1
        start = self.text.rfind("\n", 0, pos)
        col = pos - start if start >= 0 else pos + 1 + (self.dropped_chars if line == 1 else 0)
        if at_end:
            raise BadInputError(self.path, f"truncated JSON (the file ends before the data is complete): {msg}",
                                f"line {line} column {col}")
        raise BadInputError(self.path, f"broken JSON: {msg}", f"line {line} column {col}")


def stream_list(path: str | Path, key: str, fields: dict[str, Any]) -> Iterator[Any]:
    """Yield each element of the top-level object's list ``key``; ``fields`` receives the other
    top-level fields as they are met (those before the list are there when the first element comes).

    Raises ``BadInputError`` when the file is not such an object, the list is missing or not a list.
    """
    from ..data.media import check_regular_file
    from .base import MAX_INPUT_BYTES

    path = Path(path)
    check_regular_file(path, MAX_INPUT_BYTES)
    try:
        win = _Window(path)
    except FileNotFoundError:
        raise BadInputError(path, "file not found") from None
    except OSError as exc:
        raise BadInputError(path, f"cannot read the file ({exc.strerror or exc})") from None
    try:
        win.fill()
        first = win.skip_ws()
        if first == "":
            raise BadInputError(path, "the file is empty")
        if first != "{":
            kind = {"[": "list", '"': "str"}.get(first, "value")
            raise BadInputError(path, f"expected a JSON object with a '{key}' list, found a {kind}")
        win.pos += 1
        found = False
        if win.skip_ws() == "}":
            win.pos += 1
        else:
            while True:
                name = win.value()
                if not isinstance(name, str):
                    win.fail("expected a field name", at_end=False)
                win.expect(":", f"after the field name {name!r:.40}")
                if name == key and not found:
                    found = True
                    yield from _elements(win, key)
                else:
                    fields[name] = win.value()
                if win.expect(",}", "between the fields of the top-level object") == "}":
                    break
        if win.skip_ws() != "":
            win.fail("extra data after the JSON object", at_end=False)
        if not found:
            raise BadInputError(path, f"missing field '{key}'", "top level")
    finally:
        win.close()


def _elements(win: _Window, key: str) -> Iterator[Any]:
    c = win.skip_ws()
    if c != "[":
        value = win.value()
        raise BadInputError(win.path, f"field '{key}' should be a list, found {type(value).__name__}", "top level")
    win.pos += 1
    if win.skip_ws() == "]":
        win.pos += 1
        return
    while True:
        yield win.value()
        if win.expect(",]", f"between the elements of '{key}'") == "]":
            return
