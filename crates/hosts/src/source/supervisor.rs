//! supervisorctl: commands from the configured template, and `status` output → programs.

use crate::model::{Program, ProgramState};
use opsdeck_core::exec::{Cmd, CommandOutput};

/// What supervisorctl is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SupervisorAction {
    Status,
    Start,
    Stop,
    Restart,
    /// Follow the program's output (`tail -f`).
    Tail,
}

impl SupervisorAction {
    pub fn as_str(self) -> &'static str {
        self.words()[0]
    }

    /// The words `{action}` stands for when it is a word of its own.
    fn words(self) -> &'static [&'static str] {
        match self {
            Self::Status => &["status"],
            Self::Start => &["start"],
            Self::Stop => &["stop"],
            Self::Restart => &["restart"],
            Self::Tail => &["tail", "-f"],
        }
    }
}

/// A supervisor-style name (`commcare-hq-production-pillowtop-case-pillow-3`, `group:name`): ASCII
/// letters, digits and `_ . : @ + -`, not empty, not starting with `-`. Such a name means the same
/// thing quoted or not, inside a word or on its own, so no template or shell can misread it. `kind`
/// ("program", "host") names what is checked in the error.
pub fn check_name(kind: &str, name: &str) -> Result<(), String> {
    check_name_from(kind, name, "")
}

