//! The console as a person drives it: keys in, screens out (ratatui TestBackend + insta snapshots),
//! and the effects the app asks the runtime for.

mod ui {
    mod catalog;
    pub mod demo;
    pub mod fake;
    mod flows;
    mod moment;
    mod panes;
}
