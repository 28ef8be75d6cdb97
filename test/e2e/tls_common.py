"""Shared by the TLS end-to-end tests: a throwaway PKI made with the openssl
command line (test/net/tls_certs.sh) in the test's temp dir."""

import os
import subprocess

import harness
from harness import check

CERTS_SCRIPT = os.path.join(harness.REPO_DIR, "test", "net", "tls_certs.sh")


def make_pki(h):
    """Returns the directory holding ca.pem, server.pem/.key, wrong-name.pem,
    expired.pem and untrusted.pem (see tls_certs.sh)."""
    pki = h.path("pki")
    result = subprocess.run(["sh", CERTS_SCRIPT, pki], capture_output=True, text=True, timeout=60)
    check(result.returncode == 0, f"making the test PKI failed:\n{result.stdout}\n{result.stderr}")
    return pki


def start_tls_sink(h, name, pki, certificate, verify=True):
    """supervent-sink --tls-cert on 127.0.0.1; its report file as usual."""
    return h.start_sink(name=name, verify=verify,
                        extra_args=["--tls-cert", os.path.join(pki, certificate),
                                    "--tls-key", os.path.join(pki, "server.key")])
