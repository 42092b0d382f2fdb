"""The app served the way `make run` serves it (waitress, in its own process) on a free loopback port, for the tests
that read it with real clients (GDAL, OWSLib). A separate process, not a thread: GDAL's HTTP reads hold the GIL in
pyogrio, and a server thread in the test process would wait for them forever.

Use from a test module::

    from .served import served_registry  # noqa: F401  (pytest fixture)

    def test_something(served_registry):
        requests.get(served_registry.url + "/ogcapi")
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import date
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import requests

from fossil_registry.demo.activity import seed_activity
from fossil_registry.registry import create_demo_accounts, registry_path


# The served apps answer a few requests each: the background warm-up after the first answer (folium, the OpenAPI schemas,
# the readers' pool: ~3 s of CPU, test_cold_start checks it) would only take CPU from the tests running beside them.
NO_WARM_UP = {"FLASK_WARM_UP": "false"}


@dataclass
class ServedRegistry:
    url: str
    data_dir: Path
    registry: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answering(url: str, process: subprocess.Popen, seconds: float = 60) -> bool:
    """Wait until the server started as ``process`` answers at ``url`` (False: it stopped, or not within ``seconds``)."""
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if requests.get(url + "/ogcapi", timeout=2).status_code == 200:
                return True
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still starting
            pass
        time.sleep(0.2)
    return False


@contextmanager
def serving(tmp_path_factory, template: Path, *, activity: bool = True,
            settings: dict[str, str] | None = None) -> Iterator[ServedRegistry]:
    """A copy of the demo registry (with the test accounts' tokens and, with ``activity``, the demo activity `make run`
    adds) served by waitress (`python -m fossil_registry.serve`) with extra ``settings`` (FLASK_* variables)."""
    data_dir = tmp_path_factory.mktemp("served") / "data"
    target = registry_path(data_dir)
    target.parent.mkdir(parents=True)
    shutil.copy(template, target)
    create_demo_accounts(target)  # and the demo's inspections, tracks, proposals and reports, as `make run` has
    if activity:
        seed_activity(target, today=date(2026, 6, 1))
    port = _free_port()
    env = {**os.environ, "FLASK_DATA_DIR": str(data_dir), "FLASK_SECRET_KEY": "served-test-secret",
           "FLASK_CREATE_DEMO_IF_MISSING": "false", "PORT": str(port), "HOST": "127.0.0.1", **NO_WARM_UP,
           **(settings or {})}
    log = open(data_dir.parent / "server.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "fossil_registry.serve"], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    if not answering(url, process):
        process.kill()
        log.close()
        pytest.fail("the server did not start:\n" + (data_dir.parent / "server.log").read_text(errors="replace"))
    try:
        yield ServedRegistry(url=url, data_dir=data_dir, registry=target)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def served_registry(tmp_path_factory, demo_registry_template):
    """The demo registry with its activity, served by waitress until the module ends."""
    with serving(tmp_path_factory, demo_registry_template) as served:
        yield served
