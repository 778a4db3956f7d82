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
// The plugin declares the three fields it reads (Configure returns their
// paths), so the router finds them in each event: Process reads them with
// Event.Field and never parses a whole event, and answers a labelled event
// with one edit, which the router applies.
//
// Build: ./build.sh (Go for wasip1, then `sluice plugin wrap`).
package main

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	sluice "github.com/sluice-rs/sluice/plugins/sdk-go"
)

// Who the plugin is: `sluice plugin check` and the router's log show it.
const (
	name    = "label"
	version = "0.1.0"
)

func init() { sluice.Register(name, version, &labeller{}) }

// main is never called: the module is a library that the router calls into.
func main() {}

// The fields Process reads, in the order Event.Field numbers them.
var reads = []string{"agent.id", "event.kind", "labels"}

const (
	agentID = iota
	eventKind
	labelsField
)

type labeller struct {
	labels   map[string]string
	dropKind *string
}

func (l *labeller) Configure(config string) ([]string, error) {
	if strings.TrimSpace(config) == "" {
		config = "{}"
	}
	var settings map[string]any
	if err := json.Unmarshal([]byte(config), &settings); err != nil || settings == nil {
		return nil, errors.New("config must be a JSON object")
	}
	labels := map[string]string{}
	if raw, present := settings["labels"]; present {
		table, ok := raw.(map[string]any)
		if !ok {
			return nil, errors.New("config key `labels` must be a table of agent id = label")
		}
		for agent, label := range table {
			text, ok := label.(string)
			if !ok {
				return nil, errors.New("config key `labels` must be a table of agent id = label")
			}
			labels[agent] = text
		}
	}
	var dropKind *string
	if raw := settings["drop_kind"]; raw != nil {
		kind, ok := raw.(string)
		if !ok {
			return nil, errors.New("config key `drop_kind` must be a string")
		}
		dropKind = &kind
	}
	l.labels, l.dropKind = labels, dropKind
	sluice.Log(sluice.Info, "go plugin ready", "labels", strconv.Itoa(len(labels)))
	return reads, nil
}

func (l *labeller) Process(event sluice.Event) sluice.Outcome {
	// Text decodes a string only when it was written with escapes.
	agent, ok := event.Field(agentID).Text()
	if !ok {
		return sluice.Fail("event has no agent.id: run the agent-event plugin before this one")
	}
	if l.dropKind != nil {
		if kind, ok := event.Field(eventKind).Text(); ok && kind == *l.dropKind {
			return sluice.Drop()
		}
	}
	label, ok := l.labels[agent]
	if !ok {
		// Unchanged: nothing crosses back.
		return sluice.Keep()
	}
	// The event's labels array with the label appended, its own text kept
	// as it came; anything but an array becomes a list of this one label.
	current := ""
	if field := event.Field(labelsField); field.Kind() == sluice.KindArray {
		current = field.JSON()
	}
	return sluice.Edit(sluice.Set("labels", sluice.AppendString(current, label)))
}
