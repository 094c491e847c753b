"""Ctrl-C during a run: stop at a safe point, report, release, exit 130.

A change cut off half-way (an apt run killed mid-unpack) is worse than one
that finishes, so the first SIGINT only stops new changes from starting:
every host finishes the command it is in, runs the handlers its applied
changes notified, releases its lock, and the summary is printed. A second
SIGINT is the operator insisting, and interrupts at once.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading

#: the conventional exit status of a program ended by SIGINT (128 + 2)
INTERRUPTED = 130


@contextlib.contextmanager
def stop_on_interrupt(stop: threading.Event):
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("interrupted: finishing the commands under way, then stopping (Ctrl-C again to abort)",
              file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
