"""A small backfill scenario for the tests that need one with two sources
(two datasets) and a dependency rule: web's hits cause audit events five
minutes later in one case of ten; db's queries cause nothing."""


def two_source_backfill(roots, rate=None, count_divisor=2):
    """The scenario as TOML: `roots` root events over one day, half web
    (hit) and half db (query), each source's volume count roots //
    count_divisor; `rate` (events/s) in [generation] when given."""
    count = roots // count_divisor
    rate_line = f"rate = {rate}\n" if rate is not None else ""
    return f"""
[generation]
start = "2024-01-01T00:00:00Z"
end = "2024-01-02T00:00:00Z"
{rate_line}
[sources.web]
dataset = "web"
[sources.web.fields.n]
type = "integer"
min = 1
max = 999999
[[sources.web.event_types]]
name = "hit"
message = "web {{n}}"
[[sources.web.event_types]]
name = "audit"
root = false
message = "audit {{n}}"
[[sources.web.volume]]
count = {count}

[sources.db]
dataset = "db"
[sources.db.fields.n]
type = "integer"
min = 1
max = 999999
[[sources.db.event_types]]
name = "query"
message = "db {{n}}"
[[sources.db.volume]]
count = {count}

[[scenario.dependencies]]
trigger_source = "web"
trigger_type = "hit"
action_source = "web"
action_type = "audit"
percentage = 10
delay = {{ distribution = "fixed", mean = "5m" }}
"""
