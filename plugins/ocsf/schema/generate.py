#!/usr/bin/env python3
"""Regenerate the pinned OCSF JSON Schemas that the `ocsf` plugin's tests validate against.

Reads the OCSF schema export bundled in the PyPI package `ocsf-json-schema` (see README.md), and
writes one JSON Schema (draft 2020-12, referenced objects embedded under `$defs`) per class the
plugin emits, plus `captions.json`: the OCSF captions of the enum values the plugin writes beside
their ids (`activity_name`, `type_name`, `severity`, `status` ...), so the tests check those too.

Usage: python3 generate.py            (from any directory; writes next to this file)
"""

import json
import pathlib

from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

VERSION = "1.8.0"
# The classes the plugin emits; keep in step with `Class` in src/vocabulary.rs.
CLASSES = ["api_activity", "datastore_activity", "authentication", "application_lifecycle", "detection_finding"]
# The profiles the plugin applies, where a class admits them (`metadata.profiles` lists the same).
PROFILES = ["ai_operation", "security_control", "trace"]
# Enum attributes whose caption the plugin writes in a sibling string.
CAPTIONED = ["class_uid", "category_uid", "activity_id", "type_uid", "severity_id", "status_id", "action_id",
             "disposition_id"]
# Enum attributes of objects the plugin fills, likewise.
OBJECT_CAPTIONED = {"message_context": ["ai_role_id"], "user": ["type_id"], "database": ["type_id"],
                    "agent": ["type_id"]}

here = pathlib.Path(__file__).resolve().parent
raw = get_ocsf_schema(VERSION)
assert raw["version"] == VERSION, raw["version"]
generator = OcsfJsonSchemaEmbedded(raw)

captions = {"version": VERSION, "classes": {}}
for name in CLASSES:
    definition = raw["classes"][name]
    profiles = [p for p in PROFILES if p in definition["profiles"]]
    schema = generator.get_class_schema(name, profiles)
    (here / f"{name}.json").write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
    attributes = definition["attributes"]
    captions["classes"][name] = {
        "uid": definition["uid"],
        "profiles": profiles,
        "enums": {
            attr: {value: entry["caption"] for value, entry in sorted(attributes[attr]["enum"].items())}
            for attr in CAPTIONED
            if attr in attributes
        },
    }
captions["objects"] = {}
for name, attrs in OBJECT_CAPTIONED.items():
    attributes = raw["objects"][name]["attributes"]
    captions["objects"][name] = {
        attr: {value: entry["caption"] for value, entry in sorted(attributes[attr]["enum"].items())} for attr in attrs
    }
(here / "captions.json").write_text(json.dumps(captions, indent=1, sort_keys=True) + "\n")
print(f"wrote {len(CLASSES)} class schemas and captions.json for OCSF {VERSION}")
