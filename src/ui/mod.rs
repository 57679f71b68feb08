//! Everything drawn: panes, widgets, keymap and theme. Rendering is a pure function of the app state.

pub mod help;
pub mod keymap;
pub mod panes;
pub mod render;
pub mod testing;
pub mod widgets;

pub use render::draw;
