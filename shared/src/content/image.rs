//! What an uploaded image may be: PNG, JPEG, GIF or WebP, known by its
//! first bytes (never by its name or the type the browser claimed), or an
//! SVG without anything active in it, each at most [`MAX_IMAGE_BYTES`].
//!
//! An SVG is read as XML and refused when any element could run or load
//! something (`script`, `foreignObject`, `iframe`, `embed`, `object`,
//! `handler`, `listener`), any attribute is an event handler (`on…`), or
//! any link (`href`, `xlink:href`, `src`) points anywhere but inside the
//! image itself (`#…`) or at embedded raster data (`data:image/png` and
//! the like). The file is kept as uploaded: refused, not rewritten.

use serde::{Deserialize, Serialize};

/// The largest image the library takes: mail clients load every image of
/// a newsletter on opening, and most cap a mail's size well below this.
/// Images are served through a function whose answer may carry at most
/// 6 MB, base64-encoded: 4 MiB is the most that fits.
pub const MAX_IMAGE_BYTES: u64 = 4 * 1024 * 1024;

/// The kinds of image the library takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImageKind {
    Png,
    Jpeg,
    Gif,
    Webp,
    Svg,
}

impl ImageKind {
    /// The media type the image is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Svg => "image/svg+xml",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("the image takes {size} bytes; at most {MAX_IMAGE_BYTES} are allowed")]
    TooLarge { size: u64 },
    #[error("the file is empty")]
    Empty,
    #[error("the file is not a PNG, JPEG, GIF, WebP or SVG image")]
    UnknownKind,
    #[error("the SVG image is not well-formed XML: {0}")]
    InvalidSvg(String),
    #[error("the SVG image contains {0}, which could run or load something; it is refused")]
    ActiveSvg(String),
}

/// The kind of `bytes` (a whole file), or why it is refused.
pub fn check(bytes: &[u8]) -> Result<ImageKind, ImageError> {
    let size = bytes.len() as u64;
    if size > MAX_IMAGE_BYTES {
        return Err(ImageError::TooLarge { size });
    }
    if bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    let kind = sniff(bytes).ok_or(ImageError::UnknownKind)?;
    if kind == ImageKind::Svg {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| ImageError::InvalidSvg("it is not UTF-8 text".into()))?;
        check_svg(text)?;
    }
    Ok(kind)
}

/// The kind the first bytes say; an SVG is text that starts (after a
/// byte order mark, white space, an XML declaration, comments or a
/// doctype) with an `<svg` element — the XML check decides the rest.
fn sniff(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(ImageKind::Png);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(ImageKind::Jpeg);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some(ImageKind::Gif);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some(ImageKind::Webp);
    }
    let text = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let head = String::from_utf8_lossy(&text[..text.len().min(4096)]).to_ascii_lowercase();
    let head = head.trim_start();
    (head.starts_with("<?xml")
        || head.starts_with("<svg")
        || head.starts_with("<!--")
        || head.starts_with("<!doctype svg"))
    .then_some(ImageKind::Svg)
}

/// Elements that run or load something.
const ACTIVE_ELEMENTS: &[&str] = &[
    "script",
    "foreignobject",
    "iframe",
    "embed",
    "object",
    "handler",
    "listener",
    // Animations can set a link (`<set attributeName="href" to="…">`).
    "set",
    "animate",
    "animatemotion",
    "animatetransform",
];

/// Attributes that name something to load.
const LINK_ATTRIBUTES: &[&str] = &["href", "src"];

fn check_svg(text: &str) -> Result<(), ImageError> {
    use xmlparser::Token;
    let mut root = None;
    // Elements open: a file that ends inside one is not a whole image.
    let mut depth: usize = 0;
    for token in xmlparser::Tokenizer::from(text) {
        let token = token.map_err(|e| ImageError::InvalidSvg(e.to_string()))?;
        match token {
            Token::ElementStart { local, .. } => {
                let name = local.as_str().to_ascii_lowercase();
                if root.is_none() {
                    root = Some(name.clone());
                }
                if ACTIVE_ELEMENTS.contains(&name.as_str()) {
                    return Err(ImageError::ActiveSvg(format!(
                        "a <{}> element",
                        local.as_str()
                    )));
                }
            }
            Token::Attribute { local, value, .. } => {
                let name = local.as_str().to_ascii_lowercase();
                if name.starts_with("on") {
                    return Err(ImageError::ActiveSvg(format!(
                        "an event handler ({})",
                        local.as_str()
                    )));
                }
                if name == "style" && loads_from_outside(value.as_str()) {
                    return Err(ImageError::ActiveSvg(
                        "a style that loads from outside the image (url(…) or @import)".into(),
                    ));
                }
                if LINK_ATTRIBUTES.contains(&name.as_str()) && !inside_or_raster(value.as_str()) {
                    return Err(ImageError::ActiveSvg(format!(
                        "a link to outside the image ({})",
                        local.as_str()
                    )));
                }
            }
            Token::ElementEnd { end, .. } => match end {
                xmlparser::ElementEnd::Open => depth += 1,
                xmlparser::ElementEnd::Close(..) => depth = depth.saturating_sub(1),
                xmlparser::ElementEnd::Empty => {}
            },
            Token::Text { text } | Token::Cdata { text, .. }
                if loads_from_outside(text.as_str()) =>
            {
                return Err(ImageError::ActiveSvg(
                    "a style that loads from outside the image (url(…) or @import)".into(),
                ));
            }
            Token::EntityDeclaration { .. } => {
                return Err(ImageError::ActiveSvg("an entity declaration".into()));
            }
            _ => {}
        }
    }
    if depth > 0 {
        return Err(ImageError::InvalidSvg("an element is not closed".into()));
    }
    match root.as_deref() {
        Some("svg") => Ok(()),
        _ => Err(ImageError::InvalidSvg(
            "its root element is not <svg>".into(),
        )),
    }
}

