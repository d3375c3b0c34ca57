"""VQA Studio plugin: stories with questions as a new medium, answered by a small Dynamic Memory
Network. Importing this module is cheap (no torch, no Qt): every part is named as a ``"module:attr"``
string and imported the first time it is used.

* medium ``story``: ``*.story`` files (JSON: sentences and their questions), checked by
  ``story.probe``, trained by ``train.run``, scored by ``score.score_pool``, loaded by
  ``model.from_data``, shown by ``qt.StoryPage`` (each sentence shaded by its attention per episode);
* format ``babi``: imports a folder of ``*.story`` files (``vqa-studio-babi`` generates them).
"""

MEDIUM = "story"
MODEL_KIND = "textqa"


def register(registry) -> None:
    registry.add_medium(
        MEDIUM, extensions=(".story",), probe="vqa_studio_textqa.story:probe", train="vqa_studio_textqa.train:run",
        score="vqa_studio_textqa.score:score_pool", load="vqa_studio_textqa.model:from_data",
        predict="vqa_studio_textqa.score:predict_answers",
        view="vqa_studio_textqa.qt:StoryPage", model_kind=MODEL_KIND,
        description="stories with questions (bAbI-style), answered by a Dynamic Memory Network")
    registry.add_format(
        "babi", reader="vqa_studio_textqa.fmt:read", writer="vqa_studio_textqa.fmt:write",
        description="bAbI-style stories: a folder of *.story files (vqa-studio-babi generates them)",
        label="Stories with questions (bAbI-style *.story files)", import_fields=("input", "split"),
        copies_media=True)
