"""A whole pretrained VQA model as the proposer: ViLT (``transformers.ViltForQuestionAnswering``).

``vilt:<folder or hub id>`` names a ViLT VQA checkpoint (``save_pretrained`` output with its
tokenizer, e.g. ``dandelin/vilt-b32-finetuned-vqa``), loaded from a local folder or the user's
Hugging Face cache with ``local_files_only``: nothing is downloaded.

* **Answers**: the checkpoint's ``config.id2label`` answers go through ``normalize_answer``;
  labels that normalise to the same answer ("Yes" / "yes", "two" / "2") are merged into one class
  whose logit is the logsumexp of theirs, so its softmax probability is the sum of theirs.
  :attr:`ViltProposer.answers` lists the normalised answers, one per class.
* **MC-dropout on the head**: the published checkpoint has dropout 0; dropout ``p`` is applied to
  the classifier's input and to the input of its last Linear layer. :meth:`ViltProposer.sample`
  runs the transformer ONCE per batch and samples only the head, T masks at once: probabilities
  ``[N, C, T]`` (the shape every acquisition function takes). :meth:`ViltProposer.predict` is the
  deterministic (eval) answer.
* **New answers**: :meth:`ViltProposer.add_answers` grows the classifier's last Linear layer by
  rows; the old rows (weights and biases) are kept exactly. Fine-tuning (``vilt_train.finetune``)
  adds the answers it meets that the model does not know.
* **Images** are float tensors ``[N, 3, H, W]`` in 0..1 (what the media loader gives), a list of
  ``[3, H, W]`` tensors, or image file paths. They are resized and normalised here in torch, as
  ViLT's image processor does (shorter side to ``size.shortest_edge``, the longer at most 1333/800
  of it, both rounded down to ``size_divisor``; mean / std from the folder's
  ``preprocessor_config.json``): no PIL image processor runs.
* **Checkpoints**: :meth:`ViltProposer.state` keeps only what can change (the head's tensors that
  differ from the source model, the answers added, dropout p, the fine-tuned layers) as plain tensors,
  lists and numbers (``torch.save`` / ``weights_only`` safe); :meth:`ViltProposer.from_state`
  checks the source model is the same one (config and weights fingerprints) before applying it.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..data.vocab import normalize_answer
from ..errors import BadInputError, CheckpointError
from .pretrained import INSTALL_HINT, transformers_status

PREFIX = "vilt:"
DEFAULT_DROPOUT = 0.2
STATE_FORMAT = "vqa-studio/vilt-head"
STATE_VERSION = 1
#: ViLT's image processor: the longer side is at most 1333/800 of the shorter one
_MAX_LONGER_RATIO = 1333 / 800
_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt")
#: config keys that say nothing about the model (who saved it, how outputs are returned)
_VOLATILE_CONFIG_KEYS = frozenset({
    "_name_or_path", "transformers_version", "torch_dtype", "dtype", "_commit_hash", "architectures",
    "_attn_implementation", "_attn_implementation_autoset", "output_attentions", "output_hidden_states",
    "return_dict", "use_cache", "chunk_size_feed_forward",
})


def is_vilt(name: str) -> bool:
    return isinstance(name, str) and name.startswith(PREFIX)


def source_of(name: str) -> str:
    """``vilt:<source>`` -> ``<source>`` (a folder or a hub id)."""
    if not is_vilt(name) or not name[len(PREFIX):].strip():
        raise BadInputError(None, f"a ViLT model is named vilt:<folder or hub id>, not {name!r}")
    return name[len(PREFIX):].strip()


# --- loading ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_transformers():
    """transformers' logging at error level, its progress bars off and warnings ignored (restored)."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _resolve_folder(source: str) -> Path:
    """The local folder of ``source``: the folder itself, or a hub id's snapshot in the user's cache."""
    path = Path(source).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise BadInputError(source, "is a file; a ViLT model is a folder (config.json, weights, tokenizer)")
    try:
        from huggingface_hub import snapshot_download

        with _quiet_transformers():
            return Path(snapshot_download(repo_id=source, local_files_only=True))
    except Exception as exc:  # noqa: BLE001 - not a valid id, not cached, ...: all mean "not here"
        raise BadInputError(source, "no such folder, and not a Hugging Face hub id in the local cache "
                            f"({type(exc).__name__}); download it once with `hf download {source}` "
                            "or give the folder it was saved to") from None


