//! Secrets kept outside the config file: `${NAME}` (an environment
//! variable) and `${file:/path}` (a file's contents, one trailing line break
//! dropped) in any string of the config are replaced when the config is
//! loaded. `$${` writes a literal `${`.
//!
//! A reference that cannot be resolved is a config error naming the key and
//! the variable or file, never a value. The values resolved are remembered
//! so that whatever sluice prints about the config — its errors (a value
//! quoted by a check, a plugin's refusal of its config) and `validate`'s
//! description — shows `${NAME}` in their place.

use crate::validation::ConfigError;
use toml::Value;

/// The values the config's references resolved to, with the reference each
/// came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    resolved: Vec<(String, String)>,
}

impl Secrets {
    /// Replace every `${…}` in the strings of `table`, reporting each one that
    /// cannot be resolved in `errors`.
    pub fn resolve(table: &mut toml::Table, errors: &mut Vec<ConfigError>) -> Secrets {
        let mut secrets = Secrets::default();
        for (key, value) in table.iter_mut() {
            secrets.walk(key, value, errors);
        }
        // Longest first, so that a value containing another is hidden whole.
        secrets.resolved.sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
        secrets
    }

    fn walk(&mut self, at: &str, value: &mut Value, errors: &mut Vec<ConfigError>) {
        match value {
            Value::String(text) if text.contains("${") => match self.expand(text) {
                Ok(expanded) => *text = expanded,
                Err(problem) => errors.push(ConfigError::new(at, problem)),
            },
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.walk(&format!("{at}[{i}]"), item, errors);
                }
            }
            Value::Table(table) => {
                for (key, item) in table.iter_mut() {
                    self.walk(&format!("{at}.{key}"), item, errors);
                }
            }
            _ => {}
        }
    }

    /// `text` with its references replaced, or why one cannot be.
    fn expand(&mut self, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            rest = &rest[at..];
            if let Some(after) = rest.strip_prefix("$${") {
                out.push_str("${");
                rest = after;
            } else if let Some(after) = rest.strip_prefix("${") {
                let end = after
                    .find('}')
                    .ok_or_else(|| "a `${` without its closing `}` (write `$${` for a literal `${`)".to_owned())?;
                let reference = &after[..end];
                let value = lookup(reference)?;
                if !value.is_empty() {
                    self.resolved.push((value.clone(), format!("${{{reference}}}")));
                }
                out.push_str(&value);
                rest = &after[end + 1..];
            } else {
                out.push('$');
                rest = &rest[1..];
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `text` with every resolved value replaced by its reference.
    pub fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (value, reference) in &self.resolved {
            if text.contains(value.as_str()) {
                text = text.replace(value.as_str(), reference);
            }
        }
        text
    }

    /// Scrub every message of `errors`.
    pub fn scrub_errors(&self, errors: &mut [ConfigError]) {
        for error in errors {
            error.message = self.scrub(&error.message);
        }
    }
}

/// The value of one reference: `file:/path` or an environment variable's name.
fn lookup(reference: &str) -> Result<String, String> {
    if let Some(path) = reference.strip_prefix("file:") {
        if !path.starts_with('/') {
            return Err(format!("`${{file:{path}}}` must name an absolute path"));
        }
        let text = std::fs::read_to_string(path).map_err(|err| format!("cannot read the secret file {path}: {err}"))?;
        let text = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text);
        return Ok(text.to_owned());
    }
    let valid = reference.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && reference.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "`${{{reference}}}` is not a reference: use `${{NAME}}` for an environment variable, \
             `${{file:/path}}` for a file, `$${{` for a literal `${{`"
        ));
    }
    match std::env::var(reference) {
        Ok(value) => Ok(value),
        Err(std::env::VarError::NotPresent) => Err(format!("the environment variable `{reference}` is not set")),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("the environment variable `{reference}` is not UTF-8")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(text: &str) -> (toml::Table, Secrets, Vec<String>) {
        let mut table: toml::Table = text.parse().unwrap();
        let mut errors = Vec::new();
        let secrets = Secrets::resolve(&mut table, &mut errors);
        (table, secrets, errors.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn environment_variables_and_files_are_read_and_remembered() {
        // A name no other test or process sets.
        unsafe { std::env::set_var("SLUICE_TEST_SECRET_TOKEN", "s3cr3t-t0k3n") };
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, "from-a-file\n").unwrap();
        let (table, secrets, errors) = resolve(&format!(
            "[sinks.s]\ntoken = \"Splunk ${{SLUICE_TEST_SECRET_TOKEN}}\"\nkeys = [\"${{file:{}}}\", \"plain $ and $${{x}}\"]\n",
            file.display()
        ));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(table["sinks"]["s"]["token"].as_str(), Some("Splunk s3cr3t-t0k3n"));
        assert_eq!(table["sinks"]["s"]["keys"][0].as_str(), Some("from-a-file"));
        assert_eq!(table["sinks"]["s"]["keys"][1].as_str(), Some("plain $ and ${x}"));
        assert_eq!(
            secrets.scrub("sending with Splunk s3cr3t-t0k3n and from-a-file"),
            format!("sending with Splunk ${{SLUICE_TEST_SECRET_TOKEN}} and ${{file:{}}}", file.display())
        );
    }

    #[test]
    fn what_cannot_be_resolved_is_named_by_its_key_and_never_shows_a_value() {
        let (_, _, errors) = resolve(
            "[sinks.s]\na = \"${SLUICE_TEST_SURELY_UNSET}\"\nb = \"${file:/nonexistent/secret}\"\n\
             c = \"${file:relative}\"\nd = \"${not a name}\"\ne = \"${UNCLOSED\"\n",
        );
        assert_eq!(
            errors,
            [
                "sinks.s.a: the environment variable `SLUICE_TEST_SURELY_UNSET` is not set",
                "sinks.s.b: cannot read the secret file /nonexistent/secret: No such file or directory (os error 2)",
                "sinks.s.c: `${file:relative}` must name an absolute path",
                "sinks.s.d: `${not a name}` is not a reference: use `${NAME}` for an environment variable, \
                 `${file:/path}` for a file, `$${` for a literal `${`",
                "sinks.s.e: a `${` without its closing `}` (write `$${` for a literal `${`)",
            ]
        );
    }
}

/// A config string that is a credential (a token, a password, an API key):
/// it is used where it is sent, and never printed — its `Debug` is `***`,
/// so a config in an error or a log line cannot leak it.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The credential itself, to send.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is empty or only white space.
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod secret_tests {
    use super::Secret;

    #[test]
    fn a_secret_is_never_printed() {
        let secret: Secret = serde_json::from_str("\"hunter2\"").unwrap();
        assert_eq!(secret.expose(), "hunter2");
        assert_eq!(format!("{secret:?}"), "***");
        assert!(serde_json::from_str::<Secret>("\"  \"").unwrap().is_blank());
    }
}
