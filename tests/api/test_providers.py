"""The outgoing VK, Baidu and Meitu providers, against our own compat endpoints on loopback."""

from __future__ import annotations

import pytest

from apps import providers
from apps.imaging.errors import EnhancerError
from apps.imaging.progress import ignore
from apps.providers.baidu import BaiduProvider
from apps.providers.meitu import MeituProvider
from apps.providers.vk import VkProvider
from tests.helpers import free_port, image_bytes

pytestmark = pytest.mark.usefixtures("inline_jobs", "stand_ins")


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def never_run(monkeypatch) -> None:
    """Jobs stay queued, so a synchronous endpoint gives up waiting."""
    monkeypatch.setattr("apps.uploads.services._enqueue_on_commit", lambda job: None)


def raises(code: str, call) -> EnhancerError:
    with pytest.raises(EnhancerError) as caught:
        call()
    assert caught.value.code == code, caught.value
    return caught.value


class TestVk:
    def provider(self, live_server, secrets, **kwargs):
        return VkProvider(url=live_server.url, token=secrets["token"], retries=0, **kwargs)

    def test_improve_returns_three_pictures_and_bw(self, live_server, secrets):
        result = self.provider(live_server, secrets).run("improve", image_bytes(fmt="JPEG"), {}, ignore)
        assert {o.kind for o in result.outputs} == {"improved", "colorized_improved", "colored"}
        assert result.info == {"bw": True}

    def test_upscale_restore_and_colorize(self, live_server, secrets):
        vk = self.provider(live_server, secrets)
        (resolved,) = vk.run("upscale", image_bytes(fmt="JPEG"), {"factor": 2, "kind": "art"}, ignore).outputs
        assert (resolved.kind, resolved.width, resolved.height) == ("resolved", 192, 128)
        assert [o.kind for o in vk.run("restore", image_bytes(), {}, ignore).outputs] == ["improved"]
        assert [o.kind for o in vk.run("colorize", image_bytes(), {}, ignore).outputs] == ["colored"]

    def test_errors_are_mapped(self, live_server, secrets, settings, monkeypatch):
        vk = self.provider(live_server, secrets)
        raises(EnhancerError.EMPTY_IMAGE, lambda: vk.run("improve", b"", {}, ignore))
        raises(EnhancerError.NOT_AN_IMAGE, lambda: vk.run("improve", b"garbage", {}, ignore))
        raises(EnhancerError.BAD_PARAMS, lambda: vk.run("upscale", image_bytes(), {"factor": 3}, ignore))
        wrong = VkProvider(url=live_server.url, token="wrong", retries=0)
        raises(EnhancerError.UNAVAILABLE, lambda: wrong.run("improve", image_bytes(), {}, ignore))
        settings.ENHANCER_COMPAT_WAIT_SECONDS = 0
        never_run(monkeypatch)
        error = raises(EnhancerError.TEMPORARY, lambda: vk.run("improve", image_bytes(), {}, ignore))
        assert error.temporary

    def test_an_unreachable_server_is_temporary_after_retries(self, secrets):
        vk = VkProvider(url=dead_url(), token="t", retries=1, timeout=2)
        vk.http.backoff = 0
        assert raises(EnhancerError.TEMPORARY, lambda: vk.run("improve", image_bytes(), {}, ignore)).temporary

    def test_without_a_token_it_is_unavailable(self):
        assert VkProvider(url="http://x", token="").unavailable_reason("improve")
        assert VkProvider(url="http://x", token="t").unavailable_reason("dehaze")


