//! Log lines into the router's log, tagged with the transform that runs the plugin.
//!
//! Outside WebAssembly (a plugin's native unit tests) there is no router to
//! log into, so lines go to stderr instead of calling the missing import.

use crate::bindings::sluice::plugin::log::Level;

#[cfg(target_arch = "wasm32")]
fn write(level: Level, message: &str, fields: &[(&str, &str)]) {
    let fields: Vec<(String, String)> = fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    crate::bindings::sluice::plugin::log::log(level, message, &fields);
}

#[cfg(not(target_arch = "wasm32"))]
fn write(level: Level, message: &str, fields: &[(&str, &str)]) {
    eprintln!("{level:?}: {message} {fields:?}");
}

/// Log at debug level.
pub fn debug(message: &str, fields: &[(&str, &str)]) {
    write(Level::Debug, message, fields);
}

/// Log at info level.
pub fn info(message: &str, fields: &[(&str, &str)]) {
    write(Level::Info, message, fields);
}

/// Log at warn level.
pub fn warn(message: &str, fields: &[(&str, &str)]) {
    write(Level::Warn, message, fields);
}

/// Log at error level.
pub fn error(message: &str, fields: &[(&str, &str)]) {
    write(Level::Error, message, fields);
}

#[cfg(test)]
mod tests {
    #[test]
    fn logging_works_in_native_unit_tests() {
        super::info("plugin ready", &[("stage", "a")]);
        super::error("plugin failed", &[]);
    }
}
