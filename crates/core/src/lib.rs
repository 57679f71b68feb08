//! opsdeck's bottom layer: the leaves every other crate uses (process running and quoting, key
//! parsing, text made safe for a terminal, time, config loading) and the shared vocabulary of
//! panes, views and actions. It depends on no other opsdeck crate.

pub mod action;
pub mod alert;
pub mod audit;
pub mod backlog;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod effect;
pub mod exec;
pub mod feed;
pub mod folding;
pub mod garbage;
pub mod history;
pub mod keys;
pub mod logs;
pub mod pane;
pub mod paths;
pub mod registered;
pub mod source_error;
pub mod text;
pub mod theme;
pub mod time;
pub mod view;
pub mod widgets;
