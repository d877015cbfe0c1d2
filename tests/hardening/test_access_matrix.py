"""Who may call what: every URL and API route × every kind of caller.

The routes are enumerated from Django's URL resolver, so a new route without an entry here fails
``test_every_route_is_in_the_matrix``. Each caller's request runs in its own savepoint, rolled
back afterwards, so every caller meets the same world (a delete by one does not change the next
one's answer); before the rollback, a caller who does not own Alice's data must have left all of
it in place, and no answer to such a caller may carry any of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from apps.accounts.models import ApiClient
from apps.api import access
from apps.api.downloads import signed_url
from apps.face_registry.models import Face, Person, Space
from apps.uploads.costs import cost_row
from apps.uploads.models import Job, Output
from tests.helpers import image_bytes
from tests.uploads.factories import make_job

# Non-owners first only for readability of failures; savepoints make the order irrelevant.
ACTORS = ("anonymous", "user_b", "staff", "admin", "client_b", "client_disabled",
          "token_revoked", "client_a", "user_a")
USERS = ("user_a", "user_b", "staff", "admin")
CLIENTS = ("client_a", "client_b", "client_disabled", "token_revoked")
# Alice's data carries these words; no answer to anyone but her (or an admin page) may.
MARKERS = ("alice-private", "Alice Private")

LOGIN, ADMIN_LOGIN = "login", "admin-login"


@dataclass
class Case:
    """One request, and per caller the expected answer: an HTTP status, LOGIN / ADMIN_LOGIN
    (a redirect there), or the code in the envelope of Baidu (always HTTP 200) or Meitu (always
    400 on failure): ``"baidu:<error_code>"``, ``"meitu:<ErrorCode>"``, or ``"…:ok"``."""

    method: str
    path: str
    style: str  # how clients present credentials: session (none), api, vk, baidu, baidu-oauth, meitu
    expect: dict[str, int | str]
    data: dict = field(default_factory=dict)
    # Callers for whom this request legitimately changes or shows Alice's data.
    owners: tuple[str, ...] = ("user_a",)


def web(path: str, owner: int | str = 200, method: str = "GET", other: int | str = 404, **kw) -> Case:
    """A login-required page over one of Alice's objects."""
    expect: dict[str, int | str] = {actor: LOGIN for actor in ("anonymous", *CLIENTS)}
    expect.update(user_a=owner, user_b=other, staff=other, admin=other)
    return Case(method, path, "session", expect, **kw)


def api(path: str, owner: int | str = 200, method: str = "GET", other: int | str = 404,
        owners: tuple[str, ...] = ("user_a", "client_a"), **kw) -> Case:
    """A native-API route: token or session; disabled or revoked tokens are not credentials."""
    expect: dict[str, int | str] = {"anonymous": 401, "client_disabled": 401, "token_revoked": 401}
    for actor in ("user_b", "staff", "admin", "client_b"):
        expect[actor] = other
    for actor in ("user_a", "client_a"):
        expect[actor] = owner
    return Case(method, path, "api", expect, owners=owners, **kw)


def anyone(path: str, status: int | str = 200, method: str = "GET") -> Case:
    return Case(method, path, "session", dict.fromkeys(ACTORS, status), owners=ACTORS)


def staff_only(path: str, admin_status: int | str = 200, staff_status: int | str = 403) -> Case:
    expect: dict[str, int | str] = {actor: ADMIN_LOGIN for actor in ("anonymous", "user_a", "user_b", *CLIENTS)}
    expect.update(staff=staff_status, admin=admin_status)
    return Case("GET", path, "session", expect, owners=("admin",))


def staff_post(path: str) -> Case:
    """An admin action: staff without the model's permissions get 403, the admin a redirect."""
    case = staff_only(path, admin_status=302)
    case.method = "POST"
    return case


def vk(path: str, meta: str | None, client_status: int, other_client: int | None = None) -> Case:
    expect: dict[str, int | str] = {actor: 401 for actor in ("anonymous", *USERS)}
    expect.update(client_a=client_status, client_b=other_client or client_status,
                  client_disabled=403, token_revoked=403)
    data = {} if meta is None else {"meta": meta}
    return Case("POST", path, "vk", expect, data=data, owners=("client_a",))


