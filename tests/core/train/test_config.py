"""Training arguments: the demo preset, per-modality encoder options, the learning-rate schedule."""
import pytest

from vqa_studio.core.data.dataset import Encoders
from vqa_studio.core.data.vocab import AnswerVocab, Vocab
from vqa_studio.core.train.config import TrainingArgs
from vqa_studio.core.train.loop import lr_at
from vqa_studio.core.train.pipeline import model_config
from vqa_studio.core.types import ItemKind


def _encoders():
    return Encoders(Vocab.build(["what color is the circle", "how many things"]), AnswerVocab.build(["red", "2"]))


def test_demo_preset_and_its_encoder_options_per_modality():
    args = TrainingArgs.for_demo(time_limit_s=30, threads=1, batch_size=128,
                                 cloud_encoder_options={"n_neighbours": 24})
    assert args.time_limit_s == 30 and args.threads == 1 and args.batch_size == 128
    demo = TrainingArgs.for_demo()
    assert demo.time_limit_s > 0 and demo.epochs > TrainingArgs().epochs  # the budget, not epochs, ends it
    cloud = model_config(args, ItemKind.CLOUD, _encoders())
    image = model_config(args, ItemKind.IMAGE, _encoders())
    assert cloud.media_options == {"n_neighbours": 24} and cloud.media_encoder == "pointnet"
    assert image.media_options == {} and image.media_encoder == "cnn_grid"  # the cloud's options stay off images
    assert image.tag_head and image.fusion == "concept" and image.classifier_dropout > 0  # MC-dropout needs it
    # a round trip through the run's stored config
    assert TrainingArgs.from_dict(args.to_dict()) == args
    with pytest.raises(TypeError):
        TrainingArgs.for_demo(no_such_field=1)


def test_learning_rate_warms_up_then_anneals():
    lr = 1e-3
    assert lr_at(0.0, lr, 0.1) == pytest.approx(lr / 25)
    assert lr_at(0.1, lr, 0.1) == pytest.approx(lr)
    assert lr_at(0.55, lr, 0.1) == pytest.approx(lr / 1000 + (lr - lr / 1000) * 0.5)
    assert lr_at(1.0, lr, 0.1) == pytest.approx(lr / 1000)
    values = [lr_at(p / 100, lr, 0.1) for p in range(10, 101)]
    assert all(a >= b for a, b in zip(values, values[1:]))  # monotone after the warm-up
