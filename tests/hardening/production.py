"""Run the site the way the image and compose do: commands read from the Dockerfile and
docker-compose.yml themselves, so the smoke test breaks when they do."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import yaml

from tests.helpers import ROOT

BIN = Path(sys.executable).parent


def dockerfile_instructions(path: Path = ROOT / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with line continuations joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = pending + stripped
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def _executable(name: str) -> str:
    # The image has python and gunicorn on PATH; here they live in this virtualenv.
    if name in ("python", "python3"):
        return sys.executable
    return str(BIN / name) if (BIN / name).exists() else name


def collectstatic_step() -> tuple[dict[str, str], list[str]]:
    """The Dockerfile's collectstatic command: (its inline environment, its argv)."""
    for keyword, arguments in dockerfile_instructions():
        if keyword == "RUN" and "collectstatic" in arguments:
            step = next(part for part in arguments.split("&&") if "collectstatic" in part)
            words = shlex.split(step)
            env: dict[str, str] = {}
            while words and "=" in words[0] and not words[0].startswith("-"):
                name, _, value = words.pop(0).partition("=")
                env[name] = value
            return env, [_executable(words[0]), *words[1:]]
    raise AssertionError("the Dockerfile has no collectstatic step")


def dockerfile_cmd() -> list[str]:
    """The image's CMD (exec form), with its executable resolved in this virtualenv."""
    commands = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "CMD"]
    assert commands, "the Dockerfile has no CMD"
    argv = json.loads(commands[-1])
    return [_executable(argv[0]), *argv[1:]]


def compose_workers(path: Path = ROOT / "docker-compose.yml") -> dict[str, list[str]]:
    """Each compose service that runs a Celery worker → its command, runnable here."""
    services = yaml.safe_load(path.read_text())["services"]
    workers: dict[str, list[str]] = {}
    for name, service in services.items():
        command = service.get("command") or ""
        words = shlex.split(command) if isinstance(command, str) else list(command)
        if "worker" in words or any(word.endswith("worker.sh") for word in words):
            if words[0] == "celery":
                words = [sys.executable, "-m", *words]
            workers[name] = words
    return workers
