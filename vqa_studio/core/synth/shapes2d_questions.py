"""Question templates of the 2D shapes demo data (the families in :mod:`.shapes2d`'s docstring).

:func:`questions` asks ``k`` distinct questions about a scene's objects, each with its one correct
answer, drawing every choice from the scene's :class:`~.shapes2d_vocab._Stream`. The values an
attribute can take and the texts come from the :class:`~.shapes2d_style.Style`; the choices, and so
the random draws, are the same in every style.
"""
from __future__ import annotations

import functools
import math
from typing import Callable, Optional, Sequence

from .shapes2d_style import DEMO, Style
from .shapes2d_vocab import FAMILIES, QA, RELATE_MIN_DX, RELATE_MIN_RATIO, Shape2D, _Stream, _Weights

_SIZE, _COLOR, _SHAPE = 0, 1, 2
_ATTR_NAME = ("size", "color", "shape")

# answer-type and family weights (within a type); tuned so the final mix lands near 38/27/35
_TYPE_WEIGHTS = _Weights(("yes/no", 0.38), ("number", 0.27), ("other", 0.35))
_FAMILY_WEIGHTS = {
    "yes/no": _Weights(("exist", 0.45), ("compare_count", 0.33), ("compare_size", 0.22)),
    "number": _Weights(("count", 1.0)),
    "other": _Weights(("color", 0.26), ("shape", 0.26), ("size", 0.2), ("relate", 0.28)),
}
#: count questions pick the answer first: 0 and 1 (on offer in every scene) get these weights, every
#: other count the scene offers 1, which spreads the answers over 0..6
_COUNT_WEIGHTS = {0: 0.35, 1: 0.6}
_COMPARE_ATTR = _Weights((_SHAPE, 0.45), (_COLOR, 0.35), (_SIZE, 0.2))

_Key = tuple  # (size | None, color | None, shape | None)
_EMPTY: _Key = (None, None, None)


def _noun(style: Style, key: _Key, plural: bool = False) -> str:
    size, color, shape = key
    words = [w for w in (size, color) if w]
    if shape:
        words.append(style.plural(shape) if plural else shape)
    else:
        w = style.wording
        words.append(w.things if plural else w.thing)
    return " ".join(words)


