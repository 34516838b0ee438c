//! Shell completions, tested by running them: the generated bash script is sourced in a real
//! bash and its completion function is called as bash calls it at a <TAB>; the fish script is
//! sourced in fish (which `cargo xtask test` installs) and asked with `complete -C`. Each for
//! subcommands, nested subcommands, options and option values. (zsh's completion functions run
//! only inside its line editor, so its script is checked for being generated, not run.)

use std::process::Command;

/// What bash would offer for the words typed so far (the last one is being completed).
fn bash_completes(script: &str, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "{script}\nCOMP_WORDS=({words})\nCOMP_CWORD={cword}\nCOMPREPLY=()\n\
         _hwc_workspace hwc-workspace \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        words = quoted.join(" "),
        cword = words.len() - 1,
    );
    let output = Command::new("bash").arg("--norc").arg("-c").arg(program).output().expect("bash runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

#[test]
fn bash_completes_subcommands_options_and_values_at_every_level() {
    let output =
        assert_cmd::Command::cargo_bin("hwc-workspace").unwrap().args(["completions", "bash"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let script = String::from_utf8(output.stdout).unwrap();
    assert!(script.contains("complete -F _hwc_workspace") && script.trim_end().ends_with("fi"));

    let cases: [(&[&str], &[&str]); 6] = [
        (&["hwc-workspace", "de"], &["delete-sub-resources"]),
        (&["hwc-workspace", "delete-sub-resources", "--w"], &["--wait", "--wait-timeout"]),
        (&["hwc-workspace", "delete-sub-resources", "--desktop-"], &["--desktop-id", "--desktop-ids-from"]),
        (&["hwc-workspace", "job", "s"], &["show"]),
        (&["hwc-workspace", "job", "show", "--pro"], &["--project-id"]),
        (&["hwc-workspace", "--output", ""], &["json", "table"]),
    ];
    for (words, expected) in cases {
        let offered = bash_completes(&script, words);
        for word in expected {
            assert!(offered.iter().any(|o| o == word), "{words:?} offered {offered:?}, not {word}");
        }
        assert!(offered.iter().all(|o| o.starts_with(words[words.len() - 1])), "{words:?} offered {offered:?}");
    }
}

fn script(shell: &str) -> String {
    let output =
        assert_cmd::Command::cargo_bin("hwc-workspace").unwrap().args(["completions", shell]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{shell}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn fish_completes_subcommands_options_and_values_at_every_level() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hwc-workspace.fish");
    std::fs::write(&path, script("fish")).unwrap();
    let cases: [(&str, &[&str]); 5] = [
        ("hwc-workspace de", &["delete-sub-resources"]),
        ("hwc-workspace delete-sub-resources --w", &["--wait", "--wait-timeout"]),
        ("hwc-workspace job ", &["show"]),
        ("hwc-workspace job show --pro", &["--project-id"]),
        ("hwc-workspace delete-sub-resources --output ", &["json", "table"]),
    ];
    for (line, expected) in cases {
        let program = format!("source {}; complete -C '{line}'", path.display());
        let output = Command::new("fish").arg("--no-config").arg("-c").arg(program).output().expect("fish runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let offered: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
            .collect();
        for word in expected {
            assert!(offered.iter().any(|o| o == word), "{line:?} offered {offered:?}, not {word}");
        }
    }
}

#[test]
fn zsh_gets_a_script_for_its_completion_system() {
    let text = script("zsh");
    assert!(text.starts_with("#compdef hwc-workspace"), "{}", &text[..text.len().min(200)]);
    for word in ["delete-sub-resources", "--wait-timeout", "show", "json", "table"] {
        assert!(text.contains(word), "{word}");
    }
}

/// The manual page is roff for `man`, from the same definitions as `--help`: every subcommand
/// and global option is in it.
#[test]
fn the_manual_page_names_every_command_and_option() {
    let output = assert_cmd::Command::cargo_bin("hwc-workspace").unwrap().arg("manpage").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let page = String::from_utf8(output.stdout).unwrap();
    assert!(page.contains(".TH hwc-workspace 1"), "{page}");
    for word in ["delete\\-sub\\-resources", "simulator", "completions", "\\-\\-proxy", "\\-\\-metadata\\-endpoint"] {
        assert!(page.contains(word), "{word} missing from the manual page");
    }
}