class TestBaidu:
    def provider(self, live_server, secrets, secret=None):
        return BaiduProvider(url=live_server.url, api_key=secrets["baidu_api_key"],
                             secret_key=secret or secrets["baidu_secret_key"], retries=0)

    @pytest.mark.parametrize(("operation", "kind"), [("upscale", "resolved"), ("dehaze", "dehazed"),
                                                     ("contrast", "contrasted"), ("colorize", "colored")])
    def test_each_operation(self, live_server, secrets, operation, kind):
        result = self.provider(live_server, secrets).run(operation, image_bytes(240, 200, "JPEG"), {}, ignore)
        assert [o.kind for o in result.outputs] == [kind]

    def test_errors_are_mapped(self, live_server, secrets, no_colorizer):
        baidu = self.provider(live_server, secrets)
        raises(EnhancerError.EMPTY_IMAGE, lambda: baidu.run("dehaze", b"", {}, ignore))
        raises(EnhancerError.UNSUPPORTED_FORMAT, lambda: baidu.run("dehaze", b"junk", {}, ignore))
        raises(EnhancerError.IMAGE_TOO_LARGE, lambda: baidu.run("dehaze", image_bytes(100, 100), {}, ignore))
        raises(EnhancerError.UNAVAILABLE, lambda: baidu.run("colorize", image_bytes(), {}, ignore))
        raises(EnhancerError.BAD_PARAMS, lambda: baidu.run("upscale", image_bytes(), {"factor": 4}, ignore))
        wrong = self.provider(live_server, secrets, secret="wrong")
        raises(EnhancerError.UNAVAILABLE, lambda: wrong.run("dehaze", image_bytes(240, 200), {}, ignore))

    def test_a_revoked_token_is_renewed_once(self, live_server, secrets):
        from apps.api.models import BaiduAccessToken

        baidu = self.provider(live_server, secrets)
        baidu.run("contrast", image_bytes(), {}, ignore)
        BaiduAccessToken.objects.all().delete()
        assert baidu.run("contrast", image_bytes(), {}, ignore).outputs

    def test_quota_errors(self, live_server, issued):
        api_client, secrets = issued
        baidu = self.provider(live_server, secrets)
        baidu.access_token()
        api_client.rate_limit_per_minute = 1
        api_client.save()
        baidu.run("contrast", image_bytes(), {}, ignore)
        assert raises(EnhancerError.TEMPORARY, lambda: baidu.run("contrast", image_bytes(), {}, ignore)).temporary

    def test_an_unreachable_server_is_temporary(self):
        baidu = BaiduProvider(url=dead_url(), api_key="k", secret_key="s", retries=0, timeout=2)
        raises(EnhancerError.TEMPORARY, lambda: baidu.run("dehaze", image_bytes(), {}, ignore))


class TestMeitu:
    def provider(self, live_server, secrets, secret=None):
        return MeituProvider(url=live_server.url, api_key=secrets["meitu_api_key"],
                             api_secret=secret or secrets["meitu_api_secret"], retries=0)

    def test_restore(self, live_server, secrets):
        (output,) = self.provider(live_server, secrets).run("restore", image_bytes(fmt="JPEG"), {}, ignore).outputs
        assert (output.kind, output.format, output.width) == ("improved", "JPEG", 96)

    def test_errors_are_mapped(self, live_server, secrets, settings, monkeypatch):
        meitu = self.provider(live_server, secrets)
        raises(EnhancerError.NOT_AN_IMAGE, lambda: meitu.run("restore", b"junk", {}, ignore))
        raises(EnhancerError.NOT_AN_IMAGE, lambda: meitu.run("restore", image_bytes(fmt="BMP"), {}, ignore))
        wrong = self.provider(live_server, secrets, secret="wrong")
        raises(EnhancerError.UNAVAILABLE, lambda: wrong.run("restore", image_bytes(), {}, ignore))
        settings.ENHANCER_COMPAT_WAIT_SECONDS = 0
        never_run(monkeypatch)
        assert raises(EnhancerError.TEMPORARY, lambda: meitu.run("restore", image_bytes(), {}, ignore)).temporary

    def test_it_only_offers_restore(self):
        assert MeituProvider(url="http://x", api_key="k", api_secret="s").unavailable_reason("dehaze")


def test_the_provider_is_chosen_per_operation(settings):
    settings.ENHANCER_PROVIDERS = {**settings.ENHANCER_PROVIDERS, "dehaze": "baidu", "restore": "meitu"}
    assert providers.for_operation("dehaze").name == "baidu"
    assert providers.for_operation("restore").name == "meitu"
    assert providers.for_operation("contrast").name == "local"


@pytest.mark.django_db
def test_a_providers_own_limits_refuse_the_job_at_submission(settings, monkeypatch, alice):
    """Baidu upscales photos by 2 only: x4 is refused before anything is stored or queued."""
    from apps.common.images import validate_image
    from apps.uploads import services
    from apps.uploads.models import Job

    monkeypatch.setitem(providers._instances, "baidu",
                        BaiduProvider(url="http://baidu.invalid", api_key="k", secret_key="s"))
    settings.ENHANCER_PROVIDERS = {**settings.ENHANCER_PROVIDERS, "upscale": "baidu"}
    assert services.validate_operation("upscale", {"factor": 2})["factor"] == 2
    image = validate_image(image_bytes(), "photo.png")
    for params in ({"factor": 4}, {"factor": 2, "kind": "art"}):
        error = raises(EnhancerError.BAD_PARAMS, lambda params=params: services.create_job(
            alice, image, "upscale", params, Job.Source.WEB))
        assert error.message == "Baidu only upscales photos by 2."
    assert not Job.objects.exists()
