"""Shared by the scenario_* e2e tests (issue 6): runs superventd on the
original YAML scenario files (test/data/original-configs) and checks what it
wrote against what each file says, read here with PyYAML, independently of
the daemon's own loader.

The checks are statistical where the file says "random": the bounds are six
standard deviations (plus a small absolute slack for tiny counts), so a
correct generator fails them about never (p < 1e-8 per check) whatever the
seed, while a wrong spread, ratio or weighting (which moves a statistic by
tens of standard deviations at these sizes) fails them every time."""

import calendar
import decimal
import ipaddress
import json
import math
import os
import re

import yaml

import harness
from harness import check

CONFIG_DIR = os.path.join(harness.REPO_DIR, "test", "data", "original-configs")
GOLDEN_DIR = os.path.join(harness.REPO_DIR, "test", "data", "golden")

SEED = 42
# Each file's --scale: a thousandth where the counts are big, more where they
# are small, so every run has about 1,000 to 10,000 root events per source:
# enough for the statistics, small enough to run in well under a second.
SCALES = {
    "3tier.yaml": 1,            # 1,000 roots (and 2,000 dependents)
    "config.yaml": 0.01,        # 10,000 roots: the 0.1 % error rule expects 10
    "ec2.yaml": 0.001,
    "k8s.yaml": 0.001,
    "mysql.yaml": 0.1,          # count 10,000
    "nested_okta.yaml": 10,     # count 100
    "nodejs.yaml": 0.001,
    "okta.yaml": 10,            # count 100
    "rds.yaml": 0.001,
    "sofi.yaml": 0.001,
    "sofi-spike.yaml": 0.001,
    "webaccess.yaml": 0.001,    # count 10,000,000
}
INVALID = "invalid-deepseek.yaml"
SIGMAS = 6.0

RFC3339_NS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$")
PLACEHOLDER = re.compile(r"\{\{([^{}]+)\}\}|\{([^{}]+)\}")
PRIVATE_V4 = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
EVENT_KEYS = ["_time", "source", "event_type", "message", "attributes"]


def valid_files():
    names = sorted(n for n in os.listdir(CONFIG_DIR) if n.endswith((".yaml", ".yml")) and n != INVALID)
    check(set(names) == set(SCALES),
          f"test/data/original-configs holds {names}; SCALES lists {sorted(SCALES)}: give every file a scale")
    return names


def load_yaml(name):
    with open(os.path.join(CONFIG_DIR, name)) as f:
        return yaml.safe_load(f)


_seconds_cache = {}


def time_ns(text):
    """Nanoseconds since the epoch for an RFC 3339 UTC time, or None."""
    match = RFC3339_NS.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    prefix = text[:19]
    seconds = _seconds_cache.get(prefix)
    if seconds is None:
        seconds = calendar.timegm(tuple(int(g) for g in match.groups()[:6]))
        _seconds_cache[prefix] = seconds
    fraction = match.group(7) or ""
    return seconds * 1_000_000_000 + int(fraction.ljust(9, "0") or 0)


def strftime_ns(ns, fmt):
    """The event time in a strftime format with %L = milliseconds (truncated)."""
    seconds, rest = divmod(ns, 1_000_000_000)
    tm = __import__("time").gmtime(seconds)
    out = fmt.replace("%L", f"{rest // 1_000_000:03d}")
    return __import__("time").strftime(out, tm)


SPEC_KEYS = {"type", "values", "weights", "min", "max", "generator", "format", "precision", "cidrs", "length",
             "distribution", "mean", "stddev", "description"}


def is_attribute_spec(value):
    """{type: choice, values: [...]}, not a nested schema that has a leaf named type."""
    return isinstance(value, dict) and isinstance(value.get("type"), str) and set(value) <= SPEC_KEYS


# The model of one file, as the README describes it ---------------------------

