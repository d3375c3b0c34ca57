"""ViLT as the proposer, through the path a user's files take: a tiny random ViltForQuestionAnswering
and a tiny BERT tokenizer saved with ``save_pretrained`` into a folder, loaded by ``load_vilt``
(no network)."""
from __future__ import annotations

import io
import json
import warnings

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")

from vqa_studio.core.driver import drive
from vqa_studio.core.errors import BadInputError, Cancelled, CheckpointError
from vqa_studio.core.model import vilt
from vqa_studio.core.types import Progress

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "what", "color", "is", "the", "how", "many", "are",
         "there", "shape", "?", "red", "blue", "circle", "square"]
#: "Yes"/"yes" and "two"/"2" normalise to the same answer: 7 labels, 5 answers
LABELS = ["yes", "no", "Yes", "2", "two", "red", "blue"]
MEAN, STD = [0.4, 0.45, 0.5], [0.2, 0.25, 0.3]


def save_tiny_vilt(folder, seed: int = 0, hidden: int = 32) -> str:
    torch.manual_seed(seed)
    (folder).mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    config = transformers.ViltConfig(
        hidden_size=hidden, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, image_size=32,
        patch_size=8, max_position_embeddings=40, vocab_size=len(WORDS),
        initializer_range=0.2,  # 0.02 (the default) makes a tiny random model's output nearly constant
        id2label=dict(enumerate(LABELS)), label2id={a: i for i, a in enumerate(LABELS)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        transformers.ViltForQuestionAnswering(config).save_pretrained(folder)
        transformers.BertTokenizerFast(vocab=str(vocab)).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "ViltImageProcessor", "do_resize": True, "size": {"shortest_edge": 32},
        "size_divisor": 8, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
        "image_mean": MEAN, "image_std": STD, "do_pad": True, "resample": 3}), encoding="utf-8")
    return str(folder)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return save_tiny_vilt(tmp_path_factory.mktemp("vilt") / "tiny")


@pytest.fixture()
def proposer(folder):
    return vilt.load_vilt(folder, dropout=0.3)


