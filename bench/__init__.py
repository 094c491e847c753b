"""Benchmarks of fleetfab against pyinfra and Ansible on the same lab machines.

`bench/run` is the entry point; each module here holds one concept:
fleet (which machines, at which addresses), machines (the docker machines
themselves), proxy (added latency), workload (the bench role and the data
the peers' deploy files read), peers (pyinfra and Ansible files and venv),
tools (the command line of every measurement), stats (figures and tables),
floor (Fabric's ThreadingGroup running `true`), main (the run).
"""
