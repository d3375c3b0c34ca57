"""Versioned model checkpoints: what a trained model is, how it is saved, loaded and registered.

A checkpoint is one ``.pt`` file holding only tensors and plain data, so it loads with
``torch.load(weights_only=True)`` (no pickled code runs). It carries everything inference needs:
the question vocabulary and answer classes, one network set per modality (image, cloud), each with
its ensemble members, calibration temperature and optional distilled student.

Files are written atomically (temporary file, fsync, rename, fsync of the folder): a crash never
leaves a half-written model under a registered name. A model enters the project's registry in one
transaction that also makes it active; rollback makes any earlier version active again.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import torch

from ..data.dataset import Encoders
from ..data.vocab import AnswerVocab, Vocab
from ..errors import CheckpointError
from ..types import ItemKind
from .net import VQANet

FORMAT = "vqa-studio-model"
FORMAT_VERSION = 1


@dataclass
class NetSet:
    """The networks of one modality: ensemble members (eval mode), calibration, optional student."""

    kind: ItemKind
    config: dict[str, Any]
    members: list[VQANet]
    temperature: float = 1.0
    student: VQANet | None = None
    revote: dict[str, Any] | None = None  # per-member accuracy by question type (ensemble re-voting)
    metrics: dict[str, Any] = field(default_factory=dict)
    quantize: bool = False  # serve the inference network as dynamic int8 on the CPU

    def fast_net(self) -> VQANet:
        """The network for fast CPU inference: the student if distilled (else member 1), int8 when
        ``quantize``. Quantized once, at first use (quantized weights are not stored)."""
        if getattr(self, "_fast", None) is None:
            net = self.student if self.student is not None else self.members[0]
            self._fast = quantized_copy(net) if self.quantize else net
        return self._fast

    @property
    def n_members(self) -> int:
        return len(self.members)

    def to(self, device: torch.device | str) -> "NetSet":
        for m in self.members:
            m.to(device)
        if self.student is not None:
            self.student.to(device)
        return self


@dataclass
class ModelBundle:
    version: str
    encoders: Encoders
    nets: dict[ItemKind, NetSet]
    parent: str | None = None
    image_size: int = 64
    cloud_points: int = 1024
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    snapshot: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""

    def net(self, kind: ItemKind) -> NetSet:
        if kind not in self.nets:
            raise CheckpointError(f"model {self.version} was not trained on {kind.value} items")
        return self.nets[kind]

    # --- saving ------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        from ... import __version__

        nets = {}
        for kind, ns in self.nets.items():
            nets[kind.value] = {
                "config": ns.config,
                "members": [{k: v.detach().cpu() for k, v in m.state_dict().items()} for m in ns.members],
                "temperature": float(ns.temperature),
                "student": None if ns.student is None else {k: v.detach().cpu() for k, v in ns.student.state_dict().items()},
                "revote": ns.revote,
                "metrics": ns.metrics,
                "quantize": bool(ns.quantize),
            }
        return {
            "format": FORMAT, "format_version": FORMAT_VERSION, "app_version": __version__,
            "version": self.version, "parent": self.parent, "created_at": self.created_at,
            "vocab": self.encoders.vocab.to_list(), "answers": self.encoders.answers.to_list(),
            "max_len": self.encoders.max_len, "image_size": self.image_size, "cloud_points": self.cloud_points,
            "nets": nets, "metrics": self.metrics, "training": self.training, "snapshot": self.snapshot,
        }

    def save(self, path: str | Path) -> Path:
        return save_atomic(self.state(), Path(path))


def save_atomic(obj: Any, path: Path) -> Path:
    """torch.save to a temporary file beside ``path``, fsync, rename over ``path``, fsync the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(obj, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if hasattr(os, "O_DIRECTORY"):  # POSIX: make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    return path


def read_model_file(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The contents of a VQA Studio model file, read with ``weights_only`` (tensors and plain data:
    no pickled code runs). Anything else is a ``CheckpointError`` naming the file; torch's own advice
    to retry without ``weights_only`` is never passed on."""
    import pickle
    import warnings

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: model file not found")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's note on the pickle protocol of a foreign file
            data = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if "unsupported global" not in str(exc).lower():  # no object it refused: damaged, or another kind of file
            raise CheckpointError(f"{path}: not a readable VQA Studio model file (damaged, or not a model)") from None
        raise CheckpointError(f"{path}: not a VQA Studio model file: it holds Python objects or code, which a model "
                              "file never does; it was not loaded (only tensors and plain data are read)") from None
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same clear message
        raise CheckpointError(f"{path}: not a readable VQA Studio model file ({type(exc).__name__})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a VQA Studio model file")
    return data


def load_bundle(path: str | Path, map_location: str | torch.device = "cpu") -> ModelBundle:
    """Load a checkpoint (weights only) and rebuild its networks; any misfit is a CheckpointError."""
    path = Path(path)
    data = read_model_file(path, map_location)
    if int(data.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(f"{path}: written by a newer VQA Studio ({data.get('app_version')}, model format "
                              f"{data.get('format_version')}); this one reads format {FORMAT_VERSION}")
    if data.get("kind") == "vilt":  # a fine-tuned ViLT (vilt:<source>), not a VQANet bundle
        from .vilt_model import from_data

        return from_data(data, path)
    from ..media_kinds import load_model  # a model of a plugin's medium (core/media_kinds.py)

    if (plugin_model := load_model(data, path)) is not None:
        return plugin_model
    try:
        encoders = Encoders(Vocab(list(data["vocab"])), AnswerVocab(list(data["answers"])), int(data.get("max_len", 24)))
    except (KeyError, ValueError) as exc:
        raise CheckpointError(f"{path}: the vocabulary in the file is damaged ({exc})") from None
    nets: dict[ItemKind, NetSet] = {}
    for kind_name, nd in dict(data.get("nets", {})).items():
        kind = ItemKind(kind_name)
        config = dict(nd["config"])
        if config.get("vocab_size") != len(encoders.vocab):
            raise CheckpointError(f"{path}: the {kind_name} network expects {config.get('vocab_size')} question words, "
                                  f"the file's vocabulary has {len(encoders.vocab)}")
        if config.get("n_answers") != len(encoders.answers):
            raise CheckpointError(f"{path}: the {kind_name} network has {config.get('n_answers')} answer classes, "
                                  f"the file's answer list has {len(encoders.answers)}")
        members = [_rebuild(config, sd, path) for sd in nd["members"]]
        student = _rebuild(config, nd["student"], path) if nd.get("student") else None
        nets[kind] = NetSet(kind, config, members, float(nd.get("temperature", 1.0)), student, nd.get("revote"),
                            dict(nd.get("metrics") or {}), bool(nd.get("quantize", False)))
    if not nets:
        raise CheckpointError(f"{path}: the file holds no networks")
    return ModelBundle(
        version=str(data.get("version")), encoders=encoders, nets=nets, parent=data.get("parent"),
        image_size=int(data.get("image_size", 64)), cloud_points=int(data.get("cloud_points", 1024)),
        metrics=dict(data.get("metrics") or {}), training=dict(data.get("training") or {}),
        snapshot=dict(data.get("snapshot") or {}), created_at=str(data.get("created_at", "")),
    )


def _rebuild(config: dict[str, Any], state: dict[str, torch.Tensor], path: Path) -> VQANet:
    try:
        net = VQANet.from_config(config)
        net.load_checkpoint_state(state, config)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    return net.eval()


def quantized_copy(net: VQANet) -> VQANet:
    """Dynamic int8 quantization (weights int8, activations quantized on the fly) of the Linear and GRU
    layers, for CPU inference. The classifier's stacked heads, the convolutions and the layers marked
    ``keep_float`` (their weights are used as tensors) stay fp32."""
    import copy
    import warnings

    from torch import nn

    # torch.ao.quantization is deprecated in favour of the separate torchao package, but it still
    # ships with torch (2.13) and is the only dependency-free way; without it we serve fp32.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*", category=UserWarning)
        try:
            from torch.ao.quantization import quantize_dynamic
        except ImportError:  # pragma: no cover - a torch without it
            return net
        from torch.ao.quantization import default_dynamic_qconfig

        model = copy.deepcopy(net).eval()
        # layers whose weight is read directly (not only called) are marked ``keep_float``
        spec = {name: default_dynamic_qconfig for name, m in model.named_modules()
                if isinstance(m, (nn.Linear, nn.GRU)) and not getattr(m, "keep_float", False)}
        return quantize_dynamic(model, spec, dtype=torch.qint8)


def check_compatible(bundle: ModelBundle, other_config: dict[str, Any], kind: ItemKind) -> None:
    """For fine-tuning: the active model's network must fit the architecture asked for."""
    from .net import describe_arch_mismatch

    why = describe_arch_mismatch(bundle.net(kind).config, other_config)
    if why:
        raise CheckpointError(f"model {bundle.version}: {why}")


# --- the project's registry (rows in the models table) ---------------------------------------------------

def register(project, bundle: ModelBundle, path: Path, run_id: int | None, activate: bool = True) -> None:
    """Add ``bundle`` (already saved at ``path``) to the registry and make it active, in one transaction."""
    from ..store import model_rows, runs
    from ..store import repository as repo

    kinds = sorted(k.value for k in bundle.nets)
    with project.writer.begin() as conn:
        model_rows.insert_model(conn, version=bundle.version, parent=bundle.parent, path=project.uri_for(path),
                                arch=",".join(kinds), metrics=bundle.metrics, config=bundle.training,
                                snapshot=bundle.snapshot, run_id=run_id)
        if run_id is not None:
            runs.set_run_model(conn, run_id, bundle.version)
        if activate:
            repo.set_info(conn, "active_model", bundle.version)


def activate(project, version: str) -> None:
    """Make ``version`` the active model (rollback to an earlier one is the same call)."""
    project.activate_model(version)


def model_path(project, version: str) -> Path:
    info = project.model(version)
    if info is None:
        from ..errors import ProjectError

        raise ProjectError(f"no model version {version!r} in this project")
    return project.media_path(info.path)


def load_version(project, version: str | None = None, map_location="cpu") -> ModelBundle:
    """The registered model ``version`` (default: the active one)."""
    version = version or project.active_model
    if not version:
        from ..errors import ProjectError

        raise ProjectError("this project has no model yet: train one first (vqa-studio train)")
    return load_bundle(model_path(project, version), map_location)


def kinds_of(bundle: ModelBundle) -> Iterable[ItemKind]:
    return bundle.nets.keys()


def import_file(project, path: Path) -> ModelBundle:
    """Register a model file from elsewhere (another project, a colleague) as a new version.

    It is checked first (loads, fits its own vocabulary); its answers are what it can propose here.
    """
    import shutil

    from ..store import runs

    bundle = load_bundle(path)
    with project.writer.begin() as conn:
        run_id = runs.record_import(conn, {"file": str(path)})
    bundle.parent = bundle.version
    bundle.version = f"v{run_id}"
    dst = project.models_dir / f"{bundle.version}.pt"
    tmp = dst.with_name(dst.name + ".part")
    shutil.copyfile(path, tmp)
    os.replace(tmp, dst)
    bundle.save(dst)  # re-saved so the file names its own version
    register(project, bundle, dst, run_id, activate=False)
    return bundle
