//! Compiles the plugins in `plugins/` to `wasm32-wasip2` components and
//! embeds the built-in ones in the `sluice` binary.
//!
//! The plugins are members of this workspace, so a nested `cargo build` with
//! its own target directory builds them; the nested build must not inherit
//! the outer build's flags (clippy wrappers, coverage or sanitizer flags meant
//! for the host). On a fresh machine rustup may lack the wasm target even
//! though `rust-toolchain.toml` lists it (rustup only adds listed targets when
//! it installs the toolchain), so the target is added here when missing.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

/// Plugins embedded in the binary: (package, name used in configs).
const BUILTIN: &[(&str, &str)] = &[
    ("sluice-plugin-agent-event", "agent-event"),
    ("sluice-plugin-redact", "redact"),
    ("sluice-plugin-cef", "cef"),
    ("sluice-plugin-leef", "leef"),
    ("sluice-plugin-ocsf", "ocsf"),
    ("sluice-plugin-json", "json"),
];

/// Plugins built only for the router's own tests.
const TESTING: &[(&str, &str)] = &[
    ("sluice-plugin-tag", "tag"),
    ("sluice-plugin-misbehave", "misbehave"),
    ("sluice-plugin-version-one", "version-one"),
    ("sluice-plugin-version-two", "version-two"),
    ("sluice-plugin-capabilities", "capabilities"),
];

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.parent().expect("host/ sits in the workspace").to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-changed={}", workspace.join("plugins").display());
    println!("cargo:rerun-if-changed={}", workspace.join("wit").display());
    println!("cargo:rerun-if-changed={}", workspace.join("Cargo.lock").display());
    println!("cargo:rerun-if-changed={}", workspace.join(".cargo/config.toml").display());

    ensure_wasm_target();
    let target_dir = plugin_target_dir(&out_dir);
    build_plugins(&workspace, &target_dir);

    let built = target_dir.join(TARGET).join("plugin");
    let mut embedded =
        String::from("/// The built-in plugins: (name, component bytes).\npub const BUILTIN: &[(&str, &[u8])] = &[\n");
    for (package, name) in BUILTIN {
        let file = built.join(format!("{}.wasm", package.replace('-', "_")));
        assert!(file.exists(), "plugin build produced no {}", file.display());
        embedded.push_str(&format!("    ({name:?}, include_bytes!({:?})),\n", file.display().to_string()));
    }
    embedded.push_str("];\n");
    std::fs::write(out_dir.join("builtin_plugins.rs"), embedded).expect("write builtin_plugins.rs");

    // Tests find their plugins here: `env!("SLUICE_TEST_PLUGINS")/<name>.wasm`.
    let testing_dir = out_dir.join("test-plugins");
    std::fs::create_dir_all(&testing_dir).expect("create test-plugins dir");
    for (package, name) in TESTING.iter().chain(BUILTIN) {
        let file = built.join(format!("{}.wasm", package.replace('-', "_")));
        std::fs::copy(&file, testing_dir.join(format!("{name}.wasm")))
            .unwrap_or_else(|err| panic!("copy {}: {err}", file.display()));
    }
    println!("cargo:rustc-env=SLUICE_TEST_PLUGINS={}", testing_dir.display());
}

/// Add the wasm target through rustup when the toolchain lacks it.
fn ensure_wasm_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let libdir = Command::new(&rustc).args(["--print", "target-libdir", "--target", TARGET]).output();
    if let Ok(out) = libdir
        && out.status.success()
        && Path::new(String::from_utf8_lossy(&out.stdout).trim()).exists()
    {
        return;
    }
    println!("cargo:warning=adding the {TARGET} target with rustup (first build on this machine)");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .unwrap_or_else(|err| panic!("the {TARGET} target is missing and rustup could not run: {err}"));
    assert!(status.success(), "`rustup target add {TARGET}` failed");
}

/// A target directory beside the host's, shared by every profile, so debug,
/// release and clippy builds compile the plugins once.
fn plugin_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").exists())
        .map(|target| target.join("plugins"))
        .unwrap_or_else(|| out_dir.join("plugins"))
}

fn build_plugins(workspace: &Path, target_dir: &Path) {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(["build", "--profile", "plugin", "--target", TARGET, "--target-dir"])
        .arg(target_dir);
    for (package, _) in BUILTIN.iter().chain(TESTING) {
        cmd.args(["-p", package]);
    }
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy();
        let keep = key == "CARGO_HOME" || key == "CARGO_MAKEFLAGS" || key == "CARGO_NET_OFFLINE";
        let outer = key.starts_with("CARGO_")
            || key.starts_with("RUSTC_")
            || matches!(key.as_ref(), "RUSTFLAGS" | "RUSTDOCFLAGS" | "TARGET" | "HOST" | "OUT_DIR" | "PROFILE");
        if outer && !keep {
            cmd.env_remove(key.as_ref());
        }
    }
    let status = cmd.status().expect("run cargo to build the plugins");
    assert!(status.success(), "building the plugins for {TARGET} failed (see the output above)");
}
