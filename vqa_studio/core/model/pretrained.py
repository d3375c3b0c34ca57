"""Pretrained vision backbones from Hugging Face ``transformers`` as media encoders.

``hf:<folder or hub id>`` names a vision backbone loaded through the Auto classes: the ResNet,
ConvNeXt, ViT, DINOv2, CLIP (vision tower) and SigLIP (vision tower) families, from a local folder
(``save_pretrained`` output) or the user's Hugging Face cache. Nothing is downloaded unless the user
allows it: a local folder, or a cached hub id, loads with ``local_files_only``.

The backbone's last feature map (CNNs: ``[C, h, w]``) or patch tokens (transformers: the tokens
after the class / register tokens, ``[h*w, D]``) are average-pooled to at most ``grid x grid``
regions; a trainable projection and learned positions make them the K regions the fusion attends
over, so the attention overlay keeps working (centres are the grid cells' centres).

**Frozen** (the default): the backbone is not part of the module's parameters nor of its
``state_dict`` (a saved VQA model stays small and names the backbone it was built on); the backbone
features of each item can be computed once and kept (:class:`FeatureCache`, on disk, keyed by the
item's content hash and :func:`encoder_key`). The module takes either images ``[U, 3, H, W]`` in
0..1 or those cached features ``[U, K, D_h]``. ``unfreeze=N`` fine-tunes the last N blocks: the
backbone then is a submodule and is saved with the model.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..errors import BadInputError
from .encoders import MediaFeatures, _grid_centres

PREFIX = "hf:"
INSTALL_HINT = 'pip install "vqa-studio[pretrained]"'
FAMILIES = ("resnet", "convnext", "vit", "dinov2", "clip", "siglip")

_IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
_NORMALISE = {
    "clip": ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
    "siglip": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
}


def transformers_status() -> tuple[bool, str]:
    """(available, why not): whether ``transformers`` can be imported here."""
    try:
        import transformers  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any import failure means "not available"
        return False, f"needs the transformers package ({type(exc).__name__}: {exc}); install it with {INSTALL_HINT}"
    return True, ""


def is_pretrained(name: str) -> bool:
    return isinstance(name, str) and name.startswith(PREFIX)


def source_of(name: str) -> str:
    """``hf:<source>`` -> ``<source>`` (a folder or a hub id)."""
    if not is_pretrained(name) or not name[len(PREFIX):].strip():
        raise BadInputError(None, f"a pretrained encoder is named hf:<folder or hub id>, not {name!r}")
    return name[len(PREFIX):].strip()


# --- loading ------------------------------------------------------------------------------------------

_LOADED: dict[str, nn.Module] = {}
_LOCK = threading.Lock()


def load_backbone(source: str) -> nn.Module:
    """The vision model at ``source`` (folder or hub id), in eval mode, shared per process."""
    ok, why = transformers_status()
    if not ok:
        raise BadInputError(source, f"cannot load the pretrained encoder: {why}")
    key = str(Path(source).resolve()) if Path(source).exists() else source
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = _load(source)
        return _LOADED[key]


def _load(source: str) -> nn.Module:
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    local = Path(source).exists()
    if local and not (Path(source) / "config.json").is_file():
        raise BadInputError(source, "not a Hugging Face model folder (no config.json in it)")
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                config = AutoConfig.from_pretrained(source, local_files_only=True)
                model = AutoModel.from_pretrained(source, local_files_only=True)
            except OSError as exc:
                if local or os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0"):
                    raise BadInputError(source, f"cannot load the model: {exc}") from None
                try:  # a hub id that is not in the user's cache: downloading is the user's choice
                    config = AutoConfig.from_pretrained(source)
                    model = AutoModel.from_pretrained(source)
                except Exception as exc2:  # noqa: BLE001
                    raise BadInputError(source, "not a local folder, not in the Hugging Face cache, and it could "
                                        f"not be downloaded ({type(exc2).__name__}: {exc2})") from None
            except ValueError as exc:
                raise BadInputError(source, f"not a model transformers can load ({exc})") from None
    finally:
        hf_logging.set_verbosity(verbosity)
    family = _family(config)
    if family is None:
        raise BadInputError(source, f"a {config.model_type!r} model; supported vision backbones: "
                            f"{', '.join(FAMILIES)}")
    vision = getattr(model, "vision_model", None) if family in ("clip", "siglip") else None
    if vision is not None and hasattr(model, "text_model"):
        model = vision  # a full CLIP / SigLIP model: its vision tower only
    model.eval()
    model.vqa_family = family  # type: ignore[attr-defined]
    model.vqa_source = source  # type: ignore[attr-defined]
    return model


def _family(config) -> str | None:
    kind = str(getattr(config, "model_type", "")).lower()
    for family in FAMILIES:
        if kind == family or kind.startswith(family + "_") or kind == family + "v2":
            return family
    return None


def _vision_config(model: nn.Module):
    config = model.config
    return getattr(config, "vision_config", None) or config


def image_size_of(model: nn.Module) -> int:
    size = getattr(_vision_config(model), "image_size", None)
    if isinstance(size, (list, tuple)):
        size = size[0]
    return int(size) if isinstance(size, int) and size > 0 else 224


def normalisation_of(model: nn.Module) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Mean and std from the folder's ``preprocessor_config.json``, else the family's defaults."""
    source = getattr(model, "vqa_source", "")
    path = Path(source) / "preprocessor_config.json"
    if path.is_file():
        try:
            cfg = json.loads(path.read_text(encoding="utf-8"))
            mean, std = cfg.get("image_mean"), cfg.get("image_std")
            if isinstance(mean, list) and isinstance(std, list) and len(mean) == 3 and len(std) == 3:
                return tuple(float(m) for m in mean), tuple(float(s) for s in std)
        except (OSError, ValueError):
            pass
    return _NORMALISE.get(getattr(model, "vqa_family", ""), _IMAGENET)


