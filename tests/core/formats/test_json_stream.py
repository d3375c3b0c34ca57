"""The bounded JSON reader: the same elements as parsing the whole file, the same kinds of messages."""
import json

import pytest

from vqa_studio.core.errors import BadInputError
from vqa_studio.core.formats import json_stream


@pytest.fixture(autouse=True)
def small_window(monkeypatch):
    """A window of a few hundred characters, so every test crosses many window edges."""
    monkeypatch.setattr(json_stream, "READ_BYTES", 64)
    monkeypatch.setattr(json_stream, "LOOKAHEAD", 32)


def _write(tmp_path, text, name="a.json"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_elements_and_fields_match_a_whole_parse(tmp_path):
    items = [{"question_id": k, "question": f"What is {k}? \u00e9\u4e2d \"quoted\"", "n": 12345678901234567890 + k,
              "nested": {"a": [1, 2.5, None, True]}} for k in range(300)]
    data = {"info": {"x": "y" * 500}, "data_subtype": "val2014", "questions": items, "after": [1, 2]}
    path = _write(tmp_path, json.dumps(data, indent=1))
    fields = {}
    got = []
    for element in json_stream.stream_list(path, "questions", fields):
        if not got:
            assert fields == {"info": data["info"], "data_subtype": "val2014"}  # known before the first element
        got.append(element)
    assert got == items and fields["after"] == [1, 2]


def test_empty_list_and_missing_list(tmp_path):
    assert list(json_stream.stream_list(_write(tmp_path, '{"questions": [ ]}'), "questions", {})) == []
    with pytest.raises(BadInputError, match="missing field 'questions'"):
        list(json_stream.stream_list(_write(tmp_path, '{"other": 1}'), "questions", {}))
    with pytest.raises(BadInputError, match="should be a list, found dict"):
        list(json_stream.stream_list(_write(tmp_path, '{"questions": {"a": 1}}'), "questions", {}))


@pytest.mark.parametrize("text, message", [
    ("", "the file is empty"),
    ("[1, 2]", "expected a JSON object with a 'questions' list, found a list"),
    ('{"questions": [{"a": 1}, {"a": 2}', "truncated JSON"),
    ('{"questions": [{"a": 1}, {"a": "unterminated', "truncated JSON"),
    ('{"questions": [{"a": 1} {"a": 2}]}', "broken JSON"),
    ('{"questions": [{"a": 1}]} trailing', "broken JSON: extra data"),
    ('{"questions": [{"a": 1}], "x": nope}', "broken JSON"),
])
def test_bad_files_are_named(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(BadInputError, match=message) as info:
        list(json_stream.stream_list(path, "questions", {}))
    assert path.name in str(info.value)


def test_where_it_broke_is_a_line_and_column_of_the_file(tmp_path):
    lines = ['{"questions": ['] + [f'  {{"k": {k}}},' for k in range(200)] + ['  {"k": oops}', "]}"]
    path = _write(tmp_path, "\n".join(lines))
    with pytest.raises(BadInputError, match="broken JSON") as info:
        list(json_stream.stream_list(path, "questions", {}))
    assert "line 202 column 9" in str(info.value)


def test_not_utf8_and_deep_nesting(tmp_path):
    with pytest.raises(BadInputError, match="not UTF-8"):
        list(json_stream.stream_list(_write(tmp_path, b'{"questions": ["\xff\xfe"]}'), "questions", {}))
    deep = '{"questions": [' + "[" * 100_000 + "]" * 100_000 + "]}"
    with pytest.raises(BadInputError, match="nested too deeply"):
        list(json_stream.stream_list(_write(tmp_path, deep, "deep.json"), "questions", {}))
