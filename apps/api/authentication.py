"""``Authorization: Token <token>`` over ApiClient, counting each request against its limits."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from . import access


class QuotaExceeded(exceptions.Throttled):
    default_detail = "The daily quota of this API client is spent."
    default_code = "quota_exceeded"


class RateLimited(exceptions.Throttled):
    default_detail = "Too many requests this minute for this API client."
    default_code = "rate_limited"


class ApiClientTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        try:
            token = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token header.") from None
        client = access.by_token(token)
        if client is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        try:
            # Reading (a job's status, its outputs) stays possible once the quota is spent.
            access.take_request(client, work=request.method not in permissions.SAFE_METHODS)
        except access.LimitExceeded as exceeded:
            raise (QuotaExceeded() if exceeded.kind == "daily" else RateLimited(wait=60)) from None
        return client.owner, client

    def authenticate_header(self, request) -> str:
        return self.keyword


class ApiClientTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiClientTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'An API client token, sent as "Token <token>".',
        }
