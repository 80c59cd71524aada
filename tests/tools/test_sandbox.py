"""The escape suite: every attempt to leave the Python sandbox ends in a clear tool
error, and nothing of one run is visible to the next."""

import asyncio
import os
from pathlib import Path

import pytest

from chat.tools.errors import ToolError
from chat.tools.sandbox import is_png, run_python
from tests.tools.samples import png

SECRET = "sk-fake-secret-0b9d1c"


@pytest.fixture(autouse=True)
def _limits(settings, monkeypatch):
    settings.CHAT_PYTHON_TIME_SECONDS = 1.0
    settings.CHAT_PYTHON_MEMORY_BYTES = 32 * 2**20
    settings.CHAT_PYTHON_OUTPUT_BYTES = 8 * 2**10
    settings.CHAT_PYTHON_SCRATCH_BYTES = 64 * 2**10
    # The worker is spawned by this process, so it inherits this environment.
    monkeypatch.setenv("CHAT_FAKE_SECRET", SECRET)


async def failure(code: str) -> ToolError:
    with pytest.raises(ToolError) as caught:
        await run_python(code)
    assert SECRET not in caught.value.message
    assert "Traceback" not in caught.value.message
    return caught.value


async def test_code_runs_and_prints():
    run = await run_python("import math\nprint('root', math.isqrt(49))\n6 * 7")
    assert run.output == "root 7\n"
    assert run.value == "42"
    assert run.as_text() == "root 7\n42"


@pytest.mark.parametrize(
    "module", ["subprocess", "socket", "ctypes", "multiprocessing", "shutil"]
)
async def test_dangerous_modules_cannot_be_imported(module):
    error = await failure(f"import {module}")
    assert error.code == "python_error"
    assert "ModuleNotFoundError" in error.message


@pytest.mark.parametrize(
    "code",
    [
        "import os\nos.system('id')",
        "import os\nos.fork()",
        "import os\nos.popen('id').read()",
        "import os\nos.execv('/bin/sh', ['sh'])",
    ],
)
async def test_os_offers_no_processes_or_fork_bomb(code):
    error = await failure(code)
    assert error.code == "python_error"


@pytest.mark.parametrize(
    "code",
    [
        "import os\nos.getenv('CHAT_FAKE_SECRET')",
        "import os\nos.environ['CHAT_FAKE_SECRET']",
        "import os\ndict(os.environ)",
    ],
)
async def test_environment_is_not_reachable(code):
    error = await failure(code)
    assert error.code == "python_error"
    assert "not supported" in error.message


@pytest.mark.parametrize(
    "code",
    [
        "open('/etc/passwd').read()",
        "from pathlib import Path\nPath('/etc/passwd').read_text()",
        "open('/scratch/../etc/passwd').read()",
        "open('/proc/self/environ').read()",
        "from pathlib import Path\nPath('/etc').iterdir()",
    ],
)
async def test_files_outside_scratch_are_not_readable(code):
    error = await failure(code)
    assert error.code == "python_error"
    assert "root:" not in error.message


@pytest.mark.parametrize(
    "code",
    [
        "import socket\nsocket.create_connection(('127.0.0.1', 6379))",
        "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:6379/')",
        "import http.client\nhttp.client.HTTPConnection('127.0.0.1', 5432)",
        "import asyncio\nawait asyncio.open_connection('127.0.0.1', 6379)",
    ],
)
async def test_local_services_are_not_reachable(code):
    """No module in the sandbox opens a socket: Redis and PostgreSQL on 127.0.0.1
    are out of reach."""
    error = await failure(code)
    assert error.code == "python_error"


async def test_infinite_loop_times_out():
    error = await failure("while True:\n    pass")
    assert error.code == "timeout"


async def test_sleep_does_not_hold_the_worker():
    run = await run_python("import time\ntime.sleep(3600)\n'woke'")
    assert run.value == "woke"


@pytest.mark.parametrize(
    "code",
    ["x = 'a' * (10 ** 9)", "x = []\nwhile True:\n    x.append([0] * 100_000)"],
)
async def test_memory_bombs_hit_the_memory_limit(code):
    error = await failure(code)
    assert error.code == "memory_limit"


async def test_huge_output_hits_the_output_limit():
    error = await failure("while True:\n    print('x' * 1000)")
    assert error.code == "output_limit"


async def test_output_limit_holds_when_the_code_catches_the_error():
    code = "for i in range(10000):\n    try:\n        print('y' * 1000)\n"
    code += "    except Exception:\n        pass\n'done'"
    error = await failure(code)
    assert error.code == "output_limit"


async def test_deep_recursion_is_contained():
    error = await failure("def f(n):\n    return f(n + 1)\nf(0)")
    assert "RecursionError" in error.message


async def test_syntax_error_is_a_tool_error():
    error = await failure("def (:")
    assert error.code == "syntax"


async def test_nothing_is_shared_between_runs():
    await run_python(
        "secret = 'left behind'\nopen('/scratch/note.txt', 'w').write('x')"
    )
    error = await failure("secret")
    assert "NameError" in error.message
    error = await failure("open('/scratch/note.txt').read()")
    assert "FileNotFoundError" in error.message


async def test_scratch_writes_are_limited():
    error = await failure("open('/scratch/big.bin', 'w').write('z' * 200000)")
    assert error.code in {"python_error", "memory_limit"}


async def test_png_written_to_scratch_is_returned_as_an_artefact():
    image = png()
    code = f"open('/scratch/plot.png', 'wb').write({image!r})\n"
    code += "open('/scratch/page.html', 'w').write('<script>x</script>')\n"
    code += "open('/scratch/fake.png', 'w').write('<svg onload=alert(1)>')"
    run = await run_python(code)
    assert [(a.name, a.content_type, a.data) for a in run.artefacts] == [
        ("plot.png", "image/png", image)
    ]


def test_png_check_rejects_bad_crc_and_trailing_bytes():
    image = png()
    assert is_png(image)
    assert not is_png(image + b"<script>")
    assert not is_png(image[:-1] + bytes([image[-1] ^ 1]))
    assert not is_png(b"GIF89a")


def children_environments() -> list[bytes]:
    """The environments of this process's child processes."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == os.getpid():
                found.append((entry / "environ").read_bytes())
        except (OSError, IndexError, ValueError):
            continue
    return found


async def test_the_worker_process_holds_no_server_secret():
    run = asyncio.create_task(run_python("while True:\n    pass"))
    environments = []
    for _ in range(100):
        await asyncio.sleep(0.02)
        environments = children_environments()
        if environments:
            break
    with pytest.raises(ToolError):
        await run
    assert environments, "the worker process was not seen"
    assert all(SECRET.encode() not in environ for environ in environments)
    assert all(b"CHAT_FAKE_SECRET" not in environ for environ in environments)
