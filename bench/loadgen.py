"""The load generator: N WebSocket clients in one process pinned to one core.

Run by bench/run.py as ``python -m bench.loadgen CONFIG.json OUT.json``. A minimal
RFC 6455 client on asyncio protocols (no compression offered, like every server
here sees the same bytes) keeps the generator's own cost per frame to a few
microseconds, so it is not what limits a run; its CPU share is measured and reported.

Phases: connect every socket (and wait for each `hello`), sample the server's
resident memory, then let the first `streams` sockets send `rounds` messages each,
starting spread over `spread` seconds, and read every reply to its `end`. Server CPU
comes from /proc/<pid>/stat over the streaming window, so a saturated client cannot
make the server look cheaper or dearer.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, field

import orjson

from bench import stamps
from bench.procs import core_busy_seconds, cpu_seconds, raise_priority, rss_bytes

WIDTH = stamps.WIDTH
MOD = stamps.MODULUS


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 8000
    path: str = "/ws/chat/"
    origin: str = ""
    cookies: list[str] = field(default_factory=list)
    connections: int = 1
    streams: int = 1
    rounds: int = 1
    content: str = "k=100 rate=50 first=0"
    unique: bool = True
    tokens: int = 100
    spread: float = 0.0
    server_pid: int = 0
    cpu: int | None = 1
    connect_parallel: int = 50
    settle: float = 1.0
    timeout: float = 120.0
    idle_hold: float = 0.0
    same_content: bool = False
    # False for a real model: text carries no stamps; tokens are counted by `seq`.
    stamped: bool = True


class Rec:
    """What was measured; lists of microseconds."""

    def __init__(self) -> None:
        self.ttfd: list[int] = []
        self.first_age: list[int] = []
        self.ages: list[int] = []
        self.gaps: list[int] = []
        self.reply_us: list[int] = []
        self.frames = 0
        self.bytes = 0
        self.tokens = 0
        self.replies = 0
        self.errors: dict[str, int] = {}
        self.first_send = 0
        self.last_end = 0

        self.samples: list[str] = []

    def error(self, kind: str, detail: str = "") -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.samples) < 5:
            self.samples.append(f"{kind}: {detail}"[:300])


def _mask(payload: bytes) -> bytes:
    key = os.urandom(4)
    n = len(payload)
    k = (key * (n // 4 + 1))[:n]
    masked = int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")
    return key + masked.to_bytes(n, "big")


def _frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + _mask(payload)


class Client(asyncio.Protocol):
    """One WebSocket; reads frames as they come and records one reply at a time."""

    def __init__(self, cfg: Config, rec: Rec, cookie: str | None) -> None:
        self.cfg = cfg
        self.rec = rec
        self.cookie = cookie
        self.transport = None
        self.buf = bytearray()
        self.upgraded = False
        self.frag = bytearray()
        self.hello = asyncio.get_running_loop().create_future()
        self.ended: asyncio.Future | None = None
        self.closed = False
        self.close_code = None
        # per reply
        self.sent_us = 0
        self.got_first = False
        self.last_delta = 0
        self.rem = ""
        self.ntok = 0
        self.seq = 0

    # -- connection --------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {self.cfg.path} HTTP/1.1",
            f"Host: {self.cfg.host}:{self.cfg.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if self.cfg.origin:
            lines.append(f"Origin: {self.cfg.origin}")
        if self.cookie:
            lines.append(f"Cookie: sessionid={self.cookie}")
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def connection_lost(self, exc) -> None:
        self.closed = True
        if not self.hello.done():
            self.hello.set_exception(ConnectionError("closed before hello"))
        if self.ended is not None and not self.ended.done():
            self.rec.error("closed_mid_reply", f"close code {self.close_code}")
            self.ended.set_result(False)

    def send_text(self, text: str) -> None:
        self.transport.write(_frame(0x1, text.encode()))

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            try:
                self.transport.write(_frame(0x8, (1000).to_bytes(2, "big")))
            except Exception:
                pass
            self.transport.close()

    # -- frames ------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        now = time.monotonic_ns() // 1000
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buf[:12])
            if b" 101" not in status:
                code = status[9:12].decode("latin-1", "replace")
                if not self.hello.done():
                    self.hello.set_exception(ConnectionError(f"handshake_{code}"))
                self.transport.close()
                return
            del self.buf[: end + 4]
            self.upgraded = True
        buf = self.buf
        pos = 0
        size = len(buf)
        while size - pos >= 2:
            b0 = buf[pos]
            n = buf[pos + 1] & 0x7F
            hl = 2
            if n == 126:
                if size - pos < 4:
                    break
                n = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                hl = 4
            elif n == 127:
                if size - pos < 10:
                    break
                n = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                hl = 10
            if size - pos < hl + n:
                break
            payload = bytes(buf[pos + hl : pos + hl + n])
            pos += hl + n
            self.rec.bytes += hl + n
            opcode = b0 & 0x0F
            if not b0 & 0x80:  # fragment
                self.frag += payload
                continue
            if opcode == 0 and self.frag:
                payload = bytes(self.frag + payload)
                self.frag.clear()
                opcode = 1
            if opcode == 1 or opcode == 0:
                self.on_text(payload, now)
            elif opcode == 8:
                self.close_code = (
                    int.from_bytes(payload[:2], "big") if payload else 1005
                )
                self.transport.close()
                break
            elif opcode == 9:
                self.transport.write(_frame(0xA, payload))
        if pos:
            del buf[:pos]

    def on_text(self, payload: bytes, now: int) -> None:
        rec = self.rec
        rec.frames += 1
        frame = orjson.loads(payload)
        kind = frame.get("type")
        if kind == "delta":
            if self.ended is None:
                rec.error("delta_outside_reply")
                return
            seq = frame.get("seq", 0)
            if seq <= self.seq:
                rec.error("seq_not_increasing")
            self.seq = seq
            if not self.got_first:
                self.got_first = True
                rec.ttfd.append(now - self.sent_us)
            elif self.last_delta:
                rec.gaps.append(now - self.last_delta)
            self.last_delta = now
            if not self.cfg.stamped:
                return
            rem = self.rem + frame["text"]
            count = len(rem) // WIDTH
            if count:
                first = self.ntok == 0
                ages = rec.ages
                for i in range(count):
                    tok = rem[i * WIDTH : (i + 1) * WIDTH]
                    t = stamps.decode(tok)
                    if t < 0:
                        rec.error("bad_token")
                        continue
                    age = (now - t) % MOD
                    ages.append(age)
                    if first and i == 0:
                        rec.first_age.append(age)
                self.ntok += count
                rem = rem[count * WIDTH :]
            self.rem = rem
        elif kind == "end":
            if self.ended is None:
                return
            if frame.get("status") != "complete":
                rec.error(f"end_{frame.get('status')}")
            if not self.cfg.stamped:
                self.ntok = frame.get("seq") or 0
            elif self.rem:
                rec.error("partial_token")
            elif self.ntok != self.cfg.tokens:
                rec.error("token_count", f"{self.ntok} tokens, not {self.cfg.tokens}")
            rec.tokens += self.ntok
            rec.replies += 1
            rec.reply_us.append(now - self.sent_us)
            rec.last_end = max(rec.last_end, now)
            if not self.ended.done():
                self.ended.set_result(True)
        elif kind == "hello":
            if not self.hello.done():
                self.hello.set_result(frame)
        elif kind == "error":
            rec.error(f"error_{frame.get('code')}", str(frame.get("message")))
            # An error that ends a reply is followed by `end`; one that refuses a
            # message is not.
            if not frame.get("message_id") and self.ended is not None:
                if not self.ended.done():
                    self.ended.set_result(False)
        elif kind == "start":
            pass

    # -- one reply ---------------------------------------------------------------
    async def ask(self, content: str, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        self.ended = loop.create_future()
        self.got_first = False
        self.last_delta = 0
        self.rem = ""
        self.ntok = 0
        self.seq = 0
        self.sent_us = time.monotonic_ns() // 1000
        if not self.rec.first_send:
            self.rec.first_send = self.sent_us
        frame = {
            "type": "send",
            "id": str(uuid.uuid4()),
            "conversation": None,
            "content": content,
        }
        self.send_text(json.dumps(frame))
        try:
            await asyncio.wait_for(self.ended, max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            self.rec.error("timeout")
        self.ended = None


def _pcts(values: list[int]) -> dict:
    if not values:
        return {"n": 0}
    v = sorted(values)
    n = len(v)

    def at(p: float) -> float:
        return round(v[min(n - 1, int(p * n))] / 1000, 3)

    return {
        "n": n,
        "p50_ms": at(0.50),
        "p90_ms": at(0.90),
        "p99_ms": at(0.99),
        "max_ms": round(v[-1] / 1000, 3),
        "mean_ms": round(sum(v) / n / 1000, 3),
    }


async def run(cfg: Config) -> dict:
    loop = asyncio.get_running_loop()
    rec = Rec()
    started = time.monotonic()
    deadline = started + cfg.timeout
    pid = cfg.server_pid
    rss0 = rss_bytes(pid) if pid else 0
    clients: list[Client] = []
    gate = asyncio.Semaphore(cfg.connect_parallel)

    async def connect(i: int) -> None:
        cookie = cfg.cookies[i % len(cfg.cookies)] if cfg.cookies else None
        async with gate:
            try:
                _, client = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: Client(cfg, rec, cookie), cfg.host, cfg.port
                    ),
                    10,
                )
                await asyncio.wait_for(client.hello, 15)
                clients.append(client)
            except (OSError, TimeoutError, ConnectionError) as exc:
                text = str(exc) or type(exc).__name__
                rec.error("connect:" + text.split(":")[0][:40])

    t_conn = time.monotonic()
    c_own = os.times()
    await asyncio.gather(*(connect(i) for i in range(cfg.connections)))
    connect_s = time.monotonic() - t_conn
    c_end = os.times()
    connect_cpu = (c_end.user - c_own.user) + (c_end.system - c_own.system)
    await asyncio.sleep(cfg.settle)
    rss1 = rss_bytes(pid) if pid else 0
    if cfg.idle_hold:
        await asyncio.sleep(cfg.idle_hold)

    peak = {"rss": rss1}

    async def sample() -> None:
        while True:
            await asyncio.sleep(0.2)
            peak["rss"] = max(peak["rss"], rss_bytes(pid))

    sampler = loop.create_task(sample()) if pid else None
    cpu0 = cpu_seconds(pid) if pid else 0.0
    cores0 = core_busy_seconds()
    own0 = os.times()
    t0 = time.monotonic()
    streamers = clients[: cfg.streams]
    base = cfg.content

    async def stream(i: int, client: Client) -> None:
        if cfg.spread and len(streamers) > 1:
            await asyncio.sleep(cfg.spread * i / len(streamers))
        for _ in range(cfg.rounds):
            if time.monotonic() >= deadline or client.closed:
                if client.closed:
                    rec.error("socket_closed")
                return
            if cfg.same_content:
                content = base
            else:
                content = f"{base} n={uuid.uuid4().hex[:12]}"
            await client.ask(content, deadline)

    await asyncio.gather(*(stream(i, c) for i, c in enumerate(streamers)))
    t1 = time.monotonic()
    own1 = os.times()
    cpu1 = cpu_seconds(pid) if pid else 0.0
    cores1 = core_busy_seconds()
    if sampler:
        sampler.cancel()
    rss_end = rss_bytes(pid) if pid else 0
    for client in clients:
        client.close()
    await asyncio.sleep(0.2)

    window_s = (
        (rec.last_end - rec.first_send) / 1e6
        if rec.last_end > rec.first_send
        else (t1 - t0)
    )
    own_cpu = (own1.user - own0.user) + (own1.system - own0.system)
    server_cpu = cpu1 - cpu0
    n_conn = len(clients)
    return {
        "connected": n_conn,
        "connect_s": round(connect_s, 3),
        "streams": len(streamers),
        "replies": rec.replies,
        "tokens": rec.tokens,
        "frames": rec.frames,
        "bytes": rec.bytes,
        "window_s": round(window_s, 3),
        "tokens_per_s": round(rec.tokens / window_s, 1) if window_s > 0 else 0,
        "frames_per_reply": round(rec.frames / rec.replies, 1) if rec.replies else 0,
        "server_cpu_s": round(server_cpu, 3),
        "server_cpu_util": round(server_cpu / (t1 - t0), 3) if t1 > t0 else 0,
        "cpu_us_per_token": round(server_cpu * 1e6 / rec.tokens, 2)
        if rec.tokens
        else None,
        # Over the streaming window; with no streams, over the connect phase.
        "loadgen_cpu_util": round(own_cpu / (t1 - t0), 3)
        if streamers
        else round(connect_cpu / max(connect_s, 1e-3), 3),
        "ttfd": _pcts(rec.ttfd),
        "first_token_age": _pcts(rec.first_age),
        "staleness": _pcts(rec.ages),
        "gaps": _pcts(rec.gaps),
        "reply": _pcts(rec.reply_us),
        # Share of each core busy over the window, whoever ran there.
        "core_busy_util": {
            str(c): round((cores1[c] - cores0[c]) / (t1 - t0), 3)
            for c in cores0
            if t1 > t0
        },
        "errors": rec.errors,
        "error_samples": rec.samples,
        "error_count": sum(rec.errors.values()),
        "rss_before": rss0,
        "rss_connected": rss1,
        "rss_peak": peak["rss"],
        "rss_end": rss_end,
        "idle_bytes_per_socket": round((rss1 - rss0) / n_conn) if n_conn else None,
        "extra_bytes_per_stream": round((peak["rss"] - rss1) / len(streamers))
        if streamers and cfg.streams
        else None,
    }


def main() -> None:
    cfg_path, out_path = sys.argv[1], sys.argv[2]
    with open(cfg_path) as f:
        cfg = Config(**json.load(f))
    if cfg.host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("the load generator targets loopback only")
    if cfg.cpu is not None:
        os.sched_setaffinity(0, {cfg.cpu})
    raise_priority()
    result = asyncio.run(run(cfg))
    with open(out_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
