#!/usr/bin/python3
"""tests/support/metrics_check.py — is this a well-formed Prometheus text exposition (format 0.0.4)?

Usage: metrics_check.py [FILE]   (standard input without FILE)

The exposition is parsed by the reference parser, prometheus_client.parser.text_string_to_metric_families
(Debian 12's python3-prometheus-client), so a misreading of the format cannot be shared by cjcrawl's writer
and this checker. The reference parser is lenient where Prometheus's own scraper and promtool are not, so
these are checked line by line as well:
  * every family has its # HELP and # TYPE before its first sample, and neither is given twice;
  * a family's samples are together (no family appears twice);
  * metric and label names are valid, no label is named twice on a sample, and no sample (name and label
    set) is repeated;
  * a sample belongs to the family declared (a histogram's _bucket, _sum and _count; a summary's _sum and
    _count);
  * counters end in _total;
  * histogram buckets are cumulative in increasing `le`, end at +Inf, and +Inf equals _count; _sum is there.

On success prints {"families": {name: type}, "samples": [{"name", "labels", "value"}]} as JSON (the
reference parser's samples; a value that is not finite is a string, "+Inf", "-Inf" or "NaN") and exits 0.
On failure prints each problem on standard error, "line N: what", and exits 1.
"""

import json
import math
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


class Problems:
    def __init__(self):
        self.found = []

    def add(self, line_number, text):
        self.found.append(f"line {line_number}: {text}")


def parse_labels(text, line_number, problems):
    """The label pairs of `{...}` (without the braces), unescaped; None when they cannot be read."""
    labels = []
    at = 0
    while at < len(text):
        while at < len(text) and text[at] in " ,":
            at += 1
        if at >= len(text):
            break
        equals = text.find("=", at)
        if equals < 0 or equals + 1 >= len(text) or text[equals + 1] != '"':
            problems.add(line_number, f"a label without =\"value\": {text[at:]!r}")
            return None
        name = text[at:equals].strip()
        value = []
        at = equals + 2
        while at < len(text) and text[at] != '"':
            if text[at] == "\\":
                if at + 1 >= len(text) or text[at + 1] not in '\\"n':
                    problems.add(line_number, f"label {name}: a backslash escapes only \\\\, \\\" and \\n")
                    return None
                value.append({"\\": "\\", '"': '"', "n": "\n"}[text[at + 1]])
                at += 2
            else:
                value.append(text[at])
                at += 1
        if at >= len(text):
            problems.add(line_number, f"label {name}: unterminated value")
            return None
        at += 1
        labels.append((name, "".join(value)))
    return labels


def split_sample(line, line_number, problems):
    """(name, labels, value text) of a sample line, or None."""
    match = re.match(r"^([^\s{]+)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?\s*$", line)
    if not match:
        problems.add(line_number, f"not a sample: {line!r}")
        return None
    labels = parse_labels(match.group(3) or "", line_number, problems) if match.group(2) else []
    if labels is None:
        return None
    return match.group(1), labels, match.group(4)


def parse_value(text):
    """A sample value or an `le`: a float, +Inf, -Inf or NaN. ValueError otherwise."""
    special = {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}
    return special[text] if text in special else float(text)


def family_of(sample_name, declared):
    """The declared family a sample name belongs to, or None."""
    if sample_name in declared and declared[sample_name] not in SUFFIXES:
        return sample_name
    for family, kind in declared.items():
        for suffix in SUFFIXES.get(kind, ()):
            if sample_name == family + suffix:
                return family
    return None


