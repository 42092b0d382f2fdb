"""Reproducible installs: the lock files match pyproject.toml, and this environment holds exactly the locked versions
(what `make test` installs on a fresh clone with --require-hashes)."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
REQ = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", re.M)
sys.path.insert(0, str(REQ))
import lockstamp  # noqa: E402


def pins(lock: Path) -> dict[str, str]:
    return {canonicalize_name(name): version for name, version in PIN.findall(lock.read_text(encoding="utf-8"))}


def hashes(lock: Path) -> dict[str, list[str]]:
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock.read_text(encoding="utf-8"))
    found = {}
    for block in blocks:
        m = PIN.match(block)
        if m:
            found[canonicalize_name(m.group(1))] = sorted(re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return found


def test_locks_are_stamped_with_the_current_pyproject():
    # A pyproject.toml changed without `make lock` fails here (and so in CI), naming the fix.
    assert lockstamp.stamp_of(REQ / "run.lock") == lockstamp.digest(), "run.lock is stale: run `make lock`"
    assert lockstamp.stamp_of(REQ / "dev.lock") == lockstamp.digest(), "dev.lock is stale: run `make lock`"


def test_the_stamp_changes_with_any_requirement(tmp_path):
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    changed = tmp_path / "pyproject.toml"
    changed.write_text(text.replace('"flask>=3.0"', '"flask>=3.1"'), encoding="utf-8")
    assert lockstamp.digest(changed) != lockstamp.digest()


def test_every_requirement_is_locked_at_a_version_it_allows():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for lock, requirements in ((REQ / "run.lock", project["dependencies"]),
                               (REQ / "dev.lock", project["dependencies"] + project["optional-dependencies"]["dev"])):
        locked = pins(lock)
        for text in requirements:
            req = Requirement(text)
            name = canonicalize_name(req.name)
            assert name in locked, f"{req.name} is not in {lock.name}"
            assert req.specifier.contains(locked[name], prereleases=True), (text, locked[name])


def test_every_pin_has_hashes_and_run_is_the_dev_lock_without_the_dev_tools():
    dev, run = hashes(REQ / "dev.lock"), hashes(REQ / "run.lock")
    assert all(dev.values()) and all(run.values()), "a pin without --hash"
    assert set(run) < set(dev)
    assert {name: dev[name] for name in run} == run
    assert {"pytest", "playwright", "schemathesis"} <= set(dev) - set(run)
    assert {"flask", "folium", "branca", "shapely", "pypinyin"} <= set(run)


def test_pip_freeze_is_exactly_the_lock():
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
                            capture_output=True, text=True, check=True).stdout
    installed = {canonicalize_name(n): v for n, v in PIN.findall(frozen)}
    installed.pop("fossil-registry", None)
    expected = pins(REQ / "dev.lock") | pins(REQ / "no-deps.lock")
    differ = {name: (installed.get(name), expected.get(name))
              for name in installed.keys() | expected.keys() if installed.get(name) != expected.get(name)}
    assert differ == {}, "installed vs locked (make test installs the lock; `make lock` changes it)"