/// [`check_name`] for a name read from somewhere (`supervisorctl status on es-1`), which the error
/// says.
pub fn check_name_from(kind: &str, name: &str, source: &str) -> Result<(), String> {
    let what = match source {
        "" => format!("{kind} name {name:?}"),
        from => format!("{kind} name {name:?} from {from}"),
    };
    if name.is_empty() {
        return Err(format!(
            "empty {kind} name{}",
            if source.is_empty() {
                String::new()
            } else {
                format!(" from {source}")
            }
        ));
    }
    if name.starts_with('-') {
        return Err(format!("{what} starts with '-': it would be read as an option"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.:@+-".contains(&b))
    {
        return Err(format!(
            "{what} has characters opsdeck will not pass on (allowed: letters, digits and _ . : @ + -)"
        ));
    }
    Ok(())
}

/// A program name safe to hand to supervisorctl through any template: see [`check_name`].
pub fn check_program(name: &str) -> Result<(), String> {
    check_name("program", name)
}

/// The command for `action` on `program` (None: every program, for `status`). The template is split
/// into words (shell rules), `{action}`/`{program}` are substituted inside words, and each word is
/// quoted again on its way to the remote shell: a template cannot smuggle in pipes or `;`.
pub fn command(template: &str, action: SupervisorAction, program: Option<&str>) -> Result<Cmd, String> {
    argv(template, action, program).map(Cmd::Argv)
}

/// The words of [`command`].
pub fn argv(template: &str, action: SupervisorAction, program: Option<&str>) -> Result<Vec<String>, String> {
    if let Some(p) = program {
        check_program(p)?;
    }
    let argv = template_words(
        template,
        "supervisor command",
        &[("{action}", action.words()), ("{program}", program.as_slice())],
    )?;
    if argv.is_empty() {
        return Err("empty supervisor command".into());
    }
    Ok(argv)
}

/// Splits a command template into words (shell rules: quotes group, nothing runs) and fills its
/// placeholders: a word that is just `{key}` becomes one word per value (none when there is no
/// value); `{key}` inside a word becomes the values joined by spaces. Only for values whose every
/// character means the same to any shell ([`check_name`]): such a word may itself be a script
/// (`sh -c "supervisorctl {action} {program}"`). `what` names the template in errors.
pub fn template_words<S: AsRef<str>>(
    template: &str,
    what: &str,
    fields: &[(&str, &[S])],
) -> Result<Vec<String>, String> {
    let words = shlex::split(template).ok_or_else(|| format!("{what} {template:?} has unbalanced quotes"))?;
    let mut argv = Vec::with_capacity(words.len() + 1);
    for w in words {
        if let Some((_, values)) = fields.iter().find(|(key, _)| w == *key) {
            argv.extend(values.iter().map(|v| v.as_ref().to_string()));
            continue;
        }
        let mut word = w;
        for (key, values) in fields {
            let joined: Vec<&str> = values.iter().map(AsRef::as_ref).collect();
            word = word.replace(key, &joined.join(" "));
        }
        argv.push(word);
    }
    Ok(argv)
}

/// `0:01:02`, `3 days, 4:05:06`, `1 day, 0:00:01` → seconds.
pub fn parse_uptime(s: &str) -> Option<u64> {
    let s = s.trim();
    let (days, clock) = match s.split_once(',') {
        Some((d, rest)) => {
            let n: u64 = d.split_whitespace().next()?.parse().ok()?;
            (n, rest.trim())
        }
        None => (0, s),
    };
    let mut parts = clock.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, sec) = (parts.next()??, parts.next()??, parts.next()??);
    // Garbage can be any size: overflow means "not an uptime", never a panic.
    days.checked_mul(86_400)?
        .checked_add(h.checked_mul(3_600)?)?
        .checked_add(m.checked_mul(60)?)?
        .checked_add(sec)
}

fn parse_line(line: &str) -> Option<Program> {
    let mut it = line.split_whitespace();
    let name = it.next()?;
    let state = ProgramState::parse(it.next()?)?;
    let rest_start = line.find(state.as_str())? + state.as_str().len();
    let description = opsdeck_core::text::clean(line[rest_start..].trim()).into_owned();
    let mut pid = None;
    let mut uptime_secs = None;
    if let Some(r) = description.strip_prefix("pid ") {
        let (p, after) = r.split_once(',').unwrap_or((r, ""));
        pid = p.trim().parse().ok();
        uptime_secs = after.trim().strip_prefix("uptime ").and_then(parse_uptime);
    }
    Some(Program {
        name: name.to_string(),
        state,
        pid,
        uptime_secs,
        description,
    })
}

/// Programs from `supervisorctl status`. Exit 3 ("some not running") is normal; no program lines plus an
/// error message (socket refused, sudo asking for a password) is an error with supervisorctl's words.
pub fn parse_status(out: &CommandOutput) -> Result<Vec<Program>, String> {
    let programs: Vec<Program> = out.stdout.lines().filter_map(parse_line).collect();
    if programs.is_empty() {
        let said = out.last_line();
        if !out.success() || said.contains("refused") || said.contains("no such file") || said.contains("ERROR") {
            return Err(match out.status {
                Some(127) => format!("supervisorctl not found: {said}"),
                Some(c) => format!("supervisorctl status exit {c}: {said}"),
                None => format!("supervisorctl status killed: {said}"),
            });
        }
    }
    Ok(programs)
}

/// What a start/stop/restart said: `Ok` when supervisorctl reported no error for the program.
pub fn check_action(out: &CommandOutput, program: &str) -> Result<(), String> {
    let text = format!("{}\n{}", out.stdout, out.stderr);
    if let Some(line) = text.lines().find(|l| l.contains("ERROR")) {
        let line = line.trim();
        if line.contains("no such process") {
            return Err(format!("no program named {program:?} in supervisor ({line})"));
        }
        // "already started" on start is what we wanted anyway.
        if !line.contains("already started") && !line.contains("not running") {
            return Err(line.to_string());
        }
    }
    match out.status {
        Some(0) => Ok(()),
        Some(127) => Err(format!("supervisorctl not found: {}", out.last_line())),
        Some(c) if text.contains("already started") || text.contains("not running") => {
            tracing::debug!(code = c, "supervisorctl exit tolerated");
            Ok(())
        }
        Some(c) => Err(format!("supervisorctl exit {c}: {}", out.last_line())),
        None => Err(format!("supervisorctl killed: {}", out.last_line())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(status: i32, stdout: &str, stderr: &str) -> CommandOutput {
        CommandOutput {
            status: Some(status),
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn status_lines_of_every_shape() {
        let o = out(
            3,
            "tile-worker                      RUNNING   pid 1234, uptime 0:01:05\n\
             pillows:case-pillow_0            RUNNING   pid 99, uptime 2 days, 3:00:01\n\
             es                               STOPPED   Nov 23 11:00 AM\n\
             broken                           FATAL     Exited too quickly (process log may have details)\n\
             noise from bashrc\n",
            "",
        );
        let p = parse_status(&o).unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!((p[0].pid, p[0].uptime_secs), (Some(1234), Some(65)));
        assert_eq!(p[1].uptime_secs, Some(2 * 86_400 + 3 * 3_600 + 1));
        assert_eq!(p[2].state, ProgramState::Stopped);
        assert_eq!(p[2].pid, None);
        assert_eq!(p[3].description, "Exited too quickly (process log may have details)");
    }

    #[test]
    fn status_errors_keep_supervisors_words() {
        let o = out(7, "unix:///var/run/supervisor.sock no such file\n", "");
        assert!(parse_status(&o).unwrap_err().contains("no such file"));
        let o = out(1, "", "sudo: a password is required\n");
        assert!(parse_status(&o).unwrap_err().contains("password is required"));
        assert!(parse_status(&out(0, "", "")).unwrap().is_empty());
    }

    #[test]
    fn unknown_program_is_a_clear_error() {
        let o = out(
            1,
            "nosuch: ERROR (no such process)\nnosuch: ERROR (no such process)\n",
            "",
        );
        let e = check_action(&o, "nosuch").unwrap_err();
        assert!(e.contains("no program named \"nosuch\""), "{e}");
        assert!(check_action(&out(0, "w: stopped\nw: started\n", ""), "w").is_ok());
    }

    #[test]
    fn template_words_are_substituted_and_quoted() {
        let c = command(
            "sudo -n supervisorctl {action} {program}",
            SupervisorAction::Restart,
            Some("pillows:case-pillow_0"),
        )
        .unwrap();
        assert_eq!(c.to_shell(), "sudo -n supervisorctl restart pillows:case-pillow_0");
        let c = command(
            "supervisorctl -c '/tmp/my dir/s.conf' {action} {program}",
            SupervisorAction::Status,
            None,
        )
        .unwrap();
        assert_eq!(c.to_shell(), "supervisorctl -c '/tmp/my dir/s.conf' status");
        assert!(command("supervisorctl {action} {program}", SupervisorAction::Stop, Some("-all")).is_err());
        assert!(command("supervisorctl {action} {program}", SupervisorAction::Stop, Some("a b")).is_err());
    }

    #[test]
    fn following_a_program_means_tail_dash_f_as_a_word_or_inside_one() {
        let alone = argv(
            "sudo -n supervisorctl {action} {program}",
            SupervisorAction::Tail,
            Some("es"),
        )
        .unwrap();
        assert_eq!(alone, ["sudo", "-n", "supervisorctl", "tail", "-f", "es"]);
        let inside = argv(
            r#"sh -c "supervisorctl {action} {program}""#,
            SupervisorAction::Tail,
            Some("es"),
        )
        .unwrap();
        assert_eq!(inside, ["sh", "-c", "supervisorctl tail -f es"]);
    }

    #[test]
    fn only_supervisor_style_program_names_reach_a_template() {
        // `{program}` inside a word of `sh -c "..."` would be run by a shell: names that could mean
        // anything there are refused before any command is built.
        let template = r#"sh -c "supervisorctl {action} {program}""#;
        for hostile in [
            "pillow;$(reboot)",
            "a'b",
            "a\"b",
            "`id`",
            "$HOME",
            "a|b",
            "a&b",
            "a b",
            "a\nb",
            "-all",
            "",
            "é",
        ] {
            assert!(check_program(hostile).is_err(), "{hostile:?} accepted");
            assert!(
                command(template, SupervisorAction::Restart, Some(hostile)).is_err(),
                "{hostile:?} reached the template"
            );
        }
        for ok in [
            "commcare-hq-production-pillowtop-case-pillow-3",
            "group:name",
            "es@1.x+y_z",
        ] {
            assert!(check_program(ok).is_ok(), "{ok:?} refused");
        }
        let e = check_program("pillow;$(reboot)").unwrap_err();
        assert!(e.contains("program name \"pillow;$(reboot)\""), "{e}");
        let c = command(template, SupervisorAction::Restart, Some("group:name")).unwrap();
        assert_eq!(c.to_shell(), "sh -c 'supervisorctl restart group:name'");
    }

    #[test]
    fn uptime_garbage_is_none_not_an_overflow() {
        assert_eq!(parse_uptime("1 day, 0:00:01"), Some(86_401));
        assert_eq!(parse_uptime("18446744073709551615 days, 0:00:00"), None);
        assert_eq!(parse_uptime("0:18446744073709551615:00"), None);
        assert_eq!(parse_uptime("18446744073709551615:00:00"), None);
        assert_eq!(parse_uptime("0:00:18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_uptime("213503982334601 days, 23:59:59"), None);
        assert_eq!(parse_uptime("nonsense"), None);
    }
}
