//! Custom actions from config (`[[actions]]`, like k9s plugins): a command template run over SSH
//! or locally on the selected row, as a script whose values are its arguments ([`template`]).

use crate::config::CustomAction;
use opsdeck_core::action::ActionPlan;
use opsdeck_core::config::ConfigIssue;
use opsdeck_core::exec::script::{RenderError, Template};
use opsdeck_core::exec::{Cmd, shell_quote};
use opsdeck_core::text::clean;
use opsdeck_core::view::{RowKind, SAME_AS_ANOTHER};
use opsdeck_hosts::actions::command::{CommandOp, Transport};
use opsdeck_hosts::config::SshConfig;
use std::sync::{Arc, LazyLock};

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
    all.extend(crate::registry::pane_row_kinds());
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

/// Where `name`'s value on a row of `scope` came from: "program name 'x' from supervisorctl status
/// on es-1" (the value shown printable).
fn described(scope: &str, name: &str, vars: &[(String, String)]) -> String {
    let value = |n: &str| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let kind = ROW_KINDS.iter().find(|k| k.scope == scope);
    let source_of = |n: &str| kind.and_then(|k| k.vars.iter().find(|(v, _)| *v == n)).map(|(_, s)| *s);
    let shown = clean(value(name).unwrap_or(""));
    let mut source = source_of(name);
    if source == Some(SAME_AS_ANOTHER) {
        // `name` is another placeholder's value: the one with the same value says what it is.
        source = kind.and_then(|k| {
            k.vars
                .iter()
                .find(|(n, s)| *n != name && *s != SAME_AS_ANOTHER && value(n) == value(name))
                .map(|(_, s)| *s)
        });
    }
    match source {
        Some((what, from)) if !what.is_empty() => {
            let host = value("host").unwrap_or("the host");
            format!("{what} '{shown}' from {}", from.replace("{host}", host))
        }
        _ => format!("{{{{{name}}}}} '{shown}'"),
    }
}

/// Fills `{{name}}` in `run_on` with the raw value: a host is a name looked up in the config,
/// never given to a shell.
fn host_of(run_on: &str, vars: &[(String, String)]) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = run_on;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("unbalanced {{ }} in run_on")?;
        let name = after[..end].trim();
        let value = vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .ok_or_else(|| format!("{{{{{name}}}}} is not known on this row"))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The plan for a custom action on a row of the view scoped `scope`, with template variables