def blocks_of(model: nn.Module) -> nn.ModuleList:
    """The backbone's main sequence of blocks (transformer layers, CNN stages): the longest
    top-level ``ModuleList`` named ``layer``/``layers``/``stages``."""
    best: tuple[int, nn.ModuleList] | None = None
    for name, module in model.named_modules():
        if not isinstance(module, nn.ModuleList) or name.rsplit(".", 1)[-1] not in ("layer", "layers", "stages"):
            continue
        depth = name.count(".")
        if best is None or (depth, -len(module)) < (best[0], -len(best[1])):
            best = (depth, module)
    if best is None:
        raise BadInputError(getattr(model, "vqa_source", None), f"cannot find the blocks of {type(model).__name__} to unfreeze")
    return best[1]


def encoder_key(model: nn.Module, grid: int) -> str:
    """What identifies the cached features of this backbone: its config and weights files (names,
    sizes and a hash of their first and last 64 KiB), the input size and the region grid."""
    h = hashlib.sha256()
    h.update(model.config.to_json_string().encode())
    h.update(f"|{image_size_of(model)}|{grid}|{normalisation_of(model)}".encode())
    folder = Path(getattr(model, "vqa_source", ""))
    if folder.is_dir():
        for f in sorted(folder.iterdir()):
            if f.suffix in (".safetensors", ".bin", ".pt", ".pth") and f.is_file():
                h.update(f"{f.name}:{f.stat().st_size}".encode())
                with f.open("rb") as fh:
                    h.update(fh.read(65536))
                    fh.seek(max(0, f.stat().st_size - 65536))
                    h.update(fh.read(65536))
    else:
        h.update(str(getattr(model, "vqa_source", "")).encode())
    return h.hexdigest()[:20]


# --- the encoder module -----------------------------------------------------------------------------------


