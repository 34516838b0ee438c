//! Reading the files a user points the SDK at (credentials, regions, CA certificates, a
//! simulator state): one bounded way for every front, so that no file can hang a call or
//! grow memory without limit.

use std::io::{self, Read};
use std::path::Path;

/// The largest configuration file read: far above any real credentials, regions or CA file
/// (a system CA bundle is about 200 KiB), far below what could hurt.
pub const MAX_CONFIG_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a configuration file whole, without a leading UTF-8 BOM. Anything but a regular file is refused before it is
/// opened: a FIFO would block the caller forever, a device (`/dev/zero`) never ends. A file
/// larger than [`MAX_CONFIG_FILE_BYTES`] is refused without reading the rest. Errors keep
/// their kind (`NotFound` stays `NotFound`), and say what is wrong.
pub fn read_config_file(path: &Path) -> io::Result<Vec<u8>> {
    read_file_bounded(path, MAX_CONFIG_FILE_BYTES)
}

/// The UTF-8 byte order mark, skipped at the start of every file read here.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// [`read_config_file`] with another cap, for files that grow with what they describe (a
/// simulator state of a whole fleet).
pub fn read_file_bounded(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        let kind = if metadata.is_dir() { "a directory" } else { "not a regular file (a FIFO, socket or device)" };
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("it is {kind}")));
    }
    let mut contents = Vec::with_capacity(metadata.len().min(limit) as usize);
    std::fs::File::open(path)?.take(limit + 1).read_to_end(&mut contents)?;
    if contents.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("it is larger than {limit} bytes, more than any such file needs"),
        ));
    }
    // A leading UTF-8 byte order mark (as Windows editors write) is skipped for every format
    // (INI, YAML, JSON, PEM): read as part of the first line, it made `[basic]` unrecognised
    // and the credentials chain fell through to another identity.
    if contents.starts_with(UTF8_BOM) {
        contents.drain(..UTF8_BOM.len());
    }
    Ok(contents)
}

/// [`read_config_file`] for a text file: not UTF-8 is an error saying so. The BOM is
/// skipped as for any file read here: a `[basic]` after a BOM is still `[basic]`.
pub fn read_config_text(path: &Path) -> io::Result<String> {
    text(read_config_file(path)?)
}

/// [`read_file_bounded`] for a text file.
pub fn read_text_bounded(path: &Path, limit: u64) -> io::Result<String> {
    text(read_file_bounded(path, limit)?)
}

fn text(bytes: Vec<u8>) -> io::Result<String> {
    String::from_utf8(bytes)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("it is not UTF-8 text ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_of_bounded_size_are_read() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let small = dir.path().join("small");
        std::fs::write(&small, "[basic]\n").expect("written");
        assert_eq!(read_config_text(&small).expect("read"), "[basic]\n");
        std::fs::write(&small, "\u{feff}[basic]\n").expect("written");
        assert_eq!(read_config_text(&small).expect("read"), "[basic]\n", "the BOM is skipped");
        assert_eq!(read_text_bounded(&small, 64).expect("read"), "[basic]\n", "the BOM is skipped");
        assert_eq!(read_config_file(&small).expect("read"), b"[basic]\n", "the BOM is skipped");

        let large = dir.path().join("large");
        std::fs::write(&large, vec![b'x'; MAX_CONFIG_FILE_BYTES as usize + 1]).expect("written");
        assert_eq!(read_config_file(&large).expect_err("refused").kind(), io::ErrorKind::FileTooLarge);

        assert_eq!(read_config_file(dir.path()).expect_err("refused").kind(), io::ErrorKind::InvalidInput);
        assert_eq!(read_config_file(Path::new("/dev/zero")).expect_err("refused").kind(), io::ErrorKind::InvalidInput);
        let missing = read_config_file(&dir.path().join("missing")).expect_err("refused");
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);

        let not_text = dir.path().join("binary");
        std::fs::write(&not_text, b"\xff\xfe").expect("written");
        assert_eq!(read_config_text(&not_text).expect_err("refused").kind(), io::ErrorKind::InvalidData);
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_at_once() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
        assert!(made.success());
        // Opening a FIFO with no writer would block forever; the check comes first.
        assert_eq!(read_config_file(&fifo).expect_err("refused").kind(), io::ErrorKind::InvalidInput);
    }
}
