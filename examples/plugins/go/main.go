// A sluice plugin in Go: label events from a lookup table, drop a kind.
//
// Config (JSON, from the transform's `config` table):
//
//	{"labels": {"<agent id>": "<label>", ...}, "drop_kind": "reasoning"}
//
// Each event whose `agent.id` is in `labels` gets that label appended to its
// `labels` list; events of `drop_kind` are dropped; an event without
// `agent.id` (one that did not go through agent-event first) fails: it goes
// to the dead-letter output with the reason.
//
// Build: ./build.sh (Go for wasip1, then `sluice plugin wrap`).
package main

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"label/sluice"
)

func init() { sluice.Register(&labeller{}) }

// main is never called: the module is a library that the router calls into.
func main() {}

type labeller struct {
	labels   map[string]string
	dropKind *string
}

func (l *labeller) Configure(config string) error {
	if strings.TrimSpace(config) == "" {
		config = "{}"
	}
	var settings map[string]any
	if err := json.Unmarshal([]byte(config), &settings); err != nil || settings == nil {
		return errors.New("config must be a JSON object")
	}
	labels := map[string]string{}
	if raw, present := settings["labels"]; present {
		table, ok := raw.(map[string]any)
		if !ok {
			return errors.New("config key `labels` must be a table of agent id = label")
		}
		for agent, label := range table {
			text, ok := label.(string)
			if !ok {
				return errors.New("config key `labels` must be a table of agent id = label")
			}
			labels[agent] = text
		}
	}
	var dropKind *string
	if raw := settings["drop_kind"]; raw != nil {
		kind, ok := raw.(string)
		if !ok {
			return errors.New("config key `drop_kind` must be a string")
		}
		dropKind = &kind
	}
	l.labels, l.dropKind = labels, dropKind
	sluice.Log(sluice.Info, "go plugin ready", "labels", strconv.Itoa(len(labels)))
	return nil
}

func (l *labeller) Process(text string) sluice.Outcome {
	// The event is read in place (see sluice.ParseObject): decoding it with
	// encoding/json into a map[string]any would be about 20 times slower.
	event, ok := sluice.ParseObject(text)
	if !ok {
		return sluice.Fail("event is not a JSON object")
	}
	agent, ok := event.Lookup("agent", "id").Text()
	if !ok {
		return sluice.Fail("event has no agent.id: run the agent-event plugin before this one")
	}
	if l.dropKind != nil {
		if kind, ok := event.Lookup("event", "kind").Text(); ok && kind == *l.dropKind {
			return sluice.Drop()
		}
	}
	label, ok := l.labels[agent]
	if !ok {
		return sluice.Keep()
	}
	// Only the labels array changes; every other byte stays as it came.
	return sluice.Replace(event.AppendToArray("labels", label))
}
