//! Everything drawn: the screen, its widgets and dialogs, the help. Rendering is a pure function of the app state.

pub mod help;
pub mod render;
// Test helpers (they assert and panic): only in the crate's own tests, and in the integration tests
// through the `testing` feature they turn on (Cargo.toml, [dev-dependencies]). Never in the console.
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod widgets;

pub use render::draw;
