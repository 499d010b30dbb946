"""Start `iurc serve` on a free loopback port for tests, and wait until it answers."""
from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import iurc_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, venv_bin: Path, store: Path, log: Path, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = open(log, "w")
        self.process = subprocess.Popen(
            [str(venv_bin / "iurc"), "serve", "--port", str(self.port), "--store", str(store)],
            stdout=self.log, stderr=subprocess.STDOUT, env=iurc_env(**env))
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"iurc serve exited: {Path(log).read_text()}")
            try:
                urllib.request.urlopen(self.url, timeout=2)
                return
            except urllib.error.HTTPError:
                return  # it answers (e.g. 401 behind a login)
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("iurc serve did not start within 90 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