def baidu(path: str, client_code: str, method: str = "POST", style: str = "baidu") -> Case:
    expect: dict[str, int | str] = {actor: "baidu:100" for actor in ("anonymous", *USERS)}
    expect.update(client_a=client_code, client_b=client_code,
                  client_disabled="baidu:110", token_revoked="baidu:110")
    return Case(method, path, style, expect, owners=("client_a",))


def route_matrix(w: World) -> dict[str, list[Case]]:
    """Route pattern (as the resolver spells it) → the requests that prove its access rules."""
    job, space, person, face = w.job, w.space, w.person, w.face
    baidu_token_expect: dict[str, int | str] = {actor: 400 for actor in ("anonymous", *USERS)}
    baidu_token_expect.update(client_a=200, client_b=200, client_disabled=401, token_revoked=401)
    home = {actor: 302 for actor in USERS} | {actor: 200 for actor in ("anonymous", *CLIENTS)}
    signup = {actor: 302 for actor in USERS} | {actor: 200 for actor in ("anonymous", *CLIENTS)}
    # Meitu answers every failure with HTTP 400; its ErrorCode says which (10001: bad key).
    meitu = {actor: "meitu:10001" for actor in ("anonymous", *USERS)}
    meitu.update(client_a="meitu:10000", client_b="meitu:10000",
                 client_disabled="meitu:10001", token_revoked="meitu:10001")
    # A bad token is refused even where no credentials are needed.
    public_api = dict.fromkeys(ACTORS, 200) | {"client_disabled": 401, "token_revoked": 401}
    return {
        "": [Case("GET", "/", "session", home, owners=ACTORS)],
        "healthz": [anyone("/healthz")],
        "accounts/signup/": [Case("GET", "/accounts/signup/", "session", signup, owners=ACTORS)],
        "accounts/login/": [anyone("/accounts/login/")],
        "accounts/logout/": [anyone("/accounts/logout/", 302, "POST")],
        "history/": [web("/history/", other=200)],
        "history/<uuid:job_uuid>/": [web(f"/history/{job.uuid}/")],
        "history/<uuid:job_uuid>/results.zip": [web(f"/history/{job.uuid}/results.zip")],
        # Another's ids in a bulk delete are ignored: the same redirect, nothing deleted.
        "history/delete/": [web("/history/delete/", 302, "POST", other=302,
                                data={"jobs": [str(job.uuid)]})],
        # Another's ids in "download selected" are ignored: nothing of theirs to zip, sent back.
        "history/results.zip": [web("/history/results.zip", 200, "POST", other=302,
                                    data={"jobs": [str(job.uuid)]})],
        "history/<uuid:job_uuid>/thumbnail.jpg": [web(f"/history/{job.uuid}/thumbnail.jpg")],
        "history/<uuid:job_uuid>/delete/": [web(f"/history/{job.uuid}/delete/", 302, "POST")],
        "history/<uuid:job_uuid>/rerun/": [web(f"/history/{job.uuid}/rerun/", 302, "POST")],
        "upload/": [web("/upload/", other=200)],
        "upload/estimate/": [web("/upload/estimate/?sizes=640x480", other=200)],
        "i18n/setlang/": [anyone("/i18n/setlang/", 302, "POST")],
        "jobs/<uuid:job_uuid>/status/": [web(f"/jobs/{job.uuid}/status/")],
        # Another's ids are left out of the answer (tests/uploads/test_costs.py reads the body).
        "jobs/status/": [web(f"/jobs/status/?ids={job.uuid}", other=200)],
        "jobs/<uuid:job_uuid>/input/": [web(f"/jobs/{job.uuid}/input/")],
        "jobs/<uuid:job_uuid>/thumbnail/": [web(f"/jobs/{job.uuid}/thumbnail/")],
        "jobs/<uuid:job_uuid>/outputs/<slug:kind>/": [web(f"/jobs/{job.uuid}/outputs/contrasted/")],
        "faces/": [web("/faces/", other=200)],
        "faces/spaces/<uuid:space_uuid>/": [web(f"/faces/spaces/{space.uuid}/")],
        "faces/spaces/<uuid:space_uuid>/enroll/": [
            web(f"/faces/spaces/{space.uuid}/enroll/", 302, "POST")],
        "faces/spaces/<uuid:space_uuid>/recognize/": [web(f"/faces/spaces/{space.uuid}/recognize/")],
        "faces/spaces/<uuid:space_uuid>/truncate/": [
            web(f"/faces/spaces/{space.uuid}/truncate/"),
            web(f"/faces/spaces/{space.uuid}/truncate/", 302, "POST")],
        "faces/persons/<uuid:person_uuid>/": [web(f"/faces/persons/{person.uuid}/")],
        "faces/persons/<uuid:person_uuid>/enroll/": [
            web(f"/faces/persons/{person.uuid}/enroll/", 302, "POST")],
        "faces/persons/<uuid:person_uuid>/delete/": [
            web(f"/faces/persons/{person.uuid}/delete/", 302, "POST")],
        "faces/faces/<uuid:face_uuid>/delete/": [web(f"/faces/faces/{face.uuid}/delete/", 302, "POST")],
        "faces/faces/<uuid:face_uuid>/thumbnail/": [web(f"/faces/faces/{face.uuid}/thumbnail/")],
        "faces/admin/faces/<uuid:face_uuid>/thumbnail/": [
            staff_only(f"/faces/admin/faces/{face.uuid}/thumbnail/")],
        "admin/jobs/<uuid:job_uuid>/thumbnail/": [staff_only(f"/admin/jobs/{job.uuid}/thumbnail/")],
        # --- monitoring: the test client calls from loopback, which may scrape by default;
        # from elsewhere it is a 404 without the token (tests/monitoring/test_metrics.py).
        "metrics": [anyone("/metrics")],
        "admin/operations/": [staff_only("/admin/operations/")],
        "admin/operations/jobs/<uuid:job_uuid>/cancel/": [
            staff_post(f"/admin/operations/jobs/{job.uuid}/cancel/")],
        "admin/operations/jobs/<uuid:job_uuid>/retry/": [
            staff_post(f"/admin/operations/jobs/{job.uuid}/retry/")],
        "developer/": [web("/developer/", other=200)],
        "developer/<int:client_id>/revoke/": [
            web(f"/developer/{w.client_a.id}/revoke/", 302, "POST")],
        # --- native API
        "api/schema/": [Case("GET", "/api/schema/", "api", public_api, owners=ACTORS)],
        "api/docs/": [Case("GET", "/api/docs/", "api", public_api, owners=ACTORS)],
        "api/^jobs/$": [api("/api/jobs/", other=200), api("/api/jobs/", 400, "POST", other=400)],
        "api/^jobs/(?P<pk>[^/.]+)/$": [api(f"/api/jobs/{job.uuid}/"),
                                      api(f"/api/jobs/{job.uuid}/", 204, "DELETE")],
        "api/^jobs/(?P<pk>[^/.]+)/outputs/(?P<kind>[^/]+)/$": [
            api(f"/api/jobs/{job.uuid}/outputs/contrasted/")],
        # Space numbers are per owner (and per API client): everyone has a space 0 of their own,
        # so another caller's answer is about their own space, never Alice's.
        "api/^spaces/(?P<number>[^/]+)/persons/$": [api("/api/spaces/0/persons/", other=200)],
        "api/^spaces/(?P<number>[^/]+)/persons/(?P<person_id>[0-9]{1,10})/$": [
            api("/api/spaces/0/persons/1/", 204, "DELETE")],
        "api/^spaces/(?P<number>[^/]+)/persons/(?P<person_id>[0-9]{1,10})/faces/$": [
            api("/api/spaces/0/persons/1/faces/")],
        "api/^spaces/(?P<number>[^/]+)/enroll/$": [api("/api/spaces/0/enroll/", 400, "POST", other=400)],
        "api/^spaces/(?P<number>[^/]+)/recognize/$": [
            api("/api/spaces/0/recognize/", 400, "POST", other=400)],
        "api/^spaces/(?P<number>[^/]+)/truncate/$": [
            api("/api/spaces/0/truncate/", 204, "POST", other=204)],
        # --- VK, Baidu, Meitu
        "api/v1/photo/improve": [vk("/api/v1/photo/improve", None, 400)],
        "api/v1/persons/set": [vk("/api/v1/persons/set", '{"space": 0}', 400)],
        "api/v1/persons/recognize": [vk("/api/v1/persons/recognize", '{"space": 0}', 400)],
        "api/v1/persons/delete": [vk(
            "/api/v1/persons/delete", '{"space": 0, "images": [{"name": "x", "person_id": 1}]}', 200)],
        "api/v1/persons/truncate": [vk("/api/v1/persons/truncate", '{"space": 0}', 200)],
        "oauth/2.0/token": [Case("GET", "/oauth/2.0/token", "baidu-oauth", baidu_token_expect,
                                 owners=("client_a",))],
        "rest/2.0/image-process/v1/<slug:method_name>": [
            baidu("/rest/2.0/image-process/v1/dehaze", "baidu:216200"),
            Case("POST", "/rest/2.0/image-process/v1/no_such_method", "baidu",
                 dict.fromkeys(ACTORS, "baidu:3"), owners=ACTORS)],
        "rest/2.0/image-classify/v1/<slug:method_name>": [
            baidu("/rest/2.0/image-classify/v1/dehaze", "baidu:216200")],
        "v1/aiquality": [Case("POST", "/v1/aiquality", "meitu", meitu, owners=("client_a",))],
        # The signed link is its own authorisation (Meitu hands it to any HTTP client).
        "api/results/<str:token>/": [anyone(w.signed_path), anyone(w.dead_signed_path, 404)],
        # --- the admin site itself (model pages are generated below)
        "admin/": [staff_only("/admin/", staff_status=200)],
        "admin/login/": [Case("GET", "/admin/login/", "session",
                              dict.fromkeys(ACTORS, 200) | {"staff": 302, "admin": 302},
                              owners=ACTORS)],
        "admin/logout/": [anyone("/admin/logout/", 302, "POST")],
        "admin/password_change/": [staff_only("/admin/password_change/", staff_status=200)],
        "admin/password_change/done/": [staff_only("/admin/password_change/done/", staff_status=200)],
        "admin/autocomplete/": [staff_only("/admin/autocomplete/", 403, 403)],
        "admin/jsi18n/": [staff_only("/admin/jsi18n/", staff_status=200)],
        "admin/r/<path:content_type_id>/<path:object_id>/": [
            staff_only(f"/admin/r/{ContentType.objects.get_for_model(Job).id}/{job.id}/", 404, 404)],
        "admin/^(?P<app_label>auth|django_celery_results|accounts|uploads|face_registry)/$": [
            staff_only("/admin/uploads/", staff_status=404)],
        "admin/(?P<url>.*)$": [staff_only("/admin/no-such-page/", 404, 404)],
    }


