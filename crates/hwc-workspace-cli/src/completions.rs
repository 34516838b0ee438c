//! Shell completion scripts and the manual page, from clap's own generators.
//!
//! clap_complete's bash script names its per-command branches inconsistently when the binary's
//! name has a hyphen (clap-rs/clap#6421): it sets `cmd="hwc__workspace__subcmd__job"` but
//! matches `hwc__subcmd__workspace__subcmd__job)`, so completion stops after the first word.
//! The script is generated for a name without a hyphen and then given the real one, which
//! is the same script clap writes for any plain name.

use clap_complete::Shell;

/// The binary's name, as shells call it.
const BINARY: &str = "hwc-workspace";
/// What the script is generated for: the same letters, no hyphen.
const STAND_IN: &str = "hwcworkspacestandin";
/// How functions and variables are named in the bash script (identifiers take no hyphen).
const BASH_IDENTIFIER: &str = "hwc_workspace";

/// The manual page (roff) of `hwc-workspace`, from the same definitions as `--help`.
pub(crate) fn manpage() -> String {
    let mut page = Vec::new();
    // Rendering into memory cannot fail.
    let _ = clap_mangen::Man::new(crate::commands::build()).render(&mut page);
    String::from_utf8_lossy(&page).into_owned()
}

/// The completion script of `shell` for `hwc-workspace`.
pub(crate) fn script(shell: Shell) -> String {
    let mut generated = Vec::new();
    let mut command = crate::commands::build();
    let name = if shell == Shell::Bash { STAND_IN } else { BINARY };
    clap_complete::generate(shell, &mut command, name, &mut generated);
    let text = String::from_utf8_lossy(&generated).into_owned();
    if shell != Shell::Bash {
        return text;
    }
    // The name the shell calls goes on the `complete` lines; everywhere else the stand-in is
    // part of an identifier.
    text.lines()
        .map(|line| {
            if line.trim_start().starts_with("complete ") {
                match line.rsplit_once(STAND_IN) {
                    Some((head, tail)) => format!("{}{BINARY}{tail}", head.replace(STAND_IN, BASH_IDENTIFIER)),
                    None => line.to_owned(),
                }
            } else {
                line.replace(STAND_IN, BASH_IDENTIFIER)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
