"""Copied: a local file, compared by SHA-256, sent on its own channel and checked before it is installed."""

import hashlib

import pytest

from fleetfab.resources import Copied


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "base.qcow2"
    path.write_bytes(b"\0" * 2048)
    return path


def copied(image, **kw):
    return Copied("/var/lib/images/base.qcow2", str(image), **kw)


def sha(image):
    return hashlib.sha256(image.read_bytes()).hexdigest()


def test_a_missing_file_is_copied_with_its_size_in_the_summary(image):
    change = copied(image).compare("@absent\n")
    assert (change.action, change.summary) == ("create", "copy base.qcow2 (2.0 KiB)")


def test_a_file_with_the_same_hash_owner_and_mode_is_left_alone(image):
    assert copied(image).compare(f"root:root 644\n{sha(image)}\n") is None


def test_other_content_is_copied_again(image):
    assert copied(image).compare("root:root 644\n" + "0" * 64 + "\n").summary.endswith("content differs")


def test_only_owner_and_mode_are_fixed_when_the_content_is_right(image):
    resource = copied(image, mode="0440", owner="libvirt-qemu")
    change = resource.compare(f"root:root 644\n{sha(image)}\n")
    assert resource.uploads(change) == ()
    script = resource.fix(change)
    assert "name=base.qcow2" in script and 'chmod 0440 -- "$name"' in script


def test_the_fix_checks_the_staged_copy_before_moving_it_into_place(image):
    resource = copied(image)
    change = resource.compare("@absent\n")
    (upload,) = resource.uploads(change)
    script = resource.fix(change)
    assert upload.staged in script
    assert script.index("chmod") < script.index("sha256sum -c") < script.index("mv -T -f")
    assert sha(image) in script


def test_two_destinations_of_one_file_never_share_a_staging_path(image):
    one = Copied("/srv/a/base.qcow2", str(image))
    two = Copied("/srv/b/base.qcow2", str(image))
    assert one.uploads(one.compare("@absent"))[0].staged != two.uploads(two.compare("@absent"))[0].staged


def test_a_file_whose_owner_is_someone_elses_business_is_compared_by_content_and_mode(image):
    resource = copied(image, mode="0444", any_owner=True)
    assert resource.compare(f"libvirt-qemu:libvirt-qemu 444\n{sha(image)}\n") is None
    change = resource.compare(f"libvirt-qemu:kvm 644\n{sha(image)}\n")
    assert "chown" not in resource.fix(change) and 'chmod 0444 -- "$name"' in resource.fix(change)
