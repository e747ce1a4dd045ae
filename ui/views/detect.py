"""The Detect page's sections: the inputs (upload, camera, examples), one file's verdicts in full, a
table for many files, the limits read from the detectors' record, and the sidebar's detector list.

The judge and the loaded detectors come from ui.models.get_judge and are passed in; nothing here loads
a model. Charts are plain Plotly builders in ui.charts.detect.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import hashlib
import io
import random
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

from core.detection.explain import grad_cam, radial_spectrum
from core.detection.faces import largest_first
from core.detection.judge import LABELS, UNCERTAIN_BAND, VERDICT_WORDS, FaceVerdict, ImageVerdict, Judge
from core.detection.meaning import read_leave_out, real_meaning
from core.gan.sampling import encode_image
from core.io.images import ImageError, jpeg_quality, open_upload
from core.io.store import read_json
from core.models import registry
from core.models.detectors import to_input
from core.models.history import limits_sentences, source_evaluation
from core.models.registry import LoadedModel
from ui import texts
from ui.charts.detect import gradcam_chart, spectrum_chart, spectrum_summary, verdict_chart
from ui.models import generate_faces
from ui.views.art import painting_section
from ui.widgets import PROGRESS_PX, column_px, csv_cell, md_text, show_image, source_dataframe

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "examples"
REAL_EXAMPLES = {  # file -> credit; only photos whose licence allows showing them in a public demo
    "astronaut.png": "Eileen Collins, NASA astronaut (NASA Great Images; public domain), as shipped by scikit-image",
}
INPUTS_KEY = "detect_inputs"  # examples the visitor added: list of (name, bytes), in memory only
VERDICTS_KEY = "detect_verdicts"  # (file digest, whole image?) -> judge_bytes' answer, this session only
MAX_KEPT_VERDICTS = 32
STYLE = {"real": ("green", ":material/verified_user:"), "GAN-made": ("red", ":material/smart_toy:"),
         "uncertain": ("orange", ":material/help:")}
WORDS = {label: (VERDICT_WORDS[label], *STYLE[label]) for label in LABELS}  # words, badge colour, icon
SPLIT_WORDS = ("Detectors disagree", "gray", ":material/call_split:")
ACCEPT = ["jpg", "jpeg", "png", "webp", "gif", "bmp"]

# ----------------------------------------------------------------------------- inputs


def add_example(name: str, data: bytes) -> None:
    """Show this example in place of the last one: a click on an example asks to see that face judged,
    and several files would turn the page into a batch table the visitor did not ask for."""
    st.session_state[INPUTS_KEY] = [(name, data)]


def generated_example(model: str) -> None:
    seed = random.randrange(1_000_000)
    face = generate_faces(model, 1, seed, None)[0]
    add_example(f"{model} seed {seed}.png", encode_image(face))


def real_example(file: str) -> None:
    add_example(file, (EXAMPLES_DIR / file).read_bytes())


def inputs() -> list[tuple[str, bytes]]:
    """The files to judge, as (name, bytes): uploads, a camera picture and the examples added."""
    tab_upload, tab_camera, tab_examples = st.tabs([":material/upload: Upload", ":material/photo_camera: Camera",
                                                     ":material/collections: Examples"])
    with tab_upload:
        uploads = st.file_uploader("Photos (JPEG, PNG, WebP, GIF, BMP; up to 10 MB each)", type=ACCEPT,
                                   accept_multiple_files=True)
    with tab_camera:
        shot = st.camera_input("Take a picture") if st.toggle("Use my camera") else None
    with tab_examples:
        st.caption("Fresh faces from our generators (new seeds: the detectors learned from other samples of the "
                   "same generators) and real photos whose licence lets us show them.")
        # a wrapping row of buttons that size to their labels: every name stays whole at any width
        st.markdown("**A face made by one of our GANs**")
        with st.container(horizontal=True):
            for model in registry.names("generator"):
                st.button(model, on_click=generated_example, args=(model,), icon=":material/smart_toy:",
                          key=f"example-{model}", help=f"A new face from {model}: {registry.get_spec(model).title}")
        st.markdown("**A real photo**")
        with st.container(horizontal=True):
            for file in REAL_EXAMPLES:
                st.button(file.rsplit(".", 1)[0], on_click=real_example, args=(file,), icon=":material/person:",
                          key=f"example-{file}", help=REAL_EXAMPLES[file])
        st.caption("One example at a time: another click replaces it. To judge several files together, upload them.")
        if st.session_state.get(INPUTS_KEY):
            st.button("Clear the example", icon=":material/delete:", on_click=lambda: st.session_state.pop(INPUTS_KEY, None))

    found = [(f.name, f.getvalue()) for f in uploads or []]
    if shot is not None:
        found.append(("camera.jpg", shot.getvalue()))
    examples = st.session_state.get(INPUTS_KEY, [])
    if examples and found:
        yours = "your file" if len(found) == 1 else f"your {len(found)} files"
        st.info(f"The example **{md_text(examples[0][0])}** is judged with {yours} as a batch. Clear the example "
                f"(Examples tab) to see {yours} alone.", icon=":material/library_add:")
    return found + examples


# ----------------------------------------------------------------------------- judging


def judge_bytes(judge: Judge, data: bytes, whole_image: bool) -> tuple[ImageVerdict | None, list[str], str | None]:
    """(verdict, notes, error message) for one file's bytes; never raises for a bad file.

    Kept in this session's state (memory only) by the file's digest, so a rerun (a toggle, opening
    one file's details in batch mode) does not find faces and run the detectors again.
    """
    cache = st.session_state.setdefault(VERDICTS_KEY, {})
    key = (hashlib.sha256(data).hexdigest(), whole_image)
    if key not in cache:
        try:
            img, notes = open_upload(data)
        except ImageError as err:
            cache[key] = None, [], str(err)
        else:
            verdict = judge.judge(img, whole_image_if_no_face=whole_image, jpeg_quality=jpeg_quality(data))
            # numbered largest first, in the boxes, the sections and the batch table alike
            verdict = dataclasses.replace(verdict, faces=largest_first(verdict.faces))
            cache[key] = verdict, notes + verdict.notes, None
        while len(cache) > MAX_KEPT_VERDICTS:
            cache.pop(next(iter(cache)))  # oldest first
    return cache[key]


@st.cache_data(show_spinner=False)
def training_spectra(folder: str) -> dict | None:
    """Mean spectra of real and GAN training crops, as train.detector stored them beside the weights."""
    return read_json(Path(folder) / "spectra.json", None)


def state_words(face: FaceVerdict) -> tuple[str, str, str]:
    """(headline, colour, icon) of a face's verdict; a split of the detectors is a state of its own."""
    return SPLIT_WORDS if face.split else WORDS[face.label]


def split_sentence(judge: Judge, face: FaceVerdict) -> str:
    """Who says what, when the counted detectors split."""
    weights = face.weights or judge.weights
    counted = {n: p for n, p in face.probabilities.items() if weights.get(n, 0) > 0}
    sure_fake = [f"{n} {p:.0%}" for n, p in counted.items() if p > UNCERTAIN_BAND[1]]
    sure_real = [f"{n} {p:.0%}" for n, p in counted.items() if p < UNCERTAIN_BAND[0]]
    lean = WORDS[face.label][0].lower().replace("looks ", "")
    return (f"{' and '.join(sure_fake)} say GAN-made, {' and '.join(sure_real)} say real. The guarded weighted average "
            f"({face.ensemble:.0%}) leans {lean}, but when detectors trained different ways split like this, "
            "treat the answer as uncertain.")


def boxes_drawn(verdict: ImageVerdict, min_side: int = 320) -> np.ndarray:
    """The photo with a numbered box per face; small images are enlarged first so boxes stay legible."""
    img = Image.fromarray(verdict.image)
    k = max(1, int(np.ceil(min_side / max(img.size))))
    if k > 1:
        img = img.resize((img.width * k, img.height * k), Image.NEAREST)
    draw = ImageDraw.Draw(img)
    width = max(2, round(max(img.size) / 250))
    for i, f in enumerate(verdict.faces, 1):
        if f.whole_image:
            continue
        box = [v * k for v in f.box]
        colour = state_words(f)[1]
        draw.rectangle(box, outline=colour, width=width)
        draw.text((box[0] + width, box[1] + width), str(i), fill=colour, font_size=max(12, width * 8))
    return np.asarray(img)


def cam_chart(judge: Judge, crop: np.ndarray):
    """The CNN's Grad-CAM map beside the crop, or None without the CNN."""
    if "cnn" not in judge.detectors:
        return None
    return gradcam_chart(crop, grad_cam(judge.detectors["cnn"][0], to_input(crop[None])))


def crop_spectrum(detectors: dict[str, LoadedModel], crop: np.ndarray):
    """(chart, caption) of the crop's spectrum against the training faces' means, or None when no
    detector stored them; the caption says where the GAN faces' mean runs, read from the same means."""
    folder = next((m.folder for m in detectors.values()), None)
    spectra = training_spectra(str(folder)) if folder else None
    if not spectra:
        return None
    return spectrum_chart(spectra, radial_spectrum(crop)), texts.DETECT_SPECTRUM.format(red=spectrum_summary(spectra))


def face_details(judge: Judge, detectors: dict[str, LoadedModel], i: int, face: FaceVerdict) -> None:
    words, colour, icon = state_words(face)
    left, right = st.columns([1, 3])
    with left:
        # a 128 px crop at 2x would spill out of this quarter-width column: fit it to the column instead
        seen = "The centre of the image" if face.whole_image else f"Face {i}"
        st.image(face.crop, caption=f"{seen} as the detectors see it ({face.crop.shape[1]} px)", output_format="PNG",
                 width="stretch")
    with right:
        what = "The whole image (no face found)" if face.whole_image else f"Face {i}"
        st.markdown(f"#### {what}: :{colour}[{icon} {words}]")
        st.caption(f"Ensemble probability of GAN-made (the weighted average after the false-alarm guard): **{face.ensemble:.1%}**"
                   + ("" if face.whole_image else f"; MTCNN is {face.face_prob:.1%} sure this is a face.")
                   + (f" The verdict reads **{face.verdict_score:.1%}**: kept from *real* by the checks below."
                      if face.ensemble < UNCERTAIN_BAND[0] <= face.verdict_score else ""))
        if face.split:
            st.caption(":material/call_split: " + split_sentence(judge, face))
        if face.realonly is not None:
            st.caption(realonly_sentence(judge, face))
        if face.improbable and face.label == "GAN-made":  # the checks of real photos agree with the detectors
            st.caption(":material/policy: The real-only check agrees: this face is beyond what a real verdict allows.")
        elif face.improbable:
            st.warning("This face is unusual for a camera photo: counting the real-only check and how the detectors "
                       f"ranked it among real faces, it is more unusual than {rank_words(face.unusual)} of them, beyond "
                       f"the {rank_words(judge.gate)} a real verdict allows. The detectors trained on generators may "
                       "have found no trace of theirs, but a face this unusual is not called real.",
                       icon=":material/policy:")
        if face.monochrome:
            st.warning("A face in one tone (black and white, or toned as sepia is): none of the photos the detectors "
                       "learnt from was, and without colour they miss most generated faces (toned grey, faces from "
                       "every generator here were called GAN-made 0-2% of the time). So a one-tone face is never "
                       "called real.",
                       icon=":material/filter_b_and_w:")
        if face.label == "real" and not face.split:
            st.caption(":material/info: " + real_meaning(trained_generators(detectors), read_leave_out(),
                                                         judge.realonly is not None and judge.gate is not None))
        if face.unfamiliar:
            st.warning("This face is unlike the faces the detectors were tested on: further from them than "
                       f"{judge.familiarity.quantile:.0%} of the test faces (by what the CNN sees). A photo source, "
                       "generator, edit or filter they never met can fool them: trust this verdict less.",
                       icon=":material/explore_off:")
        chart = verdict_chart(face.probabilities, face.weights or judge.weights, face.ensemble, state_words(face)[1])
        st.plotly_chart(chart, key=f"bars-{i}-{id(face)}")
    with st.expander("Why? Where the CNN looked, and the crop's frequency spectrum"):
        cam = cam_chart(judge, face.crop)
        if cam is not None:
            st.plotly_chart(cam, key=f"gradcam-{i}-{id(face)}")
            st.caption(texts.DETECT_GRADCAM)
        spectrum = crop_spectrum(detectors, face.crop)
        if spectrum is not None:
            st.plotly_chart(spectrum[0], key=f"spectrum-{i}-{id(face)}")
            st.caption(spectrum[1])


REALONLY_WORDS = ("Real-only check (models of real photos alone, of their pixels and of their texture, never shown a "
                  "generated face)")


def realonly_sentence(judge: Judge, face: FaceVerdict) -> str:
    """The real-only check's figure in words (it is a rank among real faces, not a probability)."""
    if judge.gate is None or face.unusual is None:
        return (f"{REALONLY_WORDS}: more unusual than "
                f"**{rank_words(face.realonly)}** of real faces; no gate is fitted, so it does not change the verdict.")
    return (f"{REALONLY_WORDS}: more unusual than "
            f"**{rank_words(face.realonly)}** of real faces. With the detectors' own ranking among real faces: "
            f"**{rank_words(face.unusual)}**; at {rank_words(judge.gate)} or more a face is not called real.")


def rank_words(share: float) -> str:
    """A rank among real faces in words: whole percents, tenths above 90% (where the gate sits: 97.5% is not
    98%), and never "100%" (more unusual than every reference face reads 99.9%, not more than all of them)."""
    if share < 0.9:
        return f"{share:.0%}"
    return f"{min(share, 0.999) * 100:.1f}%"


def trained_generators(detectors: dict[str, LoadedModel]) -> list[str]:
    """The generators the detectors learned from, by title, from their training record."""
    t = next(iter(detectors.values())).training if detectors else {}
    return [v.get("title", k) for k, v in (t.get("sources") or {}).items() if v.get("truth") == "fake"]


def recorded_sources(detectors: dict[str, LoadedModel]) -> tuple[str, dict] | None:
    """The per-source test recorded with the detectors (train.evaluate --record), or None."""
    return next((r for m in detectors.values() if (r := source_evaluation(m.training))), None)


def training_sources_sentence(detectors: dict[str, LoadedModel]) -> str:
    """Which sources the detectors learned from, read from their training.json."""
    t = next(iter(detectors.values())).training
    srcs = t.get("sources") or {}
    real = [v.get("title", k) for k, v in srcs.items() if v.get("truth") == "real"]
    fake = trained_generators(detectors)
    if not real or not fake:
        return "The detectors' training record does not say which photos they learned from."
    return f"The detectors learned from real {', '.join(real)} and from faces made by {', '.join(fake)}."


def explain_limits(detectors: dict[str, LoadedModel]) -> None:
    rec = recorded_sources(detectors)
    st.caption(
        ":material/info: " + training_sources_sentence(detectors) + " "
        + (limits_sentences(rec[1]) if rec else "No per-source test is recorded yet (`python -m train.evaluate "
           "--split val --record \"validation mix\"`).")
        + texts.DETECT_LIMITS
    )
    if rec:
        with st.expander("How the detectors did on each source"):
            source_dataframe(rec[1])
            st.caption(f"Test set: {rec[0]} (faces the detectors did not train on). AUC: how well the ensemble ranks "
                       "that generator's faces above all the real ones (1 = perfectly). Called GAN-made: the share "
                       "given that verdict; for real sources, false alarms.")


def single(judge: Judge, detectors: dict[str, LoadedModel], name: str, data: bytes,
           limits: bool = True) -> None:
    """One file's verdicts in full; `limits` False where the page shows the limits caption already."""
    whole = st.session_state.get(f"whole-{name}", False)
    verdict, notes, error = judge_bytes(judge, data, whole)
    shown = md_text(name)  # a file name is the visitor's text: never Markdown or HTML of its own
    if error:
        st.error(f"**{shown}**: {error}", icon=":material/broken_image:")
        return
    for note in notes:
        st.warning(note, icon=":material/info:")
    if not verdict.faces:
        st.warning(f"**{shown}**: no face found. The detectors were trained on face crops only.",
                   icon=":material/face_retouching_off:")
        st.toggle("Judge the whole image anyway (less reliable)", key=f"whole-{name}")
        show_image(verdict.image, shown) if max(verdict.image.shape[:2]) < 320 else st.image(verdict.image, shown)
        painting_section(verdict.image)  # a picture with no face may be a painting: the art detector's word on it
        return
    if len(verdict.faces) > 1:
        st.info(f"{len(verdict.faces)} faces found; each is judged on its own.", icon=":material/groups:")
    if verdict.faces[0].whole_image:
        st.warning("No face was found: this is a verdict on the centre of the whole image, which the detectors "
                   "were not trained for. Take it with a large grain of salt.", icon=":material/warning:")
    drawn = boxes_drawn(verdict)
    st.image(drawn, caption=f"{shown}: faces numbered as below", width=min(640, drawn.shape[1]))
    for i, face in enumerate(verdict.faces, 1):
        face_details(judge, detectors, i, face)
    if limits:
        explain_limits(detectors)


def thumbnail_uri(crop: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(encode_image(crop)).decode()


# what the crop column shows for a file with no crop: a dash, not "None"
NO_CROP = "data:image/svg+xml;base64," + base64.b64encode(
    b'<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><path d="M9 16h14" stroke="#999" '
    b'stroke-width="2"/></svg>').decode()
DASH = "—"


def batch(judge: Judge, detectors: dict[str, LoadedModel], items: list[tuple[str, bytes]]) -> None:
    rows, thumbs, problems = [], [], []
    progress = st.progress(0.0, text="Judging…")
    for k, (name, data) in enumerate(items):
        verdict, notes, error = judge_bytes(judge, data, False)
        progress.progress((k + 1) / len(items), text=f"Judged {k + 1} of {len(items)}")
        if error or not verdict.faces:
            problems.append((name, error or "no face found; open its details below to judge the whole image"))
            rows.append({"file": name, "verdict": "Unreadable" if error else "No face", "ensemble": None,
                         "real-only": None, "face": DASH, **{d: None for d in judge.detectors}})
            thumbs.append(NO_CROP)
            continue
        for i, f in enumerate(verdict.faces, 1):
            rows.append({"file": name, "verdict": state_words(f)[0] + (" (unfamiliar face)" if f.unfamiliar else "")
                         + (" (unusual for a photo)" if f.improbable else "")
                         + (" (one tone)" if f.monochrome else ""),
                         "ensemble": round(f.ensemble, 4),
                         "real-only": None if f.realonly is None else round(f.realonly, 4),
                         "face": f"{i} of {len(verdict.faces)}",
                         **{d: round(p, 4) for d, p in f.probabilities.items()}})
            thumbs.append(thumbnail_uri(f.crop))
    progress.empty()
    st.subheader(f"Verdicts for {len(items)} files")
    verdict_tables(rows, thumbs, list(judge.detectors))
    for name, problem in problems:  # full sentences, wrapped, instead of a cut cell
        st.warning(f"**{md_text(name)}**: {problem}", icon=":material/broken_image:")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows({k: csv_cell("" if v == DASH else v) for k, v in r.items()} for r in rows)
    st.download_button("Download the table (CSV)", buf.getvalue(), "verdicts.csv", "text/csv",
                       icon=":material/download:")
    st.caption("Probabilities are each detector's calibrated P(GAN-made); the ensemble is their weighted average, moved "
               "down by the false-alarm guard. Real-only: the share of real faces more probable than this one under "
               "models of real photos alone (high: unusual for a photo; beyond the gate it cannot be called real). "
               "Pick a file below for its details.")
    explain_limits(detectors)
    chosen = st.selectbox("Details for", [n for n, _ in items], index=None, placeholder="choose a file")
    if chosen:
        single(judge, detectors, chosen, dict(items)[chosen], limits=False)


def verdict_tables(rows: list[dict], thumbs: list[str], detector_names: list[str]) -> None:
    """The batch's rows in two tables, each column as wide as its longest value: the verdicts, then each
    detector's probability (one table of both ran past a 1,400 px window, with the verdicts cut to "Looks
    GAN-m" in a small column)."""
    def fit(key: str) -> int:
        return column_px(key, *(str(r[key]) for r in rows))

    def bar(key: str):
        return st.column_config.ProgressColumn(key, min_value=0.0, max_value=1.0, format="percent",
                                               width=max(PROGRESS_PX, column_px(key)))

    which = {"file": st.column_config.TextColumn("file", width=fit("file"), pinned=True),
             "face": st.column_config.TextColumn("face", width=fit("face"))}
    st.dataframe([{"crop": t, **{k: r[k] for k in ("file", "verdict", "ensemble", "real-only", "face")}}
                  for t, r in zip(thumbs, rows, strict=True)], hide_index=True, width="content",
                 column_config={"crop": st.column_config.ImageColumn("crop", width="small"), **which,
                                "verdict": st.column_config.TextColumn("verdict", width=fit("verdict")),
                                "ensemble": bar("ensemble"), "real-only": bar("real-only")})
    st.caption("Each detector's calibrated probability that the face is GAN-made:")
    st.dataframe([{k: r[k] for k in ("file", "face", *detector_names)} for r in rows], hide_index=True,
                 width="content", column_config={**which, **{d: bar(d) for d in detector_names}})


def sidebar(detectors: dict[str, LoadedModel]) -> None:
    """Each detector's title, validation accuracy and temperature."""
    with st.sidebar:
        st.subheader("Detectors")
        for name, m in detectors.items():
            t = m.training
            acc = t.get("val_accuracy")
            st.caption(f"**{name}**: {m.spec.title}; validation accuracy {acc:.1%}, temperature "
                       f"{m.config.get('temperature', 1.0):.2f}" if acc is not None else f"**{name}**: {m.spec.title}")
