//! A campaign's messages, built fast: a template and the campaign's fixed
//! header data are prepared once (`Prepared::new`), then each recipient's
//! complete RFC 5322 message is one call (`Prepared::message`).
//!
//! Headers are written by mail-builder's header writers (RFC 2047 words,
//! folding); those that are the same in every message are written once.
//! The bodies are multipart/alternative, text and HTML, UTF-8,
//! quoted-printable. minijinja renders every message (so conditionals,
//! defaults and escaping are exactly those of `Compiled::render`), but its
//! output goes to a writer that encodes as it goes:
//!
//! - A write whose bytes lie inside the part's template source — the string
//!   the environment holds, immutable while the `Prepared` lives — is
//!   template text. It is known by its offset and length in that source,
//!   and its encoding, made once per campaign, is copied. The encoding is a
//!   function of the source bytes alone, so it can only ever be template
//!   text: no recipient's data is in it, and no buffer of one message can
//!   be mistaken for it (an address outside the source is never looked up).
//! - Everything else (what the formatter prints, captured blocks) is the
//!   recipient's, encoded in this message only.
//!
//! Encoded template text starts at the beginning of a line; a soft line
//! break (`=` CRLF) before it ends whatever line came before, so the pieces
//! splice into valid quoted-printable with lines of at most 76 characters.
//!
//! Tracked links: when the campaign tracks, every `http(s)` `href` whose
//! value is written out in the template (no merge field in it), and every
//! `http(s)` URL in the text part's template text, becomes a hole: its
//! place in the source and its index in the campaign's link table (one
//! index per distinct URL). Each message writes `{public_url}k/{token}`
//! there, with a token signed by `links::LinkSigner`. Holes are places in
//! the source, so a recipient's value can never make one; `mailto:` links
//! and the unsubscribe link (a merge field) stay as they are.
//!
//! The open pixel: when the campaign tracks, the HTML part gets a 1×1
//! image, `{public_url}o/{token}`, whose token carries the reserved link
//! index [`OPEN_LINK`]. It is a hole of no width just before the last
//! `</body>` in the template text, written at most once per message; when
//! the rendering never reaches that place (no `</body>`, or one in a branch
//! not taken), the pixel ends the part. Aggregate tracking's pixel is the
//! same for everybody and is encoded once per campaign; per-person
//! tracking's names the recipient and is encoded per message.

use std::io;
use std::ops::Range;

use mail_builder::headers::Header;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::text::Text;
use minijinja::Value;
use url::Url;
use uuid::Uuid;

use super::links::{LinkKey, LinkSigner};
use super::template::{Compiled, RenderError, TemplatePart};
use crate::domain::{ContactId, EmailAddress, TenantId, TrackingMode};
use crate::mime::{Built, ListUnsubscribe, MimeError, ONE_CLICK, no_line_break};

/// Where tracked links point, below the public URL (the click endpoint).
pub const LINK_PATH: &str = "k/";
/// Where the unsubscribe page is, below the public URL.
pub const UNSUBSCRIBE_PATH: &str = "abmelden/";
/// Where the open pixel is, below the public URL.
pub const OPEN_PATH: &str = "o/";
/// The link index an open pixel's token carries: no link has it.
pub const OPEN_LINK: u16 = u16::MAX;
/// The pixel's tag, around its URL.
const PIXEL_START: &str = "<img src=\"";
const PIXEL_END: &str = "\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0\">";
/// The longest a quoted-printable line may be before its soft break `=`.
const QP_LINE: usize = 75;

/// Why a message could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Mime(#[from] MimeError),
}

/// What is the same in every message of a campaign.
#[derive(Debug, Clone)]
pub struct CampaignMail {
    pub tenant: TenantId,
    pub campaign: Uuid,
    pub from_name: String,
    /// One of the tenant's verified senders.
    pub from: EmailAddress,
    pub reply_to: Option<EmailAddress>,
    pub tracking: TrackingMode,
    /// EMMA's public address (`Config::public_url`): links go to
    /// `{public_url}k/{token}`, the unsubscribe page is
    /// `{public_url}abmelden/{token}`.
    pub public_url: Url,
    /// The address of `List-Unsubscribe`'s `mailto:`.
    pub unsubscribe_mailto: EmailAddress,
    /// The domain of each Message-ID: the tenant's sender domain.
    pub message_id_domain: String,
    /// Further header fields, e.g. ("X-EMMA-Test", "1").
    pub headers: Vec<(&'static str, String)>,
}

/// One recipient of a campaign.
#[derive(Debug, Clone, Copy)]
pub struct Recipient<'a> {
    pub contact: &'a ContactId,
    pub to: &'a EmailAddress,
    /// The display name of `To`, if any.
    pub name: Option<&'a str>,
    /// The contact's unsubscribe token (`services::unsubscribe::token`).
    pub unsubscribe_token: &'a str,
    /// What the template reads (`content::context`); its `unsubscribe_url`
    /// is set from `unsubscribe_token`, so body and header always agree.
    pub context: &'a Value,
}

/// A campaign's template and header data, ready to make each recipient's
/// message.
pub struct Prepared {
    compiled: Compiled,
    signer: LinkSigner,
    tracking: TrackingMode,
    /// The campaign's link table: destinations, by index.
    links: Vec<String>,
    /// Aggregate tracking: each link's URL, the same for everybody.
    aggregate_urls: Vec<String>,
    /// Aggregate tracking: the open pixel's tag, encoded once.
    aggregate_pixel: Option<EncodedText>,
    link_prefix: String,
    open_prefix: String,
    unsubscribe_prefix: String,
    mailto_prefix: String,
    message_id_domain: String,
    /// From, Reply-To, List-Unsubscribe-Post, further fields,
    /// MIME-Version and the multipart Content-Type.
    head: Vec<u8>,
    /// The end of the header, the boundary and the text part's header.
    text_head: Vec<u8>,
    /// The boundary and the HTML part's header.
    html_head: Vec<u8>,
    /// The closing boundary.
    tail: Vec<u8>,
    text: Part,
    html: Part,
    size_hint: usize,
}

// One prepared campaign serves every worker thread.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<Prepared>();
};

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("tracking", &self.tracking)
            .field("links", &self.links.len())
            .finish_non_exhaustive()
    }
}

impl Prepared {
    /// Prepares a campaign's messages: checks and writes the fixed
    /// headers, finds the tracked links, and encodes the template text of
    /// both parts.
    pub fn new(
        compiled: Compiled,
        mail: &CampaignMail,
        links: &LinkKey,
    ) -> Result<Self, MessageError> {
        no_line_break("From", &mail.from_name)?;
        for (name, value) in &mail.headers {
            let valid_name =
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
            if !valid_name {
                return Err(MimeError::InvalidHeader(name).into());
            }
            no_line_break(name, value)?;
        }
        let domain = &mail.message_id_domain;
        let valid_domain = !domain.is_empty()
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !valid_domain {
            return Err(MimeError::InvalidHeader("Message-ID").into());
        }

        let boundary = format!("=_emma_{}", Uuid::new_v4().simple());
        let mut head = Vec::with_capacity(512);
        head.extend_from_slice(b"From: ");
        let from_name = Some(mail.from_name.as_str()).filter(|name| !name.is_empty());
        Address::new_address(from_name, mail.from.as_str()).write_header(&mut head, 6);
        if let Some(reply_to) = &mail.reply_to {
            head.extend_from_slice(b"Reply-To: ");
            Address::new_address(None::<&str>, reply_to.as_str()).write_header(&mut head, 10);
        }
        head.extend_from_slice(b"List-Unsubscribe-Post: ");
        Text::new(ONE_CLICK).write_header(&mut head, 23);
        for (name, value) in &mail.headers {
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b": ");
            Text::new(value.as_str()).write_header(&mut head, name.len() + 2);
        }
        head.extend_from_slice(b"MIME-Version: 1.0\r\nContent-Type: ");
        ContentType::new("multipart/alternative")
            .attribute("boundary", boundary.as_str())
            .write_header(&mut head, 14);
        // The first part's header starts with the blank line that ends the
        // message header; the CRLF before a later boundary belongs to it.
        let part_head = |kind: &str| {
            let mut out = Vec::with_capacity(160);
            out.extend_from_slice(b"\r\n--");
            out.extend_from_slice(boundary.as_bytes());
            out.extend_from_slice(b"\r\nContent-Type: ");
            ContentType::new(kind)
                .attribute("charset", "utf-8")
                .write_header(&mut out, 14);
            out.extend_from_slice(b"Content-Transfer-Encoding: quoted-printable\r\n\r\n");
            out
        };
        let text_head = part_head("text/plain");
        let html_head = part_head("text/html");
        let tail = format!("\r\n--{boundary}--\r\n").into_bytes();

