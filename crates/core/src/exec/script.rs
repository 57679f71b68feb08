//! A custom action's command template as a POSIX `sh` script whose values are positional
//! parameters: `printf '%s\n' "{{name}}"` becomes `printf '%s\n' "$1"`, run as
//! `sh -c SCRIPT opsdeck VALUE`. A value is an argument, never text of the script, so no quoting
//! can go wrong: whatever bytes it holds reach the command as one word.
//!
//! For that the template is read the way `sh` reads it, far enough to know where each placeholder
//! sits: outside quotes (`"$1"`), inside double quotes (`$1`), or somewhere a parameter would not
//! mean the value (single quotes, backticks, `$((…))`, `${…}`, a here-document, after `\` or `$`),
//! which is a config error. It also notes whether a value starts an argument word of a command
//! with no `--` before it, where a leading `-` would make it an option.

use std::collections::HashMap;

/// How a placeholder's value reaches the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// Outside quotes: `"$1"`.
    Bare,
    /// Inside `"…"` the template author wrote: `$1`.
    Double,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Slot {
    name: String,
    quoting: Quoting,
    /// The value would begin an argument word with no `--` before it in its command: a value
    /// starting with `-` would be read as an option.
    option_position: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Slot(Slot),
}

/// A checked template: text, and placeholders whose place in the shell syntax is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

/// A placeholder's value that would be read as an option (it starts with `-` where the template
/// gives no `--` before it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionLike {
    pub name: String,
    pub value: String,
}

/// Why a template cannot run on a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// The row has no value of that name (the message lists the ones it has).
    Unknown(String),
    /// The value holds control characters (a newline, an escape sequence, NUL): it could not be
    /// shown as itself in the dialog that asks to run it, so it is not passed on.
    Control {
        name: String,
    },
    OptionLike(OptionLike),
}

/// The script and its arguments, in the order `$1`, `$2`… refer to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub script: String,
    /// `(placeholder name, value)` for `$1`, `$2`…
    pub args: Vec<(String, String)>,
}

/// `$0` of every custom action's shell: what `sh` names in its own error messages.
pub const SCRIPT_NAME: &str = "opsdeck";

impl Rendered {
    /// `sh -c SCRIPT opsdeck VALUE…` (just `sh -c SCRIPT` without values): the words that run, no
    /// other shell in between.
    pub fn argv(&self) -> Vec<String> {
        let mut argv = vec!["sh".to_string(), "-c".into(), self.script.clone()];
        if !self.args.is_empty() {
            argv.push(SCRIPT_NAME.into());
            argv.extend(self.args.iter().map(|(_, v)| v.clone()));
        }
        argv
    }
}

impl Template {
    /// Reads `text`, with `{{name}}` placeholders. `Err` says what is wrong, in the author's terms.
    pub fn parse(text: &str) -> Result<Template, String> {
        Lexer::default().run(&tokens(text)?)
    }

    /// The distinct placeholder names, in order of first use.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for p in &self.pieces {
            if let Piece::Slot(s) = p
                && !names.contains(&s.name.as_str())
            {
                names.push(&s.name);
            }
        }
        names
    }

    /// The script for the values in `vars`; each distinct placeholder gets one position.
    pub fn render(&self, vars: &[(String, String)]) -> Result<Rendered, RenderError> {
        let mut positions: HashMap<&str, usize> = HashMap::new();
        let mut args: Vec<(String, String)> = Vec::new();
        let mut script = String::new();
        for piece in &self.pieces {
            let slot = match piece {
                Piece::Text(t) => {
                    script.push_str(t);
                    continue;
                }
                Piece::Slot(s) => s,
            };
            let value = vars
                .iter()
                .find(|(k, _)| *k == slot.name)
                .map(|(_, v)| v)
                .ok_or_else(|| {
                    let known: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
                    RenderError::Unknown(format!(
                        "{{{{{}}}}} is not known on this row (known: {})",
                        slot.name,
                        known.join(", ")
                    ))
                })?;
            if value.chars().any(char::is_control) {
                return Err(RenderError::Control {
                    name: slot.name.clone(),
                });
            }
            if slot.option_position && value.starts_with('-') {
                return Err(RenderError::OptionLike(OptionLike {
                    name: slot.name.clone(),
                    value: value.clone(),
                }));
            }
            let n = *positions.entry(&slot.name).or_insert_with(|| {
                args.push((slot.name.clone(), value.clone()));
                args.len()
            });
            // `$10` is `${1}0` to sh: two digits need braces.
            let param = if n < 10 { format!("${n}") } else { format!("${{{n}}}") };
            match slot.quoting {
                Quoting::Bare => script.push_str(&format!("\"{param}\"")),
                Quoting::Double => script.push_str(&param),
            }
        }
        Ok(Rendered { script, args })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    Slot(String),
}

