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
	"bytes"
	"encoding/json"
	"errors"
	"io"
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
	event, ok := parseObject(text)
	if !ok {
		return sluice.Fail("event is not a JSON object")
	}
	agent, ok := field(event, "agent", "id").(string)
	if !ok {
		return sluice.Fail("event has no agent.id: run the agent-event plugin before this one")
	}
	if kind, ok := field(event, "event", "kind").(string); ok && l.dropKind != nil && kind == *l.dropKind {
		return sluice.Drop()
	}
	label, ok := l.labels[agent]
	if !ok {
		return sluice.Keep()
	}
	labels, _ := event["labels"].([]any)
	event["labels"] = append(labels, label)
	var out bytes.Buffer
	encoder := json.NewEncoder(&out)
	// The event is data, not HTML: keep <, > and & as they came.
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(event); err != nil {
		return sluice.Fail("cannot encode the labelled event: " + err.Error())
	}
	return sluice.Replace(strings.TrimSuffix(out.String(), "\n"))
}

// parseObject decodes an event, keeping the fields this plugin does not know
// about; numbers stay json.Number so that large integers survive unchanged.
func parseObject(text string) (map[string]any, bool) {
	decoder := json.NewDecoder(strings.NewReader(text))
	decoder.UseNumber()
	var event map[string]any
	if err := decoder.Decode(&event); err != nil || event == nil {
		return nil, false
	}
	// Decode stops after the first value; anything after it is not JSON.
	if _, err := decoder.Token(); err != io.EOF {
		return nil, false
	}
	return event, true
}

// field follows a path of object keys, giving nil where one is missing or
// is not an object.
func field(event map[string]any, path ...string) any {
	var value any = event
	for _, key := range path {
		object, ok := value.(map[string]any)
		if !ok {
			return nil
		}
		value = object[key]
	}
	return value
}