def _data(n=6, seed=1):
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 3, 24, 40, generator=g)
    questions = ["what color is the circle?", "how many squares are there?", "is the shape red?"] * (n // 3 + 1)
    return images, questions[:n]


def test_answers_are_normalised_and_merged(proposer):
    assert proposer.answers == ["yes", "no", "2", "red", "blue"]
    assert proposer.n_merged == 2
    assert proposer.index("Two") == 2 and proposer.index("YES") == 0 and proposer.index("green") is None
    assert proposer.spec.mean == tuple(MEAN) and proposer.spec.std == tuple(STD)
    ids = proposer.tokens(["What color is the circle?"])["input_ids"][0].tolist()
    assert ids == [2, 5, 6, 7, 8, 17, 14, 3]  # the folder's own vocabulary, lower-cased


def test_merged_answer_gets_the_sum_of_its_labels_probabilities(proposer):
    images, questions = _data(3)
    with torch.no_grad():
        raw = proposer.model.classifier(proposer.pooled(images, questions))
    probs = proposer.probabilities(images, questions)
    p_raw = torch.softmax(raw, -1).numpy()
    np.testing.assert_allclose(probs[:, 0], p_raw[:, 0] + p_raw[:, 2], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(probs[:, 2], p_raw[:, 3] + p_raw[:, 4], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(probs[:, 4], p_raw[:, 6], rtol=1e-4, atol=1e-6)


def test_images_are_resized_padded_and_normalised_like_vilts_processor(proposer):
    spec = proposer.spec
    assert spec.target_size(24, 40) == (32, 48)  # shorter side 32; longer capped at 53 -> 48 (divisor 8)
    assert spec.target_size(100, 400) == (8, 48)  # the longer side capped first, then the divisor
    pixels, mask = vilt.prepare_images([torch.ones(3, 24, 40), torch.zeros(3, 40, 40)], spec)
    assert pixels.shape == (2, 3, 32, 48) and mask.shape == (2, 32, 48)
    assert mask[0].all() and mask[1, :, :32].all() and not mask[1, :, 32:].any()
    white = (1 - torch.tensor(MEAN)) / torch.tensor(STD)
    torch.testing.assert_close(pixels[0, :, 5, 5], white)


def test_preprocessing_matches_transformers_image_processor(proposer):
    processor_cls = getattr(transformers, "ViltImageProcessorPil", None)
    if processor_cls is None:
        pytest.skip("this transformers has no PIL ViLT image processor")
    y, x = np.mgrid[0:60, 0:90]
    img = np.stack([np.sin(x / 9.0), np.cos(y / 7.0), np.sin((x + y) / 11.0)], -1)
    img = ((img + 1) * 127.5).astype(np.uint8)  # smooth: resampling filters agree on it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        processor = processor_cls(size={"shortest_edge": 32}, size_divisor=8, image_mean=MEAN, image_std=STD)
        expected = processor([img, img[:40]], return_tensors="pt")
    tensors = [torch.from_numpy(np.ascontiguousarray(im)).permute(2, 0, 1) for im in (img, img[:40])]
    pixels, mask = vilt.prepare_images(tensors, proposer.spec)  # uint8 tensors are scaled to 0..1
    assert pixels.shape == expected["pixel_values"].shape == (2, 3, 32, 48)
    assert torch.equal(mask, expected["pixel_mask"].long())
    assert float((pixels - expected["pixel_values"]).abs().max()) < 0.05


def test_file_paths_give_the_same_probabilities_as_tensors(proposer, tmp_path):
    cv2 = pytest.importorskip("cv2")
    img = (np.random.default_rng(0).random((24, 40, 3)) * 255).astype(np.uint8)
    path = tmp_path / "a.png"
    cv2.imwrite(str(path), img[:, :, ::-1])
    tensor = torch.from_numpy(img).permute(2, 0, 1).float()[None] / 255
    from_path = proposer.probabilities([str(path)], ["what color is the circle?"])
    from_tensor = proposer.probabilities(tensor, ["what color is the circle?"])
    np.testing.assert_allclose(from_path, from_tensor, atol=1e-6)


def test_sample_shapes_rows_and_dropout(folder, proposer):
    images, questions = _data(5)
    probs = proposer.sample(images, questions, T=7, batch_size=2, seed=0)
    assert probs.shape == (5, len(proposer.answers), 7) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    assert np.abs(probs[:, :, 0] - probs[:, :, 1]).max() > 1e-4  # dropout: the samples differ
    rng = torch.random.get_rng_state()
    np.testing.assert_array_equal(proposer.sample(images, questions, T=7, batch_size=2, seed=0), probs)
    assert torch.equal(torch.random.get_rng_state(), rng)  # the caller's random state is left alone
    no_drop = vilt.load_vilt(folder, dropout=0.0).sample(images, questions, T=4, seed=0)
    np.testing.assert_array_equal(no_drop, np.repeat(no_drop[:, :, :1], 4, axis=2))
    det = proposer.probabilities(images, questions)
    np.testing.assert_allclose(no_drop[:, :, 0], det, atol=1e-5)
    answers = proposer.predict(images, questions)
    assert [a for a, _ in answers] == [proposer.answers[k] for k in det.argmax(1)]
    assert all(abs(p - det[i].max()) < 1e-5 for i, (_, p) in enumerate(answers))


def test_the_transformer_runs_once_per_batch_whatever_t(proposer):
    calls = []
    handle = proposer.model.vilt.register_forward_hook(lambda *a: calls.append(1))
    try:
        images, questions = _data(6)
        proposer.sample(images, questions, T=20, batch_size=4)
        assert len(calls) == 2  # 6 questions in batches of 4
        seen = []
        proposer.sample(images, questions, T=20, batch_size=6, progress=seen.append)
        assert len(calls) == 3 and seen == [6]
    finally:
        handle.remove()


def test_add_answers_keeps_old_rows_exactly_and_the_new_rows_are_used(proposer):
    old = proposer.classifier[-1]
    w, b = old.weight.detach().clone(), old.bias.detach().clone()
    added = proposer.add_answers(["Square", "red", "square", "the circle", "2"])
    assert added == ["square", "circle"]  # known and duplicate answers skipped, normalised
    assert proposer.answers[-2:] == ["square", "circle"]
    new = proposer.classifier[-1]
    assert new.out_features == len(LABELS) + 2
    assert torch.equal(new.weight[:len(LABELS)], w) and torch.equal(new.bias[:len(LABELS)], b)
    assert torch.isfinite(new.weight).all()
    images, questions = _data(3)
    assert proposer.sample(images, questions, T=3, seed=0).shape == (3, 7, 3)
    with torch.no_grad():  # the new rows are the new answers' logits
        new.bias[-1] += 100.0
    assert [a for a, _ in proposer.predict(images, questions)] == ["circle"] * 3


def _loss(proposer, images, questions, answers):
    probs = proposer.probabilities(images, questions)
    idx = [proposer.index(a) for a in answers]
    return float(-np.log(probs[np.arange(len(idx)), idx]).mean())


def test_finetune_lowers_the_loss_and_learns_a_new_answer(proposer):
    images, questions = _data(6)
    answers = ["red", "2", "square", "blue", "two", "square"]
    proposer.add_answers(["square"])
    before = _loss(proposer, images, questions, answers)
    records = []
    result = drive(proposer.finetune(images, questions, answers, steps=150, lr=1e-2, batch_size=6),
                   on_progress=records.append)
    assert result["added"] == []
    assert [r.stage for r in records][:1] == ["features"] and records[-1] == Progress(
        "finetune", 150, 150, records[-1].message, records[-1].info)
    after = _loss(proposer, images, questions, answers)
    assert after < before * 0.5
    assert [a for a, _ in proposer.predict(images, questions)] == ["red", "2", "square", "blue", "2", "square"]
    assert not any(p.requires_grad for p in proposer.model.parameters())


def test_finetune_adds_unknown_answers_and_can_unfreeze_the_last_layer(proposer):
    images, questions = _data(3)
    last = [p.detach().clone() for p in proposer.layers()[-1].parameters()]
    first = [p.detach().clone() for p in proposer.layers()[0].parameters()]
    result = drive(proposer.finetune(images, questions, ["green", "red", "green"], steps=3, unfreeze=1))
    assert result["added"] == ["green"] and "green" in proposer.answers
    assert any(not torch.equal(a, b) for a, b in zip(last, proposer.layers()[-1].parameters()))
    assert all(torch.equal(a, b) for a, b in zip(first, proposer.layers()[0].parameters()))
    assert proposer.trained_layers == 1


def test_finetune_is_cancellable_and_leaves_the_model_frozen(proposer):
    images, questions = _data(3)
    steps = []
    with pytest.raises(Cancelled):
        drive(proposer.finetune(images, questions, ["red"] * 3, steps=50),
              on_progress=steps.append, cancelled=lambda: len(steps) >= 3)
    assert len(steps) == 3
    assert not proposer.model.training and not any(p.requires_grad for p in proposer.model.parameters())


def test_state_round_trip_gives_identical_probabilities(folder, proposer):
    untouched = proposer.state()
    assert untouched["tensors"] == {} and untouched["answers_added"] == []
    images, questions = _data(3)
    drive(proposer.finetune(images, questions, ["square", "red", "blue"], steps=5, unfreeze=1))
    buf = io.BytesIO()
    torch.save(proposer.state(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    assert state["answers_added"] == ["square"] and state["trained_layers"] == 1
    assert all(k.startswith(("classifier.", "vilt.encoder.layer.1.", "vilt.layernorm.", "vilt.pooler."))
               for k in state["tensors"])
    restored = vilt.ViltProposer.from_state(folder, state)
    assert restored.answers == proposer.answers and restored.dropout == proposer.dropout
    a = proposer.probabilities(images, questions)
    b = restored.probabilities(images, questions)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(proposer.sample(images, questions, T=3, seed=1),
                                  restored.sample(images, questions, T=3, seed=1))


def test_state_from_another_model_is_refused(folder, proposer, tmp_path):
    state = proposer.state()
    other_weights = save_tiny_vilt(tmp_path / "other-weights", seed=5)
    with pytest.raises(CheckpointError, match="other weights"):
        vilt.ViltProposer.from_state(other_weights, state)
    other_config = save_tiny_vilt(tmp_path / "other-config", hidden=16)
    with pytest.raises(CheckpointError, match="configurations differ"):
        vilt.ViltProposer.from_state(other_config, state)
    with pytest.raises(CheckpointError, match="not a fine-tuned ViLT head"):
        vilt.ViltProposer.from_state(folder, {"tensors": {}})


def test_bad_folders_name_the_folder(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    with pytest.raises(BadInputError, match="no such folder") as err:
        vilt.load_vilt(missing)
    assert err.value.path == str(missing)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BadInputError, match="no config.json") as err:
        vilt.load_vilt(empty)
    assert err.value.path == str(empty)
    vit = tmp_path / "vit"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        transformers.ViTModel(transformers.ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                                     intermediate_size=64, image_size=32,
                                                     patch_size=8)).save_pretrained(vit)
    with pytest.raises(BadInputError, match="not a ViLT VQA model") as err:
        vilt.load_vilt(vit)
    assert err.value.path == str(vit)
    why = 'needs the transformers package; install it with pip install "vqa-studio[pretrained]"'
    monkeypatch.setattr(vilt, "transformers_status", lambda: (False, why))
    with pytest.raises(BadInputError, match=r"vqa-studio\[pretrained\]"):
        vilt.load_vilt(empty)


def test_missing_files_name_the_folder(folder, tmp_path):
    import shutil

    no_weights = tmp_path / "no-weights"
    shutil.copytree(folder, no_weights)
    (no_weights / "model.safetensors").unlink()
    with pytest.raises(BadInputError, match="weights") as err:
        vilt.load_vilt(no_weights)
    assert err.value.path == str(no_weights)
    no_tokenizer = tmp_path / "no-tokenizer"
    shutil.copytree(folder, no_tokenizer)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        (no_tokenizer / name).unlink(missing_ok=True)
    with pytest.raises(BadInputError, match="tokenizer") as err:
        vilt.load_vilt(no_tokenizer)
    assert err.value.path == str(no_tokenizer)


def test_a_vilt_without_a_vqa_head_is_refused(tmp_path):
    folder = tmp_path / "bare"
    config = transformers.ViltConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=64, image_size=32, patch_size=8, max_position_embeddings=40,
                                     vocab_size=len(WORDS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        transformers.ViltModel(config).save_pretrained(folder)
    with pytest.raises(BadInputError, match="without a VQA answer classifier") as err:
        vilt.load_vilt(folder)
    assert err.value.path == str(folder)


def test_a_head_without_answer_names_is_refused(tmp_path):
    folder = tmp_path / "unnamed"
    config = transformers.ViltConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=64, image_size=32, patch_size=8, max_position_embeddings=40,
                                     vocab_size=len(WORDS), num_labels=3)
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        transformers.ViltForQuestionAnswering(config).save_pretrained(folder)
        transformers.BertTokenizerFast(vocab=str(vocab)).save_pretrained(folder)
    with pytest.raises(BadInputError, match="does not name the answers of its 3 classifier rows") as err:
        vilt.load_vilt(folder)
    assert err.value.path == str(folder)


def test_names():
    assert vilt.is_vilt("vilt:/a/b") and not vilt.is_vilt("hf:x")
    assert vilt.source_of("vilt: dandelin/vilt-b32-finetuned-vqa") == "dandelin/vilt-b32-finetuned-vqa"
    with pytest.raises(BadInputError):
        vilt.source_of("vilt:")


def test_a_hub_id_loads_from_the_users_cache_without_network(folder, tmp_path, monkeypatch):
    import shutil

    from huggingface_hub import constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--someone--tiny-vilt-vqa"
    shutil.copytree(folder, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    proposer = vilt.load_vilt("someone/tiny-vilt-vqa")
    assert proposer.answers == ["yes", "no", "2", "red", "blue"] and proposer.spec.mean == tuple(MEAN)
    with pytest.raises(BadInputError, match="not a Hugging Face hub id in the local cache") as err:
        vilt.load_vilt("someone/not-cached")
    assert err.value.path == "someone/not-cached"