class PretrainedRegions(nn.Module):
    """A pretrained vision backbone -> MediaFeatures (regions [U, K, out_dim], centres [U, K, 2])."""

    modality = "image"
    centre_dim = 2

    def __init__(self, out_dim: int, dropout: float = 0.0, *, source: str, unfreeze: int = 0, grid: int = 8):
        super().__init__()
        backbone = load_backbone(source)
        self.source = source
        self.unfreeze = int(unfreeze)
        self.out_dim = out_dim
        self.image_size = image_size_of(backbone)
        mean, std = normalisation_of(backbone)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        n_tokens, self.feature_dim = _token_shape(backbone, self.image_size)
        self.grid = min(grid, int(round(n_tokens ** 0.5)))
        self.key = encoder_key(backbone, self.grid)
        if self.unfreeze > 0:
            import copy

            self.backbone = copy.deepcopy(backbone)  # its own copy: trained, and saved with the model
            self.backbone.requires_grad_(False)
            for block in list(blocks_of(self.backbone))[-self.unfreeze:]:
                block.requires_grad_(True)
        else:
            object.__setattr__(self, "_frozen", backbone)  # shared, not a parameter, not saved
        self.norm = nn.LayerNorm(self.feature_dim)
        self.proj = nn.Linear(self.feature_dim, out_dim)
        self.position = nn.Parameter(torch.zeros(self.grid * self.grid, out_dim))
        nn.init.normal_(self.position, std=0.02)
        self.dropout = nn.Dropout(dropout)

    @property
    def frozen(self) -> bool:
        return self.unfreeze <= 0

    def _backbone(self) -> nn.Module:
        return self._frozen if self.frozen else self.backbone

    def _apply(self, fn, recurse: bool = True):  # .to(device) / .half() reach the shared backbone too
        super()._apply(fn, recurse)
        if self.frozen:
            self._frozen._apply(fn)
        return self

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:
            self._frozen.eval()
        return self

    def backbone_features(self, images: torch.Tensor) -> torch.Tensor:
        """Images [U, 3, H, W] in 0..1 -> pooled backbone features [U, grid*grid, D_h]."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images [U, 3, H, W], got {tuple(images.shape)}")
        x = images.float()
        if x.shape[-1] != self.image_size or x.shape[-2] != self.image_size:
            x = F.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False,
                              antialias=x.shape[-1] > self.image_size)
        x = (x - self.mean) / self.std
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            tokens = _run_backbone(self._backbone(), x)
        return _pool(tokens, self.grid)

    def forward(self, media: torch.Tensor) -> MediaFeatures:
        feats = media if media.dim() == 3 else self.backbone_features(media)
        if feats.shape[-1] != self.feature_dim:
            raise ValueError(f"cached features of size {feats.shape[-1]} for a backbone of size {self.feature_dim}")
        regions = self.proj(self.norm(feats.to(self.proj.weight.dtype))) + self.position
        regions = self.dropout(regions)
        centres = _grid_centres(self.grid, regions).expand(feats.shape[0], -1, -1)
        return MediaFeatures(regions, centres)


_SHAPES: "weakref.WeakKeyDictionary[nn.Module, tuple[int, int]]" = weakref.WeakKeyDictionary()


def _token_shape(backbone: nn.Module, image_size: int) -> tuple[int, int]:
    """(tokens on the grid, feature size) of the backbone's output, probed once per backbone."""
    if backbone not in _SHAPES:
        with torch.no_grad():
            probe = _run_backbone(backbone, torch.zeros(1, 3, image_size, image_size))
        _SHAPES[backbone] = (int(probe.shape[1]), int(probe.shape[-1]))
    return _SHAPES[backbone]


def _run_backbone(model: nn.Module, pixels: torch.Tensor) -> torch.Tensor:
    """Tokens [U, N, D] laid out on a square grid (row-major): CNN maps flattened, patch tokens
    without the leading class / register tokens."""
    out = model(pixel_values=pixels)
    hidden = out.last_hidden_state
    if hidden.dim() == 4:  # [U, C, h, w]
        return hidden.flatten(2).transpose(1, 2)
    n = hidden.shape[1]
    side = int(np.floor(np.sqrt(n)))  # the patch grid; what is left in front are class / register tokens
    return hidden[:, n - side * side:]


