"""Who performs an operation: this machine (``local``) or a cloud, chosen per operation.

``ENHANCER_PROVIDER_<OPERATION>`` picks the provider; the task calls ``for_operation(op).run``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from apps.imaging.errors import EnhancerError, gettext_noop

from .base import ProducedImage, Provider, ProviderResult
from .local import LocalProvider

__all__ = ["ProducedImage", "Provider", "ProviderResult", "for_operation", "register"]

_FACTORIES: dict[str, Callable[[], Provider]] = {"local": LocalProvider}
_instances: dict[str, Provider] = {}


def register(name: str, factory: Callable[[], Provider]) -> None:
    _FACTORIES[name] = factory


def _register_clouds() -> None:
    from .baidu import BaiduProvider
    from .meitu import MeituProvider
    from .vk import VkProvider

    register("vk", VkProvider)
    register("baidu", BaiduProvider)
    register("meitu", MeituProvider)


_register_clouds()


def get(name: str) -> Provider:
    if name not in _instances:
        try:
            _instances[name] = _FACTORIES[name]()
        except KeyError:
            raise EnhancerError(
                EnhancerError.UNAVAILABLE, gettext_noop("No provider named %(name)s is installed."),
                {"name": repr(name)},
            ) from None
    return _instances[name]


def for_operation(operation: str) -> Provider:
    return get(settings.ENHANCER_PROVIDERS.get(operation, "local"))
