/* json.c: the strict JSON reader and writer of the C example plugin (see
 * json.h). The reader is a set of "skip" functions that each check one value
 * and return the position just after it, or NULL when the text is malformed:
 * checking an event, finding a member and walking an object are all built on
 * them. All positions are bounded by an explicit end, never by a NUL, because
 * strings from the component model are not NUL-terminated.
 */
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_value(const char *p, const char *end, int depth);

static const char *skip_space(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* The four hex digits of a \u escape, or -1. */
static long hex4(const char *p, const char *end) {
    if (end - p < 4) return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
              : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Reads the \u escape at `p` (at the backslash), pairing UTF-16 surrogates
 * into one code point. A lone surrogate has no UTF-8 form, so it is refused
 * here rather than turned into something the sender did not write. Returns
 * the position after the escape, or NULL. */
static const char *read_unicode_escape(const char *p, const char *end, uint32_t *code) {
    long hi = hex4(p + 2, end);
    if (hi < 0) return NULL;
    p += 6;
    if (hi >= 0xDC00 && hi <= 0xDFFF) return NULL;
    if (hi < 0xD800 || hi > 0xDBFF) {
        *code = (uint32_t)hi;
        return p;
    }
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return NULL;
    long lo = hex4(p + 2, end);
    if (lo < 0xDC00 || lo > 0xDFFF) return NULL;
    *code = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
    return p + 6;
}

/* `p` is at the opening quote. */
static const char *skip_string(const char *p, const char *end) {
    p++;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c < 0x20) return NULL;
        if (c != '\\') {
            p++;
            continue;
        }
        if (end - p < 2) return NULL;
        switch (p[1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            p += 2;
            break;
        case 'u': {
            uint32_t code;
            p = read_unicode_escape(p, end, &code);
            if (!p) return NULL;
            break;
        }
        default:
            return NULL;
        }
    }
    return NULL;
}

static const char *skip_digits(const char *p, const char *end) {
    const char *start = p;
    while (p < end && *p >= '0' && *p <= '9') p++;
    return p > start ? p : NULL;
}

/* RFC 8259's number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static const char *skip_number(const char *p, const char *end) {
    if (p < end && *p == '-') p++;
    if (p < end && *p == '0') {
        p++;  /* no leading zeros: "01" ends after the 0 and is then refused */
    } else if (!(p = skip_digits(p, end))) {
        return NULL;
    }
    if (p < end && *p == '.' && !(p = skip_digits(p + 1, end))) return NULL;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (!(p = skip_digits(p, end))) return NULL;
    }
    return p;
}

static const char *skip_word(const char *p, const char *end, const char *word) {
    size_t n = strlen(word);
    return (size_t)(end - p) >= n && memcmp(p, word, n) == 0 ? p + n : NULL;
}

/* `p` is at '{' or '['; both are a list of items between brackets, the
 * object's items being `"key": value`. */
static const char *skip_container(const char *p, const char *end, int depth) {
    char close = *p == '{' ? '}' : ']';
    p = skip_space(p + 1, end);
    if (p < end && *p == close) return p + 1;
    for (;;) {
        if (close == '}') {
            if (p >= end || *p != '"' || !(p = skip_string(p, end))) return NULL;
            p = skip_space(p, end);
            if (p >= end || *p != ':') return NULL;
            p = skip_space(p + 1, end);
        }
        if (!(p = skip_value(p, end, depth + 1))) return NULL;
        p = skip_space(p, end);
        if (p >= end) return NULL;
        if (*p == close) return p + 1;
        if (*p != ',') return NULL;
        p = skip_space(p + 1, end);
    }
}

/* `p` is at the first byte of a value (whitespace already skipped). */
static const char *skip_value(const char *p, const char *end, int depth) {
    if (p >= end || depth > JSON_MAX_DEPTH) return NULL;
    switch (*p) {
    case '{': case '[': return skip_container(p, end, depth);
    case '"': return skip_string(p, end);
    case 't': return skip_word(p, end, "true");
    case 'f': return skip_word(p, end, "false");
    case 'n': return skip_word(p, end, "null");
    default:  return *p == '-' || (*p >= '0' && *p <= '9') ? skip_number(p, end) : NULL;
    }
}

bool json_parse_object(const char *text, size_t len, json_span *object) {
    const char *end = text + len;
    const char *p = skip_space(text, end);
    if (p >= end || *p != '{') return false;
    const char *after = skip_value(p, end, 0);
    if (!after || skip_space(after, end) != end) return false;
    *object = (json_span){p, (size_t)(after - p)};
    return true;
}

json_type json_type_of(json_span value) {
    switch (value.ptr[0]) {
    case '{': return JSON_OBJECT;
    case '[': return JSON_ARRAY;
    case '"': return JSON_STRING;
    case 't': return JSON_TRUE;
    case 'f': return JSON_FALSE;
    case 'n': return JSON_NULL;
    default:  return JSON_NUMBER;
    }
}

json_members json_members_of(json_span object) {
    return (json_members){object.ptr + 1, object.ptr + object.len};
}

