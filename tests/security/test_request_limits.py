"""Oversized bodies are refused from Content-Length alone — nothing is read, parsed or spooled —
in the format of the surface they were sent to; a body without a length is refused too."""

from __future__ import annotations

import io

import pytest

GB = 1024**3


class CountingInput(io.RawIOBase):
    """A request body that records how much of it anyone read."""

    def __init__(self, size: int = 64) -> None:
        self.data = io.BytesIO(b"x" * size)
        self.taken = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.data.read(size)
        self.taken += len(chunk)
        return chunk

    def readline(self, size: int = -1) -> bytes:
        chunk = self.data.readline(size)
        self.taken += len(chunk)
        return chunk


def post_declaring(client, path: str, length: int | None, content_type: str, **extra):
    body = CountingInput()
    environ = {"wsgi.input": body, "CONTENT_TYPE": content_type, **extra}
    if length is not None:
        environ["CONTENT_LENGTH"] = str(length)
    # No data here, so the test client adds no Content-Length of its own.
    response = client.generic("POST", path, **environ)
    return response, body


MULTIPART = "multipart/form-data; boundary=BoUnDaRy"
FORM = "application/x-www-form-urlencoded"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/rest/2.0/image-process/v1/dehaze?access_token=t", FORM),
        ("/oauth/2.0/token?grant_type=client_credentials", FORM),
        ("/api/v1/photo/improve?oauth_token=t&oauth_provider=mcs", MULTIPART),
        ("/v1/aiquality?api_key=k&api_secret=s", "application/json"),
        ("/api/jobs/", MULTIPART),
        ("/upload/", MULTIPART),
        ("/accounts/login/", FORM),
        ("/accounts/signup/", FORM),
    ],
)
def test_a_huge_declared_body_is_refused_unread(client, path, content_type):
    response, body = post_declaring(client, path, int(1.5 * GB), content_type)
    assert body.taken == 0
    text = response.content.decode()
    if path.startswith("/rest/"):  # Baidu answers errors with 200 and its own code
        assert (response.status_code, response.json()["error_code"]) == (200, 216202)
        assert response.json()["error_msg"] == "image size error"
    elif path.startswith("/oauth/"):
        assert response.status_code == 413
        assert response.json()["error"] == "invalid_request"
    elif path.startswith("/api/v1/"):
        assert response.status_code == 413
        assert response.json()["status"] == 413
        assert "at most" in response.json()["body"]
    elif path.startswith("/v1/"):  # Meitu answers every failure with 400 and an ErrorCode
        assert response.status_code == 400
        assert response.json()["ErrorMsg"] == "INVALID_PARAMETER"
        assert "1536.0 MB" in response.json()["Data"]
    elif path.startswith("/api/"):
        assert response.status_code == 413
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "request_too_large"
    else:
        assert response.status_code == 413
        assert "The request body is 1536.0 MB" in text and "<html" in text


@pytest.mark.django_db
def test_forms_without_photos_get_a_small_cap(client, settings):
    # 300 KB is fine for a photo endpoint but not for the login form.
    response, body = post_declaring(client, "/accounts/login/", 300 * 1024, FORM)
    assert (response.status_code, body.taken) == (413, 0)
    assert "at most 256 KB" in response.content.decode()
    response, _ = post_declaring(client, "/accounts/login/", 300 * 1024, FORM,
                                 PATH_INFO="/upload/")
    assert response.status_code != 413


@pytest.mark.django_db
def test_a_photo_endpoint_takes_its_files_but_no_more(client, settings):
    settings.ENHANCER_MAX_UPLOAD_BYTES = 1024 * 1024
    settings.ENHANCER_MAX_FILES_PER_UPLOAD = 3
    allowed = 4 * 1024 * 1024  # three files of 1 MB and 1 MB of form
    response, _ = post_declaring(client, "/api/jobs/", allowed, MULTIPART)
    assert response.status_code == 401  # reached the view: not authenticated
    response, body = post_declaring(client, "/api/jobs/", allowed + 1, MULTIPART)
    assert (response.status_code, body.taken) == (413, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "status"), [("/accounts/login/", 411), ("/api/jobs/", 411),
                                              ("/api/v1/photo/improve", 411)])
