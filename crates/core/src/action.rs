//! The vocabulary of actions every pane plans in.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Safe to repeat; confirmed with a yes/no dialog.
    Low,
    /// Changes the fleet; confirmed with a yes/no dialog.
    Medium,
    /// Loses data or capacity if wrong; the target's name must be typed.
    High,
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        })
    }
}