class Source:
    def __init__(self, key, node, top):
        self.key = key
        self.description = node.get("description")
        self.dataset = node.get("dataset")
        self.types = {}           # name -> (format, root)
        self.structures = set()
        self.structure_of = {}    # event type -> its attribute_structure
        self.structure_leaves = {}
        for entry in node.get("event_types") or []:
            self.types[entry["type"]] = (entry["format"], entry.get("create_from_scratch", True) is not False)
            if entry.get("attribute_structure"):
                self.structures.add(entry["attribute_structure"])
                self.structure_of[entry["type"]] = entry["attribute_structure"]
        self.root_types = [t for t, (_, root) in self.types.items() if root]
        self.volume = node.get("volume") or []
        # Leaf specs by dotted path: a typed spec dict, or a nested leaf type string.
        self.leaves = {}
        attributes = node.get("attributes") or {}
        for name, spec in attributes.items():
            if name in self.structures and isinstance(spec, dict) and not is_attribute_spec(spec):
                before = set(self.leaves)
                self._flatten("", spec)   # a structure's fields are the source's own
                sub = {}
                self._flatten_into(sub, "", spec)
                self.structure_leaves[name] = set(sub)
            elif is_attribute_spec(spec):
                self.leaves[name] = spec
            else:
                self._flatten(name + ".", spec)
        # Attributes written beside `attributes` (config.yaml's database_server).
        for name, spec in node.items():
            if name not in ("attributes", "event_types", "volume", "description", "dataset") and \
                    is_attribute_spec(spec) and name not in self.leaves:
                self.leaves[name] = spec
        self.nested = bool(self.structures)

    def _flatten_into(self, out, prefix, node):
        if isinstance(node, dict) and not is_attribute_spec(node):
            for k, v in node.items():
                self._flatten_into(out, f"{prefix}{k}.", v)
        else:
            out[prefix[:-1]] = node

    def _flatten(self, prefix, node):
        if isinstance(node, dict) and not is_attribute_spec(node):
            for k, v in node.items():
                self._flatten(f"{prefix}{k}.", v)
        else:
            self.leaves[prefix[:-1]] = node

    def has_roots(self):
        return bool(self.root_types) and bool(self.volume)

    def scaled_roots(self, scale):
        if not self.root_types:
            return 0  # the loader drops volume of a source without root types (with a warning)
        total = 0
        for entry in self.volume:
            count = int(entry["count"])
            if count > 0:
                total += max(1, round_half_away(count * scale))
        return total

    def distributions(self):
        return {str(e.get("distribution", "random")) for e in self.volume}

    def patterns(self):
        return {str(e.get("pattern", "24/7")) for e in self.volume}


def round_half_away(x):
    return int(math.floor(x + 0.5))


class Scenario:
    def __init__(self, name):
        self.name = name
        self.doc = load_yaml(name)
        self.start_ns = time_ns(self.doc["start_time"])
        self.end_ns = time_ns(self.doc["end_time"])
        self.sources = {key: Source(key, node, self.doc) for key, node in self.doc["sources"].items()}
        self.by_description = {}
        for source in self.sources.values():
            check(source.description not in self.by_description,
                  f"{name}: two sources share the description {source.description!r}: events cannot be told apart")
            self.by_description[source.description] = source
        self.rules = []
        for dep in self.doc.get("dependencies") or []:
            self.rules.append(((dep["trigger"]["source"], dep["trigger"]["event_type"]),
                               (dep["action"]["source"], dep["action"]["event_type"]),
                               float(dep["action"].get("percentage", 100)) / 100))
        actions = [r[1] for r in self.rules]
        check(len(actions) == len(set(actions)),
              f"{name}: the checks assume one rule per action type; {actions}")
        self.rule_by_action = {r[1]: r for r in self.rules}


# Reading a run ---------------------------------------------------------------

def read_events(path):
    """(lines, events): the raw lines and the parsed events (floats as Decimal,
    so a value renders in a message exactly as written in the JSON)."""
    with open(path, "rb") as f:
        data = f.read()
    check(data.endswith(b"\n"), f"{path} does not end with a newline")
    lines = data.decode("utf-8").split("\n")[:-1]
    events = []
    for number, line in enumerate(lines, 1):
        try:
            event = json.loads(line, parse_float=decimal.Decimal)
        except ValueError as error:
            raise harness.TestFailure(f"{path}:{number} is not JSON ({error}): {line[:300]}")
        check(isinstance(event, dict) and list(event) == EVENT_KEYS,
              f"{path}:{number}: expected exactly the keys {EVENT_KEYS} in that order, got {list(event)}: {line[:300]}")
        event["_ns"] = time_ns(event["_time"])
        check(event["_ns"] is not None, f"{path}:{number}: _time {event['_time']!r} is not RFC 3339 UTC")
        event["_line"] = number
        events.append(event)
    return lines, events


