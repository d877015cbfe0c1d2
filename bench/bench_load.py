"""Mixed load against the production-like stack; writes docs/benchmarks/load.md.

    python bench/bench_load.py       # needs PostgreSQL and Redis on 127.0.0.1 (skips without)

Started natively exactly as docker-compose.yml runs it: gunicorn with gunicorn.conf.py
(DJANGO_DEBUG=false), PostgreSQL (a fresh database, dropped afterwards), Redis, and one worker
per queue through scripts/worker.sh. Loopback only, bounded in time (about 3 minutes in all) and
in requests (every actor has a cap). The mix:

* heavy: a user keeps two real Real-ESRGAN upscales waiting or running, so the heavy worker is
  busy throughout;
* light: three users upload dehaze / contrast through the upload page and poll the job's status
  until it succeeds;
* faces: VK ``persons/recognize`` of a 0.75 MP portrait, analysed in the web request;
* partners: synchronous Baidu ``dehaze`` and ``contrast_enhance``, Meitu ``aiquality`` and VK
  ``photo/improve`` on 640x480 photos (light work), each waiting for its job;
* the login page, fetched twice a second.

Reported: per class p50 / p95 from submission to ``succeeded`` (for the synchronous calls, the
request itself), p95 of the upload request and of the login page, errors, compat timeouts and
lost jobs (light jobs not finished when the run ends; heavy ones still queued are listed apart).
Environment: ``BENCH_DATABASE_ADMIN_URL`` (default ``postgres://postgres@127.0.0.1:5432/postgres``),
``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``, flushed first), ``BENCH_LOAD_SECONDS``
(default 90), ``BENCH_KEEP_LOGS`` (a folder to keep the server and worker logs in).
"""

from __future__ import annotations

import base64
import io
import json
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import cpu_description  # noqa: E402
from tests.helpers import stop_process_groups  # noqa: E402

OUTPUT = ROOT / "docs" / "benchmarks" / "load.md"
FIXTURES = Path(os.environ.get("ENHANCER_FIXTURES", ROOT.parent / "shared" / "fixtures"))
PY = sys.executable

ADMIN_URL = os.environ.get("BENCH_DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
LOAD_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "90"))
DRAIN_SECONDS = 15.0
# The whole run, setup included, stays within this: the load phase shrinks if setup was slow.
TOTAL_SECONDS = 180.0
# One worker per queue, as make run and compose start them (scripts/worker.sh).
QUEUES = ("light", "heavy", "webhooks")
HEAVY_JOBS, HEAVY_OUTSTANDING = 8, 2
LIGHT_USERS, LIGHT_UPLOADS_EACH = 3, 40
PARTNER_CALLS_EACH, FACE_CALLS, LOGIN_FETCHES = 40, 60, 200


