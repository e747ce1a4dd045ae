"""core.gan.toygan: the 2-D toy GAN the Classroom page trains, and its mode-coverage measure."""

import numpy as np
import pytest
import torch

from core.gan import toygan
from core.gan.toygan import ToyGANConfig, ToyGANTrainer, mode_coverage, ring_centres

LEARN_STEPS = 1500  # seeds 1-5 cover 7 or 8 of 8 modes from here on (measured); seed 0 4-6, by CPU


# --- distributions ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(toygan.DISTRIBUTIONS))
def test_distributions_sample_2d_points_inside_the_plot(name):
    points = toygan.get_distribution(name).sample(2000, torch.Generator().manual_seed(0))
    assert points.shape == (2000, 2)
    assert points.abs().max() < toygan.EXTENT
    again = toygan.get_distribution(name).sample(2000, torch.Generator().manual_seed(0))
    assert torch.equal(points, again)


def test_unknown_distribution_lists_the_valid_ones():
    with pytest.raises(ValueError, match="ring"):
        ToyGANTrainer(ToyGANConfig(distribution="spiral"))


def test_real_ring_points_cover_every_mode():
    """The measure's ceiling: 8 of 8 covered, and 1 - exp(-9/2) = 98.9% of a 2-D Gaussian lies within 3 sigma."""
    points = toygan.sample_ring(4000, torch.Generator().manual_seed(1)).numpy()
    cov = mode_coverage(points, ring_centres(), toygan.RING_STD)
    assert cov.modes_covered == 8
    assert cov.high_quality_share == pytest.approx(1 - np.exp(-4.5), abs=0.005)


# --- mode_coverage ------------------------------------------------------------------------------

def test_mode_coverage_hand_checked():
    centres = ring_centres()
    std = 0.1
    on_0 = np.repeat(centres[:1], 20, axis=0)
    on_1 = np.repeat(centres[1:2] + [0.25, 0.0], 10, axis=0)  # 2.5 sigma off: still high quality
    near_2 = np.repeat(centres[2:3], 1, axis=0)  # one point: below a quarter of its fair share
    far = np.repeat(centres[3:4] + [0.35, 0.0], 9, axis=0)  # 3.5 sigma off: not on any mode
    cov = mode_coverage(np.concatenate([on_0, on_1, near_2, far]), centres, std)
    # 40 points: a fair share is 5 per mode, a quarter of it rounds up to 2
    assert cov.min_points == 2
    assert cov.counts == (20, 10, 1, 0, 0, 0, 0, 0)
    assert cov.modes_covered == 2
    assert cov.high_quality_share == pytest.approx(31 / 40)


def test_collapsed_points_cover_one_mode():
    centres = ring_centres()
    collapsed = centres[5] + 0.05 * np.random.default_rng(0).standard_normal((1000, 2))
    cov = mode_coverage(collapsed, centres, toygan.RING_STD)
    assert cov.modes_covered == 1 and cov.counts[5] == 1000


# --- the trainer --------------------------------------------------------------------------------

def test_step_counts_and_history_lengths():
    trainer = ToyGANTrainer()
    assert trainer.steps_done == 0 and all(len(v) == 0 for v in trainer.history.values())
    trainer.step(3)
    trainer.step(7)
    assert trainer.steps_done == 10
    assert set(trainer.history) == {"step", "loss_d", "loss_g", "d_real", "d_fake"}
    assert all(len(v) == 10 for v in trainer.history.values())
    assert trainer.history["step"] == list(range(1, 11))
    assert all(np.isfinite(trainer.history["loss_d"])) and all(np.isfinite(trainer.history["loss_g"]))
    assert all(0 <= p <= 1 for p in trainer.history["d_real"] + trainer.history["d_fake"])


def test_training_runs_on_one_thread_and_restores_the_count():
    before = torch.get_num_threads()
    seen = []
    trainer = ToyGANTrainer()
    trainer.discriminator.register_forward_pre_hook(lambda *_: seen.append(torch.get_num_threads()))
    trainer.step(2)
    trainer.decision_surface(8)
    assert seen and set(seen) == {1}
    assert torch.get_num_threads() == before


def test_same_seed_same_run_other_seed_other_run():
    a, b, c = ToyGANTrainer(ToyGANConfig(seed=5)), ToyGANTrainer(ToyGANConfig(seed=5)), ToyGANTrainer(ToyGANConfig(seed=6))
    torch.manual_seed(123)  # the global generator must not matter
    a.step(25)
    torch.manual_seed(999)
    b.step(25)
    c.step(25)
    assert a.history == b.history
    np.testing.assert_array_equal(a.generated_points(), b.generated_points())
    assert a.history["loss_d"] != c.history["loss_d"]