def _load_parts(source: str, folder: Path):
    """(model, tokenizer) from the folder, with clear errors when it is not a ViLT VQA model."""
    from transformers import AutoConfig, AutoTokenizer, ViltForQuestionAnswering

    if not (folder / "config.json").is_file():
        raise BadInputError(source, "not a Hugging Face model folder (no config.json in it)")
    with _quiet_transformers():
        try:
            config = AutoConfig.from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise BadInputError(source, f"cannot read its config.json ({exc})") from None
        if getattr(config, "model_type", None) != "vilt":
            raise BadInputError(source, f"a {getattr(config, 'model_type', '?')!r} model, not a ViLT VQA model")
        try:
            model, info = ViltForQuestionAnswering.from_pretrained(folder, local_files_only=True,
                                                                   output_loading_info=True)
        except (OSError, ValueError, RuntimeError) as exc:
            raise BadInputError(source, f"cannot load the model weights ({exc})") from None
        missing = sorted(k for k in info.get("missing_keys", ()) if k.startswith("classifier"))
        if missing:
            raise BadInputError(source, "a ViLT model without a VQA answer classifier (its weights lack "
                                f"{', '.join(missing)}); use a checkpoint fine-tuned on VQA")
        if not any((folder / name).is_file() for name in _TOKENIZER_FILES):
            # transformers 5 would make an empty tokenizer that maps every word to [UNK]
            raise BadInputError(source, f"no tokenizer in the folder (none of {', '.join(_TOKENIZER_FILES)}); "
                                "save it next to the model with tokenizer.save_pretrained")
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError, TypeError) as exc:
            raise BadInputError(source, f"no usable tokenizer in the folder ({exc})") from None
    if len(tokenizer) > int(config.vocab_size):
        raise BadInputError(source, f"its tokenizer has {len(tokenizer)} tokens, the model embeds only "
                            f"{config.vocab_size}: not the tokenizer of this model")
    return model, tokenizer


