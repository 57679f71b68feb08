//! A plan is bound to what its target resolved to when it was made. At Run the plan is made again
//! from the same view, row and action (and the same typed value); when the target no longer resolves
//! to the same thing, or the exact call would differ, the run is refused and the new plan is shown
//! in a fresh dialog. Only the plan the person confirmed ever runs.

use super::overlay::Origin;
use super::{App, Effect};
use opsdeck_core::action::ActionPlan;
use opsdeck_core::view::Tone;

impl App {
    /// Runs `plan` if making it again now from `origin` gives the same target and call.
    pub(super) fn run_checked(&mut self, plan: ActionPlan, origin: Option<Origin>) -> Vec<Effect> {
        let Some(origin) = origin else {
            return self.run(plan);
        };
        match self.replan(&origin) {
            Err(why) => {
                self.toast(format!("{}: not run — {why}", plan.title), Tone::Crit);
                Vec::new()
            }
            Ok((fresh, call_drifts)) => match what_changed(&plan, &fresh, call_drifts) {
                None => self.run(plan),
                Some(what) => {
                    self.toast(
                        format!("{}: not run — {what}; check the new plan", plan.title),
                        Tone::Warn,
                    );
                    self.confirm_from(fresh, Some(origin));
                    Vec::new()
                }
            },
        }
    }

    /// The plan `origin` gives now, and whether its call may drift (see `ActionOffer::call_drifts`).
    fn replan(&self, origin: &Origin) -> Result<(ActionPlan, bool), String> {
        let ctx = self.ctx();
        let screen = self.panes[origin.tab.index()]
            .get(origin.depth)
            .filter(|s| s.view.crumb() == origin.crumb)
            .ok_or_else(|| format!("the view it was planned in ({}) is gone", origin.crumb))?;
        if let Some(row) = &origin.row {
            let table = screen.view.table(&ctx);
            if !table.rows.is_empty() || !table.columns.is_empty() {
                table
                    .rows
                    .iter()
                    .find(|r| &r.key == row)
                    .ok_or("its row is no longer in the table")?;
            }
        }
        if let Some(name) = origin.action.strip_prefix("custom:") {
            let row = origin.row.as_deref().ok_or("select a row first")?;
            return Ok((self.custom_plan_on(screen, name, row)?, false));
        }
        let offer = screen
            .view
            .actions(&ctx, origin.row.as_deref())
            .into_iter()
            .find(|o| o.name == origin.action)
            .ok_or_else(|| format!("{} is no longer offered here", origin.action))?;
        let plan = match (&offer.input, &origin.input) {
            (Some(request), Some(value)) => offer.plan.and_then(|_| (request.build)(value)),
            _ => offer.plan,
        }?;
        Ok((plan, offer.call_drifts))
    }
}

/// Why `fresh` is not the plan that was confirmed, in words; `None` when it is.
fn what_changed(confirmed: &ActionPlan, fresh: &ActionPlan, call_drifts: bool) -> Option<String> {
    if fresh.identity != confirmed.identity {
        return Some(format!(
            "{} changed since it was planned: {}",
            confirmed.target,
            identity_diff(&confirmed.identity, &fresh.identity)
        ));
    }
    if fresh.target != confirmed.target || fresh.action != confirmed.action {
        return Some(format!("it now acts on {}", fresh.target));
    }
    if fresh.risk != confirmed.risk {
        return Some(format!("its risk is now {}", fresh.risk.to_string().to_uppercase()));
    }
    if !call_drifts && fresh.call != confirmed.call {
        return Some("the exact call would differ".into());
    }
    None
}

/// The facts (`; `-separated) that differ between two identities: "was X, now Y".
fn identity_diff(was: &str, now: &str) -> String {
    let was_facts: Vec<&str> = was.split("; ").collect();
    let now_facts: Vec<&str> = now.split("; ").collect();
    let gone: Vec<&str> = was_facts.iter().filter(|f| !now_facts.contains(f)).copied().collect();
    let new: Vec<&str> = now_facts.iter().filter(|f| !was_facts.contains(f)).copied().collect();
    let show = |v: &[&str]| {
        if v.is_empty() {
            "nothing".to_string()
        } else {
            v.join(", ")
        }
    };
    format!("was {}, now {}", show(&gone), show(&new))
}

#[cfg(test)]
mod tests {
    use super::identity_diff;

    #[test]
    fn identity_differences_name_the_facts_that_changed() {
        assert_eq!(
            identity_diff("node es-3; id abc; ip 10.0.0.3", "node es-3; id def; ip 10.0.0.3"),
            "was id abc, now id def"
        );
        assert_eq!(identity_diff("a; b", "a"), "was b, now nothing");
    }
}