def test_shown_points_are_fixed_between_calls_and_real_points_do_not_move():
    trainer = ToyGANTrainer()
    real, fake = trainer.real_points(), trainer.generated_points()
    assert real.shape == fake.shape == (trainer.config.n_fixed, 2)
    np.testing.assert_array_equal(fake, trainer.generated_points())  # same noise batch every call
    trainer.step(5)
    np.testing.assert_array_equal(real, trainer.real_points())
    assert not np.array_equal(fake, trainer.generated_points())  # only G's training moved them


def test_decision_surface_layout_matches_the_discriminator():
    trainer = ToyGANTrainer()
    trainer.step(5)
    axis, probs = trainer.decision_surface(resolution=21, extent=3.0)
    assert axis.shape == (21,) and probs.shape == (21, 21)
    assert axis[0] == -3.0 and axis[-1] == 3.0
    assert ((probs >= 0) & (probs <= 1)).all()
    i, j = 4, 15  # row i is y = axis[i], column j is x = axis[j]
    with torch.no_grad():
        direct = torch.sigmoid(trainer.discriminator(torch.tensor([[axis[j], axis[i]]]))).item()
    assert probs[i, j] == pytest.approx(direct, abs=1e-6)


def test_set_learning_rates_reaches_the_optimizers():
    trainer = ToyGANTrainer()
    trainer.set_learning_rates(5e-3, 2e-4)
    assert trainer.opt_g.param_groups[0]["lr"] == 5e-3 and trainer.opt_d.param_groups[0]["lr"] == 2e-4
    assert (trainer.config.lr_g, trainer.config.lr_d) == (5e-3, 2e-4)


def test_coverage_only_for_the_ring():
    assert ToyGANTrainer(ToyGANConfig(distribution="two moons")).coverage() is None
    assert ToyGANTrainer(ToyGANConfig(distribution="line")).coverage() is None


def test_untrained_generator_covers_no_mode_and_training_covers_most():
    trainer = ToyGANTrainer(ToyGANConfig(seed=0))
    before = trainer.coverage()
    assert before.modes_covered <= 1 and before.high_quality_share < 0.05
    # A GAN may drop modes on one seed (seed 0 covered 6 of 8 on the machines this was written on,
    # 5 on an Intel Xeon, 4 on a later AMD EPYC: float kernels differ by CPU), so the claim is about
    # most seeds: at least two of three cover 5 or more of the 8 modes, and every seed puts most of
    # its points near a mode.
    covered = []
    for seed in (0, 1, 2):
        trainer = ToyGANTrainer(ToyGANConfig(seed=seed))
        trainer.step(LEARN_STEPS)
        after = trainer.coverage()
        assert after.high_quality_share > 0.5, (seed, after)
        covered.append(after.modes_covered)
    assert sum(c >= 5 for c in covered) >= 2, covered


# --- what GAN Lab shows: D or G alone, k, the loss switch, G's gradients and its noise grid -------