# --- the stack --------------------------------------------------------------------------------


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), 2):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """A fresh database, a flushed Redis database, gunicorn and the two queue workers."""

    def __init__(self) -> None:
        self.dbname = f"enhancer_load_{int(time.time())}_{os.getpid()}"
        self.var = Path(tempfile.mkdtemp(prefix="enhancer-load-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        admin = urlsplit(ADMIN_URL)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "enhancer_site.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": admin._replace(path=f"/{self.dbname}").geturl(),
            "CELERY_BROKER_URL": REDIS_URL,
            "ENHANCER_VAR_DIR": str(self.var),
            "MEDIA_ROOT": str(self.var / "media"),
            "STATIC_ROOT": str(self.var / "static"),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_ACCESSLOG": str(self.var / "access.log"),
            "GUNICORN_ERRORLOG": str(self.var / "gunicorn.log"),
            "PY": PY,
            "PYTHONUNBUFFERED": "1",
            # A load test submits far more than a person's daily allowance of web jobs.
            "ENHANCER_WEB_DAILY_JOBS": "0",
        }
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def admin_sql(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
            connection.execute(sql)

    def manage(self, *args: str) -> str:
        return subprocess.run(  # noqa: S603 - our own manage.py
            [PY, "manage.py", *args], cwd=ROOT, env=self.env, check=True, capture_output=True,
            text=True,
        ).stdout

    def start(self) -> None:
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        self.admin_sql(f'CREATE DATABASE "{self.dbname}"')
        self.manage("migrate", "--noinput", "-v0")
        self.manage("collectstatic", "--noinput", "-v0")
        self.calibration = self.manage("calibrate_costs", "--light", "--scale", "0.5")
        self._spawn("gunicorn", [PY, "-m", "gunicorn", "enhancer_site.wsgi:application",
                                 "-c", "gunicorn.conf.py"])
        for queue in QUEUES:
            self._spawn(f"worker-{queue}", ["bash", "scripts/worker.sh", queue])
        deadline = time.monotonic() + 60
        import requests

        while True:
            try:
                if requests.get(f"{self.url}/accounts/login/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer: " + self.log("gunicorn")[-2000:])
            time.sleep(0.3)
        for queue in QUEUES:
            while "ready." not in self.log(f"worker-{queue}"):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"worker {queue} did not start: {self.log(f'worker-{queue}')[-2000:]}")
                time.sleep(0.3)

    def _spawn(self, name: str, command: list[str]) -> None:
        log = (self.var / f"{name}.out").open("w")
        process = subprocess.Popen(  # noqa: S603 - gunicorn and our worker script
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append((name, process))

    def log(self, name: str) -> str:
        path = self.var / f"{name}.out"
        return path.read_text(errors="replace") if path.exists() else ""

    def setup_data(self) -> dict:
        """A user with a browser session and an API client; printed by a Django shell."""
        script = """
import json
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from apps.accounts.models import ApiClient
user = get_user_model().objects.create_user("bench", "bench@example.com", "bench-password-1")
_, plain = ApiClient.issue(user, "bench", daily_quota=0, rate_limit_per_minute=0)
sessions = []
for _ in range(4):
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    sessions.append(store.session_key)
print(json.dumps({"secrets": plain, "sessions": sessions}))
"""
        return json.loads(self.manage("shell", "-c", script).strip().splitlines()[-1])

    def job_counts(self) -> dict[str, int]:
        import psycopg

        with psycopg.connect(self.env["DATABASE_URL"]) as connection:
            rows = connection.execute(
                "SELECT cost_class, status, count(*) FROM uploads_job GROUP BY 1, 2"
            ).fetchall()
        return {f"{cost_class}/{status}": count for cost_class, status, count in rows}

    def costs(self) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.env["DATABASE_URL"]) as connection:
            return connection.execute(
                "SELECT key, overhead_seconds, seconds_per_megapixel, samples, source "
                "FROM uploads_operationcost ORDER BY key"
            ).fetchall()

    def stop(self) -> None:
        stop_process_groups([process for _name, process in self.processes], grace=15)
        keep = os.environ.get("BENCH_KEEP_LOGS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            for log in self.var.glob("*.out"):
                shutil.copy(log, Path(keep) / log.name)
        try:
            self.admin_sql(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
        finally:
            shutil.rmtree(self.var, ignore_errors=True)


# --- the load ---------------------------------------------------------------------------------


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    requests: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)
    pending: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, table: str, key: str, value: float) -> None:
        with self.lock:
            getattr(self, table)[key].append(value)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text[:300])


def photo(path: Path, size: tuple[int, int], fmt: str = "JPEG") -> bytes:
    from PIL import Image

    image = Image.open(path).convert("RGB").resize(size)
    buffer = io.BytesIO()
    image.save(buffer, fmt, quality=90)
    return buffer.getvalue()


class Browser:
    """A logged-in browser: session and CSRF cookies kept by hand, because production cookies
    are Secure and this loopback run speaks plain HTTP."""

    def __init__(self, base: str, session_key: str) -> None:
        import requests

        self.http = requests.Session()
        self.base = base
        self.csrf = secrets.token_hex(16)
        self.cookie = f"sessionid={session_key}; csrftoken={self.csrf}"

    def get(self, path: str):
        return self.http.get(self.base + path, headers={"Cookie": self.cookie}, timeout=180,
                             allow_redirects=False)

    def upload(self, data: bytes, name: str, operation: str, **fields):
        return self.http.post(
            self.base + "/upload/",
            data={"operation": operation, "csrfmiddlewaretoken": self.csrf, **fields},
            files={"photos": (name, data, "image/jpeg")},
            headers={"Cookie": self.cookie, "Referer": self.base + "/upload/"},
            timeout=180, allow_redirects=False,
        )


