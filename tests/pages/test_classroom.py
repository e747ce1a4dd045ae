"""The Classroom page: the live toy GAN and the "which face is real?" quiz (AppTest; the real browser's
round is tests/e2e/test_classroom_browser.py)."""

import base64
import json
import re

import numpy as np
import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from core.gan.toygan import ToyGANTrainer
from core.models import registry

PAGE = "pages/classroom.py"
QUIZ = "Which face is real?"

pytestmark = pytest.mark.filterwarnings("ignore")


def open_page(quiz: bool = False, trainer: ToyGANTrainer | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if quiz:
        at.query_params["part"] = QUIZ  # the tabs are bound to ?part=
    at.run()
    if trainer is not None:
        at.session_state["toy_trainer"] = trainer
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def chart_titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def values(array) -> np.ndarray:
    """A trace's data from plotly's JSON: a list, or a typed array {"dtype", "bdata": base64}."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array)


# --- live GAN -----------------------------------------------------------------------------------

def test_live_gan_opens_with_the_points_chart_and_coverage():
    at = open_page()
    assert at.title[0].value == "Classroom"
    assert chart_titles(at) == ["Real vs generated points after 0 steps"]
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    kinds = [t["type"] for t in spec["data"]]
    assert kinds == ["heatmap", "scatter", "scatter"]  # D's surface behind real and generated points
    assert [t.get("name") for t in spec["data"][1:]] == ["real", "generated"]
    assert {m.label: m.value for m in at.metric} == {"Modes covered": "0 of 8", "Close to some centre": "0%"}
    assert [b.label for b in at.button] == ["Step", "Play", "Reset"]
    captions = " ".join(c.value for c in at.caption)
    assert "Equilibrium" in captions and "Mode collapse" in captions
    assert at.info, "before any step, the page says how to start"


def test_a_trained_session_shows_its_losses_and_coverage():
    trainer = ToyGANTrainer()
    trainer.step(120)
    at = open_page(trainer=trainer)
    assert chart_titles(at) == ["Real vs generated points after 120 steps", "Losses", "Discriminator's mean output"]
    losses = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert [t["name"] for t in losses["data"]] == ["Loss_D", "Loss_G"]
    assert len(values(losses["data"][0]["y"])) == len(values(losses["data"][1]["x"])) == 120
    coverage = trainer.coverage()
    assert {m.label: m.value for m in at.metric}["Modes covered"] == f"{coverage.modes_covered} of 8"
    assert any(m.value == "**Step 120**" for m in at.markdown)


def test_other_distributions_say_coverage_is_for_the_ring():
    at = open_page()
    at.selectbox(key="toy_distribution").set_value("two moons").run()
    assert not at.exception, at.exception
    assert not at.metric
    assert any("counted on the ring" in c.value for c in at.caption)
    assert chart_titles(at) == ["Real vs generated points after 0 steps"]


# --- the quiz -----------------------------------------------------------------------------------

def test_quiz_shows_two_faces_from_the_operators_folder(monkeypatch, two_real_photos):
    monkeypatch.setenv("FACEGAN_QUIZ_REAL_DIR", str(two_real_photos))
    at = open_page(quiz=True)
    assert not at.warning
    assert len(at.get("image")) == 2
    assert [b.label for b in at.button] == ["This one is real", "This one is real", "New round"]
    assert any("FACEGAN_QUIZ_REAL_DIR" in c.value for c in at.caption), "the source of the real photos is credited"
    assert not at.get("plotly_chart"), "the live GAN's tab is not run while the quiz is open"


def test_quiz_falls_back_to_celeba_and_credits_it(monkeypatch, celeba_dir):
    monkeypatch.delenv("FACEGAN_QUIZ_REAL_DIR", raising=False)
    at = open_page(quiz=True)
    assert len(at.get("image")) == 2
    credit = " ".join(c.value for c in at.caption)
    assert "CelebA" in credit and "non-commercial research purposes only" in credit


def test_quiz_without_real_photos_says_what_to_configure(monkeypatch, tmp_path):
    monkeypatch.delenv("FACEGAN_QUIZ_REAL_DIR", raising=False)
    monkeypatch.setenv("FACEGAN_CELEBA", str(tmp_path / "no-celeba-here"))
    at = open_page(quiz=True)
    assert len(at.warning) == 1
    assert "FACEGAN_QUIZ_REAL_DIR" in at.warning[0].value and "no-celeba-here" in at.warning[0].value
    assert not at.get("image")


def test_quiz_with_an_empty_configured_folder_names_it(monkeypatch, tmp_path):
    empty = tmp_path / "empty-quiz-folder"
    empty.mkdir()
    monkeypatch.setenv("FACEGAN_QUIZ_REAL_DIR", str(empty))
    at = open_page(quiz=True)
    assert len(at.warning) == 1 and "empty-quiz-folder" in at.warning[0].value
    assert not at.get("image")


# --- the detectors' opinions after an answer ---------------------------------------------------

VERDICTS = ("Looks real", "Looks GAN-made", "Uncertain")


def opinion_lines(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**Detectors: ")]


def test_detectors_give_their_opinions_only_after_an_answer(monkeypatch, two_real_photos):
    monkeypatch.setenv("FACEGAN_QUIZ_REAL_DIR", str(two_real_photos))
    at = open_page(quiz=True)
    assert not at.metric and not opinion_lines(at), "no opinion before the student answers"
    at.button(key="quiz_pick_0").click().run()
    assert not at.exception, at.exception
    assert at.button(key="quiz_pick_0").disabled, "the round was answered"
    detectors = registry.names("detector")
    # one line and one tile per detector under each face where MTCNN finds a face
    lines = opinion_lines(at)
    assert 1 <= len(lines) <= 2
    for line in lines:
        assert re.fullmatch(rf"\*\*Detectors: ({'|'.join(VERDICTS)})\*\* \(ensemble P\(GAN-made\) (<1|>99|\d+)%\)", line)
    tiles = [m.label for m in at.metric]
    assert tiles == detectors * len(lines)
    assert all(re.fullmatch(r"<1%|>99%|\d+%", m.value) for m in at.metric)
    no_face = [c.value for c in at.caption if "found no face" in c.value]
    assert len(lines) + len(no_face) == 2, "each face has opinions or says no face was found"
    assert any(c.value.startswith(f"Detectors ({', '.join(detectors)})") for c in at.caption)
    at.button[-1].click().run()  # New round: the opinions go with the answer
    assert not at.exception, at.exception
    assert not at.metric and not opinion_lines(at)


def test_unavailable_detectors_are_said_in_one_caption(monkeypatch, two_real_photos):
    import ui.models

    monkeypatch.setenv("FACEGAN_QUIZ_REAL_DIR", str(two_real_photos))
    monkeypatch.setattr(ui.models, "load_judge", lambda: (None, {}, {"cnn": "weights/cnn/model.safetensors is missing"}))
    at = open_page(quiz=True)
    at.button(key="quiz_pick_1").click().run()
    assert not at.exception, at.exception
    assert not at.metric and not opinion_lines(at)
    unavailable = [c.value for c in at.caption if "opinions are unavailable" in c.value]
    assert len(unavailable) == 1 and "cnn: weights/cnn/model.safetensors is missing" in unavailable[0]


def test_a_face_without_a_face_found_says_so(monkeypatch, two_real_photos):
    """A judge whose face finder finds nothing: each face says so instead of showing numbers."""
    import types

    import ui.models

    class NoFaceJudge:
        def judge(self, image):
            return types.SimpleNamespace(faces=[])

    monkeypatch.setenv("FACEGAN_QUIZ_REAL_DIR", str(two_real_photos))
    monkeypatch.setattr(ui.models, "load_judge", lambda: (NoFaceJudge(), {}, {}))
    at = open_page(quiz=True)
    at.button(key="quiz_pick_0").click().run()
    assert not at.exception, at.exception
    no_face = [c.value for c in at.caption if "found no face" in c.value]
    assert len(no_face) == 2 and all(re.search(r"in this (64x64|80x80) image", c) for c in no_face)
    assert not at.metric
