"""The peers' side of the benchmark: pyinfra's deploy file, Ansible's playbook, their venv."""