def test_a_body_without_content_length_is_refused(client, path, status):
    response, body = post_declaring(client, path, None, FORM, HTTP_TRANSFER_ENCODING="chunked")
    assert (response.status_code, body.taken) == (status, 0)
    assert "Content-Length" in response.content.decode()


def test_non_file_bodies_are_capped_well_below_100_mb(settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 16 * 1024 * 1024


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_a_real_server_answers_413_without_waiting_for_the_body(live_server):
    """Over a socket: the headers announce 1.5 GB, no byte of it is sent, and the answer
    comes anyway — the server never waited to read or spool the body."""
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(live_server.url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(
            b"POST /rest/2.0/image-process/v1/dehaze?access_token=t HTTP/1.1\r\n"
            b"Host: " + address.netloc.encode() + b"\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(int(1.5 * GB)).encode() + b"\r\n\r\n"
        )
        answer = b""
        while b"}" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")
    assert b'"error_code": 216202' in answer


class MultipartPhotoBody(io.RawIOBase):
    """A multipart body of ``size`` bytes — a CSRF token matching a self-made cookie and one
    large "photo" — made as it is read, recording how much was read and how many bytes of
    temporary upload files existed in ``temp_dir`` meanwhile."""

    def __init__(self, size: int, token: str, temp_dir) -> None:
        head = (
            f"--BoUnDaRy\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\n"
            f"{token}\r\n--BoUnDaRy\r\nContent-Disposition: form-data; name=\"photos\"; "
            f"filename=\"big.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
        ).encode()
        self.head, self.tail = head, b"\r\n--BoUnDaRy--\r\n"
        self.size, self.position, self.temp_dir = size, 0, temp_dir
        self.taken, self.spooled = 0, 0

    def readable(self) -> bool:
        return True

    def _byte(self, index: int) -> int:
        if index < len(self.head):
            return self.head[index]
        if index >= self.size - len(self.tail):
            return self.tail[index - (self.size - len(self.tail))]
        return ord("x")

    def read(self, size: int = -1) -> bytes:
        left = self.size - self.position
        count = left if size is None or size < 0 else min(size, left)
        start = self.position
        if start >= len(self.head) and start + count <= self.size - len(self.tail):
            chunk = b"x" * count
        else:
            chunk = bytes(self._byte(index) for index in range(start, start + count))
        self.position += count
        self.taken += count
        spooled = sum(path.stat().st_size for path in self.temp_dir.rglob("*") if path.is_file())
        self.spooled = max(self.spooled, spooled)
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/upload/", "/faces/spaces/{space}/enroll/",
                                  "/faces/spaces/{space}/recognize/"])
def test_an_anonymous_photo_post_is_sent_to_log_in_unread(settings, tmp_path, path):
    """A self-made csrftoken cookie made Django's CSRF check parse — and spool to temporary
    files — the whole body before login_required answered."""
    import uuid

    from django.test import Client

    client = Client(enforce_csrf_checks=True)  # the CSRF check runs as in production

    temp_dir = tmp_path / "uploads-temp"
    temp_dir.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(temp_dir)
    token = "a" * 32
    client.cookies["csrftoken"] = token
    body = MultipartPhotoBody(40 * 1024 * 1024, token, temp_dir)
    target = path.format(space=uuid.uuid4())
    response = client.generic("POST", target, **{
        "wsgi.input": body, "CONTENT_TYPE": MULTIPART, "CONTENT_LENGTH": str(body.size)})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert (body.taken, body.spooled) == (0, 0)
    assert list(temp_dir.iterdir()) == []


@pytest.mark.django_db
def test_each_photo_route_caps_its_body_at_what_it_accepts(client, settings):
    from django.urls import reverse

    from enhancer_site.request_limits import body_cap

    settings.ENHANCER_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    settings.ENHANCER_MAX_FILES_PER_UPLOAD = 20
    recognize = reverse("face_registry:recognize", args=["00000000-0000-0000-0000-000000000000"])
    assert body_cap(recognize) == 11 * 1024 * 1024  # one photo and the form
    assert body_cap("/api/spaces/0/recognize/") == 11 * 1024 * 1024
    assert body_cap("/upload/") == 201 * 1024 * 1024  # twenty photos
