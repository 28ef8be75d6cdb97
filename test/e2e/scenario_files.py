#!/usr/bin/env python3
"""e2e.scenario_files (issue 6, "Tests"): every original YAML scenario file
runs, scaled down (SCALES in scenario_common.py), with seed 42 and one
worker into a file sink, ends with exit 0 once every event is acknowledged,
and writes what the file says:

- every event: the five keys; its source a source's description and its type
  one of that source's types; _time inside [start_time, end_time); every
  declared attribute (dotted, nested, or written beside `attributes`) and no
  other, each valid for its declaration (choice values keep their YAML
  type, integers in range, client_ip private, timestamp attributes the event
  time in their strftime format with %L); the message exactly the template
  filled in ({x} and {{x}} alike, {timestamp} the formatted attribute or
  _time), so nothing is left unsubstituted, double-quoted or clobbered by
  attributes named message or type; request_id a UUID v4;
- root events: exactly round(count * scale) (at least 1) per source, none for
  a source without root types, only of root types, spread over them evenly;
  per source in time order in the file;
- dependencies: every event is either the one root of its request_id or the
  child of a rule whose trigger shares the request_id and comes before it
  (1-50 ms, the default hop, unless clamped to the window's end); children
  per trigger = the percentage (exactly at 100 %, within six sigma below);
- spread: gaussian roots centred mid-window with a sixth of it as sigma,
  random ones uniform over it; choices as often as their (repeated) values
  say, integers centred in their range;
- the warnings each file must cause; sofi-spike's window and 40 % chain;
- weekday/weekend (no original file uses them): a file derived from
  webaccess.yaml puts its volume only on those days in its time zone, evenly,
  never past the end;
- invalid-deepseek.yaml: exit 2 and an error naming the file and line;
- golden samples: the first 5 events per source of each run, byte for byte
  as in test/data/golden/<file>.ndjson (run with --update-golden to rewrite
  them after an intended change of generation; see that directory's README).
"""

import collections
import math
import os
import re
import sys

import harness
from harness import check
import scenario_common as sc

UPDATE_GOLDEN = "--update-golden" in sys.argv
if UPDATE_GOLDEN:
    sys.argv.remove("--update-golden")

GOLDEN_PER_SOURCE = 5

# Warnings a file must cause (regular expressions over superventd's stderr).
EXPECTED_WARNINGS = {
    "config.yaml": [r"config\.yaml:\d+: sources\.database_server\.thread_id: attribute written beside `attributes`",
                    r"config\.yaml:\d+: sources\.database_server\.message: attribute written beside `attributes`",
                    r"config\.yaml:\d+: upload_config\.axiom\.batch_size: 1000000 events per request capped to 10000"],
    "nodejs.yaml": [r"nodejs\.yaml:36: sources\.app_server\.timestamp: a fixed timestamp beside the attributes; ignored"],
    "sofi.yaml": [r"sofi\.yaml:\d+: sources\.mysql\.volume\[0\]: source 'mysql' has no root event type .* ignored"],
    "sofi-spike.yaml": [r"sofi-spike\.yaml:\d+: sources\.mysql\.volume\[0\]: source 'mysql' has no root event type"],
    "nested_okta.yaml": [r"nested_okta\.yaml:\d+: .*placeholder \{eventId\} is in no attribute_structure",
                         r"nested_okta\.yaml:\d+: .*placeholder \{severity\} is in no attribute_structure"],
    "3tier.yaml": [r"3tier\.yaml:\d+: event_frequencies\.normal_traffic\.app_server\.error: not an event type"],
}


