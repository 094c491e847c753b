"""Names handed to commands as arguments can never be read as the commands' options."""

from __future__ import annotations

import pytest

from fleetfab.schema import Name, PackageName
from tests.unit.validation_fleet import one_host


def test_a_package_name_cannot_be_an_option(problems):
    found = problems(one_host('''
        base: {packages: [curl, "-oAPT::Update::Pre-Invoke::=touch>/tmp/x"]}
    '''))
    assert found == ["6: hosts.a.vars.base.packages[1]: expected a Debian package name (a-z, 0-9, '+', '.' and '-', "
                     "not starting with '-'), got '-oAPT::Update::Pre-Invoke::=touch>/tmp/x'"]


@pytest.mark.parametrize("name", ["curl", "vim-tiny", "libstdc++6", "g++", "python3.11", "0ad"])
def test_debian_package_names_are_accepted(name):
    assert PackageName().refusal(name) is None


@pytest.mark.parametrize("name", ["Curl", "curl=7.88.1", "curl:amd64", "c", "curl*", "?installed", ".curl"])
def test_a_package_name_outside_debians_grammar_is_refused(name):
    # Version and architecture suffixes are refused too: the installed check compares bare names.
    assert PackageName().refusal(name) is not None


def test_a_name_pattern_that_lets_an_option_through_is_a_mistake_in_the_role():
    with pytest.raises(AssertionError):
        Name(r"[a-z-]+", "a name")


def test_a_reloaded_unit_cannot_be_an_option(problems):
    found = problems(one_host("certificates: {certificates: {www: {names: [www.example.com], reload: ['--root=/tmp']}}}"))
    assert found == ["6: hosts.a.vars.certificates.certificates.www.reload[0]: expected a systemd unit, got '--root=/tmp'"]


def test_an_extra_hosts_name_cannot_start_with_a_dash(problems):
    found = problems(one_host("base: {extra_hosts: {-evil: 198.18.0.9}}"))
    assert found == ["6: hosts.a.vars.base.extra_hosts.-evil: key expected to be a host name, got '-evil'"]


def test_an_ssh_user_cannot_be_an_option(problems):
    found = problems(one_host("base: {}").replace("    roles: [base]\n", "    roles: [base]\n    user: -oProxyCommand=x\n"))
    assert found == ["5: hosts.a.user: expected a user name, got '-oProxyCommand=x'"]


def test_a_postfix_parameter_name_cannot_start_with_a_dash(problems):
    found = problems(one_host("mail: {postfix: {-x: 1}}"))
    assert found == ["6: hosts.a.vars.mail.postfix.-x: key expected to be a Postfix parameter name, got '-x'"]


def test_a_control_plane_node_is_a_host_name(problems):
    found = problems(one_host("kubernetes: {control_plane: [--kubeconfig=/tmp/x]}"))
    assert found == ["6: hosts.a.vars.kubernetes.control_plane[0]: expected a host name, got '--kubeconfig=/tmp/x'"]


def test_an_image_repository_cannot_start_with_a_dash(problems):
    found = problems(one_host("kubernetes: {images: {repository: -registry.example.com/k8s}}"))
    assert len(found) == 1 and found[0].startswith("6: hosts.a.vars.kubernetes.images.repository: expected an image repository")


def test_a_lab_box_cannot_be_an_option(problems):
    text = one_host("base: {}") + "lab:\n  boxes: {docker: --privileged}\n"
    found = problems(text)
    assert found == ["8: lab.boxes.docker: expected a box or image name, got '--privileged'"]
