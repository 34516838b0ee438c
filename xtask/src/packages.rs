//! Programs the tasks need from the distribution (nginx and curl for the bench, fish for the
//! completion tests), installed with apt when missing, so that a fresh machine and CI need
//! nothing installed by hand.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run;

/// The program's path, installed from the Debian package if it is missing.
pub(crate) fn installed(root: &Path, program: &str, package: &str) -> Result<PathBuf, String> {
    if let Some(path) = find(program) {
        return Ok(path);
    }
    eprintln!("xtask: {program} is not installed; installing the Debian package {package}");
    let root_user = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let sudo: &[&str] = if root_user { &[] } else { &["sudo"] };
    let install = [
        sudo,
        &["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--no-install-recommends", package],
    ]
    .concat();
    // A fresh machine may have no package lists yet: update them once, then try again.
    if run(root, install[0], &install[1..]).is_err() {
        let update = [sudo, &["apt-get", "update"]].concat();
        run(root, update[0], &update[1..])?;
        run(root, install[0], &install[1..])?;
    }
    find(program).ok_or_else(|| format!("{program} is still not found after installing {package}"))
}

/// Looks the program up on PATH and in the system directories that a non-root PATH may lack.
pub(crate) fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
