"""fleetfab's roles. Each module states one service's desired state as data."""

from roles.acme_ca import AcmeCa
from roles.base import Base
from roles.bind9 import Bind9
from roles.certificates import Certificates
from roles.controller import Controller
from roles.edge import Edge
from roles.kubernetes import Kubernetes
from roles.mail import Mail
from roles.vmhost import VmHost
from roles.wireguard import WireGuard

ROLES = {role.name: role for role in (Base(), WireGuard(), Bind9(), AcmeCa(), Certificates(), Mail(), Edge(), Controller(), VmHost(), Kubernetes())}
