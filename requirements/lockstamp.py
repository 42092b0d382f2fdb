"""The lock files' stamp: a digest of what pyproject.toml asks for (runtime and dev requirements, Python version), written
into the first line of each lock by `make lock` and compared by tests/test_lock.py, so that a change to pyproject.toml
without `make lock` fails the suite (and CI) instead of installing something nobody resolved.

    python requirements/lockstamp.py stamp requirements/run.lock requirements/dev.lock
    python requirements/lockstamp.py check requirements/run.lock requirements/dev.lock
"""
from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "# pyproject-inputs-sha256: "


def inputs(pyproject: Path = ROOT / "pyproject.toml") -> dict:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return {
        "requires-python": project.get("requires-python", ""),
        "dependencies": sorted(project.get("dependencies", [])),
        "dev": sorted(project.get("optional-dependencies", {}).get("dev", [])),
    }


def digest(pyproject: Path = ROOT / "pyproject.toml") -> str:
    text = json.dumps(inputs(pyproject), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stamp_of(lock: Path) -> str | None:
    first = lock.read_text(encoding="utf-8").split("\n", 1)[0]
    return first[len(PREFIX):].strip() if first.startswith(PREFIX) else None


def stamp(lock: Path) -> None:
    lines = [line for line in lock.read_text(encoding="utf-8").splitlines() if not line.startswith(PREFIX)]
    lock.write_text("\n".join([PREFIX + digest(), *lines]) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    command, locks = argv[0], [Path(a) for a in argv[1:]]
    if command == "stamp":
        for lock in locks:
            stamp(lock)
        return 0
    stale = [str(lock) for lock in locks if stamp_of(lock) != digest()]
    if stale:
        print(f"{', '.join(stale)} do not match pyproject.toml: run `make lock`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
