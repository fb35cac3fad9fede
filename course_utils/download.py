"""Downloads that are safe to interrupt and honest about being offline.

Every file the course fetches goes through :func:`download`, which hands the
fetching to pooch and keeps the course's rules and messages:

* it is written under a temporary name in the destination folder and renamed
  into place only once complete, so an interrupted download never leaves a
  partial file where a good one is expected;
* its checksum (``"sha256:<hex>"``, or ``"md5:<hex>"`` where the publisher
  only gives MD5) is verified before the rename; a mismatch deletes the
  temporary file and raises :class:`ChecksumError`;
* a network failure raises :class:`OfflineError`, which a caller catches to
  print one clear line and carry on without the file (as
  :func:`course_utils.data.load_fashion_mnist` does);
* a destination that cannot hold the file (a folder, a file where a folder
  should be, a read-only folder) is named before anything is fetched.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pooch
import requests

from . import _validate

__all__ = [
    "ChecksumError",
    "OfflineError",
    "cache_dir",
    "download",
    "file_checksum",
]

_CHECKSUM = re.compile(r"^(sha256:[0-9a-f]{64}|md5:[0-9a-f]{32})$")
_CHUNK = 1 << 16
_ALGORITHMS = ("sha256", "md5")


class OfflineError(ConnectionError):
    """The file could not be fetched: no network, unreachable host, HTTP error."""


class ChecksumError(ValueError):
    """A file's checksum is not the one expected."""


def cache_dir() -> Path:
    """Folder for downloaded files: ``$COURSE_UTILS_CACHE``, else ``~/.cache/inside-ilsvrc``.

    An empty ``COURSE_UTILS_CACHE`` counts as unset (not as the current folder).
    """
    return Path(os.environ.get("COURSE_UTILS_CACHE") or Path.home() / ".cache" / "inside-ilsvrc")


def file_checksum(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Checksum of the file at ``path`` as ``"<algorithm>:<hex digest>"`` (``"sha256"`` or ``"md5"``)."""
    path = _validate.path(path, "path")
    _validate.one_of(algorithm, "algorithm", _ALGORITHMS)
    if path.is_dir():
        raise IsADirectoryError(f"path={str(path)!r} is a folder; give the path of a file")
    if not path.exists():
        raise FileNotFoundError(f"path={str(path)!r}: no such file")
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return f"{algorithm}:{digest.hexdigest()}"


def download(
    url: str,
    path: str | os.PathLike,
    checksum: str,
    *,
    timeout: float = 10.0,
    progress: bool = True,
) -> Path:
    """Fetch ``url`` to ``path`` atomically and verify its checksum.

    ``checksum`` is ``"sha256:<64 hex digits>"`` or ``"md5:<32 hex digits>"``.
    If ``path`` already holds a file with that checksum, nothing is fetched; a
    file there with another checksum is fetched again. Returns the path of the
    verified file.

    The fetching itself is `pooch <https://www.fatiando.org/pooch>`_'s
    (``pooch.retrieve``): it writes to a temporary file in the destination
    folder, checks the hash, and only then renames the file into place.

    Raises:
        ValueError: ``url`` is not http(s), or ``checksum`` is malformed.
        OfflineError: the URL could not be reached (no file is left behind).
        ChecksumError: the bytes received do not match ``checksum`` (no file is left behind).
        IsADirectoryError: ``path`` is a folder.
        OSError: ``path``'s folder cannot be created or written (the message names it).
    """
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"url must be an http:// or https:// URL string, got {url!r}")
    if not isinstance(checksum, str) or not _CHECKSUM.match(checksum):
        raise ValueError(
            f"checksum must be 'sha256:<64 hex digits>' or 'md5:<32 hex digits>', got {checksum!r}"
        )
    path = _validate.path(path, "path")
    timeout = _validate.number(timeout, "timeout", positive=True)
    progress = _validate.flag(progress, "progress")
    if path.is_dir():
        raise IsADirectoryError(
            f"path={str(path)!r} is a folder; give the path of the file to write"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # a file where a folder should be, no permission, ...
        raise type(err)(f"path={str(path)!r}: cannot create its folder ({err})") from None
    fetch = pooch.HTTPDownloader(progressbar=progress, timeout=timeout)
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # pooch announces every download; the progress bar is enough
    try:
        pooch.retrieve(
            url, known_hash=checksum, fname=path.name, path=path.parent, downloader=fetch
        )
    except requests.RequestException as err:
        response = getattr(err, "response", None)
        reason = f"HTTP {response.status_code} {response.reason}" if response is not None else err
        raise OfflineError(f"could not download {url} ({reason})") from err
    except ValueError as err:  # pooch's hash mismatch; it has removed what it received
        raise ChecksumError(f"checksum mismatch for {url}: expected {checksum} ({err})") from None
    except OSError as err:  # the folder: read-only, full, ...
        raise type(err)(f"path={str(path)!r}: cannot write the file there ({err})") from None
    finally:
        logger.setLevel(level)
    return path
