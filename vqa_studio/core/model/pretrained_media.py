"""Media for models with a pretrained image encoder: a frozen backbone's features instead of pixels.

With ``hf:<source>`` frozen (the default), what the network reads of an image is the backbone's
pooled features, which never change: :class:`PretrainedMedia` computes them once per item (in
batches, as images are decoded) and keeps them on disk in the project's ``cache/features/<encoder
key>/`` keyed by the item's content hash, so retraining and re-scoring never run the backbone again
for an item it has seen. Batches then carry features ``[U, K, D_h]`` where they carried images, and
the encoder's trainable projection runs on them. Point clouds are loaded as :class:`MediaTensors`
loads them.

:func:`media_for` picks the right media for a media-encoder configuration; every training, scoring
and evaluation path asks it (or :func:`media_for_bundle`) instead of building ``MediaTensors``.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import torch

from ..data.dataset import MediaTensors, Snapshot, _image_array
from ..errors import BadInputError
from ..types import ItemKind

PRETRAINED = "hf"  # the media-encoder name of hf:<source> in a ModelConfig (source in its options)
_CHUNK = 64


class PretrainedMedia(MediaTensors):
    """Images as frozen backbone features (float16 ``[K, D_h]`` per item); clouds as usual."""

    def __init__(self, snapshot: Snapshot, extractor, cloud_points: int = 1024, cache_dir: Path | None = None,
                 feature_dir: Path | None = None):
        from .pretrained import FeatureCache

        super().__init__(snapshot, extractor.image_size, cloud_points, cache_dir)
        self.extractor = extractor
        self.features = FeatureCache(feature_dir, extractor.key) if feature_dir is not None else None
        self.backbone_runs = 0  # images the backbone was run on (the rest came from the cache)

    def _sha(self, item_id: int) -> str:
        return self.snapshot.shas.get(item_id) or hashlib.sha256(self.snapshot.uris[item_id].encode()).hexdigest()

    def load(self, item_ids: Iterable[int], workers: int = 4) -> Iterator[tuple[int, int]]:
        todo = [i for i in dict.fromkeys(item_ids) if i not in self._rows and i not in self.errors]
        images = [i for i in todo if self.snapshot.kinds[i] is ItemKind.IMAGE]
        others = [i for i in todo if self.snapshot.kinds[i] is not ItemKind.IMAGE]
        total = len(todo)
        done = 0
        for done, _ in super().load(others, workers):
            yield done, total
        for start in range(0, len(images), _CHUNK):
            chunk = images[start:start + _CHUNK]
            self._add_features(chunk)
            done = len(others) + start + len(chunk)
            yield done, total

    def _add_features(self, item_ids: Sequence[int]) -> None:
        cached = {i: self.features.get(self._sha(i)) if self.features is not None else None for i in item_ids}
        missing = [i for i in item_ids if cached[i] is None]
        pixels: dict[int, np.ndarray] = {}
        for i in missing:
            try:
                pixels[i] = _image_array(self.snapshot.media_path(i), self.image_size)
            except BadInputError as exc:
                self.errors[i] = exc
        if pixels:
            ids = list(pixels)
            batch = torch.from_numpy(np.stack([pixels[i] for i in ids])).float().div_(255.0)
            with torch.no_grad():
                feats = self.extractor.backbone_features(batch).to("cpu", torch.float16).numpy()
            self.backbone_runs += len(ids)
            for i, f in zip(ids, feats):
                cached[i] = f
                if self.features is not None:
                    self.features.put(self._sha(i), f)
        for i in item_ids:
            if i in self.errors:
                continue
            self._rows[i] = len(self._data[ItemKind.IMAGE])
            self._data[ItemKind.IMAGE].append(np.asarray(cached[i], dtype=np.float16))
        self._stacked.pop(ItemKind.IMAGE, None)

    def batch(self, item_ids: Sequence[int]) -> torch.Tensor:
        if self.snapshot.kinds[item_ids[0]] is not ItemKind.IMAGE:
            return super().batch(item_ids)
        rows = torch.as_tensor([self._rows[i] for i in item_ids], dtype=torch.long)
        return self.tensor(ItemKind.IMAGE).index_select(0, rows).float()


def feature_extractor(options: dict[str, Any]):
    """The backbone side of an ``hf`` encoder with these options (shared weights, no training)."""
    from .pretrained import PretrainedRegions

    opts = {k: v for k, v in options.items() if k in ("source", "grid")}
    return PretrainedRegions(8, 0.0, **opts).eval()


def media_for(snapshot: Snapshot, image_encoder: str, image_options: dict[str, Any], *, image_size: int = 64,
              cloud_points: int = 1024, cache: Path | None = None) -> MediaTensors:
    """The media a model with this image encoder reads: features of a frozen pretrained backbone
    (kept in ``cache/features``), pixels at the backbone's input size when it is fine-tuned, or
    pixels at ``image_size``. ``cache`` is the project's cache folder (None: nothing kept on disk)."""
    media_dir = cache / "media" if cache is not None else None
    if image_encoder != PRETRAINED:
        return MediaTensors(snapshot, image_size, cloud_points, media_dir)
    extractor = feature_extractor(image_options)
    if int(image_options.get("unfreeze", 0)) > 0:
        return MediaTensors(snapshot, extractor.image_size, cloud_points, media_dir)
    return PretrainedMedia(snapshot, extractor, cloud_points, media_dir,
                           cache / "features" if cache is not None else None)


def media_for_bundle(bundle, snapshot: Snapshot, cache: Path | None = None) -> MediaTensors:
    """:func:`media_for` with the image encoder of a trained model (``ModelBundle``)."""
    image = bundle.nets.get(ItemKind.IMAGE)
    config = image.config if image is not None else {}
    return media_for(snapshot, config.get("media_encoder", ""), dict(config.get("media_options") or {}),
                     image_size=getattr(bundle, "image_size", 64), cloud_points=getattr(bundle, "cloud_points", 1024),
                     cache=cache)  # a ViLT model reads its images from their files: these are not used
