//! Custom actions from config (`[[actions]]`, like k9s plugins): a command template over SSH or
//! locally, with the selected row's values shell-escaped into it.

use super::command::{CommandOp, Transport};
use super::{ActionPlan, Operation};
use crate::config::{ConfigIssue, CustomAction};

/// Quotes `value` for a POSIX shell, so it reaches the command as one literal word.
pub fn shell_quote(value: &str) -> String {
    if !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b))
    {
        return value.to_string();
    }
    format!("'{}'", value.replace('\'', r#"'\''"#))
}

/// Fills `{{name}}` placeholders from `vars`, each value shell-quoted. Unknown names are an error,
/// never an empty string (an empty argument can change what a command does).
pub fn render(template: &str, vars: &[(String, String)]) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed {{{{ in template {template:?}"))?;
        let name = after[..end].trim();
        let value = vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .ok_or_else(|| format!("{{{{{name}}}}} is not known on this row (known: {})", names(vars)))?;
        out.push_str(&shell_quote(value));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn names(vars: &[(String, String)]) -> String {
    vars.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", ")
}

/// Whether `action` applies to a view whose scope is `scope` (`hosts` matches `hosts` and `hosts.*`).
pub fn in_scope(action: &CustomAction, scope: &str) -> bool {
    action.scope == "all"
        || action.scope == scope
        || scope
            .strip_prefix(action.scope.as_str())
            .is_some_and(|r| r.starts_with('.'))
}

/// The plan for a custom action on a row with template variables `vars`.
pub fn plan(action: &CustomAction, vars: &[(String, String)]) -> Result<ActionPlan, String> {
    let command = render(&action.command, vars)?;
    let transport = match action.run_on.as_str() {
        "local" => Transport::Local,
        other if other.contains("{{") => {
            let host = render(other, vars)?;
            Transport::Ssh {
                host: host.trim_matches('\'').to_string(),
            }
        }
        other => Transport::Ssh {
            host: other.to_string(),
        },
    };
    let target = vars
        .iter()
        .find(|(k, _)| k == "name")
        .or_else(|| vars.first())
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| action.name.clone());
    let (where_, call) = match &transport {
        Transport::Local => ("locally (sh -c)".to_string(), command.clone()),
        Transport::Ssh { host } => (format!("on {host}"), format!("ssh {host} -- {command}")),
    };
    Ok(ActionPlan {
        action: format!("custom.{}", action.name),
        title: format!("{} on {target}", action.name),
        target,
        description: if action.description.is_empty() {
            format!("Runs the custom action '{}' {where_}.", action.name)
        } else {
            action.description.clone()
        },
        call,
        risk: action.risk,
        verify: "the command exits 0".into(),
        timeout: action.timeout.get(),
        op: Operation::Command(CommandOp {
            transport,
            command,
            timeout: action.timeout.get(),
        }),
    })
}

/// Config checks for `[[actions]]`: names unique, keys parse, templates close.
pub fn validate(actions: &[CustomAction], issues: &mut Vec<ConfigIssue>) {
    for (i, a) in actions.iter().enumerate() {
        if a.name.trim().is_empty() {
            issues.push(ConfigIssue::new(format!("actions[{i}].name"), "must not be empty"));
        }
        if actions[..i].iter().any(|b| b.name == a.name) {
            issues.push(ConfigIssue::new(
                format!("actions[{i}].name"),
                format!("duplicate action name {:?}", a.name),
            ));
        }
        if let Err(e) = crate::ui::keymap::parse_sequence(&a.key) {
            issues.push(ConfigIssue::new(format!("actions[{i}].key"), e));
        }
        if a.command.matches("{{").count() != a.command.matches("}}").count() {
            issues.push(ConfigIssue::new(
                format!("actions[{i}].command"),
                "unbalanced {{ }} in template",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn hostile_values_stay_one_literal_word() {
        let v = vars(&[("name", "a b; rm -rf / $(reboot) `id` 'q'")]);
        let cmd = render("echo {{name}}", &v).unwrap();
        assert_eq!(cmd, r#"echo 'a b; rm -rf / $(reboot) `id` '\''q'\'''"#);
    }

    #[tokio::test]
    async fn quoted_values_reach_the_command_unchanged() {
        let hostile = "x'; touch /tmp/opsdeck-pwned; echo '$(id)\" \\ \n end";
        let cmd = render("printf %s {{v}}", &vars(&[("v", hostile)])).unwrap();
        let out = crate::actions::command::run_local(&cmd, std::time::Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(out.stdout, hostile);
    }

    #[test]
    fn unknown_placeholder_is_an_error() {
        let err = render("restart {{process}}", &vars(&[("host", "h")])).unwrap_err();
        assert!(err.contains("{{process}} is not known"), "{err}");
        assert!(err.contains("host"), "{err}");
    }

    #[test]
    fn scope_matches_pane_and_its_rows() {
        let a = |scope: &str| CustomAction {
            name: "x".into(),
            key: "T".into(),
            scope: scope.into(),
            command: "true".into(),
            run_on: "local".into(),
            risk: crate::actions::Risk::Low,
            description: String::new(),
            timeout: crate::config::ConfigDuration::secs(5),
        };
        assert!(in_scope(&a("hosts"), "hosts"));
        assert!(in_scope(&a("hosts"), "hosts.filesystem"));
        assert!(!in_scope(&a("hosts"), "hostsx"));
        assert!(!in_scope(&a("hosts.filesystem"), "hosts"));
        assert!(in_scope(&a("all"), "queues"));
    }
}
