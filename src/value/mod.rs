//! Values crossing between JavaScript and the databases, in a form that
//! owns its data and can move between threads (the JS thread converts, a
//! tokio worker binds and decodes).

pub mod cell;
pub mod numeric;
pub mod param;

pub use cell::{Cell, Rows};
pub use param::Param;
