//! The plain-text part derived from a template's HTML: headings, paragraphs
//! and lists as text, links as numbered references, layout tables as
//! plain blocks, wrapped at 78 characters.
//!
//! Merge fields and tags (`{{ … }}`, `{% … %}`, `{# … #}`) pass through
//! untouched: each is swapped for an opaque token without spaces before
//! the conversion (so no line break can fall inside one) and put back
//! after it.

/// Where the text is wrapped (RFC 5322 recommends at most 78 characters).
const WIDTH: usize = 78;

/// Marks a protected tag: `OPEN`, its number, `CLOSE` (private-use
/// characters, which no template is expected to contain).
const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// The text of `html`, merge fields and tags kept as they are written.
pub fn from_html(html: &str) -> Result<String, String> {
    let (protected, tags) = protect(html);
    let text = html2text::config::plain_no_decorate()
        .link_footnotes(true)
        .raw_mode(true)
        .no_link_wrapping()
        .string_from_read(protected.as_bytes(), WIDTH)
        .map_err(|e| e.to_string())?;
    Ok(restore(&text, &tags))
}

/// `html` with every template tag swapped for a token, and the tags.
fn protect(html: &str) -> (String, Vec<&str>) {
    let mut out = String::with_capacity(html.len());
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(start) = find_tag_start(rest) {
        let close = match &rest[start + 1..start + 2] {
            "{" => "}}",
            "%" => "%}",
            _ => "#}",
        };
        let Some(length) = rest[start + 2..].find(close) else {
            break; // unclosed: the syntax check has already refused it
        };
        let end = start + 2 + length + close.len();
        out.push_str(&rest[..start]);
        out.push(OPEN);
        out.push_str(&tags.len().to_string());
        out.push(CLOSE);
        tags.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out.push_str(rest);
    (out, tags)
}

fn find_tag_start(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    (0..bytes.len().saturating_sub(1))
        .find(|&i| bytes[i] == b'{' && matches!(bytes[i + 1], b'{' | b'%' | b'#'))
}

/// `text` with every token put back as the tag it stands for.
fn restore(text: &str, tags: &[&str]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len_utf8()..];
        let Some(length) = after.find(CLOSE) else {
            break;
        };
        match after[..length]
            .parse::<usize>()
            .ok()
            .and_then(|n| tags.get(n))
        {
            Some(tag) => out.push_str(tag),
            None => out.push_str(&rest[start..start + OPEN.len_utf8() + length + CLOSE.len_utf8()]),
        }
        rest = &after[length + CLOSE.len_utf8()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_links_and_lists_become_text() {
        let text = from_html(
            "<h1>Hallo</h1><p>Ihr <b>Newsletter</b> zum Jahresende.</p>\
             <ul><li>Zinsen</li><li>Termine</li></ul>\
             <p><a href=\"https://sparkasse.example/aktion\">Zur Aktion</a></p>",
        )
        .unwrap();
        assert!(text.contains("Hallo"), "{text}");
        assert!(text.contains("Ihr Newsletter zum Jahresende."), "{text}");
        assert!(
            text.contains("Zinsen") && text.contains("Termine"),
            "{text}"
        );
        assert!(text.contains("https://sparkasse.example/aktion"), "{text}");
        assert!(!text.contains('<'), "no markup left: {text}");
    }

    #[test]
    fn merge_fields_and_tags_survive_whole_even_where_lines_wrap() {
        let long = "Wort ".repeat(30);
        let html = format!(
            "<p>{long}{{{{ contact.first_name | default(\"liebe Kundin, lieber Kunde\") }}}} \
             {{% if contact.language == \"en\" %}}Hello{{% endif %}}</p>\
             <a href=\"{{{{ unsubscribe_url }}}}\">Abmelden</a>"
        );
        let text = from_html(&html).unwrap();
        assert!(
            text.contains("{{ contact.first_name | default(\"liebe Kundin, lieber Kunde\") }}"),
            "{text}"
        );
        assert!(
            text.contains("{% if contact.language == \"en\" %}Hello{% endif %}"),
            "{text}"
        );
        assert!(text.contains("{{ unsubscribe_url }}"), "{text}");
        assert!(text.lines().all(|line| !line.contains(OPEN)), "{text}");
    }

    #[test]
    fn an_unclosed_tag_is_left_as_it_is() {
        let (protected, tags) = protect("<p>{{ offen</p>");
        assert!(tags.is_empty());
        assert_eq!(protected, "<p>{{ offen</p>");
    }
}
