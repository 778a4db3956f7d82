//! plugin.zig: a sluice plugin in Zig: label events from a lookup table, drop a kind.
//!
//! Config (JSON, from the transform's `config` table):
//!   {"labels": {"<agent id>": "<label>", ...}, "drop_kind": "reasoning"}
//!
//! Each event whose `agent.id` is in `labels` gets that label appended to its
//! `labels` list; events of `drop_kind` are dropped; an event without
//! `agent.id` (one that did not go through agent-event first) fails: it goes
//! to the dead-letter output with the reason.
//!
//! Build: ./build.sh  (sluice writes the C bindings in gen/, `zig translate-c`
//! turns their header into gen/plugin.zig, `zig build-exe` compiles this file
//! with gen/plugin.c, and `sluice plugin wrap` makes the component)
//!
//! Ownership, as wit-bindgen's C bindings have it: an export owns its
//! arguments and frees them; what it returns must come from malloc, because
//! the bindings free() it after the router has copied it out (so even a
//! constant failure reason is duplicated). Arguments to an import stay the
//! caller's. std.heap.c_allocator is plain malloc/free for the alignments
//! used here, so it serves for both.

const std = @import("std");
const json = std.json;
const c = @import("gen/plugin.zig");

const not_an_object = "event is not a JSON object";
const no_agent_id = "event has no agent.id: run the agent-event plugin before this one";

const malloc = std.heap.c_allocator;

/// The state of this instance, set by configure (the router makes one
/// instance per worker, and configure runs in each). `labels` and `drop_kind`
/// point into `config`.
var config: ?json.Parsed(json.Value) = null;
var labels: json.ObjectMap = .empty;
var drop_kind: ?[]const u8 = null;

/// Scratch memory for one event, emptied after each so that a batch costs no
/// more than its largest event.
var scratch: std.heap.ArenaAllocator = .init(malloc);

/// The sandbox has no stderr, so Zig's default panic output would be lost:
/// say it in the router's log instead, then trap, which fails the batch and
/// makes the router replace the instance.
pub const panic = std.debug.FullPanic(logAndTrap);

fn logAndTrap(message: []const u8, _: ?usize) noreturn {
    log(c.SLUICE_PLUGIN_LOG_LEVEL_ERROR, "zig plugin panicked", "reason", message);
    @trap();
}

fn log(level: c_int, message: []const u8, key: []const u8, value: []const u8) void {
    var text = string(message);
    var field: c.plugin_tuple2_string_string_t = .{ .f0 = string(key), .f1 = string(value) };
    var fields: c.plugin_list_tuple2_string_string_t = .{ .ptr = &field, .len = 1 };
    c.sluice_plugin_log_log(@intCast(level), &text, &fields);
}

/// Borrows `bytes` as a bindings string: only for arguments to an import.
fn string(bytes: []const u8) c.plugin_string_t {
    return .{ .ptr = @constCast(bytes.ptr), .len = bytes.len };
}

/// Copies `bytes` into malloc'd memory, for a string the bindings will free.
fn owned(bytes: []const u8) c.plugin_string_t {
    const copy = malloc.dupe(u8, bytes) catch @panic("out of memory");
    return .{ .ptr = copy.ptr, .len = copy.len };
}

/// An empty string may come with a null pointer, which Zig will not slice.
fn bytesOf(s: *const c.plugin_string_t) []const u8 {
    return if (s.len == 0) "" else s.ptr[0..s.len];
}

/// Duplicate keys are not an error in JSON: the last one counts, as in most
/// parsers (std.json's default refuses the whole text).
const parse_options: json.ParseOptions = .{ .duplicate_field_behavior = .use_last };

/// Checks the config and installs it; on refusal returns the reason.
fn loadConfig(text: []const u8) error{OutOfMemory}!?[]const u8 {
    // The router sends {} when there is no config, but be lenient.
    const source = if (std.mem.trim(u8, text, " \t\r\n").len == 0) "{}" else text;
    var options = parse_options;
    // The config text is freed when configure returns; what we keep must not
    // point into it.
    options.allocate = .alloc_always;
    const parsed = json.parseFromSlice(json.Value, malloc, source, options) catch |err| switch (err) {
        error.OutOfMemory => return error.OutOfMemory,
        else => return "config must be a JSON object",
    };
    var new_labels: json.ObjectMap = .empty;
    var new_drop_kind: ?[]const u8 = null;
    if (settingsOf(parsed.value, &new_labels, &new_drop_kind)) |refusal| {
        parsed.deinit();
        return refusal;
    }
    if (config) |old| old.deinit();
    config = parsed;
    labels = new_labels;
    drop_kind = new_drop_kind;
    return null;
}

/// Reads `labels` and `drop_kind` out of the parsed config, or says why not.
fn settingsOf(value: json.Value, new_labels: *json.ObjectMap, new_drop_kind: *?[]const u8) ?[]const u8 {
    if (value != .object) return "config must be a JSON object";
    if (value.object.get("labels")) |table| {
        const refusal = "config key `labels` must be a table of agent id = label";
        if (table != .object) return refusal;
        for (table.object.values()) |label| if (label != .string) return refusal;
        new_labels.* = table.object;
    }
    // `drop_kind = null` (possible in JSON, not in TOML) means no drop_kind.
    if (value.object.get("drop_kind")) |kind| switch (kind) {
        .null => {},
        .string => |s| new_drop_kind.* = s,
        else => return "config key `drop_kind` must be a string",
    };
    return null;
}

