#!/usr/bin/env python3
"""e2e.fault_full_disk: the file sink on a full disk (file:/dev/full, where
every write fails with ENOSPC). That is fatal by design: superventd exits 3
(fatal) promptly, names the file and the error, and accounts every event it
generated as failed with reason io, none acknowledged or left in flight.
Both a bounded run and an unbounded one at a fixed rate stop this way."""

import time

import harness
from harness import check
import fault_common as fc


def run(h, tag, args):
    started = time.monotonic()
    result = h.run(f"superventd-{tag}", [h.bin("superventd"), "--sink", "file:/dev/full", "--workers", 1,
                                        "--socket", h.path(f"{tag}.sock"), "--no-pin"] + args, timeout_s=30)
    took = time.monotonic() - started
    summary = harness.require_summary(result.stderr)
    h.log(f"[{tag}] exited {result.rc} after {took:.2f} s: {summary}")
    check(result.rc == 3, f"[{tag}] superventd exited {result.rc} on a full disk, expected 3 (fatal)")
    check(took < 15, f"[{tag}] superventd took {took:.1f} s to give up on a full disk")
    fc.check_final(summary)
    check(summary["acked"] == 0 and summary["failed"] == summary["generated"] and summary["generated"] > 0,
          f"[{tag}] every generated event must fail on a full disk: {summary}")
    check("No space left on device" in result.stderr and "/dev/full" in result.stderr,
          f"[{tag}] superventd does not name the file and ENOSPC:\n{result.stderr}")
    check("failed: io" in result.stderr, f"[{tag}] the summary does not give 'io' as the reason:\n{result.stderr}")


def test(h):
    run(h, "bounded", ["--events", 50_000])
    run(h, "rate", ["--rate", fc.RATE])


if __name__ == "__main__":
    harness.main(test)
