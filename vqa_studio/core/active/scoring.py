"""Scoring the pool: every question gets the model's top-5 answers, each uncertainty score, the
votes of its MC samples / ensemble members and the attention maps, stored under the model version.

Probabilities are ``[N, C, T]`` for every source (MC-dropout samples of each ensemble member,
concatenated: T = M x mc_samples). How to score is one typed value, ``ScoringArgs`` (``active.args``:
model version, MC samples, scope, seed, batch size, device, acquisition functions). With
``scope="head"`` the encoders run once per batch and only the classifier's dropout is sampled. The fused features of the last scoring are kept in a
``FusedCache``: re-scoring the same model version (another acquisition method, another T, after an
answer changed) runs the classifier head alone.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Generator, Sequence

import numpy as np
import torch

from ..data.dataset import QA, MediaTensors, Snapshot, VQADataset, batches
from ..model.pretrained_media import media_for_bundle
from ..model.registry import ModelBundle
from ..store import codec
from ..store import predictions as prediction_rows
from ..types import ItemKind, Progress
from ..uncertainty import acquisition, sampling
from ..uncertainty.oov import OOV, oov_scores, type_answer_sets
from .args import ScoringArgs

TOP_K = 5


@dataclass
class FusedCache:
    """Fused features per (model version, modality, member): question ids [N] and fused [N, D]."""

    entries: dict[tuple[str, str, int], tuple] = field(default_factory=dict)  # (qids, fused, attention, centres)

    def get(self, version: str, kind: ItemKind, member: int):
        return self.entries.get((version, kind.value, member))

    def put(self, version: str, kind: ItemKind, member: int, qids: np.ndarray, fused: torch.Tensor,
            attention: np.ndarray, centres: np.ndarray | None = None) -> None:
        for key in [k for k in self.entries if k[0] != version]:
            del self.entries[key]  # one model version at a time: the memory stays bounded
        self.entries[(version, kind.value, member)] = (qids, fused, attention, centres)


@dataclass
class Sampled:
    probs: np.ndarray  # [N, C, M*T] calibrated probabilities of every MC sample of every member
    question_ids: np.ndarray  # [N], the order of the rows
    attention: np.ndarray  # [N, G, K] float16 (first member)
    fused: np.ndarray | None  # [N, D] float16: each question's embedding (first member)
    centres: np.ndarray | None = None  # point clouds: [N, K, 3] float32 region centres, files' coordinates


@dataclass
class ScoreResult:
    version: str
    n_questions: int
    methods: list[str]
    seconds: float
    probs: dict[int, np.ndarray] = field(default_factory=dict)  # question id -> mean probs (kept when asked)
    from_cache: bool = False

    def summary(self) -> str:
        src = " (from cached features)" if self.from_cache else ""
        return (f"scored {self.n_questions} questions with model {self.version}{src} in {self.seconds:.1f} s "
                f"({self.n_questions / max(self.seconds, 1e-9):,.0f} items/s); scores: {', '.join(self.methods)}")


def sample_probs(bundle: ModelBundle, kind: ItemKind, dataset: VQADataset, args: ScoringArgs, *,
                 cache: FusedCache | None = None) -> Generator[Progress, None, "Sampled"]:
    """``Sampled`` for the dataset's questions (see there); ``args``: samples, scope, seed, batch size,
    device and whether to sample the distilled student (``version`` and ``methods`` are not used here).

    Yields progress per batch and member. Calibrated: logits are divided by the net set's temperature.
    """
    T, scope, seed, batch_size, device = args.mc_samples, args.scope, args.seed, args.batch_size, args.device
    ns = bundle.net(kind)
    members = [ns.fast_net()] if args.use_student else ns.members
    temperature = ns.temperature
    n = dataset.n_questions
    order = np.asarray([qa.question_id for group in dataset.groups for qa in group], dtype=np.int64)
    media = dataset.media
    item_of = {qa.question_id: qa.item_id for group in dataset.groups for qa in group} if kind is ItemKind.CLOUD else {}
    parts: list[np.ndarray] = []
    qids_ref: np.ndarray | None = None
    attention: np.ndarray | None = None
    embedding: np.ndarray | None = None
    centres: np.ndarray | None = None
    for m_idx, net in enumerate(members):
        net.to(device).eval()
        hit = cache.get(bundle.version, kind, m_idx) if cache is not None and scope == "head" else None
        if hit is not None and not np.array_equal(hit[0], order):
            hit = None  # the cached features are of another set of questions
        if hit is not None:
            qids, fused, att, hit_centres = hit
            if m_idx == 0 and hit_centres is not None:
                centres = hit_centres
        elif scope == "head":
            fused_parts, qid_parts, att_parts, centre_parts = [], [], [], []
            done = 0
            with torch.inference_mode():
                for batch in batches(dataset, batch_size, shuffle=False):
                    enc = net.encode({k: v.to(device) for k, v in batch.items()})
                    fused_parts.append(enc.fused)
                    att_parts.append(enc.attention.to("cpu", torch.float16).numpy())
                    if kind is ItemKind.CLOUD and m_idx == 0:  # in the files' coordinates, for the 3D view
                        items = [item_of[q] for q in batch["question_ids"].tolist()]
                        centre_parts.append(media.to_file_coordinates(items, enc.centres.float().cpu().numpy()))
                    qid_parts.append(batch["question_ids"].numpy())
                    done += len(qid_parts[-1])
                    yield Progress("scoring", done + m_idx * n, n * len(members),
                                   f"{kind.value}: encoding (member {m_idx + 1}/{len(members)})")
            fused = torch.cat(fused_parts) if fused_parts else torch.zeros(0, net.config.hidden_dim)
            qids = np.concatenate(qid_parts) if qid_parts else np.zeros(0, np.int64)
            att = np.concatenate(att_parts) if att_parts else np.zeros((0, 1, 1), np.float16)
            if centre_parts:
                centres = np.concatenate(centre_parts)
            if cache is not None:
                cache.put(bundle.version, kind, m_idx, qids, fused, att, centres if m_idx == 0 else None)
        if scope == "head":
            probs = sampling.mc_dropout_from_fused(net, fused, T, seed=seed + m_idx, temperature=temperature,
                                                   device=device)
        else:
            probs_parts, qid_parts, att_parts, fused_parts = [], [], [], []
            for batch in batches(dataset, batch_size, shuffle=False):
                probs_parts.append(sampling.mc_dropout_probs(net, [batch], T, "full", seed=seed + m_idx + len(probs_parts),
                                                             temperature=temperature, device=device))
                with torch.inference_mode():
                    enc = net.eval().encode({k: v.to(device) for k, v in batch.items()})
                    att_parts.append(enc.attention.to("cpu", torch.float16).numpy())
                    fused_parts.append(enc.fused)
                qid_parts.append(batch["question_ids"].numpy())
                yield Progress("scoring", sum(len(q) for q in qid_parts) + m_idx * n, n * len(members),
                               f"{kind.value}: {T} full passes (member {m_idx + 1}/{len(members)})")
            probs = np.concatenate(probs_parts)
            qids = np.concatenate(qid_parts)
            att = np.concatenate(att_parts)
            fused = torch.cat(fused_parts)
        if qids_ref is None:
            qids_ref, attention = qids, att
            embedding = fused.to("cpu", torch.float16).numpy()
        elif not np.array_equal(qids_ref, qids):
            raise RuntimeError("ensemble members scored the questions in different orders")
        parts.append(probs)
        yield Progress("scoring", (m_idx + 1) * n, n * len(members), f"{kind.value}: member {m_idx + 1} sampled")
    return Sampled(sampling.combine(*parts), qids_ref, attention, embedding, centres)


def score_questions(bundle: ModelBundle, snapshot: Snapshot, media: MediaTensors, questions: Sequence[QA],
                    args: ScoringArgs, *, cache: FusedCache | None = None
                    ) -> Generator[Progress, None, dict[str, np.ndarray | list]]:
    """Score ``questions`` (any modalities) -> columns: question_ids, probs_mean [N, C], topk idx/probs,
    scores {method: [N]} (``args.methods``, default every registered acquisition function), votes [N, S],
    attention [N, G, K]."""
    out: dict[str, list] = {"question_ids": [], "top_idx": [], "top_p": [], "votes": [], "attention": [], "mean": [],
                            "fused": [], "centres": []}
    scores: dict[str, list] = {}
    methods = list(args.methods or acquisition.acquisition_names())
    type_answers = _type_answers(bundle, snapshot)
    qtype = {qa.question_id: qa.question_type for qa in questions}
    for kind in (ItemKind.IMAGE, ItemKind.CLOUD):
        qs = [qa for qa in questions if qa.kind is kind]
        if not qs or kind not in bundle.nets:
            continue
        for done, total in media.load({qa.item_id for qa in qs}):
            yield Progress("loading media", done, total, f"decoding {kind.value} media")
        ds = VQADataset(qs, media, bundle.encoders, with_labels=False)
        sampled = yield from sample_probs(bundle, kind, ds, args, cache=cache)
        probs, qids, att, fused = sampled.probs, sampled.question_ids, sampled.attention, sampled.fused
        out["centres"].append(sampled.centres if sampled.centres is not None else [None] * len(qids))
        idx, p = acquisition.top_k(probs, TOP_K)
        for name, vals in acquisition.score_all(probs, methods).items():
            scores.setdefault(name, []).append(vals)
        scores.setdefault(OOV, []).append(oov_scores(probs, [qtype[q] for q in qids.tolist()], type_answers))
        out["question_ids"].append(qids)
        out["top_idx"].append(idx)
        out["top_p"].append(p)
        out["votes"].append(acquisition.votes(probs))
        out["attention"].append(att)
        out["mean"].append(probs.mean(axis=2))
        out["fused"].append(fused)
    cols: dict[str, np.ndarray | list] = {k: (v if k in ("votes", "attention", "mean", "fused", "centres") else
                                              (np.concatenate(v) if v else np.zeros(0))) for k, v in out.items()}
    cols["scores"] = {k: np.concatenate(v) for k, v in scores.items()}
    return cols


def _type_answers(bundle: ModelBundle, snapshot: Snapshot | None) -> dict[str, np.ndarray]:
    """The answer classes each question type has among the labelled questions (for the OOV score)."""
    if snapshot is None:
        return {}
    index = bundle.encoders.answers.index
    labelled = [qa for qa in snapshot.questions if snapshot.is_labelled(qa)]
    return type_answer_sets([qa.question_type for qa in labelled], [index(qa.answer) for qa in labelled])


def write_predictions(project, version: str, answers: Sequence[str], cols: dict,
                      outside_vocab: set[int] | frozenset = frozenset()) -> int:
    """Replace the stored predictions and scores of ``version`` with ``cols``, in one transaction.

    ``outside_vocab``: questions whose current answer the model cannot output (``in_vocab`` False):
    a correction it will learn only after the next full retrain grows its answer vocabulary."""
    qids = cols["question_ids"]
    if len(qids) == 0:
        return 0
    top_idx, top_p, scores = cols["top_idx"], cols["top_p"], cols["scores"]
    votes = np.concatenate([v.astype(np.int16) if v.dtype != np.int16 else v for v in cols["votes"]]) \
        if all(v.shape[1] == cols["votes"][0].shape[1] for v in cols["votes"]) else None
    att_rows: list[np.ndarray] = [a for block in cols["attention"] for a in block]
    centre_rows: list = [c for block in cols.get("centres", []) for c in block] or [None] * len(qids)
    vote_rows = list(votes) if votes is not None else [v for block in cols["votes"] for v in block]
    names = list(scores)
    pred_rows = []
    score_rows = []
    for r, qid in enumerate(qids.tolist()):
        row_scores = {n: float(scores[n][r]) for n in names}
        top = [answers[i] for i in top_idx[r].tolist()]
        pred_rows.append({
            "question_id": qid, "model_version": version, "answer": top[0], "confidence": float(top_p[r][0]),
            "answers": top, "probs": [round(float(x), 6) for x in top_p[r]],
            "scores": row_scores, "in_vocab": qid not in outside_vocab,
            "attention": codec.encode_array(np.asarray(att_rows[r], dtype=np.float16)),
            "votes": codec.encode_array(np.asarray(vote_rows[r], dtype=np.int16)),
            "centres": None if centre_rows[r] is None else codec.encode_array(np.asarray(centre_rows[r], np.float32)),
        })
        for n in names:
            score_rows.append({"model_version": version, "method": n, "question_id": qid, "value": row_scores[n]})
    with project.writer.begin() as conn:
        return prediction_rows.replace_predictions(conn, version, pred_rows, score_rows)


def embeddings_path(project, version: str):
    return project.folder / "cache" / f"fused-{version}.npz"


def save_embeddings(project, version: str, cols: dict) -> None:
    """Each question's fused embedding (first member, float16) for 'similar items': ``question_ids``
    int64 [N], ``fused`` float16 [N, D]. Modalities with different widths keep the first's width."""
    import os

    parts = [f for f in cols.get("fused", []) if f is not None and len(f)]
    if not parts:
        return
    widths = {p.shape[1] for p in parts}
    if len(widths) > 1:  # image and cloud networks of different sizes: pad to the widest
        d = max(widths)
        parts = [np.pad(p, ((0, 0), (0, d - p.shape[1]))) for p in parts]
    path = embeddings_path(project, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fh:
        np.savez(fh, question_ids=np.asarray(cols["question_ids"], np.int64), fused=np.concatenate(parts).astype(np.float16))
    os.replace(tmp, path)


def mark_proposed(project, version: str) -> None:
    """The unanswered questions ``version`` has predictions for become "proposed" (one transaction)."""
    with project.writer.begin() as conn:
        prediction_rows.mark_proposed(conn, version)


def score_pool(project, bundle: ModelBundle, args: ScoringArgs | None = None, *, snapshot: Snapshot | None = None,
               media: MediaTensors | None = None, cache: FusedCache | None = None, activate_proposals: bool = False
               ) -> Generator[Progress, None, ScoreResult]:
    """Score every question of the project with ``bundle`` as ``args`` say (default ``ScoringArgs()``)
    and store the results under its version; with ``activate_proposals`` the unanswered questions it
    has a proposal for become 'proposed'. (``args.version`` names the model to load for callers that
    start from a version: the bundle given is the one scored.)"""
    args = args if args is not None else ScoringArgs()
    if getattr(bundle, "kind", None) == "vilt":  # a ViLT model (core.model.vilt_model): its own sampling
        from .vilt_scoring import score_vilt

        return (yield from score_vilt(project, bundle, args, snapshot, activate_proposals))
    from ..media_kinds import medium_of_model, resolve

    if (medium := medium_of_model(bundle)) is not None:  # a model of a plugin's medium scores itself
        return (yield from resolve(medium.score)(project, bundle, args, snapshot, activate_proposals))
    t0 = time.perf_counter()
    snapshot = snapshot or Snapshot.load(project)
    media = media or media_for_bundle(bundle, snapshot, project.folder / "cache")
    qs = [qa for qa in snapshot.questions if qa.kind in bundle.nets]
    cols = yield from score_questions(bundle, snapshot, media, qs, args, cache=cache)
    yield Progress("saving", 0, 1, "writing predictions")
    outside = {qa.question_id for qa in qs if qa.answer and bundle.encoders.answers.index(qa.answer) < 0}
    n = write_predictions(project, bundle.version, bundle.encoders.answers.answers, cols, outside)
    save_embeddings(project, bundle.version, cols)
    if activate_proposals:
        mark_proposed(project, bundle.version)
    yield Progress("saving", 1, 1, f"{n} predictions written")
    return ScoreResult(bundle.version, n, sorted(cols["scores"]), time.perf_counter() - t0)
