"""A GAN small enough to watch learn: 2-D toy distributions, an MLP generator and discriminator.

The Classroom page steps a `ToyGANTrainer` a few dozen iterations per click and draws three
things it returns: real sample points, the generator's points for one fixed noise batch (so
frames differ only because G changed), and the discriminator's probability of "real" over a grid
(its decision surface). Everything runs on the CPU: the networks are a few thousand parameters,
where a GPU's launch overhead would cost more than the arithmetic.

What Google's GAN Lab (Kahng et al., 2018) shows, the trainer can show too: steps of D alone or
G alone (`step(n, train="D")`), k discriminator updates per generator update (`d_steps`, the k of
Goodfellow et al. 2014's Algorithm 1), the two losses of this project's seed models (`loss`: the
DCGAN's log loss or the LSGAN's least squares), the way G's loss would move each generated point
(`generator_gradients`), and G's image of a grid laid over two noise dimensions (`noise_grid`).

Mode coverage on the ring follows the 8-Gaussians benchmark of Metz et al. (Unrolled GANs, 2017)
and Srivastava et al. (VEEGAN, 2017): a generated point is *high quality* when it lies within 3
standard deviations of its nearest centre, and a mode counts as *covered* when it holds enough
of the generated points (here at least a quarter of its fair share, see `mode_coverage`). The
ceiling is below 100%: 3 sigma around a 2-D Gaussian's centre holds 1 - exp(-9/2) = 98.9% of it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# The ring: 8 Gaussians on a circle. Neighbouring centres are 2 * 2 * sin(pi / 8) = 1.53 apart,
# five times the 3-sigma radius, so "which mode is this point on" is never ambiguous.
RING_MODES = 8
RING_RADIUS = 2.0
RING_STD = 0.1
MOONS_NOISE = 0.05  # scikit-learn's make_moons noise level that its examples use
LINE_NOISE = 0.02  # a segment, thickened just enough to be visible
EXTENT = 3.0  # every distribution fits in [-3, 3]^2, the plot range of all charts

# Coverage measure (module docstring): within N_SIGMA of a centre is high quality; a mode is
# covered with at least COVERED_FAIR_SHARE of the 1/8 of points a perfect generator gives it.
N_SIGMA = 3.0
COVERED_FAIR_SHARE = 0.25

# The adversarial losses (`ToyGANConfig.loss`), as in core.gan.losses' BCEGANLoss and LeastSquaresGANLoss
LOG_LOSS, LEAST_SQUARES = "log loss", "least squares"
LOSSES = (LOG_LOSS, LEAST_SQUARES)
TRAIN_BOTH, TRAIN_D, TRAIN_G = "both", "D", "G"  # what one `step` updates
TRAIN_WHAT = (TRAIN_BOTH, TRAIN_D, TRAIN_G)
MAX_D_STEPS = 5
NOISE_GRID_SPAN = 2.0  # the noise grid covers [-2, 2] in each of its two dimensions: 95% of a standard normal


def ring_centres(n_modes: int = RING_MODES, radius: float = RING_RADIUS) -> np.ndarray:
    """(n_modes, 2) centres evenly spaced on a circle, the first at angle 0."""
    angles = 2 * math.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


_RING_CENTRES = torch.from_numpy(ring_centres()).float()  # once: every training step samples the ring


def sample_ring(n: int, gen: torch.Generator) -> torch.Tensor:
    which = torch.randint(0, RING_MODES, (n,), generator=gen)
    return _RING_CENTRES[which] + RING_STD * torch.randn(n, 2, generator=gen)


def sample_moons(n: int, gen: torch.Generator) -> torch.Tensor:
    """scikit-learn's make_moons (two interleaved half circles), centred and scaled to fill the plot."""
    t = math.pi * torch.rand(n, generator=gen)
    upper = torch.rand(n, generator=gen) < 0.5
    x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
    y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
    points = torch.stack([x - 0.5, y - 0.25], dim=1) * 1.6
    return points + MOONS_NOISE * torch.randn(n, 2, generator=gen)


def sample_line(n: int, gen: torch.Generator) -> torch.Tensor:
    """Points spread evenly along the segment from (-2, -1) to (2, 1)."""
    t = torch.rand(n, 1, generator=gen)
    start, end = torch.tensor([-2.0, -1.0]), torch.tensor([2.0, 1.0])
    return start + t * (end - start) + LINE_NOISE * torch.randn(n, 2, generator=gen)


