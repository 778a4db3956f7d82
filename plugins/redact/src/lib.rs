//! Plugin `redact`: remove secrets and personal data from every string of an
//! event — nested objects, lists, a raw `message`, member names if asked —
//! before it leaves for the SIEM, and record what was found in the event's
//! `redaction` object (module `report`).
//!
//! Each rule is on by default and can be switched off, and each has a mode:
//! `mask` writes a marker naming the rule (`[REDACTED:email]`), `hash` writes
//! a keyed tag (`[HASH:email:3f9c0a7d1b2e4c5f]`, module `hash`) so that the
//! same secret correlates across events without being shown, and `drop`
//! removes the field. Rules of your own are regular expressions. The config
//! is described in module `config`.
//!
//! ## Built-in rules
//!
//! In the order they claim text (module `rules`; the checks are in `checks`).
//!
//! | rule | what it finds | default mode | confidence |
//! |---|---|---|---|
//! | `private_key` | PEM private-key blocks, `BEGIN` to `END` (or to the end of a cut-off string) | mask | high |
//! | `jwt` | JSON Web Tokens `eyJ….ey….signature` | mask | high |
//! | `aws_access_key` | AWS access key ids `AKIA…`, `ASIA…` | mask | high |
//! | `anthropic_key` | Anthropic API keys `sk-ant-…` | mask | high |
//! | `openai_key` | OpenAI keys `sk-proj-…`, `sk-svcacct-…`, `sk-admin-…`, `sk-` and 32+ alphanumerics | mask | high |
//! | `github_token` | GitHub tokens `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_` | mask | high |
//! | `gitlab_token` | GitLab tokens `glpat-`, `glrt-`, `gldt-` …, runner registration `GR1348941…` | mask | high |
//! | `slack_token` | Slack tokens `xoxb-`, `xoxp-` …, app tokens `xapp-`, incoming-webhook URLs | mask | high |
//! | `google_api_key` | Google API keys `AIza…` | mask | high |
//! | `google_oauth_token` | Google OAuth tokens `ya29.…`, `1//0…`, client secrets `GOCSPX-…` | mask | high |
//! | `stripe_key` | Stripe keys `sk_live_…`, `rk_test_…`, webhook secrets `whsec_…` | mask | high |
//! | `url_password` | the password in `scheme://user:password@host` | mask | high |
//! | `email` | e-mail addresses, Latin letters with diacritics included | mask | ambiguous |
//! | `iban` | IBANs, compact or grouped: an issuing country, its length, ISO 13616 check digits | mask | ambiguous |
//! | `card_number` | card numbers, whole or grouped by spaces or dashes: issuer range and length, Luhn | mask | ambiguous |
//! | `us_ssn` | US social security numbers `123-45-6789` in issued ranges, 9 digits after `SSN` | mask | ambiguous |
//! | `phone` | `+` and 8–15 digits; national formats with separators; digits after `phone:`, `tel:` | mask | ambiguous |
//! | `aws_secret_key` | AWS secret access keys after `aws_secret_access_key` or `SecretAccessKey` | mask | high |
//! | `bearer_token` | the credential after `Bearer` or in an `Authorization:` header | mask | high |
//! | `password` | the value after a secret-like name (`password=`, `DB_PASSWORD:`, `x-api-key:`) | mask | high |
//!
//! Where a name says what follows is a secret (`url_password`,
//! `aws_secret_key`, `bearer_token`, `password`), the name, scheme, user and
//! host stay readable and only the secret goes. `password` also takes the
//! whole string value of a member named like a secret (`"password"`,
//! `"client_secret"`, `"Authorization"`, `"cookie"`, `"token"`), and the
//! value after `--password` and the like on a command line. Phone numbers are
//! international (`+` and 8–15 digits, E.164's limit, any separators), North
//! American with separators (`(415) 555-0132`), national with a trunk 0 and
//! separators (`020 7946 0958`, `06 12 34 56 78`), or 7–15 digits after a
//! `phone`, `tel`, `mobile` or `fax` label. E-mail addresses exclude two
//! shapes that only look like one: `git@host:org/repo` remotes and
//! `icon@2x.png`.
//!
//! Numbers must stand alone to count as card, social-security or phone
//! numbers: a digit run inside a trace id, a version or a longer number is
//! not one.
//!
//! The correlation ids on the `skip` list (`event.id`, `session.id`,
//! `trace.id`, `trace.span_id`, `trace.parent_span_id`, `time`,
//! `received_at`) are looked at by the high-confidence rules only: a key, a
//! token or a JWT is never a legitimate id, so it is masked there too, while
//! the ambiguous rules, whose finds are plausible inside an id (digit runs,
//! phone-like numbers, IBAN shapes, an address as a user's key), leave the
//! ids alone so that the SIEM's joins keep working. A rule of your own is
//! high-confidence unless its table says `confidence = "ambiguous"`. Placeholders (`password=null`, `api_key=${KEY}`, `secret=****`)
//! are left as they are.
//!
//! An event with nothing to redact passes on untouched (no copy back to the
//! router). What this plugin writes is never redacted again, so a second
//! redact stage adds only what the first did not find.

mod checks;
mod claims;
mod config;
mod edit;
mod hash;
mod paths;
mod redactor;
mod report;
mod rules;
mod walk;

use serde_json::Value;
use sluice_plugin::{Outcome, Plugin, export_plugin, parse_object};

/// The plugin instance: the compiled rules, where to apply them, and
/// buffers reused from event to event.
pub struct Redact {
    redactor: redactor::Redactor,
    targets: walk::Targets,
    scratch: redactor::Scratch,
}

impl Plugin for Redact {
    fn configure(config: Value) -> Result<Self, String> {
        let settings = config::Settings::parse(&config)?;
        let redactor = redactor::Redactor::new(&settings)?;
        let targets = walk::Targets {
            skip: paths::PathTree::new(&settings.skip),
            paths: settings.paths.as_deref().map(paths::PathTree::new),
            keys: settings.keys,
            look_in_skipped: redactor.looks_in_skipped_fields(),
        };
        let scratch = redactor.scratch();
        Ok(Redact { redactor, targets, scratch })
    }

    fn process(&mut self, event: &str) -> Outcome {
        // Most events have nothing to redact; where the rules allow, one
        // pass over the whole text says so.
        if self.redactor.may_redact_event(event) == Some(false) {
            return Outcome::Keep;
        }
        match edit::redact(&self.redactor, &self.targets, &mut self.scratch, event) {
            Some(None) => Outcome::Keep,
            Some(Some(json)) => Outcome::Replace(json),
            None => self.by_walk(event),
        }
    }
}

impl Redact {
    /// The general way, for what editing in place does not do: parse the
    /// event, walk it, write it out.
    fn by_walk(&mut self, event_text: &str) -> Outcome {
        let mut event = match parse_object(event_text) {
            Ok(event) => event,
            Err(reason) => return Outcome::Fail(reason),
        };
        let report = walk::redact_event(&self.redactor, &self.targets, &mut self.scratch, &mut event);
        // The tree holds one value of a name given twice; the text handed on
        // with `Keep` would still hold the other, unredacted.
        if report.is_empty() && !sluice_plugin::raw::repeats_a_name(event_text) {
            return Outcome::Keep;
        }
        if !report.is_empty() {
            report::record(&mut event, self.redactor.names(), report);
        }
        Outcome::Replace(sluice_plugin::object_to_json(&event))
    }
}

export_plugin!(Redact);

#[cfg(test)]
mod tests;
