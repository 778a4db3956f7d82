/* json_test.c: native checks of json.c, the example plugin's JSON helper.
 *
 * Built for the host, not for wasm, so that it runs anywhere a C compiler
 * does (tests/languages/c.rs runs it; by hand:
 *   clang-16 -g -fsanitize=address,undefined json_test.c json.c -o json_test && ./json_test).
 * Every input is copied into a buffer of its exact size without a NUL, as
 * strings from the component model are, so that a sanitizer catches any read
 * past the end.
 */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                      \
    do {                                                                 \
        if (!(cond)) {                                                   \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                  \
        }                                                                \
    } while (0)

/* A copy of `s` without its NUL, in a buffer of exactly its length. */
static char *exact(const char *s) {
    size_t n = strlen(s);
    char *p = malloc(n ? n : 1);
    memcpy(p, s, n);
    return p;
}

static bool is_object(const char *s) {
    char *buf = exact(s);
    json_span o;
    bool ok = json_parse_object(buf, strlen(s), &o);
    free(buf);
    return ok;
}

/* Parses `s` (which must be an object) and returns it; the caller frees o.ptr's buffer via `buf`. */
static json_span parse(const char *s, char **buf) {
    *buf = exact(s);
    json_span o = {0};
    CHECK(json_parse_object(*buf, strlen(s), &o));
    return o;
}

static void test_validation(void) {
    const char *good[] = {
        "{}", " \t\r\n{}\n", "{\"a\":1}", "{\"a\":[1,2,{\"b\":null}],\"c\":true,\"d\":false}",
        "{\"n\":[0,-0,1.5,-2.5e+3,1E9,1e-2,123]}", "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}",
        "{\"\":\"\"}", "{\"a\":\"caf\xc3\xa9\"}", "{ \"a\" : [ ] , \"b\" : { } }",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        if (!is_object(good[i])) fprintf(stderr, "refused valid %s\n", good[i]), failures++;
    }
    const char *bad[] = {
        "", "   ", "[]", "[1]", "\"s\"", "1", "null", "not json", "{", "}", "{\"a\"}", "{\"a\":}",
        "{\"a\":1,}", "{,\"a\":1}", "{\"a\":1 \"b\":2}", "{a:1}", "{'a':1}", "{\"a\":[1,]}",
        "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":1e}", "{\"a\":+1}", "{\"a\":-}", "{\"a\":NaN}",
        "{\"a\":tru}", "{\"a\":nul}", "{\"a\":True}", "{\"a\":\"x}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\u12g4\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\\u0041\"}",
        "{\"a\":\"tab\there\"}", "{\"a\":\"nl\nhere\"}", "{} {}", "{}x", "{\"a\":1}}", "{\"a\":[}",
        "{\"a\":\"\\", "{\"a\":\"\\u", "{\"a\":1", "{\"a\":-", "{\"a\":t",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (is_object(bad[i])) fprintf(stderr, "accepted invalid %s\n", bad[i]), failures++;
    }

    /* Nesting: up to JSON_MAX_DEPTH is fine, one more is refused. */
    for (int extra = 0; extra <= 1; extra++) {
        int depth = JSON_MAX_DEPTH + extra;  /* arrays inside the top-level object */
        size_t n = 6 + 2 * (size_t)depth;
        char *s = malloc(n + 1), *p = s;
        p += sprintf(p, "{\"a\":");
        for (int i = 0; i < depth; i++) *p++ = '[';
        for (int i = 0; i < depth; i++) *p++ = ']';
        *p++ = '}';
        *p = 0;
        CHECK(is_object(s) == !extra);
        free(s);
    }
}

