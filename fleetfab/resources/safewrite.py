"""Where root writes, and as whom: the shell every file-writing fix begins with.

Root must never write, chown or chmod through a name another account can
change: that account would swap the name for a link between root's steps and
have root write, chown or read its target. So a fix first *enters* the
directory it writes in (`ff_enter`), one component at a time, and then works
only on names relative to that directory:

- a symbolic link on the way is followed only if root owns it and it sits in
  a directory no other account can write (`/var/run`, merged `/usr`); any
  other link refuses the write;
- after each step the directory's parent is checked to be the directory just
  left, so a component swapped for a link during the walk is noticed;
- the working directory is then the directory itself (an inode, not a path),
  so a later swap of any component above it cannot move root's writes.

Inside it, who writes depends on who else can change names there:

- a directory that only root can write: root writes (its temporary file
  there is safe, nobody else can rename or replace it);
- a directory that one account can change (its own home, `~/.ssh`, bind's
  dynamic zones, OpenDKIM's keys), holding a file that account owns: the
  write is done *as that account* (`setpriv`), so anything it plants there
  redirects only its own rights;
- anything else (a root-owned file in another account's directory, a
  directory others can write): refused, with the reason.
"""

from __future__ import annotations

from fleetfab.shell import q

#: shell functions; `ff_enter DIR OWNER GROUP` leaves the shell in DIR with
#: $ff_as (empty for root, else a setpriv prefix) and $ff_dir (DIR, resolved)
FUNCTIONS = r'''
ff_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ff_refuse() { echo "refusing to write $ff_target: $*" >&2; exit 3; }
ff_root_only() {
  case "$(stat -c '%u %A' -- "$1")" in "0 d"????[!w]??[!w]?) return 0;; esac; return 1
}
ff_step() {
  ff_here=$(stat -c %d:%i .)
  cd -P -- "$1" 2>/dev/null || ff_refuse "$(pwd -P)/$1 cannot be entered"
  [ "$(stat -c %d:%i ..)" = "$ff_here" ] || ff_refuse "$1 was swapped while it was entered"
}
ff_walk() {
  ff_rest=${1#/}; ff_hops=0; cd /
  while [ -n "$ff_rest" ]; do
    ff_part=${ff_rest%%/*}
    case $ff_rest in */*) ff_rest=${ff_rest#*/};; *) ff_rest=;; esac
    case $ff_part in ''|.) continue;; ..) cd ..; continue;; esac
    if [ -L "$ff_part" ]; then
      ff_hops=$((ff_hops + 1)); [ $ff_hops -le 20 ] || ff_refuse "too many symbolic links"
      if [ "$(stat -c %u -- "$ff_part")" != 0 ] || ! ff_root_only .; then
        ff_refuse "$(pwd -P)/$ff_part is a symbolic link that another account can change"
      fi
      ff_link=$(readlink -- "$ff_part")
      case $ff_link in /*) cd /;; esac
      ff_rest=${ff_link#/}${ff_rest:+/$ff_rest}
      continue
    fi
    if [ ! -e "$ff_part" ]; then
      mkdir -m 755 -- "$ff_part"
      ff_step "$ff_part"
      [ "$(stat -c %u .)" = 0 ] || ff_refuse "$(pwd -P) was swapped after root made it"
      continue
    fi
    [ -d "$ff_part" ] || ff_refuse "$(pwd -P)/$ff_part is not a directory"
    ff_step "$ff_part"
  done
  ff_dir=$(pwd -P)
}
ff_only_by() {
  [ "$1" != root ] && ff_uid=$(id -u -- "$1" 2>/dev/null) || return 1
  set -- "$ff_uid" "$2" $(stat -c '%u %G %A' .)
  [ "$3" = 0 ] || [ "$3" = "$1" ] || return 1
  case "$5" in d???????w?) return 1;; d????w????) [ "$4" = "$2" ] || return 1;; esac
}
ff_enter() {
  ff_walk "$1"
  if ff_root_only .; then
    ff_as=
  elif ff_only_by "$2" "$3"; then
    ff_as="setpriv --reuid=$2 --regid=$(id -g -- "$2") --init-groups --reset-env -- env PATH=$ff_path"
  else
    ff_refuse "$ff_dir can be changed by $(stat -c '%U (group %G)' .), and the file would be $2's"
  fi
}
'''


def enter(target: str, directory: str, owner: str = "root", group: str = "root") -> str:
    """Shell that defines the functions and enters `directory` to write `target` in it."""
    return f"ff_target={q(target)}\n{FUNCTIONS}ff_enter {q(directory)} {q(owner)} {q(group)}\n"


def walk(target: str, directory: str) -> str:
    """Shell that enters `directory` (made by root if missing) without choosing a writer."""
    return f"ff_target={q(target)}\n{FUNCTIONS}ff_walk {q(directory)}\n"


def as_writer(script: str, *args: str) -> str:
    """A one-line script run as the writer ($ff_as), with its arguments as $1...

    The writer's environment is reset, so values travel as arguments.
    """
    return f"$ff_as sh -c {q(script)} sh {' '.join(args)}".rstrip()


def dirname(path: str) -> str:
    head, _, _ = path.rstrip("/").rpartition("/")
    return head or "/"


def basename(path: str) -> str:
    return path.rstrip("/").rpartition("/")[2]
