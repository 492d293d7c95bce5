//! SQL text handling that is the same for every backend.

pub mod identifier;
pub mod placeholders;
