"""Mail tasks: password hashes, records to publish by hand, DKIM rotation, status."""

from invoke import Exit, task

from fleetfab.cli.executor import selected_hosts


def _finish(code: int) -> None:
    if code:
        raise Exit(code=code)


@task(name="hash-password", help={"stdin": "read the password from standard input (its first line), for scripts"})
def hash_password(c, stdin=False):
    """Read a password (twice, not echoed) and print its {SHA512-CRYPT} hash for the inventory."""
    from fleetfab.roles.mail.passwords import hash_from_stdin, hash_from_terminal

    _finish(hash_from_stdin() if stdin else hash_from_terminal())


@task(name="remove-mailbox", positional=["address"], help={
    "address": "the mailbox, local@domain, already taken out of the inventory",
    "delete-mail": "delete its mail; without it the folder is kept, renamed .removed-<local part>-<time> beside itself",
})
def remove_mailbox(c, address, delete_mail=False):
    """Remove a mailbox's folder left on the -H mail host after it left the inventory (drift lists them)."""
    from fleetfab.roles.mail.leftovers import remove_mailbox as remove

    _finish(remove(selected_hosts(c), address, delete=delete_mail))


@task(help={"all": "also the records the fleet's own name servers already publish"})
def records(c, all=False):
    """The DNS records each mail domain needs, for domains the fleet's name servers do not serve."""
    from fleetfab.roles.mail.report import print_records

    _finish(print_records(selected_hosts(c), everything=all))


@task(name="rotate-dkim", help={
    "parallel": "hosts worked on at once (default: the inventory's run.parallel)",
    "json": "also write every step's report as JSON to this path",
})
def rotate_dkim(c, parallel=None, json=None):
    """New DKIM key on the -H mail host: published, then signing, then the old one withdrawn."""
    from fleetfab.roles.mail.rotate import rotate_dkim as rotate

    _finish(rotate(selected_hosts(c), parallel=int(parallel) if parallel else None, json_path=json))


@task(help={"json": "also write the checks as JSON to this path"})
def status(c, json=None):
    """Mail-in-a-Box-style checks of the -H mail hosts: ports, TLS, DNS, aliases, queue, signer."""
    from fleetfab.roles.mail.status import status as mail_status

    _finish(mail_status(selected_hosts(c), json_path=json))
