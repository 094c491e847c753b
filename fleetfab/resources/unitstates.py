"""Every systemd unit of a batch, read by one `systemctl show`.

systemctl costs a host several milliseconds a start, far more than the
question asked of it. Given many units it prints one block each, in the
order asked, blank lines between.
"""

from __future__ import annotations

from fleetfab.shell import cmd

PROPERTIES = "-p UnitFileState -p ActiveState"


class UnitStates:
    name = "units"

    def script(self, keys: list[str]) -> str:
        return f"systemctl show {PROPERTIES} -- {cmd(*keys)} || true"

    def answers(self, output: str, keys: list[str]) -> dict[str, str]:
        """A block per unit; if systemctl could not answer for each, no unit
        gets an answer, as each one's own probe would have none."""
        blocks = output.strip("\n").split("\n\n") if output.strip() else []
        if len(blocks) != len(keys):
            return {key: "" for key in keys}
        return {key: block + "\n" for key, block in zip(keys, blocks)}


UNITS = UnitStates()
