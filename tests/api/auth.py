"""What API clients send."""


def bearer(key: str) -> dict:
    """The Authorization header of a key."""
    return {"Authorization": f"Bearer {key}"}
