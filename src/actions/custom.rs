//! Custom actions from config (`[[actions]]`, like k9s plugins): a command template over SSH or
//! locally, with the selected row's values shell-escaped into it.

use super::command::{CommandOp, Transport};
use super::{ActionPlan, Operation};
use crate::config::ssh::SshConfig;
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
    fill(template, vars, shell_quote)
}

/// [`render`] with each value passed through `value` (quoting, or nothing for names that never reach
/// a shell).
fn fill(template: &str, vars: &[(String, String)], value: fn(&str) -> String) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed {{{{ in template {template:?}"))?;
        let name = after[..end].trim();
        let v = vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .ok_or_else(|| format!("{{{{{name}}}}} is not known on this row (known: {})", names(vars)))?;
        out.push_str(&value(v));
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

/// The plan for a custom action on a row with template variables `vars`; `ssh` says how its host is
/// reached (for the call text).
pub fn plan(action: &CustomAction, vars: &[(String, String)], ssh: &SshConfig) -> Result<ActionPlan, String> {
    let command = render(&action.command, vars)?;
    let transport = match action.run_on.as_str() {
        "local" => Transport::Local,
        // The host is a name looked up in the config, never given to a shell: the raw value.
        other if other.contains("{{") => Transport::Ssh {
            host: fill(other, vars, str::to_string)?,
        },
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
        Transport::Ssh { host } => (
            super::hosts::on_host(ssh, host),
            super::hosts::call_text(ssh, host, &command),
        ),
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
        identity: String::new(),
    })
}

/// Config checks for `[[actions]]`: names unique, keys parse, templates close.
pub fn validate(actions: &[CustomAction], ssh: &crate::config::ssh::SshConfig, issues: &mut Vec<ConfigIssue>) {
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

    fn action(run_on: &str) -> CustomAction {
        CustomAction {
            name: "disk".into(),
            key: "D".into(),
            scope: "hosts".into(),
            command: "du -sh {{path}}".into(),
            run_on: run_on.into(),
            risk: crate::actions::Risk::Low,
            description: String::new(),
            timeout: crate::config::ConfigDuration::secs(5),
        }
    }

    fn ssh(text: &str) -> SshConfig {
        crate::config::parse_str(text, std::path::Path::new("t.toml"))
            .unwrap()
            .ssh
    }

    #[test]
    fn the_row_host_is_taken_raw_and_the_call_reads_as_typed() {
        let cfg = ssh(
            "[[ssh.hosts]]\nname = \"it's\"\naddress = \"10.0.0.1\"\nuser = \"ops\"\n\
             [[ssh.hosts]]\nname = \"'q'\"\n\
             [[ssh.hosts]]\nname = \"demo-1\"\ntransport = \"local\"\n",
        );
        let transport = |p: &ActionPlan| match &p.op {
            Operation::Command(c) => c.transport.clone(),
            other => panic!("{other:?}"),
        };
        let v = vars(&[("host", "it's"), ("path", "/a b")]);
        let p = plan(&action("{{host}}"), &v, &cfg).unwrap();
        assert_eq!(transport(&p), Transport::Ssh { host: "it's".into() });
        assert_eq!(p.call, "ssh ops@10.0.0.1 -- du -sh '/a b'");
        // Quotes that are part of the name stay part of it.
        let p = plan(&action("{{ host }}"), &vars(&[("host", "'q'"), ("path", "/")]), &cfg).unwrap();
        assert_eq!(transport(&p), Transport::Ssh { host: "'q'".into() });
        assert_eq!(p.call, r#"ssh ''\''q'\''' -- du -sh /"#);
        // A host on the local transport: the command as it runs here.
        let p = plan(&action("{{host}}"), &vars(&[("host", "demo-1"), ("path", "/x")]), &cfg).unwrap();
        assert_eq!(p.call, "du -sh /x");
        assert!(p.description.contains("on demo-1 (this machine)"), "{}", p.description);
        let p = plan(&action("local"), &vars(&[("path", "/x")]), &cfg).unwrap();
        assert_eq!((transport(&p), p.call.as_str()), (Transport::Local, "du -sh /x"));
    }
}
