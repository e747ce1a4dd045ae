"""Detect page (AppTest) and the judging path behind it: every bad input gets a message, never an exception.

AppTest cannot drive st.file_uploader, so the tests hand the page its files the way the Examples
buttons do: as (name, bytes) pairs in session state. The browser suite uploads real files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, image_bytes
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.detection.judge import LABELS, UNCERTAIN_BAND, Judge, label_for, shifted
from core.io.images import ImageError, open_upload
from core.models import registry
from core.models.detectors import CROP_SIZE

pytestmark = pytest.mark.filterwarnings("ignore")


def run_detect(inputs: list[tuple[str, bytes]] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    if inputs is not None:
        at.session_state["detect_inputs"] = inputs
    at.switch_page("pages/detect.py").run()
    assert not at.exception, at.exception
    return at


def messages(at: AppTest) -> str:
    return " ".join(e.value for e in [*at.error, *at.warning, *at.info])


@pytest.fixture(scope="module")
def face_img(celeba_dir) -> Image.Image:
    return Image.open(sorted((celeba_dir / "val").rglob("*.jpg"))[0]).convert("RGB")


# ----------------------------------------------------------------------------- bad inputs

def bad_inputs(face: Image.Image) -> dict[str, tuple[bytes, str, str]]:
    """case -> (file bytes, element kind expected, words the message must contain)."""
    jpeg = image_bytes(face, "JPEG")
    exif = Image.Exif()
    exif[0x0112] = 8
    sixteen = Image.fromarray(np.asarray(face.convert("L"), dtype=np.uint16) * 257)
    frames = [face, face.transpose(Image.FLIP_LEFT_RIGHT)]
    two = Image.new("RGB", (face.width * 2, face.height))
    two.paste(face, (0, 0))
    two.paste(face.transpose(Image.FLIP_LEFT_RIGHT), (face.width, 0))
    return {
        "text renamed .jpg": (b"just some notes, not a picture\n" * 20, "error", "not an image"),
        "0-byte file": (b"", "error", "empty"),
        "truncated JPEG": (jpeg[: len(jpeg) // 2], "error", "truncated"),
        "decompression bomb": (image_bytes(Image.new("1", (10_000, 6_000)), "PNG"), "error", "too large"),
        "tiny image": (image_bytes(face.resize((20, 24)), "PNG"), "error", "only 20x24 pixels"),
        "huge image": (image_bytes(face.resize((2670, 3270)), "JPEG", quality=80), "warning", "Down-scaled"),
        "CMYK": (image_bytes(face.convert("CMYK"), "JPEG"), "warning", "CMYK"),
        "alpha": (image_bytes(face.convert("RGBA"), "PNG"), "warning", "Transparent"),
        "16-bit": (image_bytes(sixteen, "PNG"), "warning", "bit depth"),
        "EXIF-rotated": (image_bytes(face.transpose(Image.ROTATE_270), "JPEG", exif=exif), "warning", "EXIF"),
        "animated GIF": (image_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:]), "warning",
                         "first frame"),
        "no face": (image_bytes(Image.new("RGB", (200, 200), (120, 130, 140)), "PNG"), "warning", "no face found"),
        "several faces": (image_bytes(two, "JPEG"), "info", "2 faces found"),
    }


CASES = ["text renamed .jpg", "0-byte file", "truncated JPEG", "decompression bomb", "tiny image", "huge image",
         "CMYK", "alpha", "16-bit", "EXIF-rotated", "animated GIF", "no face", "several faces"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gets_a_clear_message(case, face_img):
    data, kind, words = bad_inputs(face_img)[case]
    at = run_detect([(f"{case}.jpg", data)])
    elements = {"error": at.error, "warning": at.warning, "info": at.info}[kind]
    assert any(words.lower() in e.value.lower() for e in elements), messages(at)


def test_a_real_photo_gets_three_verdicts_and_an_explanation(face_img):
    at = run_detect([("real.jpg", image_bytes(face_img, "JPEG"))])
    assert not at.error
    heading = " ".join(m.value for m in at.markdown)
    assert "Face 1" in heading and any(w in heading for w in ("Looks real", "Looks GAN-made", "Uncertain"))
    charts = at.get("plotly_chart")
    assert len(charts) >= 2  # the verdict bars and the spectrum
    assert any("Treat a verdict as evidence" in c.value for c in at.caption)


def test_detect_page_shows_the_per_source_figures_from_the_record(face_img):
    """The limits caption and the per-source table read weights/<detector>/training.json, not constants."""
    from core.models.history import source_evaluation

    rec = next(r for n in registry.names("detector") if (r := source_evaluation(registry.load(n, use_hub=False).training)))
    at = run_detect([("real.jpg", image_bytes(face_img, "JPEG"))])
    caption = " ".join(c.value for c in at.caption)
    per_source = rec[1]
    for name in per_source:
        assert name in caption
    worst_real = max((r["called_gan"], n) for n, r in per_source.items() if r["truth"] == "real")
    assert f"{worst_real[0]:.0%} of {worst_real[1]}" in caption
    tables = [d.value for d in at.dataframe]
    assert any(list(t.get("Source", [])) == list(per_source) for t in tables)


def blank_judged_whole() -> AppTest:
    """The Detect page with a face-less grey image, its 'judge the whole image' toggle on."""
    blank = image_bytes(Image.new("RGB", (200, 200), (120, 130, 140)), "PNG")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.session_state["detect_inputs"] = [("blank.png", blank)]
    at.session_state["whole-blank.png"] = True
    at.switch_page("pages/detect.py").run()
    return at


def test_no_face_can_still_be_judged_as_a_whole(face_img):
    at = blank_judged_whole()
    assert not at.exception
    assert any("whole image" in w.value for w in at.warning)
    assert "The whole image" in " ".join(m.value for m in at.markdown)


def test_batch_mode_gives_a_table_and_a_csv(face_img):
    items = [("real.jpg", image_bytes(face_img, "JPEG")), ("notes.jpg", b"not an image"),
             ("flipped.png", image_bytes(face_img.transpose(Image.FLIP_LEFT_RIGHT), "PNG"))]
    at = run_detect(items)
    table, detectors = at.dataframe[0].value, at.dataframe[1].value  # verdicts; each detector's probability
    assert list(table["file"]) == list(detectors["file"]) == ["real.jpg", "notes.jpg", "flipped.png"]
    assert set(registry.names("detector")) <= set(detectors.columns)
    assert table["verdict"][1] == "Unreadable" and table["face"][1] == "\u2014"  # a dash, not None
    assert list(table.columns[:4]) == ["crop", "file", "verdict", "ensemble"]  # verdict and ensemble first
    assert table["crop"][1].startswith("data:image/svg+xml")  # a drawn dash where there is no crop
    assert any("notes.jpg" in w.value and "not an image" in w.value for w in at.warning)  # the error, wrapped
    assert at.get("download_button")


def test_batch_details_do_not_repeat_the_limits(face_img):
    items = [("real.jpg", image_bytes(face_img, "JPEG")), ("flipped.png", image_bytes(face_img, "PNG"))]
    at = run_detect(items)
    at.selectbox[0].set_value("real.jpg").run()
    assert not at.exception
    limits = [c for c in at.caption if "Treat a verdict as evidence" in c.value]
    assert len(limits) == 1


def test_whole_image_crop_is_not_called_a_face():
    at = blank_judged_whole()
    page = " ".join(c for img in at.get("image") for c in img.captions)
    assert "The centre of the image as the detectors see it" in page and "Face 1 as" not in page


def test_split_detectors_are_a_state_of_their_own():
    from core.detection.judge import detectors_split

    w = {"lstm": 0.1, "cnn": 0.9, "supcon": 0.0}
    assert detectors_split({"lstm": 0.0005, "cnn": 1.0, "supcon": 1.0}, w)
    assert not detectors_split({"lstm": 0.5, "cnn": 0.97, "supcon": 0.0}, w)  # lstm unsure, supcon not counted
    assert not detectors_split({"lstm": 0.9, "cnn": 0.97, "supcon": 0.0}, w)  # supcon has no weight


def test_detect_page_says_when_detectors_split(face_img, monkeypatch):
    import core.detection.judge as detect

    monkeypatch.setattr(detect, "detectors_split", lambda probs, weights, band=UNCERTAIN_BAND: True)
    at = run_detect([("real.jpg", image_bytes(face_img, "JPEG"))])
    assert not at.exception
    assert any("Detectors disagree" in m.value for m in at.markdown)
    assert any("treat the answer as uncertain" in c.value for c in at.caption)


def test_page_without_input_says_what_to_do():
    at = run_detect()
    assert any("Upload a photo" in i.value for i in at.info)


# ----------------------------------------------------------------------------- the judging path


def test_open_upload_refuses_garbage_and_notes_odd_formats(face_img):
    with pytest.raises(ImageError):
        open_upload(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    img, notes = open_upload(image_bytes(face_img.convert("CMYK"), "JPEG"))
    assert img.mode == "RGB" and any("CMYK" in n for n in notes)


def test_label_for_uses_the_uncertain_band():
    lo, hi = UNCERTAIN_BAND
    assert label_for(lo - 0.01) == "real" and label_for(hi + 0.01) == "GAN-made"
    assert label_for((lo + hi) / 2) == "uncertain"
    assert set(LABELS) == {"real", "GAN-made", "uncertain"}


@pytest.fixture(scope="module")
def judge():
    return Judge.from_registry(use_hub=False)


def test_judge_finds_each_face_and_gives_probabilities(judge, face_img):
    two = Image.new("RGB", (face_img.width * 2, face_img.height))
    two.paste(face_img, (0, 0))
    two.paste(face_img, (face_img.width, 0))
    verdict = judge.judge(two)
    assert len(verdict.faces) == 2
    xs = sorted(f.box[0] for f in verdict.faces)
    assert xs[0] < face_img.width <= xs[1]
    for f in verdict.faces:
        assert set(f.probabilities) == set(registry.names("detector"))
        assert all(0.0 <= p <= 1.0 for p in f.probabilities.values())
        mean = sum(judge.weights[n] * p for n, p in f.probabilities.items())
        assert f.ensemble == pytest.approx(float(shifted(mean, judge.shift)))  # the guarded weighted mean
        assert f.ensemble <= mean + 1e-9 and judge.shift > 0  # the bundled guard only ever lowers it
        assert f.crop.shape == (CROP_SIZE, CROP_SIZE, 3) and not f.whole_image


def test_bundled_detectors_tell_real_from_generated(judge, celeba_dir):
    """The bundled detectors on 8 real validation photos and 8 fresh dcgan-64 faces (unseen seeds)."""
    from core.gan.sampling import generate, sample_latents

    real = [Image.open(p).convert("RGB") for p in sorted((celeba_dir / "val").rglob("*.jpg"))[10:18]]
    gen = registry.load("dcgan-64", use_hub=False)
    fakes = generate(gen.model, sample_latents(8, gen.config["nz"], seed=987_654))
    p_real = [f.ensemble for img in real for f in judge.judge(img).faces[:1]]
    p_fake = [f.ensemble for img in fakes for f in judge.judge(img).faces[:1]]
    assert len(p_real) >= 7 and len(p_fake) >= 6
    assert max(p_real) < min(p_fake) or (np.mean(np.array(p_real) < 0.5) >= 0.85 and np.mean(np.array(p_fake) > 0.5) >= 0.85)


def test_uploads_are_never_written_to_disk(face_img):
    """Judge an upload carrying a unique marker; no file under the repo or the temp folder gets it."""
    import tempfile
    import time
    import uuid

    from PIL.PngImagePlugin import PngInfo

    marker = f"facegan-upload-{uuid.uuid4()}".encode()
    info = PngInfo()
    info.add_text("Comment", marker.decode())
    data = image_bytes(face_img, "PNG", pnginfo=info)
    assert marker in data
    started = time.time()
    run_detect([("marked.png", data)])
    for root in (ROOT, Path(tempfile.gettempdir())):
        for p in root.rglob("*"):
            try:
                if p.is_file() and p.stat().st_mtime >= started and p.stat().st_size < 50_000_000:
                    assert marker not in p.read_bytes(), f"upload bytes found in {p}"
            except (PermissionError, FileNotFoundError):
                continue


def test_detect_page_warns_when_a_face_is_unfamiliar(face_img, monkeypatch):
    import numpy as np

    from core.detection.judge import Familiarity

    monkeypatch.setattr(Familiarity, "distance", lambda self, f: np.full(len(f), self.threshold + 1.0))
    at = run_detect([("real.jpg", image_bytes(face_img, "JPEG")), ("again.png", image_bytes(face_img, "PNG"))])
    assert all("unfamiliar face" in v for v in at.dataframe[0].value["verdict"])
    at.selectbox[0].set_value("real.jpg").run()
    assert any("unlike the faces the detectors were tested on" in w.value for w in at.warning)


def test_an_improbable_face_is_a_warning_under_a_real_looking_score_and_agreement_under_gan_made(face_img, monkeypatch):
    """The gate's words fit the verdict: a GAN-made face is not told "the detectors may have found no trace"."""
    monkeypatch.setattr(Judge, "gated", lambda self, ens, q, lifted: (np.full(len(ens), 0.9996), np.ones(len(ens), bool),
                                                                     np.maximum(ens, UNCERTAIN_BAND[0])))
    for ens, warned in ((0.99, False), (0.05, True)):
        monkeypatch.setattr(Judge, "ensemble", lambda self, probs, compressed=False, e=ens:
                            np.full(len(next(iter(probs.values()))), e))
        at = run_detect([("face.jpg", image_bytes(face_img, "JPEG"))])
        assert not at.exception
        warnings = " ".join(w.value for w in at.warning)
        captions = " ".join(c.value for c in at.caption)
        assert ("unusual for a camera photo" in warnings) is warned
        assert ("The real-only check agrees" in captions) is not warned
        # the bundled gate (0.9750) is said as 97.5%, never rounded to 98%; a rank of every reference face as 99.9%
        assert "99.9%" in warnings + captions and "100%" not in warnings and "97.5%" in warnings + captions


