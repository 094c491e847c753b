"""Host threads share no configuration while they connect.

A Fabric Connection writes into the Config it is given, and each write makes
invoke rebuild the whole Config while other threads read it: at a few
hundred hosts, some failed with "No attribute or config key found for
'gateway'". fleetfab's connections are made from the inventory alone.
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


def test_sharing_one_fabric_config_between_threads_fails_them():
    """The failure itself, reproduced: what fleetfab's connections no longer do."""
    config = Config()
    errors = with_fast_switching(lambda: races_while_connecting(
        lambda n: Connection(f"198.18.9.{n % 250 + 1}", user="root", config=config),
        lambda: (config.gateway, config.connect_kwargs, config.inline_ssh_env)))
    assert errors


def test_many_threads_create_host_connections_at_once():
    made: list = []
    errors = with_fast_switching(lambda: races_while_connecting(
        lambda n: made.append((n, connection_to(host(n), SshSettings()))), lambda: None))
    assert errors == []
    assert len({id(connection.client) for _, connection in made}) == len(made) == 8 * 150
    assert all(connection.host == host(n) for n, connection in made)


def test_an_identity_stays_on_its_own_connection(tmp_path):
    first = connection_to(host(1), SshSettings(identity=tmp_path / "key"))
    second = connection_to(host(2), SshSettings())
    assert first.connect_kwargs["key_filename"] == [str(tmp_path / "key")]
    assert "key_filename" not in second.connect_kwargs


def with_fast_switching(action):
    # Threads switch every microsecond, so a race shows within a second.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        return action()
    finally:
        sys.setswitchinterval(previous)


def races_while_connecting(make, read) -> list[BaseException]:
    """Errors seen by 4 threads calling `read` while 8 threads call `make` 150 times each."""
    errors: list[BaseException] = []
    stop = threading.Event()

    def create():
        try:
            for n in range(150):
                make(n)
        except BaseException as exc:  # noqa: BLE001 - any error is the finding
            errors.append(exc)

    def reader():
        while not stop.is_set():
            try:
                read()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                return

    readers = [threading.Thread(target=reader) for _ in range(4)]
    creators = [threading.Thread(target=create) for _ in range(8)]
    for thread in readers + creators:
        thread.start()
    for thread in creators:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()
    return errors
