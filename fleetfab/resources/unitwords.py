"""A unit that fails to start or reload is explained in its own words.

systemctl says only "Job for dovecot.service failed because the control
process exited with error code": the reason (doveconf's line, Postfix's
`fatal:`) is in the unit's journal. A script that starts `PRELUDE` has a
`systemctl` that, when a start, restart or reload fails, prints the unit's
own last log lines since the script began (bounded: `LINES` lines of at most
`WIDTH` characters, from the unit's processes, not systemd's sentences about
it) and then one line `UNIT failed to VERB: <its last error line>`, which is
the line a failed command's report shows (fleetfab.errors.command_message).
"""

from __future__ import annotations

from fleetfab.shell import q

LINES = 20
WIDTH = 400
#: what reads as a reason in a unit's own lines (the last such line is chosen)
REASON = "fatal|error|fail|cannot|can't|could not|unable|denied|invalid|refused|not found|no such"

PRELUDE = f"""ff_since=$(date +%s)
ff_unit_words() {{
  case $1 in *.*) ff_u=$1 ;; *) ff_u=$1.service ;; esac
  journalctl "_SYSTEMD_UNIT=$ff_u" --since "@$ff_since" -n {LINES} --no-pager -o cat 2>/dev/null | cut -c1-{WIDTH} | tail -n {LINES}
}}
ff_explain() {{
  ff_words=$(ff_unit_words "$2")
  [ -n "$ff_words" ] || return 0
  printf '%s\\n' "$ff_words" >&2
  ff_reason=$(printf '%s\\n' "$ff_words" | grep -iE {q(REASON)} | tail -n 1)
  [ -n "$ff_reason" ] || ff_reason=$(printf '%s\\n' "$ff_words" | tail -n 1)
  printf '%s failed to %s: %s\\n' "$2" "$1" "$ff_reason" >&2
}}
systemctl() {{
  command systemctl "$@" && return 0
  ff_rc=$?
  case $1 in
    start|restart|reload|reload-or-restart|try-restart|try-reload-or-restart)
      ff_verb=$1; shift
      for ff_arg in "$@"; do
        case $ff_arg in -*) ;; *) ff_explain "$ff_verb" "$ff_arg" ;; esac
      done ;;
  esac
  return $ff_rc
}}
"""


def explained(script: str) -> str:
    """`script` with a `systemctl` that explains a failed start or reload (see the module)."""
    return PRELUDE + script