def classify(scn, events, tag):
    """Groups events by request_id; returns (roots, children) where
    children[rule action] = [(child, trigger or None)]."""
    groups = collections.defaultdict(list)
    for event in events:
        groups[event["attributes"]["request_id"]].append(event)
    roots = []
    children = collections.defaultdict(list)
    for request_id, group in groups.items():
        group.sort(key=lambda e: (e["_ns"], e["_line"]))
        group_roots = []
        for event in group:
            key = (scn.by_description[event["source"]].key, event["event_type"])
            rule = scn.rule_by_action.get(key)
            triggers = [] if rule is None else [
                t for t in group if t is not event and (scn.by_description[t["source"]].key, t["event_type"]) == rule[0]
                and t["_ns"] <= event["_ns"]]
            if triggers:
                children[key].append((event, triggers[0] if len(triggers) == 1 else None))
            else:
                group_roots.append(event)
        check(len(group_roots) == 1,
              f"[{tag}] request_id {request_id}: expected exactly one root event (the others its chain's "
              f"children), found {len(group_roots)}: lines {[e['_line'] for e in group_roots]}")
        root = group_roots[0]
        source = scn.by_description[root["source"]]
        check(root["event_type"] in source.root_types,
              f"[{tag}] line {root['_line']}: a {source.key}.{root['event_type']} event (create_from_scratch: false) "
              f"with no trigger before it in its request {request_id}: non-root types may only come from dependencies")
        # Per request: at most one child per trigger event and rule.
        for rule in scn.rules:
            n_triggers = sum(1 for e in group if (scn.by_description[e["source"]].key, e["event_type"]) == rule[0])
            n_children = sum(1 for e in group if (scn.by_description[e["source"]].key, e["event_type"]) == rule[1]
                             and e is not root)
            check(n_children <= n_triggers,
                  f"[{tag}] request {request_id}: {n_children} {rule[1]} children for {n_triggers} {rule[0]} triggers")
            if rule[2] >= 1:
                check(n_children == n_triggers,
                      f"[{tag}] request {request_id}: rule {rule[0]} -> {rule[1]} at 100 %: {n_triggers} triggers "
                      f"but {n_children} children")
        roots.append(root)
    return roots, children


def check_spread(tag, source, roots, scn):
    n = len(roots)
    if n < 200:
        return
    window = scn.end_ns - scn.start_ns
    xs = [(e["_ns"] - scn.start_ns) / window for e in roots]  # 0..1
    mean = sum(xs) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    dists = source.distributions()
    check(source.patterns() == {"24/7"}, f"[{tag}] a pattern the test does not check: {source.patterns()}")
    if dists == {"gaussian"}:
        sigma = 1 / 6
        expected_sd = sigma * 0.9866  # a normal clipped at 3 sigma
        check(abs(mean - 0.5) <= sc.SIGMAS * sigma / math.sqrt(n),
              f"[{tag}] {source.key}: gaussian roots centred at {mean:.4f} of the window, expected 0.5 "
              f"± {sc.SIGMAS * sigma / math.sqrt(n):.4f}")
        tol = sc.SIGMAS * expected_sd / math.sqrt(2 * n) + 0.01 * expected_sd
        check(abs(sd - expected_sd) <= tol,
              f"[{tag}] {source.key}: gaussian roots' stddev {sd:.4f} of the window, expected {expected_sd:.4f} "
              f"(a sixth, clipped) ± {tol:.4f}")
        inside = sum(1 for x in xs if abs(x - 0.5) <= sigma)
        lo, hi = sc.bound(n, 0.6845)
        check(lo <= inside <= hi, f"[{tag}] {source.key}: {inside} of {n} gaussian roots within one sigma of the "
                                  f"middle, expected {lo:.0f}..{hi:.0f}")
        h_log(f"[{tag}] {source.key}: {n} gaussian roots, mean {mean:.4f}, sd {sd:.4f} (of the window), "
              f"{inside / n:.3f} within 1 sigma")
    elif dists == {"random"}:
        uniform_sd = 1 / math.sqrt(12)
        check(abs(mean - 0.5) <= sc.SIGMAS * uniform_sd / math.sqrt(n),
              f"[{tag}] {source.key}: random roots centred at {mean:.4f} of the window, expected 0.5")
        tol = sc.SIGMAS * 0.45 * uniform_sd / math.sqrt(n) + 0.01 * uniform_sd
        check(abs(sd - uniform_sd) <= tol,
              f"[{tag}] {source.key}: random roots' stddev {sd:.4f} of the window, expected {uniform_sd:.4f} ± {tol:.4f}")
        bins = collections.Counter(min(int(x * 10), 9) for x in xs)
        lo, hi = sc.bound(n, 0.1)
        for b in range(10):
            check(lo <= bins[b] <= hi, f"[{tag}] {source.key}: {bins[b]} of {n} random roots in tenth {b} of the "
                                       f"window, expected {lo:.0f}..{hi:.0f} (uniform): {sorted(bins.items())}")
        h_log(f"[{tag}] {source.key}: {n} random roots, mean {mean:.4f}, sd {sd:.4f}, tenths {[bins[b] for b in range(10)]}")
    else:
        raise harness.TestFailure(f"[{tag}] {source.key}: distributions {dists} the test does not check")


