"""Fixtures shared by the unit tests."""

import socket

import pytest
import torch
from sitetools import serve


@pytest.fixture(autouse=True)
def _restore_deterministic_mode():
    """Put PyTorch's deterministic mode back as it was after each test.

    ``seed_everything`` (and so ``fit`` and ``setup_notebook``) turns it on for the whole
    process; left on, it made a later test depend on the order (``F.max_unpool2d``, which
    test_unpooling compares with, refuses to run in that mode).
    """
    before = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(before)


@pytest.fixture
def http_server(tmp_path):
    """Serve ``tmp_path / "served"`` on 127.0.0.1; yields (folder, base URL)."""
    folder = tmp_path / "served"
    folder.mkdir()
    with serve(folder) as url:
        yield folder, url


@pytest.fixture
def closed_port_url():
    """A localhost URL where nothing listens: what a machine without network sees."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