def test_ranks_among_real_faces_keep_tenths_near_the_gate_and_never_say_100_percent():
    from ui.views.detect import rank_words

    assert [rank_words(x) for x in (0.42, 0.899, 0.975, 0.9996, 1.0)] == ["42%", "90%", "97.5%", "99.9%", "99.9%"]


# ----------------------------------------------------------------------------- what the page shows (issue 35)


def test_why_shows_a_gradcam_map_with_its_key_and_a_spectrum_caption_read_from_the_chart(face_img):
    import json

    from ui import texts
    from ui.charts.detect import spectrum_summary

    at = run_detect([("real.jpg", image_bytes(face_img, "JPEG"))])
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    cam = [s for s in specs if any(t.get("type") == "heatmap" for t in s["data"])]
    assert len(cam) == 1 and "GAN-made" in cam[0]["data"][-1]["colorbar"]["title"]["text"]
    captions = " ".join(c.value for c in at.caption)
    assert texts.DETECT_GRADCAM in captions
    first = registry.names("detector")[0]  # the page reads the first detector's stored spectra
    spectra = json.loads((ROOT / "weights" / first / "spectra.json").read_text())
    assert texts.DETECT_SPECTRUM.format(red=spectrum_summary(spectra)) in captions
    assert "below 0 at the right" not in captions