ROW_LEAVES = [{"method", "http_method", "request_method", "verb"},
              {"status", "status_code", "statuscode", "response_code", "http_status"},
              {"id", "alternateid", "email", "login", "displayname", "name", "fullname", "username", "userid"}]


def drawn_in_rows(source, name):
    """Fields drawn with their siblings as one row (issue 18, core/value_rows.hpp):
    an HTTP method with its status (only pairs a server answers), identity
    lists paired by position. Their shares are the rows', not the list's."""
    parent, _, leaf = name.rpartition(".")
    leaf = leaf.lower()
    siblings = [n.rpartition(".")[2].lower() for n, spec in source.leaves.items()
                if n != name and n.rpartition(".")[0] == parent and isinstance(spec, dict) and spec.get("type") == "choice"]
    if leaf in ROW_LEAVES[0] or leaf in ROW_LEAVES[1]:
        other = ROW_LEAVES[1] if leaf in ROW_LEAVES[0] else ROW_LEAVES[0]
        return any(s in other for s in siblings)
    return leaf in ROW_LEAVES[2] and any(s in ROW_LEAVES[2] for s in siblings)


def check_values(tag, source, events):
    """Choices as often as their repeated values say (those drawn in rows
    aside); integers centred."""
    n = len(events)
    for name, spec in source.leaves.items():
        if not isinstance(spec, dict) or drawn_in_rows(source, name):
            continue
        if name.rpartition(".")[2].lower() in ("level", "severity", "log_level", "loglevel", "error_level"):
            continue  # drawn given the text beside it (core/level_agreement.hpp; e2e.levels_agree checks it)
        values = [sc.attr_at(e["attributes"], name) for e in events]
        if any(v is sc._MISSING for v in values):
            continue  # carried by some event types only
        if spec.get("type") in ("integer", "int") and name.rpartition(".")[2] in sc.NO_BODY_LEAVES:
            values = [v for v, e in zip(values, events)
                      if v != 0 or (e["attributes"].get("status") not in (204, 304) and e["attributes"].get("method") != "HEAD")]
        if spec.get("type") == "choice":
            weights = collections.Counter(repr(v) for v in spec["values"])
            total = sum(weights.values())
            if n * min(weights.values()) / total < 30:
                continue
            seen = collections.Counter(repr(v) for v in values)
            for value, w in weights.items():
                lo, hi = sc.bound(n, w / total)
                check(lo <= seen[value] <= hi,
                      f"[{tag}] {source.key}.{name} = {value}: {seen[value]} of {n}, expected {lo:.0f}..{hi:.0f} "
                      f"(weight {w} of {total})")
        elif spec.get("type") in ("integer", "int") and len(values) >= 100:
            a, b = spec.get("min", 0), spec.get("max", 100)
            sd = math.sqrt(((b - a + 1) ** 2 - 1) / 12)
            mean = sum(values) / len(values)
            check(abs(mean - (a + b) / 2) <= sc.SIGMAS * sd / math.sqrt(len(values)) + 0.5,
                  f"[{tag}] {source.key}.{name}: mean {mean:.1f} of {len(values)} uniform integers in [{a}, {b}]")


