"""One Fabric Config shared by every host thread: connections only read it.

A plain Fabric Connection writes into the Config it is given, and each
write makes invoke rebuild the whole Config while other threads read it:
at a few hundred hosts, some failed with "No attribute or config key found
for 'gateway'".
"""

from __future__ import annotations

import sys
import threading

from fabric import Config, Connection

from fleetfab.inventory.model import Host, SshSettings
from fleetfab.ssh import connection_to


class CountingConfig(Config):
    """A Config that counts its rebuilds (invoke calls merge() after every write)."""

    def merge(self):
        self._set(merges=getattr(self, "merges", 0) + 1)
        super().merge()


def host(n: int) -> Host:
    return Host(name=f"h{n}", address=f"198.18.9.{n % 250 + 1}", port=22, user="root", groups=(), roles=(), vars={}, lab={})


def fresh_config() -> CountingConfig:
    config = CountingConfig()
    config._set(merges=0)
    return config


def test_a_plain_fabric_connection_writes_into_its_config():
    """The failure's cause, kept visible: if Fabric stops writing, this says so."""
    config = fresh_config()
    Connection("198.18.9.1", user="root", config=config)
    assert config.merges > 0


def test_creating_a_host_connection_never_rebuilds_the_shared_config():
    config = fresh_config()
    for n in range(20):
        connection_to(host(n), SshSettings(), config=config)
    assert config.merges == 0


def test_an_identity_stays_on_its_connection_and_out_of_the_config(tmp_path):
    config = fresh_config()
    connection = connection_to(host(1), SshSettings(identity=tmp_path / "key"), config=config)
    assert connection.connect_kwargs["key_filename"] == [str(tmp_path / "key")]
    assert "key_filename" not in config.connect_kwargs


def test_many_threads_create_connections_while_others_read_the_config():
    # Threads switch every microsecond, so the race shows within a second:
    # with Fabric's own Connection here, readers fail every time.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        assert not races_while_connecting(Config())
    finally:
        sys.setswitchinterval(previous)


def races_while_connecting(config: Config) -> list[BaseException]:
    """Errors seen by 4 threads reading `config` while 8 threads create connections from it."""
    errors: list[BaseException] = []
    stop = threading.Event()

    def create():
        try:
            for n in range(150):
                connection_to(host(n), SshSettings(), config=config)
        except BaseException as exc:  # noqa: BLE001 - any error is the finding
            errors.append(exc)

    def read():
        while not stop.is_set():
            try:
                config.gateway, config.connect_kwargs, config.inline_ssh_env
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                return

    readers = [threading.Thread(target=read) for _ in range(4)]
    creators = [threading.Thread(target=create) for _ in range(8)]
    for thread in readers + creators:
        thread.start()
    for thread in creators:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()
    return errors