/// Splits `{{name}}` placeholders from the text around them.
fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.extend(rest[..start].chars().map(Token::Char));
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| {
            format!(
                "unbalanced {{{{ }}}} in template: {{{{{} is never closed",
                first_words(after)
            )
        })?;
        let name = after[..end].trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!(
                "{{{{{name}}}}} is not a placeholder name (letters, digits and _ only)"
            ));
        }
        out.push(Token::Slot(name.to_string()));
        rest = &after[end + 2..];
    }
    out.extend(rest.chars().map(Token::Char));
    Ok(out)
}

fn first_words(s: &str) -> String {
    s.chars().take(20).collect()
}

/// Where the lexer is. `Top` and `Cmd` read commands (words, operators); the others read inside
/// one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Top,
    /// `$( … )`, with the depth of plain parentheses opened inside it.
    Cmd(u32),
    Double,
    Backtick,
    /// `$(( … ))`, with the depth of parentheses inside it.
    Arith(u32),
    /// `${ … }`.
    Param,
}

/// The word being read at a command level, and what came before it in its simple command.
#[derive(Debug, Clone, Default)]
struct Words {
    /// Literal characters of the current word so far (quotes removed).
    literal: String,
    /// The current word has begun (quotes or expansions count).
    started: bool,
    /// It holds an expansion (`$x`, `$(…)`, a placeholder): it is not a plain `--`.
    expanded: bool,
    /// A `--` word came earlier in this simple command.
    dashdash: bool,
    /// The previous operator was a redirection: this word is a file name, not an argument.
    redirect: bool,
}

impl Words {
    fn end_word(&mut self) {
        if self.started {
            if self.literal == "--" && !self.expanded {
                self.dashdash = true;
            }
            self.redirect = false;
        }
        self.literal.clear();
        self.started = false;
        self.expanded = false;
    }

    fn end_command(&mut self) {
        self.end_word();
        self.dashdash = false;
        self.redirect = false;
    }

    /// A value placed here would begin an argument word, with no `--` before it.
    fn option_position(&self) -> bool {
        self.literal.is_empty() && !self.redirect && !self.dashdash
    }
}

#[derive(Default)]
struct Lexer {
    /// Frames above `Top`.
    frames: Vec<Frame>,
    /// Word state per command level: `Top`, then one per open `$(`.
    levels: Vec<Words>,
    pieces: Vec<Piece>,
    text: String,
    /// A here-document operator was seen: its body would not expand `"$1"` as a word.
    heredoc: bool,
}

fn placement_error(name: &str, place: &str, advice: &str) -> String {
    format!("{{{{{name}}}}} is {place}; {advice}")
}

impl Lexer {
    fn frame(&self) -> Frame {
        self.frames.last().copied().unwrap_or(Frame::Top)
    }

    fn words(&mut self) -> &mut Words {
        if self.levels.is_empty() {
            self.levels.push(Words::default());
        }
        self.levels.last_mut().expect("a level was just pushed")
    }

    fn push_text(&mut self, c: char) {
        self.text.push(c);
    }

    fn literal(&mut self, c: char) {
        self.push_text(c);
        let w = self.words();
        w.started = true;
        w.literal.push(c);
    }

    fn expansion(&mut self) {
        let w = self.words();
        w.started = true;
        w.expanded = true;
    }