def check_file(h, name):
    tag = name.rsplit(".", 1)[0]
    scn = sc.Scenario(name)
    scale = sc.SCALES[name]
    out, summary, stderr = sc.run_file(h, name, tag)
    lines, events = sc.read_events(out)
    check(len(events) == summary["acked"],
          f"[{tag}] {out} holds {len(events)} events, superventd acknowledged {summary['acked']}")
    for pattern in EXPECTED_WARNINGS.get(name, []):
        check(re.search(pattern, stderr) is not None, f"[{tag}] no warning matching {pattern!r} on stderr:\n{stderr}")

    by_source = collections.defaultdict(list)
    last_ns = {}
    for event in events:
        where = f"[{tag}] {os.path.basename(out)}:{event['_line']}"
        source = sc.check_event_shape(scn, where, event)
        check(event["_ns"] >= last_ns.get(source.key, 0),
              f"{where}: {source.key} event at {event['_time']} after one of its source at a later time: "
              f"a source's events are written in time order")
        last_ns[source.key] = event["_ns"]
        by_source[source.key].append(event)

    roots, children = classify(scn, events, tag)
    roots_by_source = collections.defaultdict(list)
    for root in roots:
        roots_by_source[scn.by_description[root["source"]].key].append(root)
    for key, source in scn.sources.items():
        expected = source.scaled_roots(scale)
        got = roots_by_source[key]
        check(len(got) == expected,
              f"[{tag}] {key}: {len(got)} root events, expected exactly {expected} (the volume counts "
              f"{[e['count'] for e in source.volume]} times --scale {scale}, rounded, at least 1"
              f"{'; none: no root type' if not source.root_types else ''})")
        if len(source.root_types) > 1:
            per_type = collections.Counter(e["event_type"] for e in got)
            lo, hi = sc.bound(len(got), 1 / len(source.root_types))
            for t in source.root_types:
                check(lo <= per_type[t] <= hi, f"[{tag}] {key}: {per_type[t]} {t} roots of {len(got)}, expected "
                                               f"{lo:.0f}..{hi:.0f} (root types picked evenly): {dict(per_type)}")
        check_spread(tag, source, got, scn)
        check_values(tag, source, by_source[key])
    check(len({r["attributes"]["request_id"] for r in roots}) == len(roots), f"[{tag}] root request_ids repeat")

    # Dependency ratios and delays.
    all_counts = collections.Counter((scn.by_description[e["source"]].key, e["event_type"]) for e in events)
    ratios = {}
    for trigger, action, p in scn.rules:
        n_triggers = all_counts[trigger]
        kids = children[action]
        if p >= 1:
            check(len(kids) == n_triggers,
                  f"[{tag}] {trigger} -> {action} at 100 %: {n_triggers} triggers, {len(kids)} children")
        else:
            lo, hi = sc.bound(n_triggers, p)
            check(lo <= len(kids) <= hi,
                  f"[{tag}] {trigger} -> {action} at {p * 100:g} %: {len(kids)} children of {n_triggers} triggers, "
                  f"expected {max(lo, 0):.1f}..{hi:.1f}")
        for child, parent in kids:
            if parent is None:
                continue
            delta = child["_ns"] - parent["_ns"]
            check(1_000_000 <= delta <= 50_000_000 or child["_ns"] == scn.end_ns - 1,
                  f"[{tag}] line {child['_line']} comes {delta} ns after its trigger (line {parent['_line']}), "
                  f"expected the default hop of 1-50 ms (or the window's last nanosecond)")
        ratios[(trigger, action)] = (len(kids), n_triggers)
        h_log(f"[{tag}] {trigger[0]}.{trigger[1]} -> {action[0]}.{action[1]} at {p * 100:g} %: "
              f"{len(kids)} of {n_triggers}")
    h_log(f"[{tag}] {len(events)} events checked; roots {dict((k, len(v)) for k, v in roots_by_source.items())}")
    return scn, lines, events, ratios


