"""The safety threshold: more than a third of a zone of 10+ records is refused."""

from fleetfab.roles.bind9.safety import judge


def records(count: int, prefix: str = "h") -> set:
    return {(f"{prefix}{i}", "A", f"198.18.0.{i}") for i in range(count)}


def test_deleting_a_third_of_a_zone_is_allowed():
    old = records(12)
    assert judge("lab.test", old, set(sorted(old)[4:])) is None


def test_deleting_more_than_a_third_is_refused():
    old = records(12)
    verdict = judge("lab.test", old, set(sorted(old)[5:]))
    assert (verdict.removed, verdict.total) == (5, 12)
    assert "--force" in verdict.message and "lab.test" in verdict.message


def test_rewriting_records_counts_like_deleting_them():
    old = records(10)
    rewritten = {(name, kind, value + "0") for name, kind, value in sorted(old)[:4]}
    assert judge("lab.test", old, (old - set(sorted(old)[:4])) | rewritten) is not None


def test_adding_records_is_never_refused():
    old = records(10)
    assert judge("lab.test", old, old | records(50, "new")) is None


def test_small_zones_are_not_judged():
    old = records(9)
    assert judge("lab.test", old, set()) is None


def test_a_new_zone_is_not_judged():
    assert judge("lab.test", set(), records(30)) is None
