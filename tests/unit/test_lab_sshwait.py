"""Waiting for sshd reads its banner from a real socket: nothing logs in, no host key is trusted."""

import socket
import threading

from fleetfab.lab.sshwait import banner, wait_for_sshd


def serve_once(greeting: bytes) -> int:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer():
        conn, _ = server.accept()
        conn.sendall(greeting)
        conn.close()
        server.close()

    threading.Thread(target=answer, daemon=True).start()
    return server.getsockname()[1]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_banner_is_sshds_identification_line():
    port = serve_once(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
    assert banner("127.0.0.1", port) == "SSH-2.0-OpenSSH_9.2p1 Debian-2"


def test_a_listener_that_is_not_sshd_has_no_banner():
    assert banner("127.0.0.1", serve_once(b"220 smtp.example.net ESMTP\r\n")) is None


def test_nothing_listening_has_no_banner():
    assert banner("127.0.0.1", closed_port()) is None


def test_wait_names_the_machines_that_never_answered():
    port = serve_once(b"SSH-2.0-test\r\n")
    silent = wait_for_sshd({"up": ("127.0.0.1", port), "down": ("127.0.0.1", closed_port())}, timeout=1)
    assert silent == ["down"]