/// Whether CSS (a `style` attribute or a `<style>` element's text) loads
/// anything that is not inside the image or embedded raster data.
fn loads_from_outside(css: &str) -> bool {
    let lower = css.to_ascii_lowercase();
    if lower.contains("@import") {
        return true;
    }
    lower.match_indices("url(").any(|(at, _)| {
        let rest = lower[at + 4..].trim_start_matches(['"', '\'', ' ']);
        !inside_or_raster(rest)
    })
}

/// Whether a link stays inside the image (`#id`) or is embedded raster
/// data; anything else (another file, `javascript:`, an embedded SVG or
/// HTML) is refused. White space and case are ignored, as browsers do.
fn inside_or_raster(value: &str) -> bool {
    let value: String = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    value.starts_with('#')
        || [
            "data:image/png",
            "data:image/jpeg",
            "data:image/gif",
            "data:image/webp",
        ]
        .iter()
        .any(|prefix| value.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVG: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">
  <defs><linearGradient id="g"><stop offset="0" stop-color="#c00"/></linearGradient></defs>
  <rect width="10" height="10" fill="url(#g)"/>
  <use xlink:href="#g"/>
</svg>"##;

    #[test]
    fn raster_images_are_known_by_their_first_bytes_not_their_names() {
        assert_eq!(check(b"\x89PNG\r\n\x1a\n rest"), Ok(ImageKind::Png));
        assert_eq!(check(&[0xFF, 0xD8, 0xFF, 0xE0, 1, 2]), Ok(ImageKind::Jpeg));
        assert_eq!(check(b"GIF89a...."), Ok(ImageKind::Gif));
        assert_eq!(check(b"RIFF\x10\0\0\0WEBPVP8 "), Ok(ImageKind::Webp));
        assert_eq!(check(b"%PDF-1.7"), Err(ImageError::UnknownKind));
        assert_eq!(
            check(b"<html><body>hi</body></html>"),
            Err(ImageError::UnknownKind)
        );
        assert_eq!(check(b""), Err(ImageError::Empty));
    }

    #[test]
    fn an_image_over_the_limit_is_refused_with_its_size() {
        let big = vec![0u8; (MAX_IMAGE_BYTES + 1) as usize];
        assert_eq!(
            check(&big),
            Err(ImageError::TooLarge {
                size: MAX_IMAGE_BYTES + 1
            })
        );
    }

    #[test]
    fn a_plain_svg_is_taken() {
        assert_eq!(check(SVG.as_bytes()), Ok(ImageKind::Svg));
    }

    #[test]
    fn an_svg_that_could_run_or_load_something_is_refused() {
        let refused = [
            SVG.replace("<rect", "<script>alert(1)</script><rect"),
            SVG.replace("<rect", "<SCRIPT xlink:href=\"#g\"/><rect"),
            SVG.replace("<rect ", "<rect onload=\"alert(1)\" "),
            SVG.replace("<rect ", "<rect OnClick=\"alert(1)\" "),
            SVG.replace("xlink:href=\"#g\"", "xlink:href=\" JavaScript:alert(1)\""),
            SVG.replace(
                "xlink:href=\"#g\"",
                "href=\"https://tracker.example/p.svg#x\"",
            ),
            SVG.replace(
                "xlink:href=\"#g\"",
                "href=\"data:image/svg+xml;base64,PHN2Zz4=\"",
            ),
            SVG.replace("<rect", "<foreignObject><div/></foreignObject><rect"),
        ];
        for svg in refused {
            assert!(
                matches!(check(svg.as_bytes()), Err(ImageError::ActiveSvg(_))),
                "{svg}"
            );
        }
    }

    #[test]
    fn an_svg_with_entities_or_broken_xml_or_another_root_is_refused() {
        let entity = SVG.replace(
            "<svg ",
            "<!DOCTYPE svg [<!ENTITY x \"&#60;script&#62;\">]>\n<svg ",
        );
        assert!(matches!(
            check(entity.as_bytes()),
            Err(ImageError::ActiveSvg(_))
        ));
        let broken = SVG.replace("</svg>", "");
        assert!(matches!(
            check(broken.as_bytes()),
            Err(ImageError::InvalidSvg(_))
        ));
        assert!(matches!(
            check(b"<?xml version=\"1.0\"?><html/>"),
            Err(ImageError::InvalidSvg(_))
        ));
    }

    #[test]
    fn an_svg_that_animates_a_link_or_styles_from_outside_is_refused() {
        for (svg, reason) in [
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg"><a><set attributeName="href" to="javascript:alert(1)"/><text>x</text></a></svg>"#,
                "<set>",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg"><animate attributeName="href" values="javascript:alert(1)"/></svg>"#,
                "<animate>",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(https://tracker.example/p.png)"/></svg>"#,
                "style",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg"><style>@import "https://x.example/a.css";</style></svg>"#,
                "style",
            ),
        ] {
            let refused = check(svg.as_bytes()).unwrap_err();
            assert!(refused.to_string().contains(reason), "{svg}: {refused}");
        }
        let inside = r##"<svg xmlns="http://www.w3.org/2000/svg"><style>rect { fill: url(#g) }</style><rect style="fill:url('#g')"/></svg>"##;
        assert_eq!(check(inside.as_bytes()), Ok(ImageKind::Svg));
    }
}
