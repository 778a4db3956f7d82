"""A sluice plugin in Python: label events from a lookup table, drop a kind.

Config (JSON, from the transform's `config` table):
  {"labels": {"<agent id>": "<label>", ...}, "drop_kind": "reasoning"}

Each event whose `agent.id` is in `labels` gets that label appended to its
`labels` list; events of `drop_kind` are dropped; an event without `agent.id`
(one that did not go through agent-event first) fails: it goes to the
dead-letter output with the reason.
Build: ./build.sh  (componentize-py turns this file into a component)
"""

import json

import wit_world
from componentize_py_types import Err
from wit_world.imports import log


# componentize-py creates a fresh WitWorld object for each call, so the
# plugin's state lives at module level (one module per plugin instance).
LABELS: dict[str, str] = {}
DROP_KIND: str | None = None


def member(event: dict, group: str, key: str):
    """`event[group][key]`, or None when either is missing or not an object:
    an event of the wrong shape fails on its own, it must not trap the batch."""
    value = event.get(group)
    return value.get(key) if isinstance(value, dict) else None


class WitWorld(wit_world.WitWorld):
    def configure(self, config: str) -> None:
        global LABELS, DROP_KIND
        settings = json.loads(config or "{}")
        labels = settings.get("labels", {})
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise Err("config key `labels` must be a table of agent id = label")
        drop_kind = settings.get("drop_kind")
        if drop_kind is not None and not isinstance(drop_kind, str):
            raise Err("config key `drop_kind` must be a string")
        LABELS, DROP_KIND = labels, drop_kind
        log.log(log.Level.INFO, "python plugin ready", [("labels", str(len(labels)))])

    def process(self, batch: list[str]) -> list[wit_world.Outcome]:
        return [WitWorld.one(event) for event in batch]

    @staticmethod
    def one(text: str) -> wit_world.Outcome:
        try:
            event = json.loads(text)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            return wit_world.Outcome_Fail("event is not a JSON object")
        agent = member(event, "agent", "id")
        if not isinstance(agent, str):
            return wit_world.Outcome_Fail("event has no agent.id: run the agent-event plugin before this one")
        kind = member(event, "event", "kind")
        if DROP_KIND is not None and kind == DROP_KIND:
            return wit_world.Outcome_Drop()
        label = LABELS.get(agent)
        if label is None:
            return wit_world.Outcome_Keep(None)
        labels = event.get("labels")
        event["labels"] = (labels if isinstance(labels, list) else []) + [label]
        return wit_world.Outcome_Keep(json.dumps(event, separators=(",", ":")))