def _a(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


class _Facts:
    """What the question templates need to know about a scene, computed once."""

    def __init__(self, objects: Sequence[Shape2D], side: int, style: Style = DEMO) -> None:
        self.objects = objects
        self.side = side
        self.style = style
        counts: dict[_Key, int] = {}
        keys = []
        for o in objects:
            z, c, h = o.size, o.color, o.shape
            ks = ((None, None, None), (z, None, None), (None, c, None), (z, c, None),
                  (None, None, h), (z, None, h), (None, c, h), (z, c, h))
            keys.append(ks)
            for k in ks:
                counts[k] = counts.get(k, 0) + 1
        self.counts = counts
        self.present = [k for k in counts if k != _EMPTY]  # insertion order: deterministic
        #: per object: the non-empty descriptions that match it alone
        self.unique = [[k for k in ks[1:] if counts[k] == 1] for ks in keys]
        self._referable: dict[Optional[int], list[tuple[int, list[_Key]]]] = {}
        self._values: dict[int, list[str]] = {}

    def count(self, key: _Key) -> int:
        return self.counts.get(key, 0)

    def values(self, attr: int) -> list[str]:
        """The values attribute ``attr`` takes in the scene, in order of first appearance."""
        got = self._values.get(attr)
        if got is None:
            got = self._values[attr] = list(dict.fromkeys(getattr(o, _ATTR_NAME[attr]) for o in self.objects))
        return got

    def referable(self, attr: Optional[int] = None) -> list[tuple[int, list[_Key]]]:
        """``(object index, descriptions)`` for every object some description names alone, leaving out
        descriptions that mention attribute ``attr`` (None: keep all)."""
        got = self._referable.get(attr)
        if got is None:
            got = []
            for i, keys in enumerate(self.unique):
                if attr is not None:
                    keys = [k for k in keys if k[attr] is None]
                if keys:
                    got.append((i, keys))
            self._referable[attr] = got
        return got

    @functools.cached_property
    def count_table(self) -> tuple[_Weights, dict[int, list[_Key]]]:
        """Count questions: a choice table over the counts the scene offers (and 0), the keys per count."""
        by_count: dict[int, list[_Key]] = {}
        for k, c in self.counts.items():
            by_count.setdefault(c, []).append(k)
        by_count[0] = []  # stands for "a description nothing matches"
        table = _Weights(*[(c, _COUNT_WEIGHTS.get(c, 1.0)) for c in sorted(by_count)])
        return table, by_count

    def absent_key(self, s: _Stream) -> Optional[_Key]:
        """A description no object matches: mostly near misses (one attribute of a present one changed)."""
        for _ in range(16):
            if self.present and s.u() < 0.6:
                base = list(s.pick(self.present))
                attr = s.pick([a for a in range(3) if base[a] is not None])
                base[attr] = s.pick(self.style.other_values[attr, base[attr]])
                cand = tuple(base)
            else:
                mask = 1 + s.below(7)
                cand = tuple(s.pick(self.style.values[a]) if mask & (1 << a) else None for a in range(3))
            if self.count(cand) == 0:
                return cand
        return None


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _q_exist(f: _Facts, s: _Stream, want: bool) -> Optional[QA]:
    key = s.pick(f.present) if want else f.absent_key(s)
    if key is None:
        return None
    one, many = f.style.wording.exist
    if s.u() < 0.5:
        text = one.format(a=_a(_noun(f.style, key)))
    else:
        text = many.format(a=_noun(f.style, key, plural=True))
    return QA(text, _yes(f.count(key) > 0), "yes/no", "exist")


def _q_compare_count(f: _Facts, s: _Stream, want: bool) -> Optional[QA]:
    for _ in range(16):
        attr = s.weighted(_COMPARE_ATTR)
        present = f.values(attr)
        a = s.pick(present)
        if len(present) > 1 and s.u() < 0.6:
            b = s.pick([v for v in present if v != a])
        else:
            b = s.pick(f.style.other_values[attr, a])
        if s.u() < 0.5:
            a, b = b, a
        ka = tuple(a if i == attr else None for i in range(3))
        kb = tuple(b if i == attr else None for i in range(3))
        ca, cb = f.count(ka), f.count(kb)
        tmpl = s.below(3)
        answer = (ca > cb, ca < cb, ca == cb)[tmpl]
        if answer != want:
            continue
        pa, pb = _noun(f.style, ka, plural=True), _noun(f.style, kb, plural=True)
        text = f.style.wording.compare_count[tmpl].format(a=pa, b=pb)
        return QA(text, _yes(answer), "yes/no", "compare_count")
    return None


def _q_compare_size(f: _Facts, s: _Stream, want: bool) -> Optional[QA]:
    cands = f.referable(_SIZE)
    if len(cands) < 2:
        return None
    for _ in range(12):
        (i, keys_i), (j, keys_j) = s.sample(cands, 2)
        si, sj = f.objects[i].size, f.objects[j].size
        tmpl = s.below(3)
        answer = (si == "large" and sj == "small", si == "small" and sj == "large", si == sj)[tmpl]
        if answer != want:
            continue
        na, nb = _noun(f.style, s.pick(keys_i)), _noun(f.style, s.pick(keys_j))
        text = f.style.wording.compare_size[tmpl].format(a=na, b=nb)
        return QA(text, _yes(answer), "yes/no", "compare_size")
    return None


def _q_count(f: _Facts, s: _Stream, want: bool) -> Optional[QA]:
    table, by_count = f.count_table
    target = s.weighted(table)
    key = s.pick(by_count[target]) if target else f.absent_key(s)
    if key is None:
        return None
    w = f.style.wording
    text = w.count_all if key == _EMPTY else w.count.format(a=_noun(f.style, key, plural=True))
    return QA(text, str(f.count(key)), "number", "count")


def _q_attribute(attr: int) -> Callable[[_Facts, _Stream, bool], Optional[QA]]:
    word = _ATTR_NAME[attr]

    def make(f: _Facts, s: _Stream, want: bool) -> Optional[QA]:
        cands = f.referable(attr)
        if not cands:
            return None
        i, keys = s.pick(cands)
        o = f.objects[i]
        text = f.style.wording.attribute[attr].format(ref=_noun(f.style, s.pick(keys)))
        return QA(text, (o.size, o.color, o.shape)[attr], "other", word)

    return make


def _neighbour(objects: Sequence[Shape2D], i: int, side: str, min_dx: float) -> Optional[Shape2D]:
    """The unambiguous nearest object on ``side`` of object ``i`` (see the module docstring), or None."""
    ref = objects[i]
    others = [o for j, o in enumerate(objects) if j != i]
    if any(abs(o.x - ref.x) < min_dx for o in others):
        return None
    there = [o for o in others if (o.x < ref.x if side == "left" else o.x > ref.x)]
    if not there:
        return None
    ranked = sorted(there, key=lambda o: (o.x - ref.x) ** 2 + (o.y - ref.y) ** 2)
    if len(ranked) > 1:
        d1 = math.hypot(ranked[0].x - ref.x, ranked[0].y - ref.y)
        d2 = math.hypot(ranked[1].x - ref.x, ranked[1].y - ref.y)
        if d2 < RELATE_MIN_RATIO * d1:
            return None
    return ranked[0]


def _q_relate(f: _Facts, s: _Stream, want: bool) -> Optional[QA]:
    cands = f.referable(None)
    if len(f.objects) < 2 or not cands:
        return None
    min_dx = RELATE_MIN_DX * f.side
    for _ in range(8):
        i, keys = s.pick(cands)
        side = "left" if s.u() < 0.5 else "right"
        other = _neighbour(f.objects, i, side, min_dx)
        if other is None:
            continue
        attr = _SHAPE if s.u() < 0.5 else _COLOR
        w = f.style.wording
        text = (w.relate_shape if attr == _SHAPE else w.relate_color).format(side=side, ref=_noun(f.style, s.pick(keys)))
        return QA(text, (other.size, other.color, other.shape)[attr], "other", "relate")
    return None


_MAKERS: dict[str, Callable[[_Facts, _Stream, bool], Optional[QA]]] = {
    "exist": _q_exist,
    "compare_count": _q_compare_count,
    "compare_size": _q_compare_size,
    "count": _q_count,
    "color": _q_attribute(_COLOR),
    "shape": _q_attribute(_SHAPE),
    "size": _q_attribute(_SIZE),
    "relate": _q_relate,
}


def questions(objects: Sequence[Shape2D], side: int, s: _Stream, k: int, style: Style = DEMO) -> tuple[QA, ...]:
    """``k`` distinct questions about ``objects`` (an image of ``side`` px), worded in ``style``."""
    facts = _Facts(objects, side, style)
    out: list[QA] = []
    seen: set[str] = set()  # membership only, never iterated
    attempts = 0
    while len(out) < k:
        attempts += 1
        if attempts > 50 * k + 50:
            raise RuntimeError(f"cannot ask {k} different questions about a scene of {len(objects)} objects")
        atype = s.weighted(_TYPE_WEIGHTS)
        want = s.u() < 0.5
        first = s.weighted(_FAMILY_WEIGHTS[atype])
        qa = _MAKERS[first](facts, s, want)
        if qa is None or qa.question in seen:  # fall back on the type's other families, in random order
            rest = [fam for fam in FAMILIES[atype] if fam != first]
            for fam in s.sample(rest, len(rest)):
                qa = _MAKERS[fam](facts, s, want)
                if qa is not None and qa.question not in seen:
                    break
            else:
                continue
        seen.add(qa.question)
        out.append(qa)
    return tuple(out)