def admin_model_matrix(w: World) -> dict[str, list[Case]]:
    """Every ModelAdmin page: staff without that model's permissions get 403, the admin 200."""
    cases: dict[str, list[Case]] = {}
    request = RequestFactory().get("/admin/")
    request.user = w.users["admin"]
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        base = "/" + prefix
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"the world has no {model._meta.label} to open in the admin"
        add_status = 200 if model_admin.has_add_permission(request) else 403
        delete_status = 200 if model_admin.has_delete_permission(request, obj) else 403
        cases[prefix] = [staff_only(base)]
        cases[prefix + "add/"] = [staff_only(base + "add/", add_status)]
        cases[prefix + "<path:object_id>/change/"] = [staff_only(f"{base}{obj.pk}/change/")]
        cases[prefix + "<path:object_id>/history/"] = [staff_only(f"{base}{obj.pk}/history/")]
        cases[prefix + "<path:object_id>/delete/"] = [staff_only(f"{base}{obj.pk}/delete/", delete_status)]
        cases[prefix + "<path:object_id>/"] = [staff_only(f"{base}{obj.pk}/", 302, 302)]
        if model_admin.__class__.__name__ == "UserAdmin":
            cases[prefix + "<id>/password/"] = [staff_only(f"{base}{obj.pk}/password/")]
    return cases


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    users: dict
    clients: dict[str, dict[str, str]]
    client_a: ApiClient
    job: Job
    space: Space
    person: Person
    face: Face
    signed_path: str
    dead_signed_path: str  # a link handed out through the since-disabled client


