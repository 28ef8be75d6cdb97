#!/usr/bin/env python3
"""e2e.far_sink: a sink 50 ms away (supervent-sink --delay-ms).

1. The sink honours the delay: one request is answered no sooner than
   --delay-ms after it was sent, and two requests pipelined on one socket are
   both answered, in order, within one delay (answers are held, not serialized).
2. The daemon's pipeline deepens, fast: against --delay-ms 50, status shows
   a pipeline_depth of at least 8 within 1.5 s of the start (the depth
   doubles while each step pays: 2, 4, 8 in two probes; one step a probe
   took ~2 s to get there) and the acknowledged rate beats the same run with
   --pipeline-max 2 (the fixed depth of before) by at least 2x.
3. The sink killed and restarted twice mid-run while pipelines are deep:
   every acknowledged event was counted by the sinks, none failed, the
   accounting adds up in every status (fault_common's checks)."""

import socket
import time

import harness
from harness import check
import fault_common as fc

DELAY_MS = 50


def post(sock, body):
    sock.sendall(b"POST /v1/datasets/far/ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


def read_answers(sock, count, timeout_s=10):
    """Reads `count` HTTP answers; returns the monotonic time each completed."""
    sock.settimeout(timeout_s)
    data, times = b"", []
    while len(times) < count:
        chunk = sock.recv(65536)
        check(chunk, f"the sink closed after {len(times)} of {count} answers")
        data += chunk
        while b"\r\n\r\n" in data:
            head, rest = data.split(b"\r\n\r\n", 1)
            length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
            if len(rest) < length:
                break
            check(head.startswith(b"HTTP/1.1 200"), f"answer {len(times) + 1}: {head[:40]!r}")
            data = rest[length:]
            times.append(time.monotonic())
    return times


def check_sink_delay(h):
    sink = h.start_sink(name="delay-sink", verify=False, report=False, extra_args=["--delay-ms", "200"])
    with socket.create_connection(("127.0.0.1", sink.port)) as sock:
        started = time.monotonic()
        post(sock, b'{"a":1}\n')
        (answered,) = read_answers(sock, 1)
        single_s = answered - started
        check(single_s >= 0.2, f"answered after {single_s:.3f} s, before --delay-ms 200")
        started = time.monotonic()
        post(sock, b'{"a":1}\n{"a":2}\n')
        post(sock, b'{"a":3}\n')
        first, second = read_answers(sock, 2)
        check(first - started >= 0.2, f"the first pipelined answer came after {first - started:.3f} s")
        check(second - started < 0.38, f"the second pipelined answer waited for the first's delay: "
                                       f"{second - started:.3f} s")
    stats = sink.stop()
    check(stats["events"] == 4, f"the sink counted {stats['events']} events, expected 4")
    h.log(f"sink delay honoured: one answer after {single_s:.3f} s, two pipelined after {first - started:.3f} "
          f"and {second - started:.3f} s")


def acked_rate(h, url, tag, extra):
    """(acked events/s after a warm-up, depths at the end, seconds until the depth first reached 8 or None)."""
    daemon = fc.Daemon(h, url, rate="2000000", extra_args=["--connections", "2"] + extra, name=f"superventd-{tag}")
    daemon.run_for(2.0, interval_s=0.1, tag=f"{tag} warm-up")
    first = daemon.samples[0][0]
    reached_s = next((t - first for t, status, _ in daemon.samples
                      if max(shard["pipeline_depth"] for shard in status["shards"]) >= 8), None)
    status = daemon.run_for(3.0, tag=tag)
    rate = daemon.acked_rate(2.5)
    depths = [shard["pipeline_depth"] for shard in status["shards"]]
    daemon.stop()
    h.log(f"{tag}: {rate:,.0f} acked events/s, pipeline depth {depths}, depth 8 after {reached_s} s")
    return rate, depths, reached_s


def check_depth_rises(h):
    sink = h.start_sink(name="far-sink", verify=False, report=True, extra_args=["--delay-ms", str(DELAY_MS)])
    fixed, fixed_depths, _ = acked_rate(h, sink.url, "fixed", ["--pipeline-max", "2"])
    check(max(fixed_depths) <= 2, f"--pipeline-max 2 let the depth reach {fixed_depths}")
    adaptive, depths, reached_s = acked_rate(h, sink.url, "adaptive", [])
    check(max(depths) > 2, f"the pipeline did not deepen toward a sink {DELAY_MS} ms away: depth {depths}")
    check(reached_s is not None and reached_s <= 1.5,
          f"the pipeline took {reached_s} s (None: more than the 2 s warm-up) to reach depth 8 toward a sink "
          f"{DELAY_MS} ms away, not 1.5 s")
    check(adaptive >= 2 * fixed, f"a deeper pipeline acknowledged {adaptive:,.0f} events/s, "
                                 f"not 2x the fixed depth's {fixed:,.0f}")
    sink.stop()


def check_restart_with_deep_pipelines(h):
    receiver = fc.Receiver(h, name="restart-sink")
    delay = ["--delay-ms", str(DELAY_MS)]
    receiver.start_sink(extra=delay)
    # 200,000 events/s in batches of 1,000, 50 ms away: ~10 requests in flight.
    daemon = fc.Daemon(h, receiver.url, rate="200000", name="superventd-restart",
                       extra_args=["--request-timeout", "3s", "--connect-timeout", "1s"])
    status = daemon.run_for(3.0, tag="warm-up")
    depths = [shard["pipeline_depth"] for shard in status["shards"]]
    check(max(depths) > 2, f"the pipeline had not deepened before the restarts: depth {depths}")
    for round_ in (1, 2):
        receiver.stop()
        daemon.run_for(1.0, tag=f"down {round_}")
        receiver.start_sink(extra=delay)
        daemon.run_for(3.0, tag=f"restarted {round_}")
    summary, final = daemon.stop()
    receiver.stop()
    fc.check_delivery(h, receiver, summary, fc.ambiguous(final))
    check(summary["failed"] == 0, f"batches failed during 1 s outages: {summary}")


def test(h):
    check_sink_delay(h)
    check_depth_rises(h)
    check_restart_with_deep_pipelines(h)


if __name__ == "__main__":
    harness.main(test)
