"""SOA serials: YYYYMMDDnn, and never smaller than one already used."""

from datetime import date

import pytest

from fleetfab.roles.bind9.serial import next_serial

DAY = date(2026, 11, 22)


def test_a_new_zone_starts_at_the_first_serial_of_the_day():
    assert next_serial(None, DAY) == 2026112200


def test_a_change_on_a_later_day_starts_that_day_over():
    assert next_serial(2026112007, DAY) == 2026112200


def test_a_second_change_on_the_same_day_counts_up():
    assert next_serial(2026112200, DAY) == 2026112201


def test_the_change_after_the_99th_of_a_day_still_grows():
    after = next_serial(2026112299, DAY)
    assert after == 2026112300 and after > 2026112299


def test_the_next_day_after_a_99th_change_does_not_reuse_a_serial():
    tomorrow = date(2026, 11, 23)
    assert next_serial(next_serial(2026112299, DAY), tomorrow) == 2026112301


def test_a_serial_ahead_of_the_date_is_never_lowered():
    assert next_serial(2030010105, DAY) == 2030010106


def test_a_small_serial_is_replaced_by_a_dated_one():
    assert next_serial(7, DAY) == 2026112200


def test_a_serial_at_the_end_of_its_range_is_refused_rather_than_wrapped():
    with pytest.raises(ValueError, match="reset"):
        next_serial(2**32 - 1, DAY)