        let mut table = LinkTable::default();
        let (html, text) = {
            let html_template = compiled.template(TemplatePart::Body)?;
            let text_template = compiled.template(TemplatePart::Text)?;
            let (html_source, text_source) = (html_template.source(), text_template.source());
            let tracked = mail.tracking != TrackingMode::Off;
            let html_holes = if tracked {
                let mut holes = href_holes(html_source, &mut table);
                if let Some(pixel) = pixel_hole(html_source, &holes) {
                    holes.push(pixel);
                    holes.sort_by_key(|hole| (hole.range.start, hole.range.end));
                }
                holes
            } else {
                Vec::new()
            };
            let text_holes = if tracked {
                url_holes(text_source, &mut table)
            } else {
                Vec::new()
            };
            (
                Part::new(TemplatePart::Body, html_source, html_holes),
                Part::new(TemplatePart::Text, text_source, text_holes),
            )
        };

        let public = mail.public_url.as_str();
        let slash = if public.ends_with('/') { "" } else { "/" };
        let link_prefix = format!("{public}{slash}{LINK_PATH}");
        let signer = links.signer(&mail.tenant, mail.campaign);
        let aggregate_urls = match mail.tracking {
            TrackingMode::Aggregate => (0..table.urls.len())
                .map(|index| {
                    let mut url = link_prefix.clone();
                    signer.append_token(None, link_index(index), &mut url);
                    url
                })
                .collect(),
            _ => Vec::new(),
        };
        let open_prefix = format!("{public}{slash}{OPEN_PATH}");
        let aggregate_pixel = (mail.tracking == TrackingMode::Aggregate).then(|| {
            let mut tag = String::from(PIXEL_START);
            tag.push_str(&open_prefix);
            signer.append_token(None, OPEN_LINK, &mut tag);
            tag.push_str(PIXEL_END);
            EncodedText::of(tag.as_bytes())
        });
        // Room for a whole message at once: a buffer grown by doubling
        // would pass the allocator's mmap threshold (128 KiB) and fault in
        // fresh pages for every message.
        let holes = html.holes.len() + text.holes.len();
        let size_hint = head.len()
            + text_head.len()
            + html_head.len()
            + tail.len()
            + html.encoded.len()
            + text.encoded.len()
            + (holes + 1) * 2 * (link_prefix.len() + 128)
            + PIXEL_START.len()
            + PIXEL_END.len()
            + 16 * 1024;
        Ok(Self {
            compiled,
            signer,
            tracking: mail.tracking,
            links: table.urls,
            aggregate_urls,
            aggregate_pixel,
            open_prefix,
            unsubscribe_prefix: format!("{public}{slash}{UNSUBSCRIBE_PATH}"),
            link_prefix,
            mailto_prefix: format!(
                "mailto:{}?subject=unsubscribe-",
                mail.unsubscribe_mailto.as_str()
            ),
            message_id_domain: mail.message_id_domain.clone(),
            head,
            text_head,
            html_head,
            tail,
            text,
            html,
            size_hint,
        })
    }

    /// The template the messages are made from.
    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// The campaign's link table: the destination of each tracked link, by
    /// the index its tokens carry. Empty when tracking is off.
    pub fn links(&self) -> &[String] {
        &self.links
    }

    /// The signer of this campaign's link tokens.
    pub fn signer(&self) -> &LinkSigner {
        &self.signer
    }

    /// The unsubscribe page of a token, as the message links it.
    pub fn unsubscribe_url(&self, token: &str) -> String {
        format!("{}{token}", self.unsubscribe_prefix)
    }

    /// Where link `index` points in `recipient`'s message (per-person
    /// tracking) or in every message (aggregate); `None` when the campaign
    /// does not track or has no such link.
    pub fn link_url(&self, index: usize, recipient: &ContactId) -> Option<String> {
        if index >= self.links.len() {
            return None;
        }
        match self.tracking {
            TrackingMode::Off => None,
            TrackingMode::Aggregate => self.aggregate_urls.get(index).cloned(),
            TrackingMode::PerPerson => {
                let mut url = self.link_prefix.clone();
                self.signer
                    .append_token(Some(recipient), link_index(index), &mut url);
                Some(url)
            }
        }
    }

    /// The open pixel's URL in `recipient`'s message (per-person tracking)
    /// or in every message (aggregate); `None` when the campaign does not
    /// track.
    pub fn open_url(&self, recipient: &ContactId) -> Option<String> {
        let recipient = match self.tracking {
            TrackingMode::Off => return None,
            TrackingMode::Aggregate => None,
            TrackingMode::PerPerson => Some(recipient),
        };
        let mut url = self.open_prefix.clone();
        self.signer.append_token(recipient, OPEN_LINK, &mut url);
        Some(url)
    }

    /// The complete message for one recipient, dated `date` (seconds since
    /// the epoch), with a new Message-ID on the campaign's domain.
    pub fn message(&self, recipient: &Recipient<'_>, date: i64) -> Result<Built, MessageError> {
        self.message_with_report(recipient, date)
            .map(|(built, _)| built)
    }

    /// `message`, and how much of the bodies came from the campaign's
    /// encoding (for benchmarks and tests).
    pub fn message_with_report(
        &self,
        recipient: &Recipient<'_>,
        date: i64,
    ) -> Result<(Built, Splicing), MessageError> {
        let mut raw = Vec::with_capacity(self.size_hint);
        let (message_id, report) = self.write_message(recipient, date, &mut raw)?;
        Ok((Built { message_id, raw }, report))
    }

    /// `message`, written into `out` (cleared first), so that a caller may
    /// reuse one buffer; returns the Message-ID. On an error `out` holds
    /// no message.
    pub fn write_message(
        &self,
        recipient: &Recipient<'_>,
        date: i64,
        out: &mut Vec<u8>,
    ) -> Result<(String, Splicing), MessageError> {
        out.clear();
        let written = self.write_into(recipient, date, out);
        if written.is_err() {
            out.clear();
        }
        written
    }

    fn write_into(
        &self,
        recipient: &Recipient<'_>,
        date: i64,
        out: &mut Vec<u8>,
    ) -> Result<(String, Splicing), MessageError> {
        let name = recipient.name.filter(|name| !name.is_empty());
        no_line_break("To", name.unwrap_or_default())?;
        let token = recipient.unsubscribe_token;
        if token.is_empty()
            || !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(MimeError::InvalidHeader("List-Unsubscribe").into());
        }
        let unsubscribe = ListUnsubscribe {
            https: self.unsubscribe_url(token),
            mailto: format!("{}{token}", self.mailto_prefix),
        };
        let context = minijinja::value::merge_maps([
            minijinja::context! { unsubscribe_url => unsubscribe.https.as_str() },
            recipient.context.clone(),
        ]);
        let subject = self
            .compiled
            .template(TemplatePart::Subject)?
            .render(&context)
            .map_err(|e| render_error(TemplatePart::Subject, &e))?;
        no_line_break("Subject", &subject)?;
        let message_id = format!("{}@{}", Uuid::now_v7().simple(), self.message_id_domain);

        out.reserve(self.size_hint);
        out.extend_from_slice(b"Date: ");
        Date::new(date).write_header(out, 6);
        out.extend_from_slice(b"Message-ID: ");
        MessageId::new(message_id.as_str()).write_header(out, 12);
        out.extend_from_slice(b"To: ");
        Address::new_address(name, recipient.to.as_str()).write_header(out, 4);
        out.extend_from_slice(b"Subject: ");
        Text::new(subject.as_str()).write_header(out, 9);
        out.extend_from_slice(b"List-Unsubscribe: ");
        unsubscribe.header().write_header(out, 18);
        out.extend_from_slice(&self.head);

        let mut links = LinkUrls {
            prepared: self,
            contact: recipient.contact,
            made: Vec::new(),
            pixel_written: false,
        };
        let mut report = Splicing::default();
        out.extend_from_slice(&self.text_head);
        self.render_part(&self.text, &context, out, &mut links, &mut report)?;
        out.extend_from_slice(&self.html_head);
        self.render_part(&self.html, &context, out, &mut links, &mut report)?;
        out.extend_from_slice(&self.tail);
        Ok((message_id, report))
    }

    fn render_part(
        &self,
        part: &Part,
        context: &Value,
        out: &mut Vec<u8>,
        links: &mut LinkUrls<'_>,
        report: &mut Splicing,
    ) -> Result<(), RenderError> {
        let template = self.compiled.template(part.part)?;
        let source = template.source().as_bytes();
        let mut writer = Splicer {
            out,
            column: 0,
            part,
            // The source the part was prepared from; were it ever another,
            // nothing is taken from the cache.
            source: if source.len() == part.source_len {
                source
            } else {
                &[]
            },
            links,
            report,
        };
        template
            .render_captured_to(context.clone(), &mut writer)
            .map_err(|e| render_error(part.part, &e))?;
        if part.part == TemplatePart::Body && self.tracking != TrackingMode::Off {
            // Where the rendering never reached the place before `</body>`.
            writer.pixel();
        }
        // The part ends where its last line ends: the CRLF that follows
        // belongs to the boundary, and a space or tab at the end of a write
        // is always encoded, so nothing trailing is lost.
        Ok(())
    }
}