def _face(space: Space, person_id: int, name: str) -> tuple[Person, Face]:
    person = Person.objects.create(space=space, person_id=person_id, name=name)
    face = Face(space=space, person=person, embedding=np.zeros(128, "<f4").tobytes(),
                left=1, top=1, right=40, bottom=40, image_name="alice-private-face.jpg")
    face.thumbnail.save("face.jpg", ContentFile(image_bytes(48, 48, "JPEG")), save=False)
    face.save()
    return person, face


def _credentials(client: ApiClient, secrets: dict[str, str]) -> dict[str, str]:
    baidu_token, _ = access.issue_baidu_token(client)
    return {**secrets, "baidu_access_token": baidu_token}


@pytest.fixture
def world(db, django_user_model) -> World:
    from django.contrib.auth.models import Group
    from django_celery_results.models import GroupResult, TaskResult

    make = django_user_model.objects.create_user
    users = {
        "user_a": make("alice", "alice@example.com", "alice-password-1"),
        "user_b": make("bob", "bob@example.com", "bob-password-1"),
        # Staff may enter the admin site but holds no model permission at all.
        "staff": make("stacy", "stacy@example.com", "stacy-password-1", is_staff=True),
        "admin": django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1"),
    }
    alice = users["user_a"]
    issued = {
        "client_a": ApiClient.issue(alice, "Alice Private App", daily_quota=0, rate_limit_per_minute=0),
        "client_b": ApiClient.issue(users["user_b"], "bob-app", daily_quota=0, rate_limit_per_minute=0),
        "client_disabled": ApiClient.issue(alice, "alice-disabled", daily_quota=0, rate_limit_per_minute=0),
        "token_revoked": ApiClient.issue(alice, "alice-revoked", daily_quota=0, rate_limit_per_minute=0),
    }
    clients = {name: _credentials(client, secrets) for name, (client, secrets) in issued.items()}
    ApiClient.objects.filter(pk=issued["client_disabled"][0].pk).update(enabled=False)
    issued["token_revoked"][0].delete()  # what the developer page's "revoke" does

    job = make_job(alice, "contrast", name="alice-private.png")
    output = Output(job=job, kind="contrasted", format="PNG", width=96, height=64, bytes=1)
    output.file.save("contrasted.png", ContentFile(image_bytes()), save=False)
    output.save()
    # Made through client A, as a Meitu call would be: its signed link lives while A's client does.
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, progress=100,
                                         api_client=issued["client_a"][0])
    job.refresh_from_db()
    dead_job = make_job(alice, "contrast", name="alice-private-disabled.png")
    Job.objects.filter(pk=dead_job.pk).update(api_client=issued["client_disabled"][0])
    dead_job.refresh_from_db()
    space = Space.objects.create(owner=alice, number=0, name="Alice Private Space")
    person, face = _face(space, 1, "Alice Private Person")
    client_space = Space.objects.create(owner=alice, client=issued["client_a"][0], number=0,
                                        name="Alice Private Client Space")
    _face(client_space, 1, "Alice Private Client Person")
    Group.objects.create(name="editors")
    TaskResult.objects.create(task_id="alice-task")
    GroupResult.objects.create(group_id="alice-group")
    cost_row("contrast").save()
    signed = signed_url(RequestFactory().get("/"), job, output).split("testserver", 1)[1]
    dead = signed_url(RequestFactory().get("/"), dead_job, None).split("testserver", 1)[1]
    return World(users, clients, issued["client_a"][0], job, space, person, face, signed, dead)


