"""Exit codes a scheduler can act on."""

OK = 0
#: a host failed, could not be reached or checked, or the input was invalid
FAILED = 1
#: drift: at least one host differs from the inventory
DRIFT = 2
#: the operator interrupted the run (Ctrl-C); the summary was printed, locks released
INTERRUPTED = 130
