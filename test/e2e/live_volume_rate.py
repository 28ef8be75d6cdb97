#!/usr/bin/env python3
"""e2e.live_volume_rate (issue 18): a live run without --rate follows the
file's own volume over its window: 72,000 events over start_time..end_time
(2 h) is 10 events/s, so `--live --duration 3s` makes about 30 roots, not the
whole count at once. Tolerance: 10..80 (Poisson arrivals at 10/s over ~3 s of
a loaded machine's wall clock; before the change the run made thousands)."""
import harness
from harness import check

SCENARIO = """
start_time: "2024-12-09T10:00:00Z"
end_time: "2024-12-09T12:00:00Z"
sources:
  web:
    description: "web"
    attributes: {code: {type: choice, values: [200, 404]}}
    volume:
      - {pattern: "24/7", count: 72000, distribution: "random"}
    event_types:
      - {type: access, format: "GET / {code}", create_from_scratch: true}
"""


def run(h, tag, extra):
    config = h.path("live.yaml")
    with open(config, "w") as f:
        f.write(SCENARIO)
    out = h.path(f"{tag}.ndjson")
    result = h.run(f"superventd-{tag}", [h.bin("superventd"), "--config", config, "--live", "--duration", "3s",
                                         "--sink", f"file:{out}", "--workers", 1, "--seed", 5,
                                         "--socket", h.path(f"{tag}.sock")] + extra, timeout_s=30)
    check(result.rc == 0, f"[{tag}] superventd exited {result.rc}; stderr:\n{result.stderr[-3000:]}")
    with open(out) as f:
        return sum(1 for _ in f)


def test(h):
    paced = run(h, "paced", [])
    h.log(f"{paced} events in a 3-s live run of 72,000 per 2 h")
    check(10 <= paced <= 80, f"{paced} events in 3 s, expected about 30 (10/s: 72,000 over the 2-h window)")
    # --rate unlimited still means as fast as the run can.
    # --rate unlimited still means as fast as the run can: 5,000 events well within 3 s.
    unlimited = run(h, "unlimited", ["--rate", "unlimited", "--events", 5000])
    h.log(f"{unlimited} events with --rate unlimited --events 5000")
    check(unlimited == 5000, f"--rate unlimited made {unlimited} events in 3 s, expected the 5,000 asked for")


if __name__ == "__main__":
    harness.main(test)