def snapshot(alice) -> tuple:
    """Alice's data as rows and files: what a non-owner must leave exactly as it was."""
    return (
        sorted(Job.objects.filter(owner=alice).values_list("uuid", "status")),
        sorted(Output.objects.filter(job__owner=alice).values_list("id", "file")),
        sorted(Space.objects.filter(owner=alice).values_list("uuid", "name", "version")),
        sorted(Person.objects.filter(space__owner=alice).values_list("uuid", "name")),
        sorted(Face.objects.filter(space__owner=alice).values_list("uuid", "thumbnail")),
        sorted(ApiClient.objects.filter(owner=alice).values_list("id", "enabled")),
    )


# --------------------------------------------------------------------------- requests


def send(world: World, actor: str, case: Case):
    client = Client()
    if actor in USERS:
        client.force_login(world.users[actor])
    creds = world.clients.get(actor, {})
    query: dict[str, str] = {}
    headers: dict[str, str] = {}
    if creds:
        if case.style in ("session", "api"):
            headers["Authorization"] = f"Token {creds['token']}"
        elif case.style == "vk":
            query = {"oauth_token": creds["token"], "oauth_provider": "mcs"}
        elif case.style == "baidu":
            query = {"access_token": creds["baidu_access_token"]}
        elif case.style == "baidu-oauth":
            query = {"client_id": creds["baidu_api_key"], "client_secret": creds["baidu_secret_key"]}
        elif case.style == "meitu":
            query = {"api_key": creds["meitu_api_key"], "api_secret": creds["meitu_api_secret"]}
    if case.style == "baidu-oauth":
        query["grant_type"] = "client_credentials"
    path = case.path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    call: Callable = getattr(client, case.method.lower())
    if case.method in ("GET", "DELETE"):
        return call(path, headers=headers)
    return call(path, case.data, headers=headers)


