/* json.h: the small JSON reader and writer that the C example plugin needs.
 *
 * C has no JSON in its standard library, and no JSON library is packaged for
 * wasm32, so the example carries its own. The plugin reads its config with it
 * and decodes the few event values it reads, which the router located and
 * checked (the slots of the fields it declared); it writes the one value it
 * changes. It never builds a tree: a value is a span of the text it was read
 * from, checked once by json_parse_object (or by the router) and then read in
 * place.
 *
 * It follows RFC 8259 strictly and rejects what it does not accept rather than
 * guess: no comments, no trailing commas, no NaN, no single quotes, no raw
 * control characters in strings, no lone UTF-16 surrogates in \u escapes.
 * The text is taken to be valid UTF-8, which the component model guarantees
 * for every string that crosses the boundary.
 */
#ifndef SLUICE_EXAMPLE_JSON_H
#define SLUICE_EXAMPLE_JSON_H

#include <stdbool.h>
#include <stddef.h>

/* Deeper nesting is rejected, so that hostile input cannot exhaust the stack
 * of the recursive reader. */
#define JSON_MAX_DEPTH 512

/* One JSON value: its bytes in the text it was read from, not a copy. */
typedef struct {
    const char *ptr;
    size_t len;
} json_span;

typedef enum {
    JSON_OBJECT,
    JSON_ARRAY,
    JSON_STRING,
    JSON_NUMBER,
    JSON_TRUE,
    JSON_FALSE,
    JSON_NULL,
} json_type;

/* Whether `text` is exactly one JSON object, with nothing but whitespace
 * around it; if so, `*object` is set to it. Every other function here expects
 * values found inside such an object, already checked. */
bool json_parse_object(const char *text, size_t len, json_span *object);

/* The type of a checked value, which its first byte tells. */
json_type json_type_of(json_span value);

/* Walks the members of a checked object, in order. */
typedef struct {
    const char *p, *end;
} json_members;

json_members json_members_of(json_span object);

/* The next member: its key (a string value, quotes included) and its value.
 * False when there are no more. */
bool json_next_member(json_members *it, json_span *key, json_span *value);

/* The member `key` (UTF-8, `key_len` bytes) of a checked object. When a key
 * appears more than once the last one counts, as in most JSON parsers
 * (Python's among them), so that every reader of the event agrees. */
bool json_get(json_span object, const char *key, size_t key_len, json_span *value);

/* Decodes a checked string value into UTF-8 at `out`, which needs room for
 * `string.len` bytes (decoding never lengthens a string). Returns the number
 * of bytes written; they may include NUL (from \u0000), so use the length. */
size_t json_decode_string(json_span string, char *out);

/* Whether a checked string value decodes to exactly these UTF-8 bytes. */
bool json_string_equals(json_span string, const char *utf8, size_t len);

/* Writes `utf8` as a JSON string value, quotes included, at `out` (when not
 * NULL), and returns its length. Needs at most 2 + 6 * len bytes. */
size_t json_encode_string(const char *utf8, size_t len, char *out);

/* The JSON text of a checked `array` with the string `value` appended after
 * its last item, or of the array `["value"]` when `array` is NULL. The
 * array's own text is kept byte for byte. Returns a malloc'd buffer of
 * `*out_len` bytes, or NULL when memory runs out. */
char *json_array_append(const json_span *array, const char *value, size_t value_len, size_t *out_len);

#endif