def test_faces_are_numbered_largest_first(face_img, monkeypatch):
    """MTCNN is surer of two small background faces than of the person in front: the person is Face 1,
    in the sections and (from the same list) in the numbered boxes."""
    from core.detection.faces import FaceCrop

    crop = np.asarray(face_img.resize((CROP_SIZE, CROP_SIZE)))
    found = [FaceCrop((10, 10, 40, 40), 0.999, crop), FaceCrop((150, 10, 175, 35), 0.998, crop),
             FaceCrop((60, 60, 180, 180), 0.951, crop)]  # MTCNN's order: most confident first
    monkeypatch.setattr(Judge, "find_faces", lambda self, images: [list(found)])
    at = run_detect([("group.png", image_bytes(face_img.resize((200, 200)), "PNG"))])
    headings = [m.value for m in at.markdown if m.value.startswith("#### Face")]
    assert [h.split(":")[0] for h in headings] == ["#### Face 1", "#### Face 2", "#### Face 3"]
    sure = [c.value for c in at.caption if "sure this is a face" in c.value]
    assert ["95.1%" in sure[0], "99.9%" in sure[1], "99.8%" in sure[2]] == [True] * 3


def test_a_second_example_replaces_the_first():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/detect.py").run()
    at.button(key="example-astronaut.png").click().run()
    generator = registry.names("generator")[0]
    at.button(key=f"example-{generator}").click().run()
    assert not at.exception, at.exception
    kept = at.session_state["detect_inputs"]
    assert len(kept) == 1 and kept[0][0].startswith(f"{generator} seed ")
    assert not any(h.value.startswith("Verdicts for") for h in at.subheader)  # one file in full, not a batch
    assert any(m.value.startswith("#### Face 1") for m in at.markdown)
    assert any("One example at a time" in c.value for c in at.caption)


