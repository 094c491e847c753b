"""Key rotation: a new key pair on some members, then the whole mesh converged.

One fleet run over every mesh member does it all, in the engine's phases:
the rotating hosts make their new key in `prepare`, every member's new public
key is read in the export phase, and each member's configuration then names
the new key; `wg syncconf` drops the retired peer and adds the new one, and
the rotating host loads its new private key (the `sync wg0` handler), so the
other tunnels never go down.

Only the wireguard role runs: a rotation changes keys, not whatever else
happens to be pending on the hosts.
"""

from __future__ import annotations

from fleetfab.cli import exitcodes
from fleetfab.cli.commands import consoles, load_or_explain, procedure
from fleetfab.report.jsonfile import report_document, write_report
from fleetfab.role import procedure_roles
from fleetfab.roles.wireguard.keys import NewPrivateKey
from fleetfab.roles.wireguard.mesh import ROLE
from fleetfab.roles.wireguard.role import WireGuard
from fleetfab.roles.wireguard.settings import KEY_PATH


class Rotating(WireGuard):
    """The wireguard role, with a new private key on the rotating hosts."""

    def __init__(self, targets: frozenset[str]):
        self.targets = targets

    def prepare(self, ctx):
        yield from super().prepare(ctx)
        if ctx.host.name in self.targets:
            yield NewPrivateKey(KEY_PATH)


def rotation_roles(inventory, targets: frozenset[str]) -> dict:
    return procedure_roles(inventory, **{ROLE: Rotating(targets)})


def rotated_lines(exports, targets: list[str], members: int) -> list[str]:
    """What the rotation did, host by host, in plain words with the new public key (public, so
    printed whole: other tools and people may need it). A key not read in this run is not claimed."""
    from fleetfab.exports import MissingExport

    lines = []
    for name in targets:
        try:
            key, recalled = exports.lookup(name, ROLE, "public_key") if exports is not None else (None, True)
        except MissingExport:
            key, recalled = None, True
        if key and recalled is None:
            lines.append(f"{name}: new WireGuard key pair; its public key is now {key} "
                         f"(the {members} mesh members converged above list it in place of the old one)")
        else:
            lines.append(f"{name}: its new public key could not be read in this run; `fab -H {name} drift` shows it")
    return lines


def rotate(hosts: str | None, json_path: str | None = None, parallel: int | None = None) -> int:
    out, err = consoles(json_path)
    if not hosts:
        err.print("wireguard.rotate needs -H: the hosts whose keys to replace", style="bold red")
        return exitcodes.FAILED
    loaded = load_or_explain(err, hosts)
    if loaded is None:
        return exitcodes.FAILED
    inventory, selected = loaded
    outside = [h.name for h in selected if ROLE not in h.roles]
    if outside:
        err.print(f"not mesh members (no wireguard role): {', '.join(outside)}; nothing was contacted.", style="bold red")
        return exitcodes.FAILED
    targets = frozenset(h.name for h in selected)
    mesh = inventory.with_role(ROLE)
    result, code = procedure(inventory, mesh, "wireguard.rotate", rotation_roles(inventory, targets), out, err,
                             title=f"wireguard.rotate {', '.join(sorted(targets))}", parallel=parallel)
    reports, redact = result.reports, result.redact
    for line in rotated_lines(result.exports, sorted(targets), len(mesh)):
        out.print(line, markup=False, highlight=False)
    if code:
        err.print("some members did not take the new keys: their tunnels to the rotated hosts stay down "
                  "until `fab -H nodes bootstrap` reaches them.", style="bold red")
    if json_path:
        write_report(json_path, report_document("wireguard.rotate", reports, redact, code))
    return code
