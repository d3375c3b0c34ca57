"""Training arguments, and the choice of device and numeric precision.

``choose_device("auto")`` takes CUDA when there is a GPU, else the CPU. ``choose_precision``
takes mixed precision only where it is really faster: on CUDA, fp16 autocast with a GradScaler (bf16
autocast, without a scaler, where the GPU supports bf16) on GPUs with tensor cores (compute
capability 7.0 or newer); on the CPU, bf16 autocast only when the processor has native bf16
instructions (AVX512-BF16 or AMX) *and* a short timing of the real model confirms it is faster. On a
CPU without them (AVX2 machines) bf16 autocast runs 5 to 12 times slower, so ``auto`` keeps fp32.
"""
from __future__ import annotations

import dataclasses
import platform
import sys
from dataclasses import dataclass, field
from typing import Any

import torch

from ..active.args import DEFAULT_MC_SAMPLES, DEFAULT_SCOPE, SCOPES, ScoringArgs

MODES = ("full", "finetune")
AMP_CHOICES = ("auto", "on", "off")
DEVICE_CHOICES = ("auto", "cpu", "cuda")


@dataclass
class TrainingArgs:
    mode: str = "full"  # full: every label, new vocabulary; finetune: the active model on new corrections + replay
    epochs: int = 10
    batch_size: int = 256  # questions; batches are whole images (about 13 images of 20 questions)
    lr: float = 3e-3
    weight_decay: float = 1e-4
    ensemble: int = 1  # M members trained from different seeds
    heads: int = 1  # > 1: a cheap multi-head ensemble on one shared backbone
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    amp: str = "auto"  # auto | on | off
    accumulate: int = 1  # micro-batches per optimizer step (delayed updates)
    seed: int = 0
    val_fraction: float = 0.1  # held out of train when the project has no validation split
    replay_ratio: float = 1.0  # finetune: older labels replayed per new correction
    finetune_lr_scale: float = 0.5
    finetune_min_steps: int = 120  # a handful of corrections still gets this many optimizer steps
    patience: int = 4  # epochs without validation improvement before stopping early
    distill: bool = False  # distil the ensemble into one student for fast inference
    distill_temperature: float = 2.0
    distill_alpha: float = 0.7  # weight of the teacher's soft targets (the rest: the labels)
    quantize: bool = False  # dynamic int8 quantization of the inference model (CPU)
    image_size: int = 64
    cloud_points: int = 1024
    image_encoder: str = "cnn_grid"  # cnn_grid | mobilenet_grid
    cloud_encoder: str = "pointnet"
    question_encoder: str = "gru"  # gru | transformer
    image_encoder_options: dict[str, Any] = field(default_factory=dict)  # ModelConfig.media_options of image models
    cloud_encoder_options: dict[str, Any] = field(default_factory=dict)  # ... and of point-cloud models
    media_dropout: float = 0.0
    question_dropout: float = 0.0
    fusion_dropout: float = 0.0
    classifier_dropout: float = 0.1  # what head-scope MC-dropout samples
    model_options: dict[str, Any] = field(default_factory=dict)  # extra ModelConfig fields
    include_auto_accepted: bool = False  # train on auto-accepted answers too
    max_answers: int = 3000
    mc_samples: int = DEFAULT_MC_SAMPLES  # re-scoring after training (see ``scoring_args``)
    mc_scope: str = DEFAULT_SCOPE
    time_limit_s: float | None = None  # stop training (keeping the best so far) after this long; the
    # learning-rate schedule then runs on time as well as steps, so it has annealed when time is up
    warmup: float = 0.15  # share of training spent warming the learning rate up (then cosine to ~0)
    label_smoothing: float = 0.0
    tag_loss: float = 1.0  # weight of the tag head's loss (ModelConfig.tag_head, on by default)
    count_loss: float = 1.0  # weight of the count questions' supervision of the concept fusion's count
    threads: int | None = None  # torch CPU threads while training (None: torch's default)
    # from the second epoch on, skip a question the model already answers (its loss below easy_loss
    # when last trained on) with this probability; the kept easy ones are weighted up to match
    skip_easy: float = 0.0
    easy_loss: float = 0.1
    # from the first epoch that starts this far (0..1) through the schedule, the media encoder is
    # frozen and its features of the training items computed once and reused (None: never)
    freeze_media_at: float | None = None
    # a pretrained image encoder (image_encoder "hf:<folder or hub id>"): fine-tune its last N blocks
    # (0: frozen, its features computed once per item and kept on disk)
    unfreeze: int = 0
    # start every network from the tensors of another model file that fit (word and answer rows
    # matched by text); None: from random weights
    init_from: str | None = None
    # epochs of one kind of item's networks when it needs another number than ``epochs``, e.g.
    # {"cloud": 20} (the point-cloud networks learn more slowly); kinds not named train ``epochs``
    kind_epochs: dict[str, int] = field(default_factory=dict)
    # a whole pretrained VQA model instead of our own networks: "vilt:<folder or hub id>" (image
    # questions; its answer head fine-tuned on the labels); None: VQANet
    model: str | None = None
    # training processes (torch.distributed, torchrun's contract: DDP, NCCL on GPUs, gloo on the CPU);
    # rank 0 writes and registers the model (see ``distributed.py``)
    nproc: int = 1

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")
        if self.amp not in AMP_CHOICES:
            raise ValueError(f"amp must be one of {AMP_CHOICES}, not {self.amp!r}")
        if not (self.device in DEVICE_CHOICES or self.device.startswith("cuda:")):
            raise ValueError(f"device must be auto, cpu, cuda or cuda:N, not {self.device!r}")
        for name in ("epochs", "batch_size", "ensemble", "heads", "accumulate", "mc_samples", "nproc"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.mc_scope not in SCOPES:
            raise ValueError(f"mc_scope must be one of {', '.join(SCOPES)}, not {self.mc_scope!r}")
        if not 0.0 <= self.skip_easy < 1.0:
            raise ValueError(f"skip_easy must be in [0, 1), not {self.skip_easy!r}")
        if self.model is not None and not str(self.model).startswith("vilt:"):
            raise ValueError(f"model must be vilt:<folder or hub id> (or none for VQA Studio's own), not {self.model!r}")
        if int(self.unfreeze) < 0:
            raise ValueError(f"unfreeze must be 0 or more blocks, not {self.unfreeze!r}")
        if self.freeze_media_at is not None and not 0.0 <= self.freeze_media_at <= 1.0:
            raise ValueError(f"freeze_media_at must be in [0, 1] or None, not {self.freeze_media_at!r}")

    @classmethod
    def for_demo(cls, time_limit_s: float | None = None, threads: int | None = None, **overrides: Any) -> "TrainingArgs":
        """The demo's training: the defaults (the model they train, a concept-filter fusion with the tag
        head's image-level loss, batches of 256 questions, no dropout below the classifier, a warm-up +
        cosine schedule) run against a time budget (default 280 s, data loading included) instead of a
        number of epochs, so it ends annealed within about five minutes on a laptop CPU (images and
        point clouds alike): calibration and evaluation after it take about 8 s on the 2D demo (one
        inference pass per split), so a trained, calibrated and evaluated model takes ~290 s.

        Two things put the budget where the model is still wrong: from the second epoch on, 3 in 4 of
        the questions the model already answers (loss < 0.1) are skipped (``skip_easy``; on the demo
        about 40% of the questions are easy after three epochs, two thirds after four), and 70% of
        the way through, the media encoder is frozen and its features cached (``freeze_media_at``;
        the colours, shapes and sizes are learned by then), so a step costs only its question side.
        The comparisons and relations, which the model learns last, get more of the steps.
        """
        base: dict[str, Any] = dict(epochs=40, patience=100, threads=threads, skip_easy=0.75, freeze_media_at=0.7,
                                    time_limit_s=280.0 if time_limit_s is None else time_limit_s)
        base.update(overrides)
        return cls(**base)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def scoring_args(self, version: str | None = None) -> ScoringArgs:
        """How the pool is re-scored after training: ``mc_samples`` of ``mc_scope``, this seed, on the CPU."""
        return ScoringArgs(version=version, mc_samples=self.mc_samples, scope=self.mc_scope, seed=self.seed,
                           device="cpu")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainingArgs":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def choose_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        from ..errors import VQAStudioError

        raise VQAStudioError("device cuda was asked for, but torch sees no CUDA GPU "
                             f"(torch {torch.__version__}, built {'with' if torch.version.cuda else 'without'} CUDA)")
    return torch.device(name)


def cpu_has_native_bf16() -> bool:
    """True when the CPU has bf16 instructions (AVX512-BF16 or AMX); Linux reads /proc/cpuinfo."""
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
                flags = fh.read()
        except OSError:
            return False
        return "avx512_bf16" in flags or "amx_bf16" in flags
    return False  # elsewhere: assume not (Apple silicon runs torch on the CPU in fp32 well)


@dataclass(frozen=True)
class Precision:
    name: str  # fp32 | fp16 | bf16
    autocast_dtype: torch.dtype | None
    use_scaler: bool
    reason: str


FP32 = Precision("fp32", None, False, "")


def choose_precision(device: torch.device, amp: str = "auto", probe=None) -> Precision:
    """The numeric precision for training on ``device``; ``probe(precision) -> seconds`` times a few
    real training steps when the choice on a CPU needs confirming."""
    if amp == "off":
        return dataclasses.replace(FP32, reason="mixed precision off")
    if device.type == "cuda":
        major, _ = torch.cuda.get_device_capability(device)
        if amp == "auto" and major < 7:
            return dataclasses.replace(FP32, reason=f"GPU compute capability {major}.x has no tensor cores")
        if torch.cuda.is_bf16_supported():
            return Precision("bf16", torch.bfloat16, False, "CUDA with bf16 support")
        return Precision("fp16", torch.float16, True, "CUDA fp16 with loss scaling")
    if device.type == "cpu":
        bf16 = Precision("bf16", torch.bfloat16, False, "CPU with native bf16")
        if amp == "on":
            return dataclasses.replace(bf16, reason="asked for (CPU bf16 autocast)")
        if not cpu_has_native_bf16():
            return dataclasses.replace(FP32, reason="this CPU has no native bf16 (bf16 autocast would be slower)")
        if probe is not None:
            t32, t16 = probe(FP32), probe(bf16)
            if t16 >= t32 * 0.9:
                return dataclasses.replace(FP32, reason=f"bf16 measured no faster here ({t16 / t32:.2f}x the fp32 time)")
            return dataclasses.replace(bf16, reason=f"bf16 measured {t32 / t16:.1f}x faster here")
        return bf16
    return dataclasses.replace(FP32, reason=f"{device.type}: fp32")


def describe_device(device: torch.device | str | None = None) -> str:
    """A line for people: which GPU (with memory) or which CPU, and the torch build."""
    device = torch.device(device) if device is not None else choose_device("auto")
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"CUDA: {props.name} ({props.total_memory / 2**30:.0f} GiB, compute {props.major}.{props.minor})"
    cap = torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else "?"
    gpu = "no CUDA GPU found" if not torch.cuda.is_available() else f"{torch.cuda.device_count()} CUDA GPU(s)"
    bf16 = "native bf16" if cpu_has_native_bf16() else "no native bf16"
    return f"CPU: {platform.processor() or platform.machine()} ({cap}, {bf16}, {torch.get_num_threads()} threads); {gpu}"
