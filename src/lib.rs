//! opsdeck: a full-screen terminal operations console for data pipelines.
//!
//! Data flows one way: `sources` poll → `model` → `app` (one `update`, returning effects) → `ui` draws.
//! Actions are plans first (`actions`), run by one executor after confirmation.
//!
//! Modules use only those below them (`scripts/layering` checks it): `registry` (the list of panes)
//! ← `model` ← `config` ← `analysis` ← `sources` ← `actions` ← `views` ← `app` ← `ui` ← the
//! commands (`demo`, `snapshot`, `runtime`, `cli`).

pub mod actions;
pub mod analysis;
pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod keymap;
pub mod model;
pub mod panes;
pub mod registry;
pub mod runtime;
pub mod snapshot;
pub mod sources;
pub mod supervise;
pub mod ui;
pub mod views;
