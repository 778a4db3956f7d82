//! placeholder
use sluice_plugin::{Outcome, Plugin, export_plugin};
struct P;
impl Plugin for P {
    fn init(_c: serde_json::Value) -> Result<Self, String> {
        Ok(P)
    }
    fn process(&mut self, _e: &str) -> Outcome {
        Outcome::Keep
    }
}
export_plugin!(P);
