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
 * The plugin declares the three fields it reads (`configure` returns their
 * paths), so the router finds them in each event: `process` reads them at
 * their slots and never parses a whole event, and answers a labelled event
 * with one edit, which the router applies.
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

/* Who the plugin is (`metadata`): `sluice plugin check` and the router's log
 * show it. */
#define PLUGIN_NAME "label"
#define PLUGIN_VERSION "0.1.0"
/* The contract the bindings in gen/ were generated from. */
#define PLUGIN_CONTRACT "0.3.0"

#define NO_AGENT_ID "event has no agent.id: run the agent-event plugin before this one"

/* The fields `process` reads, in slot order. */
static const char *const READS[] = {"agent.id", "event.kind", "labels"};
enum { AGENT_ID, EVENT_KIND, LABELS_FIELD, READ_COUNT };

/* The kinds of a slot's value, as wit/plugin.wit numbers them. */
enum { SLOT_ABSENT, SLOT_STRING, SLOT_ESCAPED_STRING, SLOT_NUMBER, SLOT_BOOL, SLOT_NULL, SLOT_OBJECT, SLOT_ARRAY };

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

void exports_plugin_metadata(plugin_metadata_t *ret) {
    plugin_string_dup(&ret->name, PLUGIN_NAME);
    plugin_string_dup(&ret->version, PLUGIN_VERSION);
    plugin_string_dup(&ret->contract, PLUGIN_CONTRACT);
}

bool exports_plugin_configure(plugin_string_t *config, plugin_list_string_t *ret, plugin_string_t *err) {
    const char *reason = NULL;
    bool ok = load_config((const char *)config->ptr, config->len, &reason);
    plugin_string_free(config);
    if (!ok) {
        plugin_string_dup(err, reason);
        return false;
    }
    ret->len = READ_COUNT;
    ret->ptr = malloc(READ_COUNT * sizeof *ret->ptr);
    if (!ret->ptr) abort();
    for (size_t i = 0; i < READ_COUNT; i++) plugin_string_dup(&ret->ptr[i], READS[i]);
    log_ready();
    return true;
}

/* The label for this agent id (UTF-8), or NULL. */
static const text *label_for(const char *id, size_t len) {
    /* From the end: when the config repeats an agent id, the last one counts. */
    for (size_t i = LABEL_COUNT; i-- > 0;) {
        const text *agent = &LABELS[i].agent;
        if (agent->len == len && memcmp(agent->ptr, id, len) == 0) return &LABELS[i].label;
    }
    return NULL;
}

/* One event of the batch: where its declared fields are. */
typedef struct {
    const plugin_batch_t *batch;
    const uint32_t *slots; /* READ_COUNT times (start, length, kind) */
} event_t;

/* Declared field `i`: its JSON text in the batch, and its kind. */
static uint32_t field(event_t event, size_t i, json_span *value) {
    const uint32_t *slot = event.slots + 3 * i;
    *value = (json_span){(const char *)event.batch->text.ptr + slot[0], slot[1]};
    return slot[2];
}

/* Declared field `i` as a string, when it is one: the bytes between its
 * quotes, or, only when it was written with escapes, decoded into a buffer
 * that `*decoded` owns (free it). */
static bool string_field(event_t event, size_t i, text *out, char **decoded) {
    json_span value;
    *decoded = NULL;
    switch (field(event, i, &value)) {
    case SLOT_STRING:
        *out = (text){(char *)value.ptr + 1, value.len - 2};
        return true;
    case SLOT_ESCAPED_STRING:
        *decoded = malloc(value.len);
        if (!*decoded) abort();
        *out = (text){*decoded, json_decode_string(value, *decoded)};
        return true;
    default:
        return false;
    }
}

static void fail(plugin_outcome_t *outcome, const char *reason) {
    outcome->tag = PLUGIN_OUTCOME_FAIL;
    plugin_string_dup(&outcome->val.fail, reason);
}

/* `labels` set to the event's labels array (or none, when it is not an
 * array) with `label` appended. */
static void add_label(event_t event, const text *label, plugin_outcome_t *outcome) {
    json_span array;
    bool is_array = field(event, LABELS_FIELD, &array) == SLOT_ARRAY;
    size_t len;
    char *labels = json_array_append(is_array ? &array : NULL, label->ptr, label->len, &len);
    plugin_edit_t *edit = malloc(sizeof *edit);
    /* Out of memory traps the batch; the router replaces the instance. */
    if (!labels || !edit) abort();
    edit->tag = PLUGIN_EDIT_SET;
    plugin_string_dup(&edit->val.set.path, "labels");
    edit->val.set.value = (plugin_string_t){(uint8_t *)labels, len};
    outcome->tag = PLUGIN_OUTCOME_EDIT;
    outcome->val.edit = (plugin_list_edit_t){edit, 1};
}

static void handle(event_t event, plugin_outcome_t *outcome) {
    text id, kind;
    char *id_decoded, *kind_decoded;
    if (!string_field(event, AGENT_ID, &id, &id_decoded)) {
        fail(outcome, NO_AGENT_ID);
        return;
    }
    if (HAS_DROP_KIND && string_field(event, EVENT_KIND, &kind, &kind_decoded)) {
        bool dropped = kind.len == DROP_KIND.len && memcmp(kind.ptr, DROP_KIND.ptr, kind.len) == 0;
        free(kind_decoded);
        if (dropped) {
            free(id_decoded);
            outcome->tag = PLUGIN_OUTCOME_DROP;
            return;
        }
    }
    const text *label = label_for(id.ptr, id.len);
    free(id_decoded);
    if (label) {
        add_label(event, label, outcome);
    } else {
        /* keep: the router passes its own copy on; nothing crosses back. */
        outcome->tag = PLUGIN_OUTCOME_KEEP;
    }
}

void exports_plugin_process(plugin_batch_t *batch, plugin_list_outcome_t *ret) {
    size_t count = batch->ends.len;
    ret->len = count;
    ret->ptr = NULL;
    if (count) {
        ret->ptr = malloc(count * sizeof *ret->ptr);
        if (!ret->ptr) abort();
    }
    /* The router sends three numbers per declared field and event; anything
     * else would be read past its end. */
    bool fits = batch->slots.len == count * READ_COUNT * 3;
    for (size_t j = 0; j < count; j++) {
        if (!fits) {
            fail(&ret->ptr[j], "the batch's slots do not match the three fields this plugin declared");
            continue;
        }
        handle((event_t){batch, batch->slots.ptr + j * READ_COUNT * 3}, &ret->ptr[j]);
    }
    plugin_batch_free(batch);
}
