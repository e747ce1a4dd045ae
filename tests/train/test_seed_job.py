"""train.seed_job: each detector alone on one generator's faces against real photos."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from core.detection.judge import Judge
from core.models.detectors import CROP_SIZE


class Brightness(nn.Module):
    """A detector whose logit is the crop's mean brightness: it tells bright faces from dark ones."""

    def __init__(self, sign: float = 1.0):
        super().__init__()
        self.sign = nn.Parameter(torch.tensor(sign))

    def forward(self, x):
        return self.sign * x.mean((1, 2, 3)) * 10


def test_each_detector_gets_its_own_auc_per_generator():
    from train.seed_job import seed_job_aucs

    rng = np.random.default_rng(0)
    real = rng.integers(0, 100, (12, CROP_SIZE, CROP_SIZE, 3), np.uint8)
    bright = rng.integers(150, 256, (10, CROP_SIZE, CROP_SIZE, 3), np.uint8)
    judge = Judge({"right": (Brightness(1.0), 1.0), "wrong": (Brightness(-1.0), 1.0)}, face_detector=object())
    aucs = seed_job_aucs(judge, real, {"bright": bright})
    assert aucs == {"bright": {"right": 1.0, "wrong": 0.0}}


def test_the_command_parses():
    from train.seed_job import parser

    args = parser().parse_args(["--generators", "dcgan-64", "--threads", "1"])
    assert args.generators == ["dcgan-64"] and args.threads == 1 and args.detectors is None
