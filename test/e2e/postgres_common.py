"""A throwaway PostgreSQL server for the postgresql:// sink tests and the
benchmark: Debian's initdb and pg_ctl (package postgresql) in a temp dir,
on a free loopback port, its unix socket in the same dir, password
authentication (SCRAM) over TCP so that the daemon reads the password from a
passfile, and stopped at the end however the test ends.

PostgreSQL refuses to run as root: when the test runs as root, the server
runs as the `postgres` user (made by the Debian package) in a dir it owns.
Without the binaries a test exits with SKIP (77) and says why."""

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

import harness
from harness import check

SKIP = 77
PASSWORD = "pg-test-secret-4b1d"


def find_bin_dir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(found[-1]) if found else None


def skip_unless_available():
    if find_bin_dir() is None or shutil.which("psql") is None:
        print("SKIP: PostgreSQL is not installed (/usr/lib/postgresql/*/bin/pg_ctl, psql): "
              "run scripts/install-deps.sh", flush=True)
        sys.exit(SKIP)
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            print("SKIP: running as root and there is no 'postgres' user to run the server as", flush=True)
            sys.exit(SKIP)


class Postgres:
    def __init__(self, h, extra_settings=()):
        self.h = h
        self.bin_dir = find_bin_dir()
        # Not under the harness's dir: the server's user must reach it.
        self.dir = tempfile.mkdtemp(prefix="supervent-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log_file = os.path.join(self.dir, "server.log")
        self.port = harness.free_port()
        self.settings = ["-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.dir}",
                         "-c", "fsync=off", "-c", "max_wal_size=4GB", "-c", "shared_buffers=256MB"]
        for setting in extra_settings:
            self.settings += ["-c", setting]
        self.as_user = None
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            self.as_user = (user.pw_uid, user.pw_gid)
            os.chown(self.dir, *self.as_user)
        os.chmod(self.dir, 0o755)
        pwfile = os.path.join(self.dir, "pwfile")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        if self.as_user:
            os.chown(pwfile, *self.as_user)
        # The password the daemon reads (libpq's passfile: 0600, owned by whoever runs the daemon).
        self.passfile = h.path("pgpass")
        with open(self.passfile, "w") as f:
            f.write(f"127.0.0.1:{self.port}:*:postgres:{PASSWORD}\n")
        os.chmod(self.passfile, 0o600)
        self._server_cmd(["initdb", "-D", self.data, "-U", "postgres", "--auth-local=trust",
                          "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync"], 120)
        self.start()

    def _server_cmd(self, argv, timeout_s):
        argv = [os.path.join(self.bin_dir, argv[0])] + argv[1:]
        if self.as_user:
            uid, gid = self.as_user
            argv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups"] + argv
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, cwd=self.dir)
        check(result.returncode == 0, f"{' '.join(argv)} exited {result.returncode}: {result.stdout}{result.stderr}"
              f"{self.server_log()}")
        return result

    def server_log(self):
        try:
            with open(self.log_file) as f:
                return "\n---- server log (end):\n" + f.read()[-4000:]
        except OSError:
            return ""

    def start(self):
        options = " ".join([f"-p {self.port}"] + [f"{a}" for a in self.settings])
        self._server_cmd(["pg_ctl", "-D", self.data, "-l", self.log_file, "-o", options, "-w", "-t", "60", "start"], 90)
        self.h.log(f"postgres up on 127.0.0.1:{self.port} ({self.dir})")

    def stop(self, mode="fast"):
        self._server_cmd(["pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop"], 90)
        self.h.log(f"postgres stopped ({mode})")

    def url(self, table, extra=""):
        return (f"postgresql://postgres@127.0.0.1:{self.port}/postgres?table={table}"
                f"&passfile={self.passfile}{extra}")

    def psql(self, sql, timeout_s=60):
        """Runs SQL over the unix socket (trust); returns stdout (unaligned, tuples only)."""
        argv = ["psql", "-X", "-h", self.dir, "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                "-v", "ON_ERROR_STOP=1", "-At", "-c", sql]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
        check(result.returncode == 0, f"psql -c {sql!r} exited {result.returncode}: {result.stderr}")
        return result.stdout

    def close(self):
        """Stops the server if it runs and removes its dir."""
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            try:
                self.stop("immediate")
            except Exception as error:  # clean-up must go on
                print(f"stopping postgres: {error}", flush=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def run_with_postgres(test_fn, extra_settings=()):
    """harness.main(...) with a server started first and stopped at the end."""
    skip_unless_available()

    def wrapped(h):
        server = Postgres(h, extra_settings)
        try:
            test_fn(h, server)
        except BaseException:
            print(server.server_log(), flush=True)
            raise
        finally:
            server.close()
    harness.main(wrapped)
