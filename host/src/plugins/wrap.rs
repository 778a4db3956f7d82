//! `sluice plugin wrap`: make a plugin component out of a core WebAssembly
//! module, the output of C, Zig, Go and AssemblyScript compilers.
//!
//! This is what `wasm-tools component embed` + `component new --adapt` do,
//! done with the same library (wit-component) so that a plugin author needs
//! nothing beyond a compiler: the contract is embedded unless the module
//! already carries its component type (wit-bindgen's C output does), and the
//! WASI preview1 imports of libc-based modules are adapted to WASI 0.2 with the
//! adapter matched to the wasmtime inside this router.

mod adapter_memory;

use super::contract;
use anyhow::{Context, bail};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_component::{ComponentEncoder, StringEncoding};

/// How the module's strings are encoded in its linear memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Encoding {
    /// UTF-8: C, Zig, Go, Rust.
    #[default]
    Utf8,
    /// UTF-16: AssemblyScript, and others whose strings are UTF-16.
    Utf16,
}

/// What `wrap` needs to know beyond the module.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The string encoding to declare when the contract is embedded.
    pub encoding: Encoding,
    /// Let the WASI adapter take its memory with `memory.grow` instead of the
    /// module's `cabi_realloc`, for runtimes that cannot serve `cabi_realloc`
    /// while they start and leave grown memory alone. (Go does not leave it
    /// alone: it reserves a region instead, see [`adapter_memory`].)
    pub realloc_via_memory_grow: bool,
}

/// What `wrap` did, for the user.
#[derive(Debug)]
pub struct Wrapped {
    pub component: Vec<u8>,
    /// Whether the contract was embedded (false: the module carried its own).
    pub embedded_contract: bool,
    /// Whether the module imports WASI preview1 and so got the adapter.
    pub adapted_wasi: bool,
    /// The region the module reserved for the adapter's memory, if it did.
    pub adapter_region: Option<adapter_memory::Region>,
}

/// The layer field of a WebAssembly header: core modules are layer 0,
/// components layer 1.
fn layer(bytes: &[u8]) -> anyhow::Result<u16> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        bail!("not a WebAssembly file (no `\\0asm` header)");
    }
    Ok(u16::from_le_bytes([bytes[6], bytes[7]]))
}

/// Wrap the core module `core` into a component that implements the contract.
pub fn wrap(core: &[u8], options: Options) -> anyhow::Result<Wrapped> {
    if layer(core)? != 0 {
        bail!("this is already a component: it can be used as a plugin as it is (try `sluice plugin check`)");
    }
    let (stripped, _) = wit_component::metadata::decode(core).context("reading the module's component type")?;
    let embedded_contract = stripped.is_none();
    let mut module = core.to_vec();
    if embedded_contract {
        let (resolve, world) = contract::resolve()?;
        let encoding = match options.encoding {
            Encoding::Utf8 => StringEncoding::UTF8,
            Encoding::Utf16 => StringEncoding::UTF16,
        };
        wit_component::embed_component_metadata(&mut module, &resolve, world, encoding)
            .context("embedding the plugin contract")?;
    }
    let adapted_wasi = imports_module(core, WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME);
    // Only a module that gets the adapter has a use for the region.
    let reserved =
        if adapted_wasi { adapter_memory::reserved_region(core).context("looking for adapter memory")? } else { None };
    let adapter_region = match reserved {
        Some(region) => {
            if options.realloc_via_memory_grow {
                bail!("the module reserves memory for the WASI adapter: drop --realloc-via-memory-grow");
            }
            module = adapter_memory::add_allocator(&module, region).context("giving the adapter its memory")?;
            Some(region)
        }
        None => None,
    };
    let mut encoder = ComponentEncoder::default();
    encoder.validate(true).realloc_via_memory_grow(options.realloc_via_memory_grow);
    encoder.module(&module).context("reading the core module")?;
    if adapted_wasi {
        encoder
            .adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER)
            .context("adding the WASI preview1 adapter")?;
    }
    let component = encoder
        .encode()
        .with_context(|| format!("the module does not fit the {} contract", contract::package().unwrap_or_default()))?;
    Ok(Wrapped { component, embedded_contract, adapted_wasi, adapter_region })
}

