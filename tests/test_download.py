"""course_utils.download: checksums, atomic writes, and behaviour with no network."""

import hashlib
from pathlib import Path

import pooch
import pytest

from course_utils.download import ChecksumError, OfflineError, cache_dir, download, file_checksum

PAYLOAD = b"ILSVRC" * 10_000


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def test_downloads_and_verifies(http_server, tmp_path):
    served, url = http_server
    (served / "file.bin").write_bytes(PAYLOAD)
    dest = tmp_path / "out" / "file.bin"
    assert download(url + "file.bin", dest, sha(PAYLOAD), progress=False) == dest
    assert dest.read_bytes() == PAYLOAD
    assert leftovers(dest.parent) == ["file.bin"]


def test_md5_checksum_accepted(http_server, tmp_path):
    served, url = http_server
    (served / "file.bin").write_bytes(PAYLOAD)
    md5 = "md5:" + hashlib.md5(PAYLOAD).hexdigest()
    dest = download(url + "file.bin", tmp_path / "file.bin", md5, progress=False)
    assert file_checksum(dest, "md5") == md5


def test_checksum_mismatch_leaves_no_file(http_server, tmp_path):
    served, url = http_server
    (served / "file.bin").write_bytes(PAYLOAD[:-1] + b"!")
    dest = tmp_path / "out" / "file.bin"
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        download(url + "file.bin", dest, sha(PAYLOAD), progress=False)
    assert leftovers(dest.parent) == []


def test_http_error_is_offline_and_leaves_no_file(http_server, tmp_path):
    _, url = http_server
    dest = tmp_path / "out" / "missing.bin"
    with pytest.raises(OfflineError, match="404"):
        download(url + "missing.bin", dest, sha(PAYLOAD), progress=False)
    assert leftovers(dest.parent) == []


def test_no_network_is_offline_and_leaves_no_file(closed_port_url, tmp_path, capsys):
    dest = tmp_path / "weights.pt"
    with pytest.raises(OfflineError, match="could not download"):
        download(closed_port_url + "w.pt", dest, sha(PAYLOAD), progress=False)
    assert leftovers(tmp_path) == [] and capsys.readouterr().out == ""


def test_a_folder_as_path_is_named(closed_port_url, tmp_path):
    (tmp_path / "sub").mkdir()
    with pytest.raises(IsADirectoryError, match="^path=.* is a folder"):
        download(closed_port_url + "w.pt", tmp_path / "sub", sha(PAYLOAD), progress=False)
    assert leftovers(tmp_path) == ["sub"] and leftovers(tmp_path / "sub") == []


def test_a_file_in_place_of_the_folder_is_named(closed_port_url, tmp_path):
    (tmp_path / "blocker").write_bytes(b"in the way")
    with pytest.raises(OSError, match="^path=.*cannot create its folder"):
        download(closed_port_url + "w.pt", tmp_path / "blocker" / "w.pt", sha(PAYLOAD))
    assert (tmp_path / "blocker").read_bytes() == b"in the way"


def test_a_folder_that_cannot_be_written_is_named(http_server, tmp_path, monkeypatch):
    """pooch's temporary file cannot be created (read-only folder; simulated, as root may write)."""
    served, url = http_server
    (served / "file.bin").write_bytes(PAYLOAD)

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr(pooch.core, "temporary_file", read_only)
    with pytest.raises(PermissionError, match="^path=.*cannot write the file there"):
        download(url + "file.bin", tmp_path / "out" / "file.bin", sha(PAYLOAD), progress=False)
    assert leftovers(tmp_path / "out") == []


def test_existing_good_file_is_not_fetched_again(closed_port_url, tmp_path):
    dest = tmp_path / "file.bin"
    dest.write_bytes(PAYLOAD)
    assert download(closed_port_url + "file.bin", dest, sha(PAYLOAD), progress=False) == dest


def test_existing_bad_file_is_replaced(http_server, tmp_path):
    served, url = http_server
    (served / "file.bin").write_bytes(PAYLOAD)
    dest = tmp_path / "file.bin"
    dest.write_bytes(b"partial")
    download(url + "file.bin", dest, sha(PAYLOAD), progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_checksum_matches_hashlib_on_a_known_string(tmp_path):
    # SHA-256 of "abc" from FIPS 180-2, appendix B.1.
    path = tmp_path / "abc.txt"
    path.write_bytes(b"abc")
    assert file_checksum(path) == (
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


@pytest.mark.parametrize(
    ("url", "checksum", "argument"),
    [
        ("ftp://example.org/x", sha(b""), "url"),
        (None, sha(b""), "url"),
        ("http://127.0.0.1/x", "abc", "checksum"),
        ("http://127.0.0.1/x", "sha1:" + "0" * 40, "checksum"),
    ],
)
def test_bad_arguments_name_the_argument(url, checksum, argument, tmp_path):
    with pytest.raises(ValueError, match=f"^{argument} must"):
        download(url, tmp_path / "x", checksum)


def test_an_empty_cache_variable_is_not_the_current_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_UTILS_CACHE", "")
    assert cache_dir() == Path.home() / ".cache" / "inside-ilsvrc"
    monkeypatch.setenv("COURSE_UTILS_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path


def test_file_checksum_names_a_folder_and_a_missing_file(tmp_path):
    with pytest.raises(IsADirectoryError, match="^path=.* is a folder"):
        file_checksum(tmp_path)
    with pytest.raises(FileNotFoundError, match="^path=.*no such file"):
        file_checksum(tmp_path / "missing.bin")
