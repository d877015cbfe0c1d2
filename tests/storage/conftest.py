"""A real S3-compatible server for the test session (moto in server mode, its own process on
loopback), a fresh private bucket per test, and this process's settings pointed at it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import pytest

from enhancer_site import storage_url
from tests.helpers import ROOT, free_port, stop_process_group

# moto accepts any credentials; real ones must never be needed (or leak) here.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "enhancer-test",
    "AWS_SECRET_ACCESS_KEY": "enhancer-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory) -> str:
    """``http://127.0.0.1:PORT`` of a moto S3 server process, stopped at the end of the session."""
    pytest.importorskip("moto.server", reason="moto[server] is a dev dependency")
    port = free_port()
    log_path = tmp_path_factory.mktemp("s3") / "moto.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            cwd=ROOT, env={**os.environ, **CREDENTIALS}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the S3 server did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)
    yield endpoint
    stop_process_group(process, grace=10)


@dataclass
class Bucket:
    name: str
    url: str  # the ENHANCER_STORAGE_URL every process of the test uses
    client: object  # a boto3 S3 client of the test itself, to look behind the application

    @property
    def env(self) -> dict[str, str]:
        """What another machine needs to use the same storage."""
        return {"ENHANCER_STORAGE_URL": self.url, **CREDENTIALS}

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


def use_bucket(settings, monkeypatch, endpoint: str, query: str = "") -> Bucket:
    import boto3

    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    name = f"enhancer-{uuid.uuid4().hex[:16]}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=name)
    url = f"s3://{name}/media?endpoint_url={endpoint}&region_name=us-east-1&addressing_style=path"
    url += f"&{query}" if query else ""
    parsed = storage_url.parse(url)
    settings.STORAGES = {**settings.STORAGES, "default": parsed.backend}
    settings.ENHANCER_STORAGE_PRESIGNED_SECONDS = parsed.presigned_seconds
    return Bucket(name, url, client)


@pytest.fixture
def bucket(settings, monkeypatch, s3_endpoint) -> Bucket:
    """A new empty bucket, and this process (the web server) storing its media there."""
    return use_bucket(settings, monkeypatch, s3_endpoint)