def run_file(h, name, tag, extra=(), config_path=None, scale=None):
    """superventd --config FILE --scale S --seed 42 --workers 1 --sink file:OUT;
    checks exit 0 and the summary (every event acknowledged); returns
    (output path, summary, stderr)."""
    out = h.path(f"{tag}.ndjson")
    config_path = config_path or os.path.join(CONFIG_DIR, name)
    scale = SCALES[name] if scale is None else scale
    result = h.run(f"superventd-{tag}", [h.bin("superventd"), "--config", config_path, "--scale", scale,
                                         "--seed", SEED, "--workers", 1, "--sink", f"file:{out}",
                                         "--socket", h.path(f"{tag}.sock")] + list(extra), timeout_s=60)
    check(result.rc == 0, f"[{tag}] superventd exited {result.rc}, expected 0 (a backfill ends once every event "
                          f"is acknowledged); stderr:\n{result.stderr[-3000:]}")
    summary = harness.require_summary(result.stderr)
    check(summary["generated"] == summary["acked"] and summary["failed"] == 0 and summary["in_flight"] == 0,
          f"[{tag}] summary {summary}: a finished backfill has generated == acknowledged, 0 failed, 0 in flight")
    return out, summary, result.stderr


# The checks ------------------------------------------------------------------

def attr_at(attributes, dotted):
    node = attributes
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


_MISSING = object()