def weights(net: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("loss", toygan.LOSSES)
def test_d_only_steps_leave_g_alone_and_g_only_steps_leave_d_alone(loss):
    trainer = ToyGANTrainer(ToyGANConfig(loss=loss))
    trainer.step(3)
    g0, d0 = weights(trainer.generator), weights(trainer.discriminator)
    fake0 = trainer.generated_points()
    trainer.step(4, train="D")
    assert same(g0, weights(trainer.generator)) and not same(d0, weights(trainer.discriminator))
    np.testing.assert_array_equal(fake0, trainer.generated_points())  # the gold points stay
    d1 = weights(trainer.discriminator)
    trainer.step(5, train="G")
    assert same(d1, weights(trainer.discriminator)) and not same(g0, weights(trainer.generator))
    assert (trainer.d_updates, trainer.g_updates) == (3 + 4, 3 + 5)
    assert trainer.steps_done == 12 and all(len(v) == 12 for v in trainer.history.values())
    assert all(np.isfinite(trainer.history["loss_d"] + trainer.history["loss_g"]))


def test_unknown_train_choice_is_refused():
    with pytest.raises(ValueError, match="both"):
        ToyGANTrainer().step(1, train="neither")


@pytest.mark.parametrize("k", [1, 3, 5])
def test_k_d_updates_per_g_update(k):
    trainer = ToyGANTrainer(ToyGANConfig(d_steps=k))
    trainer.step(4)
    assert (trainer.d_updates, trainer.g_updates, trainer.steps_done) == (4 * k, 4, 4)
    assert trainer.opt_d.state[next(trainer.discriminator.parameters())]["step"].item() == 4 * k
    assert trainer.opt_g.state[next(trainer.generator.parameters())]["step"].item() == 4


def test_k_can_change_between_steps_and_is_checked():
    trainer = ToyGANTrainer()
    trainer.step(2)
    trainer.set_d_steps(3)
    trainer.step(2)
    assert (trainer.d_updates, trainer.g_updates) == (2 + 6, 4)
    with pytest.raises(ValueError):
        trainer.set_d_steps(0)
    with pytest.raises(ValueError):
        ToyGANTrainer(ToyGANConfig(d_steps=toygan.MAX_D_STEPS + 1))
    with pytest.raises(ValueError, match="least squares"):
        ToyGANTrainer(ToyGANConfig(loss="hinge"))


def test_default_options_are_the_dcgan_recipe():
    c = ToyGANConfig()
    assert (c.d_steps, c.loss) == (1, toygan.LOG_LOSS)


def test_least_squares_losses_on_a_hand_checked_case():
    out_real = torch.tensor([[1.0], [0.0], [2.0]])  # (D(x) - 1)^2: 0, 1, 1 -> mean 2/3
    out_fake = torch.tensor([[0.0], [0.5], [-1.0]])  # D(G(z))^2: 0, 0.25, 1 -> mean 1.25/3
    ls = toygan.LEAST_SQUARES
    assert toygan.d_loss_terms(ls, out_real, out_fake).item() == pytest.approx(0.5 * 2 / 3 + 0.5 * 1.25 / 3)
    # (D(G(z)) - 1)^2 / 2: 0.5, 0.125, 2
    np.testing.assert_allclose(toygan.g_loss_per_point(ls, out_fake).numpy().ravel(), [0.5, 0.125, 2.0])
    # the log loss is the BCE on the sigmoid: -log(sigmoid(0)) = ln 2
    log = toygan.LOG_LOSS
    assert toygan.g_loss_per_point(log, torch.zeros(1, 1)).item() == pytest.approx(np.log(2))
    assert toygan.d_loss_terms(log, torch.zeros(2, 1), torch.zeros(2, 1)).item() == pytest.approx(2 * np.log(2))
    # D = 0.5 everywhere: the equilibrium the loss charts draw dashed
    half = torch.full((4, 1), 0.5)
    assert toygan.equilibrium_losses(ls) == pytest.approx(
        (toygan.d_loss_terms(ls, half, half).item(), toygan.g_loss_per_point(ls, half).mean().item()))


def test_least_squares_surface_is_the_raw_output_clipped():
    trainer = ToyGANTrainer(ToyGANConfig(loss=toygan.LEAST_SQUARES))
    trainer.step(20)
    axis, probs = trainer.decision_surface(resolution=15)
    grid = torch.tensor([[x, y] for y in axis for x in axis], dtype=torch.float32)
    with torch.no_grad():
        raw = trainer.discriminator(grid).reshape(15, 15).numpy()
    np.testing.assert_allclose(probs, np.clip(raw, 0, 1), atol=1e-6)


@pytest.mark.parametrize("loss", toygan.LOSSES)
def test_generator_gradients_are_minus_autograd_of_g_loss(loss):
    trainer = ToyGANTrainer(ToyGANConfig(loss=loss))
    trainer.step(10)
    d_grads = [p.grad.clone() for p in trainer.discriminator.parameters()]
    points, directions = trainer.generator_gradients()
    assert same(d_grads, [p.grad for p in trainer.discriminator.parameters()]), "drawing leaves D's gradients alone"
    assert points.shape == directions.shape == (trainer.config.n_fixed, 2)
    np.testing.assert_allclose(points, trainer.generated_points(), atol=1e-6)
    # G's batch loss, by hand, as a function of the generated points
    x = torch.from_numpy(points.copy()).requires_grad_(True)
    out = trainer.discriminator(x)
    if loss == toygan.LEAST_SQUARES:
        batch_loss = (0.5 * (out - 1) ** 2).mean()
    else:
        batch_loss = -torch.log(torch.sigmoid(out)).mean()
    (grad,) = torch.autograd.grad(batch_loss, x)
    np.testing.assert_allclose(directions, -grad.numpy() * len(points), rtol=1e-4, atol=1e-6)
    before = trainer.history.copy()
    trainer.generator_gradients()
    assert trainer.history == before and trainer.g_updates == 10


@pytest.mark.parametrize("nz", [2, 8])
def test_noise_grid_is_g_of_a_grid_over_two_noise_dimensions(nz):
    trainer = ToyGANTrainer(ToyGANConfig(nz=nz))
    trainer.step(3)
    grid = trainer.noise_grid(lines=5, points_per_line=7, span=2.0)
    assert grid.shape == (2, 5, 7, 2)
    z = torch.zeros(1, nz)
    z[0, 0], z[0, 1] = -1.0, 2.0 / 3.0  # line 1 of z0 = -1, point 4 of z1 in linspace(-2, 2, 7)
    with torch.no_grad():
        expected = trainer.generator(z).numpy()[0]
    np.testing.assert_allclose(grid[0, 1, 4], expected, atol=1e-5)
    z[0, 0], z[0, 1] = 2.0 / 3.0, -1.0  # the other family: z1 = -1, z0 running
    with torch.no_grad():
        expected = trainer.generator(z).numpy()[0]
    np.testing.assert_allclose(grid[1, 1, 4], expected, atol=1e-5)
    np.testing.assert_allclose(grid[0, 2, 3], grid[1, 2, 3], atol=1e-6)  # both cross at the centre z = 0
