//! Custom actions in the config file (`[[actions]]`, like k9s plugins): their schema, the row
//! kinds their scopes name, and the checks of them that serde cannot express. Planning and running
//! one is `actions::custom`'s.

use opsdeck_core::action::Risk;
use opsdeck_core::config::{ConfigDuration, ConfigIssue};
use opsdeck_core::exec::script::Template;
use opsdeck_core::view::RowKind;
use serde::Deserialize;
use std::sync::LazyLock;

/// A custom action bound to a key in a pane, run over SSH or locally.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomAction {
    pub name: String,
    /// Key string, e.g. `ctrl-t` or `T`.
    pub key: String,
    /// Where it applies: a pane (`hosts`) or a pane's row kind (`pillows.partition`); `all` for everywhere.
    pub scope: String,
    /// Shell command template; `{{var}}` values come from the selected row and are shell-escaped.
    pub command: String,
    /// `local`, or a host name from `[ssh]` config; `{{host}}` takes the row's host.
    #[serde(default = "default_run_on")]
    pub run_on: String,
    #[serde(default = "default_risk")]
    pub risk: Risk,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_action_timeout")]
    pub timeout: ConfigDuration,
}

fn default_run_on() -> String {
    "local".into()
}
fn default_risk() -> Risk {
    Risk::Medium
}
fn default_action_timeout() -> ConfigDuration {
    ConfigDuration::secs(60)
}

/// The console's own row kinds (the overview's, the audit log's); each pane lists its own.
const OVERVIEW_ROW_KINDS: &[RowKind] = &[RowKind {
    scope: "overview",
    vars: &[],
}];
const AUDIT_ROW_KINDS: &[RowKind] = &[
    RowKind {
        scope: "audit",
        vars: &[],
    },
    RowKind {
        scope: "audit.entry",
        vars: &[],
    },
];

/// Every row kind of every pane, in tab order (kept in step with the views' `row_vars` by a test).
pub static ROW_KINDS: LazyLock<Vec<&'static RowKind>> = LazyLock::new(|| {
    let mut all: Vec<&'static RowKind> = OVERVIEW_ROW_KINDS.iter().collect();
    all.extend(super::sections::pane_row_kinds());
    all.extend(AUDIT_ROW_KINDS);
    all
});

/// Whether `action_scope` covers the view scope `scope` (`hosts` matches `hosts` and `hosts.*`).
fn covers(action_scope: &str, scope: &str) -> bool {
    action_scope == "all"
        || action_scope == scope
        || scope.strip_prefix(action_scope).is_some_and(|r| r.starts_with('.'))
}

/// Whether `action` applies to a view whose scope is `scope` (`hosts` matches `hosts` and `hosts.*`).
pub fn in_scope(action: &CustomAction, scope: &str) -> bool {
    covers(&action.scope, scope)
}

/// The placeholder names rows in `action_scope` can fill (any of its row kinds), sorted; `None`
/// when no row kind is in that scope.
pub fn scope_vars(action_scope: &str) -> Option<Vec<&'static str>> {
    let kinds: Vec<&RowKind> = ROW_KINDS
        .iter()
        .copied()
        .filter(|k| covers(action_scope, k.scope))
        .collect();
    if kinds.is_empty() {
        return None;
    }
    let mut names: Vec<&str> = kinds.iter().flat_map(|k| k.vars.iter().map(|(n, _)| *n)).collect();
    names.sort_unstable();
    names.dedup();
    Some(names)
}
/// Config checks for `[[actions]]`: names unique, keys parse, scopes exist, templates read as
/// scripts whose placeholders rows of that scope fill.
pub fn validate(actions: &[CustomAction], ssh: &opsdeck_hosts::config::SshConfig, issues: &mut Vec<ConfigIssue>) {
    for (i, a) in actions.iter().enumerate() {
        // A fixed host must exist now; a `{{var}}` one is checked when the action runs.
        if !a.run_on.contains("{{") && !ssh.knows(&a.run_on) {
            issues.push(ConfigIssue::new(
                format!("actions[{i}].run_on"),
                format!(
                    "{:?} is not a host in [ssh] (\"local\", a [[ssh.hosts]] name, or \"{{{{host}}}}\" for the row's host)",
                    a.run_on
                ),
            ));
        }
        if a.name.trim().is_empty() {
            issues.push(ConfigIssue::new(format!("actions[{i}].name"), "must not be empty"));
        }
        if actions[..i].iter().any(|b| b.name == a.name) {
            issues.push(ConfigIssue::new(
                format!("actions[{i}].name"),
                format!("duplicate action name {:?}", a.name),
            ));
        }
        if let Err(e) = opsdeck_core::keys::parse_sequence(&a.key) {
            issues.push(ConfigIssue::new(format!("actions[{i}].key"), e));
        }
        let known = scope_vars(&a.scope);
        if known.is_none() {
            // Each pane, then its row kinds: `hosts`, `hosts.host`.
            let mut scopes: Vec<&str> = vec!["all"];
            for k in ROW_KINDS.iter() {
                let pane = k.scope.split('.').next().unwrap_or(k.scope);
                if !scopes.contains(&pane) {
                    scopes.push(pane);
                }
                if !scopes.contains(&k.scope) {
                    scopes.push(k.scope);
                }
            }
            issues.push(ConfigIssue::new(
                format!("actions[{i}].scope"),
                format!(
                    "unknown scope {:?} (a pane or one of its row kinds: {})",
                    a.scope,
                    scopes.join(", ")
                ),
            ));
        }
        let unknown = |name: &str| known.as_ref().is_some_and(|k| !k.contains(&name));
        let unknown_message = |name: &str| {
            let has = known.as_deref().unwrap_or_default();
            format!(
                "{{{{{name}}}}} is not a value rows in scope {:?} have ({})",
                a.scope,
                if has.is_empty() {
                    "they have none".to_string()
                } else {
                    format!("they have: {}", has.join(", "))
                }
            )
        };
        match Template::parse(&a.command) {
            Err(e) => issues.push(ConfigIssue::new(format!("actions[{i}].command"), e)),
            Ok(t) => {
                if let Some(name) = t.names().into_iter().find(|n| unknown(n)) {
                    issues.push(ConfigIssue::new(format!("actions[{i}].command"), unknown_message(name)));
                }
            }
        }
        if a.run_on.matches("{{").count() != a.run_on.matches("}}").count() {
            issues.push(ConfigIssue::new(format!("actions[{i}].run_on"), "unbalanced {{ }}"));
        } else if let Some(name) = run_on_names(&a.run_on).iter().find(|n| unknown(n)) {
            issues.push(ConfigIssue::new(format!("actions[{i}].run_on"), unknown_message(name)));
        }
    }
}

