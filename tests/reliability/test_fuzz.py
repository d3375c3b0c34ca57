"""Fuzzing every kind of input (tests/reliability/fuzz.py): 1,040 generated cases over VQA v2 JSON,
CSV, PNG, JPEG, PLY, PCD, LAS and model checkpoints; each exits 0 or 2 (never 1) within 30 s, and a
refused import leaves the database as it was. It found a hang: a damaged LAS header declaring
billions of variable-length records kept laspy busy for hours (now refused from the header)."""
from __future__ import annotations

import pytest

from tests.reliability import fuzz
from vqa_studio.core.data import media
from vqa_studio.core.errors import BadInputError

pytestmark = pytest.mark.slow

N_CASES = 1040


def test_fuzzed_inputs_are_imported_or_refused_cleanly(tmp_path):
    result = fuzz.run(N_CASES, tmp_path, seed=7)
    print(fuzz.summary(result))
    assert result.cases == N_CASES and set(result.by_kind) == set(fuzz.KINDS)
    assert result.bugs == [] and result.slow == [] and result.changed == []
    assert result.exit_codes.get(2, 0) > N_CASES // 4  # the mutations do break files


def test_a_las_header_declaring_billions_of_records(tmp_path):
    seed = fuzz.seeds(tmp_path / "seeds")["las"]
    data = bytearray(seed)
    data[100:104] = (4_000_000_000).to_bytes(4, "little")  # number of variable-length records
    path = tmp_path / "damaged.las"
    path.write_bytes(bytes(data))
    with pytest.raises(BadInputError, match="damaged LAS header"):
        media.probe(path)
    data = bytearray(seed)
    data[107:111] = (3_000_000_000).to_bytes(4, "little")  # number of points
    path.write_bytes(bytes(data))
    with pytest.raises(BadInputError, match="more than the file"):
        media.probe(path)
    assert media.probe(tmp_path / "seeds" / "seed.las").n_points == 40
