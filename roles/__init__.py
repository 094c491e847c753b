"""fleetfab's roles. Each module states one service's desired state as data."""

from fleetfab.roles.acme_ca import AcmeCa
from fleetfab.roles.base import Base
from fleetfab.roles.bind9 import Bind9
from fleetfab.roles.certificates import Certificates
from fleetfab.roles.controller import Controller
from fleetfab.roles.edge import Edge
from fleetfab.roles.kubernetes import Kubernetes
from fleetfab.roles.mail import Mail
from fleetfab.roles.vmhost import VmHost
from fleetfab.roles.wireguard import WireGuard

ROLES = {role.name: role for role in (Base(), WireGuard(), Bind9(), AcmeCa(), Certificates(), Mail(), Edge(), Controller(), VmHost(), Kubernetes())}