def job_uuid(response) -> str | None:
    if response.status_code == 302:
        found = re.search(r"/history/([0-9a-f-]{36})/", response.headers.get("Location", ""))
        return found.group(1) if found else None
    return None


def follow(browser: Browser, uuid: str, started: float, label: str, results: Results,
           deadline: float) -> None:
    while time.monotonic() < deadline:
        status = browser.get(f"/jobs/{uuid}/status/").json()
        if status["status"] == "succeeded":
            results.add("done", label, time.monotonic() - started)
            return
        if status["status"] == "failed":
            results.error(f"{label} job failed: {status.get('error_code')} {status.get('error_message')}")
            return
        time.sleep(0.2 if label == "light" else 1.0)
    results.pending[label].append(uuid)


def light_user(browser: Browser, photos: dict, results: Results, end: float, drain: float) -> None:
    for index in range(LIGHT_UPLOADS_EACH):
        if time.monotonic() > end:
            return
        operation = ("dehaze", "contrast")[index % 2]
        started = time.monotonic()
        response = browser.upload(photos["light"], "street.jpg", operation)
        results.add("requests", "upload", time.monotonic() - started)
        uuid = job_uuid(response)
        if uuid is None:
            results.error(f"upload answered {response.status_code}: {response.text[:200]}")
            continue
        follow(browser, uuid, started, "light", results, drain)
        time.sleep(1.0)


def heavy_user(browser: Browser, photos: dict, results: Results, end: float, drain: float) -> None:
    threads: list[threading.Thread] = []
    for _ in range(HEAVY_JOBS):
        while sum(thread.is_alive() for thread in threads) >= HEAVY_OUTSTANDING:
            time.sleep(0.5)
        if time.monotonic() > end:
            break
        started = time.monotonic()
        response = browser.upload(photos["heavy"], "detail.png", "upscale", factor="4", kind="photo")
        results.add("requests", "upload", time.monotonic() - started)
        uuid = job_uuid(response)
        if uuid is None:
            results.error(f"heavy upload answered {response.status_code}: {response.text[:200]}")
            continue
        thread = threading.Thread(target=follow, args=(browser, uuid, started, "heavy", results, drain))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()


def partner(kind: str, base: str, credentials: dict, photos: dict, results: Results, end: float) -> None:
    import requests

    http = requests.Session()
    image = photos["light"]
    for index in range(PARTNER_CALLS_EACH):
        if time.monotonic() > end:
            return
        started = time.monotonic()
        if kind == "baidu":
            method = ("dehaze", "contrast_enhance")[index % 2]
            response = http.post(
                f"{base}/rest/2.0/image-process/v1/{method}?access_token={credentials['baidu_token']}",
                data={"image": base64.b64encode(image).decode()}, timeout=180,
            )
            payload = response.json()
            ok = "image" in payload
            timed_out = payload.get("error_code") == 282000
        elif kind == "meitu":
            body = {"media_info_list": [{"media_data": base64.b64encode(image).decode(),
                                         "media_profiles": {"media_data_type": "jpg"}}]}
            response = http.post(
                f"{base}/v1/aiquality?api_key={credentials['meitu_api_key']}"
                f"&api_secret={credentials['meitu_api_secret']}", json=body, timeout=180,
            )
            payload = response.json()
            ok = "media_info_list" in payload
            timed_out = str(payload.get("Data", "")).startswith("timeout")
        else:
            meta = {"mode": ["improve"], "images": [{"name": "file"}]}
            response = http.post(
                f"{base}/api/v1/photo/improve?oauth_token={credentials['token']}&oauth_provider=mcs",
                data={"meta": json.dumps(meta)}, files={"file": ("file.jpg", image, "image/jpeg")},
                timeout=180,
            )
            payload = response.json()
            body = payload.get("body")
            items = body.get("improve") if isinstance(body, dict) else None
            item = items[0] if items else {}
            ok = payload.get("status") == 200 and item.get("status") == 0
            timed_out = item.get("status") == 2
        elapsed = time.monotonic() - started
        results.add("done", f"compat {kind}", elapsed)
        if timed_out:
            with results.lock:
                results.timeouts.append(f"{kind}: {str(payload)[:200]}")
        elif not ok:
            results.error(f"{kind}: {response.status_code} {str(payload)[:200]}")
        time.sleep(1.0)