/// Where a message's body bytes came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Splicing {
    /// Template text written from the campaign's encoding (source bytes).
    pub template_text_from_campaign: usize,
    /// Template text the scan did not foresee, encoded for this message
    /// (source bytes).
    pub template_text_encoded_here: usize,
    /// Recipient values and link URLs, encoded for this message.
    pub values_encoded_here: usize,
}

fn render_error(part: TemplatePart, e: &minijinja::Error) -> RenderError {
    RenderError {
        part,
        message: e.to_string(),
    }
}

fn link_index(index: usize) -> u16 {
    u16::try_from(index)
        .ok()
        .filter(|&index| index != OPEN_LINK)
        .expect("a campaign has fewer than 65,535 links")
}

/// Text encoded once, from the start of a line, and the column it ends in.
#[derive(Debug, Clone)]
struct EncodedText {
    bytes: Vec<u8>,
    end: usize,
}

impl EncodedText {
    fn of(text: &[u8]) -> Self {
        let mut bytes = Vec::with_capacity(text.len() + text.len() / 8);
        let mut end = 0;
        encode(&mut bytes, &mut end, text);
        Self { bytes, end }
    }
}

/// One message's link URLs, each made when first written.
struct LinkUrls<'p> {
    prepared: &'p Prepared,
    contact: &'p ContactId,
    made: Vec<Option<String>>,
    /// Whether the open pixel is in the message already.
    pixel_written: bool,
}

impl LinkUrls<'_> {
    fn url(&mut self, index: u16) -> &str {
        let prepared = self.prepared;
        let index = usize::from(index);
        if prepared.tracking == TrackingMode::Aggregate {
            return &prepared.aggregate_urls[index];
        }
        if self.made.len() <= index {
            self.made.resize(prepared.links.len().max(index + 1), None);
        }
        self.made[index].get_or_insert_with(|| {
            let mut url = String::with_capacity(prepared.link_prefix.len() + 128);
            url.push_str(&prepared.link_prefix);
            prepared
                .signer
                .append_token(Some(self.contact), link_index(index), &mut url);
            url
        })
    }
}

/// A campaign's link table as it is collected.
#[derive(Default)]
struct LinkTable {
    urls: Vec<String>,
}

impl LinkTable {
    fn index(&mut self, url: String) -> u16 {
        let index = match self.urls.iter().position(|known| *known == url) {
            Some(index) => index,
            None => {
                self.urls.push(url);
                self.urls.len() - 1
            }
        };
        link_index(index)
    }
}

/// A tracked link's place in a part's source.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hole {
    range: Range<usize>,
    link: u16,
}

/// A part of the message (text or HTML) prepared for splicing.
struct Part {
    part: TemplatePart,
    source_len: usize,
    /// Sorted by place, never overlapping.
    holes: Vec<Hole>,
    /// The template text foreseen, by offset and length in the source.
    segments: Vec<Segment>,
    pieces: Vec<Piece>,
    encoded: Vec<u8>,
}

struct Segment {
    start: usize,
    len: usize,
    pieces: Range<usize>,
}

enum Piece {
    /// Encoded text (from the start of a line) and the column it ends in.
    Text {
        bytes: Range<usize>,
        end: usize,
    },
    Link(u16),
}

impl Part {
    fn new(part: TemplatePart, source: &str, holes: Vec<Hole>) -> Self {
        let mut prepared = Self {
            part,
            source_len: source.len(),
            holes,
            segments: Vec::new(),
            pieces: Vec::new(),
            encoded: Vec::new(),
        };
        let mut ranges = template_text(source);
        ranges.sort_by_key(|r| (r.start, r.end));
        ranges.dedup();
        for range in ranges {
            let first = prepared.pieces.len();
            let bytes = &source.as_bytes()[range.clone()];
            let mut at = range.start;
            for hole in prepared.holes_within(&range).to_vec() {
                prepared.push_text(&source.as_bytes()[at..hole.range.start]);
                prepared.pieces.push(Piece::Link(hole.link));
                at = hole.range.end;
            }
            prepared.push_text(&bytes[at - range.start..]);
            prepared.segments.push(Segment {
                start: range.start,
                len: range.len(),
                pieces: first..prepared.pieces.len(),
            });
        }
        prepared
    }

    fn push_text(&mut self, text: &[u8]) {
        if text.is_empty() {
            return;
        }
        let start = self.encoded.len();
        let mut column = 0;
        encode(&mut self.encoded, &mut column, text);
        self.pieces.push(Piece::Text {
            bytes: start..self.encoded.len(),
            end: column,
        });
    }

    /// The holes wholly inside `range`.
    fn holes_within(&self, range: &Range<usize>) -> &[Hole] {
        let first = self
            .holes
            .partition_point(|hole| hole.range.start < range.start);
        let last = self
            .holes
            .partition_point(|hole| hole.range.end <= range.end);
        self.holes.get(first..last.max(first)).unwrap_or_default()
    }

    fn segment(&self, start: usize, len: usize) -> Option<&Segment> {
        self.segments
            .binary_search_by(|s| (s.start, s.len).cmp(&(start, len)))
            .ok()
            .map(|at| &self.segments[at])
    }
}

/// The writer minijinja renders into: template text from the campaign's
/// encoding, everything else encoded here.
struct Splicer<'a, 'p> {
    out: &'a mut Vec<u8>,
    /// Characters on the current encoded line.
    column: usize,
    part: &'a Part,
    source: &'a [u8],
    links: &'a mut LinkUrls<'p>,
    report: &'a mut Splicing,
}

impl Splicer<'_, '_> {
    /// Where `buf` lies in the part's source, if it lies there.
    fn in_source(&self, buf: &[u8]) -> Option<usize> {
        let base = self.source.as_ptr() as usize;
        let at = buf.as_ptr() as usize;
        let offset = at.checked_sub(base)?;
        (offset + buf.len() <= self.source.len() && !self.source.is_empty()).then_some(offset)
    }

    fn template_text(&mut self, start: usize, len: usize) {
        let part = self.part;
        if let Some(segment) = part.segment(start, len) {
            self.report.template_text_from_campaign += len;
            for piece in &part.pieces[segment.pieces.clone()] {
                match piece {
                    Piece::Text { bytes, end } => {
                        self.end_line();
                        self.out.extend_from_slice(&part.encoded[bytes.clone()]);
                        self.column = *end;
                    }
                    Piece::Link(link) => self.link(*link),
                }
            }
            return;
        }
        // Template text the scan did not foresee: the same, encoded now.
        self.report.template_text_encoded_here += len;
        let range = start..start + len;
        let mut at = start;
        for hole in part.holes_within(&range) {
            encode(
                self.out,
                &mut self.column,
                &self.source[at..hole.range.start],
            );
            self.link(hole.link);
            at = hole.range.end;
        }
        encode(self.out, &mut self.column, &self.source[at..range.end]);
    }

    fn link(&mut self, link: u16) {
        if link == OPEN_LINK {
            self.pixel();
            return;
        }
        let url = self.links.url(link);
        self.report.values_encoded_here += url.len();
        encode(self.out, &mut self.column, url.as_bytes());
    }

    /// The open pixel, the first time only.
    fn pixel(&mut self) {
        if self.links.pixel_written {
            return;
        }
        self.links.pixel_written = true;
        let prepared = self.links.prepared;
        match prepared.tracking {
            TrackingMode::Off => {}
            TrackingMode::Aggregate => {
                if let Some(pixel) = &prepared.aggregate_pixel {
                    self.end_line();
                    self.out.extend_from_slice(&pixel.bytes);
                    self.column = pixel.end;
                }
            }
            TrackingMode::PerPerson => {
                let mut tag = String::with_capacity(
                    PIXEL_START.len() + prepared.open_prefix.len() + 128 + PIXEL_END.len(),
                );
                tag.push_str(PIXEL_START);
                tag.push_str(&prepared.open_prefix);
                prepared
                    .signer
                    .append_token(Some(self.links.contact), OPEN_LINK, &mut tag);
                tag.push_str(PIXEL_END);
                self.report.values_encoded_here += tag.len();
                encode(self.out, &mut self.column, tag.as_bytes());
            }
        }
    }

