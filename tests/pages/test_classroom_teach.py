"""Classroom's "what GAN Lab shows": D or G alone, k, the loss switch, G's gradient arrows, the noise grid."""

import json

import numpy as np
import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from core.gan import toygan
from core.gan.toygan import ToyGANTrainer
from ui.charts.toygan import OFF_CHART_NAME, off_chart, points_chart

PAGE = "pages/classroom.py"

pytestmark = pytest.mark.filterwarnings("ignore")


def open_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def trainer(at: AppTest) -> ToyGANTrainer:
    return at.session_state["toy_trainer"]


def traces(at: AppTest) -> list[tuple[str, str | None]]:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return [(t["type"], t.get("name")) for t in spec["data"]]


def step(at: AppTest) -> AppTest:
    at.button[0].click().run()  # "Step"
    assert not at.exception, at.exception
    return at


def test_the_controls_exist_with_help_and_default_to_the_dcgan_recipe():
    at = open_page()
    assert at.expander[0].label == "Advanced: what GAN Lab shows"
    widgets = {"toy_train_what": at.radio(key="toy_train_what"), "toy_loss": at.radio(key="toy_loss"),
               "toy_k": at.select_slider(key="toy_k"), "toy_arrows": at.toggle(key="toy_arrows"),
               "toy_grid": at.toggle(key="toy_grid")}
    assert all(w.help for w in widgets.values()), "every control explains itself"
    assert widgets["toy_train_what"].value == toygan.TRAIN_BOTH and widgets["toy_loss"].value == toygan.LOG_LOSS
    assert widgets["toy_k"].value == 1 and not widgets["toy_arrows"].value and not widgets["toy_grid"].value
    assert [b.label for b in at.button] == ["Step", "Play", "Reset"]
    captions = " ".join(c.value for c in at.caption)
    for look_for in ("*D only*", "*G only*", "larger k", "clipped to [0, 1]", "arrows point", "Grey mesh"):
        assert look_for in captions, look_for
    assert traces(at) == [("heatmap", "D(x)"), ("scatter", "real"), ("scatter", "generated")]


def test_step_trains_d_only_g_only_or_both_with_k():
    at = open_page()
    steps = at.select_slider(key="toy_steps").value
    at.radio(key="toy_train_what").set_value(toygan.TRAIN_D).run()
    fake_before = trainer(at).generated_points()
    step(at)
    t = trainer(at)
    assert (t.steps_done, t.d_updates, t.g_updates) == (steps, steps, 0)
    np.testing.assert_array_equal(fake_before, t.generated_points())  # D alone: the gold points stay
    assert any(c.value == f"{steps} D updates and 0 G updates so far." for c in at.caption)
    at.radio(key="toy_train_what").set_value(toygan.TRAIN_G).run()
    step(at)
    assert (t.d_updates, t.g_updates) == (steps, steps)
    at.radio(key="toy_train_what").set_value(toygan.TRAIN_BOTH)
    at.select_slider(key="toy_k").set_value(3).run()
    step(at)
    assert trainer(at) is t and t.config.d_steps == 3
    assert (t.steps_done, t.d_updates, t.g_updates) == (3 * steps, steps + 3 * steps, 2 * steps)
    assert any(m.value == f"**Step {3 * steps}**" for m in at.markdown)


def test_least_squares_starts_again_and_draws_its_clipped_output():
    at = open_page()
    step(at)
    at.radio(key="toy_loss").set_value(toygan.LEAST_SQUARES).run()
    assert not at.exception, at.exception
    t = trainer(at)
    assert t.config.loss == toygan.LEAST_SQUARES and t.steps_done == 0, "a new loss starts again"
    said = "Started again from step 0: the loss changed (the last run had reached step 50)."
    assert [c.value for c in at.caption if "Started again" in c.value] == [f":material/restart_alt: {said}"]
    assert [toast.value for toast in at.toast] == [said]
    step(at)
    assert t.steps_done > 0 and np.isfinite(t.history["loss_g"]).all()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "clipped" in spec["data"][0]["colorbar"]["title"]["text"]
    losses = json.loads(at.get("plotly_chart")[1].proto.spec)
    dashed = sorted(shape["y0"] for shape in losses["layout"]["shapes"])
    assert dashed == pytest.approx(sorted(toygan.equilibrium_losses(toygan.LEAST_SQUARES)))
    assert any("least-squares Loss_D" in c.value for c in at.caption)


