"""Model cards: the README.md that travels with every bundled or pushed model."""

from __future__ import annotations

CELEBA_LICENCE = (
    "Trained on a 5,400-photo subset of CelebA (Liu et al., \"Deep Learning Face Attributes in the "
    "Wild\", ICCV 2015). CelebA is available for **non-commercial research purposes only**; these "
    "weights are derived from it and inherit that restriction. The photos themselves are not "
    "distributed with the weights."
)

GENERATOR_LIMITS = (
    "- CelebA is mostly young, light-skinned, smiling celebrities photographed at events; the "
    "generator reproduces that bias and draws other faces poorly or not at all.\n"
    "- 64x64 pixels only; backgrounds, hair and glasses are often smeared.\n"
    "- Trained on 4,800 photos of 200 people: some samples may resemble those people, even where "
    "the pixel-distance memorisation check above finds no near-copies (it cannot see a likeness).\n"
    "- Not for making deceptive images of real people."
)


def _fmt_minutes(seconds: float | None) -> str:
    return f"{seconds / 60:.0f} min" if seconds else "unknown"


def generator_card(name: str, title: str, description: str, config: dict, training: dict) -> str:
    """Markdown model card with Hub front matter for a GAN generator."""
    tc = training.get("train_config", {})
    q = training.get("quality", {})
    quality_rows = ""
    if q:
        quality_rows = (
            "| measure | this model | real validation crops |\n|---|---|---|\n"
            f"| faces found by MTCNN (p >= {q.get('threshold', 0.9)}, {q.get('n', '?')} samples, 160 px) "
            f"| {q['face_found_rate']:.1%} | {q.get('real_face_found_rate', float('nan')):.1%} |\n"
            f"| median MTCNN face probability | {q.get('median_face_prob', float('nan')):.4f} "
            f"| {q.get('real_median_face_prob', float('nan')):.4f} |\n"
        )
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
    return f"""---
license: other
license_name: celeba-research-only
library_name: pytorch
tags: [gan, {training.get('loss', 'gan')}, faces, celeba, face-gan-lab]
datasets: [celeba]
---

# {name}: {title}

{description}

Made by the `train/` scripts of Face GAN Lab. Load it there with
`core.registry.load("{name}")`, or rebuild the generator from `config.json` and read
`model.safetensors` (float16) with safetensors.

## Data and licence

{CELEBA_LICENCE}

Data: {training.get('dataset', 'CelebA subset')}, {training.get('train_images', '?')} training images.

## Training

| | |
|---|---|
| objective | {training.get('loss', '?')} |
| architecture | `{config}` |
| epochs | {training.get('epochs_done', '?')} of {training.get('epochs_planned', '?')} |
| iterations | {training.get('steps', '?')} at batch {tc.get('batch_size', '?')} |
| optimiser | Adam lr {tc.get('lr', '?')}, betas ({tc.get('beta1', '?')}, {tc.get('beta2', '?')}) |
| augmentation | horizontal flip: {tc.get('hflip', '?')} |
| exported weights | EMA of the generator, decay {tc.get('ema_decay', '?')}, BatchNorm statistics re-estimated |
| wall time | {_fmt_minutes(training.get('wall_time_s'))} |
| throughput | {training.get('images_per_s', '?')} images/s |
| hardware | {training.get('hardware', '?')} |
| seed | {tc.get('seed', '?')} |

`history.jsonl` holds every iteration's losses; `snapshots/` the same 16 latent vectors drawn
after each epoch.

## Quality

{quality_rows or 'Not measured yet (`python -m train.evaluate_generators`).'}

## Limits and bias

{GENERATOR_LIMITS}
"""