def _pool(tokens: torch.Tensor, grid: int) -> torch.Tensor:
    u, n, d = tokens.shape
    side = int(round(n ** 0.5))
    if side == grid:
        return tokens
    x = tokens.transpose(1, 2).reshape(u, d, side, side)
    return F.adaptive_avg_pool2d(x, grid).flatten(2).transpose(1, 2)


def pretrained_encoder(out_dim: int, dropout: float = 0.0, **options: Any) -> nn.Module:
    """The media-encoder factory for ``hf:<source>`` (options: source, unfreeze, grid)."""
    if "source" not in options:
        raise BadInputError(None, "a pretrained encoder needs its source (hf:<folder or hub id>)")
    return PretrainedRegions(out_dim, dropout, **options)


# --- the feature cache --------------------------------------------------------------------------------------


class FeatureCache:
    """Backbone features per item on disk: ``<folder>/<encoder key>/<sha[:2]>/<sha>.npy`` (float16),
    written atomically; a second run over the same items never runs the backbone."""

    def __init__(self, folder: str | Path, key: str):
        self.folder = Path(folder) / key
        self.hits = 0
        self.misses = 0

    def _path(self, sha: str) -> Path:
        if not sha or not all(c in "0123456789abcdef" for c in sha.lower()):
            raise ValueError(f"not a content hash: {sha!r}")
        return self.folder / sha[:2] / f"{sha}.npy"

    def get(self, sha: str) -> np.ndarray | None:
        path = self._path(sha)
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None
        self.hits += 1
        return arr

    def put(self, sha: str, features: np.ndarray) -> None:
        path = self._path(sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, np.asarray(features, dtype=np.float16), allow_pickle=False)
        os.replace(tmp, path)

    def features(self, encoder: PretrainedRegions, shas: list[str], load_images, batch_size: int = 32
                 ) -> torch.Tensor:
        """Features [U, K, D_h] of the items with these hashes; ``load_images(indices)`` gives the
        images [n, 3, H, W] of the ones not cached yet (computed in batches, then stored)."""
        found: list[np.ndarray | None] = [self.get(s) for s in shas]
        missing = [i for i, f in enumerate(found) if f is None]
        self.misses += len(missing)
        for start in range(0, len(missing), batch_size):
            chunk = missing[start:start + batch_size]
            with torch.no_grad():
                feats = encoder.backbone_features(load_images(chunk)).to("cpu", torch.float32).numpy()
            for i, f in zip(chunk, feats):
                self.put(shas[i], f)
                found[i] = f.astype(np.float16)
        return torch.from_numpy(np.stack(found).astype(np.float32))


# --- naming an encoder (CLI and train dialog) -----------------------------------------------------------------

#: short names users type for the built-in encoders
ALIASES = {"cnn": "cnn_grid", "mobilenet": "mobilenet_grid"}


def encoder_choice(name: str, weights: str | None = None) -> str:
    """What ``--encoder NAME [--encoder-weights PATH_OR_ID]`` names: a registered image encoder, or
    ``hf:<folder or hub id>``; a usage error (``ValueError``) says what is wrong and what is known."""
    from ..registry import default_registry

    name = ALIASES.get(name.strip(), name.strip())
    if name == PREFIX[:-1]:
        if not weights:
            raise ValueError("--encoder hf needs --encoder-weights FOLDER_OR_HUB_ID (or write hf:<folder or hub id>)")
        name = PREFIX + weights
    elif weights and not is_pretrained(name):
        raise ValueError(f"--encoder-weights is for pretrained encoders (hf:...), not for {name!r}")
    registry = default_registry()
    key = PREFIX[:-1] if is_pretrained(name) else name
    spec = registry.media_encoders.get(key)
    if spec is None or spec.modality != "image":
        known = ", ".join([*registry.media_encoder_names("image"), "hf:<folder or hub id>"])
        raise ValueError(f"unknown image encoder {name!r} (known: {known})")
    if not spec.is_available():
        raise ValueError(f"the {key} encoder is not available here: {spec.error}"
                         + (f"; install it with {spec.install}" if spec.install else ""))
    if is_pretrained(name):
        source_of(name)  # refuses an empty source
    return name