def recognizer(base: str, credentials: dict, photos: dict, results: Results, end: float,
               calls: int = FACE_CALLS) -> None:
    import requests

    http = requests.Session()
    for _ in range(calls):
        if time.monotonic() > end:
            return
        started = time.monotonic()
        meta = {"space": "1", "images": [{"name": "face"}]}
        response = http.post(
            f"{base}/api/v1/persons/recognize?oauth_token={credentials['token']}&oauth_provider=mcs",
            data={"meta": json.dumps(meta)}, files={"face": ("face.jpg", photos["face"], "image/jpeg")},
            timeout=180,
        )
        results.add("done", "face recognition", time.monotonic() - started)
        objects = (response.json().get("body") or {}).get("objects") or [{}]
        if response.status_code != 200 or objects[0].get("status") != 0:
            results.error(f"recognize: {response.status_code} {response.text[:200]}")
        time.sleep(1.0)


def login_page(base: str, results: Results, end: float) -> None:
    import requests

    http = requests.Session()
    for _ in range(LOGIN_FETCHES):
        if time.monotonic() > end:
            return
        started = time.monotonic()
        response = http.get(f"{base}/accounts/login/", timeout=180)
        results.add("requests", "login page", time.monotonic() - started)
        if response.status_code != 200:
            results.error(f"login page: {response.status_code}")
        time.sleep(0.5)


# --- report -----------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[round(share * 100) - 1]


def main() -> int:
    import requests

    if not (reachable(ADMIN_URL, 5432) and reachable(REDIS_URL, 6379)):
        print("bench_load skipped: needs PostgreSQL and Redis on loopback", file=sys.stderr)
        return 0
    faces = FIXTURES / "faces"
    photos = {
        "light": photo(FIXTURES / "photos" / "hazy_forest.jpg", (640, 480)),
        "heavy": photo(FIXTURES / "photos" / "baboon_gt.png", (480, 360), "PNG"),
        "face": (faces / "obama2.jpg").read_bytes(),
    }
    began = time.monotonic()
    load_before = os.getloadavg()[0]
    stack = Stack()
    try:
        stack.start()
        data = stack.setup_data()
        credentials = dict(data["secrets"])
        base = stack.url
        token = requests.post(f"{base}/oauth/2.0/token", data={
            "grant_type": "client_credentials", "client_id": credentials["baidu_api_key"],
            "client_secret": credentials["baidu_secret_key"]}, timeout=30).json()
        credentials["baidu_token"] = token["access_token"]
        enrolled = requests.post(
            f"{base}/api/v1/persons/set?oauth_token={credentials['token']}&oauth_provider=mcs",
            data={"meta": json.dumps({"space": "1", "images": [{"name": "p", "person_id": 1}]})},
            files={"p": ("obama.jpg", (faces / "obama.jpg").read_bytes(), "image/jpeg")},
            timeout=60,
        ).json()
        assert enrolled["body"]["objects"][0]["status"] == 0, enrolled
        # Warm each gunicorn process's face models and the light worker's first jobs.
        warm = Results()
        warmers = [threading.Thread(target=recognizer, args=(base, credentials, photos, warm,
                                                             time.monotonic() + 30, 2))
                   for _ in range(4)]
        warmers += [threading.Thread(target=partner, args=("baidu", base, credentials, photos, warm,
                                                           time.monotonic() + 1)) for _ in range(2)]
        for thread in warmers:
            thread.start()
        for thread in warmers:
            thread.join()
        setup_seconds = time.monotonic() - began

        results = Results()
        load_seconds = max(45.0, min(LOAD_SECONDS, TOTAL_SECONDS - setup_seconds - DRAIN_SECONDS - 15))
        end = time.monotonic() + load_seconds
        drain = end + DRAIN_SECONDS
        browsers = [Browser(base, key) for key in data["sessions"]]
        actors = [threading.Thread(target=heavy_user, args=(browsers[0], photos, results, end, drain))]
        actors += [threading.Thread(target=light_user, args=(browsers[1 + i % 3], photos, results, end, drain))
                   for i in range(LIGHT_USERS)]
        actors += [threading.Thread(target=partner, args=(kind, base, credentials, photos, results, end))
                   for kind in ("baidu", "meitu", "vk")]
        actors += [threading.Thread(target=recognizer, args=(base, credentials, photos, results, end)),
                   threading.Thread(target=login_page, args=(base, results, end))]
        load_started = time.monotonic()
        for actor in actors:
            actor.start()
        for actor in actors:
            actor.join(timeout=max(1.0, drain + 30 - time.monotonic()))
        load_wall = time.monotonic() - load_started
        counts = stack.job_counts()
        model = stack.costs()
        calibration = stack.calibration
    finally:
        stack.stop()
    total = time.monotonic() - began
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(report(results, counts, model, calibration, setup_seconds, load_seconds,
                             load_wall, total, load_before, os.getloadavg()[0]))
    print(OUTPUT.read_text())
    return 0