def golden_lines(scn, lines, events):
    taken = collections.Counter()
    out = []
    for line, event in zip(lines, events):
        key = scn.by_description[event["source"]].key
        if taken[key] < GOLDEN_PER_SOURCE:
            taken[key] += 1
            out.append(line)
    return out


def check_golden(h, name, sample):
    path = os.path.join(sc.GOLDEN_DIR, name.rsplit(".", 1)[0] + ".ndjson")
    data = "".join(line + "\n" for line in sample)
    if UPDATE_GOLDEN:
        os.makedirs(sc.GOLDEN_DIR, exist_ok=True)
        with open(path, "w") as f:
            f.write(data)
        h.log(f"wrote {path} ({len(sample)} events)")
        return
    check(os.path.exists(path), f"no golden sample {path}: run scenario_files.py --update-golden")
    with open(path) as f:
        golden = f.read()
    if golden != data:
        want, got = golden.split("\n"), data.split("\n")
        first = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b), min(len(want), len(got)))
        raise harness.TestFailure(
            f"{name}: the first {GOLDEN_PER_SOURCE} events per source differ from {path} at line {first + 1}:\n"
            f"  golden: {want[first] if first < len(want) else '(none)'}\n"
            f"  now:    {got[first] if first < len(got) else '(none)'}\n"
            f"If generation changed on purpose, rerun with --update-golden and review the diff "
            f"(test/data/golden/README.md).")


def check_invalid(h):
    path = os.path.join(sc.CONFIG_DIR, sc.INVALID)
    out = h.path("invalid.ndjson")
    result = h.run("superventd-invalid", [h.bin("superventd"), "--config", path, "--scale", 0.001, "--seed", sc.SEED,
                                          "--workers", 1, "--sink", f"file:{out}",
                                          "--socket", h.path("invalid.sock")], timeout_s=30)
    check(result.rc == 2, f"{sc.INVALID}: superventd exited {result.rc}, expected 2 (invalid configuration)")
    match = re.search(r"invalid-deepseek\.yaml:(\d+)(:\d+)?: (.+)", result.stderr)
    check(match is not None, f"{sc.INVALID}: the error does not name FILE:LINE: {result.stderr!r}")
    h.log(f"{sc.INVALID} refused: {match.group(0)}")
    check(int(match.group(1)) == 36 and "anchor" in match.group(3),
          f"{sc.INVALID}: expected the undefined anchor *web_access at line 36 to be named: {match.group(0)}")
    check(not os.path.exists(out) or os.path.getsize(out) == 0, f"{sc.INVALID}: events were written")


WEEK_YAML = """\
# Derived from webaccess.yaml: no original file uses weekday or weekend, so
# this one checks them. The window runs Monday 2024-12-02 to Saturday noon
# 2024-12-14 in UTC+05:00, where the days are aligned.
start_time: "2024-12-01T19:00:00Z"
end_time: "2024-12-14T07:00:00Z"
timezone: "+05:00"
sources:
  weekday_web:
    description: "weekday web"
    attributes:
      status: {type: choice, values: [200, 404]}
    volume:
      - {pattern: weekday, count: 10000, distribution: random}
    event_types:
      - {type: access, format: "GET / {status}"}
  weekend_web:
    description: "weekend web"
    attributes:
      status: {type: choice, values: [200, 404]}
    volume:
      - {pattern: weekend, count: 3000, distribution: random}
    event_types:
      - {type: access, format: "GET / {status}"}
"""