/// The `{{name}}`s of a run_on value.
fn run_on_names(run_on: &str) -> Vec<String> {
    run_on
        .split("{{")
        .skip(1)
        .filter_map(|p| p.split_once("}}").map(|(n, _)| n.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_run_on_host_must_exist() {
        let config = crate::config::parse_str(
            "[[actions]]\nname = \"a\"\nkey = \"U\"\nscope = \"hosts\"\ncommand = \"uptime\"\nrun_on = \"nowhere\"\n\n[[actions]]\nname = \"b\"\nkey = \"V\"\nscope = \"hosts\"\ncommand = \"uptime\"\nrun_on = \"{{host}}\"\n",
            std::path::Path::new("c.toml"),
        );
        let errors = config.unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].key, "actions[0].run_on");
        assert_eq!(errors[0].line, 6, "{errors:?}");
    }

    fn check(actions: &str) -> Vec<String> {
        match crate::config::parse_str(actions, std::path::Path::new("c.toml")) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn config_check_names_the_line_of_each_template_mistake() {
        let action = |name: &str, scope: &str, command: &str| {
            format!(
                "[[actions]]\nname = \"{name}\"\nkey = \"{}\"\nscope = \"{scope}\"\ncommand = '''{command}'''\n",
                name.to_uppercase()
            )
        };
        let text = [
            action("a", "hosts.host", "printf '%s' '{{name}}'"),
            action("b", "hosts", "echo {{proces}}"),
            action("c", "hostz", "echo {{name}}"),
            action("d", "queues", "echo \"{{url}}\" {{name}}"),
            action("e", "all", "echo {{index}} {{topic}}"),
        ]
        .concat();
        let errors = check(&text);
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(
            errors[0].starts_with("c.toml:5: actions[0].command: {{name}} is inside single quotes"),
            "{errors:#?}"
        );
        assert!(
            errors[1].starts_with(
                "c.toml:10: actions[1].command: {{proces}} is not a value rows in scope \"hosts\" have (they have: host, mount, name, path, process)"
            ),
            "{errors:#?}"
        );
        assert!(
            errors[2].starts_with("c.toml:14: actions[2].scope: unknown scope \"hostz\""),
            "{errors:#?}"
        );
        let text =
            "[[actions]]\nname = \"a\"\nkey = \"A\"\nscope = \"audit\"\ncommand = \"true\"\nrun_on = \"{{host}}\"\n";
        let errors = check(text);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(
            errors[0].starts_with(
                "c.toml:6: actions[0].run_on: {{host}} is not a value rows in scope \"audit\" have (they have none)"
            ),
            "{errors:#?}"
        );
    }

    #[test]
    fn scope_matches_pane_and_its_rows() {
        let a = |scope: &str| CustomAction {
            name: "x".into(),
            key: "T".into(),
            scope: scope.into(),
            command: "true".into(),
            run_on: "local".into(),
            risk: opsdeck_core::action::Risk::Low,
            description: String::new(),
            timeout: opsdeck_core::config::ConfigDuration::secs(5),
        };
        assert!(in_scope(&a("hosts"), "hosts"));
        assert!(in_scope(&a("hosts"), "hosts.filesystem"));
        assert!(!in_scope(&a("hosts"), "hostsx"));
        assert!(!in_scope(&a("hosts.filesystem"), "hosts"));
        assert!(in_scope(&a("all"), "queues"));
    }
}
