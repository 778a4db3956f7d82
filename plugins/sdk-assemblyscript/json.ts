// The small JSON reader and writer that AssemblyScript plugins need: for the
// config, for the values of the fields a plugin declared (which the router
// located, see Field in index.ts), and for whole events, for a plugin that
// declares nothing.
//
// AssemblyScript has no JSON in its standard library. The npm package
// assemblyscript-json (1.1.0) compiles with asc 0.28 but does not fit a
// plugin: AssemblyScript cannot catch exceptions, and that parser aborts on
// malformed text, which would trap the whole batch instead of failing one
// event; it also rewrites numbers (12345678901234567890 becomes
// 9223372036854775807, 1e5 becomes 100000.0) and accepts trailing garbage.
//
// So, as the C example does, this reader never builds a tree: a value is a
// span of the text it was read from, checked once by parseObject and then
// read in place. Reading two fields allocates little, and a text that is
// changed keeps every other character as it came.
//
// It follows RFC 8259 strictly and refuses what it does not accept rather
// than guess: no comments, no trailing commas, no NaN, no single quotes, no
// raw control characters in strings, and no lone UTF-16 surrogates in \u
// escapes, because a string holding one could not cross back to the router
// (the component model checks that strings are valid Unicode).
//
// It reads AssemblyScript strings, which are UTF-16: positions are addresses
// of UTF-16 code units inside the string's data, two bytes apart; 0 stands
// for "malformed". AssemblyScript's garbage collector never moves an object,
// so an address stays valid as long as the string is referenced, which every
// JsonValue does through its `text`.

/** Deeper nesting is refused, so that hostile input cannot exhaust the stack. */
export const JSON_MAX_DEPTH = 512;

export enum JsonType {
  Object,
  Array,
  String,
  Number,
  True,
  False,
  Null,
}

const TAB: u32 = 0x09;
const LF: u32 = 0x0a;
const CR: u32 = 0x0d;
const SPACE: u32 = 0x20;
const QUOTE: u32 = 0x22;
const COMMA: u32 = 0x2c;
const MINUS: u32 = 0x2d;
const PLUS: u32 = 0x2b;
const DOT: u32 = 0x2e;
const SLASH: u32 = 0x2f;
const ZERO: u32 = 0x30;
const NINE: u32 = 0x39;
const COLON: u32 = 0x3a;
const OPEN_BRACKET: u32 = 0x5b;
const BACKSLASH: u32 = 0x5c;
const CLOSE_BRACKET: u32 = 0x5d;
const OPEN_BRACE: u32 = 0x7b;
const CLOSE_BRACE: u32 = 0x7d;

// @ts-ignore: decorator
@inline function unit(p: usize): u32 {
  return <u32>load<u16>(p);
}

function skipSpace(p: usize, end: usize): usize {
  while (p < end) {
    const c = unit(p);
    if (c != SPACE && c != TAB && c != LF && c != CR) break;
    p += 2;
  }
  return p;
}

function hexDigit(c: u32): i32 {
  if (c >= ZERO && c <= NINE) return <i32>(c - ZERO);
  if (c >= 0x61 && c <= 0x66) return <i32>(c - 0x61 + 10);
  if (c >= 0x41 && c <= 0x46) return <i32>(c - 0x41 + 10);
  return -1;
}