# ----------------------------------------------------------------------------- no face: judged as a painting

def abstract_sample_png(seed: int = 3, side: int = 256) -> bytes:
    """A fresh sample of dcgan-64-abstract, enlarged as an upload would be: a picture with no face."""
    from core.gan.sampling import generate, sample_latents

    gan = registry.load("dcgan-64-abstract", use_hub=False)
    sample = generate(gan.model, sample_latents(1, gan.config["nz"], seed))[0]
    return image_bytes(Image.fromarray(sample).resize((side, side), Image.Resampling.BICUBIC), "PNG")


def painting_box(at: AppTest) -> tuple[str, str]:
    answer = next((m.value for m in at.markdown if "Judged as a painting" in m.value), "")
    limits = next((c.value for c in at.caption if "one painter and one small GAN" in c.value), "")
    return answer, limits


def test_a_picture_with_no_face_is_judged_as_a_painting_and_said_so():
    at = run_detect([("abstract.png", abstract_sample_png())])
    assert any("no face found" in w.value for w in at.warning), messages(at)
    answer, limits = painting_box(at)
    assert "`art-lstm`" in answer and "looks GAN-made" in answer and "dcgan-64-abstract" in answer
    assert "P(GAN-made)" in answer
    # said plainly: what it knows, what it cannot say, and its record on paintings it never saw
    assert "Kandinsky" in limits and "nothing about photographs" in limits and "it never saw" in limits
    assert "Face 1" not in " ".join(m.value for m in at.markdown)  # no face verdicts, no detector bars
    assert not at.get("plotly_chart")


def test_a_face_gets_no_painting_verdict(face_img):
    at = run_detect([("real.jpg", image_bytes(face_img, "JPEG"))])
    assert painting_box(at) == ("", "")


def test_judging_the_whole_image_replaces_the_painting_verdict():
    at = blank_judged_whole()
    assert not at.exception
    assert painting_box(at)[0] == ""  # the face detectors' whole-image verdict instead, with its warning
