//! Reusable drawing pieces.

pub mod dialog;
pub mod table;
