"""`llmtap ui`'s server rules: loopback only, Host checked, read-only, static files fixed,
and the command's start, refusals and clean stop."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmtap import Record, Usage
from llmtap.cli import main
from llmtap.exporters import SQLiteExporter
from llmtap.ui.server import UIServer, host_name, is_loopback


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "ui.db"
    exporter = SQLiteExporter(path)
    exporter.export(
        [Record(id="g1", trace_id="t1", name="chat", start_time=1.0, usage=Usage(3, 4))]
    )
    exporter.shutdown()
    return path


@pytest.fixture
def server(db: Path) -> Iterator[UIServer]:
    served = UIServer("127.0.0.1", 0, db)
    thread = threading.Thread(target=served.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield served
    served.shutdown()
    served.server_close()
    thread.join()


def request(
    server: UIServer, method: str, path: str, headers: dict[str, str] | None = None
) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    conn.request(method, path, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def raw(server: UIServer, text: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10) as sock:
        sock.sendall(text)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.3.2.1", True),
        ("localhost", True),
        ("app.localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("192.168.1.10", False),
        ("::", False),
        ("example.com", False),
        ("localhost.example.com", False),
        ("", False),
    ],
)
def test_loopback_names(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("header", "name"),
    [("localhost:8377", "localhost"), ("[::1]:80", "::1"), ("[::1]", "::1"), ("a.b", "a.b")],
)
def test_host_name_drops_the_port(header: str, name: str) -> None:
    assert host_name(header) == name


def test_binding_elsewhere_needs_an_explicit_flag(db: Path) -> None:
    with pytest.raises(PermissionError, match="--allow-remote"):
        UIServer("0.0.0.0", 0, db)
    served = UIServer("0.0.0.0", 0, db, allow_remote=True)
    assert served.loopback_only is False
    served.server_close()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_loopback_host_headers_are_served(server: UIServer, host: str) -> None:
    port = server.server_address[1]
    response = request(server, "GET", "/api/changes", {"Host": f"{host}:{port}"})
    assert response.status == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8377", "192.168.1.10"])
def test_other_host_headers_are_refused(server: UIServer, host: str) -> None:
    """DNS rebinding: a page on evil.example whose name now points at 127.0.0.1."""
    assert request(server, "GET", "/api/traces", {"Host": host}).status == 403
    assert request(server, "GET", "/", {"Host": host}).status == 403


def test_a_request_without_host_is_refused(server: UIServer) -> None:
    answer = raw(server, b"GET /api/changes HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.0 403")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_only_get_and_head_are_served(server: UIServer, db: Path, method: str) -> None:
    before = db.read_bytes()
    response = request(server, method, "/api/traces")
    assert response.status == 405
    assert response.headers["Allow"] == "GET, HEAD"
    assert db.read_bytes() == before


def test_head_sends_headers_only(server: UIServer) -> None:
    response = request(server, "HEAD", "/")
    assert response.status == 200
    assert int(response.headers["Content-Length"]) > 0


def test_static_files_are_a_fixed_list(server: UIServer) -> None:
    page = request(server, "GET", "/")
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    for path in ("/static/app.js", "/static/app.css", "/static/vendor/uPlot.iife.min.js"):
        assert request(server, "GET", path).status == 200, path
    for path in (
        "/static/../server.py",
        "/static/%2e%2e/server.py",
        "/static/vendor/README.md",
        "/static/vendor/uPlot.LICENSE",
        "/etc/passwd",
    ):
        assert request(server, "GET", path).status == 404, path


def test_the_store_is_read_while_a_writer_holds_it(server: UIServer, db: Path) -> None:
    """The server opens the store read-only: a writer's open transaction never blocks it."""
    import sqlite3

    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM records")
    try:
        assert request(server, "GET", "/api/traces").status == 200
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_store_that_disappears_is_503(server: UIServer, db: Path) -> None:
    db.unlink()
    response = request(server, "GET", "/api/traces")
    assert response.status == 503


def test_the_command_refuses_a_remote_host(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ui", "--db", str(db), "--host", "0.0.0.0", "--no-browser"])
    assert code == 2
    assert "--allow-remote" in capsys.readouterr().err


def test_the_command_explains_a_busy_port(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["ui", "--db", str(db), "--port", str(port), "--no-browser"])
    assert code == 1
    assert f"port {port} on 127.0.0.1 is in use" in capsys.readouterr().err


def test_the_command_needs_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ui", "--db", str(tmp_path / "none.db"), "--no-browser"])
    assert code == 2
    assert "No llmtap records yet" in capsys.readouterr().err


def test_the_command_serves_until_ctrl_c(db: Path) -> None:
    command = [sys.executable, "-m", "llmtap", "ui", "--db", str(db), "--port", "0"]
    process = subprocess.Popen(
        [*command, "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("llmtap ui: http://127.0.0.1:")
        assert "(read-only, " in first
        port = int(first.split("http://127.0.0.1:")[1].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/api/changes")
        assert conn.getresponse().status == 200
        conn.close()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert out == "llmtap ui: stopped.\n"
    assert err == ""