    /// A `` ` `` that starts a command substitution: an expansion inside the current word.
    fn open_backtick(&mut self) {
        self.push_text('`');
        self.expansion();
        self.frames.push(Frame::Backtick);
    }

    fn slot(&mut self, name: &str, quoting: Quoting) {
        if !self.text.is_empty() {
            self.pieces.push(Piece::Text(std::mem::take(&mut self.text)));
        }
        let option_position = self.words().option_position();
        self.pieces.push(Piece::Slot(Slot {
            name: name.to_string(),
            quoting,
            option_position,
        }));
        self.expansion();
    }

    fn run(mut self, tokens: &[Token]) -> Result<Template, String> {
        let mut i = 0;
        while i < tokens.len() {
            i = self.step(tokens, i)?;
        }
        match self.frame() {
            Frame::Top => {}
            Frame::Double => return Err("a double quote is never closed".into()),
            Frame::Backtick => return Err("a backtick is never closed".into()),
            Frame::Cmd(_) | Frame::Arith(_) => return Err("a $( is never closed".into()),
            Frame::Param => return Err("a ${ is never closed".into()),
        }
        if !self.text.is_empty() {
            self.pieces.push(Piece::Text(self.text));
        }
        Ok(Template { pieces: self.pieces })
    }

    /// Reads the token at `i`; returns the index of the next one to read.
    fn step(&mut self, t: &[Token], i: usize) -> Result<usize, String> {
        let next = |k: usize| t.get(i + k);
        let is = |k: usize, c: char| next(k) == Some(&Token::Char(c));
        let frame = self.frame();
        let c = match &t[i] {
            Token::Slot(name) => {
                if self.heredoc {
                    return Err(placement_error(
                        name,
                        "after a here-document (<<)",
                        "pass the value as an argument instead (printf '%s\\n' {{name}} | command)",
                    ));
                }
                match frame {
                    Frame::Top | Frame::Cmd(_) => self.slot(name, Quoting::Bare),
                    Frame::Double => self.slot(name, Quoting::Double),
                    Frame::Backtick => {
                        return Err(placement_error(name, "inside backticks", "use $( … ) instead"));
                    }
                    Frame::Arith(_) => {
                        return Err(placement_error(
                            name,
                            "inside $(( … ))",
                            "a shell would evaluate the value as arithmetic; compare it with test instead",
                        ));
                    }
                    Frame::Param => {
                        return Err(placement_error(name, "inside ${ … }", "use it outside the braces"));
                    }
                }
                return Ok(i + 1);
            }
            Token::Char(c) => *c,
        };
        // Characters that work the same in every frame that reads them: `$…` and `\`.
        if c == '$' && matches!(frame, Frame::Top | Frame::Cmd(_) | Frame::Double) {
            self.push_text('$');
            self.expansion();
            if let Some(Token::Slot(name)) = next(1) {
                return Err(placement_error(
                    name,
                    "right after a '$'",
                    "the value would be read as a parameter name",
                ));
            }
            if is(1, '(') && is(2, '(') {
                self.text.push_str("((");
                self.frames.push(Frame::Arith(0));
                return Ok(i + 3);
            }
            if is(1, '(') {
                self.push_text('(');
                self.frames.push(Frame::Cmd(0));
                self.levels.push(Words::default());
                return Ok(i + 2);
            }
            if is(1, '{') {
                self.push_text('{');
                self.frames.push(Frame::Param);
                return Ok(i + 2);
            }
            return Ok(i + 1);
        }
        if c == '\\' && !matches!(frame, Frame::Arith(_) | Frame::Param) {
            self.push_text('\\');
            return match next(1) {
                Some(Token::Slot(name)) => {
                    Err(placement_error(name, "right after a backslash", "remove the backslash"))
                }
                Some(Token::Char(e)) => {
                    let e = *e;
                    self.push_text(e);
                    // An escaped newline joins lines; inside backticks no word is tracked.
                    if e != '\n' && frame != Frame::Backtick {
                        let w = self.words();
                        w.started = true;
                        // Inside double quotes a backslash escapes only these; before others it stays.
                        if frame == Frame::Double && !matches!(e, '$' | '`' | '"' | '\\') {
                            w.literal.push('\\');
                        }
                        w.literal.push(e);
                    }
                    Ok(i + 2)
                }
                None => Ok(i + 1),
            };
        }
        match frame {
            Frame::Top | Frame::Cmd(_) => self.command_char(t, i, c, frame),
            Frame::Double => {
                match c {
                    '"' => {
                        self.frames.pop();
                        self.push_text(c);
                    }
                    '`' => self.open_backtick(),
                    _ => self.literal(c),
                }
                Ok(i + 1)
            }
            Frame::Backtick => {
                self.push_text(c);
                if c == '`' {
                    self.frames.pop();
                }
                Ok(i + 1)
            }
            Frame::Arith(depth) => {
                self.push_text(c);
                match c {
                    '(' => *self.frames.last_mut().expect("in a frame") = Frame::Arith(depth + 1),
                    ')' if depth == 0 && is(1, ')') => {
                        self.push_text(')');
                        self.frames.pop();
                        return Ok(i + 2);
                    }
                    ')' => *self.frames.last_mut().expect("in a frame") = Frame::Arith(depth.saturating_sub(1)),
                    _ => {}
                }
                Ok(i + 1)
            }
            Frame::Param => {
                self.push_text(c);
                if c == '}' {
                    self.frames.pop();
                }
                Ok(i + 1)
            }
        }
    }