def report(results: Results, counts: dict, model: list, calibration: str, setup: float,
           load_seconds: float, load_wall: float, total: float, load_before: float,
           load_after: float) -> str:
    lines = [
        "## Mixed load (`bench/bench_load.py`)\n",
        f"CPU: {cpu_description()}; Python {platform.python_version()}. Load average "
        f"{load_before:.1f} before, {load_after:.1f} after (other work shares these cores).",
        f"Command: `python bench/bench_load.py` (load phase {load_seconds:.0f} s). Stack as "
        "compose runs it: gunicorn -c gunicorn.conf.py (its defaults: 2 processes per core x 8 "
        "threads; DJANGO_DEBUG=false), PostgreSQL (fresh "
        "database), Redis, `scripts/worker.sh light` + `heavy` + `webhooks`; loopback. "
        f"Setup {setup:.0f} s (migrate, collectstatic, `calibrate_costs --light`), load "
        f"{load_wall:.0f} s including the drain, {total:.0f} s in all.",
        "",
        "Mix: 1 user keeping 2 Real-ESRGAN x4plus upscales (x4, 480x360) queued or running; 3 users "
        "uploading 640x480 dehaze / contrast on the upload page and polling; VK persons/recognize "
        "(0.75 MP portrait, analysed in the request); synchronous Baidu dehaze + contrast_enhance, "
        "Meitu aiquality and VK photo/improve on 640x480 photos; the login page twice a second.",
        "",
        "| class | count | p50 s | p95 s | goal |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    goals = {"light": "p95 ≤ 3 s", "compat baidu": "never times out", "compat meitu": "never times out",
             "compat vk": "never times out"}
    for label in ["light", "heavy", "compat baidu", "compat meitu", "compat vk", "face recognition"]:
        values = results.done.get(label, [])
        if values:
            lines.append(f"| {label} (submission → succeeded) | {len(values)} | "
                         f"{percentile(values, 0.5):.2f} | {percentile(values, 0.95):.2f} | "
                         f"{goals.get(label, '')} |")
    for label, goal in (("upload", "p95 ≤ 0.2 s"), ("login page", "p95 ≤ 0.2 s")):
        values = results.requests.get(label, [])
        if values:
            lines.append(f"| {label} request | {len(values)} | {percentile(values, 0.5):.3f} | "
                         f"{percentile(values, 0.95):.3f} | {goal} |")
    lost = sum(len(v) for k, v in results.pending.items() if k == "light")
    heavy_left = len(results.pending.get("heavy", []))
    lines += [
        "",
        f"Errors: {len(results.errors)}. Compat timeouts: {len(results.timeouts)}. Lost light jobs "
        f"(not finished by the end): {lost}. Heavy jobs still queued or running at the end: "
        f"{heavy_left}. Jobs in the database at the end: "
        + ", ".join(f"{key} {value}" for key, value in sorted(counts.items())) + ".",
    ]
    for text in (results.errors + results.timeouts)[:8]:
        lines.append(f"- {text}")
    lines += ["", "Cost model at the end (calibrated light rows, then moved by the jobs):", "",
              "| key | overhead s | s per MP | samples | source |", "| --- | ---: | ---: | ---: | --- |"]
    for key, overhead, rate, samples, source in model:
        lines.append(f"| {key} | {overhead:.2f} | {rate:.2f} | {samples} | {source} |")
    lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
