"""--init-from: tensors that fit are loaded, vocabulary rows are matched by word and by answer."""
from __future__ import annotations

import pytest
import torch

from vqa_studio.core.data.dataset import Encoders
from vqa_studio.core.data.vocab import AnswerVocab, Vocab
from vqa_studio.core.errors import CheckpointError
from vqa_studio.core.model import transfer
from vqa_studio.core.model.net import ModelConfig, VQANet
from vqa_studio.core.model.registry import ModelBundle, NetSet
from vqa_studio.core.types import ItemKind

WORDS_A = ["<pad>", "<unk>", "what", "colour", "is", "the", "cube"]
WORDS_B = ["<pad>", "<unk>", "how", "many", "cube", "is", "what", "sphere"]
ANSWERS_A = ["red", "blue", "2", "yes"]
ANSWERS_B = ["yes", "green", "red", "3", "no"]


def _net(words, answers, seed, **kw) -> VQANet:
    torch.manual_seed(seed)
    args = dict(vocab_size=len(words), n_answers=len(answers), region_dim=32, hidden_dim=32, word_dim=16,
                fusion_rank=16, classifier_hidden=32)
    return VQANet(ModelConfig(**{**args, **kw}))


def _vocab(words):
    return Vocab(list(words))


def test_rows_are_matched_by_word_and_answer():
    src = _net(WORDS_A, ANSWERS_A, 0)
    dst = _net(WORDS_B, ANSWERS_B, 1)
    before = {k: v.clone() for k, v in dst.state_dict().items()}
    words = (_vocab(WORDS_A).to_list(), _vocab(WORDS_B).to_list())
    report = transfer.transfer_state(dst, src.state_dict(), source_name="a.pt", words=words,
                                     answers=(ANSWERS_A, ANSWERS_B))
    s, d = src.state_dict(), dst.state_dict()
    emb_s, emb_d = s["question_encoder.embed.weight"], d["question_encoder.embed.weight"]
    for j, w in enumerate(WORDS_B):
        if w in WORDS_A:
            assert torch.equal(emb_d[j], emb_s[WORDS_A.index(w)]), w
        else:
            assert torch.equal(emb_d[j], before["question_encoder.embed.weight"][j]), w
    w2s, w2d = s["classifier.w2"], d["classifier.w2"]
    for j, a in enumerate(ANSWERS_B):
        if a in ANSWERS_A:
            assert torch.equal(w2d[..., j], w2s[..., ANSWERS_A.index(a)]), a
        else:
            assert torch.equal(w2d[..., j], before["classifier.w2"][..., j]), a
    assert report.remapped["question_encoder.embed.weight"] == (5, 8)  # pad, unk, cube, is, what
    assert report.remapped["classifier.b2"] == (2, 5)  # yes, red
    # everything not indexed by words or answers has the same shape and is loaded whole
    assert report.loaded and not report.mismatched and not report.new
    for name in report.loaded:
        assert torch.equal(d[name], s[name]), name
    assert "5 matched by word / answer" in report.summary()


def test_what_does_not_fit_is_reported_and_left_fresh():
    src = _net(WORDS_A, ANSWERS_A, 0)
    dst = _net(WORDS_A, ANSWERS_A, 1, region_dim=48, classifier_dropout=0.2)
    before = {k: v.clone() for k, v in dst.state_dict().items()}
    report = transfer.transfer_state(dst, src.state_dict(), words=(WORDS_A, WORDS_A), answers=(ANSWERS_A, ANSWERS_A))
    assert "media_encoder.position" in report.mismatched  # regions of another size
    assert report.loaded  # the question side still fits
    for name in report.mismatched:
        assert torch.equal(dst.state_dict()[name], before[name])
    assert "question_encoder.embed.weight" in report.remapped
    assert "did not fit" in report.summary()


def test_init_from_a_model_file(tmp_path):
    src = _net(WORDS_A, ANSWERS_A, 0)
    bundle = ModelBundle("v1", Encoders(_vocab(WORDS_A), AnswerVocab(list(ANSWERS_A))),
                         {ItemKind.IMAGE: NetSet(ItemKind.IMAGE, src.config.to_dict(), [src.eval()])})
    path = bundle.save(tmp_path / "other-project.pt")
    data = transfer.load_source(path)
    dst = _net(WORDS_B, ANSWERS_B, 1)
    report = transfer.init_from_file(dst, "cloud", data, words=WORDS_B, answers=ANSWERS_B, source_name=str(path))
    # no cloud network in the file: the image one gives the shared parts
    assert report.n_loaded > 10
    assert torch.equal(dst.state_dict()["classifier.b2"][..., 0], src.state_dict()["classifier.b2"][..., 3])  # "yes"
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a model")
    with pytest.raises(CheckpointError, match="bad.pt"):
        transfer.load_source(bad)
    with pytest.raises(CheckpointError, match="not found"):
        transfer.load_source(tmp_path / "missing.pt")
