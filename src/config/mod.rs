//! Everything decided before the first connection: URL, options, env.

pub mod env;
pub mod options;
pub mod redact;
pub mod url;
