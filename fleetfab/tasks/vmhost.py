"""Guest tasks: destroy (the disk is kept unless asked) and restart. The work is in roles/vmhost/operations.py."""

from invoke import task

from fleetfab.tasks.fleet import _finish
from fleetfab.cli.executor import selected_hosts


@task(help={
    "delete_disk": "also delete the guest's disk (by default it is kept, and a guest defined again reuses it)",
    "guest": "a guest the inventory does not declare, on the one VM host -H names",
})
def destroy(c, delete_disk=False, guest=None):
    """Stop and undefine the -H guests; their disks stay unless --delete-disk."""
    from fleetfab.roles.vmhost.operations import destroy as destroy_guests

    _finish(destroy_guests(selected_hosts(c), guest=guest, delete_disk=delete_disk))


@task
def reboot(c):
    """Power the -H guests off and on (a new CPU or memory size takes effect), then wait until they answer."""
    from fleetfab.roles.vmhost.operations import reboot as reboot_guests

    _finish(reboot_guests(selected_hosts(c)))
