"""Classroom Play and Pause: each frame trains for a bounded time, the next only once the browser has painted
the last (so frames never queue up unseen), and Pause stops at once."""

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from core.gan.toygan import ToyGANTrainer

PAGE = "pages/classroom.py"

pytestmark = pytest.mark.filterwarnings("ignore")


# --- core: a frame's training -------------------------------------------------------------------

def test_train_for_stops_at_the_step_limit():
    trainer = ToyGANTrainer()
    assert trainer.train_for(60.0, 7) == 7 and trainer.steps_done == 7
    assert trainer.train_for(60.0, 0) == 0 and trainer.steps_done == 7


def test_train_for_stops_when_its_time_is_up():
    trainer = ToyGANTrainer()
    assert trainer.train_for(0.0, 1_000) == 1, "at least one step, then the clock says stop"
    done = trainer.train_for(0.05, 100_000)
    assert 1 <= done < 100_000 and trainer.steps_done == 1 + done
    assert trainer.history["step"] == list(range(1, trainer.steps_done + 1))


def test_train_for_trains_as_step_does():
    a, b = ToyGANTrainer(), ToyGANTrainer()
    a.step(12)
    b.train_for(60.0, 12)
    assert a.history == b.history


# --- the page -----------------------------------------------------------------------------------

@pytest.fixture
def frames(monkeypatch) -> list[tuple[float, int]]:
    """The (seconds, max_steps) of every Play frame's training, each frame training 5 steps."""
    calls = []

    def train_for(self, seconds, max_steps):
        calls.append((seconds, max_steps))
        self.step(min(5, max_steps))
        return min(5, max_steps)

    monkeypatch.setattr(ToyGANTrainer, "train_for", train_for)
    return calls


def open_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def step_shown(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Step "))


def play_button(at: AppTest):
    return next(b for b in at.button if b.label in ("Play", "Pause"))


def browser_painted(at: AppTest) -> AppTest:
    """What the browser's frame clock does once it has painted a frame: report its number (a rerun)."""
    at.session_state["toy_frame_drawn"] = at.session_state["toy_frame_sent"]
    return at


def test_play_trains_one_short_frame_a_run_and_pause_stops_at_once(frames):
    at = open_page()
    play_button(at).click().run()
    assert not at.exception, at.exception
    assert play_button(at).label == "Pause" and step_shown(at) == "**Step 5**  ·  playing"
    assert [b.disabled for b in at.button if b.label == "Step"] == [True]
    browser_painted(at).run()  # the next frame
    assert step_shown(at) == "**Step 10**  ·  playing"
    # every frame trains for a bounded time (up to Play's step limit), never a fixed number of steps
    from ui.views.live_gan import MAX_PLAY_STEPS as limit
    from ui.views.live_gan import PLAY_TRAIN_S as budget

    assert frames == [(budget, limit), (budget, limit - 5)]
    play_button(at).click().run()
    assert not at.exception, at.exception
    assert play_button(at).label == "Play" and step_shown(at) == "**Step 10**", "no step after the Pause click"
    browser_painted(at).run()
    assert step_shown(at) == "**Step 10**" and len(frames) == 2


def test_no_frame_trains_until_the_browser_has_painted_the_last(frames):
    """The cause of a slow Pause: frames trained faster than a busy browser drew them queued up unseen."""
    at = open_page()
    play_button(at).click().run()
    assert step_shown(at) == "**Step 5**  ·  playing" and at.session_state["toy_frame_sent"] == 1
    for _ in range(3):  # reruns that are not the browser's report (another control, a stale report) wait
        at.run()
        assert step_shown(at) == "**Step 5**  ·  playing" and len(frames) == 1
    at.session_state["toy_frame_drawn"] = 0  # a report of an older frame
    at.run()
    assert step_shown(at) == "**Step 5**  ·  playing" and len(frames) == 1
    browser_painted(at).run()
    assert step_shown(at) == "**Step 10**  ·  playing" and at.session_state["toy_frame_sent"] == 2


def test_play_resumes_after_pause_without_waiting_for_an_old_report(frames):
    at = open_page()
    play_button(at).click().run()
    play_button(at).click().run()  # Pause before the browser reported frame 1
    assert play_button(at).label == "Play" and step_shown(at) == "**Step 5**"
    play_button(at).click().run()
    # Play again: the browser reports the frame on screen (it is playing now), and the next trains
    assert step_shown(at) == "**Step 5**  ·  playing"
    browser_painted(at).run()
    assert step_shown(at) == "**Step 10**  ·  playing"


def test_the_frame_clock_reports_only_while_playing_and_once_per_frame():
    from ui.views.live_gan import _FRAME_CLOCK_JS as js

    assert "requestAnimationFrame(() => requestAnimationFrame(" in js, "after the frame is painted"
    assert "!data.playing" in js and "__frameReported === data.frame" in js


def test_a_frame_trains_a_quarter_second_or_so():
    from ui.views.live_gan import PLAY_TRAIN_S

    assert 0.1 <= PLAY_TRAIN_S <= 0.3
