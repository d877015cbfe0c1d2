"""What goes into the image: source only, static files collected for production, gunicorn's
config. (The slow test_production_smoke.py runs these very commands.)"""

from __future__ import annotations

import fnmatch

import pytest

from tests.hardening.production import collectstatic_step, dockerfile_cmd
from tests.helpers import ROOT


def dockerignore_patterns() -> list[str]:
    path = ROOT / ".dockerignore"
    assert path.exists(), "there is no .dockerignore: COPY . . would take everything"
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line.rstrip("/") for line in lines if line and not line.startswith("#")]


def excluded(relative: str, patterns: list[str]) -> bool:
    """Docker's rule, enough for these patterns: a path is left out when it or a folder above
    it matches; ``**/`` matches any depth; a later ``!pattern`` brings a path back."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    verdict = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        forms = {pattern, pattern.removeprefix("**/")}
        hit = any(
            fnmatch.fnmatchcase(candidate, form) or (
                pattern.startswith("**/") and fnmatch.fnmatchcase(candidate.rsplit("/", 1)[-1], form)
            )
            for candidate in candidates for form in forms
        )
        if hit:
            verdict = not negate
    return verdict


@pytest.mark.parametrize("path", [
    "var/enhancer.sqlite3", "var/media/inputs/1/photo.jpg", "var/media/faces/1/face.jpg",
    ".env", ".env.production", ".venv/bin/python", ".git/HEAD", "staticfiles/css/site.css",
    "node_modules/x/index.js", "apps/uploads/__pycache__/models.cpython-311.pyc",
    ".pytest_cache/v/cache", ".hypothesis/examples/x", ".ruff_cache/x", "test-results/trace.zip",
    "enhancer.egg-info/PKG-INFO",
])
def test_local_data_secrets_and_caches_stay_out_of_the_image(path):
    assert excluded(path, dockerignore_patterns())


@pytest.mark.parametrize("path", [
    "manage.py", "pyproject.toml", "gunicorn.conf.py", "enhancer_site/settings.py",
    "apps/uploads/models.py", "apps/uploads/migrations/0001_initial.py", "static/css/site.css",
    "templates/base.html", "scripts/worker.sh",
])
def test_the_source_goes_into_the_image(path):
    assert not excluded(path, dockerignore_patterns())


def test_static_files_are_collected_in_production_mode_with_a_build_only_secret():
    env, argv = collectstatic_step()
    assert argv[1:3] == ["manage.py", "collectstatic"]
    # DEBUG would pick the plain storage and write no manifest: every page would then be a 500.
    assert env.get("DJANGO_DEBUG") == "false"
    assert env.get("DJANGO_SECRET_KEY") and env.get("DJANGO_ALLOWED_HOSTS")


def test_the_image_runs_gunicorn_with_the_repositorys_config():
    argv = dockerfile_cmd()
    assert argv[1:] == ["enhancer_site.wsgi:application", "-c", "gunicorn.conf.py"]
    assert (ROOT / "gunicorn.conf.py").exists()
