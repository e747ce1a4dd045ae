import numpy as np
import pytest
from conftest import image_bytes, random_image
from PIL import Image

from core.detection.faces import FaceDetector, face_found_rate
from core.io.images import ImageError, center_crop, list_images, open_image


@pytest.mark.parametrize(
    "data, fragment",
    [
        (b"", "empty"),
        (b"this is a text file renamed to .jpg\n", "not an image"),
    ],
)
def test_unusable_bytes_give_readable_errors(data, fragment):
    with pytest.raises(ImageError, match=fragment):
        open_image(data)


def test_truncated_jpeg_is_refused():
    data = image_bytes(random_image(200, 200), "JPEG")
    with pytest.raises(ImageError, match="corrupt or truncated"):
        open_image(data[: len(data) // 2])


def test_decompression_bomb_is_refused():
    bomb = image_bytes(Image.new("1", (10_000, 6_000)), "PNG")  # 60 MP, a few kB on disk
    assert len(bomb) < 100_000
    with pytest.raises(ImageError, match="too large"):
        open_image(bomb)


@pytest.mark.parametrize(
    "img, fmt",
    [
        (Image.new("CMYK", (30, 20), (0, 255, 255, 0)), "JPEG"),
        (Image.new("RGBA", (30, 20), (255, 0, 0, 0)), "PNG"),
        (Image.new("LA", (30, 20), (10, 255)), "PNG"),
        (Image.new("L", (30, 20), 77), "PNG"),
        (Image.new("P", (30, 20), 3), "GIF"),
    ],
)
def test_any_mode_becomes_rgb(img, fmt):
    out = open_image(image_bytes(img, fmt))
    assert out.mode == "RGB" and out.size == (30, 20)


def test_transparent_pixels_become_white():
    out = open_image(image_bytes(Image.new("RGBA", (4, 4), (255, 0, 0, 0)), "PNG"))
    assert out.getpixel((0, 0)) == (255, 255, 255)


def test_16bit_png_is_scaled_not_clipped():
    arr = (np.linspace(0, 65535, 64 * 8).reshape(8, 64)).astype(np.uint16)
    out = np.asarray(open_image(image_bytes(Image.fromarray(arr), "PNG")))
    assert out.dtype == np.uint8 and out[..., 0].max() == 255 and out[..., 0].min() == 0


def test_exif_rotation_is_respected():
    img = Image.new("RGB", (40, 20), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    out = open_image(image_bytes(img, "JPEG", exif=exif))
    assert out.size == (20, 40)


def test_animated_gif_gives_first_frame():
    frames = [Image.new("RGB", (10, 10), c) for c in ((255, 0, 0), (0, 255, 0))]
    buf = image_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert open_image(buf).getpixel((5, 5))[0] > 200


def test_center_crop_is_the_tutorial_framing():
    img = Image.new("RGB", (178, 218))
    img.paste((255, 0, 0), (0, 0, 178, 15))  # a thin band at the top is cropped away
    crop = center_crop(img, 64)
    assert crop.shape == (64, 64, 3) and crop.dtype == np.uint8
    assert crop[0, 32, 0] < 50


def test_list_images_is_recursive_and_sorted(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for p in ["a/b/2.PNG", "a/1.jpg", "z.webp", "notes.txt"]:
        (tmp_path / p).write_bytes(b"x")
    assert [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)] == ["a/1.jpg", "a/b/2.PNG", "z.webp"]


@pytest.fixture(scope="module")
def detector():
    return FaceDetector(device="cpu")


def test_mtcnn_finds_a_real_face_and_handles_ragged_batches(detector, real_face_bytes):
    face = np.asarray(open_image(real_face_bytes))
    blank = np.full_like(face, 128)
    # one image with a face and one without, in one batch: facenet-pytorch 2.5.3 itself raises
    # "inhomogeneous shape" here under NumPy 2
    found = detector.detect([face, blank, face])
    assert len(found) == 3
    assert len(found[0]) >= 1 and found[0][0].prob > 0.99 and found[1] == []
    x0, y0, x1, y1 = found[0][0].box
    assert 0 <= x0 < x1 <= face.shape[1] and 0 <= y0 < y1 <= face.shape[0]
    # images of different sizes in one call
    small = np.asarray(Image.fromarray(face).resize((120, 146)))
    assert len(detector.detect([face, small])[1]) >= 1


def test_large_photos_are_searched_small_and_boxes_come_back_in_their_pixels(detector, real_face_bytes):
    from core.detection.faces import MAX_DETECT_SIDE, detect_any_size

    face = np.asarray(open_image(real_face_bytes))
    h, w = face.shape[:2]
    f = 1400 / max(h, w)
    big = np.asarray(Image.fromarray(face).resize((round(w * f), round(h * f)), Image.BICUBIC))
    assert max(big.shape[:2]) > MAX_DETECT_SIDE
    seen = []

    class Recording:
        def detect(self, images):
            seen.extend(im.shape for im in images)
            return detector.detect(images)

    (found_big,) = detect_any_size([big], Recording())
    assert max(seen[0][:2]) == MAX_DETECT_SIDE  # MTCNN saw the small copy
    (found,) = detect_any_size([face], detector)
    assert len(found_big) >= 1 and found_big[0].prob > 0.99
    # the box, in the big photo's pixels, is the native box scaled up (to a few native pixels)
    assert np.allclose(np.array(found_big[0].box) / f, found[0].box, atol=4)


def test_face_found_rate_on_real_crops_and_noise(detector, tiny_cache):
    from core.data.caches import load_cache

    real = load_cache(tiny_cache)[:8].permute(0, 2, 3, 1).numpy()
    rate, probs = face_found_rate(real, detector)
    assert rate >= 0.75 and len(probs) == 8
    noise = np.random.default_rng(0).integers(0, 255, (4, 64, 64, 3), dtype=np.uint8)
    assert face_found_rate(noise, detector)[0] == 0.0


def test_square_crop_pads_faces_at_the_border():
    from core.detection.faces import square_crop

    img = np.zeros((100, 100, 3), np.uint8)
    img[:, :50] = 200  # left half bright
    crop = square_crop(img, (0, 40, 20, 60), 32, margin=0.0)  # a 20 px box on the left edge
    assert crop.shape == (32, 32, 3)
    assert (crop == 200).all()
    centre = square_crop(img, (40, 40, 60, 60), 20, margin=0.0)
    assert (centre[:, :9] == 200).all() and (centre[:, 11:] == 0).all()


def test_face_cache_keeps_the_best_face_per_photo(detector, celeba_dir, tmp_path):
    from core.data.caches import build_face_cache, load_cache

    src = tmp_path / "src"
    src.mkdir()
    for p in sorted((celeba_dir / "val").rglob("*.jpg"))[:3]:
        (src / p.name).write_bytes(p.read_bytes())
    Image.new("RGB", (178, 218), (128, 128, 128)).save(src / "blank.png")
    n, missed = build_face_cache(src, tmp_path / "faces.safetensors", 80, detector)
    assert (n, missed) == (3, 1)
    assert load_cache(tmp_path / "faces.safetensors").shape == (3, 3, 80, 80)


def test_training_frame_matches_how_each_generator_saw_its_photos(detector, celeba_dir):
    from core.detection.faces import training_frame

    photo = open_image(sorted((celeba_dir / "val").rglob("*.jpg"))[0])
    centre = training_frame(photo, 64)
    assert np.array_equal(centre, center_crop(photo, 64))
    face = training_frame(photo, 80, "mtcnn", detector)
    assert face.shape == (80, 80, 3) and face.dtype == np.uint8
    assert not np.array_equal(face, center_crop(photo, 80))
    noise = random_image(120, 150)
    assert np.array_equal(training_frame(noise, 80, "mtcnn", detector), center_crop(noise, 80))  # no face: centre
    assert np.array_equal(training_frame(photo, 80, "mtcnn", None), center_crop(photo, 80))


class StubDetector:
    """Answers with fixed boxes, as FaceDetector.detect does: one list per image."""

    def __init__(self, faces):
        self.faces = faces

    def detect(self, images):
        return [list(self.faces) for _ in images]


def test_people_are_numbered_largest_first_but_training_keeps_the_most_confident_face():
    """One person in front and two small faces behind that MTCNN is surer of: the Detect page numbers the
    person Face 1 (largest_first); crop_faces, and so every training cache (faces[0]), keeps MTCNN's order."""
    from core.detection.faces import FaceBox, crop_faces, largest_first, training_frame

    img = np.zeros((200, 200, 3), np.uint8)
    img[60:180, 60:180] = 255  # the person's box is white, the background faces' black
    small, person, smaller = (FaceBox((10, 10, 40, 40), 0.999), FaceBox((60, 60, 180, 180), 0.95),
                              FaceBox((150, 10, 175, 35), 0.98))
    detector = StubDetector([person, smaller, small])
    found = crop_faces([img], detector, 32)[0]
    assert [f.prob for f in found] == [0.999, 0.98, 0.95]  # most confident first, as before
    assert [f.box for f in largest_first(found)] == [person.box, small.box, smaller.box]
    assert training_frame(img, 32, "mtcnn", detector).max() == 0  # the most confident face, not the person
    same = [FaceBox((0, 0, 10, 10), 0.9), FaceBox((50, 50, 60, 60), 0.8)]
    assert largest_first(same) == same  # equal sizes keep their order