def flatten(attributes, prefix=""):
    out = {}
    for k, v in attributes.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def text_of(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def same_type(a, b):
    """A choice value keeps its YAML type: 200 stays a number, '200' a string."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str)
    return True


def check_leaf(where, name, spec, value, event):
    if isinstance(spec, dict):
        kind = spec.get("type")
        if kind == "choice":
            values = spec["values"]
            check(any(value == v and same_type(value, v) for v in values),
                  f"{where}: attribute {name} = {value!r} ({type(value).__name__}) is not one of the file's values "
                  f"(with their YAML types) {values[:8]}{'...' if len(values) > 8 else ''}")
        elif kind in ("integer", "int"):
            lo, hi = spec.get("min", 0), spec.get("max", 100)
            attributes = event["attributes"]
            if name in NO_BODY_LEAVES and (attributes.get("method") == "HEAD" or attributes.get("status") in (204, 304)):
                lo = 0  # no body on HEAD, 204 and 304 (issue 18)
            check(isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi,
                  f"{where}: attribute {name} = {value!r} is not an integer in [{lo}, {hi}]")
        elif kind == "string" and spec.get("generator") == "client_ip":
            check(isinstance(value, str), f"{where}: attribute {name} = {value!r} is not a string")
            address = ipaddress.ip_address(value)
            check(address.version == 4 and any(address in n for n in PRIVATE_V4),
                  f"{where}: attribute {name} = {value} is not a private IPv4 address (10/8, 172.16/12, 192.168/16)")
        elif kind == "timestamp":
            expected = strftime_ns(event["_ns"], spec["format"])
            check(value == expected,
                  f"{where}: attribute {name} = {value!r}, expected the event time {event['_time']} in "
                  f"{spec['format']!r}: {expected!r}")
        else:
            raise harness.TestFailure(f"{where}: the test does not know attribute type {kind!r} of {name}")
    else:  # a nested schema leaf
        if spec in ("string", "str"):
            empty_ok = name.endswith(".reason")  # a SUCCESS has no reason (issue 18)
            check(isinstance(value, str) and (value or empty_ok) and value == value.strip() and '"' not in value,
                  f"{where}: string leaf {name} = {value!r}")
        elif spec in ("ipv4", "ip"):
            check(isinstance(value, str) and ipaddress.ip_address(value).version == 4,
                  f"{where}: ipv4 leaf {name} = {value!r}")
        elif spec == "email":
            check(isinstance(value, str) and re.fullmatch(r"[a-z0-9._+-]+@[a-z0-9.-]+\.[a-z]+", value) is not None,
                  f"{where}: email leaf {name} = {value!r}")
        elif spec in ("float", "number", "double"):
            check(isinstance(value, (decimal.Decimal, int)) and not isinstance(value, bool),
                  f"{where}: float leaf {name} = {value!r} is not a number")
            leaf = name.rsplit(".", 1)[-1]
            bound = 90 if leaf == "lat" else 180 if leaf == "lon" else None
            if bound is not None:
                check(-bound <= value <= bound, f"{where}: {name} = {value} outside ±{bound}")
        elif spec in ("integer", "int"):
            check(isinstance(value, int) and not isinstance(value, bool), f"{where}: integer leaf {name} = {value!r}")
        else:
            raise harness.TestFailure(f"{where}: the test does not know leaf type {spec!r} of {name}")


def natural_time(template, placeholder, ns):
    """{timestamp} without a format, as it reads where it stands (UTC runs):
    Apache's form in an access line, else RFC 3339 with milliseconds."""
    seconds, rest = divmod(ns, 1_000_000_000)
    tm = __import__("time").gmtime(seconds)
    if f"[{placeholder}]" in template and ('"{method}' in template or '"{{method}}' in template):
        return __import__("time").strftime("%d/%b/%Y:%H:%M:%S +0000", tm)
    return __import__("time").strftime("%Y-%m-%dT%H:%M:%S.", tm) + f"{rest // 1_000_000:03d}Z"


NO_BODY_LEAVES = {"bytes", "body_bytes", "bytes_sent", "body_bytes_sent", "response_bytes", "response_size", "size",
                  "content_length"}


def carried(source, event_type):
    """The declared attributes an event of this type carries (issue 18): the
    ones its template names, and either its attribute_structure's fields or
    the ones no template of the source names."""
    template = source.types[event_type][0]
    own = {(m.group(1) or m.group(2)).strip() for m in PLACEHOLDER.finditer(template)}
    named = {(m.group(1) or m.group(2)).strip() for f, _ in source.types.values() for m in PLACEHOLDER.finditer(f)}
    structure = source.structure_of.get(event_type)
    if structure is not None:
        rest = set(source.structure_leaves.get(structure, ()))
    else:
        rest = {n for n in source.leaves if n not in named and n.rpartition(".")[2] not in ("message", "msg")}
    return {n for n in source.leaves if n in own or n in rest}


def render(where, template, source, event):
    """The message the template means for this event's attributes."""
    attributes = event["attributes"]

    def substitute(match):
        name = (match.group(1) or match.group(2)).strip()
        if name == "timestamp" and "timestamp" not in source.leaves:
            return natural_time(template, match.group(0), event["_ns"])
        value = attr_at(attributes, name)
        check(value is not _MISSING, f"{where}: placeholder {{{name}}} has no attribute {name} in the event")
        return text_of(value)
    return PLACEHOLDER.sub(substitute, template)


def check_event_shape(scn, where, event):
    """One event against its source's declaration; returns the Source."""
    source = scn.by_description.get(event["source"])
    check(source is not None, f"{where}: source {event['source']!r} is no source description of {scn.name}")
    check(event["event_type"] in source.types,
          f"{where}: event_type {event['event_type']!r} is not a type of source {source.key} ({list(source.types)})")
    check(scn.start_ns <= event["_ns"] < scn.end_ns,
          f"{where}: _time {event['_time']} outside the window [{scn.doc['start_time']}, {scn.doc['end_time']})")
    attributes = event["attributes"]
    check(isinstance(attributes, dict), f"{where}: attributes is not an object")
    request_id = attributes.get("request_id")
    check(isinstance(request_id, str) and re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", request_id) is not None,
          f"{where}: attributes.request_id {request_id!r} is not a UUID v4")
    flat = flatten(attributes)
    flat.pop("request_id")
    # Every declared attribute its type carries, and nothing else (a nested
    # source may add the placeholders its structures leave out, generated
    # from their names).
    expected_names = carried(source, event["event_type"])
    missing = [n for n in expected_names if n not in flat]
    check(not missing, f"{where}: attributes {missing} declared for {source.key} are missing")
    extra = [n for n in flat if n not in expected_names]
    if source.nested:
        placeholders = {(m.group(1) or m.group(2)).strip() for f, _ in source.types.values()
                        for m in PLACEHOLDER.finditer(f)}
        extra = [n for n in extra if n not in placeholders]
    check(not extra, f"{where}: attributes {extra} are not declared for {source.key}")
    for name, spec in source.leaves.items():
        if name in flat:
            check_leaf(where, name, spec, flat[name], event)
    template = source.types[event["event_type"]][0]
    expected = render(where, template, source, event)
    message = event["message"]
    check(message == expected, f"{where}: message\n  {message!r}\nexpected (the template {template!r} filled in)\n"
                               f"  {expected!r}")
    check("{{" not in message and "}}" not in message, f"{where}: a {{{{placeholder}}}} left in {message!r}")
    check('""' not in message, f"{where}: a doubled quote in {message!r}")
    return source


def bound(n, p, sigmas=SIGMAS, slack=3):
    """[lo, hi] for a binomial count with n trials and probability p."""
    mean = n * p
    width = sigmas * math.sqrt(n * p * (1 - p)) + slack
    return mean - width, mean + width
