"""Every string setting refuses control characters, with its file, line and field, on one line."""

from __future__ import annotations

from fleetfab.inventory.yamlmarks import MarkedDict
from fleetfab.schema import MapOf, Str, Where
from tests.unit.validation_fleet import one_host


def test_a_string_with_a_newline_is_refused_with_its_line(problems):
    found = problems(one_host('''
        controller: {notify: "logger done\\nreboot"}
    '''))
    assert found == ["6: hosts.a.vars.controller.notify: expected a shell command (one line) without control characters "
                     "(newline, tab, escape ...), got 'logger done\\nreboot'"]


def test_a_string_with_an_escape_character_is_refused(problems):
    found = problems(one_host('''
        vmhost: {images: {bookworm: {file: "disk\\e]52;c;aGk=\\a.qcow2"}}}
    '''))
    assert len(found) == 1 and found[0].startswith("6: hosts.a.vars.vmhost.images.bookworm.file: expected a file path without control")


def test_a_string_with_a_carriage_return_is_refused(problems):
    found = problems(one_host('''
        base: {admins: [{name: ops, keys: ["ssh-ed25519 AAAAC3Nz ops\\rsh-ed25519 AAAA evil"]}]}
    '''))
    assert len(found) == 1 and "base.admins[0].keys[0]" in found[0] and "control characters" in found[0]


def test_a_unicode_line_separator_is_refused():
    assert Str().refusal("one\u2028two") is not None


def test_a_string_without_a_pattern_still_takes_spaces_and_punctuation():
    assert Str().refusal('logger -t fleetfab "drift changed: $HOSTNAME 100%"') is None


def test_a_kind_may_say_that_it_takes_control_characters():
    assert Str(control=True).refusal("two\nlines") is None


def test_a_key_with_a_newline_is_refused_and_its_field_stays_on_one_line():
    value = MarkedDict({"ok": "x", "bad\nkey": "y"})
    [problem] = MapOf(Str(), key=Str(r"[a-z\n]+")).check(value, Where("f.yml", 1, "vars"))
    assert "\n" not in str(problem)
    assert problem.field == "vars['bad\\nkey']"
