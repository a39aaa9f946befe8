"""``qualcode serve``: prints one URL with a token; binds to this computer unless told."""
from __future__ import annotations

import os
import subprocess
import sys

import httpx

from qualcode.project import Project


def _serve(root, *args):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "qualcode.cli", "--project", str(root), "serve", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_serve_prints_a_url_with_a_token_that_opens_the_workspace(tmp_path):
    Project.init(tmp_path / "study").close()
    proc = _serve(tmp_path / "study", "--coder", "王老师")
    try:
        assert "coder 王老师" in proc.stdout.readline()
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and "/?token=" in url
        base = url.split("/?")[0]
        assert httpx.get(base + "/").status_code == 403
        with httpx.Client(follow_redirects=True) as c:
            page = c.get(url)
            assert page.status_code == 200 and "王老师" in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_another_host_is_served_with_a_warning(tmp_path):
    Project.init(tmp_path / "study").close()
    proc = _serve(tmp_path / "study", "--host", "0.0.0.0")
    try:
        assert "Warning: listening on 0.0.0.0" in proc.stderr.readline()
        assert proc.stdout.readline().startswith("qualcode workspace")
        assert "http://0.0.0.0:" in proc.stdout.readline()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_a_port_in_use_is_a_one_line_error(tmp_path):
    import socket

    Project.init(tmp_path / "study").close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "qualcode.cli", "--project", str(tmp_path / "study"), "serve",
                               "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "cannot listen on 127.0.0.1" in proc.stderr and "Traceback" not in proc.stderr
