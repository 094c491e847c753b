"""The scale bench's pure parts: slopes, ratios, tables, endpoints' scripts, inventories, output parsing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bench import endpoints, scale_inventory, scale_stats, scale_tools
from bench.measure import Usage
from bench.scale_role import RESOURCES_PER_HOST, ROLE, roles
from bench.scale_stats import APPLY, DRIFT, FLOOR, REAPPLY, Sample
from fleetfab.inventory import load_inventory


def sample(tool="fleetfab", measurement=DRIFT, n=100, run=1, wall=1.0, cpu=1.0, rss=50.0, failed=0, ok=True):
    return Sample(tool, measurement, n, run, wall, cpu, rss, failed, ok)


def test_the_slope_is_what_each_further_100_hosts_add():
    assert scale_stats.slope_per_100([(100, 2.0), (200, 4.0), (300, 6.0)]) == pytest.approx(2.0)
    # least squares through noisy points
    assert scale_stats.slope_per_100([(0, 0.0), (100, 1.2), (200, 1.8)]) == pytest.approx(0.9)


def test_no_slope_from_a_single_n():
    assert scale_stats.slope_per_100([(100, 2.0), (100, 3.0)]) is None
    assert scale_stats.slope_per_100([]) is None


def test_cpu_ratios_pair_drift_and_floor_of_the_same_run():
    samples = [
        sample(cpu=2.0, run=1), sample("floor", FLOOR, cpu=4.0, run=1),
        sample(cpu=3.0, run=2), sample("floor", FLOOR, cpu=3.0, run=2),
        sample(cpu=9.0, run=3),  # its floor failed: no pair
        sample("floor", FLOOR, cpu=1.0, run=3, ok=False),
    ]
    assert scale_stats.cpu_ratios(samples, 100) == [0.5, 1.0]


def test_failed_runs_count_as_failures_but_not_as_figures():
    samples = [sample(wall=1.0), sample(run=2, wall=100.0, failed=3, ok=False)]
    assert scale_stats.values(samples, "fleetfab", DRIFT, 100, "wall") == [1.0]
    assert scale_stats.failed_hosts(samples, "fleetfab", DRIFT, 100) == (3, 2)


def test_the_longest_stretch_of_clean_runs():
    assert scale_stats.consecutive_clean([0, 0, 1, 0, 0, 0, 2]) == 3
    assert scale_stats.consecutive_clean([0] * 20) == 20
    assert scale_stats.consecutive_clean([]) == 0


def test_a_table_has_a_column_per_n_and_the_slope():
    samples = [sample(n=n, wall=n / 100, run=r) for n in (100, 200) for r in (1, 2)]
    samples += [sample("floor", FLOOR, n=100, wall=0.5)]
    text = scale_stats.table(samples, "wall")
    assert "| tool | measurement | N=100 | N=200 | per 100 hosts (s) |" in text
    assert "| fleetfab | drift | 1.00 (1.00–1.00) | 2.00 (2.00–2.00) | +1.00 |" in text
    assert "| floor | floor | 0.50 | – | – |" in text
    assert "pyinfra" not in text  # a tool that was not run has no row


def test_the_report_names_the_cpu_ratio():
    samples = [sample(cpu=2.0), sample("floor", FLOOR, cpu=4.0)]
    assert "N=100: 0.50 (0.50–0.50, 1 runs)" in scale_stats.report(samples)


def test_the_endpoint_runs_sshd_behind_a_private_lock_folder_and_an_empty_bashrc():
    script = endpoints.namespace_script(Path("/w/sshd_config"), 20001, Path("/w/empty"), ["/root/.bashrc"])
    assert script == (
        "mkdir -p -m 0700 /run/fleetfab && mount -t tmpfs -o mode=0700 fleetfab-scale /run/fleetfab && "
        "mount --bind /w/empty /root/.bashrc && "
        "exec /usr/sbin/sshd -D -e -f /w/sshd_config -o Port=20001"
    )
    assert "mount --bind" not in endpoints.namespace_script(Path("/c"), 1, Path("/e"), [])


def test_the_endpoints_config_takes_keys_only_and_listens_on_loopback():
    keys = endpoints.Keys(Path("/k/host"), Path("/k/client"), Path("/k/authorized"))
    config = endpoints.sshd_config(keys)
    assert "ListenAddress 127.0.0.1\n" in config and "PasswordAuthentication no\n" in config
    assert "HostKey /k/host\n" in config and "AuthorizedKeysFile /k/authorized\n" in config


def test_listening_ports_come_from_the_kernels_table():
    table = (
        "  sl  local_address rem_address   st tx_queue rx_queue\n"
        "   0: 0100007F:4E20 00000000:0000 0A 00000000:00000000\n"  # 127.0.0.1:20000, listening
        "   1: 0100007F:4E21 0100007F:9C40 01 00000000:00000000\n"  # 20001, an established connection
        "   2: 00000000:4E22 00000000:0000 0A 00000000:00000000\n"  # 0.0.0.0:20002, another address
    )
    assert endpoints.listening_ports(table) == {20000}


def test_every_host_has_its_own_scratch_folder_and_endpoint(tmp_path):
    names = scale_inventory.host_names(3)
    assert names == ["ep001", "ep002", "ep003"]
    document = scale_inventory.fleetfab_inventory(names, [20000, 20001, 20002], tmp_path / "scratch",
                                                  Path("/k"), tmp_path / "known_hosts", 50)
    path = tmp_path / "fleetfab.yml"
    path.write_text(yaml.safe_dump(document))
    inventory = load_inventory(path, roles=roles())
    hosts = inventory.hosts
    assert [h.port for h in hosts.values()] == [20000, 20001, 20002]
    assert hosts["ep002"].settings(ROLE)["root"] == str(tmp_path / "scratch" / "ep002")
    assert inventory.parallel == 50


def test_the_scratch_role_has_a_dozen_resources_inside_its_folder(tmp_path):
    path = tmp_path / "fleetfab.yml"
    path.write_text(yaml.safe_dump(scale_inventory.fleetfab_inventory(["ep001"], [20000], tmp_path / "s", Path("/k"), tmp_path / "kh", 5)))
    inventory = load_inventory(path, roles=roles())
    from fleetfab.role import RoleContext

    host = inventory.hosts["ep001"]
    resources = list(roles()[ROLE].resources(RoleContext(inventory, host, ROLE)))
    assert len(resources) == RESOURCES_PER_HOST
    root = str(tmp_path / "s" / "ep001")
    assert all(r.key.split(" ", 1)[1].startswith(root) for r in resources if not r.key.startswith("command"))


def test_shares_deal_hosts_to_processes():
    assert scale_inventory.shares([1, 2, 3, 4, 5], 2) == [[1, 3, 5], [2, 4]]
    assert scale_inventory.shares([1], 4) == [[1]]


def test_the_floors_last_line_gives_its_failed_hosts():
    assert scale_tools.floor_failed("floor: failed on x\nfloor: hosts=300 failed=2\n") == 2
    assert scale_tools.floor_failed("Traceback ...\n") is None


def test_pyinfra_failures_are_counted_by_host():
    output = (
        "    [ep001] Error: something\n"
        "<Greenlet at 0x7f: _run_host_op_with_context(<pyinfra.api.state.State object at 0x7f>, Host(ep002), 'ab')> failed with ConnectError\n"
        "    [ep001] Error: again\n"
    )
    assert scale_tools.pyinfra_failed(output, 10, 1) == 2
    assert scale_tools.pyinfra_failed("", 10, 1) == 10
    assert scale_tools.pyinfra_failed("", 10, 0) == 0


def usage(code=0):
    return Usage(1.0, 0.5, 0.1, 50.0, code)


def report(hosts, failed=0, changed=0, errors=()):
    return {"totals": {"hosts": hosts, "hosts_failed": failed, "changed": changed, "unchanged": 12 * hosts},
            "hosts": {f"h{i}": {"error": e} for i, e in enumerate(errors)}}


def test_a_fleetfab_run_is_right_only_with_every_host_reported_and_none_failed():
    assert scale_tools.judge_fleetfab(usage(), [report(5)], DRIFT, 5).ok
    assert scale_tools.judge_fleetfab(usage(), [report(3), report(2)], REAPPLY, 5).ok
    missing = scale_tools.judge_fleetfab(usage(), [report(4)], DRIFT, 5)
    assert not missing.ok and missing.failed_hosts == 1
    failed = scale_tools.judge_fleetfab(usage(1), [report(5, failed=1, errors=["connection refused"])], DRIFT, 5)
    assert not failed.ok and failed.failed_hosts == 1 and "connection refused" in failed.detail
    assert scale_tools.judge_fleetfab(usage(), [report(5, changed=55)], APPLY, 5).ok
    assert not scale_tools.judge_fleetfab(usage(), [report(5, changed=1)], REAPPLY, 5).ok
    assert not scale_tools.judge_fleetfab(usage(1), [None], DRIFT, 5).ok


def test_a_measured_run_reports_the_worst_exit_and_kills_what_overstays(tmp_path):
    from bench.measure import run_together

    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    usage = run_together([["sh", "-c", "echo hi"], ["sh", "-c", "exit 3"]], logs)
    assert usage.exit_code == 3 and not usage.timed_out and logs[0].read_text() == "hi\n"
    slow = run_together([["sleep", "30"]], [tmp_path / "c.log"], timeout=0.2)
    assert slow.timed_out and slow.exit_code == -9 and slow.wall < 10


def test_reports_merge_the_samples_of_several_json_files(tmp_path, capsys):
    import json
    from dataclasses import asdict

    for i, cpu in enumerate((1.0, 3.0)):  # run 1 in both files: each drift pairs with its own floor
        samples = [sample(wall=1 + i, cpu=cpu), sample("floor", FLOOR, cpu=2.0)]
        (tmp_path / f"{i}.json").write_text(json.dumps({"samples": [asdict(s) for s in samples]}))
    scale_stats.main([str(tmp_path / "0.json"), str(tmp_path / "1.json")])
    out = capsys.readouterr().out
    assert "| fleetfab | drift | 1.50 (1.00–2.00) | – |" in out
    assert "N=100: 1.00 (0.50–1.50, 2 runs)" in out


def test_a_multi_process_fleetfab_has_its_own_row_after_the_usual_ones():
    samples = [sample("fleetfab, 2 processes"), sample(), sample("floor", FLOOR)]
    assert scale_stats.present_rows(samples) == [("fleetfab", DRIFT), ("floor", FLOOR), ("fleetfab, 2 processes", DRIFT)]