    /// Ends the current line with a soft break, unless it is empty.
    fn end_line(&mut self) {
        if self.column > 0 {
            self.out.extend_from_slice(b"=\r\n");
            self.column = 0;
        }
    }
}

impl io::Write for Splicer<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.in_source(buf) {
            Some(start) => self.template_text(start, buf.len()),
            None => {
                self.report.values_encoded_here += buf.len();
                encode(self.out, &mut self.column, buf);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Appends `bytes` quoted-printable (RFC 2045, 6.7), continuing a line that
/// already holds `column` characters. Line breaks (LF or CRLF) become CRLF,
/// lines are broken softly before they pass 76 characters, and a space or
/// tab is encoded where a line, or this piece, ends after it.
fn encode(out: &mut Vec<u8>, column: &mut usize, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(bytes.len() + bytes.len() / 32);
    let mut i = 0;
    while i < bytes.len() {
        // A run of bytes written as they are, as far as the line allows.
        let room = QP_LINE - *column;
        let run = bytes[i..]
            .iter()
            .take(room)
            .take_while(|&&b| (33..=126).contains(&b) && b != b'=')
            .count();
        if run > 0 {
            out.extend_from_slice(&bytes[i..i + run]);
            *column += run;
            i += run;
            continue;
        }
        let byte = bytes[i];
        let next = bytes.get(i + 1).copied();
        i += 1;
        if byte == b'\n' {
            out.extend_from_slice(b"\r\n");
            *column = 0;
            continue;
        }
        if byte == b'\r' && next == Some(b'\n') {
            continue; // the LF writes the line break
        }
        let literal = match byte {
            b' ' | b'\t' => !matches!(next, None | Some(b'\r' | b'\n')),
            b'=' => false,
            33..=126 => true,
            _ => false,
        };
        let width = if literal { 1 } else { 3 };
        if *column + width > QP_LINE {
            out.extend_from_slice(b"=\r\n");
            *column = 0;
        }
        if literal {
            out.push(byte);
        } else {
            out.extend_from_slice(&[
                b'=',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 15)],
            ]);
        }
        *column += width;
    }
}

/// The stretches of `source` that minijinja (default syntax, no
/// `trim_blocks`/`lstrip_blocks`, the final newline dropped) writes as they
/// are: the text between tags, whitespace control (`{{-`, `-%}`, …)
/// applied, and the insides of `{% raw %}` blocks. A stretch this scan gets
/// wrong is only slower (encoded per message), never wrong: what is
/// written is always what minijinja wrote.
fn template_text(source: &str) -> Vec<Range<usize>> {
    let bytes = source.as_bytes();
    let mut end = source.len();
    if source[..end].ends_with('\n') {
        end -= 1;
    }
    if source[..end].ends_with('\r') {
        end -= 1;
    }
    let mut ranges = Vec::new();
    let mut push = |range: Range<usize>| {
        if !range.is_empty() {
            ranges.push(range);
        }
    };
    let mut at = 0;
    let mut trim_next = false;
    while at < end {
        if trim_next {
            at = end - source[at..end].trim_start().len();
        }
        let Some(tag) = find_tag(bytes, at, end) else {
            push(at..end);
            break;
        };
        let trims_before = bytes.get(tag + 2) == Some(&b'-');
        let data_end = if trims_before {
            at + source[at..tag].trim_end().len()
        } else {
            tag
        };
        push(at..data_end);
        if let Some((raw_end, inner, trims_after)) = raw_block(source, tag, end) {
            push(inner);
            at = raw_end;
            trim_next = trims_after;
            continue;
        }
        let Some(close) = tag_end(bytes, tag) else {
            break;
        };
        trim_next = bytes[close - 3] == b'-';
        at = close;
    }
    // The text before the dropped final newline may also be written with
    // it, should minijinja keep it.
    if end < source.len()
        && let Some(last) = ranges.last()
        && last.end == end
    {
        let with_newline = last.start..source.len();
        ranges.push(with_newline);
    }
    ranges
}

/// The next `{{`, `{%` or `{#` at or after `from`.
fn find_tag(bytes: &[u8], from: usize, end: usize) -> Option<usize> {
    (from..end.saturating_sub(1))
        .find(|&i| bytes[i] == b'{' && matches!(bytes[i + 1], b'{' | b'%' | b'#'))
}

/// The end (one past the closing delimiter) of the tag at `tag`; quoted
/// strings inside a variable or block tag are skipped.
fn tag_end(bytes: &[u8], tag: usize) -> Option<usize> {
    let close: &[u8] = match bytes[tag + 1] {
        b'{' => b"}}",
        b'%' => b"%}",
        _ => b"#}",
    };
    let comment = bytes[tag + 1] == b'#';
    let mut i = tag + 2;
    while i + 1 < bytes.len() {
        let byte = bytes[i];
        if !comment && (byte == b'"' || byte == b'\'') {
            i += 1;
            while i < bytes.len() && bytes[i] != byte {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            continue;
        }
        if bytes[i..].starts_with(close) {
            return Some(i + 2);
        }
        i += 1;
    }
    None
}

/// A `{% raw %}` block at `tag`: where it ends, the text it writes, and
/// whether its end trims the whitespace after it.
fn raw_block(source: &str, tag: usize, end: usize) -> Option<(usize, Range<usize>, bool)> {
    let (open_len, _, trims_inside_start) = basic_tag(source, tag, "raw")?;
    let mut at = tag + open_len;
    loop {
        let next = at + source[at..end].find("{%")?;
        if let Some((close_len, trims_inside_end, trims_after)) = basic_tag(source, next, "endraw")
        {
            let mut inner = tag + open_len..next;
            if trims_inside_start {
                inner.start = inner.end - source[inner.clone()].trim_start().len();
            }
            if trims_inside_end {
                inner.end = inner.start + source[inner.clone()].trim_end().len();
            }
            return Some((next + close_len, inner, trims_after));
        }
        at = next + 2;
    }
}

/// A tag `{% name %}` at `at` (whitespace control allowed): its length,
/// whether it trims before and whether it trims after.
fn basic_tag(source: &str, at: usize, name: &str) -> Option<(usize, bool, bool)> {
    let rest = source.get(at..)?.strip_prefix("{%")?;
    let (trims_before, rest) = match rest.as_bytes().first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    let rest = rest.trim_start().strip_prefix(name)?;
    let rest = rest.trim_start();
    let (trims_after, rest) = match rest.as_bytes().first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    let rest = rest.strip_prefix("%}")?;
    Some((source.len() - at - rest.len(), trims_before, trims_after))
}

/// The `http(s)` `href` values written out in the template text of an
/// HTML source, as holes, their URLs added to `table`.
fn href_holes(source: &str, table: &mut LinkTable) -> Vec<Hole> {
    let mut holes = Vec::new();
    for range in template_text(source) {
        let text = &source[range.clone()];
        let lower = text.to_ascii_lowercase();
        let mut from = 0;
        while let Some(found) = lower[from..].find("href") {
            let name = from + found;
            from = name + 4;
            let before = lower[..name].bytes().next_back();
            if !before.is_some_and(|b| b.is_ascii_whitespace()) || !in_link_element(&lower[..name])
            {
                continue;
            }
            let after = text[from..].trim_start();
            let Some(after) = after.strip_prefix('=') else {
                continue;
            };
            let value_at = text.len() - after.trim_start().len();
            let value = &text[value_at..];
            let (start, len) = match value.as_bytes().first() {
                Some(&quote @ (b'"' | b'\'')) => match value[1..].find(char::from(quote)) {
                    Some(len) => (value_at + 1, len),
                    None => continue, // the value goes on past a tag
                },
                _ => match value.find(|c: char| c.is_ascii_whitespace() || c == '>') {
                    Some(len) => (value_at, len),
                    None => continue,
                },
            };
            let url = text[start..start + len].trim();
            if !is_web_url(url) {
                continue;
            }
            let start = start + (text[start..].len() - text[start..].trim_start().len());
            let hole = range.start + start..range.start + start + url.len();
            let link = table.index(url.replace("&amp;", "&"));
            holes.push(Hole { range: hole, link });
            from = start + len;
        }
    }
    sorted(holes)
}

/// The place of the open pixel in an HTML source: a hole of no width just
/// before the last `</body>` of its template text, unless that lies inside
/// a tracked link (it cannot, in a sane template).
fn pixel_hole(source: &str, holes: &[Hole]) -> Option<Hole> {
    let mut last = None;
    for range in template_text(source) {
        let lower = source[range.clone()].to_ascii_lowercase();
        let mut from = 0;
        while let Some(found) = lower[from..].find("</body") {
            let at = from + found;
            from = at + 6;
            let closes = lower[from..]
                .bytes()
                .next()
                .is_some_and(|b| b == b'>' || b.is_ascii_whitespace());
            if closes {
                let place = range.start + at;
                last = last.max(Some(place));
            }
        }
    }
    let place = last?;
    let inside_link = holes
        .iter()
        .any(|hole| hole.range.start < place && place < hole.range.end);
    (!inside_link).then_some(Hole {
        range: place..place,
        link: OPEN_LINK,
    })
}

/// The `http(s)` URLs in the template text of a plain-text source, as
/// holes, their URLs added to `table`. A URL runs to the next space,
/// quote or angle bracket; trailing punctuation is not part of it; a URL
/// that a tag continues is left as it is.
fn url_holes(source: &str, table: &mut LinkTable) -> Vec<Hole> {
    let mut holes = Vec::new();
    for range in template_text(source) {
        let text = &source[range.clone()];
        let lower = text.to_ascii_lowercase();
        let mut from = 0;
        while let Some(found) = lower[from..].find("http") {
            let start = from + found;
            from = start + 4;
            if !is_web_url(&text[start..]) {
                continue;
            }
            let stop = |c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'');
            let end = match text[start..].find(stop) {
                Some(len) => start + len,
                // Up to the text's end: a tag may go on with the URL.
                None if range.end < source.len() => break,
                None => text.len(),
            };
            let mut url = &text[start..end];
            url = url.trim_end_matches(['.', ',', ';', ':', '!', '?']);
            if url.ends_with(')') && !url.contains('(') {
                url = &url[..url.len() - 1];
            }
            from = end;
            if url.len() <= "https://".len() {
                continue;
            }
            let link = table.index(url.to_owned());
            let absolute = range.start + start;
            holes.push(Hole {
                range: absolute..absolute + url.len(),
                link,
            });
        }
    }
    sorted(holes)
}