@dataclass(frozen=True)
class ImageSpec:
    """How ViLT wants its pixels: ViltImageProcessor's settings, read from preprocessor_config.json."""

    shortest_edge: int = 384
    size_divisor: int = 32
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    resize: bool = True
    normalise: bool = True

    @classmethod
    def from_folder(cls, folder: Path) -> ImageSpec:
        path = folder / "preprocessor_config.json"
        if not path.is_file():
            return cls()
        try:
            cfg = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BadInputError(path, f"cannot read the image settings ({exc})") from None
        size = cfg.get("size", cls.shortest_edge)
        edge = size.get("shortest_edge", cls.shortest_edge) if isinstance(size, dict) else size
        mean, std = cfg.get("image_mean", cls.mean), cfg.get("image_std", cls.std)
        if isinstance(mean, (int, float)):
            mean = (mean,) * 3
        if isinstance(std, (int, float)):
            std = (std,) * 3
        if not (isinstance(edge, int) and edge > 0 and len(mean) == 3 and len(std) == 3):
            raise BadInputError(path, f"unexpected image settings (size {size!r}, mean {mean!r}, std {std!r})")
        return cls(int(edge), int(cfg.get("size_divisor") or 1), tuple(float(m) for m in mean),
                   tuple(float(s) for s in std), bool(cfg.get("do_resize", True)),
                   bool(cfg.get("do_normalize", True)))

    def target_size(self, height: int, width: int) -> tuple[int, int]:
        """ViltImageProcessor's output size for an image of this size."""
        if not self.resize:
            h, w = height, width
        else:
            shorter, longer = self.shortest_edge, int(_MAX_LONGER_RATIO * self.shortest_edge)
            h, w = (shorter, width * shorter / height) if height < width else (height * shorter / width, shorter)
            if max(h, w) > longer:
                scale = longer / max(h, w)
                h, w = h * scale, w * scale
            h, w = int(h + 0.5), int(w + 0.5)
        d = max(1, self.size_divisor)
        return max(d, h // d * d), max(d, w // d * d)


def load_vilt(source: str | Path, *, dropout: float = DEFAULT_DROPOUT) -> ViltProposer:
    """The ViLT VQA model at ``source`` (a folder, or a hub id in the user's cache), ready to propose.

    BadInputError (naming ``source``) when transformers is missing, when the folder or files are
    missing, or when it is not a ViLT model with a VQA answer classifier."""
    source = str(source)
    ok, why = transformers_status()
    if not ok:
        raise BadInputError(source, f"cannot load the ViLT model: {why or 'install ' + INSTALL_HINT}")
    folder = _resolve_folder(source)
    model, tokenizer = _load_parts(source, folder)
    return ViltProposer(model, tokenizer, ImageSpec.from_folder(folder), source=source, dropout=dropout)


def _config_hash(config) -> str:
    data = {k: v for k, v in config.to_dict().items() if k not in _VOLATILE_CONFIG_KEYS}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _weights_hash(model: nn.Module) -> str:
    """A fingerprint of the checkpoint's weights: the patch projection, the pooler and the classifier."""
    h = hashlib.sha256()
    tensors = [model.vilt.embeddings.patch_embeddings.projection.weight, *model.classifier.state_dict().values()]
    pooler = getattr(model.vilt, "pooler", None)
    if pooler is not None:
        tensors.append(pooler.dense.weight)
    for t in tensors:
        h.update(t.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return h.hexdigest()[:20]


# --- answers and images -------------------------------------------------------------------------------


def merge_labels(labels: Sequence[str]) -> tuple[list[str], list[int]]:
    """(normalised answers in first-seen order, the answer index of each label)."""
    answers: list[str] = []
    index: dict[str, int] = {}
    group = []
    for label in labels:
        answer = normalize_answer(str(label))
        if answer not in index:
            index[answer] = len(answers)
            answers.append(answer)
        group.append(index[answer])
    return answers, group


def _merge_logits(logits: torch.Tensor, group: torch.Tensor | None, n: int) -> torch.Tensor:
    """Label logits [..., R] -> answer logits [..., n]: logsumexp over the labels of each answer."""
    if group is None:
        return logits
    top = logits.detach().amax(-1, keepdim=True)
    summed = torch.zeros(*logits.shape[:-1], n, dtype=logits.dtype, device=logits.device)
    summed = summed.index_add(-1, group, (logits - top).exp())
    return summed.clamp_min(torch.finfo(logits.dtype).tiny).log() + top


def _image_tensor(image: Any, where: str) -> torch.Tensor:
    """One image as float [3, H, W] in 0..1 (a path is read with the project's media loader)."""
    if isinstance(image, (str, Path)):
        from ..data.media import load_image

        return torch.from_numpy(np.ascontiguousarray(load_image(image))).permute(2, 0, 1).float() / 255.0
    if not isinstance(image, torch.Tensor) or image.dim() != 3 or image.shape[0] != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"{where}: expected an image [3, H, W] in 0..1 or a file path, got {shape}")
    return image.float() / 255.0 if image.dtype == torch.uint8 else image.float()


def prepare_images(images: Any, spec: ImageSpec, device: torch.device | str = "cpu"
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """(pixel_values [N, 3, H, W], pixel_mask [N, H, W]): resized, normalised, padded to the largest."""
    if isinstance(images, torch.Tensor):
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images [N, 3, H, W] in 0..1, got {tuple(images.shape)}")
        x = images.to(device)
        x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
        return _resize_normalise(x, spec), torch.ones(x.shape[0], *_out_size(x, spec), dtype=torch.long,
                                                      device=x.device)
    parts = [_resize_normalise(_image_tensor(im, f"images[{i}]").to(device)[None], spec)[0]
             for i, im in enumerate(images)]
    if not parts:
        raise ValueError("no images")
    h, w = max(p.shape[1] for p in parts), max(p.shape[2] for p in parts)
    pixels = parts[0].new_zeros(len(parts), 3, h, w)
    mask = torch.zeros(len(parts), h, w, dtype=torch.long, device=pixels.device)
    for i, p in enumerate(parts):
        pixels[i, :, :p.shape[1], :p.shape[2]] = p
        mask[i, :p.shape[1], :p.shape[2]] = 1
    return pixels, mask


def _out_size(x: torch.Tensor, spec: ImageSpec) -> tuple[int, int]:
    return spec.target_size(int(x.shape[-2]), int(x.shape[-1]))


def _resize_normalise(x: torch.Tensor, spec: ImageSpec) -> torch.Tensor:
    h, w = _out_size(x, spec)
    if (h, w) != tuple(x.shape[-2:]):
        down = h < x.shape[-2] or w < x.shape[-1]
        x = F.interpolate(x, size=(h, w), mode="bicubic", align_corners=False, antialias=down).clamp_(0.0, 1.0)
    if spec.normalise:
        mean = torch.tensor(spec.mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(spec.std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        x = (x - mean) / std
    return x


def _take(images: Any, idx: Sequence[int] | slice) -> Any:
    if isinstance(images, torch.Tensor):
        return images[idx] if isinstance(idx, slice) else images[torch.as_tensor(list(idx), dtype=torch.long)]
    return images[idx] if isinstance(idx, slice) else [images[i] for i in idx]


# --- the proposer -------------------------------------------------------------------------------------


class ViltProposer:
    """A ViLT VQA model with MC-dropout on its answer head, answers in the project's normal form."""

    def __init__(self, model: nn.Module, tokenizer: Any, spec: ImageSpec, *, source: str,
                 dropout: float = DEFAULT_DROPOUT):
        if not isinstance(getattr(model, "classifier", None), nn.Sequential) or \
                not isinstance(model.classifier[-1], nn.Linear):
            raise BadInputError(source, "its answer classifier is not a sequence of layers ending in a Linear one")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), not {dropout}")
        self.model = model.eval().requires_grad_(False)
        self.tokenizer = tokenizer
        self.spec = spec
        self.source = source
        self.dropout = float(dropout)
        self.config_hash = _config_hash(model.config)
        self.weights_hash = _weights_hash(model)
        self.max_text_len = int(getattr(model.config, "max_position_embeddings", 40))
        labels = _labels(source, model)
        self._answers, group = merge_labels(labels)
        self._group = group
        self.added: list[str] = []  # answers added after loading, in order (one row each)
        self.trained_layers = 0  # how many of the last transformer layers fine-tuning has changed
        self._pristine = {k: v.detach().clone() for k, v in model.classifier.state_dict().items()}
        self._sync_answers()

    # answers ----------------------------------------------------------------------------------------

    def _sync_answers(self) -> None:
        self._index = {a: i for i, a in enumerate(self._answers)}
        identity = self._group == list(range(len(self._group)))
        self._group_t = None if identity else torch.tensor(self._group, dtype=torch.long, device=self.device)

    @property
    def answers(self) -> list[str]:
        """The normalised answers, one per class (the C of ``[N, C, T]``)."""
        return list(self._answers)

    @property
    def n_merged(self) -> int:
        """How many of the checkpoint's labels were merged into another one's answer."""
        return len(self._group) - len(set(self._group))

    def index(self, answer: str) -> int | None:
        """The class of an answer (normalised first), None when the model does not know it."""
        return self._index.get(normalize_answer(answer))

    @property
    def classifier(self) -> nn.Sequential:
        return self.model.classifier

    def add_answers(self, new_answers: Sequence[str], *, seed: int | None = 0) -> list[str]:
        """Give each answer the model does not know (after normalisation) a new row of the last
        Linear layer. Old rows keep their weights and biases exactly; a new row starts as the mean of
        the old rows plus small noise (an average, improbable answer until fine-tuned). Returns the
        normalised answers added, in order."""
        fresh: list[str] = []
        for a in new_answers:
            answer = normalize_answer(str(a))
            if answer and answer not in self._index and answer not in fresh:
                fresh.append(answer)
        if not fresh:
            return []
        old = self.classifier[-1]
        new = nn.Linear(old.in_features, old.out_features + len(fresh), bias=old.bias is not None,
                        device=old.weight.device, dtype=old.weight.dtype)
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        with torch.no_grad():
            w = old.weight
            noise = torch.randn(len(fresh), w.shape[1], generator=gen) * (0.01 * float(w.std()) + 1e-6)
            new.weight[:old.out_features] = w
            new.weight[old.out_features:] = w.mean(0, keepdim=True) + noise.to(w)
            if old.bias is not None:
                new.bias[:old.out_features] = old.bias
                new.bias[old.out_features:] = old.bias.mean()
        new.requires_grad_(old.weight.requires_grad)
        self.classifier[-1] = new
        for answer in fresh:
            self._group.append(len(self._answers))
            self._answers.append(answer)
        self.added.extend(fresh)
        self._sync_answers()
        return fresh

    # running ----------------------------------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def to(self, device: torch.device | str) -> ViltProposer:
        self.model.to(device)
        self._sync_answers()
        return self

    def tokens(self, questions: Sequence[str]) -> dict[str, torch.Tensor]:
        enc = self.tokenizer([str(q) for q in questions], padding=True, truncation=True,
                             max_length=self.max_text_len, return_tensors="pt")
        return {k: v.to(self.device) for k, v in enc.items()
                if k in ("input_ids", "attention_mask", "token_type_ids")}

    def pooled(self, images: Any, questions: Sequence[str]) -> torch.Tensor:
        """The transformer's pooled output [N, hidden] (what the answer head reads): one run.

        ViLT draws a random order of its patch tokens (``torch.multinomial`` on the CPU); it is drawn
        here from a fixed seed on a forked generator, so the same inputs give the same output and the
        caller's random state is not touched."""
        if len(images) != len(questions):
            raise ValueError(f"{len(images)} images for {len(questions)} questions")
        pixels, mask = prepare_images(images, self.spec, self.device)
        tokens = self.tokens(questions)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return self.model.vilt(pixel_values=pixels, pixel_mask=mask, **tokens).pooler_output

    def head(self, pooled: torch.Tensor, drop: Callable[[torch.Tensor], torch.Tensor] | None = None
             ) -> torch.Tensor:
        """Answer logits [..., C] from pooled features [..., hidden]; ``drop`` is applied to the
        head's input and to its last layer's input (None: no dropout)."""
        layers = list(self.classifier)
        h = pooled if drop is None else drop(pooled)
        for layer in layers[:-1]:
            h = layer(h)
        logits = layers[-1](h if drop is None else drop(h))
        return _merge_logits(logits, self._group_t, len(self._answers))

    def _chunks(self, images: Any, questions: Sequence[str], batch_size: int
                ) -> Iterator[tuple[int, torch.Tensor]]:
        """(end, pooled) per batch, in eval and inference mode (the backbone runs once per batch)."""
        if len(images) != len(questions):
            raise ValueError(f"{len(images)} images for {len(questions)} questions")
        n = len(questions)
        for start in range(0, n, max(1, int(batch_size))):
            end = min(n, start + max(1, int(batch_size)))
            self.model.eval()
            with torch.inference_mode():
                pooled = self.pooled(_take(images, slice(start, end)), list(questions[start:end]))
            yield end, pooled

    def probabilities(self, images: Any, questions: Sequence[str], *, batch_size: int = 32,
                      progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Deterministic (no dropout) answer probabilities [N, C], float32."""
        out = []
        for end, pooled in self._chunks(images, questions, batch_size):
            with torch.inference_mode():
                out.append(torch.softmax(self.head(pooled).float(), -1).cpu())
            if progress is not None:
                progress(end)
        return torch.cat(out).numpy() if out else np.zeros((0, len(self._answers)), np.float32)

    def predict(self, images: Any, questions: Sequence[str], *, batch_size: int = 32
                ) -> list[tuple[str, float]]:
        """(top answer, its probability) per question, eval mode."""
        probs = self.probabilities(images, questions, batch_size=batch_size)
        top = probs.argmax(-1) if len(probs) else np.zeros(0, np.int64)
        return [(self._answers[int(k)], float(probs[i, k])) for i, k in enumerate(top)]

    def sample(self, images: Any, questions: Sequence[str], T: int, *, batch_size: int = 32,
               seed: int | None = None, progress: Callable[[int], None] | None = None) -> np.ndarray:
        """MC-dropout probabilities [N, C, T] (float32): per batch the transformer runs once and the
        head T times (T dropout masks at once, drawn from their own generator: ``seed`` repeats them)."""
        if T < 1:
            raise ValueError(f"T must be at least 1, not {T}")
        gen = torch.Generator(device=self.device)
        if seed is None:
            gen.seed()
        else:
            gen.manual_seed(int(seed))
        p = self.dropout

        def drop(x: torch.Tensor) -> torch.Tensor:
            if p == 0.0:
                return x
            keep = torch.full_like(x, 1.0 - p)
            return x * torch.bernoulli(keep, generator=gen) / (1.0 - p)

        out = []
        for end, pooled in self._chunks(images, questions, batch_size):
            with torch.inference_mode():
                logits = self.head(pooled.unsqueeze(0).expand(T, -1, -1), drop)  # [T, B, C]
                out.append(torch.softmax(logits.float(), -1).permute(1, 2, 0).cpu())
            if progress is not None:
                progress(end)
        return torch.cat(out).numpy() if out else np.zeros((0, len(self._answers), T), np.float32)

    # fine-tuning scope ------------------------------------------------------------------------------

    def layers(self) -> nn.ModuleList:
        """The transformer's layers (the last N are what ``unfreeze=N`` fine-tunes)."""
        return self.model.vilt.encoder.layer

    def trainable(self, unfreeze: int = 0) -> list[nn.Module]:
        """The modules fine-tuning trains: the head, and with ``unfreeze=N`` the last N transformer
        layers with the final norm and the pooler after them."""
        n = int(unfreeze)
        if not 0 <= n <= len(self.layers()):
            raise ValueError(f"unfreeze must be between 0 and {len(self.layers())}, not {unfreeze}")
        mods: list[nn.Module] = [self.classifier]
        if n:
            mods += [*list(self.layers())[-n:], self.model.vilt.layernorm]
            if getattr(self.model.vilt, "pooler", None) is not None:
                mods.append(self.model.vilt.pooler)
        return mods

    def finetune(self, images: Any, questions: Sequence[str], answers: Sequence[str], *, steps: int,
                 lr: float = 1e-3, **options: Any):
        """A Progress generator that fine-tunes this model: see :func:`.vilt_train.finetune`."""
        from .vilt_train import finetune

        return finetune(self, images, questions, answers, steps=steps, lr=lr, **options)

    # checkpoints ------------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What changed from the source model, as plain data for ``torch.save`` (weights_only safe)."""
        head = {f"classifier.{k}": v.detach().cpu().clone() for k, v in self.classifier.state_dict().items()
                if k not in self._pristine or v.shape != self._pristine[k].shape
                or not torch.equal(v.detach().cpu(), self._pristine[k].cpu())}
        tensors = dict(head)
        for mod in self.trainable(self.trained_layers)[1:]:
            prefix = _module_name(self.model, mod)
            tensors.update({f"{prefix}.{k}": v.detach().cpu().clone() for k, v in mod.state_dict().items()})
        return {"format": STATE_FORMAT, "version": STATE_VERSION, "source": self.source,
                "config_hash": self.config_hash, "weights_hash": self.weights_hash,
                "answers_added": list(self.added), "dropout": self.dropout,
                "trained_layers": int(self.trained_layers), "tensors": tensors}

    @classmethod
    def from_state(cls, source: str | Path | None, state: dict[str, Any]) -> ViltProposer:
        """The source model (``None``: the one the state names) with the state applied.
        CheckpointError when the state is not a ViLT head or was made from another model."""
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise CheckpointError("not a fine-tuned ViLT head (no vqa-studio ViLT state in it)")
        if int(state.get("version", 0)) > STATE_VERSION:
            raise CheckpointError(f"a ViLT head saved by a newer VQA Studio (version {state.get('version')})")
        source = str(source if source is not None else state["source"])
        proposer = load_vilt(source, dropout=float(state["dropout"]))
        proposer._check_same_source(source, state)
        proposer.add_answers(list(state["answers_added"]))
        params = dict(proposer.model.state_dict())
        with torch.no_grad():
            for name, value in state["tensors"].items():
                if name not in params or params[name].shape != value.shape:
                    have = tuple(params[name].shape) if name in params else "none"
                    raise CheckpointError(f"the saved ViLT head does not fit {source}: {name} is "
                                          f"{tuple(value.shape)} there, {have} here")
                params[name].copy_(value.to(params[name]))
        proposer.trained_layers = int(state.get("trained_layers", 0))
        return proposer

    def _check_same_source(self, source: str, state: dict[str, Any]) -> None:
        if state.get("config_hash") != self.config_hash:
            raise CheckpointError(f"the saved ViLT head was fine-tuned from another model than {source} "
                                  f"(saved from {state.get('source')!r}; the configurations differ)")
        if state.get("weights_hash") != self.weights_hash:
            raise CheckpointError(f"the saved ViLT head was fine-tuned from other weights than those in {source} "
                                  f"(saved from {state.get('source')!r}: same configuration, other weights)")


def _labels(source: str, model: nn.Module) -> list[str]:
    """The checkpoint's answer labels, one per classifier row (``config.id2label``)."""
    id2label = getattr(model.config, "id2label", None) or {}
    rows = model.classifier[-1].out_features
    labels = [id2label.get(i, id2label.get(str(i))) for i in range(rows)]
    if any(label is None for label in labels) or all(str(label) == f"LABEL_{i}" for i, label in enumerate(labels)):
        raise BadInputError(source, f"its config.json does not name the answers of its {rows} classifier rows "
                            "(config.id2label)")
    return [str(label) for label in labels]


def _module_name(root: nn.Module, module: nn.Module) -> str:
    for name, mod in root.named_modules():
        if mod is module:
            return name
    raise ValueError("module not found in the model")
