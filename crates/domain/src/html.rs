//! HTML that users write (entity descriptions), made safe to show: no scripts, no event
//! handlers, no `javascript:` or `data:` URLs, no frames or embedded objects. Images may only
//! show attachments, and the caller learns which ones, to check they belong to the entity.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// Sanitized HTML and the attachment ids its images show.
#[derive(Debug, Clone, PartialEq)]
pub struct SafeHtml {
    pub html: String,
    pub attachments: BTreeSet<i64>,
}

/// The attachment an image source points at: `/private/entity-attachments/<id>/download`
/// or `/api/v2/entity-attachments/<id>/download`, relative or absolute.
pub fn attachment_in_src(src: &str) -> Option<i64> {
    let path = match src.find("://") {
        Some(i) => &src[src[i + 3..].find('/').map(|j| i + 3 + j)?..],
        None => src,
    };
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let rest = path
        .strip_prefix("/private/entity-attachments/")
        .or_else(|| path.strip_prefix("/api/v2/entity-attachments/"))?;
    let id = rest.strip_suffix("/download")?;
    id.parse().ok().filter(|n: &i64| *n > 0)
}

/// Sanitizes user HTML. Text without a tag cannot carry markup and is kept exactly as written.
pub fn sanitize(html: &str) -> SafeHtml {
    if !html.contains('<') {
        return SafeHtml {
            html: html.to_owned(),
            attachments: BTreeSet::new(),
        };
    }
    let found = Arc::new(Mutex::new(BTreeSet::new()));
    let seen = Arc::clone(&found);
    let clean = ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer nofollow"))
        .attribute_filter(move |element, attribute, value| {
            if element == "img" && attribute == "src" {
                // Images show attachments only: anything else would let a description pull
                // content from anywhere (and tell that server who is reading).
                let id = attachment_in_src(value)?;
                if let Ok(mut ids) = seen.lock() {
                    ids.insert(id);
                }
            }
            Some(Cow::Borrowed(value))
        })
        .clean(html)
        .to_string();
    let attachments = found.lock().map(|ids| ids.clone()).unwrap_or_default();
    SafeHtml {
        html: clean,
        attachments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_kept_exactly() {
        let text = "Uses \"quotes\" & ampersands; 3 > 2";
        assert_eq!(sanitize(text).html, text);
    }

    #[test]
    fn attachment_images_are_found_in_every_form() {
        assert_eq!(attachment_in_src("/private/entity-attachments/12/download"), Some(12));
        assert_eq!(
            attachment_in_src("https://cairn.example/api/v2/entity-attachments/7/download?x=1"),
            Some(7)
        );
        assert_eq!(attachment_in_src("/private/entity-attachments/x/download"), None);
        assert_eq!(attachment_in_src("https://evil.example/track.png"), None);
        let safe = sanitize(r#"<p>See <img src="/private/entity-attachments/3/download" alt="graph"></p>"#);
        assert!(safe.html.contains("/private/entity-attachments/3/download"));
        assert_eq!(safe.attachments, BTreeSet::from([3]));
    }

    #[test]
    fn dangerous_markup_is_removed() {
        for attack in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<img src=\"data:image/svg+xml;base64,PHN2Zz4=\">",
            "<img src=\"https://tracker.example/p.gif\">",
        ] {
            let out = sanitize(attack).html.to_lowercase();
            for bad in [
                "<script",
                "onerror",
                "javascript:",
                "<iframe",
                "data:",
                "tracker.example",
            ] {
                assert!(!out.contains(bad), "{attack} → {out}");
            }
        }
    }
}
