#!/usr/bin/env python3
"""e2e.fault_outage_resume: a checkpointed backfill (zstd) killed with SIGKILL
in the middle of an outage resumes exactly (issue 13). The receiver is
stopped; while the daemon waits with its slots full it is killed; the
receiver comes back and the same command resumes from the checkpoint. The
resumed run makes exactly the events the checkpoint had not settled (the
batches held during the outage among them), exits 0, and the receivers
together count every event of the backfill, twice at most those the outage
cut off after they were fully sent (ambiguous)."""

import re
import signal
import time

import harness
from harness import check
import fault_common as fc

EVENTS = 100_000


def checkpoint_settled(path):
    with open(path) as f:
        text = f.read()
    return sum(int(n) for n in re.findall(r"^shard \d+ batches \d+ events (\d+)$", text, re.M)), text


def test(h):
    receiver = fc.Receiver(h)
    receiver.start_sink()
    checkpoint = h.path("outage.checkpoint")
    args = ["--events", EVENTS, "--compression", "zstd", "--start", "2026-01-01T00:00:00Z",
            "--end", "2026-01-02T00:00:00Z", "--checkpoint", checkpoint]
    daemon = fc.Daemon(h, receiver.url, extra_args=args)
    daemon.warm_up()
    receiver.stop()
    down = daemon.run_for(3.0, tag="outage")
    check(down["events_in_flight"] > 0 and down["events_failed"] == 0,
          f"expected batches waiting and none failed during the outage: {down}")
    time.sleep(1.5)  # a checkpoint write (every second) during the outage
    daemon.process.signal(signal.SIGKILL)
    check(daemon.process.wait(timeout_s=10) == -signal.SIGKILL, "superventd did not die of SIGKILL")
    settled, text = checkpoint_settled(checkpoint)
    h.log(f"killed during the outage: {down['events_generated']} generated, {down['events_acked']} acked, "
          f"{settled} settled in the checkpoint:\n{text}")
    check(settled == down["events_acked"], f"the checkpoint settled {settled} events, the daemon had acked "
                                           f"{down['events_acked']} before the outage")

    receiver.start_sink()
    resumed = h.run("resumed", [h.bin("superventd"), "--sink", receiver.url, "--rate", fc.RATE, "--workers", 1,
                                "--batch-events", fc.BATCH, "--no-pin", "--socket", h.path("resumed.sock"), *args],
                    timeout_s=60)
    check(resumed.rc == 0, f"the resumed backfill exited {resumed.rc}:\n{resumed.stderr[-3000:]}")
    summary = harness.require_summary(resumed.stderr)
    check(summary["generated"] == EVENTS - settled,
          f"the resumed run generated {summary['generated']}, expected the {EVENTS - settled} not settled")
    receiver.stop()
    cut_off = down["events_in_flight"]
    duplicates = receiver.counted - EVENTS
    print(f"OUTAGE+SIGKILL: lost {max(0, -duplicates)}, duplicates {duplicates} (at most the {cut_off} events "
          f"in flight at the kill)", flush=True)
    check(receiver.counted >= EVENTS, f"lost: the receivers counted {receiver.counted} of {EVENTS}")
    check(duplicates <= cut_off, f"{duplicates} events counted twice: more than the {cut_off} in flight at the kill")


if __name__ == "__main__":
    harness.main(test)
