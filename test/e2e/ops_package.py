#!/usr/bin/env python3
"""e2e.ops_package: installation and the unit. `cmake --install` into a
scratch prefix puts the binaries, the unit, the config and the man pages in
place and the installed unit passes `systemd-analyze verify`; the source
unit's `systemd-analyze security --offline=yes` exposure is at most 2.0;
the unit carries the directives issue 15 asks for (exit codes, the socket's
group, AF_NETLINK for --bind IFNAME); cpack builds a .deb whose contents and
control files are right, which lintian (when installed) passes without an
error or a warning, and which installs into and purges from a scratch dpkg
root leaving nothing behind."""

import os
import re
import shutil
import subprocess

import harness
from harness import check

UNIT = os.path.join(harness.REPO_DIR, "systemd", "superventd.service")
INSTALLED = ("share/man/man8/superventd.8.gz", "share/man/man1/supervent-ctl.1.gz", "share/man/man1/supervent-sink.1.gz",
             "share/doc/supervent/operations.md", "share/doc/supervent/copyright", "share/doc/supervent/changelog.gz",
             "share/doc/supervent/examples/superventd.example.toml",
             "share/doc/supervent/examples/scenario.example.toml",
             "share/bash-completion/completions/superventd", "share/bash-completion/completions/supervent-ctl",
             "share/bash-completion/completions/supervent-sink", "share/zsh/vendor-completions/_superventd",
             "share/zsh/vendor-completions/_supervent-ctl", "share/zsh/vendor-completions/_supervent-sink",
             "lib/systemd/system/superventd@.service")


def unit_directives(text):
    """{key: [values]} of the unit's Key=Value lines, in order."""
    directives = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            directives.setdefault(key.strip(), []).append(value.strip())
    return directives


def check_unit_directives(text):
    """What issue 15 asks of the unit: a run that ended with failed events (1)
    is a clean end; invalid settings (2) and fatal causes (3) are not
    restarted; the dynamic user may give the socket to its group;
    getifaddrs (--bind IFNAME) may use AF_NETLINK."""
    d = unit_directives(text)
    check(d.get("SuccessExitStatus") == ["1"], f"SuccessExitStatus: {d.get('SuccessExitStatus')}")
    check(d.get("RestartPreventExitStatus") == ["2 3"], f"RestartPreventExitStatus: {d.get('RestartPreventExitStatus')}")
    check(d.get("Restart") == ["on-failure"], f"Restart: {d.get('Restart')}")
    check(d.get("DynamicUser") == ["yes"] and d.get("SupplementaryGroups") == ["supervent"],
          f"DynamicUser {d.get('DynamicUser')}, SupplementaryGroups {d.get('SupplementaryGroups')}")
    families = d.get("RestrictAddressFamilies", [""])[-1].split()
    check({"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"} == set(families), f"RestrictAddressFamilies: {families}")


def check_installed_config(h, prefix):
    """The shipped config: a modest rate, a local sink, the socket's group, and how to reach Axiom."""
    with open(os.path.join(prefix, "etc/supervent/superventd.toml")) as f:
        config = f.read()
    check(re.search(r"^rate = \d+$", config, re.M) and int(re.search(r"^rate = (\d+)$", config, re.M).group(1)) <= 10000,
          f"the shipped config has no modest rate:\n{config}")
    check(re.search(r'^url = "http://127\.0\.0\.1:\d+"$', config, re.M), f"the shipped sink is not local:\n{config}")
    check('socket_group = "supervent"' in config, "the shipped config does not name the socket's group")
    check("https://api.axiom.co" in config and "axiom-token" in config, "the shipped config does not say how to reach Axiom")


def run_lintian(h, deb):
    if shutil.which("lintian") is None:
        h.log("lintian not installed (apt-get install lintian): skipping its check")
        return
    result = h.run("lintian", ["lintian", "--fail-on", "error,warning", deb], timeout_s=240)
    check(result.rc == 0, f"lintian: rc {result.rc}:\n{result.stdout}{result.stderr}")