def strict_checks(text):
    problems = Problems()
    helps, types = {}, {}
    finished = set()  # families whose samples ended (another family's came after)
    sampled = set()  # families with a sample so far
    current = None
    seen_series = set()
    histograms = {}  # (family, labels without le) → {"buckets": [(le, count, line)], "count": n, "sum": bool}
    if text and not text.endswith("\n"):
        problems.add(text.count("\n") + 1, "the exposition must end with a newline")
    for line_number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not METRIC_NAME.match(name):
                    problems.add(line_number, f"invalid metric name {name!r}")
                table = helps if parts[1] == "HELP" else types
                if name in table:
                    problems.add(line_number, f"# {parts[1]} {name} given twice")
                if name in sampled:
                    problems.add(line_number, f"# {parts[1]} {name} after its samples")
                if parts[1] == "TYPE":
                    kind = parts[3].strip() if len(parts) > 3 else ""
                    if kind not in TYPES:
                        problems.add(line_number, f"{name}: unknown type {kind!r}")
                    if kind == "counter" and not name.endswith("_total"):
                        problems.add(line_number, f"counter {name} does not end in _total")
                    table[name] = kind
                else:
                    table[name] = parts[3] if len(parts) > 3 else ""
            continue
        split = split_sample(line, line_number, problems)
        if split is None:
            continue
        name, labels, value_text = split
        if not METRIC_NAME.match(name):
            problems.add(line_number, f"invalid metric name {name!r}")
        family = family_of(name, types)
        if family is None:
            problems.add(line_number, f"sample {name} before (or without) the # TYPE of its family")
            continue
        if family not in helps:
            problems.add(line_number, f"sample {name} before (or without) the # HELP of {family}")
        if family != current:
            if current is not None:
                finished.add(current)
            if family in finished:
                problems.add(line_number, f"family {family} appears twice (its samples are not together)")
            current = family
        sampled.add(family)
        names = [label for label, _ in labels]
        for label in names:
            if not LABEL_NAME.match(label) or label.startswith("__"):
                problems.add(line_number, f"{name}: invalid label name {label!r}")
        if len(set(names)) != len(names):
            problems.add(line_number, f"{name}: a label named twice")
        series = (name, tuple(sorted(labels)))
        if series in seen_series:
            problems.add(line_number, f"{name}{dict(labels)}: the same label set twice")
        seen_series.add(series)
        try:
            value = parse_value(value_text)
        except ValueError:
            problems.add(line_number, f"{name}: not a number: {value_text!r}")
            continue
        if types[family] == "counter" and (math.isnan(value) or value < 0):
            problems.add(line_number, f"counter {name} is {value_text}")
        if types[family] == "histogram":
            others = tuple(sorted((k, v) for k, v in labels if k != "le"))
            state = histograms.setdefault((family, others), {"buckets": [], "count": None, "sum": False, "line": line_number})
            if name.endswith("_bucket"):
                le = dict(labels).get("le")
                if le is None:
                    problems.add(line_number, f"{name} without le")
                    continue
                try:
                    state["buckets"].append((parse_value(le), value, line_number))
                except ValueError:
                    problems.add(line_number, f"{name}: le={le!r} is not a number")
            elif name.endswith("_count"):
                state["count"] = value
            elif name.endswith("_sum"):
                state["sum"] = True
    for (family, others), state in histograms.items():
        where = f"{family}{dict(others)}"
        buckets = sorted(state["buckets"], key=lambda bucket: bucket[0])
        if not buckets or buckets[-1][0] != math.inf:
            problems.add(state["line"], f"{where}: no +Inf bucket")
            continue
        for (_, lower_count, _), (le, count, line_number) in zip(buckets, buckets[1:]):
            if count < lower_count:
                problems.add(line_number, f"{where}: bucket le={le} holds {count}, fewer than the bucket below ({lower_count}): buckets are cumulative")
        if state["count"] is None:
            problems.add(state["line"], f"{where}: no _count")
        elif state["count"] != buckets[-1][1]:
            problems.add(state["line"], f"{where}: _count {state['count']} is not the +Inf bucket's {buckets[-1][1]}")
        if not state["sum"]:
            problems.add(state["line"], f"{where}: no _sum")
    return problems.found, types


def shown(value):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return value


def main():
    text = open(sys.argv[1], encoding="utf-8").read() if len(sys.argv) > 1 else sys.stdin.read()
    problems, types = strict_checks(text)
    samples = []
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples.append({"name": sample.name, "labels": dict(sample.labels), "value": shown(sample.value)})
    except Exception as error:  # the reference parser refuses it
        problems.append(f"the reference parser refuses it: {error}")
    if problems:
        for problem in problems:
            print(f"metrics_check: {problem}", file=sys.stderr)
        return 1
    json.dump({"families": types, "samples": samples}, sys.stdout, allow_nan=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
