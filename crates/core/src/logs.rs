//! Which log is meant: a file or a supervisor program's output on a host. Any pane's row can name
//! its logs ("tail its log"); the logs pane follows them.

/// What is followed on a host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogTarget {
    /// A file, followed across rotation (`tail -F`).
    File(String),
    /// A supervisor program's output (`supervisorctl tail -f`), as the runbooks read it.
    Program(String),
}

/// A log somewhere in the fleet: a file or a program's output on a host (`local`: this machine).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct LogSource {
    pub host: String,
    pub target: LogTarget,
}

impl LogSource {
    pub fn file(host: &str, path: &str) -> Self {
        Self {
            host: host.to_string(),
            target: LogTarget::File(path.to_string()),
        }
    }

    pub fn program(host: &str, program: &str) -> Self {
        Self {
            host: host.to_string(),
            target: LogTarget::Program(program.to_string()),
        }
    }

    /// Stable id of its tail: `host:/path` for a file, `host:program NAME` for a program (paths are
    /// absolute, so the two never collide).
    pub fn id(&self) -> String {
        format!("{}:{}", self.host, self.what())
    }

    /// The file's path, or `program NAME`.
    pub fn what(&self) -> String {
        match &self.target {
            LogTarget::File(path) => path.clone(),
            LogTarget::Program(name) => format!("program {name}"),
        }
    }

    /// A short name for line prefixes: the file name, or the program name.
    pub fn short(&self) -> &str {
        match &self.target {
            LogTarget::File(path) => path.rsplit('/').next().unwrap_or(path),
            LogTarget::Program(name) => name,
        }
    }
}
