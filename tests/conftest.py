"""Fixtures shared by the unit tests."""

import socket

import pytest
from sitetools import serve


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
