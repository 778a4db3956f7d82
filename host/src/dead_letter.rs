//! The dead-letter output: events that could not be handled, with the reason.
//!
//! Dead-lettering is a delivery, not a loss: each record is one JSON line with
//! the original event, the component that gave up on it, the reason and the
//! time, written to a file that an operator can inspect and replay.
//!
//! A record holds the event as it was when it failed, which may be before
//! redaction: the file is created owner-only (0600), and so are the
//! directories created for it (0700).

use crate::ack::Finaliser;
use crate::event::{Batch, Event};
use crate::metrics::ComponentMetrics;
use anyhow::Context;
use serde::Serialize;
use serde_json::value::RawValue;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// Events that one component gave up on, for one reason each.
#[derive(Debug)]
pub struct Rejected {
    component: Arc<str>,
    records: Vec<(Event, String)>,
    finaliser: Option<Finaliser>,
}

impl Rejected {
    /// The events and their reasons.
    pub fn records(&self) -> &[(Event, String)] {
        &self.records
    }
}

/// Handle for sending events to the dead-letter output; cheap to clone.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    tx: mpsc::Sender<Rejected>,
    metrics: Arc<ComponentMetrics>,
}

impl DeadLetter {
    /// A handle and the receiver its writer drains.
    pub fn channel(metrics: Arc<ComponentMetrics>) -> (DeadLetter, mpsc::Receiver<Rejected>) {
        let (tx, rx) = mpsc::channel(64);
        (DeadLetter { tx, metrics }, rx)
    }

    fn rejected(&self, component: &ComponentMetrics, from: &Batch, records: Vec<(Event, String)>) -> Option<Rejected> {
        if records.is_empty() {
            return None;
        }
        // One log line per rejected batch, not per event: a quarantined plugin
        // at full rate must not turn the router's log into the hot path.
        component.dead_lettered(records.len(), &records[0].1);
        let finaliser = from.finaliser().cloned();
        Some(Rejected { component: component.id().into(), records, finaliser })
    }

    /// The writer has stopped: the source must not count these as delivered.
    fn closed(&self, unsent: &Rejected) {
        if let Some(finaliser) = &unsent.finaliser {
            finaliser.fail();
        }
        self.metrics.error("the dead-letter output has stopped; the events stay unacknowledged", &"writer gone");
    }

    /// Send records from async code; they share `from`'s acknowledgement.
    pub async fn send(&self, component: &ComponentMetrics, from: &Batch, records: Vec<(Event, String)>) {
        if let Some(rejected) = self.rejected(component, from, records)
            && let Err(unsent) = self.tx.send(rejected).await
        {
            self.closed(&unsent.0);
        }
    }

    /// Send records from a worker thread.
    pub fn blocking_send(&self, component: &ComponentMetrics, from: &Batch, records: Vec<(Event, String)>) {
        if let Some(rejected) = self.rejected(component, from, records)
            && let Err(unsent) = self.tx.blocking_send(rejected)
        {
            self.closed(&unsent.0);
        }
    }
}

#[derive(Serialize)]
struct Record<'a> {
    time: &'a str,
    component: &'a str,
    reason: &'a str,
    event: EventField<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<&'a str>,
}

/// The original event: as JSON when it is JSON, else as a string.
#[derive(Serialize)]
#[serde(untagged)]
enum EventField<'a> {
    Json(&'a RawValue),
    Text(&'a str),
}

/// Render one dead-letter record as a JSON line (without the newline).
pub fn render(time: &str, component: &str, reason: &str, event: &Event) -> String {
    let raw: Option<&RawValue> = serde_json::from_str(event.json()).ok();
    let record = Record {
        time,
        component,
        reason,
        event: raw.map_or(EventField::Text(event.json()), EventField::Json),
        line: event.line(),
    };
    serde_json::to_string(&record).expect("a record of strings serialises")
}

/// Write rejected events to `path` until every sender is gone.
pub async fn run_writer(
    path: PathBuf,
    mut rx: mpsc::Receiver<Rejected>,
    metrics: Arc<ComponentMetrics>,
) -> anyhow::Result<()> {
    let mut file = open_owner_only(&path).await?;
    while let Some(rejected) = rx.recv().await {
        let time = crate::timestamp::now_rfc3339();
        let mut buf = String::new();
        for (event, reason) in &rejected.records {
            buf.push_str(&render(&time, &rejected.component, reason, event));
            buf.push('\n');
        }
        metrics.received(rejected.records.len());
        match file.write_all(buf.as_bytes()).await.and(file.flush().await) {
            Ok(()) => metrics.sent(rejected.records.len()),
            Err(err) => {
                if let Some(finaliser) = &rejected.finaliser {
                    finaliser.fail();
                }
                metrics.error(&format!("writing the dead-letter file {}", path.display()), &err);
            }
        }
    }
    Ok(())
}

/// Open `path` for appending; a new file is readable by its owner only, and
/// so are the missing directories created for it. An existing file keeps
/// its mode (an operator may have granted a group), with a warning if others
/// can read it.
async fn open_owner_only(path: &Path) -> anyhow::Result<tokio::fs::File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut dirs = tokio::fs::DirBuilder::new();
        dirs.recursive(true);
        #[cfg(unix)]
        dirs.mode(0o700);
        dirs.create(parent).await.with_context(|| format!("creating directory {}", parent.display()))?;
    }
    let mut options = tokio::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    options.mode(0o600);
    let file = options.open(path).await.with_context(|| format!("opening {} for appending", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().await.map(|m| m.permissions().mode() & 0o777).unwrap_or(0o600);
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{mode:o}"),
                "the dead-letter file can be read by others than its owner; it may hold unredacted events"
            );
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_embeds_json_events_and_quotes_others() {
        let json = Event::from_json(r#"{"a":1}"#.to_owned());
        let line = render("T", "normalise", "bad \"kind\"", &json);
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["event"]["a"], 1);
        assert_eq!(parsed["reason"], "bad \"kind\"");
        assert_eq!(parsed["component"], "normalise");

        let text = Event::from_json("not json {".to_owned());
        let parsed: serde_json::Value = serde_json::from_str(&render("T", "c", "r", &text)).unwrap();
        assert_eq!(parsed["event"], "not json {");
    }

    /// The file is created owner-only (0600), in directories created 0700,
    /// whatever the umask lets through; records are appended across runs.
    #[cfg(unix)]
    #[tokio::test]
    async fn the_file_and_the_directories_created_for_it_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| p.metadata().unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = dir.path().join("a/b/dead-letter.jsonl");
        let metrics = crate::metrics::Metrics::default();
        for reason in ["first", "second"] {
            let (dead_letter, rx) = DeadLetter::channel(metrics.component("dl"));
            let writer = tokio::spawn(run_writer(path.clone(), rx, metrics.component("dl")));
            let event = Event::from_json(r#"{"secret":"s3cr3t"}"#.to_owned());
            dead_letter.send(&metrics.component("t"), &Batch::new(Vec::new()), vec![(event, reason.to_owned())]).await;
            drop(dead_letter);
            writer.await.unwrap().unwrap();
        }
        assert_eq!(mode(&path), 0o600, "the file");
        assert_eq!(mode(&dir.path().join("a")), 0o700, "a directory created for it");
        assert_eq!(mode(&dir.path().join("a/b")), 0o700, "a directory created for it");
        assert_eq!(mode(dir.path()), 0o755, "an existing directory is left alone");
        let text = std::fs::read_to_string(&path).unwrap();
        let reasons: Vec<String> =
            text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["reason"].to_string()).collect();
        assert_eq!(reasons, [r#""first""#, r#""second""#]);
    }
}
