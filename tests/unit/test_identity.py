"""The login key: loaded once per run while its file stays unchanged; keys that need help left to paramiko."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fleetfab import ssh
from fleetfab.inventory.model import SshSettings


def key_file(tmp_path, name: str, passphrase: str = "") -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-f", str(tmp_path / name)], check=True)
    return tmp_path / name


def test_the_identity_is_loaded_once_while_its_file_stays_unchanged(tmp_path):
    path = key_file(tmp_path, "id")
    first = ssh.loaded_identity(path)
    assert first is not None and first.get_name() == "ssh-ed25519"
    assert ssh.loaded_identity(path) is first
    (tmp_path / "id").unlink()
    (tmp_path / "id.pub").unlink()
    key_file(tmp_path, "id")
    assert ssh.loaded_identity(path).get_base64() != first.get_base64()


def test_a_connection_logs_in_with_the_loaded_key_and_leaves_harder_keys_to_paramiko(tmp_path):
    from fleetfab.inventory.model import Host

    host = Host("h", "127.0.0.1", 2222, "root", (), (), {}, {})
    plain = key_file(tmp_path, "plain")
    connection = ssh.connection_to(host, SshSettings(identity=plain))
    assert connection.connect_kwargs["pkey"] is ssh.loaded_identity(plain)
    assert "key_filename" not in connection.connect_kwargs
    locked = key_file(tmp_path, "locked", passphrase="secret words")
    assert ssh.loaded_identity(locked) is None
    assert ssh.connection_to(host, SshSettings(identity=locked)).connect_kwargs["key_filename"] == [str(locked)]
    assert ssh.connection_to(host, SshSettings(identity=tmp_path / "absent")).connect_kwargs["key_filename"] == [str(tmp_path / "absent")]
