//! File positions saved across restarts. (placeholder)
