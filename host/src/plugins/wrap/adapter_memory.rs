//! Memory for the WASI adapter inside a module whose runtime owns all of its
//! linear memory above its static data — the Go runtime does.
//!
//! The preview1 adapter needs a few pages for its state and stack. By default
//! it asks the module's `cabi_realloc`, which Go cannot serve while its
//! runtime is still starting; `--realloc-via-memory-grow` grows the memory
//! instead, but Go ignores what `memory.grow` returns and later hands those
//! pages out as heap, so the two overwrite each other. The way out: the module
//! reserves a static region (a byte array in its data) that starts with the
//! marker `sluice:adapter-memory:<size>;`, and `wrap` adds an exported
//! `cabi_realloc_adapter` — which wit-component gives the adapter instead of
//! `cabi_realloc` — that bump-allocates inside that region. It is plain
//! WebAssembly, so it runs before the module's runtime is up.

use anyhow::{Context, bail};
use wasm_encoder::reencode::{Error, Reencode, utils};
use wasm_encoder::{CodeSection, ExportKind, ExportSection, FunctionSection, MemArg, TypeSection, ValType};

/// What a module writes at the start of the region it reserves.
pub const MARKER: &[u8] = b"sluice:adapter-memory:";

/// The export wit-component looks for to allocate the adapter's memory.
const EXPORT: &str = "cabi_realloc_adapter";

/// A static region of the module's memory 0: start address and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub start: u32,
    pub size: u32,
}

/// The region a module reserves for the adapter, if it reserves one.
pub fn reserved_region(module: &[u8]) -> anyhow::Result<Option<Region>> {
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        let wasmparser::Payload::DataSection(data) = payload? else { continue };
        for segment in data {
            let segment = segment?;
            let wasmparser::DataKind::Active { memory_index: 0, offset_expr } = segment.kind else { continue };
            let Some(at) = find(segment.data, MARKER) else { continue };
            let mut ops = offset_expr.get_operators_reader();
            let wasmparser::Operator::I32Const { value: base } = ops.read()? else {
                bail!("the segment holding the adapter memory marker has a non-constant offset");
            };
            let rest = &segment.data[at + MARKER.len()..];
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            if rest.get(digits) != Some(&b';') {
                bail!("the adapter memory marker must read `sluice:adapter-memory:<size in bytes>;`");
            }
            let size: u32 = std::str::from_utf8(&rest[..digits])?.parse().context("the adapter memory size")?;
            let start = (base as u32).checked_add(at as u32).context("the adapter memory address")?;
            start.checked_add(size).context("the adapter memory region ends beyond 4 GiB")?;
            return Ok(Some(Region { start, size }));
        }
    }
    Ok(None)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The module with `cabi_realloc_adapter` added, allocating from `region`.