/// `vars`; `ssh` says how its host is reached (for the call text). The command runs as
/// `sh -c SCRIPT opsdeck VALUE…`: the values are arguments, never text the shell reads.
pub fn plan(
    action: &CustomAction,
    scope: &str,
    vars: &[(String, String)],
    ssh: &SshConfig,
) -> Result<ActionPlan, String> {
    let rendered = Template::parse(&action.command)?.render(vars).map_err(|e| match e {
        RenderError::Unknown(why) => why,
        RenderError::Control { name } => format!(
            "{} has control characters: opsdeck does not pass it on (it could not be shown as it is)",
            described(scope, &name, vars)
        ),
        RenderError::OptionLike(o) => format!(
            "{} starts with '-': the command would read it as an option. Put -- before {{{{{}}}}} in the \
                 template (if the command takes it) to pass it as an operand",
            described(scope, &o.name, vars),
            o.name
        ),
    })?;
    let transport = match action.run_on.as_str() {
        "local" => Transport::Local,
        other => Transport::Ssh {
            host: host_of(other, vars)?,
        },
    };
    let target = vars
        .iter()
        .find(|(k, _)| k == "name")
        .or_else(|| vars.first())
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| action.name.clone());
    let argv = rendered.argv();
    let words = Cmd::Argv(argv.clone()).to_shell();
    let (where_, call) = match &transport {
        Transport::Local => ("locally".to_string(), words),
        Transport::Ssh { host } => (
            opsdeck_hosts::actions::on_host(ssh, host),
            opsdeck_hosts::actions::call_text(ssh, host, &words),
        ),
    };
    let mut description = if action.description.is_empty() {
        format!("Runs the custom action '{}' {where_}.", action.name)
    } else {
        action.description.clone()
    };
    if !rendered.args.is_empty() {
        description.push_str("\nValues, passed as arguments (the shell never reads them as code):");
        for (i, (name, value)) in rendered.args.iter().enumerate() {
            description.push_str(&format!(
                "\n  ${} = {{{{{name}}}}} = {}",
                i + 1,
                clean(&shell_quote(value))
            ));
        }
    }
    Ok(ActionPlan {
        action: format!("custom.{}", action.name),
        title: format!("{} on {target}", action.name),
        target,
        description,
        call,
        risk: action.risk,
        verify: "the command exits 0".into(),
        timeout: action.timeout.get(),
        op: Arc::new(CommandOp {
            transport,
            argv,
            timeout: action.timeout.get(),
        }),
        identity: String::new(),
    })
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

    /// Runs a plan's command here and returns what it printed.
    async fn output_of(p: &ActionPlan) -> String {
        let Some(c) = p.op.downcast_ref::<CommandOp>() else {
            panic!("{:?}", p.op)
        };
        opsdeck_core::exec::run_argv(&c.argv, std::time::Duration::from_secs(5))
            .await
            .unwrap()
            .stdout
    }

    fn local(command: &str, scope: &str) -> CustomAction {
        CustomAction {
            name: "t".into(),
            key: "T".into(),
            scope: scope.into(),
            command: command.into(),
            run_on: "local".into(),
            risk: opsdeck_core::action::Risk::Low,
            description: String::new(),
            timeout: opsdeck_core::config::ConfigDuration::secs(5),
        }
    }

    #[tokio::test]
    async fn values_reach_the_command_byte_exact_however_the_template_quotes_them() {
        let dir = tempfile::tempdir().unwrap();
        let hostile = [
            "\"; touch pwned_dq; \".hprof",
            "`touch pwned_bt`.hprof",
            "$(touch${IFS}pwned).hprof",
            "x'; touch pwned_sq; echo '$(id)\" \\ end",
            "*",
            "",
        ];
        for template in [
            "cd {{dir}} && printf '[%s]' {{name}}",
            "cd \"{{dir}}\" && printf '[%s]' \"{{name}}\"",
            "cd {{dir}}; printf \"[%s]\" \"$(printf '%s' \"{{name}}\")\"",
        ] {
            for name in hostile {
                let v = vars(&[("dir", &dir.path().to_string_lossy()), ("name", name)]);
                let p = plan(&local(template, "hosts.host"), "hosts.host", &v, &SshConfig::default()).unwrap();
                assert_eq!(output_of(&p).await, format!("[{name}]"), "{template} with {name:?}");
            }
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "nothing ran: {left:?}");
        // A value the dialog could not show as it is (a newline, an escape sequence) is not passed on.
        for name in ["two\nlines.hprof", "\u{1b}[2Jclear.hprof"] {
            let v = vars(&[("host", "es-1"), ("name", name), ("path", name)]);
            let e = plan(
                &local("ls -- {{name}}", "hosts"),
                "hosts.host",
                &v,
                &SshConfig::default(),
            )
            .unwrap_err();
            assert!(
                e.starts_with("file name '") && e.contains("from find or du on es-1 has control characters"),
                "{e}"
            );
        }
    }

    #[test]
    fn unknown_placeholder_is_an_error() {
        let err = plan(
            &local("restart {{process}}", "hosts"),
            "hosts",
            &vars(&[("host", "h")]),
            &SshConfig::default(),
        )
        .unwrap_err();
        assert!(err.contains("{{process}} is not known"), "{err}");
        assert!(err.contains("host"), "{err}");
    }

    #[tokio::test]
    async fn a_value_that_would_be_an_option_is_refused_naming_where_it_came_from() {
        let v = vars(&[("host", "es-1"), ("name", "--version"), ("process", "--version")]);
        let e = plan(&local("ls {{name}}", "hosts"), "hosts.host", &v, &SshConfig::default()).unwrap_err();
        assert!(
            e.starts_with("program name '--version' from supervisorctl status on es-1 starts with '-'"),
            "{e}"
        );
        let v = vars(&[("host", "es-1"), ("name", "-rf"), ("path", "-rf")]);
        let e = plan(&local("ls {{path}}", "hosts"), "hosts.host", &v, &SshConfig::default()).unwrap_err();
        assert!(e.starts_with("file name '-rf' from find or du on es-1"), "{e}");
        // After `--` it is an operand: ls says there is no such file.
        let v = vars(&[("host", "es-1"), ("name", "--version"), ("process", "--version")]);
        let p = plan(
            &local("ls -- {{name}} 2>&1; true", "hosts"),
            "hosts.host",
            &v,
            &SshConfig::default(),
        )
        .unwrap();
        let out = output_of(&p).await;
        assert!(out.contains("--version") && out.contains("No such file"), "{out}");
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

    fn action(run_on: &str) -> CustomAction {
        CustomAction {
            name: "disk".into(),
            key: "D".into(),
            scope: "hosts".into(),
            command: "du -sh {{path}}".into(),
            run_on: run_on.into(),
            risk: opsdeck_core::action::Risk::Low,
            description: String::new(),
            timeout: opsdeck_core::config::ConfigDuration::secs(5),
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
        let transport = |p: &ActionPlan| match p.op.downcast_ref::<CommandOp>() {
            Some(c) => c.transport.clone(),
            None => panic!("{:?}", p.op),
        };
        let v = vars(&[("host", "it's"), ("path", "/a b")]);
        let p = plan(&action("{{host}}"), "hosts", &v, &cfg).unwrap();
        assert_eq!(transport(&p), Transport::Ssh { host: "it's".into() });
        // Exactly the words sshd hands the remote shell: the script, then the value.
        assert_eq!(p.call, r#"ssh ops@10.0.0.1 -- sh -c 'du -sh "$1"' opsdeck '/a b'"#);
        assert!(
            p.description.ends_with("\n  $1 = {{path}} = '/a b'"),
            "{}",
            p.description
        );
        // Quotes that are part of the name stay part of it.
        let p = plan(
            &action("{{ host }}"),
            "hosts",
            &vars(&[("host", "'q'"), ("path", "/")]),
            &cfg,
        )
        .unwrap();
        assert_eq!(transport(&p), Transport::Ssh { host: "'q'".into() });
        assert_eq!(p.call, r#"ssh ''\''q'\''' -- sh -c 'du -sh "$1"' opsdeck /"#);
        // A host on the local transport: the command as it runs here.
        let p = plan(
            &action("{{host}}"),
            "hosts",
            &vars(&[("host", "demo-1"), ("path", "/x")]),
            &cfg,
        )
        .unwrap();
        assert_eq!(p.call, r#"sh -c 'du -sh "$1"' opsdeck /x"#);
        assert!(p.description.contains("on demo-1 (this machine)"), "{}", p.description);
        let p = plan(&action("local"), "hosts", &vars(&[("path", "/x")]), &cfg).unwrap();
        assert_eq!(
            (transport(&p), p.call.as_str()),
            (Transport::Local, r#"sh -c 'du -sh "$1"' opsdeck /x"#)
        );
    }
}
