"""Run under torchrun by test_distributed.py: train a tiny DCGAN, then each rank writes a
fingerprint of its generator weights so the test can check the ranks stayed in step."""

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.caches import load_cache  # noqa: E402
from core.gan.losses import BCEGANLoss  # noqa: E402
from core.gan.trainer import GANRun, GANTrainer, TrainConfig  # noqa: E402
from core.models.dcgan import DCGANConfig, Discriminator, Generator, weights_init  # noqa: E402

data, out = Path(sys.argv[1]), Path(sys.argv[2])
cfg = DCGANConfig(ngf=8, ndf=8)
run = GANRun(Generator(cfg), Discriminator(cfg), BCEGANLoss(), load_cache(data), out,
             model_config={"arch": "dcgan", **cfg.to_dict()}, init=weights_init)
trainer = GANTrainer(run, TrainConfig(epochs=2, batch_size=8, n_snapshot=4), device="cpu", progress=False)
trainer.train()
digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in trainer.G.parameters())).hexdigest()
(out / f"rank{trainer.rank}-of-{trainer.world}.sha256").write_text(digest)
trainer.close()
