"""A sluice plugin in Python: label events from a lookup table, drop a kind.

Config (JSON, from the transform's `config` table):
  {"labels": {"<agent id>": "<label>", ...}, "drop_kind": "reasoning"}

Each event whose `agent.id` is in `labels` gets that label appended to its
`labels` list; events of `drop_kind` are dropped; an event without `agent.id`
(one that did not go through agent-event first) fails: it goes to the
dead-letter output with the reason.

The plugin declares the three fields it reads (`configure` returns their
paths), so the router finds them in each event: `process` reads them where
the router located them and never parses a whole event, and answers a
labelled event with one edit, which the router applies.
Build: ./build.sh  (componentize-py turns this file into a component)
"""

import json
from collections.abc import Iterator

import wit_world
from componentize_py_types import Err
from wit_world.imports import log

# Who the plugin is (`metadata`): `sluice plugin check` and the router's log show it.
NAME = "label"
VERSION = "0.1.0"
# The contract that build.sh generates the bindings from.
CONTRACT = "0.3.0"

NO_AGENT_ID = "event has no agent.id: run the agent-event plugin before this one"

# The fields `process` reads, in slot order.
READS = ["agent.id", "event.kind", "labels"]
AGENT_ID, EVENT_KIND, LABELS_FIELD = range(len(READS))

# componentize-py creates a fresh WitWorld object for each call, so the
# plugin's state lives at module level (one module per plugin instance).
LABELS: dict[str, str] = {}
DROP_KIND: str | None = None


# Reading a batch: the helpers below are this file's part of the contract, and
# fit any plugin that declares the fields it reads.

# The kinds of a slot's value, as wit/plugin.wit numbers them.
ABSENT, STRING, ESCAPED_STRING, NUMBER, BOOL, NULL, OBJECT, ARRAY = range(8)


class Event:
    """One event of a batch: its JSON text, and the fields declared at
    `configure`, read where the router located them."""

    __slots__ = ("_batch", "_slot", "_start", "_end")

    def __init__(self, batch: wit_world.Batch, slot: int, start: int, end: int):
        self._batch = batch
        self._slot = slot  # where this event's slots begin in batch.slots
        self._start = start
        self._end = end

    def kind(self, i: int) -> int:
        """The kind of declared field `i` (ABSENT when the event lacks it)."""
        return self._batch.slots[self._slot + 3 * i + 2]

    def raw(self, i: int) -> bytes:
        """The JSON text of declared field `i` (empty when absent)."""
        at = self._slot + 3 * i
        start, length = self._batch.slots[at], self._batch.slots[at + 1]
        return self._batch.text[start : start + length]

    def string(self, i: int) -> str | None:
        """Declared field `i` when it is a string; only one written with
        escapes is decoded as JSON."""
        kind = self.kind(i)
        if kind == STRING:
            return self.raw(i)[1:-1].decode()
        if kind == ESCAPED_STRING:
            return json.loads(self.raw(i))
        return None

    def value(self, i: int):
        """Declared field `i` parsed as JSON, None when absent."""
        return json.loads(self.raw(i)) if self.kind(i) != ABSENT else None

    def text(self) -> str:
        """The whole event's JSON text."""
        return self._batch.text[self._start : self._end].decode()


def events(batch: wit_world.Batch, declared: int) -> Iterator[Event]:
    """The events of `batch`, for a plugin that declared `declared` fields
    (see `fits`)."""
    start = 0
    for j, end in enumerate(batch.ends):
        yield Event(batch, 3 * declared * j, start, end)
        start = end


def fits(batch: wit_world.Batch, declared: int) -> bool:
    """Whether the batch has the three slot numbers per event and declared
    field that the router sends: anything else would be misread."""
    return len(batch.slots) == 3 * declared * len(batch.ends)


class WitWorld(wit_world.WitWorld):
    def metadata(self) -> wit_world.Metadata:
        return wit_world.Metadata(NAME, VERSION, CONTRACT)

    def configure(self, config: str) -> list[str]:
        global LABELS, DROP_KIND
        try:
            settings = json.loads(config or "{}")
        except ValueError as err:
            raise Err(f"config is not JSON: {err}")
        if not isinstance(settings, dict):
            raise Err("config must be a table")
        labels = settings.get("labels", {})
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise Err("config key `labels` must be a table of agent id = label")
        drop_kind = settings.get("drop_kind")
        if drop_kind is not None and not isinstance(drop_kind, str):
            raise Err("config key `drop_kind` must be a string")
        LABELS, DROP_KIND = labels, drop_kind
        log.log(log.Level.INFO, "python plugin ready", [("labels", str(len(labels)))])
        return READS

    def process(self, batch: wit_world.Batch) -> list[wit_world.Outcome]:
        if not fits(batch, len(READS)):
            reason = "the batch's slots do not match the three fields this plugin declared"
            return [wit_world.Outcome_Fail(reason) for _ in batch.ends]
        return [WitWorld.one(event) for event in events(batch, len(READS))]

    @staticmethod
    def one(event: Event) -> wit_world.Outcome:
        agent = event.string(AGENT_ID)
        if agent is None:
            return wit_world.Outcome_Fail(NO_AGENT_ID)
        if DROP_KIND is not None and event.string(EVENT_KIND) == DROP_KIND:
            return wit_world.Outcome_Drop()
        label = LABELS.get(agent)
        if label is None:
            # Unchanged: nothing crosses back.
            return wit_world.Outcome_Keep()
        # Only the labels array is parsed; anything but an array becomes a
        # list of this one label.
        labels = event.value(LABELS_FIELD) if event.kind(LABELS_FIELD) == ARRAY else []
        value = json.dumps(labels + [label], separators=(",", ":"), ensure_ascii=False)
        return wit_world.Outcome_Edit([wit_world.Edit_Set(wit_world.Field("labels", value))])
