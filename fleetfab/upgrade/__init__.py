"""Rolling upgrades: package upgrades (`fab upgrade`) and Debian release upgrades
(`fab release-upgrade`), a batch of hosts at a time, stopping at the first host
that does not come back healthy.

- `apt`: apt's, dpkg's and df's answers read strictly (a host's words are untrusted)
- `sources`: a Debian release's suites switched in the apt sources, nothing else
- `batches`: which hosts may be down together (roles' and groups' limits)
- `steps`: the resources each step acts with (packages, reboot, held service starts)
- `reboot`: waiting for a host to come back
- `procedure`: the ordered steps run through the engine, one batch after another
- `rolling` and `release`: the two procedures
"""
