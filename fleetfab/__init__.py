"""fleetfab: provision a self-hosted fleet over SSH from one YAML inventory."""

__version__ = "0.1.0"
