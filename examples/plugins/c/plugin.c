/* plugin.c: a sluice plugin in C: label events from a lookup table, drop a kind.
 *
 * Config (JSON, from the transform's `config` table):
 *   {"labels": {"<agent id>": "<label>", ...}, "drop_kind": "reasoning"}
 *
 * Each event whose `agent.id` is in `labels` gets that label appended to its
 * `labels` list; events of `drop_kind` are dropped; an event without
 * `agent.id` (one that did not go through agent-event first) fails: it goes
 * to the dead-letter output with the reason.
 *
 * Build: ./build.sh  (sluice writes the bindings in gen/, clang-16 compiles,
 * `sluice plugin wrap` makes the component)
 *
 * Ownership, as wit-bindgen's C bindings have it: an export owns its
 * arguments and frees them; what it returns must be malloc'd, because the
 * bindings free it after the router has copied it out (so even a constant
 * failure reason is duplicated). Arguments to an import stay the caller's.
 */
#include "gen/plugin.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

#define NOT_AN_OBJECT "event is not a JSON object"
#define NO_AGENT_ID "event has no agent.id: run the agent-event plugin before this one"

/* A string decoded from the config: UTF-8, and may hold NUL, hence the length. */
typedef struct {
    char *ptr;
    size_t len;
} text;

typedef struct {
    text agent, label;
} label_rule;

/* The state of this instance, set by configure (the router makes one
 * instance per worker, and configure runs in each). */
static label_rule *LABELS;
static size_t LABEL_COUNT;
static bool HAS_DROP_KIND;
static text DROP_KIND;

static text decode(json_span string) {
    text t = {malloc(string.len), 0};
    if (!t.ptr) abort();
    t.len = json_decode_string(string, t.ptr);
    return t;
}

static void free_labels(label_rule *labels, size_t count) {
    for (size_t i = 0; i < count; i++) {
        free(labels[i].agent.ptr);
        free(labels[i].label.ptr);
    }
    free(labels);
}

/* Reads `labels` into a new table; false when it is not a table of strings. */
static bool read_labels(json_span labels, label_rule **out, size_t *count) {
    if (json_type_of(labels) != JSON_OBJECT) return false;
    json_members it = json_members_of(labels);
    json_span key, value;
    size_t n = 0;
    while (json_next_member(&it, &key, &value)) {
        if (json_type_of(value) != JSON_STRING) return false;
        n++;
    }
    label_rule *table = calloc(n ? n : 1, sizeof *table);
    if (!table) abort();
    it = json_members_of(labels);
    for (size_t i = 0; json_next_member(&it, &key, &value); i++) {
        table[i].agent = decode(key);
        table[i].label = decode(value);
    }
    *out = table;
    *count = n;
    return true;
}

/* Checks the config and installs it; on refusal sets `*reason` (a constant). */
static bool load_config(const char *config, size_t len, const char **reason) {
    json_span settings;
    if (len == 0) {  /* the router sends {} when there is no config, but be lenient */
        config = "{}";
        len = 2;
    }
    if (!json_parse_object(config, len, &settings)) {
        *reason = "config must be a JSON object";
        return false;
    }

    label_rule *labels = NULL;
    size_t count = 0;
    json_span value;
    if (json_get(settings, "labels", 6, &value) && !read_labels(value, &labels, &count)) {
        *reason = "config key `labels` must be a table of agent id = label";
        return false;
    }
    /* `drop_kind = null` (possible in JSON, not in TOML) means no drop_kind. */
    bool has_drop_kind = json_get(settings, "drop_kind", 9, &value) && json_type_of(value) != JSON_NULL;
    if (has_drop_kind && json_type_of(value) != JSON_STRING) {
        free_labels(labels, count);
        *reason = "config key `drop_kind` must be a string";
        return false;
    }

    free_labels(LABELS, LABEL_COUNT);
    free(DROP_KIND.ptr);
    LABELS = labels;
    LABEL_COUNT = count;
    HAS_DROP_KIND = has_drop_kind;
    DROP_KIND = has_drop_kind ? decode(value) : (text){NULL, 0};
    return true;
}