bool json_next_member(json_members *it, json_span *key, json_span *value) {
    const char *p = skip_space(it->p, it->end);
    if (p < it->end && *p == ',') p = skip_space(p + 1, it->end);
    /* The object was checked, so anything but a key here is its closing '}';
     * the NULL checks only keep a wrongly passed span from being overrun. */
    if (p >= it->end || *p != '"') return false;
    const char *k = p;
    if (!(p = skip_string(p, it->end))) return false;
    *key = (json_span){k, (size_t)(p - k)};
    p = skip_space(p, it->end);
    if (p >= it->end || *p != ':') return false;
    const char *v = skip_space(p + 1, it->end);
    if (!(p = skip_value(v, it->end, 1))) return false;
    *value = (json_span){v, (size_t)(p - v)};
    it->p = p;
    return true;
}

bool json_get(json_span object, const char *key, size_t key_len, json_span *value) {
    json_members it = json_members_of(object);
    json_span k, v;
    bool found = false;
    while (json_next_member(&it, &k, &v)) {
        if (json_string_equals(k, key, key_len)) {
            *value = v;
            found = true;
        }
    }
    return found;
}

static size_t put_utf8(uint32_t code, char *out) {
    if (code < 0x80) {
        out[0] = (char)code;
        return 1;
    }
    if (code < 0x800) {
        out[0] = (char)(0xC0 | code >> 6);
        out[1] = (char)(0x80 | (code & 0x3F));
        return 2;
    }
    if (code < 0x10000) {
        out[0] = (char)(0xE0 | code >> 12);
        out[1] = (char)(0x80 | (code >> 6 & 0x3F));
        out[2] = (char)(0x80 | (code & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | code >> 18);
    out[1] = (char)(0x80 | (code >> 12 & 0x3F));
    out[2] = (char)(0x80 | (code >> 6 & 0x3F));
    out[3] = (char)(0x80 | (code & 0x3F));
    return 4;
}

size_t json_decode_string(json_span string, char *out) {
    const char *p = string.ptr + 1, *end = string.ptr + string.len - 1;
    size_t n = 0;
    while (p < end) {
        if (*p != '\\') {
            out[n++] = *p++;
            continue;
        }
        char c = p[1];
        if (c == 'u') {
            uint32_t code = 0;
            p = read_unicode_escape(p, end, &code);
            if (!p) return n;  /* unreachable for a checked string */
            n += put_utf8(code, out + n);
            continue;
        }
        out[n++] = c == 'b' ? '\b' : c == 'f' ? '\f' : c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
        p += 2;
    }
    return n;
}

bool json_string_equals(json_span string, const char *utf8, size_t len) {
    const char *body = string.ptr + 1;
    size_t body_len = string.len - 2;
    /* Almost every key is written without escapes: compare the text itself. */
    if (!memchr(body, '\\', body_len)) return body_len == len && memcmp(body, utf8, len) == 0;
    if (len >= body_len) return false;  /* an escape always decodes shorter */
    char *decoded = malloc(string.len);
    if (!decoded) abort();
    size_t n = json_decode_string(string, decoded);
    bool equal = n == len && memcmp(decoded, utf8, len) == 0;
    free(decoded);
    return equal;
}

size_t json_encode_string(const char *utf8, size_t len, char *out) {
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
#define PUT(c) do { if (out) out[n] = (c); n++; } while (0)
    PUT('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)utf8[i];
        const char *short_escape = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n"
                                 : c == '\r' ? "\\r" : c == '\t' ? "\\t" : c == '\b' ? "\\b"
                                 : c == '\f' ? "\\f" : NULL;
        if (short_escape) {
            PUT(short_escape[0]);
            PUT(short_escape[1]);
        } else if (c < 0x20) {
            PUT('\\'); PUT('u'); PUT('0'); PUT('0'); PUT(hex[c >> 4]); PUT(hex[c & 0xF]);
        } else {
            PUT((char)c);  /* other bytes, UTF-8 sequences included, need no escape */
        }
    }
    PUT('"');
#undef PUT
    return n;
}

char *json_array_append(const json_span *array, const char *value, size_t value_len, size_t *out_len) {
    /* A string grows at most sixfold when encoded (\u00XX): keep the size
     * computation below from overflowing. */
    size_t kept = array ? array->len : 2;
    if (value_len > (SIZE_MAX - kept - 8) / 6) return NULL;

    /* The new text is the array up to its ']', a comma when it has items,
     * the encoded value, and the ']'. */
    const char *head = array ? array->ptr : "[";
    size_t head_len = array ? array->len - 1 : 1;
    bool empty = skip_space(head + 1, head + head_len) == head + head_len;
    size_t cap = head_len + 1 + json_encode_string(value, value_len, NULL) + 1;
    char *text = malloc(cap);
    if (!text) return NULL;
    memcpy(text, head, head_len);
    size_t n = head_len;
    if (!empty) text[n++] = ',';
    n += json_encode_string(value, value_len, text + n);
    text[n++] = ']';
    *out_len = n;
    return text;
}
