"""Bearer authentication of the API by personal keys (api/keys.py)."""

from __future__ import annotations

from django.http import HttpRequest

from api.errors import CredentialsInQuery, InvalidApiKey
from api.keys import PREFIX, key_authenticate
from api.models import ApiKey

# Query parameters clients and tools put credentials in.
_QUERY_NAMES = {"api_key", "api-key", "apikey", "key", "access_token", "token"}


def _in_query(request: HttpRequest) -> bool:
    return any(
        name.lower() in _QUERY_NAMES or any(PREFIX in value for value in values)
        for name, values in request.GET.lists()
    )


async def authenticate(request: HttpRequest) -> ApiKey:
    """The request's key, from `Authorization: Bearer <key>` only."""
    if _in_query(request):
        raise CredentialsInQuery()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidApiKey()
    return await key_authenticate(token.strip())