/// Whether the text before an attribute ends inside an `<a …` or
/// `<area …` start tag (a stylesheet's or a base's `href` is no link to
/// track).
fn in_link_element(before: &str) -> bool {
    let Some(open) = before.rfind('<') else {
        return false;
    };
    let tag = &before[open + 1..];
    if tag.contains('>') {
        return false;
    }
    let name: String = tag
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    matches!(name.as_str(), "a" | "area")
}

fn is_web_url(text: &str) -> bool {
    let lower = |n: usize| text.get(..n).map(str::to_ascii_lowercase);
    lower(8).is_some_and(|s| s == "https://") || lower(7).is_some_and(|s| s == "http://")
}

/// Holes in source order, each once (the template text of a source is
/// scanned in more than one overlapping stretch).
fn sorted(mut holes: Vec<Hole>) -> Vec<Hole> {
    holes.sort_by_key(|hole| (hole.range.start, hole.range.end));
    holes.dedup_by(|b, a| b.range.start < a.range.end);
    holes
}

#[cfg(test)]
mod tests {
    use mail_parser::{HeaderValue, MessageParser, MimeHeaders};
    use serde_json::json;

    use super::*;
    use crate::content::template::{TemplateKind, TemplateSource, compile};
    use crate::telemetry::Pseudonymizer;

    const BODY: &str = r#"<html><body>
<p>Guten Tag {{ contact.first_name | default("liebe Kundin, lieber Kunde") }},</p>
{% if contact.attributes.premium %}<p>Ihr Premium-Angebot: {{ contact.attributes.angebot }}</p>{% else %}<p>Unser Angebot für Sie.</p>{% endif %}
<p>Ihre Stadt: {{ contact.city }}. Eine sehr lange Zeile ohne Umbruch, die weit über achtundsiebzig Zeichen hinausgeht, mit Umlauten äöüß und Gleichheitszeichen a=b, damit die Kodierung weich umbrechen muss.</p>
<a href="https://sparkasse.example/aktion?id=1&amp;q=zins" class="button">Zur Aktion</a>
<a  href='https://sparkasse.example/filialen'>Filialen</a> <a href="https://sparkasse.example/aktion?id=1&amp;q=zins">noch einmal</a>
<a href="https://sparkasse.example/kunde/{{ contact.city }}">Ihre Filiale</a>
<a href="mailto:service@sparkasse.example">Schreiben Sie uns</a>
<link rel="stylesheet" href="https://cdn.example/stil.css"><p data-x="1" href="https://keinlink.example/">kein Link</p>
{# ein Kommentar mit <a href="https://kommentar.example/"> #}
<p>{{- " Leerraum " -}}</p>   {%- if true %} x {% endif -%}   y
{% raw %}<a href="https://roh.example/{{ nicht }}">roh</a>{% endraw %}
<p><a href="{{ unsubscribe_url }}">Abmelden</a></p>
</body></html>
"#;

    const TEXT: &str = "Guten Tag {{ contact.first_name }},\n\
        {% if contact.attributes.premium %}Premium: {{ contact.attributes.angebot }}\n{% endif %}\
        Zur Aktion: https://sparkasse.example/aktion?id=1&q=zins\n\
        Filialen (https://sparkasse.example/filialen).\n\
        Nur im Text: https://sparkasse.example/nur-text\n\
        Ihre Filiale: https://sparkasse.example/kunde/{{ contact.city }}\n\
        Abmelden: {{ unsubscribe_url }}\n";

    fn key() -> LinkKey {
        LinkKey::new(&Pseudonymizer::new(b"0123456789abcdef0123456789abcdef"))
    }

    fn campaign_mail(tracking: TrackingMode) -> CampaignMail {
        CampaignMail {
            tenant: TenantId::parse("sparkasse-musterstadt").unwrap(),
            campaign: Uuid::from_u128(42),
            from_name: "Sparkasse Köln-Bonn, Ihre Filiale".into(),
            from: EmailAddress::parse("newsletter@sparkasse-musterstadt.de").unwrap(),
            reply_to: Some(EmailAddress::parse("service@sparkasse-musterstadt.de").unwrap()),
            tracking,
            public_url: Url::parse("https://emma.example/").unwrap(),
            unsubscribe_mailto: EmailAddress::parse("abmelden@emma.example").unwrap(),
            message_id_domain: "sparkasse-musterstadt.de".into(),
            headers: vec![("X-EMMA-Test", "1".into())],
        }
    }

    fn source(subject: &str) -> TemplateSource {
        TemplateSource {
            kind: TemplateKind::Html,
            subject: subject.into(),
            body: BODY.into(),
            text: Some(TEXT.into()),
        }
    }

    fn prepare(subject: &str, tracking: TrackingMode) -> Prepared {
        let compiled = compile(&source(subject)).unwrap();
        Prepared::new(compiled, &campaign_mail(tracking), &key()).unwrap()
    }

    fn contact_id(digit: char) -> ContactId {
        ContactId::parse(&digit.to_string().repeat(32)).unwrap()
    }

    fn context(contact: serde_json::Value) -> Value {
        Value::from(minijinja::value::Serde(json!({ "contact": contact })))
    }

    struct Person {
        id: ContactId,
        to: EmailAddress,
        name: Option<String>,
        token: String,
        context: Value,
    }

    fn person(digit: char, email: &str, name: Option<&str>, contact: serde_json::Value) -> Person {
        Person {
            id: contact_id(digit),
            to: EmailAddress::parse(email).unwrap(),
            name: name.map(str::to_owned),
            token: format!("dG9r-ZW5_{digit}"),
            context: context(contact),
        }
    }

    impl Person {
        fn recipient(&self) -> Recipient<'_> {
            Recipient {
                contact: &self.id,
                to: &self.to,
                name: self.name.as_deref(),
                unsubscribe_token: &self.token,
                context: &self.context,
            }
        }
    }

    fn people() -> Vec<Person> {
        vec![
            person(
                'a',
                "juergen@example.de",
                Some("Müller, Jürgen \"Jü\""),
                json!({ "first_name": "Jürgen", "city": "Köln",
                        "attributes": { "premium": true, "angebot": "Zins=3% <b>fest</b>" } }),
            ),
            // Every field missing.
            person('b', "anna@example.de", None, json!({})),
            person(
                'c',
                "max@example.de",
                Some("Max Mustermann"),
                json!({ "first_name": "<script>alert(1)</script>", "city": "a=b c\u{a0}d  ",
                        "attributes": { "premium": false } }),
            ),
            person(
                'd',
                "oezlem@example.de",
                Some("Özlem Yılmaz"),
                json!({ "first_name": "Özlem ".repeat(30), "city": "Düsseldorf" }),
            ),
        ]
    }

    fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
        MessageParser::default().parse(raw).expect("valid MIME")
    }

    /// What `Compiled::render` gives, with each tracked link's destination
    /// (as written) replaced by its URL for this recipient.
    fn expected(prepared: &Prepared, p: &Person) -> (String, String) {
        let unsubscribe = prepared.unsubscribe_url(&p.token);
        let ctx = minijinja::value::merge_maps([
            minijinja::context! { unsubscribe_url => unsubscribe },
            p.context.clone(),
        ]);
        let rendered = prepared.compiled().render(&ctx).unwrap();
        let (mut html, mut text) = (rendered.html, rendered.text);
        for (index, url) in prepared.links().iter().enumerate() {
            let tracked = prepared.link_url(index, &p.id).unwrap();
            let written = url.replace('&', "&amp;");
            for quote in ['"', '\''] {
                html = html.replace(
                    &format!("href={quote}{written}{quote}"),
                    &format!("href={quote}{tracked}{quote}"),
                );
            }
            for end in ["\n", ")"] {
                text = text.replace(&format!("{url}{end}"), &format!("{tracked}{end}"));
            }
        }
        if let Some(open) = prepared.open_url(&p.id) {
            let pixel = pixel_tag(&open);
            match html.rfind("</body>") {
                Some(at) => html.insert_str(at, &pixel),
                None => html.push_str(&pixel),
            }
        }
        (html, text)
    }

    fn pixel_tag(url: &str) -> String {
        format!(
            "<img src=\"{url}\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0\">"
        )
    }

    fn crlf_to_lf(text: &str) -> String {
        text.replace("\r\n", "\n")
    }

    #[test]
    fn a_message_parses_back_with_every_header_decoded() {
        let prepared = prepare("Grüße, {{ contact.first_name }}!", TrackingMode::PerPerson);
        let p = &people()[0];
        let built = prepared.message(&p.recipient(), 1_795_000_000).unwrap();
        let parsed = parse(&built.raw);

        let from = parsed.from().unwrap().first().unwrap();
        assert_eq!(from.name(), Some("Sparkasse Köln-Bonn, Ihre Filiale"));
        assert_eq!(from.address(), Some("newsletter@sparkasse-musterstadt.de"));
        let to = parsed.to().unwrap().first().unwrap();
        assert_eq!(to.name(), Some("Müller, Jürgen \"Jü\""));
        assert_eq!(to.address(), Some("juergen@example.de"));
        assert_eq!(
            parsed.reply_to().unwrap().first().unwrap().address(),
            Some("service@sparkasse-musterstadt.de")
        );
        assert_eq!(parsed.subject(), Some("Grüße, Jürgen!"));
        assert_eq!(parsed.date().unwrap().to_timestamp(), 1_795_000_000);
        assert_eq!(parsed.message_id(), Some(built.message_id.as_str()));
        assert!(built.message_id.ends_with("@sparkasse-musterstadt.de"));
        assert_eq!(
            parsed.header_raw("MIME-Version").map(str::trim),
            Some("1.0")
        );
        assert_eq!(parsed.header_raw("X-EMMA-Test").map(str::trim), Some("1"));

        let HeaderValue::Address(list) = parsed.list_unsubscribe() else {
            panic!("List-Unsubscribe: {:?}", parsed.list_unsubscribe());
        };
        let uris: Vec<&str> = list.iter().filter_map(|a| a.address()).collect();
        assert_eq!(
            uris,
            [
                "https://emma.example/abmelden/dG9r-ZW5_a",
                "mailto:abmelden@emma.example?subject=unsubscribe-dG9r-ZW5_a"
            ]
        );
        assert_eq!(
            parsed.header_raw("List-Unsubscribe-Post").map(str::trim),
            Some("List-Unsubscribe=One-Click")
        );

        let root = parsed.content_type().unwrap();
        assert_eq!(
            (root.ctype(), root.subtype()),
            ("multipart", Some("alternative"))
        );
        for (part, subtype) in [
            (parsed.text_part(0).unwrap(), "plain"),
            (parsed.html_part(0).unwrap(), "html"),
        ] {
            let ctype = part.content_type().unwrap();
            assert_eq!((ctype.ctype(), ctype.subtype()), ("text", Some(subtype)));
            assert_eq!(ctype.attribute("charset"), Some("utf-8"));
            assert_eq!(part.content_transfer_encoding(), Some("quoted-printable"));
        }
        let raw = String::from_utf8(built.raw.clone()).unwrap();
        assert!(raw.is_ascii(), "every byte of the message is ASCII");
        assert!(
            !raw.contains("Subject: Grüße"),
            "the subject is RFC 2047 encoded"
        );
    }

    #[test]
    fn the_decoded_parts_equal_the_rendering_with_tracked_links_for_every_recipient() {
        let prepared = prepare("Hallo {{ contact.first_name }}", TrackingMode::PerPerson);
        for p in people() {
            let (built, report) = prepared.message_with_report(&p.recipient(), 0).unwrap();
            // The template text comes from the campaign's encoding.
            assert_eq!(report.template_text_encoded_here, 0, "{report:?}");
            assert!(report.template_text_from_campaign > 500, "{report:?}");
            assert!(report.values_encoded_here > 0, "{report:?}");
            let parsed = parse(&built.raw);
            let (html, text) = expected(&prepared, &p);
            assert_eq!(crlf_to_lf(&parsed.body_html(0).unwrap()), html);
            assert_eq!(crlf_to_lf(&parsed.body_text(0).unwrap()), text);
        }
    }

    #[test]
    fn static_http_links_are_tracked_once_each_and_the_rest_left_alone() {
        let prepared = prepare("Betreff", TrackingMode::PerPerson);
        assert_eq!(
            prepared.links(),
            [
                "https://sparkasse.example/aktion?id=1&q=zins",
                "https://sparkasse.example/filialen",
                // Written out as it is: a raw block's text is template text.
                "https://roh.example/{{ nicht }}",
                "https://sparkasse.example/nur-text",
            ]
        );
        let p = &people()[0];
        let parsed_raw = prepared.message(&p.recipient(), 0).unwrap().raw;
        let parsed = parse(&parsed_raw);
        let html = parsed.body_html(0).unwrap();
        let text = parsed.body_text(0).unwrap();
        let first = prepared.link_url(0, &p.id).unwrap();
        assert!(first.starts_with("https://emma.example/k/"), "{first}");
        assert_eq!(html.matches(first.as_str()).count(), 2, "{html}");
        assert_eq!(text.matches(first.as_str()).count(), 1, "{text}");
        // The token names the recipient and the link, and holds.
        let token = first.strip_prefix("https://emma.example/k/").unwrap();
        let claims = prepared.signer().verify(token).unwrap();
        assert_eq!((claims.recipient, claims.link), (Some(p.id.clone()), 0));
        // Left as they are: a link with a merge field, mailto, the
        // unsubscribe link, links in comments and raw blocks' template
        // syntax rendered as text.
        assert!(html.contains("href=\"https://sparkasse.example/kunde/Köln\""));
        assert!(text.contains("https://sparkasse.example/kunde/Köln"));
        assert!(html.contains("href=\"mailto:service@sparkasse.example\""));
        assert!(html.contains("href=\"https://emma.example/abmelden/dG9r-ZW5_a\""));
        assert!(!html.contains("kommentar.example"));
        assert!(html.contains("href=\"https://cdn.example/stil.css\""));
        assert!(html.contains("href=\"https://keinlink.example/\""));
    }

    #[test]
    fn aggregate_tracking_gives_every_recipient_the_same_links_and_off_leaves_them() {
        let aggregate = prepare("Betreff", TrackingMode::Aggregate);
        let people = people();
        let link = aggregate.link_url(1, &people[0].id).unwrap();
        assert_eq!(aggregate.link_url(1, &people[1].id), Some(link.clone()));
        for p in &people[..2] {
            let raw = aggregate.message(&p.recipient(), 0).unwrap().raw;
            let parsed = parse(&raw);
            assert!(
                parsed
                    .body_html(0)
                    .unwrap()
                    .contains(&format!("href='{link}'"))
            );
            let (html, text) = expected(&aggregate, p);
            assert_eq!(crlf_to_lf(&parsed.body_html(0).unwrap()), html);
            assert_eq!(crlf_to_lf(&parsed.body_text(0).unwrap()), text);
        }
        let token = link.rsplit('/').next().unwrap();
        assert_eq!(aggregate.signer().verify(token).unwrap().recipient, None);

        let off = prepare("Betreff", TrackingMode::Off);
        assert!(off.links().is_empty());
        assert_eq!(off.link_url(0, &people[0].id), None);
        let p = &people[0];
        let raw = off.message(&p.recipient(), 0).unwrap().raw;
        let parsed = parse(&raw);
        let rendered = off
            .compiled()
            .render(&minijinja::value::merge_maps([
                minijinja::context! { unsubscribe_url => off.unsubscribe_url(&p.token) },
                p.context.clone(),
            ]))
            .unwrap();
        assert_eq!(crlf_to_lf(&parsed.body_html(0).unwrap()), rendered.html);
        assert_eq!(crlf_to_lf(&parsed.body_text(0).unwrap()), rendered.text);
        assert!(!String::from_utf8_lossy(&raw).contains("/k/"));
    }

    #[test]
    fn two_recipients_of_one_prepared_campaign_never_see_each_others_values() {
        let prepared = prepare("Hallo {{ contact.first_name }}", TrackingMode::PerPerson);
        let erika = person(
            'e',
            "erika@example.de",
            Some("Erika"),
            json!({ "first_name": "Erika-Einzigartig", "city": "Bonnstadt-Eins",
                    "attributes": { "premium": true, "angebot": "Geheimzins-Erika" } }),
        );
        let hans = person(
            'f',
            "hans@example.de",
            Some("Hans"),
            json!({ "first_name": "Hans-Besonders", "city": "Kielstadt-Zwei" }),
        );
        // Interleaved, several times over.
        let mut messages = Vec::new();
        for _ in 0..3 {
            for p in [&erika, &hans] {
                messages.push((p, prepared.message(&p.recipient(), 0).unwrap()));
            }
        }
        for (p, built) in &messages {
            let parsed = parse(&built.raw);
            let all = format!(
                "{}{}{}",
                parsed.subject().unwrap(),
                parsed.body_html(0).unwrap(),
                parsed.body_text(0).unwrap()
            );
            let (own, other) = if p.id == erika.id {
                (&erika, &hans)
            } else {
                (&hans, &erika)
            };
            for value in ["Erika-Einzigartig", "Bonnstadt-Eins", "Geheimzins-Erika"] {
                assert_eq!(all.contains(value), own.id == erika.id, "{value}");
            }
            for value in ["Hans-Besonders", "Kielstadt-Zwei"] {
                assert_eq!(all.contains(value), own.id == hans.id, "{value}");
            }
            let others_link = prepared.link_url(0, &other.id).unwrap();
            assert!(!all.contains(&others_link));
            assert!(all.contains(&prepared.link_url(0, &own.id).unwrap()));
            assert!(!all.contains(&other.token));
        }
        assert_ne!(messages[0].1.message_id, messages[2].1.message_id);

        // One buffer, reused: the second message holds nothing of the first.
        let mut buffer = Vec::new();
        prepared
            .write_message(&erika.recipient(), 0, &mut buffer)
            .unwrap();
        let (message_id, _) = prepared
            .write_message(&hans.recipient(), 0, &mut buffer)
            .unwrap();
        let parsed = parse(&buffer);
        assert_eq!(parsed.message_id(), Some(message_id.as_str()));
        let all = format!(
            "{}{}",
            parsed.body_html(0).unwrap(),
            parsed.body_text(0).unwrap()
        );
        assert!(all.contains("Hans-Besonders") && !all.contains("Erika-Einzigartig"));
        assert_eq!(
            parsed.to().unwrap().first().unwrap().address(),
            Some("hans@example.de")
        );
        // A message that fails leaves nothing behind in the buffer.
        let broken = person('a', "a@example.de", Some("A\nB"), json!({}));
        assert!(
            prepared
                .write_message(&broken.recipient(), 0, &mut buffer)
                .is_err()
        );
        assert!(buffer.is_empty());
    }

    #[test]
    fn a_contact_value_never_becomes_a_tracked_link_or_a_header() {
        let source = TemplateSource {
            kind: TemplateKind::Html,
            subject: "Hallo".into(),
            body: "<p>{{ contact.first_name }}</p><a href=\"{{ contact.city }}\">x</a>".into(),
            text: Some("{{ contact.first_name }}".into()),
        };
        let compiled = compile(&source).unwrap();
        let prepared =
            Prepared::new(compiled, &campaign_mail(TrackingMode::PerPerson), &key()).unwrap();
        let evil =
            "<a href=\"https://evil.example/\">x</a>\r\nBcc: opfer@example.de\r\n\r\n--=_emma_x";
        let p = person(
            'a',
            "a@example.de",
            None,
            json!({ "first_name": evil, "city": "https://evil.example/" }),
        );
        let raw = prepared.message(&p.recipient(), 0).unwrap().raw;
        let parsed = parse(&raw);
        assert!(prepared.links().is_empty());
        assert!(parsed.header_raw("Bcc").is_none());
        assert_eq!(parsed.text_part(0).map(|_| ()), Some(()));
        assert_eq!(crlf_to_lf(&parsed.body_text(0).unwrap()), crlf_to_lf(evil));
        assert!(
            parsed
                .body_html(0)
                .unwrap()
                .contains("href=\"https://evil.example/\">x</a>")
        );
    }

    #[test]
    fn a_line_break_in_the_subject_from_a_value_or_the_template_is_refused() {
        let prepared = prepare("Hallo {{ contact.first_name }}", TrackingMode::PerPerson);
        let p = person(
            'a',
            "a@example.de",
            None,
            json!({ "first_name": "Anna\r\nBcc: opfer@example.de" }),
        );
        assert_eq!(
            prepared.message(&p.recipient(), 0).unwrap_err(),
            MessageError::Mime(MimeError::LineBreakInHeader("Subject"))
        );
        let prepared = prepare("Hallo\n{{ contact.first_name }}", TrackingMode::PerPerson);
        let p = person('a', "a@example.de", None, json!({ "first_name": "Anna" }));
        assert_eq!(
            prepared.message(&p.recipient(), 0).unwrap_err(),
            MessageError::Mime(MimeError::LineBreakInHeader("Subject"))
        );
    }

    #[test]
    fn a_line_break_in_any_other_header_is_refused_naming_the_field() {
        let prepared = prepare("Hallo", TrackingMode::PerPerson);
        let p = person(
            'a',
            "a@example.de",
            Some("Anna\nBcc: x@example.de"),
            json!({}),
        );
        assert_eq!(
            prepared.message(&p.recipient(), 0).unwrap_err(),
            MessageError::Mime(MimeError::LineBreakInHeader("To"))
        );
        let mut p = person('a', "a@example.de", None, json!({}));
        p.token = "abc>\r\nBcc: x".into();
        assert_eq!(
            prepared.message(&p.recipient(), 0).unwrap_err(),
            MessageError::Mime(MimeError::InvalidHeader("List-Unsubscribe"))
        );
        let compile_again = || compile(&source("Hallo")).unwrap();
        let mut mail = campaign_mail(TrackingMode::PerPerson);
        mail.from_name = "Bank\r\nBcc: x@example.de".into();
        assert_eq!(
            Prepared::new(compile_again(), &mail, &key()).unwrap_err(),
            MessageError::Mime(MimeError::LineBreakInHeader("From"))
        );
        let mut mail = campaign_mail(TrackingMode::PerPerson);
        mail.headers = vec![("X-EMMA-Test", "1\nBcc: x@example.de".into())];
        assert_eq!(
            Prepared::new(compile_again(), &mail, &key()).unwrap_err(),
            MessageError::Mime(MimeError::LineBreakInHeader("X-EMMA-Test"))
        );
        let mut mail = campaign_mail(TrackingMode::PerPerson);
        mail.message_id_domain = "example.de>\r\nBcc: x".into();
        assert_eq!(
            Prepared::new(compile_again(), &mail, &key()).unwrap_err(),
            MessageError::Mime(MimeError::InvalidHeader("Message-ID"))
        );
    }

    #[test]
    fn every_line_is_at_most_78_characters_and_body_lines_76() {
        let prepared = prepare(
            "{{ contact.first_name }}: Ihre persönlichen Zinsangebote für das kommende Jahr – jetzt entdecken!",
            TrackingMode::PerPerson,
        );
        for p in people() {
            let raw = prepared.message(&p.recipient(), 0).unwrap().raw;
            let text = String::from_utf8(raw).unwrap();
            assert!(text.ends_with("\r\n"));
            assert!(
                !text.replace("\r\n", "").contains(['\r', '\n']),
                "bare CR or LF"
            );
            let (header, body) = text.split_once("\r\n\r\n").unwrap();
            let mut in_list_unsubscribe = false;
            for line in header.split("\r\n") {
                if !line.starts_with([' ', '\t']) {
                    in_list_unsubscribe = line.starts_with("List-Unsubscribe:");
                }
                // A URI cannot be folded: RFC 5322's limit is 998.
                let limit = if in_list_unsubscribe { 998 } else { 78 };
                assert!(line.len() <= limit, "{line}");
            }
            for line in body.split("\r\n") {
                assert!(line.len() <= 76, "{} > 76: {line}", line.len());
                assert!(!line.ends_with([' ', '\t']), "trailing space: {line:?}");
            }
        }
    }

    #[test]
    fn an_mjml_newsletter_with_a_derived_text_part_round_trips() {
        let source = TemplateSource {
            kind: TemplateKind::Mjml,
            subject: "Neuigkeiten für {{ contact.first_name | default(\"Sie\") }}".into(),
            body: r#"<mjml><mj-body><mj-section><mj-column>
  <mj-text>Guten Tag {{ contact.first_name }},</mj-text>
  <mj-image src="https://cdn.example/bild.png" alt="Filiale" href="https://sparkasse.example/bild" />
  <mj-button href="https://sparkasse.example/aktion">Zur Aktion</mj-button>
  <mj-text><a href="{{ unsubscribe_url }}">Abmelden</a></mj-text>
</mj-column></mj-section></mj-body></mjml>"#
                .into(),
            text: None,
        };
        let compiled = compile(&source).unwrap();
        let prepared =
            Prepared::new(compiled, &campaign_mail(TrackingMode::PerPerson), &key()).unwrap();
        assert!(
            prepared
                .links()
                .contains(&"https://sparkasse.example/aktion".to_owned())
        );
        assert!(!prepared.links().iter().any(|l| l.contains("cdn.example")));
        let p = &people()[0];
        let raw = prepared.message(&p.recipient(), 0).unwrap().raw;
        let parsed = parse(&raw);
        let (html, text) = expected(&prepared, p);
        assert_eq!(crlf_to_lf(&parsed.body_html(0).unwrap()), html);
        assert_eq!(crlf_to_lf(&parsed.body_text(0).unwrap()), text);
        assert!(text.contains("https://emma.example/k/"), "{text}");
        assert_eq!(parsed.subject(), Some("Neuigkeiten für Jürgen"));
    }

    #[test]
    fn the_scan_foresees_every_stretch_minijinja_writes_as_template_text() {
        let templates = [
            BODY,
            TEXT,
            "a {{- x -}} b {%- if true -%} c {%+ endif +%} d {#- k -#} e\n",
            "{% raw -%}  {{ x }}  {%- endraw %} f {{ \"}}\" }} g\r\n",
            "{% for i in [1, 2] %}<{{ i }}>{% endfor %}",
        ];
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        for source in templates {
            let template = env.template_from_str(source).unwrap();
            let (_, spans) = template
                .render_with_spans(minijinja::context! { x => 1 })
                .unwrap();
            let foreseen = template_text(source);
            for span in spans {
                if span.kind() == minijinja::OutputSpanKind::Raw {
                    assert!(
                        foreseen.contains(&span.source_range()),
                        "{:?} in {source:?}: {foreseen:?}",
                        &source[span.source_range()]
                    );
                }
            }
        }
    }

    /// The open pixels' URLs in a decoded HTML part.
    fn pixel_urls(html: &str) -> Vec<String> {
        html.match_indices("<img src=\"")
            .map(|(at, start)| {
                let rest = &html[at + start.len()..];
                rest[..rest.find('"').unwrap()].to_owned()
            })
            .filter(|url| url.contains("/o/"))
            .collect()
    }

    #[test]
    fn a_per_person_message_carries_one_open_pixel_that_names_its_recipient() {
        let prepared = prepare("Betreff", TrackingMode::PerPerson);
        let people = people();
        let mut seen = Vec::new();
        for p in &people {
            let (built, report) = prepared.message_with_report(&p.recipient(), 0).unwrap();
            assert_eq!(report.template_text_encoded_here, 0, "{report:?}");
            let parsed = parse(&built.raw);
            let html = parsed.body_html(0).unwrap();
            let urls = pixel_urls(&html);
            assert_eq!(urls.len(), 1, "{html}");
            let url = &urls[0];
            assert_eq!(Some(url.clone()), prepared.open_url(&p.id));
            // Just before the end of the body, as the tag the brief names.
            assert!(
                crlf_to_lf(&html).contains(&format!("{}</body></html>", pixel_tag(url))),
                "{html}"
            );
            let token = url.strip_prefix("https://emma.example/o/").unwrap();
            let claims = key().verify(token).unwrap();
            assert_eq!(claims.recipient.as_ref(), Some(&p.id));
            assert_eq!(claims.link, OPEN_LINK);
            assert_eq!(claims.campaign, Uuid::from_u128(42));
            // Not in the text part.
            assert!(!parsed.body_text(0).unwrap().contains("/o/"));
            seen.push(url.clone());
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), people.len(), "every recipient has their own");
    }

    #[test]
    fn an_aggregate_pixel_names_nobody_and_off_has_none() {
        let aggregate = prepare("Betreff", TrackingMode::Aggregate);
        let people = people();
        let url = aggregate.open_url(&people[0].id).unwrap();
        assert_eq!(aggregate.open_url(&people[1].id), Some(url.clone()));
        for p in &people[..2] {
            let (built, report) = aggregate.message_with_report(&p.recipient(), 0).unwrap();
            assert_eq!(report.template_text_encoded_here, 0, "{report:?}");
            let html = parse(&built.raw).body_html(0).unwrap().into_owned();
            assert_eq!(pixel_urls(&html), std::slice::from_ref(&url));
            assert!(crlf_to_lf(&html).contains(&format!("{}</body>", pixel_tag(&url))));
        }
        let token = url.strip_prefix("https://emma.example/o/").unwrap();
        let claims = aggregate.signer().verify(token).unwrap();
        assert_eq!((claims.recipient, claims.link), (None, OPEN_LINK));

        let off = prepare("Betreff", TrackingMode::Off);
        assert_eq!(off.open_url(&people[0].id), None);
        let raw = off.message(&people[0].recipient(), 0).unwrap().raw;
        let html = parse(&raw).body_html(0).unwrap().into_owned();
        assert!(pixel_urls(&html).is_empty(), "{html}");
        assert!(!String::from_utf8_lossy(&raw).contains("/o/"));
    }

    #[test]
    fn the_pixel_is_written_once_and_ends_the_part_where_no_body_end_is_reached() {
        let bodies = [
            // No </body> at all.
            ("<p>Hallo {{ contact.first_name }}</p>", false),
            // In a branch not taken.
            (
                "<html><body><p>x</p>{% if contact.city %}</body>{% endif %}</html>",
                false,
            ),
            // In a loop: still once, before the first.
            (
                "<html><body>{% for i in [1, 2, 3] %}<p>{{ i }}</p></BODY >{% endfor %}</html>",
                true,
            ),
        ];
        for tracking in [TrackingMode::PerPerson, TrackingMode::Aggregate] {
            for (body, before_body_end) in bodies {
                let source = TemplateSource {
                    kind: TemplateKind::Html,
                    subject: "Hallo".into(),
                    body: body.into(),
                    text: Some("Hallo".into()),
                };
                let prepared =
                    Prepared::new(compile(&source).unwrap(), &campaign_mail(tracking), &key())
                        .unwrap();
                let p = person('a', "a@example.de", None, json!({ "first_name": "Anna" }));
                let raw = prepared.message(&p.recipient(), 0).unwrap().raw;
                let html = crlf_to_lf(&parse(&raw).body_html(0).unwrap());
                let url = prepared.open_url(&p.id).unwrap();
                assert_eq!(
                    pixel_urls(&html),
                    std::slice::from_ref(&url),
                    "{body}: {html}"
                );
                let tag = pixel_tag(&url);
                if before_body_end {
                    assert!(html.contains(&format!("{tag}</BODY >")), "{html}");
                } else {
                    assert!(html.ends_with(&tag), "{body}: {html}");
                }
            }
        }
    }

    #[test]
    fn quoted_printable_breaks_softly_and_encodes_what_it_must() {
        let mut out = Vec::new();
        let mut column = 0;
        encode(&mut out, &mut column, "a=b \tä\r\nc \n".as_bytes());
        assert_eq!(out, b"a=3Db \t=C3=A4\r\nc=20\r\n");
        assert_eq!(column, 0);
        let mut out = Vec::new();
        let mut column = 70;
        encode(&mut out, &mut column, b"abcdef=");
        assert_eq!(out, b"abcde=\r\nf=3D");
        assert_eq!(column, 4);
    }
}