static void test_get(void) {
    char *buf;
    json_span o = parse("{\"agent\":{\"name\":\"x\",\"id\":\"agt-1\"},\"s\":\"}\\\"{\",\"event\":{\"kind\":\"r\"},"
                        "\"n\":[{\"id\":\"no\"}],\"\\u0061\\u0062\":1,\"dup\":1,\"dup\":2}", &buf);
    json_span v, id;
    CHECK(json_get(o, "agent", 5, &v) && json_type_of(v) == JSON_OBJECT);
    CHECK(json_get(v, "id", 2, &id) && json_type_of(id) == JSON_STRING && json_string_equals(id, "agt-1", 5));
    CHECK(!json_get(o, "id", 2, &v));  /* only top-level members, not nested ones */
    CHECK(json_get(o, "s", 1, &v) && json_string_equals(v, "}\"{", 3));
    CHECK(json_get(o, "ab", 2, &v) && v.len == 1 && v.ptr[0] == '1');  /* escaped key */
    CHECK(json_get(o, "dup", 3, &v) && v.ptr[0] == '2');                /* the last one counts */
    CHECK(json_get(o, "event", 5, &v) && json_get(v, "kind", 4, &v) && json_string_equals(v, "r", 1));
    CHECK(!json_get(o, "agen", 4, &v) && !json_get(o, "", 0, &v));
    free(buf);

    o = parse("{\"t\":true,\"f\":false,\"z\":null,\"x\":-1.5,\"a\":[],\"o\":{}}", &buf);
    json_type want[] = {JSON_TRUE, JSON_FALSE, JSON_NULL, JSON_NUMBER, JSON_ARRAY, JSON_OBJECT};
    json_members it = json_members_of(o);
    json_span k;
    int i = 0;
    while (json_next_member(&it, &k, &v)) CHECK(i < 6 && json_type_of(v) == want[i++]);
    CHECK(i == 6);
    free(buf);

    o = parse("{}", &buf);
    it = json_members_of(o);
    CHECK(!json_next_member(&it, &k, &v));
    free(buf);
}

static void test_strings(void) {
    char *buf;
    json_span o = parse("{\"s\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83d\\ude00\\u0000z\"}", &buf);
    json_span s;
    CHECK(json_get(o, "s", 1, &s));
    char out[64];
    size_t n = json_decode_string(s, out);
    const char want[] = "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0z";
    CHECK(n == sizeof want - 1 && memcmp(out, want, n) == 0);
    CHECK(json_string_equals(s, want, sizeof want - 1));
    CHECK(!json_string_equals(s, want, sizeof want - 2));
    free(buf);

    /* Encoding, and back again. */
    const char raw[] = "q\"b\\n\n\x01\x1f\x7f caf\xc3\xa9 \xf0\x9f\x98\x80";
    char enc[128];
    size_t len = json_encode_string(raw, sizeof raw - 1, NULL);
    CHECK(len == json_encode_string(raw, sizeof raw - 1, enc));
    const char want_enc[] = "\"q\\\"b\\\\n\\n\\u0001\\u001f\x7f caf\xc3\xa9 \xf0\x9f\x98\x80\"";
    CHECK(len == sizeof want_enc - 1 && memcmp(enc, want_enc, len) == 0);
    char doc[160];
    int m = snprintf(doc, sizeof doc, "{\"k\":%.*s}", (int)len, enc);
    o = parse(doc, &buf);
    CHECK(m > 0 && json_get(o, "k", 1, &s) && json_string_equals(s, raw, sizeof raw - 1));
    free(buf);
    CHECK(json_encode_string("", 0, enc) == 2 && memcmp(enc, "\"\"", 2) == 0);
}

/* Appending `label` to the array `in` (NULL: no array) gives `want`, which is
 * still an array: the value in an object is checked as a whole event. */
static void check_append(const char *in, const char *label, const char *want) {
    char *buf = NULL;
    json_span array = {0};
    if (in) {
        /* The array as the router hands it over: a span of an event's text. */
        char doc[256];
        snprintf(doc, sizeof doc, "{\"labels\":%s}", in);
        json_span o = parse(doc, &buf);
        CHECK(json_get(o, "labels", 6, &array) && json_type_of(array) == JSON_ARRAY);
    }
    size_t n = 0;
    char *got = json_array_append(in ? &array : NULL, label, strlen(label), &n);
    if (!got || n != strlen(want) || memcmp(got, want, n) != 0) {
        fprintf(stderr, "append to %s: got %.*s, want %s\n", in ? in : "nothing", got ? (int)n : 4, got ? got : "NULL",
                want);
        failures++;
    }
    char doc[256];
    int m = snprintf(doc, sizeof doc, "{\"a\":%.*s}", got ? (int)n : 0, got ? got : "");
    CHECK(got && m > 0 && is_object(doc));
    free(got);
    free(buf);
}

static void test_append(void) {
    check_append(NULL, "x", "[\"x\"]");
    check_append("[]", "x", "[\"x\"]");
    check_append("[ \n ]", "x", "[ \n \"x\"]");
    check_append("[\"a\"]", "x", "[\"a\",\"x\"]");
    check_append("[1, {\"y\":[2]} ]", "x", "[1, {\"y\":[2]} ,\"x\"]");
    check_append("[\"a\"]", "caf\xc3\xa9 \"q\"\n", "[\"a\",\"caf\xc3\xa9 \\\"q\\\"\\n\"]");
    check_append(NULL, "", "[\"\"]");
}

int main(void) {
    test_validation();
    test_get();
    test_strings();
    test_append();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    puts("json_test: all checks passed");
    return 0;
}
