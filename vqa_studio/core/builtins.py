"""What ships with the app, registered exactly as a plugin registers (``register(registry)``).

Every implementation is a ``"module:attr"`` string: registering imports nothing (no torch).
"""
from __future__ import annotations

_F = "vqa_studio.core.formats"
_ACQ = "vqa_studio.core.uncertainty.acquisition"
_ENC = "vqa_studio.core.model.encoders"

#: the acquisition functions, in the order menus list them
ACQUISITION_NAMES = ("entropy", "least_confidence", "margin", "bald", "variation_ratio", "vote_entropy", "mean_kl")


def register(registry) -> None:
    _media(registry)
    _formats(registry)
    for name in ACQUISITION_NAMES:
        registry.add_acquisition(name, f"{_ACQ}:{name}")
    _encoders(registry)


def _media(registry) -> None:
    """The two built-in media: their files (``data.media.IMAGE_EXTS`` / ``CLOUD_EXTS``) are checked,
    their networks trained and scored, by the core itself (no targets here)."""
    registry.add_medium("image", description="images")
    registry.add_medium("cloud", description="3D point clouds")


def _formats(registry) -> None:
    registry.add_format(
        "vqa_v2", f"{_F}.vqa_v2:read", f"{_F}.vqa_v2:write", "VQA v2 questions and annotations JSON",
        label="VQA v2 (questions + annotations JSON)", copies_media=True,
        import_fields=("questions", "annotations", "images", "image_pattern", "split"))
    registry.add_format(
        "clevr", f"{_F}.clevr:read", f"{_F}.clevr:write", "CLEVR questions JSON",
        label="CLEVR (questions JSON)", copies_media=True, import_fields=("questions", "images", "split"))
    registry.add_format(
        "csv", f"{_F}.csv_format:read", f"{_F}.csv_format:write", "CSV: image, question, answer, split",
        label="CSV (image, question, answer)", import_fields=("input", "images", "split"))
    registry.add_format(
        "folder", f"{_F}.folder:read", f"{_F}.folder:write", "a folder of images / point clouds (no questions)",
        label="Folder of images or point clouds (no questions)", export_source="items",
        import_fields=("images", "split"))
    for name, label in (("kitti", "KITTI object labels (label_2/*.txt) + point clouds"),
                        ("datumaro", "Datumaro 3D (cuboid_3d) JSON + point clouds"),
                        ("labelcloud", "labelCloud centroid JSON + point clouds")):
        registry.add_format(
            name, f"{_F}.cuboid_io:import_{name}", f"{_F}.cuboid_io:export_{name}",
            f"3D cuboids: {label}", label=f"Cuboids: {label}", carries="cuboids",
            copies_media=True, import_fields=("input", "images", "split"))


def _has_transformers() -> bool:
    import importlib.util

    return importlib.util.find_spec("transformers") is not None


def _encoders(registry) -> None:
    registry.add_media_encoder("cnn_grid", f"{_ENC}:cnn_grid", modality="image",
                               description="small CNN, a grid of region features")
    registry.add_media_encoder("mobilenet_grid", f"{_ENC}:mobilenet_grid", modality="image",
                               description="MobileNet-style CNN (for slow machines)")
    registry.add_media_encoder("pointnet", f"{_ENC}:pointnet", modality="cloud",
                               description="PointNet++-style set abstraction over the point cloud")
    registry.add_media_encoder(
        "hf", "vqa_studio.core.model.pretrained:pretrained_encoder", modality="image",
        description="a pretrained Hugging Face vision backbone, hf:<folder or hub id> (ResNet, ConvNeXt, ViT, "
                    "DINOv2, CLIP, SigLIP); frozen with cached features, or --unfreeze N blocks",
        available=_has_transformers, error="needs the transformers package",
        install='pip install "vqa-studio[pretrained]"')
    for name, text in (("gru", "GRU"), ("transformer", "small Transformer"), ("conv", "1D convolutions")):
        registry.add_question_encoder(name, f"{_ENC}:{name}", description=text)
    registry.add_model_kind("image", "image", "cnn_grid", "image_encoder", "questions about images")
    registry.add_model_kind("cloud", "cloud", "pointnet", "cloud_encoder", "questions about point clouds")
