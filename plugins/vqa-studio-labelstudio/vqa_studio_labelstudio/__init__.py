"""VQA Studio plugin: a Label Studio exporter (``vqa-studio export --format labelstudio``, File >
Export). Importing it is cheap: the writer lives in ``.export`` and is imported when first used."""


def register(registry) -> None:
    registry.add_format(
        "labelstudio", writer="vqa_studio_labelstudio.export:write",
        description="Label Studio tasks JSON (image, question, answer, the model's proposal) + labeling config",
        label="Label Studio tasks (JSON) + labeling config (XML)",
        export_source="project", copies_media=True)
