use super::*;
use crate::sources::testing::Harness;
use serde_json::json;

#[tokio::test]
async fn sends_count_events_in_batches_then_ends() {
    let config = DemoConfig { count: 12, ..DemoConfig::default() };
    let mut source =
        Harness::new("demo").batch(5, Duration::from_millis(10)).capacity(1024).start(|ctx| run(config, ctx));
    let mut lines = Vec::new();
    while let Some(batch) = source.batch().await {
        for event in crate::sources::testing::json(&batch) {
            assert_eq!(event["source"], json!({"id": "demo"}));
            assert!(event["received_at"].is_string());
            lines.push(event["message"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(source.sizes, [5, 5, 2]);
    assert_eq!(lines, (0..12).map(|i| generate(42, i)).collect::<Vec<_>>());
    let counts = source.metrics.counts();
    assert_eq!((counts.received, counts.sent), (12, 12));
    source.finish().await;
}

#[tokio::test]
async fn stops_early_on_shutdown() {
    let config = DemoConfig { count: 1000, interval_ms: 5, ..DemoConfig::default() };
    let mut source = Harness::new("demo").capacity(1024).start(|ctx| run(config, ctx));
    let first = source.batch().await.unwrap();
    assert_eq!(first.len(), 1, "one event per batch with an interval");
    let rest = source.stop().await.rest.len();
    assert!(rest < 10, "stopped early, sent {rest} more");
}

#[test]
fn config_defaults_and_unknown_keys() {
    let config: DemoConfig = toml::from_str("").unwrap();
    assert_eq!((config.count, config.interval_ms, config.seed), (12, 0, 42));
    assert!(toml::from_str::<DemoConfig>("cnt = 3").is_err());
}
