"""Real data, read offline: pixel-by-pixel images and the default text corpus.

Nothing is downloaded here (``download.py`` fetches Fashion-MNIST when asked). The data come
from three places:

- **UCI optical digits** (1,797 images of 8×8 pixels, 10 classes), shipped in the package as
  ``minisab/data/digits.csv.gz`` (CC BY 4.0; attribution in ``minisab/data/README.md``);
- **Fashion-MNIST** (60,000 + 10,000 images of 28×28 pixels, 10 classes, MIT licence), read
  from IDX files in a folder the user gives, else the user cache or Debian's
  ``/usr/share/datasets/fashion-mnist/`` (``download.find_fashion``);
- **the standard library's** ``pydoc_data.topics``: about 465k characters of English technical
  prose (Python's reference manual, as ``help()`` shows it), present on every CPython.

This module only reads data (it imports nothing from minisab); ``tasks.make_task`` builds the
tasks from it. Sequential image classification (the paper's pixel-by-pixel MNIST, at a size a
CPU can train): an image is read one pixel a step, row by row (x: (B, T, 1), pixel values in [0, 1]), and the
class is predicted at the **last step only** — the mask is 1 there and 0 elsewhere, so the one
loss must send its credit back through all T steps to the first pixels. The tasks
(``tasks.make_task``):

- ``digits``: UCI digits, 8×8, row by row (T = 64);
- ``pdigits``: the same with one fixed random permutation of the 64 pixels (T = 64);
- ``fashion``: Fashion-MNIST averaged over 2×2 blocks to 14×14 (T = 196) or over 4×4 blocks to
  7×7 (T = 49), ``image_size=14`` or ``7`` (``28`` keeps the full image, T = 784).

Fixed splits: the digits are split by one seeded permutation (``DIGITS_SPLIT_SEED``) into 1,437
training and 360 test images; Fashion-MNIST keeps its own 60,000 / 10,000 split. Training
batches draw training images with replacement; the held-out batch draws test images without
replacement (all of them when the batch is at least the test set).
"""
from __future__ import annotations

import functools
import gzip
import os
import zlib
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "data"            # minisab/data/
DIGITS_FILE = DATA / "digits.csv.gz"
DIGITS_SPLIT_SEED = 2018          # the permutation that splits the digits into train / test
DIGITS_N_TEST = 360               # 20% of 1,797
PERMUTATION_SEED = 0              # the fixed pixel order of pdigits
FASHION_DIR = "/usr/share/datasets/fashion-mnist/"
FASHION_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                 "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
IMAGE_SIZES = (28, 14, 7)
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
INSTALL_FASHION = ("get it with `python -m minisab download fashion` (once, into the user "
                   "cache; or train with --download), or `sudo apt-get install "
                   "dataset-fashion-mnist` (Debian, Ubuntu), or download the four IDX files "
                   "(train-images-idx3-ubyte.gz, "
                   "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
                   "t10k-labels-idx1-ubyte.gz) from https://github.com/zalandoresearch/"
                   "fashion-mnist and give their folder with --data-dir (data_dir=...)")


class TaskError(ValueError):
    """A task argument or a text file minisab cannot use (raised by ``tasks`` and ``corpus``)."""


class DataError(ValueError):
    """Data minisab cannot read (``tasks.make_task`` turns it into a ``TaskError``)."""


def _error(msg):
    return DataError(msg)


