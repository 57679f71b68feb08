//! supervisorctl: commands from the configured template, and `status` output → programs.

use super::transport::Cmd;
use crate::actions::command::CommandOutput;
use crate::model::hosts::{Program, ProgramState};

/// What supervisorctl is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SupervisorAction {
    Status,
    Start,
    Stop,
    Restart,
}

impl SupervisorAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Restart => "restart",
        }
    }
}

/// A program name safe to hand to supervisorctl: not empty, not an option, no control characters.
/// (It is shell-quoted anyway; this keeps supervisorctl itself from misreading it.)
pub fn check_program(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty program name".into());
    }
    if name.starts_with('-') {
        return Err(format!("program name {name:?} starts with '-'"));
    }
    if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!("program name {name:?} contains spaces or control characters"));
    }
    Ok(())
}

/// The command for `action` on `program` (None: every program, for `status`). The template is split
/// into words (shell rules), `{action}`/`{program}` are substituted inside words, and each word is
/// quoted again on its way to the remote shell: a template cannot smuggle in pipes or `;`.
pub fn command(template: &str, action: SupervisorAction, program: Option<&str>) -> Result<Cmd, String> {
    if let Some(p) = program {
        check_program(p)?;
    }
    let words =
        shlex::split(template).ok_or_else(|| format!("supervisor command {template:?} has unbalanced quotes"))?;
    let mut argv = Vec::with_capacity(words.len());
    for w in words {
        if w == "{program}" && program.is_none() {
            continue;
        }
        argv.push(
            w.replace("{action}", action.as_str())
                .replace("{program}", program.unwrap_or("")),
        );
    }
    if argv.is_empty() {
        return Err("empty supervisor command".into());
    }
    Ok(Cmd::Argv(argv))
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
    Some(days * 86_400 + h * 3_600 + m * 60 + sec)
}

fn parse_line(line: &str) -> Option<Program> {
    let mut it = line.split_whitespace();
    let name = it.next()?;
    let state = ProgramState::parse(it.next()?)?;
    let rest_start = line.find(state.as_str())? + state.as_str().len();
    let description = crate::model::hosts::printable(line[rest_start..].trim());
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
            Some("a'b$(x)"),
        )
        .unwrap();
        assert_eq!(c.to_shell(), r#"sudo -n supervisorctl restart 'a'\''b$(x)'"#);
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
}
