"""The resources roles describe their services with."""

from fleetfab.resources.base import Change, Resource
from fleetfab.resources.command import Command
from fleetfab.resources.copied import Copied
from fleetfab.resources.file import Absent, Directory, File
from fleetfab.resources.line import Line, Sysctl
from fleetfab.resources.package import Packages
from fleetfab.resources.service import Service
from fleetfab.resources.user import User

__all__ = ["Absent", "Change", "Command", "Copied", "Directory", "File", "Line", "Packages", "Resource", "Service", "Sysctl", "User"]