/// Whether the module imports anything from the module `name`.
fn imports_module(core: &[u8], name: &str) -> bool {
    wasmparser::Parser::new(0).parse_all(core).any(|payload| match payload {
        Ok(wasmparser::Payload::ImportSection(imports)) => {
            imports.into_imports().any(|import| import.is_ok_and(|import| import.module == name))
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_component_is_refused_with_advice() {
        let (_, component) = crate::plugins::BUILTIN[0];
        let err = wrap(component, Options::default()).unwrap_err();
        assert!(format!("{err:#}").contains("already a component"), "{err:#}");
    }

    #[test]
    fn a_file_that_is_not_webassembly_is_refused() {
        let err = wrap(b"#!/bin/sh\necho hi\n", Options::default()).unwrap_err();
        assert!(format!("{err:#}").contains("not a WebAssembly file"), "{err:#}");
    }

    #[test]
    fn a_module_without_the_exports_names_the_contract() {
        let empty_module = b"\0asm\x01\0\0\0";
        let err = format!("{:#}", wrap(empty_module, Options::default()).unwrap_err());
        assert!(err.contains("does not fit the sluice:plugin@"), "{err}");
        assert!(
            ["metadata", "configure", "process"].iter().any(|export| err.contains(export)),
            "the missing export is named: {err}"
        );
    }

    /// A core module with the 0.3 contract's exports in the canonical ABI's
    /// core signatures (bodies that trap: only the types matter here).
    fn core_module_of_the_contract() -> Vec<u8> {
        use wasm_encoder::{
            CodeSection, ExportKind, ExportSection, Function, FunctionSection, Instruction, MemorySection, MemoryType,
            Module, TypeSection, ValType,
        };
        let i32s = |n| vec![ValType::I32; n];
        // (params, results) of each export, in the order the canonical ABI
        // flattens the contract: metadata returns a pointer to its record,
        // configure takes a string, process the batch's three lists.
        let exports: [(&str, Vec<ValType>, Vec<ValType>); 5] = [
            ("metadata", i32s(0), i32s(1)),
            ("configure", i32s(2), i32s(1)),
            ("process", i32s(6), i32s(1)),
            ("cabi_post_process", i32s(1), i32s(0)),
            ("cabi_realloc", i32s(4), i32s(1)),
        ];
        let mut types = TypeSection::new();
        let mut functions = FunctionSection::new();
        let mut code = CodeSection::new();
        let mut export_section = ExportSection::new();
        for (index, (name, params, results)) in exports.into_iter().enumerate() {
            types.ty().function(params, results);
            functions.function(index as u32);
            let mut body = Function::new([]);
            body.instruction(&Instruction::Unreachable).instruction(&Instruction::End);
            code.function(&body);
            export_section.export(name, ExportKind::Func, index as u32);
        }
        let mut memory = MemorySection::new();
        memory.memory(MemoryType { minimum: 1, maximum: None, memory64: false, shared: false, page_size_log2: None });
        export_section.export("memory", ExportKind::Memory, 0);
        let mut module = Module::new();
        module.section(&types).section(&functions).section(&memory).section(&export_section).section(&code);
        module.finish()
    }

    /// A module with the contract's exports becomes a component that the
    /// router loads as a plugin of the current contract, in either string
    /// encoding.
    #[test]
    fn a_module_with_the_exports_becomes_a_plugin_of_the_current_contract() {
        let runtime = crate::plugins::Runtime::new(None).unwrap();
        for encoding in [Encoding::Utf8, Encoding::Utf16] {
            let wrapped = wrap(&core_module_of_the_contract(), Options { encoding, ..Options::default() }).unwrap();
            assert!(wrapped.embedded_contract && !wrapped.adapted_wasi && wrapped.adapter_region.is_none());
            let plugin = runtime.load("wrapped", &wrapped.component).unwrap();
            assert_eq!(plugin.contract(), crate::plugins::Contract::V03, "{encoding:?}");
            assert_eq!(plugin.contract().to_string(), contract::package().unwrap());
        }
    }
}
