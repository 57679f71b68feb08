//! Everything drawn: panes, widgets, keymap and theme. Rendering is a pure function of the app state.

pub mod keymap;
pub mod panes;
pub mod theme;
pub mod view;