export fn exports_plugin_configure(text: *c.plugin_string_t, err: *c.plugin_string_t) bool {
    const refusal = loadConfig(bytesOf(text)) catch @panic("out of memory");
    c.plugin_string_free(text);
    if (refusal) |reason| {
        err.* = owned(reason);
        return false;
    }
    // The count in decimal; 20 digits hold any usize.
    var digits: [20]u8 = undefined;
    const count = std.fmt.bufPrint(&digits, "{d}", .{labels.count()}) catch unreachable;
    log(c.SLUICE_PLUGIN_LOG_LEVEL_INFO, "zig plugin ready", "labels", count);
    return true;
}

/// `parent.key`, when `parent` is an object that has it.
fn member(parent: json.Value, key: []const u8) ?json.Value {
    return switch (parent) {
        .object => |object| object.get(key),
        else => null,
    };
}

/// `parent.key`, when `parent` is an object that has it as a string.
fn stringMember(parent: json.Value, key: []const u8) ?[]const u8 {
    const value = member(parent, key) orelse return null;
    return switch (value) {
        .string => |s| s,
        else => null,
    };
}

const Outcome = union(enum) {
    /// null: unchanged, nothing crosses back; else the new JSON text, malloc'd.
    keep: ?[]u8,
    drop,
    fail: []const u8,
};

/// Deeper events fail instead of being parsed: writing one back recurses once
/// per level, and a few thousand levels exhaust the stack, which traps the
/// whole batch (a few hundred thousand exhaust memory first). serde_json, the
/// Rust plugins' parser, has the same limit.
const max_depth = 128;
const too_deep = std.fmt.comptimePrint("event is nested more than {d} levels deep", .{max_depth});

/// Whether `text`, if it is JSON, nests deeper than `max_depth`: a byte scan,
/// cheap next to parsing, that leaves telling bad JSON apart to std.json.
fn tooDeep(text: []const u8) bool {
    var depth: usize = 0;
    var in_string = false;
    var escaped = false;
    for (text) |byte| {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (byte == '\\') {
                escaped = true;
            } else if (byte == '"') {
                in_string = false;
            }
        } else switch (byte) {
            '"' => in_string = true,
            '[', '{' => {
                depth += 1;
                if (depth > max_depth) return true;
            },
            ']', '}' => depth -|= 1,
            else => {},
        }
    }
    return false;
}

fn handle(text: []const u8, arena: std.mem.Allocator) error{OutOfMemory}!Outcome {
    if (tooDeep(text)) return .{ .fail = too_deep };
    // Numbers stay as they were written: parsing them would round large
    // integers and rewrite floats when the event is written back.
    var options = parse_options;
    options.parse_numbers = false;
    var event = json.parseFromSliceLeaky(json.Value, arena, text, options) catch |err| switch (err) {
        error.OutOfMemory => return error.OutOfMemory,
        else => return .{ .fail = not_an_object },
    };
    if (event != .object) return .{ .fail = not_an_object };

    const agent_id = stringMember(member(event, "agent") orelse .null, "id") orelse
        return .{ .fail = no_agent_id };
    if (drop_kind) |dropped| {
        const kind = stringMember(member(event, "event") orelse .null, "kind");
        if (kind != null and std.mem.eql(u8, kind.?, dropped)) return .drop;
    }
    // keep(none): the router passes its own copy on; nothing crosses back.
    const label = labels.get(agent_id) orelse return .{ .keep = null };

    // `labels` that is not a list (or is missing) becomes a list of one, as
    // the other examples do.
    const list = try event.object.getOrPut(arena, "labels");
    if (!list.found_existing or list.value_ptr.* != .array) list.value_ptr.* = .{ .array = .init(arena) };
    try list.value_ptr.array.append(label);
    return .{ .keep = try json.Stringify.valueAlloc(malloc, event, .{}) };
}

fn forBindings(outcome: Outcome) c.plugin_outcome_t {
    switch (outcome) {
        .keep => |replacement| {
            var keep: c.plugin_option_event_t = .{ .is_some = false };
            if (replacement) |text| keep = .{ .is_some = true, .val = .{ .ptr = text.ptr, .len = text.len } };
            return .{ .tag = c.PLUGIN_OUTCOME_KEEP, .val = .{ .keep = keep } };
        },
        .drop => return .{ .tag = c.PLUGIN_OUTCOME_DROP },
        .fail => |reason| return .{ .tag = c.PLUGIN_OUTCOME_FAIL, .val = .{ .fail = owned(reason) } },
    }
}

export fn exports_plugin_process(batch: *c.plugin_list_event_t, ret: *c.plugin_list_outcome_t) void {
    ret.* = .{ .ptr = null, .len = batch.len };
    // The bindings free the list only when it is not empty: allocate none then.
    if (batch.len == 0) {
        c.plugin_list_event_free(batch);
        return;
    }
    const outcomes = malloc.alloc(c.plugin_outcome_t, batch.len) catch @panic("out of memory");
    ret.ptr = outcomes.ptr;
    for (batch.ptr[0..batch.len], outcomes) |*event, *out| {
        // Keep up to 1 MiB between events; a rare huge one gives the rest back.
        defer _ = scratch.reset(.{ .retain_with_limit = 1 << 20 });
        const outcome = handle(bytesOf(event), scratch.allocator()) catch @panic("out of memory");
        out.* = forBindings(outcome);
    }
    c.plugin_list_event_free(batch);
}
