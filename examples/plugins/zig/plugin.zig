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
//! The plugin declares the three fields it reads (`configure` returns their
//! paths), so the router finds them in each event: `process` reads them at
//! their slots and never parses a whole event, and answers a labelled event
//! with one edit, which the router applies.
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

/// Who the plugin is (`metadata`): `sluice plugin check` and the router's log show it.
const plugin_name = "label";
const plugin_version = "0.1.0";
/// The contract the bindings in gen/ were generated from.
const plugin_contract = "0.3.0";

const no_agent_id = "event has no agent.id: run the agent-event plugin before this one";

/// The fields `process` reads, in slot order.
const reads = [_][]const u8{ "agent.id", "event.kind", "labels" };
const agent_id_field = 0;
const event_kind_field = 1;
const labels_field = 2;

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

export fn exports_plugin_metadata(ret: *c.plugin_metadata_t) void {
    ret.* = .{ .name = owned(plugin_name), .version = owned(plugin_version), .contract = owned(plugin_contract) };
}

export fn exports_plugin_configure(text: *c.plugin_string_t, ret: *c.plugin_list_string_t, err: *c.plugin_string_t) bool {
    const refusal = loadConfig(bytesOf(text)) catch @panic("out of memory");
    c.plugin_string_free(text);
    if (refusal) |reason| {
        err.* = owned(reason);
        return false;
    }
    const paths = malloc.alloc(c.plugin_string_t, reads.len) catch @panic("out of memory");
    for (reads, paths) |path, *out| out.* = owned(path);
    ret.* = .{ .ptr = paths.ptr, .len = paths.len };
    // The count in decimal; 20 digits hold any usize.
    var digits: [20]u8 = undefined;
    const count = std.fmt.bufPrint(&digits, "{d}", .{labels.count()}) catch unreachable;
    log(c.SLUICE_PLUGIN_LOG_LEVEL_INFO, "zig plugin ready", "labels", count);
    return true;
}

/// The kinds of a slot's value, as wit/plugin.wit numbers them.
const Kind = enum(u32) { absent, string, escaped_string, number, boolean, null, object, array, _ };

/// One event of the batch: where its declared fields are.
const Event = struct {
    /// The batch's whole text, which the slots' starts count into.
    text: []const u8,
    /// Three numbers (start, length, kind) per declared field.
    slots: []const u32,

    /// Declared field `i`: its kind and its JSON text.
    fn field(event: Event, i: usize) struct { kind: Kind, json: []const u8 } {
        const slot = event.slots[3 * i ..][0..3];
        const start: usize = slot[0];
        const len: usize = slot[1];
        // The router's slots are always within the text; an absent field
        // is (0, 0, 0).
        if (start > event.text.len or len > event.text.len - start) return .{ .kind = .absent, .json = "" };
        return .{ .kind = @fromBackingInt(@intCast(slot[2])), .json = event.text[start..][0..len] };
    }

    /// Declared field `i` as a string, when it is one: the text between its
    /// quotes, decoded (into `arena`) only when it was written with escapes.
    fn string(event: Event, i: usize, arena: std.mem.Allocator) error{OutOfMemory}!?[]const u8 {
        const value = event.field(i);
        return switch (value.kind) {
            .string => value.json[1 .. value.json.len - 1],
            .escaped_string => json.parseFromSliceLeaky([]const u8, arena, value.json, .{}) catch |err| switch (err) {
                error.OutOfMemory => error.OutOfMemory,
                // The router checked the text: a string always decodes.
                else => null,
            },
            else => null,
        };
    }
};

const Outcome = union(enum) {
    /// Unchanged: nothing crosses back.
    keep,
    /// Set `labels` to this JSON text (malloc'd).
    set_labels: []u8,
    drop,
    fail: []const u8,
};

fn handle(event: Event, arena: std.mem.Allocator) error{OutOfMemory}!Outcome {
    const agent_id = try event.string(agent_id_field, arena) orelse return .{ .fail = no_agent_id };
    if (drop_kind) |dropped| {
        const kind = try event.string(event_kind_field, arena);
        if (kind != null and std.mem.eql(u8, kind.?, dropped)) return .drop;
    }
    const label = labels.get(agent_id) orelse return .keep;
    // The event's labels array with the label appended; `labels` that is not
    // an array (or is missing) becomes an array of one, as the other
    // examples do. Only the new item is encoded: the array's own text is
    // kept as it came.
    const current = event.field(labels_field);
    const head = if (current.kind == .array) current.json[0 .. current.json.len - 1] else "[";
    const empty = std.mem.trim(u8, head[1..], " \t\r\n").len == 0;
    const item = try json.Stringify.valueAlloc(arena, label.string, .{});
    return .{ .set_labels = try std.mem.concat(malloc, u8, &.{ head, if (empty) "" else ",", item, "]" }) };
}

fn forBindings(outcome: Outcome) c.plugin_outcome_t {
    switch (outcome) {
        .keep => return .{ .tag = c.PLUGIN_OUTCOME_KEEP },
        .set_labels => |value| {
            const edit = malloc.create(c.plugin_edit_t) catch @panic("out of memory");
            edit.* = .{ .tag = c.PLUGIN_EDIT_SET, .val = .{ .set = .{
                .path = owned("labels"),
                .value = .{ .ptr = value.ptr, .len = value.len },
            } } };
            return .{ .tag = c.PLUGIN_OUTCOME_EDIT, .val = .{ .edit = .{ .ptr = edit, .len = 1 } } };
        },
        .drop => return .{ .tag = c.PLUGIN_OUTCOME_DROP },
        .fail => |reason| return .{ .tag = c.PLUGIN_OUTCOME_FAIL, .val = .{ .fail = owned(reason) } },
    }
}

export fn exports_plugin_process(batch: *c.plugin_batch_t, ret: *c.plugin_list_outcome_t) void {
    defer c.plugin_batch_free(batch);
    const count = batch.ends.len;
    ret.* = .{ .ptr = null, .len = count };
    // The bindings free the list only when it is not empty: allocate none then.
    if (count == 0) return;
    const outcomes = malloc.alloc(c.plugin_outcome_t, count) catch @panic("out of memory");
    ret.ptr = outcomes.ptr;
    const text: []const u8 = if (batch.text.len == 0) "" else batch.text.ptr[0..batch.text.len];
    const per_event = 3 * reads.len;
    // The router sends three numbers per declared field and event; anything
    // else would be read past its end.
    if (batch.slots.len != count * per_event) {
        for (outcomes) |*out| out.* = forBindings(.{ .fail = "the batch's slots do not match the three fields this plugin declared" });
        return;
    }
    const slots = batch.slots.ptr[0..batch.slots.len];
    for (outcomes, 0..) |*out, j| {
        // Keep up to 1 MiB between events; a rare huge one gives the rest back.
        defer _ = scratch.reset(.{ .retain_with_limit = 1 << 20 });
        const event: Event = .{ .text = text, .slots = slots[j * per_event ..][0..per_event] };
        const outcome = handle(event, scratch.allocator()) catch @panic("out of memory");
        out.* = forBindings(outcome);
    }
}