pub fn add_allocator(module: &[u8], region: Region) -> anyhow::Result<Vec<u8>> {
    if region.size < 64 {
        bail!("the adapter memory region of {} bytes is too small to be useful", region.size);
    }
    let (mut types, mut functions) = (0u32, 0u32);
    // The allocator is appended to these sections as they are copied; a module
    // that reserves memory for the adapter has code, so has them all.
    let mut sections = [(1u8, "type"), (3, "function"), (7, "export"), (10, "code")].map(|s| (s, false));
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        let payload = payload?;
        if let Some((id, _)) = payload.as_section() {
            sections.iter_mut().filter(|((wanted, _), _)| *wanted == id).for_each(|(_, seen)| *seen = true);
        }
        match payload {
            wasmparser::Payload::TypeSection(section) => {
                for group in section {
                    types += group?.types().len() as u32;
                }
            }
            wasmparser::Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    functions += u32::from(matches!(import?.ty, wasmparser::TypeRef::Func(_)));
                }
            }
            wasmparser::Payload::FunctionSection(section) => functions += section.count(),
            wasmparser::Payload::ExportSection(section) => {
                for export in section {
                    if export?.name == EXPORT {
                        bail!("the module already exports `{EXPORT}`");
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(((_, name), _)) = sections.iter().find(|(_, seen)| !seen) {
        bail!("a module that reserves adapter memory must have a {name} section");
    }
    let mut adder = Adder { region, type_index: types, function_index: functions };
    let mut encoded = wasm_encoder::Module::new();
    adder
        .parse_core_module(&mut encoded, wasmparser::Parser::new(0), module)
        .map_err(|err| anyhow::anyhow!("re-encoding the module: {err:?}"))?;
    Ok(encoded.finish())
}

/// Appends one type, one function, its export and its code as the module is
/// copied; everything else is copied as it is (code bodies byte for byte).
struct Adder {
    region: Region,
    type_index: u32,
    function_index: u32,
}

impl Reencode for Adder {
    type Error = std::convert::Infallible;

    fn parse_type_section(
        &mut self,
        types: &mut TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), Error<Self::Error>> {
        utils::parse_type_section(self, types, section)?;
        types.ty().function([ValType::I32; 4], [ValType::I32]);
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), Error<Self::Error>> {
        utils::parse_function_section(self, functions, section)?;
        functions.function(self.type_index);
        Ok(())
    }

    fn parse_export_section(
        &mut self,
        exports: &mut ExportSection,
        section: wasmparser::ExportSectionReader<'_>,
    ) -> Result<(), Error<Self::Error>> {
        utils::parse_export_section(self, exports, section)?;
        exports.export(EXPORT, ExportKind::Func, self.function_index);
        Ok(())
    }

    fn parse_code_section(
        &mut self,
        code: &mut CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), Error<Self::Error>> {
        for body in section {
            code.raw(body?.as_bytes());
        }
        code.function(&bump_allocator(self.region));
        Ok(())
    }
}

/// `cabi_realloc_adapter(old_ptr, old_len, align, new_len) -> ptr`: a bump
/// allocator whose cursor lives in the region's first word, which holds the
/// marker's first bytes until the first call. The adapter only ever asks for
/// fresh memory, so anything else — a non-null `old_ptr`, a cursor outside
/// the region, running out — traps rather than hand out memory twice.
fn bump_allocator(region: Region) -> wasm_encoder::Function {
    let (start, end) = (region.start as i32, (region.start + region.size) as i32);
    let first_word = i32::from_le_bytes(MARKER[..4].try_into().expect("the marker is longer than a word"));
    let word = MemArg { offset: 0, align: 2, memory_index: 0 };
    let mut f = wasm_encoder::Function::new([(2, ValType::I32)]); // locals 4: cursor, 5: pointer
    let mut i = f.instructions();
    let trap_if = |i: &mut wasm_encoder::InstructionSink<'_>| {
        i.if_(wasm_encoder::BlockType::Empty).unreachable().end();
    };
    i.local_get(0);
    trap_if(&mut i);
    // cursor = the marker still there ? start + 8 : mem[start], inside the region
    i.i32_const(start).i32_load(word).local_tee(4).i32_const(first_word).i32_eq();
    i.if_(wasm_encoder::BlockType::Empty).i32_const(start + 8).local_set(4).end();
    i.local_get(4).i32_const(start + 8).i32_lt_u().local_get(4).i32_const(end).i32_gt_u().i32_or();
    trap_if(&mut i);
    // pointer = align_up(cursor, align), inside the region, with new_len room
    i.local_get(4).local_get(2).i32_add().i32_const(1).i32_sub();
    i.i32_const(0).local_get(2).i32_sub().i32_and().local_tee(5);
    i.i32_const(end).i32_gt_u();
    trap_if(&mut i);
    i.local_get(3).i32_const(end).local_get(5).i32_sub().i32_gt_u();
    trap_if(&mut i);
    // cursor = pointer + new_len
    i.i32_const(start).local_get(5).local_get(3).i32_add().i32_store(word);
    i.local_get(5).end();
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{ConstExpr, DataSection, MemorySection, MemoryType, Module};

    /// A module with one page of memory, one empty function, and the marker
    /// for a 256-byte region at address 1024.
    fn reserving_module() -> Vec<u8> {
        let mut module = Module::new();
        let mut memories = MemorySection::new();
        memories.memory(MemoryType { minimum: 1, maximum: None, memory64: false, shared: false, page_size_log2: None });
        let mut types = TypeSection::new();
        types.ty().function([], []);
        module.section(&types);
        let mut functions = FunctionSection::new();
        functions.function(0);
        module.section(&functions);
        module.section(&memories);
        let mut exports = ExportSection::new();
        exports.export("memory", ExportKind::Memory, 0);
        exports.export("noop", ExportKind::Func, 0);
        module.section(&exports);
        let mut code = CodeSection::new();
        let mut noop = wasm_encoder::Function::new([]);
        noop.instructions().end();
        code.function(&noop);
        module.section(&code);
        let mut data = DataSection::new();
        data.active(0, &ConstExpr::i32_const(1000), b"padding to 24 bytes.....sluice:adapter-memory:256;".to_vec());
        module.section(&data);
        module.finish()
    }

    #[test]
    fn the_marker_names_the_region_and_the_allocator_stays_inside_it() {
        let module = reserving_module();
        let region = reserved_region(&module).unwrap().expect("the marker is found");
        assert_eq!(region, Region { start: 1024, size: 256 });

        let patched = add_allocator(&module, region).unwrap();
        let engine = wasmtime::Engine::default();
        let compiled = wasmtime::Module::new(&engine, &patched).unwrap();
        let mut store = wasmtime::Store::new(&engine, ());
        let instance = wasmtime::Instance::new(&mut store, &compiled, &[]).unwrap();
        let realloc = instance.get_typed_func::<(i32, i32, i32, i32), i32>(&mut store, EXPORT).unwrap();

        let first = realloc.call(&mut store, (0, 0, 8, 100)).unwrap();
        let second = realloc.call(&mut store, (0, 0, 16, 100)).unwrap();
        assert!(first >= 1024 + 8 && first % 8 == 0, "{first}");
        assert!(second >= first + 100 && second % 16 == 0, "{second}");
        assert!(second + 100 <= 1024 + 256, "inside the region: {second}");
        assert!(realloc.call(&mut store, (0, 0, 4, 100)).is_err(), "running out traps");
        assert!(realloc.call(&mut store, (0, 0, 4, i32::MAX)).is_err(), "a length that wraps around traps");
        assert!(realloc.call(&mut store, (first, 100, 4, 8)).is_err(), "reallocating traps");
    }

    #[test]
    fn a_module_without_the_marker_reserves_nothing() {
        assert_eq!(reserved_region(b"\0asm\x01\0\0\0").unwrap(), None);
    }
}