@dataclass(frozen=True)
class ToyDistribution:
    name: str
    title: str
    sample: Callable[[int, torch.Generator], torch.Tensor]  # (n, generator) -> (n, 2) points


DISTRIBUTIONS: dict[str, ToyDistribution] = {
    d.name: d
    for d in [
        ToyDistribution("ring", "Ring: 8 Gaussians on a circle", sample_ring),
        ToyDistribution("two moons", "Two moons", sample_moons),
        ToyDistribution("line", "Line: points on a segment", sample_line),
    ]
}


def get_distribution(name: str) -> ToyDistribution:
    try:
        return DISTRIBUTIONS[name]
    except KeyError:
        raise ValueError(f"unknown toy distribution {name!r}; valid names: {', '.join(DISTRIBUTIONS)}") from None


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the toy nets' tiny ops on one thread, then restore the thread count.

    Splitting a 256x64 matmul over threads costs more than it saves, and when other processes
    keep every core busy the worker threads spin waiting for each other: 50 steps took 53 s on
    2 threads of a loaded 2-core machine and 1 s on one. PyTorch keeps this setting per calling
    thread under OpenMP, so other sessions' face generation keeps its threads.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ----------------------------------------------------------------------------- networks


def mlp(n_in: int, hidden: int, n_out: int, depth: int) -> nn.Sequential:
    """`depth` hidden layers of `hidden` units with LeakyReLU (ReLU's dead units stall tiny GANs)."""
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
        width = hidden
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


@dataclass
class ToyGANConfig:
    distribution: str = "ring"
    lr_g: float = 1e-3  # Adam; the toy nets tolerate 5x the DCGAN paper's 2e-4, and learn in a class period
    lr_d: float = 1e-3
    beta1: float = 0.5  # the DCGAN paper's Adam momentum: less overshoot in the two-player game
    batch_size: int = 256  # real and fake points per step
    nz: int = 8  # latent size: a few dimensions give G room to tear the noise into separate modes
    hidden: int = 64  # 4x cheaper than 128 and learns the ring as well; 50 steps stay well under a second
    depth: int = 3  # hidden layers in G and in D
    seed: int = 0
    n_fixed: int = 1000  # the fixed noise batch the charts show (and coverage counts)
    d_steps: int = 1  # k: discriminator updates per generator update in a "both" step (1 to MAX_D_STEPS)
    loss: str = LOG_LOSS  # LOG_LOSS (non-saturating BCE, the DCGAN seed) or LEAST_SQUARES (the LSGAN seed)


def check_config(c: ToyGANConfig) -> None:
    if c.loss not in LOSSES:
        raise ValueError(f"unknown loss {c.loss!r}; valid: {', '.join(LOSSES)}")
    if not 1 <= c.d_steps <= MAX_D_STEPS:
        raise ValueError(f"d_steps must be 1 to {MAX_D_STEPS}, not {c.d_steps}")


def d_loss_terms(loss: str, out_real: torch.Tensor, out_fake: torch.Tensor) -> torch.Tensor:
    """D's loss on its raw outputs (logits) for a real and a fake batch.

    Log loss: -mean log D(x) - mean log(1 - D(G(z))), D = sigmoid(output). Least squares (LSGAN,
    Mao et al. 2017, a=0, b=c=1, with the ½ of core.gan.losses.LeastSquaresGANLoss):
    ½ mean (D(x) - 1)² + ½ mean D(G(z))², on the raw output, no sigmoid.
    """
    if loss == LEAST_SQUARES:
        return 0.5 * ((out_real - 1) ** 2).mean() + 0.5 * (out_fake**2).mean()
    return (F.binary_cross_entropy_with_logits(out_real, torch.ones_like(out_real))
            + F.binary_cross_entropy_with_logits(out_fake, torch.zeros_like(out_fake)))


def g_loss_per_point(loss: str, out_fake: torch.Tensor) -> torch.Tensor:
    """G's loss for each generated point; G's batch loss is their mean.

    Log loss: -log D(G(z)) (the non-saturating loss). Least squares: ½ (D(G(z)) - 1)².
    """
    if loss == LEAST_SQUARES:
        return 0.5 * (out_fake - 1) ** 2
    return F.binary_cross_entropy_with_logits(out_fake, torch.ones_like(out_fake), reduction="none")


