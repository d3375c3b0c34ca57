"""Example VQA Studio plugin. Importing this module is cheap: the format lives in ``.format``."""


def register(registry) -> None:
    registry.add_format(
        "jsonl",
        reader="vqa_studio_jsonl.format:read",
        writer="vqa_studio_jsonl.format:write",
        description="JSON Lines: {image, question, answer, split} per line",
    )
