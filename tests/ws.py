"""Driving the chat socket through the real ASGI app, as a browser would."""

import json
import uuid

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from chatproject.asgi import application

ORIGIN = (b"origin", b"http://testserver")


@sync_to_async
def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def connect(user, *, origin=ORIGIN) -> WebsocketCommunicator:
    headers = [origin, (b"host", b"testserver")]
    if user is not None:
        headers.append((b"cookie", await session_cookie(user)))
    comm = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    # Generous waits: they only matter when the machine is loaded.
    connected, _ = await comm.connect(timeout=10)
    assert connected
    hello = await comm.receive_json_from(timeout=10)
    assert hello["type"] == "hello" and hello["protocol"] == 1
    return comm


async def read_reply(comm, wait=5) -> list[dict]:
    """Frames up to and including the reply's end frame."""
    frames = []
    while True:
        frame = json.loads(await comm.receive_from(timeout=wait))
        frames.append(frame)
        if frame["type"] == "end":
            return frames


def send_frame(content="Hi there", conversation=None, id=None) -> dict:
    return {
        "type": "send",
        "id": str(id or uuid.uuid4()),
        "conversation": conversation,
        "content": content,
    }


def text_of(frames) -> str:
    return "".join(f["text"] for f in frames if f["type"] == "delta")


async def one_turn(user, content="Hello?"):
    comm = await connect(user)
    await comm.send_json_to(send_frame(content))
    start = await comm.receive_json_from(timeout=10)
    frames = await read_reply(comm, wait=90)
    await comm.disconnect()
    return start, frames