# --------------------------------------------------------------------------- UCI digits
@functools.lru_cache(maxsize=1)
def load_digits():
    """The 1,797 UCI digits: ``images`` (N, 8, 8) float64 in [0, 1], ``labels`` (N,) int64."""
    raw = np.loadtxt(DIGITS_FILE, delimiter=",")                    # (N, 65): 64 pixels, class
    images = raw[:, :64].reshape(-1, 8, 8) / 16.0                   # counts 0..16 -> [0, 1]
    labels = raw[:, 64].astype(np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def digits_split():
    """The fixed split: ``(train_images, train_labels, test_images, test_labels)``."""
    images, labels = load_digits()
    order = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(len(labels))
    test, train = order[:DIGITS_N_TEST], order[DIGITS_N_TEST:]
    return images[train], labels[train], images[test], labels[test]


def pixel_permutation(n_pixels: int, seed: int = PERMUTATION_SEED) -> np.ndarray:
    """The fixed pixel order of the permuted task: a permutation of ``range(n_pixels)``."""
    return np.random.default_rng(seed).permutation(n_pixels)


# -------------------------------------------------------------------------------- IDX
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path) -> np.ndarray:
    """Read an IDX file (LeCun's MNIST format), gzip-compressed or not.

    Header: two zero bytes, a type code (0x08 unsigned byte, ...), the number of dimensions,
    then one big-endian int32 per dimension; then the data, big-endian, row-major. A file that
    cannot be read, a damaged gzip, a short header and a size that does not match the header
    raise a ``DataError`` naming the file and what is wrong.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise _error(f"IDX file {path!r} cannot be read ({e.strerror or e})") from None
    if raw[:2] == b"\x1f\x8b":                                     # the gzip magic number
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise _error(f"IDX file {path!r} is a damaged gzip file ({e}): download it "
                         "again") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_TYPES or raw[3] == 0:
        raise _error(f"{path!r} is not an IDX file (it must start with two zero bytes, a type "
                     f"code in {sorted(hex(k) for k in _IDX_TYPES)} and a dimension count)")
    ndim = raw[3]
    start = 4 + 4 * ndim
    if len(raw) < start:
        raise _error(f"IDX file {path!r} is truncated: its header announces {ndim} dimensions "
                     f"({start} bytes of header), the file holds {len(raw)} bytes")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    if any(d < 0 for d in shape):
        raise _error(f"IDX file {path!r} is damaged: its header announces shape {shape}")
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    n = int(np.prod(shape, dtype=np.int64))
    if len(raw) - start != n * dtype.itemsize:
        raise _error(f"IDX file {path!r} is truncated or too long: its header announces shape "
                     f"{shape} ({n * dtype.itemsize} bytes), the file holds {len(raw) - start}")
    return np.frombuffer(raw, dtype=dtype, count=n, offset=start).reshape(shape)


def check_fashion(images, labels, image_path, label_path) -> None:
    """What the Fashion-MNIST files must hold: (N, 28, 28) pixels from 0 to 255 (finite) and
    (N,) integer labels from 0 to 9, N >= 1; a ``DataError`` names the file otherwise."""
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise _error(f"IDX file {image_path!r} holds an array of shape {images.shape}; "
                     "Fashion-MNIST images are (N, 28, 28)")
    if labels.ndim != 1:
        raise _error(f"IDX file {label_path!r} holds an array of shape {labels.shape}; "
                     "Fashion-MNIST labels are (N,)")
    if len(images) == 0:
        raise _error(f"IDX file {image_path!r} holds no images")
    if len(images) != len(labels):
        raise _error(f"{image_path!r} holds {len(images)} images and {label_path!r} "
                     f"{len(labels)} labels: they must hold as many")
    if images.dtype.kind == "f" and not np.all(np.isfinite(images)):
        raise _error(f"IDX file {image_path!r} holds NaN or infinite pixels: accepted are "
                     "pixels from 0 to 255")
    if images.min() < 0 or images.max() > 255:
        raise _error(f"IDX file {image_path!r} holds pixels from {images.min()} to "
                     f"{images.max()}: accepted are pixels from 0 to 255")
    if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() > 9:
        raise _error(f"IDX file {label_path!r} holds labels of type {labels.dtype} from "
                     f"{labels.min()} to {labels.max()}: accepted are integers from 0 to 9 "
                     "(the 10 classes)")


def _find(folder, stem):
    for name in (stem + ".gz", stem):
        p = os.path.join(folder, name)
        if os.path.isfile(p):
            return p
    return None


def downsample(images, size: int) -> np.ndarray:
    """Average ``images`` (N, S, S) over (S/size)×(S/size) blocks -> (N, size, size) float32
    in [0, 1] (pixels 0..255)."""
    N, S, _ = images.shape
    if size not in IMAGE_SIZES or S % size:
        raise _error(f"invalid image_size={size!r}: accepted values are "
                     f"{', '.join(map(str, IMAGE_SIZES))}")
    f = S // size
    blocks = images.reshape(N, size, f, size, f).astype(np.float32)
    return blocks.mean(axis=(2, 4)) / np.float32(255.0)


@functools.lru_cache(maxsize=2)
def load_fashion(data_dir=FASHION_DIR, image_size: int = 14):
    """Fashion-MNIST from IDX files in ``data_dir``, downsampled to ``image_size`` × ``image_size``.

    Returns ``(train_images, train_labels, test_images, test_labels)``, images
    (N, image_size, image_size) float32 in [0, 1]; a missing folder or file raises a
    ``TaskError`` that says how to install the data.
    """
    if image_size not in IMAGE_SIZES:
        raise _error(f"invalid image_size={image_size!r}: accepted values are "
                     f"{', '.join(map(str, IMAGE_SIZES))}")
    data_dir = os.fspath(data_dir)
    if os.path.exists(data_dir) and not os.path.isdir(data_dir):
        raise _error(f"invalid data_dir={data_dir!r}: it is a file; accepted is the folder "
                     "that holds the four Fashion-MNIST IDX files")
    out = []
    for part in ("train", "test"):
        paths = []
        for stem in FASHION_FILES[part]:
            path = _find(data_dir, stem)
            if path is None:
                where = ("does not exist" if not os.path.isdir(data_dir)
                         else f"has no {stem}.gz (or {stem})")
                raise _error(f"invalid data_dir={data_dir!r}: Fashion-MNIST not found (the "
                             f"folder {where}); {INSTALL_FASHION}")
            paths.append(path)
        images, labels = (read_idx(p) for p in paths)
        check_fashion(images, labels, *paths)
        out += [downsample(images, image_size), labels.astype(np.int64)]
    return tuple(out)


# ------------------------------------------------------------------------ the tasks
def image_batch(rng, batch, images, labels, order=None, replace=True):
    """One batch of the pixel-by-pixel task, from ``images`` (N, S, S) and ``labels`` (N,).

    ``replace=True``: ``batch`` images drawn with replacement (training); ``False``: drawn
    without replacement, or all of them in order when ``batch >= N`` (held-out).
    Returns ``x`` (B, T, 1) with T = S*S pixels in reading order (``order`` permutes them),
    ``targets`` (B, T) int64 (the class at the last step, 0 elsewhere) and ``mask`` (B, T),
    1 only at the last step.
    """
    N = len(labels)
    if replace:
        idx = rng.integers(0, N, size=batch)
    elif batch >= N:
        idx = np.arange(N)
    else:
        idx = rng.choice(N, size=batch, replace=False)
    pixels = np.asarray(images[idx], dtype=np.float64).reshape(len(idx), -1)   # (B, T)
    if order is not None:
        pixels = pixels[:, order]
    B, T = pixels.shape
    targets = np.zeros((B, T), dtype=np.int64)
    targets[:, -1] = labels[idx]
    mask = np.zeros((B, T))
    mask[:, -1] = 1.0
    return pixels[:, :, None], targets, mask


def last_step_accuracy(logits, targets) -> float:
    """Accuracy of the prediction at the last step: logits (B, T, C), targets (B, T)."""
    return float(np.mean(np.argmax(logits[:, -1, :], axis=1) == targets[:, -1]))


# ------------------------------------------------------------------------------ text
@functools.lru_cache(maxsize=1)
def stdlib_text() -> str:
    """The default text corpus: every topic of ``pydoc_data.topics`` (the reference manual's
    pages that ``help()`` shows), in sorted order, joined by blank lines. Real English
    technical prose with code, about 465k characters (103 distinct ones on CPython 3.11),
    offline on every CPython. The text changes a little between Python versions: a run records
    its vocabulary, and evaluating it on a corpus with another vocabulary is refused."""
    try:
        from pydoc_data.topics import topics
    except ImportError:
        raise _error("this Python has no pydoc_data.topics (the default text corpus): give a "
                     "UTF-8 text file with --text-file (text_file=...)") from None
    return "\n\n".join(topics[k].strip() for k in sorted(topics)) + "\n"