def test(h):
    build_dir = os.path.dirname(h.bin_dir)
    check(os.path.exists(os.path.join(build_dir, "CPackConfig.cmake")), f"{build_dir} is not a configured build dir")

    # The hardening score of the unit as shipped.
    security = h.run("security", ["systemd-analyze", "security", "--offline=yes", UNIT], timeout_s=60)
    match = re.search(r"Overall exposure level for superventd.service: (\d+\.\d+)", security.stdout + security.stderr)
    check(match is not None, f"no exposure level in: {security.stdout[-500:]} {security.stderr[-500:]}")
    check(float(match.group(1)) <= 2.0, f"exposure {match.group(1)} > 2.0")

    # cmake --install into a scratch prefix.
    prefix = h.path("prefix/usr")
    result = h.run("install", ["cmake", "--install", build_dir, "--prefix", prefix], timeout_s=120)
    check(result.rc == 0, f"cmake --install failed: {result.stderr}")
    for relative in ("bin/superventd", "bin/supervent-ctl", "bin/supervent-sink"):
        check(os.access(os.path.join(prefix, relative), os.X_OK), f"{relative} not installed executable")
    for relative in ("lib/systemd/system/superventd.service", "etc/supervent/superventd.toml") + INSTALLED:
        check(os.path.isfile(os.path.join(prefix, relative)), f"{relative} not installed")
    check_installed_config(h, prefix)
    unit = os.path.join(prefix, "lib/systemd/system/superventd.service")
    with open(unit) as f:
        text = f.read()
    check(f"ExecStart={prefix}/bin/superventd --config {prefix}/etc/supervent/superventd.toml" in text,
          f"the installed unit does not point at the installed files:\n{text}")
    check(re.search(r"[ :=]/etc/supervent", text) is None, f"the installed unit still names /etc:\n{text}")
    check_unit_directives(text)
    verify = h.run("verify", ["systemd-analyze", "verify", unit], timeout_s=60,
                   env={"MANPATH": os.path.join(prefix, "share/man")})
    check(verify.rc == 0 and verify.stdout.strip() == "" and verify.stderr.strip() == "",
          f"systemd-analyze verify: rc {verify.rc}: {verify.stdout} {verify.stderr}")
    # The installed config is the example, loadable as it is.
    check_config = h.run("check-config", [os.path.join(prefix, "bin/superventd"), "--config",
                                          os.path.join(prefix, "etc/supervent/superventd.toml"), "--check-config"],
                         timeout_s=30)
    check(check_config.rc == 0 and "config OK" in check_config.stdout, f"installed config: {check_config.stderr}")

    # The Debian package.
    packages = h.path("packages")
    result = h.run("cpack", ["cpack", "--config", os.path.join(build_dir, "CPackConfig.cmake"), "-G", "DEB",
                             "-B", packages], timeout_s=240)
    check(result.rc == 0, f"cpack failed: {result.stdout[-2000:]} {result.stderr[-2000:]}")
    debs = [f for f in os.listdir(packages) if f.endswith(".deb")]
    check(len(debs) == 1, f"cpack made {debs}")
    deb = os.path.join(packages, debs[0])
    contents = subprocess.run(["dpkg-deb", "--contents", deb], capture_output=True, text=True, check=True).stdout
    paths = {line.split()[-1].lstrip(".") for line in contents.splitlines()}
    for path in ("/usr/bin/superventd", "/usr/bin/supervent-ctl", "/usr/bin/supervent-sink",
                 "/usr/lib/systemd/system/superventd.service", "/etc/supervent/superventd.toml") + \
            tuple("/usr/" + p for p in INSTALLED):
        check(path in paths, f"{path} missing from the .deb:\n{contents}")
    check(any(f.endswith(".ddeb") for f in os.listdir(packages)), f"no debug symbols package: {os.listdir(packages)}")
    run_lintian(h, deb)
    check(not any(p.startswith(("/usr/local", "/tmp", "/root", "/work")) for p in paths), f"stray paths:\n{contents}")
    conffiles = subprocess.run(["dpkg-deb", "-I", deb, "conffiles"], capture_output=True, text=True).stdout
    check(conffiles.strip() == "/etc/supervent/superventd.toml", f"conffiles: {conffiles!r}")
    control = subprocess.run(["dpkg-deb", "-f", deb, "Package", "Depends"], capture_output=True, text=True).stdout
    check("Package: supervent" in control and "liburing2" in control, f"control: {control}")
    check("libpq5" in control, f"superventd links libpq (postgresql:// sinks); the package must depend on libpq5: {control}")
    unpacked = h.path("unpacked")
    subprocess.run(["dpkg-deb", "-x", deb, unpacked], check=True)
    with open(os.path.join(unpacked, "usr/lib/systemd/system/superventd.service")) as f:
        packaged_unit = f.read()
    check("ExecStart=/usr/bin/superventd --config /etc/supervent/superventd.toml" in packaged_unit,
          "the packaged unit does not start /usr/bin/superventd with /etc/supervent/superventd.toml")

    # Install and purge in a scratch dpkg root (its dependencies are not
    # there, hence --force-depends; scripts run outside it).
    root = h.path("root")
    os.makedirs(os.path.join(root, "var/lib/dpkg/info"))
    os.makedirs(os.path.join(root, "var/lib/dpkg/updates"))
    open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
    dpkg = ["dpkg", f"--root={root}", "--force-script-chrootless", "--force-not-root"]
    installed = h.run("dpkg-install", dpkg + ["--force-depends", "-i", deb], timeout_s=60)
    check(installed.rc == 0, f"dpkg -i failed: {installed.stdout} {installed.stderr}")
    check(os.access(os.path.join(root, "usr/bin/superventd"), os.X_OK), "dpkg -i did not install superventd")
    purged = h.run("dpkg-purge", dpkg + ["-P", "supervent"], timeout_s=60)
    check(purged.rc == 0, f"dpkg -P failed: {purged.stdout} {purged.stderr}")
    left = [os.path.join(d, f) for d, _, files in os.walk(root) for f in files if "/var/lib/dpkg" not in d]
    left += [d for d, dirs, files in os.walk(root) if d != root and "/var" not in d and not dirs and not files]
    check(not left, f"purging left files behind: {left}")


if __name__ == "__main__":
    harness.main(test)
