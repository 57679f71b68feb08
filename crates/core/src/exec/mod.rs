//! Running commands without a shell reading any value: argument vectors ([`Cmd`]), quoting for the
//! one shell a remote command passes through ([`shell_quote`]), local processes bounded in time and
//! output ([`command`], [`output`]), and scripts whose values are positional parameters ([`script`]).

pub mod command;
pub mod output;
pub mod script;

pub use command::{CommandOutput, ProcessGroup, run_argv, run_local, run_process};

/// A command for a host, as the words its program receives. Each word is shell-quoted on its way
/// to a remote shell (which sshd runs it through once) and passed as is locally, with no shell at
/// all: no value is ever pasted into script text. A script is `sh -c SCRIPT NAME ARG…`, with a
/// fixed SCRIPT that reads its values from its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    Argv(Vec<String>),
}

impl Cmd {
    pub fn argv<I: IntoIterator<Item = S>, S: Into<String>>(words: I) -> Self {
        Cmd::Argv(words.into_iter().map(Into::into).collect())
    }

    /// Run through `prefix` (`sudo -n`): each prefix word its own argv word.
    pub fn prefixed(self, prefix: &[String]) -> Cmd {
        let Cmd::Argv(argv) = self;
        let mut words = prefix.to_vec();
        words.extend(argv);
        Cmd::Argv(words)
    }

    /// The words, program first.
    pub fn words(&self) -> &[String] {
        let Cmd::Argv(words) = self;
        words
    }

    /// As shell text: every word quoted.
    pub fn to_shell(&self) -> String {
        quote_words(self.words())
    }
}

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

/// Each word shell-quoted, joined by spaces.
pub fn quote_words(words: &[String]) -> String {
    words.iter().map(|w| shell_quote(w)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_words_are_quoted_for_the_remote_shell() {
        let c = Cmd::argv(["ls", "-l", "a b", "$(id)", "x'y"]);
        assert_eq!(c.to_shell(), r#"ls -l 'a b' '$(id)' 'x'\''y'"#);
    }
}
