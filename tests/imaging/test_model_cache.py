"""The engine's load-once model cache."""

from __future__ import annotations

import threading
import time

from apps.imaging.model_cache import ModelCache


def test_concurrent_first_uses_load_once():
    cache: ModelCache[object] = ModelCache()
    loads = []

    def load() -> object:
        loads.append(1)
        time.sleep(0.05)  # a slow load: the other threads arrive while it runs
        return object()

    seen = []
    threads = [threading.Thread(target=lambda: seen.append(cache.get("x4", load))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
    assert len({id(model) for model in seen}) == 1


def test_keys_are_separate_and_keep_latest_drops_the_old_version():
    cache: ModelCache[str] = ModelCache()
    assert (cache.get("a", lambda: "A"), cache.get("b", lambda: "B")) == ("A", "B")
    assert cache.get("a", lambda: "other") == "A"

    versions: ModelCache[str] = ModelCache(keep_latest=True)
    versions.get(("model", 1), lambda: "v1")
    versions.get(("model", 2), lambda: "v2")
    assert versions.get(("model", 1), lambda: "v1 reloaded") == "v1 reloaded"


def test_a_failed_load_is_not_cached():
    cache: ModelCache[str] = ModelCache()

    def broken() -> str:
        raise FileNotFoundError("model file missing")

    try:
        cache.get("m", broken)
    except FileNotFoundError:
        pass
    assert cache.get("m", lambda: "installed now") == "installed now"
