//! Drawing helpers views share.

pub mod text;