    /// A character where commands are read (the top level or inside `$( … )`).
    fn command_char(&mut self, t: &[Token], i: usize, c: char, frame: Frame) -> Result<usize, String> {
        let is = |k: usize, ch: char| t.get(i + k) == Some(&Token::Char(ch));
        match c {
            ' ' | '\t' => {
                self.push_text(c);
                self.words().end_word();
            }
            '\n' | ';' | '&' | '|' => {
                self.push_text(c);
                self.words().end_command();
            }
            '(' => {
                self.push_text(c);
                self.words().end_command();
                if let Frame::Cmd(depth) = frame {
                    *self.frames.last_mut().expect("in a frame") = Frame::Cmd(depth + 1);
                }
            }
            ')' => {
                self.push_text(c);
                match frame {
                    Frame::Cmd(0) => {
                        self.frames.pop();
                        self.levels.pop();
                        // The whole `$( … )` is an expansion inside the enclosing word.
                        self.expansion();
                    }
                    Frame::Cmd(depth) => {
                        *self.frames.last_mut().expect("in a frame") = Frame::Cmd(depth - 1);
                        self.words().end_command();
                    }
                    _ => self.words().end_command(),
                }
            }
            '<' | '>' => {
                self.push_text(c);
                if c == '<' && is(1, '<') {
                    self.heredoc = true;
                }
                // `>>`, `>&`, `<>`, `>|`, `<<-`…: the operator's other characters.
                let mut k = 1;
                while let Some(Token::Char(op @ ('<' | '>' | '&' | '|' | '-'))) = t.get(i + k) {
                    self.push_text(*op);
                    k += 1;
                }
                let w = self.words();
                w.end_word();
                w.redirect = true;
                return Ok(i + k);
            }
            '#' if !self.words().started => {
                // A comment, to the end of the line: nothing in it runs or is quoted.
                let mut k = 0;
                while let Some(Token::Char(ch)) = t.get(i + k) {
                    if *ch == '\n' {
                        break;
                    }
                    self.push_text(*ch);
                    k += 1;
                }
                return Ok(i + k.max(1));
            }
            '\'' => {
                self.push_text(c);
                let mut k = 1;
                loop {
                    match t.get(i + k) {
                        None => return Err("a single quote is never closed".into()),
                        Some(Token::Char('\'')) => break,
                        Some(Token::Char(ch)) => {
                            let ch = *ch;
                            self.push_text(ch);
                            self.words().literal.push(ch);
                        }
                        Some(Token::Slot(name)) => {
                            return Err(placement_error(
                                name,
                                "inside single quotes, where it would be the literal text $1",
                                &format!("write \"{{{{{name}}}}}\" (double quotes) or {{{{{name}}}}} alone"),
                            ));
                        }
                    }
                    k += 1;
                }
                self.push_text('\'');
                self.words().started = true;
                return Ok(i + k + 1);
            }
            '"' => {
                self.push_text(c);
                self.words().started = true;
                self.frames.push(Frame::Double);
            }
            '`' => self.open_backtick(),
            _ => self.literal(c),
        }
        Ok(i + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn script(template: &str, pairs: &[(&str, &str)]) -> String {
        Template::parse(template).unwrap().render(&vars(pairs)).unwrap().script
    }

    #[test]
    fn placeholders_become_positional_parameters() {
        assert_eq!(script("ls -l {{path}}", &[("path", "/x")]), r#"ls -l "$1""#);
        assert_eq!(
            script(r#"printf 'A3[%s]\n' "{{name}}" >> out.txt"#, &[("name", "n")]),
            r#"printf 'A3[%s]\n' "$1" >> out.txt"#
        );
        assert_eq!(
            script("cp {{a}} {{b}}.bak; echo {{a}}", &[("a", "1"), ("b", "2")]),
            r#"cp "$1" "$2".bak; echo "$1""#
        );
        assert_eq!(
            script(r#"echo "$(basename {{p}})" # it's fine"#, &[("p", "/a")]),
            r#"echo "$(basename "$1")" # it's fine"#
        );
    }

    #[test]
    fn ten_values_or_more_use_braces() {
        let t: String = (0..11).map(|i| format!("{{{{v{i}}}}} ")).collect();
        let v: Vec<(String, String)> = (0..11).map(|i| (format!("v{i}"), i.to_string())).collect();
        let r = Template::parse(&t).unwrap().render(&v).unwrap();
        assert!(r.script.ends_with(r#""$9" "${10}" "${11}" "#), "{}", r.script);
        assert_eq!(r.args.len(), 11);
    }

    #[test]
    fn placeholders_where_a_parameter_would_not_be_the_value_are_refused() {
        for (template, why) in [
            ("echo '{{name}}'", "inside single quotes"),
            ("echo 'a {{name}} b'", "inside single quotes"),
            ("echo `ls {{name}}`", "inside backticks"),
            ("echo $(( {{name}} + 1 ))", "inside $(( … ))"),
            ("echo ${x:-{{name}}}", "inside ${ … }"),
            ("echo \\{{name}}", "after a backslash"),
            ("echo ${{name}}", "after a '$'"),
            ("cat <<EOF\n{{name}}\nEOF", "here-document"),
            ("echo {{name", "unbalanced {{ }}"),
            ("echo {{}}", "not a placeholder name"),
            ("echo \"{{name}}", "double quote is never closed"),
            ("echo 'x", "single quote is never closed"),
        ] {
            let e = Template::parse(template).unwrap_err();
            assert!(e.contains(why), "{template:?}: {e}");
        }
    }

    #[test]
    fn a_value_that_would_be_an_option_is_noticed_unless_after_dashdash() {
        let opt = |t: &str| {
            matches!(
                Template::parse(t).unwrap().render(&vars(&[("n", "--version")])),
                Err(RenderError::OptionLike(_))
            )
        };
        assert!(opt("ls {{n}}"));
        assert!(opt("ls -l \"{{n}}\""));
        assert!(opt("true -- x; ls {{n}}"), "-- of another command does not count");
        assert!(opt("ls \"$(echo {{n}})\""));
        assert!(!opt("ls -- {{n}}"));
        assert!(!opt("ls '--' \"{{n}}\""));
        assert!(!opt("echo x{{n}}"));
        assert!(!opt("echo --name={{n}}"));
        assert!(!opt("echo hi > {{n}}"));
        // An option's argument looks like any other word: refused too (`-e{{n}}` or `--` pass it).
        assert!(opt("grep -e {{n}} file"));
        assert!(!opt("grep -e{{n}} file"));
    }
}
