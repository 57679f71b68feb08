//! The config file: schema, where it is found, and validation that names file, line and key.

pub mod custom;
mod sections;

use opsdeck_core::config::load::{self, ConfigRoot, ExtraChecks};
use opsdeck_core::config::{ConfigError, ConfigIssue, duration, file};
use std::path::Path;

pub use custom::CustomAction;
pub use sections::{Config, enabled_sources};

/// Reads and validates a config file (see `opsdeck_core::config::load`).
pub fn load_file(path: &Path) -> Result<Config, Vec<ConfigError>> {
    load::load_file_with(path, &|_| Vec::new())
}

/// [`load_file`] with `extra` checks (a layer above adds them: themes and keymaps exist).
pub fn load_file_with(path: &Path, extra: ExtraChecks<'_, Config>) -> Result<Config, Vec<ConfigError>> {
    load::load_file_with(path, extra)
}

/// Parses and validates config text; `file` is only used in messages.
pub fn parse_str(text: &str, file: &Path) -> Result<Config, Vec<ConfigError>> {
    load::parse_str_with(text, file, &|_| Vec::new())
}

impl ConfigRoot for Config {
    fn validate(&self) -> Vec<ConfigIssue> {
        Config::validate(self)
    }
}

impl Config {
    /// Checks that serde cannot express. Each issue names the key it is about.
    pub fn validate(&self) -> Vec<ConfigIssue> {
        let mut issues = Vec::new();
        self.general
            .refresh
            .check("general.refresh", &duration::POLL_INTERVAL, &mut issues);
        // A FIFO or a device (`/dev/full`) would block the start or swallow what is written.
        for (key, path) in [
            ("general.audit_log", &self.general.audit_log),
            ("general.log_file", &self.general.log_file),
        ] {
            if let Some(why) = path.as_deref().and_then(|p| file::regular_or_absent(p).err()) {
                issues.push(ConfigIssue::new(key, why));
            }
        }
        self.validate_sections(&mut issues);
        custom::validate(&self.actions, &self.ssh, &mut issues);
        for (i, a) in self.actions.iter().enumerate() {
            a.timeout
                .check(&format!("actions[{i}].timeout"), &duration::ACTION_TIMEOUT, &mut issues);
        }
        issues
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        parse_str(text, Path::new("c.toml"))
            .unwrap_err()
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn every_mistake_of_every_section_is_reported() {
        let text = "[general]\nread_only = \"yes\"\nrefresh = \"5 parsecs\"\n\n[bogus]\nx = 1\n";
        let errs = errors(text);
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].starts_with("c.toml:2: general.read_only: "), "{errs:?}");
        assert!(
            errs[1].starts_with("c.toml:3: general.refresh: bad duration"),
            "{errs:?}"
        );
        assert!(errs[2].starts_with("c.toml:5: bogus: unknown field"), "{errs:?}");
    }

    #[test]
    fn mistakes_in_later_entries_of_a_nested_array_are_found_too() {
        // hosts[0] lacks its name (a missing field ends that entry), hosts[1] has a typo and a
        // wrong type, and the section's own keys still count.
        let text = "[ssh]\nmax_tails = \"three\"\n\n[[ssh.hosts]]\naddress = \"10.0.0.1\"\n\n[[ssh.hosts]]\nname = \"b\"\nadress = \"x\"\nport = \"22\"\n";
        let errs = errors(text);
        let all = errs.join("\n");
        for want in [
            "c.toml:2: ssh.max_tails: invalid type",
            "ssh.hosts[0].name: missing required field",
            "c.toml:9: ssh.hosts[1].adress: unknown field",
            "c.toml:10: ssh.hosts[1].port: invalid type",
        ] {
            assert!(all.contains(want), "{want} missing from:\n{all}");
        }
        assert_eq!(errs.len(), 4, "{all}");
    }

    #[test]
    fn a_wrong_required_field_is_not_also_reported_missing() {
        let errs = errors("[[actions]]\nname = 3\nkey = \"T\"\nscope = \"hosts\"\ncommand = \"true\"\n");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with("c.toml:2: actions[0].name: invalid type"),
            "{errs:?}"
        );
    }

    #[test]
    fn semantic_mistakes_all_have_a_line_and_come_in_line_order() {
        // `max_sessions` is not in the file: the problem is located at its section. Validation
        // finds the sections in its own order; the report is in the file's.
        let text = "[elasticsearch]\nurl = \"ftp://es\"\n\n[general]\nrefresh = \"0s\"\n\n[ssh]\nmax_tails = 7\n";
        let errs = errors(text);
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].starts_with("c.toml:2: elasticsearch.url: "), "{errs:?}");
        assert!(
            errs[1].starts_with("c.toml:5: general.refresh: 0s is out of range"),
            "{errs:?}"
        );
        assert!(
            errs[2].starts_with("c.toml:7: ssh.max_sessions: max_sessions + max_tails = 13"),
            "{errs:?}"
        );
    }

    #[test]
    fn unknown_key_inside_a_section_is_named() {
        let errs = errors("[general]\n\nthme = \"mono\"\n");
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("c.toml:3: general.thme: unknown field `thme`"),
            "{errs:?}"
        );
    }

    #[test]
    fn each_array_entry_is_checked() {
        let text = "[[actions]]\nname = \"a\"\nkey = \"T\"\nscope = \"hosts\"\ncommand = \"true\"\nrisk = \"extreme\"\n\n[[actions]]\nname = \"b\"\nscope = \"hosts\"\ncommand = \"true\"\n";
        let errs = errors(text);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].starts_with("c.toml:6: actions[0].risk: "), "{errs:?}");
        assert!(errs[1].contains("actions[1].key: missing required field"), "{errs:?}");
    }

    #[test]
    fn syntax_errors_have_lines() {
        let errs = errors("[general]\nread_only = \n");
        assert!(errs[0].starts_with("c.toml:2: "), "{errs:?}");
    }
}
