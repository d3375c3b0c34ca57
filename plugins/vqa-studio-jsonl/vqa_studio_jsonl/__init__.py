"""Example VQA Studio plugin. Importing this module is cheap: the format lives in ``.format``, the
acquisition function in ``.acquisition``; each is imported the first time it is used."""


def register(registry) -> None:
    registry.add_format(
        "jsonl",
        reader="vqa_studio_jsonl.format:read",
        writer="vqa_studio_jsonl.format:write",
        description="JSON Lines: {image, question, answer, split} per line",
        label="JSON Lines (image, question, answer, split)",
    )
    registry.add_acquisition("prob_variance", "vqa_studio_jsonl.acquisition:prob_variance")
