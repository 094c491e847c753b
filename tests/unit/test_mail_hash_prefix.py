"""A mailbox hash pasted without its {SCHEME} prefix is recognised as such, not called a clear-text password."""

from __future__ import annotations

from fleetfab.roles.mail.settings import hash_problem

BARE = "$6$saltsalt$" + "a" * 86


def test_a_sha512_crypt_hash_without_its_prefix_is_named():
    said = hash_problem(BARE)
    assert said.startswith("looks like a SHA512-CRYPT hash missing its {SHA512-CRYPT} prefix")
    assert "clear-text" not in said


def test_the_advice_does_not_repeat_the_hash():
    assert "saltsalt" not in hash_problem(BARE)


def test_the_same_hash_with_its_prefix_is_accepted():
    assert hash_problem("{SHA512-CRYPT}" + BARE) is None


def test_a_word_is_still_a_clear_text_password():
    assert hash_problem("hunter2").startswith("looks like a clear-text password")
