//! `sluice demo`: the default pipeline fed by generated agent events, with
//! the result shown in each SIEM format side by side, so a newcomer sees in
//! one command what sluice does to the same events.

use crate::config::{Config, DEFAULT_CONFIG, Sink, Transform};
use crate::sinks::SinkConfig;
use crate::sinks::file::config::FileSinkConfig;
use crate::sources::SourceConfig;
use crate::sources::demo::DemoConfig;
use crate::transforms::TransformConfig;
use crate::transforms::wasm::WasmConfig;
use anyhow::Context;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// The formats shown: (plugin, heading).
pub const FORMATS: &[(&str, &str)] = &[
    ("cef", "CEF — ArcSight, Sentinel"),
    ("leef", "LEEF — QRadar"),
    ("ocsf", "OCSF — Security Lake, Splunk, Elastic"),
];

/// The default pipeline's parsing and redaction, with the demo source as its
/// only input and one file per format in `out_dir` as its outputs.
pub fn config(count: u64, out_dir: &Path) -> anyhow::Result<Config> {
    let mut config = Config::parse(DEFAULT_CONFIG).map_err(|errors| anyhow::anyhow!("{errors}"))?;
    let demo = SourceConfig::Demo(DemoConfig { count, ..DemoConfig::default() });
    config.sources = BTreeMap::from([("demo".to_owned(), demo)]);
    let normalise = config.transforms.get_mut("normalise").context("the default pipeline normalises")?;
    normalise.inputs = vec!["demo".to_owned()];
    config.transforms.retain(|id, _| id == "normalise" || id == "redact");
    config.sinks.clear();
    // A one-shot run: it must not take the API port from a router running
    // beside it (the default pipeline's `[api]`).
    config.api = None;
    for (plugin, _) in FORMATS {
        let wasm = WasmConfig {
            plugin: (*plugin).to_owned(),
            config: Default::default(),
            limits: Default::default(),
            workers: None,
            shard_by: None,
        };
        let transform = Transform { inputs: vec!["redact".to_owned()], kind: TransformConfig::Wasm(wasm) };
        config.transforms.insert((*plugin).to_owned(), transform);
        let file = FileSinkConfig { path: out_dir.join(format!("{plugin}.txt")) };
        let sink = Sink { inputs: vec![(*plugin).to_owned()], buffer: None, kind: SinkConfig::File(file) };
        config.sinks.insert(format!("{plugin}_file"), sink);
    }
    Ok(config)
}

/// Print what each format's sink wrote, under its heading.
pub fn print(out_dir: &Path, out: &mut impl Write) -> anyhow::Result<()> {
    for (plugin, heading) in FORMATS {
        let path = out_dir.join(format!("{plugin}.txt"));
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        writeln!(out, "── {heading} ──")?;
        out.write_all(text.as_bytes())?;
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_gets_its_transform_and_sink_after_redaction() {
        let config = config(5, Path::new("/tmp/demo-out")).unwrap();
        assert_eq!(config.sources.keys().collect::<Vec<_>>(), ["demo"]);
        for (plugin, _) in FORMATS {
            assert_eq!(config.transforms[*plugin].inputs, ["redact"]);
            assert_eq!(config.sinks[&format!("{plugin}_file")].inputs, [*plugin]);
        }
        assert_eq!(config.transforms["normalise"].inputs, ["demo"]);
        assert_eq!(config.transforms["redact"].inputs, ["normalise"]);
        // The default pipeline serves the API; the demo must not, or it
        // would fail beside a running router.
        assert!(Config::parse(DEFAULT_CONFIG).unwrap().api.is_some());
        assert_eq!(config.api, None);
    }
}