def test_arrows_and_grid_are_drawn_on_the_points_chart():
    at = open_page()
    at.toggle(key="toy_arrows").set_value(True)
    at.toggle(key="toy_grid").set_value(True).run()
    step(at)
    drawn = [trace for trace in traces(at) if trace[1] != OFF_CHART_NAME]  # early steps send some points far
    assert drawn == [("heatmap", "D(x)"), ("scatter", "real"), ("scatter", "generated"),
                     ("scatter", "G's noise grid"), ("scatter", "G's gradient")]
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    grid, arrows = spec["data"][-2], spec["data"][-1]
    lines, per_line = 2 * 11, 41  # the page's GRID_LINES in each direction, GRID_POINTS_PER_LINE each
    assert len(grid["x"]) == lines * (per_line + 1) and grid["x"].count(None) == lines
    n = 250  # the page's ARROW_POINTS
    assert len(arrows["x"]) == 3 * n and arrows["x"][2::3] == [None] * n
    t = trainer(at)
    points, directions = t.generator_gradients()
    start = np.array([arrows["x"][0::3], arrows["y"][0::3]]).T
    end = np.array([arrows["x"][1::3], arrows["y"][1::3]]).T
    np.testing.assert_allclose(start, points[:n], atol=1e-5)
    lengths = np.linalg.norm(end - start, axis=1)
    assert lengths.max() == pytest.approx(0.45, rel=1e-4)  # ARROW_MAX_LEN: the longest arrow
    cos = np.sum((end - start) * directions[:n], axis=1) / (lengths * np.linalg.norm(directions[:n], axis=1) + 1e-12)
    assert (cos[lengths > 1e-3] > 0.999).all(), "each arrow points along -d(loss_G)/dx"
    captions = " ".join(c.value for c in at.caption)
    assert "Brown arrows" in captions and "the other 6 set to 0" in captions


def test_the_coverage_readout_says_spread_before_closeness():
    at = open_page()
    assert [m.label for m in at.metric] == ["Modes covered", "Close to some centre"]
    caption = next(c.value for c in at.caption if "Read the left number first" in c.value)
    assert "counts spread" in caption and "closeness, not spread" in caption and "mode collapse" in caption


def restart_captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption if "Started again" in c.value]


def test_a_setting_that_starts_again_says_so_and_one_that_does_not_keeps_the_run():
    at = open_page()
    at.select_slider(key="toy_lr_g").set_value(2e-4).run()  # nothing trained yet: nothing to lose, nothing said
    assert not restart_captions(at) and not at.toast
    step(at)
    t = trainer(at)
    at.select_slider(key="toy_lr_d").set_value(5e-3)
    at.select_slider(key="toy_k").set_value(2).run()  # learning rates and k change the run in place
    assert trainer(at) is t and t.steps_done == 50 and not restart_captions(at) and not at.toast
    at.number_input(key="toy_seed").set_value(3).run()
    assert trainer(at).steps_done == 0 and trainer(at).config.lr_d == 5e-3, "a new run keeps the other settings"
    assert restart_captions(at) == [":material/restart_alt: Started again from step 0: the seed changed (the last "
                                    "run had reached step 50)."]
    assert len(at.toast) == 1 and "the seed changed" in at.toast[0].value
    step(at)
    assert len(restart_captions(at)) == 1 and not at.toast, "the caption stays with the new run, the toast goes"
    at.selectbox(key="toy_distribution").set_value("two moons").run()
    assert restart_captions(at) == [":material/restart_alt: Started again from step 0: the distribution changed "
                                    "(the last run had reached step 50)."]


def test_g_only_sends_every_point_off_the_chart_and_the_page_says_so():
    at = open_page()
    at.radio(key="toy_train_what").set_value(toygan.TRAIN_G).run()
    for _ in range(4):
        step(at)
    assert off_chart(trainer(at).generated_points()).all(), "the case the tester saw: an empty red square"
    warning = " ".join(w.value for w in at.warning)
    assert "All 1,000 gold points are beyond the chart's edge" in warning and "*G only*" in warning
    assert "open circles" in warning
    assert traces(at)[-1] == ("scatter", OFF_CHART_NAME)
    pinned = points_chart(trainer(at)).data[-1]  # what the page drew, as a figure
    assert len(pinned.x) == 1000 and np.abs(np.concatenate([pinned.x, pinned.y])).max() == toygan.EXTENT


@pytest.mark.parametrize("loss", toygan.LOSSES)
def test_no_setting_empties_the_chart_without_a_word(loss):
    """Every way to train, with either loss: gold points are either on the chart or pinned to its edge."""
    for train in toygan.TRAIN_WHAT:
        t = ToyGANTrainer(toygan.ToyGANConfig(loss=loss))
        for _ in range(6):
            t.step(50, train=train)
            fig = points_chart(t)
            shown = {trace.name: len(trace.x) for trace in fig.data if trace.name != "real" and trace.x is not None}
            assert shown.get("generated", 0) + shown.get(OFF_CHART_NAME, 0) == 1000, (loss, train, shown)
            for trace in fig.data:
                if trace.name == OFF_CHART_NAME:
                    assert np.abs(np.concatenate([trace.x, trace.y])).max() <= toygan.EXTENT


def test_some_points_off_the_chart_get_a_caption():
    at = open_page()
    step(at)  # the first 50 steps of the default run throw some points far out before D reins them in
    outside = int(off_chart(trainer(at).generated_points()).sum())
    assert 0 < outside < 1000
    assert any(c.value.startswith(f"{outside:,} of 1,000 gold points are beyond the chart's edge") for c in at.caption)
