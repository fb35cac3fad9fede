"""Downloads that are safe to interrupt and honest about being offline.

Every file the course fetches goes through :func:`download`:

* it is written under a temporary name in the destination folder and renamed
  into place only once complete, so an interrupted download never leaves a
  partial file where a good one is expected;
* its checksum (``"sha256:<hex>"``, or ``"md5:<hex>"`` where the publisher
  only gives MD5) is verified before the rename; a mismatch deletes the
  temporary file and raises :class:`ChecksumError`;
* a network failure raises :class:`OfflineError`, which chapters catch through
  :func:`try_download` to print one clear line and carry on without the file.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from . import _validate

__all__ = [
    "ChecksumError",
    "OfflineError",
    "cache_dir",
    "download",
    "file_checksum",
    "try_download",
]

_CHECKSUM = re.compile(r"^(sha256:[0-9a-f]{64}|md5:[0-9a-f]{32})$")
_CHUNK = 1 << 16
_ALGORITHMS = ("sha256", "md5")


class OfflineError(ConnectionError):
    """The file could not be fetched: no network, unreachable host, HTTP error."""


class ChecksumError(ValueError):
    """A file's checksum is not the one expected."""


def cache_dir() -> Path:
    """Folder for downloaded files: ``$COURSE_UTILS_CACHE``, else ``~/.cache/inside-ilsvrc``."""
    return Path(os.environ.get("COURSE_UTILS_CACHE", Path.home() / ".cache" / "inside-ilsvrc"))


def file_checksum(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Checksum of the file at ``path`` as ``"<algorithm>:<hex digest>"`` (``"sha256"`` or ``"md5"``)."""
    path = _validate.path(path, "path")
    _validate.one_of(algorithm, "algorithm", _ALGORITHMS)
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
    If ``path`` already holds a file with that checksum, nothing is fetched.
    Returns the path of the verified file.

    Raises:
        ValueError: ``url`` is not http(s)/file, or ``checksum`` is malformed.
        OfflineError: the URL could not be reached (no file is left behind).
        ChecksumError: the bytes received do not match ``checksum`` (no file is left behind).
    """
    if not isinstance(url, str) or not url.startswith(("http://", "https://", "file://")):
        raise ValueError(f"url must be an http(s):// or file:// URL string, got {url!r}")
    if not isinstance(checksum, str) or not _CHECKSUM.match(checksum):
        raise ValueError(
            f"checksum must be 'sha256:<64 hex digits>' or 'md5:<32 hex digits>', got {checksum!r}"
        )
    algorithm, expected = checksum.split(":")
    path = _validate.path(path, "path")
    timeout = _validate.number(timeout, "timeout", positive=True)
    progress = _validate.flag(progress, "progress")
    if path.is_file() and file_checksum(path, algorithm) == checksum:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)

    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.new(algorithm)
        with os.fdopen(fd, "wb") as out:
            response = _network(url, urllib.request.urlopen, url, timeout=timeout)
            total = int(response.headers.get("Content-Length") or 0) or None
            with (
                response,
                tqdm(
                    total=total, unit="B", unit_scale=True, desc=path.name, disable=not progress
                ) as bar,
            ):
                while chunk := _network(url, response.read, _CHUNK):
                    out.write(chunk)  # a disk error here is not "offline": it propagates
                    digest.update(chunk)
                    bar.update(len(chunk))
        if digest.hexdigest() != expected:
            raise ChecksumError(
                f"checksum mismatch for {url}: expected {checksum}, "
                f"got {algorithm}:{digest.hexdigest()}"
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache file need not be
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _network(url: str, call, *args, **kwargs):
    """``call(*args, **kwargs)``, with network failures turned into :class:`OfflineError`."""
    try:
        return call(*args, **kwargs)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
        reason = (
            f"HTTP {err.code} {err.reason}"
            if hasattr(err, "code")
            else (getattr(err, "reason", None) or repr(err))
        )
        raise OfflineError(f"could not download {url} ({reason})") from err


def try_download(url: str, path: str | os.PathLike, checksum: str, *, what: str) -> Path | None:
    """Like :func:`download`, but offline it prints one line and returns ``None``.

    ``what`` names the file for the reader, e.g. ``"ImageNet AlexNet weights"``.
    A checksum mismatch is not "offline": it still raises :class:`ChecksumError`.
    """
    _validate.text(what, "what")
    try:
        return download(url, path, checksum, progress=False)
    except OfflineError as err:
        print(f"Offline: skipped downloading {what}: {err}.")
        return None