/** The four hex digits at `p`, or -1. */
function hex4(p: usize, end: usize): i32 {
  if (p > end || end - p < 8) return -1;
  let v = 0;
  for (let i: usize = 0; i < 4; i++) {
    const d = hexDigit(unit(p + (i << 1)));
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v;
}

// What the last \u escape read stands for: one code unit, or a surrogate pair
// (escapeLow is 0 for one unit, as no low surrogate is 0). Globals, because
// AssemblyScript has no out-parameters and the reader is never re-entered.
let escapeHigh: u32 = 0;
let escapeLow: u32 = 0;

/** Reads the \u escape at `p` (the backslash); the position after it, or 0. */
function readUnicodeEscape(p: usize, end: usize): usize {
  const high = hex4(p + 4, end);
  if (high < 0) return 0;
  p += 12;
  if (high >= 0xdc00 && high <= 0xdfff) return 0;
  if (high < 0xd800 || high > 0xdbff) {
    escapeHigh = <u32>high;
    escapeLow = 0;
    return p;
  }
  if (end - p < 12 || unit(p) != BACKSLASH || unit(p + 2) != 0x75) return 0;
  const low = hex4(p + 4, end);
  if (low < 0xdc00 || low > 0xdfff) return 0;
  escapeHigh = <u32>high;
  escapeLow = <u32>low;
  return p + 12;
}

/** `p` is at the opening quote. */
function skipString(p: usize, end: usize): usize {
  p += 2;
  while (p < end) {
    const c = unit(p);
    if (c == QUOTE) return p + 2;
    if (c < 0x20) return 0;
    if (c != BACKSLASH) {
      p += 2;
      continue;
    }
    if (end - p < 4) return 0;
    const e = unit(p + 2);
    if (e == 0x75) {
      p = readUnicodeEscape(p, end);
      if (!p) return 0;
    } else if (e == QUOTE || e == BACKSLASH || e == SLASH || e == 0x62 || e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74) {
      p += 4;
    } else {
      return 0;
    }
  }
  return 0;
}

function skipDigits(p: usize, end: usize): usize {
  const start = p;
  while (p < end && unit(p) >= ZERO && unit(p) <= NINE) p += 2;
  return p > start ? p : 0;
}

/** RFC 8259's number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
function skipNumber(p: usize, end: usize): usize {
  if (p < end && unit(p) == MINUS) p += 2;
  if (p < end && unit(p) == ZERO) {
    p += 2; // no leading zeros: "01" ends after the 0 and is then refused
  } else {
    p = skipDigits(p, end);
    if (!p) return 0;
  }
  if (p < end && unit(p) == DOT) {
    p = skipDigits(p + 2, end);
    if (!p) return 0;
  }
  if (p < end && (unit(p) == 0x65 || unit(p) == 0x45)) {
    p += 2;
    if (p < end && (unit(p) == PLUS || unit(p) == MINUS)) p += 2;
    p = skipDigits(p, end);
    if (!p) return 0;
  }
  return p;
}

function skipWord(p: usize, end: usize, word: string): usize {
  const n = <usize>word.length;
  if (end - p < n << 1) return 0;
  return memory.compare(p, changetype<usize>(word), n << 1) == 0 ? p + (n << 1) : 0;
}

/** `p` is at '{' or '['; both are items between brackets, an object's being `"key": value`. */
function skipContainer(p: usize, end: usize, depth: i32): usize {
  const isObject = unit(p) == OPEN_BRACE;
  const close = isObject ? CLOSE_BRACE : CLOSE_BRACKET;
  p = skipSpace(p + 2, end);
  if (p < end && unit(p) == close) return p + 2;
  while (true) {
    if (isObject) {
      if (p >= end || unit(p) != QUOTE) return 0;
      p = skipString(p, end);
      if (!p) return 0;
      p = skipSpace(p, end);
      if (p >= end || unit(p) != COLON) return 0;
      p = skipSpace(p + 2, end);
    }
    p = skipValue(p, end, depth + 1);
    if (!p) return 0;
    p = skipSpace(p, end);
    if (p >= end) return 0;
    if (unit(p) == close) return p + 2;
    if (unit(p) != COMMA) return 0;
    p = skipSpace(p + 2, end);
  }
}

/** `p` is at the first code unit of a value (whitespace already skipped). */
function skipValue(p: usize, end: usize, depth: i32): usize {
  if (p >= end || depth > JSON_MAX_DEPTH) return 0;
  const c = unit(p);
  if (c == OPEN_BRACE || c == OPEN_BRACKET) return skipContainer(p, end, depth);
  if (c == QUOTE) return skipString(p, end);
  if (c == 0x74) return skipWord(p, end, "true");
  if (c == 0x66) return skipWord(p, end, "false");
  if (c == 0x6e) return skipWord(p, end, "null");
  if (c == MINUS || (c >= ZERO && c <= NINE)) return skipNumber(p, end);
  return 0;
}

// The member that nextMember found (globals, as for escapes).
let keyStart: usize = 0;
let keyEnd: usize = 0;
let valueStart: usize = 0;
let valueEnd: usize = 0;

/** Finds the member at or after `p` in a checked object; the position after it, or 0 at the end. */
function nextMember(p: usize, end: usize): usize {
  p = skipSpace(p, end);
  if (p < end && unit(p) == COMMA) p = skipSpace(p + 2, end);
  // The object was checked, so anything but a key here is its closing '}'.
  if (p >= end || unit(p) != QUOTE) return 0;
  keyStart = p;
  p = skipString(p, end);
  if (!p) return 0;
  keyEnd = p;
  p = skipSpace(p, end);
  if (p >= end || unit(p) != COLON) return 0;
  valueStart = skipSpace(p + 2, end);
  valueEnd = skipValue(valueStart, end, 1);
  return valueEnd;
}

/** The decoded text of a checked string span (quotes included). */
function decode(start: usize, end: usize): string {
  const body = start + 2;
  const bodyEnd = end - 2;
  let p = body;
  while (p < bodyEnd && unit(p) != BACKSLASH) p += 2;
  if (p == bodyEnd) return String.UTF16.decodeUnsafe(body, bodyEnd - body);
  // Decoding never lengthens a string: allocate the longest, then trim.
  const out = heap.alloc(bodyEnd - body);
  const prefix = p - body;
  memory.copy(out, body, prefix);
  let n = prefix;
  while (p < bodyEnd) {
    const c = unit(p);
    if (c != BACKSLASH) {
      store<u16>(out + n, <u16>c);
      n += 2;
      p += 2;
      continue;
    }
    const e = unit(p + 2);
    if (e == 0x75) {
      p = readUnicodeEscape(p, bodyEnd);
      if (!p) break; // unreachable for a checked string
      store<u16>(out + n, <u16>escapeHigh);
      n += 2;
      if (escapeLow) {
        store<u16>(out + n, <u16>escapeLow);
        n += 2;
      }
      continue;
    }
    const d: u32 = e == 0x62 ? 0x08 : e == 0x66 ? 0x0c : e == 0x6e ? LF : e == 0x72 ? CR : e == 0x74 ? TAB : e;
    store<u16>(out + n, <u16>d);
    n += 2;
    p += 4;
  }
  const text = String.UTF16.decodeUnsafe(out, n);
  heap.free(out);
  return text;
}

/** Whether the checked string span decodes to exactly `s`. */
function equals(start: usize, end: usize, s: string): bool {
  const body = start + 2;
  const bytes = end - 2 - body;
  const n = <usize>s.length << 1;
  // Almost every key is written without escapes: compare the text itself.
  let plain = true;
  for (let p = body; p < body + bytes; p += 2) {
    if (unit(p) == BACKSLASH) {
      plain = false;
      break;
    }
  }
  if (plain) return bytes == n && memory.compare(body, changetype<usize>(s), n) == 0;
  if (n >= bytes) return false; // an escape always decodes shorter
  return decode(start, end) == s;
}

/** One value of a checked JSON text: a span of that text, not a copy. */
export class JsonValue {
  /** The whole text: keeps the addresses below valid. */
  readonly text: string;
  readonly start: usize;
  readonly end: usize;

  constructor(text: string, start: usize, end: usize) {
    this.text = text;
    this.start = start;
    this.end = end;
  }

  /** The type, which the first character tells. */
  get type(): JsonType {
    const c = unit(this.start);
    if (c == OPEN_BRACE) return JsonType.Object;
    if (c == OPEN_BRACKET) return JsonType.Array;
    if (c == QUOTE) return JsonType.String;
    if (c == 0x74) return JsonType.True;
    if (c == 0x66) return JsonType.False;
    if (c == 0x6e) return JsonType.Null;
    return JsonType.Number;
  }

  /**
   * The member `key` of this object; null when there is none or this is not
   * an object. When a key appears more than once the last one counts, as in
   * most JSON parsers, so that every reader of the event agrees.
   */
  get(key: string): JsonValue | null {
    if (this.type != JsonType.Object) return null;
    let found = false;
    let start: usize = 0;
    let end: usize = 0;
    let p = this.start + 2;
    while ((p = nextMember(p, this.end))) {
      if (equals(keyStart, keyEnd, key)) {
        found = true;
        start = valueStart;
        end = valueEnd;
      }
    }
    return found ? new JsonValue(this.text, start, end) : null;
  }

  /** The members of this object, in order (none when this is not an object). */
  members(): JsonMember[] {
    const out = new Array<JsonMember>();
    if (this.type != JsonType.Object) return out;
    let p = this.start + 2;
    while ((p = nextMember(p, this.end))) {
      const value = new JsonValue(this.text, valueStart, valueEnd);
      out.push(new JsonMember(decode(keyStart, keyEnd), value));
    }
    return out;
  }

  /** The decoded text of this string value; "" when it is not a string. */
  decodeString(): string {
    return this.type == JsonType.String ? decode(this.start, this.end) : "";
  }

  /** Whether this is a string value that decodes to exactly `s`. */
  stringEquals(s: string): bool {
    return this.type == JsonType.String && equals(this.start, this.end, s);
  }

  /** The JSON text of this value, as it is written in the whole text. */
  toString(): string {
    return String.UTF16.decodeUnsafe(this.start, this.end - this.start);
  }
}

export class JsonMember {
  constructor(public key: string, public value: JsonValue) {}
}

/**
 * The object that `text` holds, with nothing but whitespace around it; null
 * when `text` is not exactly one valid JSON object.
 */
export function parseObject(text: string): JsonValue | null {
  const start = changetype<usize>(text);
  const end = start + (<usize>text.length << 1);
  const p = skipSpace(start, end);
  if (p >= end || unit(p) != OPEN_BRACE) return null;
  const after = skipValue(p, end, 0);
  if (!after || skipSpace(after, end) != end) return null;
  return new JsonValue(text, p, after);
}

/** `s` as a JSON string value, quotes included. */
export function encodeString(s: string): string {
  const src = changetype<usize>(s);
  const srcEnd = src + (<usize>s.length << 1);
  let units: usize = 2;
  for (let p = src; p < srcEnd; p += 2) {
    const c = unit(p);
    units += c == QUOTE || c == BACKSLASH || c == LF || c == CR || c == TAB || c == 0x08 || c == 0x0c ? 2 : c < 0x20 ? 6 : 1;
  }
  // Written in place into a new string: one allocation, no copy.
  const out = changetype<string>(__new(units << 1, idof<string>()));
  let q = changetype<usize>(out);
  store<u16>(q, <u16>QUOTE);
  q += 2;
  for (let p = src; p < srcEnd; p += 2) {
    const c = unit(p);
    const short: u32 = c == QUOTE ? QUOTE : c == BACKSLASH ? BACKSLASH : c == LF ? 0x6e : c == CR ? 0x72
      : c == TAB ? 0x74 : c == 0x08 ? 0x62 : c == 0x0c ? 0x66 : 0;
    if (short) {
      store<u16>(q, <u16>BACKSLASH);
      store<u16>(q, <u16>short, 2);
      q += 4;
    } else if (c < 0x20) {
      // Other control characters as \u00XX.
      store<u16>(q, <u16>BACKSLASH);
      store<u16>(q, 0x75, 2);
      store<u16>(q, <u16>ZERO, 4);
      store<u16>(q, <u16>ZERO, 6);
      store<u16>(q, <u16>hexChar(c >> 4), 8);
      store<u16>(q, <u16>hexChar(c & 0xf), 10);
      q += 12;
    } else {
      store<u16>(q, <u16>c); // everything else, surrogate pairs included, needs no escape
      q += 2;
    }
  }
  store<u16>(q, <u16>QUOTE);
  return out;
}

function hexChar(d: u32): u32 {
  return d < 10 ? ZERO + d : 0x61 + d - 10;
}

/**
 * A new text of the checked `object` with the string `value` appended to its
 * array member `key`: after the last item when it is an array, in place of
 * it when it is something else, and as a new member `"key":["value"]` at the
 * end when there is none. The rest of the text is kept as it is.
 */
export function appendToArray(object: JsonValue, key: string, value: string): string {
  // The new text is the object with an insertion at `at`, and the text up
  // to `resume` left out (a value being replaced).
  const current = object.get(key);
  let at: usize;
  let resume: usize;
  let insert: string;
  if (current !== null && current.type == JsonType.Array) {
    at = resume = current.end - 2; // the array's ']'
    const empty = skipSpace(current.start + 2, at) == at;
    insert = (empty ? "" : ",") + encodeString(value);
  } else if (current !== null) {
    at = current.start;
    resume = current.end;
    insert = "[" + encodeString(value) + "]";
  } else {
    at = resume = object.end - 2; // the object's '}'
    const empty = skipSpace(object.start + 2, at) == at;
    insert = (empty ? "" : ",") + encodeString(key) + ":[" + encodeString(value) + "]";
  }
  const head = String.UTF16.decodeUnsafe(object.start, at - object.start);
  const tail = String.UTF16.decodeUnsafe(resume, object.end - resume);
  return head + insert + tail;
}

/**
 * The string that `quoted`, a JSON string value with its quotes, holds; null
 * when `quoted` is not exactly one valid JSON string.
 */
export function parseString(quoted: string): string | null {
  const start = changetype<usize>(quoted);
  const end = start + (<usize>quoted.length << 1);
  if (start == end || unit(start) != QUOTE || skipString(start, end) != end) return null;
  return decode(start, end);
}

/**
 * The JSON text of `array`, a checked JSON array (such as a Field's text),
 * with the string `value` appended after its last item; of the array
 * `["value"]` when `array` is null. The array's own text is kept as it is.
 */
export function appendString(array: string | null, value: string): string {
  const item = encodeString(value);
  if (array === null) return "[" + item + "]";
  const start = changetype<usize>(array);
  const close = start + ((<usize>array.length - 1) << 1); // the array's ']'
  const empty = skipSpace(start + 2, close) == close;
  return array.substring(0, array.length - 1) + (empty ? "" : ",") + item + "]";
}
