"""Check sluice's CEF output with an independent parser (PyPI's pycef).

Usage: cef_check.py CEF_FILE EVENTS_FILE
Line i of CEF_FILE is the CEF that sluice made of the canonical event on line
i of EVENTS_FILE. Every line must parse, and its fields must equal the
event's, per the default mapping of the `cef` plugin. Prints one summary line
and exits 1 on the first mismatch.
"""

import datetime
import json
import sys

import pycef


def unescape(value):
    """CEF extension unescaping: \\\\ \\= \\n \\r (pycef leaves them escaped)."""
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append({"n": "\n", "r": "\r"}.get(nxt, nxt))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def get(event, path):
    for part in path.split("."):
        if not isinstance(event, dict) or part not in event:
            return None
        event = event[part]
    return event


def custom_strings(fields):
    """csN values by their csNLabel (pycef itself renames csN to its label)."""
    labelled = {fields[f"cs{n}Label"]: fields.get(f"cs{n}") for n in range(1, 7) if f"cs{n}Label" in fields}
    return {**fields, **labelled}


def check(line, event):
    parsed = pycef.parse(line)
    assert parsed, f"pycef cannot parse: {line!r}"
    fields = {k: unescape(v) if isinstance(v, str) else v for k, v in parsed.items()}
    assert parsed["CEFVersion"] == "0", parsed
    assert parsed["DeviceEventClassID"] == get(event, "event.kind"), (parsed, event)
    expected = {
        "suid": get(event, "agent.id"),
        "suser": get(event, "agent.name") or get(event, "agent.id"),
        "duser": get(event, "delegation.on_behalf_of"),
        "act": get(event, "event.kind"),
        "externalId": (get(event, "event.id") or "")[:40] or None,
    }
    for key, want in expected.items():
        if want is not None:
            assert fields.get(key) == want, f"{key}: {fields.get(key)!r} != {want!r} in {line!r}"
    labels = custom_strings(fields)
    for label, path in [("tenant", "tenant.id"), ("session", "session.id"), ("tool", "tool.name")]:
        want = get(event, path)
        if want is not None:
            assert labels.get(label) == want, f"{label}: {labels.get(label)!r} != {want!r} in {line!r}"
    when = get(event, "time")
    if when and "rt" in fields:
        millis = int(datetime.datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp() * 1000)
        assert abs(int(fields["rt"]) - millis) <= 1, f"rt {fields['rt']} != {millis} for {when}"
    severity = int(parsed["Severity"])
    assert 0 <= severity <= 10, parsed


def main():
    cef_path, events_path = sys.argv[1], sys.argv[2]
    with open(cef_path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    with open(events_path, encoding="utf-8") as f:
        events = [json.loads(l) for l in f.read().splitlines()]
    assert len(lines) == len(events) > 0, (len(lines), len(events))
    for line, event in zip(lines, events):
        check(line, event)
    print(f"pycef: {len(lines)} CEF lines parsed and matched their events")


if __name__ == "__main__":
    main()
