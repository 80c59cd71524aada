"""LangSmith tracing with the real langsmith client, pointed at a collector on
loopback that records what it is sent: runs arrive with the turn's metadata and
tags, under the run id the ledger stores."""

from __future__ import annotations

import gzip
import json
import threading
import time
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from langchain_core.messages import HumanMessage

from chat.llm.streaming import StreamStats, stream_text
from chat.observability import tracing
from chat.observability.callbacks import CallMeter
from tests.fakes import FakeStreamingChatModel


class Collector(ThreadingHTTPServer):
    """Answers /info and records every run it is sent, however it is encoded."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, dict]] = []
        # Run id -> the run: a create and its update merged (a run that ended
        # before its batch left is sent as one create).
        self.runs: dict[str, dict] = {}
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def record(self, run: dict) -> None:
        with self.lock:
            self.runs.setdefault(str(run["id"]), {}).update(run)

    def wait_for(self, run_id: str, timeout: float = 10.0) -> dict:
        """The run, once it has ended."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                run = self.runs.get(run_id, {})
                if run.get("end_time") and "outputs" in run:
                    return run
            time.sleep(0.05)
        raise AssertionError(f"run {run_id} did not arrive: {self.requests}")


class _Handler(BaseHTTPRequestHandler):
    server: Collector

    def log_message(self, *args) -> None:
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.server.requests.append((f"GET {self.path}", dict(self.headers)))
        self._answer(200, {} if self.path.startswith("/info") else {"detail": "?"})

    def do_PATCH(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "zstd":
            import zstandard

            body = zstandard.ZstdDecompressor().decompressobj().decompress(body)
        elif encoding == "gzip":
            body = gzip.decompress(body)
        path = self.path.split("?")[0]
        self.server.requests.append((f"{self.command} {path}", dict(self.headers)))
        if path.endswith("/multipart"):
            self._multipart(body)
        elif path.endswith("/batch"):
            batch = json.loads(body)
            for op in ("post", "patch"):
                for run in batch.get(op) or []:
                    self.server.record(run)
        elif path.startswith("/runs"):
            run = json.loads(body)
            run.setdefault("id", path.rsplit("/", 1)[-1])
            self.server.record(run)
        self._answer(202, {})

    def _multipart(self, body: bytes) -> None:
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = BytesParser(policy=email_policy).parsebytes(head + body)
        parts: dict[str, dict] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            _op, run_id, *field = name.split(".")
            value = json.loads(part.get_payload(decode=True) or b"null")
            run = parts.setdefault(run_id, {"id": run_id})
            if field:
                run[field[0]] = value
            else:
                run.update(value)
        for run in parts.values():
            self.server.record(run)


@pytest.fixture
def collector():
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def langsmith(settings, collector):
    settings.LANGSMITH_TRACING = True
    settings.LANGSMITH_API_KEY = "lsv2_pt_test-key-for-the-collector"
    settings.LANGSMITH_ENDPOINT = collector.url
    settings.LANGSMITH_PROJECT = "djchat-tests"
    settings.CHAT_TRACE_HIDE_CONTENT = False
    return collector


def turn_config(callbacks: list) -> dict:
    """The config chat.turns builds for a reply, with the callbacks added."""
    return {
        "run_name": "chat_reply",
        "tags": ["chat", "model:gpt-4o-mini"],
        "metadata": {
            "turn_id": "a1b2c3d4e5f6",
            "user_id": 7,
            "conversation_id": "9a4e2d1c-0000-4000-8000-000000000001",
            "message_id": "9a4e2d1c-0000-4000-8000-000000000002",
            "user_message_id": "9a4e2d1c-0000-4000-8000-000000000003",
        },
        "callbacks": callbacks,
    }


async def reply(callbacks: list) -> str:
    model = FakeStreamingChatModel(calls=[])
    stats = StreamStats()
    async for _ in stream_text(
        model, [HumanMessage("What is 2 + 2?")], turn_config(callbacks), stats
    ):
        pass
    return stats.run_id


def test_tracing_is_off_without_a_key(settings):
    settings.LANGSMITH_TRACING = True
    settings.LANGSMITH_API_KEY = ""
    assert tracing.tracing_callbacks() == []
    settings.LANGSMITH_TRACING = False
    settings.LANGSMITH_API_KEY = "lsv2_pt_x"
    assert tracing.tracing_callbacks() == []


async def test_runs_arrive_with_the_turn_metadata_and_tags(langsmith):
    meter = CallMeter()
    run_id = await reply([meter, *tracing.tracing_callbacks()])
    tracing.flush()
    run = langsmith.wait_for(run_id)
    assert meter.last.run_id == run_id
    assert run["name"] == "chat_reply"
    assert run["session_name"] == "djchat-tests"
    metadata = run["extra"]["metadata"]
    assert metadata["turn_id"] == "a1b2c3d4e5f6"
    assert metadata["user_id"] == 7
    assert metadata["conversation_id"].endswith("0001")
    assert metadata["message_id"].endswith("0002")
    assert {"chat", "model:gpt-4o-mini"} <= set(run["tags"])
    assert "What is 2 + 2?" in json.dumps(run["inputs"])
    assert "Hello, world!" in json.dumps(run["outputs"])
    sent = [headers for line, headers in langsmith.requests if line.startswith("POST")]
    assert sent and all(
        {k.lower(): v for k, v in h.items()}["x-api-key"].startswith("lsv2_pt_")
        for h in sent
    )


async def test_content_can_be_kept_out_of_traces(langsmith, settings):
    settings.CHAT_TRACE_HIDE_CONTENT = True
    run_id = await reply(tracing.tracing_callbacks())
    tracing.flush()
    run = langsmith.wait_for(run_id)
    assert run["extra"]["metadata"]["turn_id"] == "a1b2c3d4e5f6"
    assert "What is 2 + 2?" not in json.dumps(run)
    assert "Hello, world!" not in json.dumps(run)


def test_trace_links_follow_the_configured_template(settings):
    settings.CHAT_TRACE_URL = (
        "https://smith.langchain.com/o/org/projects/p/proj/r/{run_id}?poll=true"
    )
    assert tracing.trace_url("1f0e") == (
        "https://smith.langchain.com/o/org/projects/p/proj/r/1f0e?poll=true"
    )
    assert tracing.trace_url("") == ""
    settings.CHAT_TRACE_URL = ""
    assert tracing.trace_url("1f0e") == ""