static void log_ready(void) {
    /* The count in decimal, without pulling printf into the module. */
    char digits[24];
    size_t at = sizeof digits, n = LABEL_COUNT;
    do {
        digits[--at] = (char)('0' + n % 10);
        n /= 10;
    } while (n);

    plugin_tuple2_string_string_t field;
    plugin_string_set(&field.f0, "labels");
    field.f1 = (plugin_string_t){(uint8_t *)digits + at, sizeof digits - at};
    plugin_list_tuple2_string_string_t fields = {&field, 1};
    plugin_string_t message;
    plugin_string_set(&message, "c plugin ready");
    sluice_plugin_log_log(SLUICE_PLUGIN_LOG_LEVEL_INFO, &message, &fields);
}

bool exports_plugin_configure(plugin_string_t *config, plugin_string_t *err) {
    const char *reason = NULL;
    bool ok = load_config((const char *)config->ptr, config->len, &reason);
    plugin_string_free(config);
    if (!ok) {
        plugin_string_dup(err, reason);
        return false;
    }
    log_ready();
    return true;
}

/* The label for this agent id (a checked JSON string), or NULL. */
static const text *label_for(json_span agent_id) {
    char *id = malloc(agent_id.len);
    if (!id) abort();
    size_t len = json_decode_string(agent_id, id);
    const text *found = NULL;
    /* From the end: when the config repeats an agent id, the last one counts. */
    for (size_t i = LABEL_COUNT; i-- > 0 && !found;) {
        const text *agent = &LABELS[i].agent;
        if (agent->len == len && memcmp(agent->ptr, id, len) == 0) found = &LABELS[i].label;
    }
    free(id);
    return found;
}

/* `parent.key`, when `parent` is an object that has it, with that type. */
static bool get_typed(json_span parent, const char *key, json_type type, json_span *value) {
    return json_type_of(parent) == JSON_OBJECT && json_get(parent, key, strlen(key), value) &&
           json_type_of(*value) == type;
}

static void fail(plugin_outcome_t *outcome, const char *reason) {
    outcome->tag = PLUGIN_OUTCOME_FAIL;
    plugin_string_dup(&outcome->val.fail, reason);
}

static void handle(const plugin_event_t *event, plugin_outcome_t *outcome) {
    json_span object, agent, id, ev, kind;
    if (!json_parse_object((const char *)event->ptr, event->len, &object)) {
        fail(outcome, NOT_AN_OBJECT);
        return;
    }
    if (!get_typed(object, "agent", JSON_OBJECT, &agent) || !get_typed(agent, "id", JSON_STRING, &id)) {
        fail(outcome, NO_AGENT_ID);
        return;
    }
    if (HAS_DROP_KIND && get_typed(object, "event", JSON_OBJECT, &ev) && get_typed(ev, "kind", JSON_STRING, &kind) &&
        json_string_equals(kind, DROP_KIND.ptr, DROP_KIND.len)) {
        outcome->tag = PLUGIN_OUTCOME_DROP;
        return;
    }
    outcome->tag = PLUGIN_OUTCOME_KEEP;
    const text *label = label_for(id);
    if (!label) {
        /* keep(none): the router passes its own copy on; nothing crosses back. */
        outcome->val.keep.is_some = false;
        return;
    }
    size_t len;
    char *labelled = json_append_to_array(object, "labels", 6, label->ptr, label->len, &len);
    /* Out of memory traps the batch; the router replaces the instance. */
    if (!labelled) abort();
    outcome->val.keep.is_some = true;
    outcome->val.keep.val = (plugin_string_t){(uint8_t *)labelled, len};
}

void exports_plugin_process(plugin_list_event_t *batch, plugin_list_outcome_t *ret) {
    ret->len = batch->len;
    ret->ptr = NULL;
    if (batch->len) {
        ret->ptr = malloc(batch->len * sizeof *ret->ptr);
        if (!ret->ptr) abort();
    }
    for (size_t i = 0; i < batch->len; i++) handle(&batch->ptr[i], &ret->ptr[i]);
    plugin_list_event_free(batch);
}
