//! Custom actions from config (`[[actions]]`, like k9s plugins) planned on the selected row: a
//! command template run over SSH or locally, as a script whose values are its arguments. Their
//! schema and config checks are `config::custom`'s.

use crate::config::CustomAction;
use crate::config::custom::ROW_KINDS;
use opsdeck_core::action::ActionPlan;
use opsdeck_core::exec::script::{RenderError, Template};
use opsdeck_core::exec::{Cmd, shell_quote};
use opsdeck_core::text::clean;
use opsdeck_core::view::SAME_AS_ANOTHER;
use opsdeck_hosts::actions::command::{CommandOp, Transport};
use opsdeck_hosts::config::SshConfig;
use std::sync::Arc;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
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
