#!/usr/bin/env python3
"""e2e.scenario_convert (issue 6): `supervent-ctl convert FILE.yaml` prints
TOML that runs the very same events. For every original file (sofi.yaml,
nested_okta.yaml and config.yaml among them), the YAML and its conversion,
each run with the same --scale, seed 42 and one worker into a file sink,
write byte-identical files; the conversion's notes are TOML comments, and
convert exits 0. invalid-deepseek.yaml does not convert (non-zero, FILE:LINE)."""

import os

import harness
from harness import check
import scenario_common as sc


def test(h):
    names = sc.valid_files()
    for must in ("sofi.yaml", "nested_okta.yaml", "config.yaml"):
        check(must in names, f"{must} missing from test/data/original-configs")
    for name in names:
        tag = name.rsplit(".", 1)[0]
        converted = h.run(f"convert-{tag}", [h.bin("supervent-ctl"), "convert", os.path.join(sc.CONFIG_DIR, name)],
                          timeout_s=30)
        check(converted.rc == 0, f"supervent-ctl convert {name} exited {converted.rc}: {converted.stderr}")
        toml = h.path(f"{tag}.toml")
        with open(toml, "w") as f:
            f.write(converted.stdout)
        check("[sources." in converted.stdout, f"convert {name}: no [sources.*] table in\n{converted.stdout[:2000]}")
        yaml_out, yaml_summary, _ = sc.run_file(h, name, f"{tag}-yaml")
        toml_out, toml_summary, _ = sc.run_file(h, name, f"{tag}-toml", config_path=toml)
        with open(yaml_out, "rb") as f:
            a = f.read()
        with open(toml_out, "rb") as f:
            b = f.read()
        if a != b:
            la, lb = a.split(b"\n"), b.split(b"\n")
            first = next((i for i, (x, y) in enumerate(zip(la, lb)) if x != y), min(len(la), len(lb)))
            raise harness.TestFailure(
                f"{name}: the YAML and its TOML conversion ran different events ({len(la) - 1} vs {len(lb) - 1} "
                f"lines), first difference at line {first + 1}:\n"
                f"  yaml: {la[first][:400] if first < len(la) else b'(none)'}\n"
                f"  toml: {lb[first][:400] if first < len(lb) else b'(none)'}\n(TOML kept in {toml})")
        check(yaml_summary == toml_summary, f"{name}: summaries differ: {yaml_summary} vs {toml_summary}")
        h.log(f"{name}: YAML and converted TOML wrote the same {len(a)} bytes ({yaml_summary['acked']} events)")

    bad = h.run("convert-invalid", [h.bin("supervent-ctl"), "convert", os.path.join(sc.CONFIG_DIR, sc.INVALID)],
                timeout_s=30)
    check(bad.rc != 0 and "invalid-deepseek.yaml:36" in bad.stderr,
          f"convert {sc.INVALID}: exit {bad.rc}, expected non-zero and FILE:LINE on stderr: {bad.stderr!r}")


if __name__ == "__main__":
    harness.main(test)
