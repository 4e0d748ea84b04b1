"""Fashion-MNIST from anywhere: found in the user's cache, or downloaded into it once.

``--task fashion`` reads the four IDX files (``datasets.FASHION_FILES``) from the first folder
that holds all four:

1. ``--data-dir`` (``data_dir=``), when given: only there;
2. the user cache, ``platformdirs.user_cache_dir("minisab")/fashion-mnist`` (Linux
   ``~/.cache/minisab/fashion-mnist``, macOS ``~/Library/Caches/minisab/fashion-mnist``, Windows
   ``%LOCALAPPDATA%\\minisab\\Cache\\fashion-mnist``);
3. Debian's folder ``/usr/share/datasets/fashion-mnist/`` (``apt-get install
   dataset-fashion-mnist``).

Nothing is downloaded unless the user asks (``train --download``, ``python -m minisab download
fashion``, ``download_fashion()``) or agrees when ``train`` asks on a terminal. A download
fetches the four gzip files (30 MB) with pooch, checks each against the MD5 published with the
data set, and keeps them in the cache, so it happens once.
"""
from __future__ import annotations

import os
import sys

from . import datasets

# The published files and their MD5 sums (github.com/zalandoresearch/fashion-mnist, README).
FASHION_MD5 = {"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
               "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
               "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
               "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"}
FASHION_URLS = ("https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/"
                "fashion/", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")
FASHION_MB = 30


def cache_dir() -> str:
    """The user cache folder of Fashion-MNIST (module docstring); not created here."""
    import platformdirs
    return os.path.join(platformdirs.user_cache_dir("minisab", appauthor=False), "fashion-mnist")


def has_fashion(folder) -> bool:
    """True if ``folder`` holds the four IDX files (gzip-compressed or not)."""
    return all(datasets._find(os.fspath(folder), stem) is not None
               for part in datasets.FASHION_FILES.values() for stem in part)


def find_fashion():
    """The folder to read Fashion-MNIST from when no ``data_dir`` is given: the user cache or
    Debian's folder, whichever holds the files (in that order); None if neither does."""
    for folder in (cache_dir(), datasets.FASHION_DIR):
        if has_fashion(folder):
            return folder
    return None


def download_fashion(folder=None, log=None) -> str:
    """Download the four files into ``folder`` (default: the user cache) unless they are there,
    each checked against its published MD5 (pooch: a file that does not match is deleted and
    an error raised). Returns the folder."""
    import pooch
    folder = os.fspath(folder or cache_dir())
    log = log or (lambda m: print(m, file=sys.stderr))
    for name, md5 in FASHION_MD5.items():
        if os.path.isfile(os.path.join(folder, name)):
            continue
        errors = []
        for base in FASHION_URLS:                     # the second is a mirror
            try:
                log(f"downloading {base}{name}")
                pooch.retrieve(base + name, known_hash=f"md5:{md5}", fname=name, path=folder,
                               progressbar=False)
                break
            except ValueError:                        # the hash check failed: do not retry
                raise
            except Exception as e:                    # network errors of requests or urllib
                errors.append(f"{base}: {type(e).__name__}: {e}")
        else:
            raise datasets.DataError(f"could not download {name}: " + "; ".join(errors)
                                     + f". {datasets.INSTALL_FASHION}")
    return folder


def fashion_dir(data_dir=None, download: bool = False, ask: bool = False, log=None):
    """The folder ``train --task fashion`` reads: ``data_dir`` if given, else the cache or
    Debian's folder; if neither holds the files, download them into the cache when
    ``download`` is True or when ``ask`` is True and the user answers yes. Otherwise None
    (``make_task`` then says where it looked and how to get the data)."""
    if data_dir is not None:
        return os.fspath(data_dir)
    found = find_fashion()
    if found is not None:
        return found
    if not download and ask:
        answer = input(f"Fashion-MNIST is not in {cache_dir()} nor in {datasets.FASHION_DIR}. "
                       f"Download it ({FASHION_MB} MB, hash-checked) into the cache? [y/N] ")
        download = answer.strip().lower() in ("y", "yes")
    return download_fashion(log=log) if download else None


# ------------------------------------------------------------------ the command line
def cmd_download(args) -> int:
    from ..config import ConfigError         # the command line's exit status 2
    folder = args.dir or cache_dir()
    try:
        download_fashion(folder)
    except (datasets.DataError, ValueError, OSError) as e:
        raise ConfigError(f"download of Fashion-MNIST into {folder!r} failed: {e}") from None
    print(f"Fashion-MNIST is in {folder}" + ("" if args.dir is None else
                                              f"; give it to train with --data-dir {folder}"))
    return 0


def add_download_command(sub, prog, formatter, examples, func=None) -> None:
    """``python -m minisab download fashion`` (cli.py's subcommand)."""
    d = sub.add_parser("download", help="download a data set once into the user cache",
                       formatter_class=formatter,
                       description="Downloads Fashion-MNIST's four IDX files (30 MB) once,\n"
                                   "each checked against its published MD5, into the user\n"
                                   "cache that train --task fashion reads.",
                       epilog=examples(prog, [("download fashion", "into the user cache"),
                                              ("download fashion --dir data/fashion",
                                               "into a folder of yours (then --data-dir)")]))
    d.add_argument("dataset", choices=["fashion"], help="the data set: Fashion-MNIST")
    d.add_argument("--dir", default=None,
                   help="folder to download into (default: the user cache, here "
                        f"{cache_dir()})")
    d.set_defaults(func=func or cmd_download)
