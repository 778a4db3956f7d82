//! Every event the plugin emits for both corpora, with and without
//! `unmapped`, is valid against the pinned OCSF 1.8.0 JSON Schema of its class
//! (`schema/<class>.json`, generated from the OCSF export; see
//! `schema/README.md`), and carries the ids and captions the schema defines.
//! The corpora must reach every `event.kind` and every class the plugin emits,
//! so no class goes unvalidated.

mod common;

use serde_json::{Value, json};
use sluice_plugin_ocsf::{Class, SCHEMA_VERSION};
use std::collections::{BTreeMap, BTreeSet};

const KINDS: &[&str] =
    &["prompt", "reasoning", "tool_call", "api_call", "retrieval", "authz", "output", "error", "lifecycle"];

struct Pinned {
    validators: BTreeMap<u64, (Class, jsonschema::Validator)>,
    captions: Value,
}

impl Pinned {
    fn load() -> Pinned {
        let captions = common::schema_file("captions.json");
        assert_eq!(captions["version"], SCHEMA_VERSION, "schema/ is pinned to another OCSF version than the plugin");
        let validators = Class::ALL
            .iter()
            .map(|class| {
                let schema = common::schema_file(&format!("{}.json", class.schema_name()));
                let validator = jsonschema::validator_for(&schema)
                    .unwrap_or_else(|err| panic!("schema/{}.json does not compile: {err}", class.schema_name()));
                (u64::from(class.uid()), (*class, validator))
            })
            .collect();
        Pinned { validators, captions }
    }

    /// Validate one emitted event; returns its class.
    fn check(&self, input: &Value, output: &Value) -> Class {
        let class_uid = output["class_uid"].as_u64().unwrap_or_else(|| panic!("no class_uid in {output}"));
        let (class, validator) = self.validators.get(&class_uid).unwrap_or_else(|| panic!("class {class_uid}?"));
        let errors: Vec<String> =
            validator.iter_errors(output).map(|e| format!("  at {}: {e}", e.instance_path())).collect();
        assert!(
            errors.is_empty(),
            "not valid OCSF {}:\n{}\nevent: {input}\nocsf: {output}",
            class.caption(),
            errors.join("\n")
        );

        let pinned = &self.captions["classes"][class.schema_name()];
        assert_eq!(pinned["uid"], json!(class.uid()));
        let enums = &pinned["enums"];
        let caption = |attr: &str, id: &Value| enums[attr][id.to_string()].as_str().map(str::to_owned);
        let activity_id = &output["activity_id"];
        let type_uid = output["type_uid"].as_u64().unwrap();
        assert_eq!(type_uid, class_uid * 100 + activity_id.as_u64().unwrap(), "type_uid in {output}");
        assert_eq!(output["class_name"].as_str().map(str::to_owned), caption("class_uid", &output["class_uid"]));
        assert_eq!(
            output["category_name"].as_str().map(str::to_owned),
            caption("category_uid", &output["category_uid"])
        );
        assert_eq!(output["type_name"].as_str().map(str::to_owned), caption("type_uid", &json!(type_uid)));
        // An activity OCSF names carries OCSF's caption; Other carries the
        // source's own name, which must be there.
        if activity_id == 99 {
            assert!(output["activity_name"].as_str().is_some_and(|n| !n.is_empty()), "unnamed Other: {output}");
        } else {
            assert_eq!(output["activity_name"].as_str().map(str::to_owned), caption("activity_id", activity_id));
        }
        for (id, name) in [
            ("severity_id", "severity"),
            ("status_id", "status"),
            ("action_id", "action"),
            ("disposition_id", "disposition"),
        ] {
            let Some(value) = output.get(id) else { continue };
            if value == 99 {
                assert!(output[name].is_string(), "{name} names Other in {output}");
            } else {
                assert_eq!(output[name].as_str().map(str::to_owned), caption(id, value), "{name} in {output}");
            }
        }
        // The profiles the event declares are exactly those the schema was
        // generated with, so no attribute slipped in under a profile the event
        // does not claim.
        assert_eq!(output["metadata"]["profiles"], pinned["profiles"], "profiles in {output}");
        assert_eq!(output["metadata"]["version"], SCHEMA_VERSION);
        assert!(output["time"].as_i64().is_some_and(|t| t > 0), "time in epoch ms: {output}");
        *class
    }
}

#[test]
fn every_event_of_both_corpora_is_valid_ocsf_of_its_class() {
    let pinned = Pinned::load();
    let mut classes = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    let events = common::all_events();
    for config in [json!({}), json!({"include_unmapped": false, "product": {"name": "gw", "version": "9"}})] {
        for event in &events {
            let output = common::emit(&config, event);
            classes.insert(pinned.check(event, &output).schema_name());
            if let Some(kind) = event["event"]["kind"].as_str() {
                kinds.insert(kind);
            }
        }
    }
    let missing: Vec<_> = KINDS.iter().filter(|k| !kinds.contains(**k)).collect();
    assert!(missing.is_empty(), "the corpora miss event kinds {missing:?}");
    let all: BTreeSet<_> = Class::ALL.iter().map(|c| c.schema_name()).collect();
    assert_eq!(classes, all, "every class the plugin emits is validated");
}

/// The validator is not vacuous: it rejects what OCSF rejects.
#[test]
fn the_pinned_schemas_reject_invalid_events() {
    let pinned = Pinned::load();
    let event = common::own_corpus().into_iter().find(|e| e["event"]["id"] == "own-12-delete").unwrap();
    let valid = common::emit(&json!({}), &event);
    let (_, validator) = &pinned.validators[&6003];
    assert!(validator.is_valid(&valid));
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut output = valid.clone();
        edit(&mut output);
        validator.is_valid(&output)
    };
    assert!(!broken(&|o| o["activity_id"] = json!(7)), "activity_id outside the enum");
    assert!(!broken(&|o| o["type_uid"] = json!(600307)), "type_uid outside the enum");
    assert!(
        !broken(&|o| {
            o.as_object_mut().unwrap().remove("actor");
        }),
        "actor is required"
    );
    assert!(!broken(&|o| o["api"].as_object_mut().unwrap().clear()), "api.operation is required");
    assert!(!broken(&|o| o["actor"] = json!({"authorizations": []})), "actor needs one of its identities");
    assert!(!broken(&|o| o["time"] = json!("2026-11-26T09:50:00Z")), "time is epoch ms");
    assert!(!broken(&|o| o["ai_agent"] = json!({"uid": "x"})), "1.8.0 has no ai_agent");
    assert!(!broken(&|o| o["dst_endpoint"]["ip"] = json!("999.1.1.1")), "ip_t");
    assert!(!broken(&|o| o["metadata"]["product"] = json!({"lang": "en"})), "product needs a name or uid");
}
