"""Rolling upgrades: packages (`upgrade`) and Debian releases (`release-upgrade`). The work is in fleetfab/upgrade/."""

from invoke import Exit, task

from fleetfab.cli.executor import selected_hosts


def _finish(code: int) -> None:
    if code:
        raise Exit(code=code)


@task(help={
    "dry": "show the batches and what apt would upgrade on each host; change nothing",
    "batch": "hosts upgraded together (default 1; roles' and groups' down_together limits still apply)",
    "reboot-timeout": "seconds a rebooted host may take to answer again (default 600)",
    "guests-down": "allow rebooting a VM host, which takes its guests down with it",
    "parallel": "hosts read at once within a step (default: the inventory's run.parallel)",
})
def upgrade(c, dry=False, batch=1, reboot_timeout=600, guests_down=False, parallel=None):
    """Package upgrades on the selected hosts, a batch at a time; stops at the first host not healthy after."""
    from fleetfab.upgrade.rolling import upgrade as run

    _finish(run(selected_hosts(c), dry=dry, batch=int(batch), reboot_timeout=float(reboot_timeout),
                guests_down=guests_down, parallel=int(parallel) if parallel else None))


@task(name="release-upgrade", help={
    "to": "the release to upgrade to (trixie: Debian 13, from bookworm)",
    "dry": "run the precautions and preview the new release (private package lists); change nothing",
    "reboot-timeout": "seconds a rebooted host may take to answer again (default 600)",
    "guests-down": "allow upgrading a VM host, whose guests all go down with it",
})
def release_upgrade(c, to, dry=False, reboot_timeout=600, guests_down=False):
    """-H hosts to the next Debian release in place, one at a time; files rendered for it before services start."""
    from fleetfab.upgrade.release import release_upgrade as run

    _finish(run(selected_hosts(c), to, dry=dry, reboot_timeout=float(reboot_timeout), guests_down=guests_down))