def verdict(response, expected: int | str) -> str | None:
    """None when the answer is the expected one, else what was seen instead."""
    status = response.status_code
    location = response.headers.get("Location", "")
    if expected == LOGIN:
        ok = status == 302 and location.startswith("/accounts/login/")
    elif expected == ADMIN_LOGIN:
        ok = status == 302 and location.startswith("/admin/login/")
    elif isinstance(expected, str) and expected.startswith("meitu:"):
        got = str(response.json().get("ErrorCode", "ok"))
        ok = status in (200, 400) and got == expected.split(":", 1)[1]
        return None if ok else f"HTTP {status}, ErrorCode {got}"
    elif isinstance(expected, str) and expected.startswith("baidu:"):
        body = response.json()
        got = "ok" if "error_code" not in body else str(body["error_code"])
        ok = status == 200 and got == expected.split(":", 1)[1]
        return None if ok else f"HTTP {status}, error_code {got}"
    else:
        ok = status == expected
    return None if ok else f"{status} {location}".strip()


def _routes() -> list[str]:
    def walk(patterns, prefix: str = ""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    # DRF's ``.json`` format-suffix twins share their route's view and permissions.
    return sorted({r for r in walk(get_resolver().url_patterns) if "(?P<format>" not in r})


def all_cases(world: World) -> dict[str, list[Case]]:
    return {**route_matrix(world), **admin_model_matrix(world)}


def test_every_route_is_in_the_matrix(world):
    matrix = all_cases(world)
    routes = _routes()
    missing, gone = sorted(set(routes) - set(matrix)), sorted(set(matrix) - set(routes))
    assert not missing, f"routes without an access-matrix entry: {missing}"
    assert not gone, f"matrix entries for routes that are gone: {gone}"


@pytest.mark.parametrize("route", sorted(set(_routes())))
def test_access(world, route):
    cases = all_cases(world).get(route)
    if cases is None:
        pytest.fail(f"{route!r} has no access-matrix entry")
    alice = world.users["user_a"]
    before = snapshot(alice)
    wrong = []
    for case in cases:
        for actor in ACTORS:
            expected = case.expect[actor]
            with transaction.atomic():
                response = send(world, actor, case)
                seen = verdict(response, expected)
                if seen is not None:
                    wrong.append(f"{case.method} {case.path} as {actor}: expected {expected}, got {seen}")
                if actor not in case.owners:
                    if snapshot(alice) != before:
                        wrong.append(f"{case.method} {case.path} as {actor}: changed Alice's data")
                    body = b"" if response.streaming else response.content
                    leaked = [m for m in MARKERS if m.encode() in body]
                    if leaked:
                        wrong.append(f"{case.method} {case.path} as {actor}: answer shows {leaked}")
                transaction.set_rollback(True)
    assert not wrong, "\n".join(wrong)
