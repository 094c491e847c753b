"""Terminal escapes in a managed file reach the operator's terminal written out, never raw.

A line of /etc/hosts on a lab host is given a clipboard write (OSC 52) and
a screen clear (ESC [2J). `fab drift` shows the file's diff: each control
character must appear as `\\x1b`, `\\x07` ..., and no raw escape may be in
the output at all.
"""

from __future__ import annotations

from tests.security.lab_hosts import lab_hosts  # noqa: F401  (fixture)

HOST = "worker2"
MANAGED = "/etc/hosts"
ESCAPES = "\\033]52;c;ZXZpbA==\\a\\033[2J"
SHOWN = "\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J"


def test_escapes_in_a_managed_file_are_shown_written_out_in_drift(lab_hosts):
    lab = lab_hosts
    original = lab.sh(HOST, f"base64 -w0 {MANAGED}").strip()
    lab.sh(HOST, f"printf '{ESCAPES}\\n' >> {MANAGED}")
    try:
        code, run = lab.fab("-H", HOST, "drift")
        assert SHOWN in run.output, run.output
        assert "\x1b" not in run.output and "\x07" not in run.output, repr(run.output)
    finally:
        lab.sh(HOST, f"echo {original} | base64 -d > {MANAGED}")
    assert lab.sh(HOST, f"base64 -w0 {MANAGED}").strip() == original
