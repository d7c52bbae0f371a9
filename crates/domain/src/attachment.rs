//! Files attached to entities (reports' PDFs, screenshots, samples' metadata…).

use crate::time::Timestamp;

/// An attachment's metadata; its bytes are stored by their SHA-256.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    /// Lowercase hex.
    pub sha256: String,
    pub uploader: Option<i64>,
    pub created_at: Timestamp,
}

/// A file name fit to store and to put in a `Content-Disposition` header: the last path
/// segment, without control characters or quotes, at most 255 bytes.
pub fn clean_filename(name: &str) -> Result<String, String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control() && *c != '"').collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return Err(format!("'{}' is not a file name", name.escape_debug()));
    }
    let mut end = cleaned.len().min(255);
    while !cleaned.is_char_boundary(end) {
        end -= 1;
    }
    Ok(cleaned[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_header_breaking_characters_are_dropped() {
        assert_eq!(clean_filename("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(clean_filename("C:\\\\reports\\\\q3.pdf").unwrap(), "q3.pdf");
        assert_eq!(clean_filename("a\"b\r\nc.txt").unwrap(), "abc.txt");
        assert!(clean_filename("..").is_err());
        assert!(clean_filename("  ").is_err());
    }
}
