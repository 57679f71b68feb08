//! Cluster settings a procedure changed and has not put back (it runs, was stopped, or failed):
//! what quitting would leave behind, and the plan that reverts them.

use super::App;
use opsdeck_core::action::ActionPlan;
use opsdeck_elasticsearch::actions::{plan_revert_settings, settings_touched};
use opsdeck_elasticsearch::model::{SettingChange, SettingValues, settings_changed};

/// The settings one procedure writes, as they were when it was planned.
#[derive(Debug, Clone)]
pub struct Touched {
    pub action_id: u64,
    pub title: String,
    pub before: Vec<SettingValues>,
}

impl App {
    /// Remembers what a procedure is about to change (nothing for other plans).
    pub(super) fn remember_touched(&mut self, action_id: u64, plan: &ActionPlan) {
        if let Some(before) = settings_touched(plan) {
            self.touched.push(Touched {
                action_id,
                title: plan.title.clone(),
                before: before.to_vec(),
            });
        }
    }

    /// Forgets procedures that are over and left nothing changed (so a later deliberate change is
    /// never blamed on them).
    pub(super) fn prune_touched(&mut self) {
        let Some(state) = self.fleet.elasticsearch.data.as_ref() else {
            return;
        };
        let running = &self.running;
        self.touched.retain(|t| {
            running.contains_key(&t.action_id) || !settings_changed(&t.before, &state.raw_settings).is_empty()
        });
    }

    /// Settings that procedures left changed, as the last poll shows them; a key two procedures
    /// touched is compared with its value before the first.
    pub fn settings_left_changed(&self) -> Vec<SettingChange> {
        let Some(state) = self.fleet.elasticsearch.data.as_ref() else {
            return Vec::new();
        };
        let mut before: Vec<SettingValues> = Vec::new();
        for t in &self.touched {
            for v in &t.before {
                if !before.iter().any(|b| b.key == v.key) {
                    before.push(v.clone());
                }
            }
        }
        settings_changed(&before, &state.raw_settings)
    }

    /// Titles of running procedures that changed settings: a revert waits until they stop.
    pub fn touching_procedures_running(&self) -> Vec<String> {
        self.touched
            .iter()
            .filter(|t| self.running.contains_key(&t.action_id))
            .map(|t| t.title.clone())
            .collect()
    }

    /// The confirmed, audited action that puts the settings back.
    pub fn revert_plan(&self) -> Result<ActionPlan, String> {
        let running = self.touching_procedures_running();
        if !running.is_empty() {
            return Err(format!(
                "{} is still running: stop it first (ctrl-x), then revert",
                running.join(", ")
            ));
        }
        let state = self
            .fleet
            .elasticsearch
            .data
            .as_ref()
            .ok_or("the cluster has not answered yet")?;
        plan_revert_settings(state, &self.env.config.elasticsearch, &self.settings_left_changed())
    }
}