def check_weekdays(h):
    """weekday/weekend volume lands only on those days (midnight to midnight in
    the scenario's time zone), spread evenly over them, never past the end."""
    path = h.path("week.yaml")
    with open(path, "w") as f:
        f.write(WEEK_YAML)
    out, summary, _ = sc.run_file(h, "webaccess.yaml", "week", config_path=path, scale=0.1)
    _, events = sc.read_events(out)
    offset = 5 * 3600 * 10**9
    start, end = sc.time_ns("2024-12-01T19:00:00Z"), sc.time_ns("2024-12-14T07:00:00Z")
    days = collections.defaultdict(collections.Counter)
    for event in events:
        check(start <= event["_ns"] < end, f"[week] line {event['_line']}: {event['_time']} outside the window")
        local_day = (event["_ns"] + offset) // (86400 * 10**9)
        weekday = (local_day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
        days[event["source"]][local_day] += 1
        if event["source"] == "weekday web":
            check(weekday < 5, f"[week] line {event['_line']}: a weekday event at {event['_time']}, day {weekday} "
                               f"(0 = Monday) in UTC+05:00")
        else:
            check(weekday >= 5, f"[week] line {event['_line']}: a weekend event at {event['_time']}, day {weekday} "
                                f"(0 = Monday) in UTC+05:00")
    weekday_counts, weekend_counts = days["weekday web"], days["weekend web"]
    check(sum(weekday_counts.values()) == 1000 and sum(weekend_counts.values()) == 300,
          f"[week] {sum(weekday_counts.values())} weekday and {sum(weekend_counts.values())} weekend events, "
          f"expected exactly 1000 and 300 (counts 10000 and 3000 at --scale 0.1)")
    # Ten whole weekdays share 1000; the weekend has Sat+Sun 7-8 Dec (whole)
    # and half of Sat 14 Dec: 2.5 days' worth, so 120, 120, 60.
    check(len(weekday_counts) == 10, f"[week] weekday events on {len(weekday_counts)} days, expected 10")
    for day, n in weekday_counts.items():
        lo, hi = sc.bound(1000, 0.1)
        check(lo <= n <= hi, f"[week] {n} weekday events on one day, expected {lo:.0f}..{hi:.0f}: {weekday_counts}")
    shares = sorted(weekend_counts.values())
    check(len(shares) == 3, f"[week] weekend events on {len(shares)} days, expected 3 (7, 8 and half of 14 Dec)")
    for n, p in zip(shares, (0.2, 0.4, 0.4)):
        lo, hi = sc.bound(300, p)
        check(lo <= n <= hi, f"[week] weekend days hold {shares}, expected about 60, 120, 120")
    h.log(f"[week] weekday per day {sorted(weekday_counts.values())}, weekend per day {shares}")


def h_log(text):
    print(text, flush=True)


def test(h):
    check_invalid(h)
    check_weekdays(h)
    results = {}
    for name in sc.valid_files():
        scn, lines, events, ratios = check_file(h, name)
        results[name] = (scn, events, ratios)
        check_golden(h, name, golden_lines(scn, lines, events))

    # sofi-spike.yaml overlays sofi.yaml: the same sources over Black Friday to
    # Cyber Monday 2024, with the order_create -> mysql error chain at 40 %
    # instead of 0.1 %.
    spike, spike_events, spike_ratios = results["sofi-spike.yaml"]
    base, base_events, base_ratios = results["sofi.yaml"]
    check(spike.start_ns == sc.time_ns("2024-11-28T23:14:20Z") and spike.end_ns == sc.time_ns("2024-12-02T21:33:40Z"),
          "sofi-spike.yaml's window is not 2024-11-28T23:14:20Z .. 2024-12-02T21:33:40Z")
    check(min(e["_ns"] for e in spike_events) >= spike.start_ns and max(e["_ns"] for e in spike_events) < spike.end_ns,
          "sofi-spike events outside its window")
    check(set(spike.sources) == set(base.sources), "sofi-spike.yaml has other sources than sofi.yaml")
    chain = (("app_server", "order_create"), ("mysql", "error"))
    kids, triggers = spike_ratios[chain]
    lo, hi = sc.bound(triggers, 0.4)
    check(lo <= kids <= hi and triggers >= 1000,
          f"sofi-spike: {kids} mysql errors of {triggers} order_create events, expected 40 % ({lo:.0f}..{hi:.0f})")
    base_kids, base_triggers = base_ratios[chain]
    h.log(f"error chain: sofi {base_kids}/{base_triggers} (0.1 %), sofi-spike {kids}/{triggers} ({kids / triggers:.1%})")


if __name__ == "__main__":
    harness.main(test)
