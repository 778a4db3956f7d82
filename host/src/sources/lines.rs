//! Splitting a byte stream into lines, with a length limit. (placeholder)
