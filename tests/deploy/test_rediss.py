"""Heroku-style Redis: `rediss://` (TLS) with a self-signed certificate whose name
matches nothing. With REDIS_SSL_CERT_REQS=none (the default) the channel layer,
the reply hub and the limits all connect, and a turn completes."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from tests.conftest import need_service
from tests.deploy import client
from tests.deploy.conftest import dynos_running
from tests.deploy.dyno import free_port
from tests.servers.fake_openai import Reply

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60, func_only=True)]


@pytest.fixture(scope="module")
def rediss_url(tmp_path_factory) -> Iterator[str]:
    """A TLS-only Redis on loopback with a fresh self-signed certificate."""
    if not shutil.which("redis-server") or not shutil.which("openssl"):
        need_service("redis-server and openssl are needed for a TLS Redis")
    home = tmp_path_factory.mktemp("rediss")
    cert, key = home / "redis.crt", home / "redis.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-subj", "/CN=ec2-203-0-113-7.compute-1.amazonaws.com"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    port = free_port()
    with open(home / "redis.log", "wb") as log:
        server = subprocess.Popen(
            ["redis-server", "--port", "0", "--tls-port", str(port)]
            + ["--tls-cert-file", str(cert), "--tls-key-file", str(key)]
            + ["--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no"]
            + ["--save", "", "--appendonly", "no", "--dir", str(home)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"rediss://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.RedisError):
                if redis.Redis.from_url(url, ssl_cert_reqs="none").ping():
                    break
            if time.monotonic() > deadline or server.poll() is not None:
                if os.environ.get("CI"):
                    pytest.fail((home / "redis.log").read_text())
                pytest.skip("redis-server did not start with TLS (built without?)")
            time.sleep(0.1)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


def test_self_signed_certificate_is_refused_when_verification_is_on(rediss_url):
    """The certificate really is untrusted: a verifying client fails."""
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(rediss_url, ssl_cert_reqs="required").ping()


async def test_turn_over_rediss_with_self_signed_certificate(
    slug, config, tmp_path, rediss_url, fake_llm, new_user
):
    """Two dynos on rediss://: the channel layer (socket registry and groups),
    the reply hub (a join from the other dyno) and the limits use TLS Redis."""
    fake_llm.enqueue(Reply(tokens=["over", " TLS", " Redis."], delay=0.05))
    with dynos_running(slug, config, tmp_path, 2, REDIS_URL=rediss_url) as (a, b):
        user = new_user(a)
        async with client.sockets(user, a, b) as (on_a, on_b):
            await client.send(on_a, "Are you on TLS?")
            start, _ = await client.until(on_a, "start")
            text, end, _ = await client.reply(on_a)
            await client.join(on_b, start["message"])
            joined, _, _ = await client.reply(on_b)

    assert end["status"] == "complete" and text == joined == "over TLS Redis."
    keys = {
        key.decode()
        for key in redis.Redis.from_url(rediss_url, ssl_cert_reqs="none").keys("*")
    }
    assert f"chat:reply:{start['message']}" in keys  # the reply hub
    assert any(key.startswith("chat:limits") for key in keys), keys  # the limits
    # The channel layer: `hello` comes only after the socket joined its user's
    # group there, and its keys go when the sockets leave.
