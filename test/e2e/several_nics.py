#!/usr/bin/env python3
"""e2e.several_nics: --bind spreads connections over real network interfaces.

The receiver runs in a network namespace of its own, reached from this one
over two veth pairs (two "NICs", each with its own subnet); the sink's address
sits on the namespace's loopback and source-based routing sends each local
address's traffic out of its own veth. superventd binds by interface name
(--bind IFACE,IFACE), delivers exactly N events, and the sink must have seen
connections from both interfaces' addresses, and bytes must have crossed both
veths. Nothing leaves the machine: the namespace and the veths are made here
and removed at the end. Needs root (CAP_NET_ADMIN), as CI has."""

import json
import os
import subprocess

import harness
from harness import check

EVENTS = 200_000


def ip(*args, check_rc=True):
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if check_rc:
        check(result.returncode == 0, f"ip {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def tx_bytes(interface):
    with open(f"/sys/class/net/{interface}/statistics/tx_bytes") as f:
        return int(f.read())


class Topology:
    """Namespace NS with the sink address on its loopback; veth pairs
    (a0 | a1) 10.X.1.0/24 and (b0 | b1) 10.X.2.0/24 between here and NS."""

    def __init__(self):
        tag = os.getpid() % 50000
        self.ns = f"svnic{tag}"
        self.x = 200 + tag % 50
        self.nics = [f"sva{tag}", f"svb{tag}"]
        self.peers = [f"svA{tag}", f"svB{tag}"]
        self.table = 20000 + tag
        # Rules are tried in priority order and the main table's is 32766:
        # ours must come before it.
        self.priority = 1000 + tag % 20000
        self.sink_address = f"10.{self.x}.9.9"
        self.local = [f"10.{self.x}.{i + 1}.1" for i in range(2)]

    def up(self):
        ip("netns", "add", self.ns)
        ip("-n", self.ns, "link", "set", "lo", "up")
        ip("-n", self.ns, "addr", "add", f"{self.sink_address}/32", "dev", "lo")
        for i, (nic, peer) in enumerate(zip(self.nics, self.peers)):
            ip("link", "add", nic, "type", "veth", "peer", "name", peer, "netns", self.ns)
            ip("addr", "add", f"10.{self.x}.{i + 1}.1/24", "dev", nic)
            ip("link", "set", nic, "up")
            ip("-n", self.ns, "addr", "add", f"10.{self.x}.{i + 1}.2/24", "dev", peer)
            ip("-n", self.ns, "link", "set", peer, "up")
        # Main table: the sink via the first NIC; traffic from the second
        # NIC's address uses a table of its own that routes via the second.
        ip("route", "add", f"{self.sink_address}/32", "via", f"10.{self.x}.1.2", "dev", self.nics[0])
        ip("route", "add", f"{self.sink_address}/32", "via", f"10.{self.x}.2.2", "dev", self.nics[1],
           "table", str(self.table))
        ip("rule", "add", "from", self.local[1], "table", str(self.table), "priority", str(self.priority))

    def down(self):
        ip("rule", "del", "from", self.local[1], "table", str(self.table), "priority", str(self.priority),
           check_rc=False)
        ip("route", "del", f"{self.sink_address}/32", check_rc=False)
        for nic in self.nics:
            ip("link", "del", nic, check_rc=False)  # takes its peer in the namespace with it
        ip("netns", "del", self.ns, check_rc=False)


def test(h):
    check(os.geteuid() == 0, "this test makes a network namespace and veth pairs: it must run as root")
    topo = Topology()
    try:
        topo.up()
        h.log(f"namespace {topo.ns}: sink {topo.sink_address}, NICs {topo.nics} ({topo.local})")
        port_file = h.path("sink.port")
        report_file = h.path("sink.report.json")
        sink = h.start("sink", ["ip", "netns", "exec", topo.ns, h.bin("supervent-sink"), "--listen",
                                f"{topo.sink_address}:0", "--port-file", port_file, "--verify", "--report",
                                report_file], timeout_s=110)
        port = h.wait_for_port_file(port_file, sink)
        before = [tx_bytes(nic) for nic in topo.nics]
        daemon = h.run("superventd", [h.bin("superventd"), "--sink", f"http://{topo.sink_address}:{port}",
                                      "--bind", ",".join(topo.nics), "--connections", 4, "--workers", 2,
                                      "--events", EVENTS, "--socket", h.path("ctl.sock")], timeout_s=90)
        check(daemon.rc == 0, f"superventd exited {daemon.rc}, expected 0:\n{daemon.stderr}")
        sent = [tx_bytes(nic) - b for nic, b in zip(topo.nics, before)]
        h.log(f"bytes sent per NIC: {dict(zip(topo.nics, sent))}")

        sink.signal(15)
        check(sink.wait(timeout_s=15) == 0, "supervent-sink did not stop cleanly on SIGTERM")
        with open(report_file) as f:
            report = json.load(f)
        h.log(f"sink report: events {report['events']}, peers {report.get('connections_by_peer')}")
        check(report["events"] == EVENTS, f"the sink counted {report['events']} events, expected {EVENTS}")
        check(report["invalid_events"] == 0, f"{report['invalid_events']} invalid events")
        peers = report.get("connections_by_peer", {})
        check(set(peers) == set(topo.local),
              f"connections came from {sorted(peers)}, expected exactly both NICs' addresses {topo.local}")
        # Both NICs carried a real share of the bytes, not just a handshake.
        total = sum(sent)
        for nic, share in zip(topo.nics, sent):
            check(share > total // 5, f"{nic} sent {share} of {total} bytes: the connections were not spread")
    finally:
        topo.down()


if __name__ == "__main__":
    harness.main(test)
