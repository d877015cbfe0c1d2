"""The production front: compose publishes nginx (deploy/nginx.conf), not gunicorn. nginx reads
slow clients' requests whole, so a few dozen of them no longer take every gunicorn thread;
it caps bodies, serves the static files and sets X-Forwarded-For for ENHANCER_TRUSTED_PROXIES=1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT, free_port, process_env, stop_process_group, wait_for

CONF = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")


@pytest.mark.parametrize("compose", ["docker-compose.yml", "docker-compose.scale.yml"])
def test_compose_publishes_the_proxy_and_not_gunicorn(compose):
    services = yaml.safe_load((ROOT / compose).read_text())["services"]
    proxy, web = services["proxy"], services["web"]
    assert proxy["image"].startswith("nginx")
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert proxy["ports"] == ["8000:8000"] and "ports" not in web
    assert web["environment"]["ENHANCER_TRUSTED_PROXIES"] == "1"
    # The static files the proxy serves are the ones the web image built.
    static = {volume.split(":")[0] for volume in proxy["volumes"]} & {
        volume.split(":")[0] for volume in web["volumes"]}
    assert static == {"static-files"} and "/srv/static/" in web["command"]


def test_the_proxy_config_caps_bodies_times_out_slow_clients_and_forwards_the_address():
    text = CONF.read_text()
    for directive in ("client_max_body_size 1m;", "client_body_timeout", "client_header_timeout",
                      "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
                      "proxy_set_header X-Forwarded-Proto $scheme;", "alias /srv/static/;",
                      "proxy_request_buffering off;"):
        assert directive in text, directive


@needs_nginx
def test_nginx_accepts_the_config():
    done = subprocess.run([NGINX, "-t", "-c", str(CONF), "-e", "stderr"], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr


def local_conf(tmp: Path, listen: int, upstream: int) -> Path:
    """deploy/nginx.conf on loopback ports, its pid and temporary files under ``tmp``."""
    text = CONF.read_text()
    text = text.replace("listen 8000;", f"listen 127.0.0.1:{listen};")
    text = text.replace("http://web:8000", f"http://127.0.0.1:{upstream}")
    text = text.replace("/tmp/", f"{tmp}/").replace("/srv/static/", f"{tmp}/static/")
    (tmp / "static").mkdir()
    path = tmp / "nginx.conf"
    path.write_text(text)
    return path


def answers(port: int, timeout: float) -> bool:
    import requests

    try:
        return requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=timeout).ok
    except requests.RequestException:
        return False


def dribble(port: int, count: int) -> list[socket.socket]:
    """``count`` login POSTs that announce a body and send one byte of it."""
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 4000\r\n\r\nu")
        held.append(sock)
    return held


@needs_nginx
@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_slow_clients_hold_gunicorn_directly_but_not_through_the_proxy(tmp_path, settings):
    gunicorn_port, nginx_port = free_port(), free_port()
    env = process_env(settings.MEDIA_ROOT, GUNICORN_BIND=f"127.0.0.1:{gunicorn_port}",
                      GUNICORN_WORKERS="1", GUNICORN_THREADS="4")
    logs = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(Path(shutil.which("gunicorn", path=str(Path(__import__("sys").executable).parent)))),
         "enhancer_site.wsgi:application", "-c", "gunicorn.conf.py"],
        cwd=ROOT, env=env, stdout=logs, stderr=subprocess.STDOUT, start_new_session=True)
    proxy = subprocess.Popen(
        [NGINX, "-c", str(local_conf(tmp_path, nginx_port, gunicorn_port)), "-e", "stderr",
         "-g", "daemon off; user root;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    held: list[socket.socket] = []
    try:
        wait_for(lambda: answers(gunicorn_port, 5) and answers(nginx_port, 5), timeout=60)
        # Directly: a handful of dribbling clients take gunicorn's four threads.
        held = dribble(gunicorn_port, 8)
        time.sleep(1)
        assert not answers(gunicorn_port, 3)
        for sock in held:
            sock.close()
        held = []
        wait_for(lambda: answers(gunicorn_port, 5), timeout=60)
        # Through the proxy: forty of them, and the site still answers.
        held = dribble(nginx_port, 40)
        time.sleep(1)
        started = time.monotonic()
        assert answers(nginx_port, 10)
        print(f"through nginx with 40 slow clients: answered in {time.monotonic() - started:.2f} s")
    finally:
        for sock in held:
            sock.close()
        stop_process_group(proxy)
        stop_process_group(server)
        logs.close()
