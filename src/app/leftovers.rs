//! What procedures changed and have not put back (they run, were stopped, or failed): what
//! quitting would leave behind, and the plan that reverts it. Every pane is asked through the
//! registry (`Registered::{touches, left_changed, revert}`).

use super::App;
use crate::model::Fleet;
use opsdeck_core::action::ActionPlan;
use opsdeck_core::registered::Leftover;

/// A started procedure, its plan holding what it changes as it was when planned.
#[derive(Debug, Clone)]
pub struct Touched {
    pub action_id: u64,
    pub plan: ActionPlan,
}

impl App {
    /// Remembers a plan some pane says may leave things changed (nothing for other plans).
    pub(super) fn remember_touched(&mut self, action_id: u64, plan: &ActionPlan) {
        if Fleet::touches(plan) {
            self.touched.push(Touched {
                action_id,
                plan: plan.clone(),
            });
        }
    }

    /// Forgets procedures that are over and left nothing changed (so a later deliberate change is
    /// never blamed on them).
    pub(super) fn prune_touched(&mut self) {
        let (running, fleet) = (&self.running, &self.fleet);
        self.touched
            .retain(|t| running.contains_key(&t.action_id) || !fleet.left_changed(&[&t.plan]).is_empty());
    }

    fn procedures(&self) -> Vec<&ActionPlan> {
        self.touched.iter().map(|t| &t.plan).collect()
    }

    /// What procedures left changed, as the last poll shows it, every pane asked.
    pub fn left_changed(&self) -> Vec<Leftover> {
        self.fleet.left_changed(&self.procedures())
    }

    /// Titles of running procedures: a revert waits until they stop.
    pub fn touching_procedures_running(&self) -> Vec<String> {
        self.touched
            .iter()
            .filter(|t| self.running.contains_key(&t.action_id))
            .map(|t| t.plan.title.clone())
            .collect()
    }

    /// The confirmed, audited action that puts back what procedures left changed.
    pub fn revert_plan(&self) -> Result<ActionPlan, String> {
        let running = self.touching_procedures_running();
        if !running.is_empty() {
            return Err(format!(
                "{} is still running: stop it first (ctrl-x), then revert",
                running.join(", ")
            ));
        }
        self.fleet.revert(&self.env.config, &self.procedures())
    }
}