def equilibrium_losses(loss: str) -> tuple[float, float]:
    """(loss D, loss G) when D says 0.5 to everything, the end of a game G wins."""
    if loss == LEAST_SQUARES:
        return 0.25, 0.125  # ½·0.25 + ½·0.25, and ½·0.25
    return 2 * math.log(2), math.log(2)


def shown_output(loss: str, out: torch.Tensor) -> torch.Tensor:
    """D's raw output as a "how real" score in [0, 1]: sigmoid for log loss, clipped for least squares."""
    if loss == LEAST_SQUARES:
        return out.clamp(0, 1)
    return torch.sigmoid(out)


class ToyGANTrainer:
    """Train a toy GAN a few steps at a time; everything it draws is reproducible from `config.seed`.

    Each step (by default): one discriminator update on a real and a fake batch (maximise
    log D(x) + log(1 - D(G(z)))), then one generator update with the non-saturating loss
    (maximise log D(G(z))), the DCGAN recipe. With `d_steps` k > 1 a step makes k D updates, each
    on fresh batches, then one G update on the last fake batch; with `loss` LEAST_SQUARES both
    losses are LSGAN's. `step(n, train="D")` or `"G"` updates only that network (the other is
    unchanged). `history` holds per step: the losses of both (the one not trained is evaluated, not
    minimised), and D's mean score of "real" (`shown_output`) on the real batch (d_real) and on the
    fake batch (d_fake). `d_updates` and `g_updates` count each network's optimiser steps.
    """

    def __init__(self, config: ToyGANConfig | None = None):
        self.config = c = config or ToyGANConfig()
        check_config(c)
        self.distribution = get_distribution(c.distribution)
        # the nets' initial weights come from the seed without touching torch's global generator
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(c.seed)
            self.generator = mlp(c.nz, c.hidden, 2, c.depth)
            self.discriminator = mlp(2, c.hidden, 1, c.depth)
        # fused: one kernel per update instead of a dozen small ops per weight; a quarter faster a step
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=c.lr_g, betas=(c.beta1, 0.999), fused=True)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=c.lr_d, betas=(c.beta1, 0.999), fused=True)
        # separate streams: training draws never shift the points shown, and the reverse
        self._train_gen = torch.Generator().manual_seed(c.seed)
        self.fixed_noise = torch.randn(c.n_fixed, c.nz, generator=torch.Generator().manual_seed(c.seed + 1))
        self._real_points = self.distribution.sample(c.n_fixed, torch.Generator().manual_seed(c.seed + 2))
        self.history: dict[str, list[float]] = {k: [] for k in ("step", "loss_d", "loss_g", "d_real", "d_fake")}
        self.d_updates = self.g_updates = 0

    @property
    def steps_done(self) -> int:
        return len(self.history["step"])

    def set_learning_rates(self, lr_g: float, lr_d: float) -> None:
        """Change both learning rates from the next step on; Adam's running moments are kept."""
        for opt, lr in ((self.opt_g, lr_g), (self.opt_d, lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr
        self.config.lr_g, self.config.lr_d = lr_g, lr_d

    def set_d_steps(self, k: int) -> None:
        """D updates per G update from the next step on."""
        if not 1 <= k <= MAX_D_STEPS:
            raise ValueError(f"d_steps must be 1 to {MAX_D_STEPS}, not {k}")
        self.config.d_steps = k

    def step(self, n: int = 1, train: str = TRAIN_BOTH) -> None:
        """Train `n` iterations, appending each to `history`.

        `train`: TRAIN_BOTH (d_steps D updates, then one G update), TRAIN_D (one D update, G fixed)
        or TRAIN_G (one G update against the fixed D).
        """
        if train not in TRAIN_WHAT:
            raise ValueError(f"train must be one of {', '.join(TRAIN_WHAT)}, not {train!r}")
        one = {TRAIN_BOTH: self._train_step, TRAIN_D: self._d_only_step, TRAIN_G: self._g_only_step}[train]
        with one_thread():
            for _ in range(n):
                one()

    def train_for(self, seconds: float, max_steps: int) -> int:
        """Train whole steps until `seconds` have passed: at least one, at most `max_steps`; returns how many.

        A Play frame trains this way, so a slower CPU gives fewer steps a frame rather than longer
        frames, and a Pause click waits for one short frame.
        """
        deadline = time.perf_counter() + seconds
        done = 0
        with one_thread():
            while done < max_steps:
                self._train_step()
                done += 1
                if time.perf_counter() >= deadline:
                    break
        return done

    def _d_update(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One D update on fresh batches: (loss_d, out_real, out_fake, fake), fake still attached to G."""
        c, G, D = self.config, self.generator, self.discriminator
        real = self.distribution.sample(c.batch_size, self._train_gen)
        z = torch.randn(c.batch_size, c.nz, generator=self._train_gen)
        fake = G(z)
        # G's output is detached, G is not updated here
        out_real, out_fake = D(real), D(fake.detach())
        loss_d = d_loss_terms(c.loss, out_real, out_fake)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        self.d_updates += 1
        return loss_d, out_real, out_fake, fake

    def _g_update(self, fake: torch.Tensor) -> torch.Tensor:
        """One G update on `fake` (made by G with grad) against the current D; returns loss_g."""
        D = self.discriminator
        # D's weights are frozen meanwhile, so the backward pass skips their gradients, which D's
        # step would discard
        D.requires_grad_(False)
        try:
            loss_g = g_loss_per_point(self.config.loss, D(fake)).mean()
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
        finally:
            D.requires_grad_(True)
        self.opt_g.step()
        self.g_updates += 1
        return loss_g

    def _train_step(self) -> None:
        # (1) k D updates: maximise log D(x) + log(1 - D(G(z))) (or LSGAN's D loss); (2) one G
        # update, maximise log D(G(z)) against the just-updated D, on the last D update's fake batch
        for _ in range(self.config.d_steps):
            loss_d, out_real, out_fake, fake = self._d_update()
        loss_g = self._g_update(fake)
        self._record(loss_d, loss_g, out_real, out_fake)

    def _d_only_step(self) -> None:
        loss_d, out_real, out_fake, fake = self._d_update()
        with torch.no_grad():  # what G's loss is against the new D; G does not move
            loss_g = g_loss_per_point(self.config.loss, self.discriminator(fake)).mean()
        self._record(loss_d, loss_g, out_real, out_fake)

    def _g_only_step(self) -> None:
        c, G, D = self.config, self.generator, self.discriminator
        real = self.distribution.sample(c.batch_size, self._train_gen)
        z = torch.randn(c.batch_size, c.nz, generator=self._train_gen)
        fake = G(z)
        with torch.no_grad():  # what D's loss is on these batches; D does not move
            out_real, out_fake = D(real), D(fake)
            loss_d = d_loss_terms(c.loss, out_real, out_fake)
        loss_g = self._g_update(fake)
        self._record(loss_d, loss_g, out_real, out_fake)

    def _record(self, loss_d: torch.Tensor, loss_g: torch.Tensor, out_real: torch.Tensor,
                out_fake: torch.Tensor) -> None:
        h, loss = self.history, self.config.loss
        h["step"].append(self.steps_done + 1)
        h["loss_d"].append(loss_d.item())
        h["loss_g"].append(loss_g.item())
        h["d_real"].append(shown_output(loss, out_real).mean().item())
        h["d_fake"].append(shown_output(loss, out_fake).mean().item())

    def real_points(self) -> np.ndarray:
        """(n_fixed, 2) points from the true distribution, the same ones every call."""
        return self._real_points.numpy().copy()

    @torch.no_grad()
    def generated_points(self) -> np.ndarray:
        """(n_fixed, 2): G applied to the same fixed noise batch every call."""
        with one_thread():
            return self.generator(self.fixed_noise).numpy()

    def generator_gradients(self) -> tuple[np.ndarray, np.ndarray]:
        """(points, directions), both (n_fixed, 2): each fixed-noise point and -d(loss_G)/d(point).

        The gradient is of that point's own term of G's loss (`g_loss_per_point`; the batch loss
        is their mean, so its gradient is this over n_fixed): the way G's loss would like the point
        to move, against the current D. G's weights move to follow these pulls, so points move
        roughly, not exactly, along them.
        """
        with one_thread(), torch.no_grad():
            points = self.generator(self.fixed_noise)
        points.requires_grad_(True)
        D = self.discriminator
        D.requires_grad_(False)
        try:
            with one_thread():
                g_loss_per_point(self.config.loss, D(points)).sum().backward()
        finally:
            D.requires_grad_(True)
        return points.detach().numpy(), (-points.grad).numpy()

    @torch.no_grad()
    def noise_grid(self, lines: int = 11, points_per_line: int = 41,
                   span: float = NOISE_GRID_SPAN) -> np.ndarray:
        """G's image of a square grid over noise dimensions 0 and 1 (the others 0): (2, lines, points_per_line, 2).

        [0, i] is the line z0 = i-th of `lines` values in [-span, span] with z1 running over
        `points_per_line` values; [1, i] the line z1 = that value with z0 running. With nz == 2
        this is G's whole map; with more it is a slice through the noise space's centre.
        """
        ticks = torch.linspace(-span, span, lines)
        run = torch.linspace(-span, span, points_per_line)
        z = torch.zeros(2, lines, points_per_line, self.config.nz)
        z[0, :, :, 0], z[0, :, :, 1] = ticks[:, None], run[None, :]
        z[1, :, :, 1], z[1, :, :, 0] = ticks[:, None], run[None, :]
        with one_thread():
            return self.generator(z.reshape(-1, self.config.nz)).reshape(2, lines, points_per_line, 2).numpy()

    @torch.no_grad()
    def decision_surface(self, resolution: int = 80, extent: float = EXTENT) -> tuple[np.ndarray, np.ndarray]:
        """(axis, probs): D's score of "real" (`shown_output`) at every point of a square grid.

        With log loss that is D's probability of "real"; with least squares, D's raw output clipped
        to [0, 1]. `axis` (resolution,) holds the coordinates along x and along y; probs[i, j] is
        D's output at (x=axis[j], y=axis[i]), the row-major layout of a heatmap.
        """
        axis = torch.linspace(-extent, extent, resolution)
        yy, xx = torch.meshgrid(axis, axis, indexing="ij")
        grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)
        with one_thread():
            probs = shown_output(self.config.loss, self.discriminator(grid)).reshape(resolution, resolution)
        return axis.numpy(), probs.numpy()

    def coverage(self) -> ModeCoverage | None:
        """Mode coverage of the fixed-noise points; None for distributions without discrete modes."""
        if self.distribution.name != "ring":
            return None
        return mode_coverage(self.generated_points(), ring_centres(), RING_STD)


@dataclass(frozen=True)
class ModeCoverage:
    modes_covered: int
    n_modes: int
    high_quality_share: float  # share of all points within N_SIGMA std of their nearest centre
    counts: tuple[int, ...]  # high-quality points per mode
    min_points: int  # what a mode needs to count as covered


def mode_coverage(points: np.ndarray, centres: np.ndarray, std: float, n_sigma: float = N_SIGMA,
                  fair_share: float = COVERED_FAIR_SHARE) -> ModeCoverage:
    """How many modes the points cover, and how many points sit on a mode at all.

    Each point goes to its nearest centre if it lies within `n_sigma` standard deviations of it
    (a "high-quality" point), else to none. A mode is covered when it holds at least
    `fair_share` of the points a perfect generator would put there (len(points) / n_modes):
    with 8 modes and the default 0.25, that is 1/32 of all points, about 3%.
    """
    points = np.asarray(points, dtype=float)
    centres = np.asarray(centres, dtype=float)
    dist = np.linalg.norm(points[:, None, :] - centres[None, :, :], axis=2)  # (n_points, n_modes)
    nearest = dist.argmin(axis=1)
    good = dist[np.arange(len(points)), nearest] <= n_sigma * std
    counts = np.bincount(nearest[good], minlength=len(centres))
    min_points = max(1, math.ceil(fair_share * len(points) / len(centres)))
    return ModeCoverage(
        modes_covered=int((counts >= min_points).sum()),
        n_modes=len(centres),
        high_quality_share=float(good.mean()) if len(points) else 0.0,
        counts=tuple(int(c) for c in counts),
        min_points=min_points,
    )
