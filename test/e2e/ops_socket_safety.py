#!/usr/bin/env python3
"""e2e.ops_socket_safety: who may use the control socket, and that no client
can hold it. Peer credentials (SO_PEERCRED) are checked even when the socket
file's mode would let anyone connect; runtime.socket_group gives the socket
to a group whose members may use it; socket_allowed_uids adds users. Idle
clients do not stall others, and the number of sessions is bounded. Runs
clients as uid/gid 65534 and 65533 with setpriv (the test runs as root)."""

import json
import os
import socket
import stat
import time

import harness
from harness import check, ctl

NOBODY = (65534, 65534)
STRANGER = (65533, 65533)


def start_daemon(h, name, extra):
    sock = h.path(f"{name}.sock")
    daemon = h.start(name, [h.bin("superventd"), "--sink", "discard:", "--rate", 1000, "--workers", 1, "--socket", sock]
                     + extra, timeout_s=60)
    harness.wait_running(h, daemon, sock)
    return daemon, sock


def stop(h, name, daemon, sock):
    ctl(h, f"{name}-stop", sock, ["stop"])
    check(daemon.wait(timeout_s=15) == 0, f"{name} did not exit 0 after stop")


def test(h):
    check(os.geteuid() == 0, "this test runs clients as other users with setpriv: run it as root")
    os.chmod(h.dir, 0o755)  # other users must reach the sockets inside

    # 1. Default: root and the daemon's own uid only. Even with the socket
    #    file opened to everyone, uid 65534 is refused by SO_PEERCRED.
    daemon, sock = start_daemon(h, "default", [])
    mode = stat.S_IMODE(os.stat(sock).st_mode)
    check(mode == 0o660, f"the control socket has mode {oct(mode)}, expected 0o660")
    os.chmod(sock, 0o666)
    reply = ctl(h, "default-nobody", sock, ["status"], expect_rc=1, user=NOBODY)
    check(reply["ok"] is False and "permission denied: uid 65534" in reply["error"],
          f"uid 65534 was not refused by peer credentials: {reply}")
    check("refused a client with uid 65534" in daemon.stderr(), "the refusal was not logged")
    check(ctl(h, "default-root", sock, ["status"])["state"] == "running", "root was not served")
    stop(h, "default", daemon, sock)

    # 2. socket_group: the socket belongs to gid 65534, mode 0660; a member
    #    (primary gid) may use it, anyone else cannot even connect.
    daemon, sock = start_daemon(h, "group", ["--socket-group", "65534"])
    info = os.stat(sock)
    check(info.st_gid == 65534 and stat.S_IMODE(info.st_mode) == 0o660,
          f"socket gid {info.st_gid} mode {oct(stat.S_IMODE(info.st_mode))}, expected 65534 and 0o660")
    status = ctl(h, "group-nobody", sock, ["status"], user=NOBODY)
    check(status["state"] == "running", f"a member of the socket group was not served: {status}")
    stranger = ctl(h, "group-stranger", sock, ["status"], expect_rc=3, json_out=False, user=STRANGER)
    check("Permission denied" in stranger.stderr, f"the stranger's error: {stranger.stderr!r}")
    stop(h, "group", daemon, sock)

    # 3. socket_allowed_uids from the config file.
    config = h.path("allowed.toml")
    with open(config, "w") as f:
        f.write("[runtime]\nsocket_allowed_uids = [65533]\n")
    daemon, sock = start_daemon(h, "allowed", ["--config", config])
    os.chmod(sock, 0o666)
    check(ctl(h, "allowed-stranger", sock, ["status"], user=STRANGER)["ok"] is True, "an allowed uid was refused")
    reply = ctl(h, "allowed-nobody", sock, ["status"], expect_rc=1, user=NOBODY)
    check("permission denied" in reply["error"], f"uid 65534 not in the list was served: {reply}")

    # 4. Idle clients: they hold a session each but stall nobody; past the
    #    bound a new client is told so; once they go, service is normal.
    # A probe connection that stays open asks for the session count, so no
    # short-lived client's session lingers in it: first until it is the only
    # session, then until the idle ones are all in.
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(5)
    probe.connect(sock)
    probe_lines = probe.makefile("r")

    def sessions():
        probe.sendall(b'{"cmd":"status"}\n')
        return json.loads(probe_lines.readline())["control_sessions"]
    h.wait_for("the probe to be the only session", lambda: sessions() == 1, timeout_s=10)
    idle = [probe]
    try:
        for _ in range(63):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock)
            idle.append(s)
        h.wait_for("64 sessions", lambda: sessions() == 64, timeout_s=10)
        extra = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        extra.settimeout(5)
        extra.connect(sock)
        try:
            extra.sendall(b'{"cmd":"status"}\n')
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused at once, without reading: the answer is already waiting
        reply = json.loads(extra.makefile().readline())
        extra.close()
        check(reply["ok"] is False and "too many control connections" in reply["error"],
              f"the 65th client was not refused: {reply}")
        # A half-sent request does not block the others either.
        idle[1].sendall(b'{"cmd":"sta')
    finally:
        for s in idle[2:] + [probe]:
            s.close()
    # Served again within moments (the daemon notices the closed ones as it
    # goes), next to a client holding half a request.
    def served():
        result = h.run(f"after-idle-{time.monotonic()}", [h.bin("supervent-ctl"), "--socket", sock, "--json", "status"],
                       timeout_s=10)
        return result.rc == 0 and result.json()["state"] == "running"
    h.wait_for("service after the idle clients went", served, timeout_s=5)
    idle[1].close()
    stop(h, "allowed", daemon, sock)


if __name__ == "__main__":
    harness.main(test)
