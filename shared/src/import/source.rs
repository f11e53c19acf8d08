//! Turns the raw bytes of an uploaded CSV file into records in constant
//! memory: `sniff` decides encoding and separator from the head of the file,
//! `RecordReader` then decodes and splits the whole file as a stream. It knows
//! nothing about contacts, the store or HTTP.

use std::fmt;
use std::io::{self, Read};

use csv_core::{ReadRecordResult, Reader as CsvReader, ReaderBuilder};
use encoding_rs::{CoderResult, Decoder, Encoding, UTF_8, WINDOWS_1252};
use serde::{Deserialize, Serialize};

/// How much of the head of a file `sniff` looks at.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// A record longer than this (in decoded bytes, counting separators and quotes
/// but not the line break that ends it) is reported, not buffered.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

/// Raw bytes read from the input at a time.
const INPUT_BYTES: usize = 64 * 1024;

/// Decoded (UTF-8) bytes handed to the CSV parser at a time.
const TEXT_BYTES: usize = 64 * 1024;

/// Field data a `Record` holds: one byte more than a kept record can have,
/// so that the parser can still take the line break after a record of
/// exactly `MAX_RECORD_BYTES` (it refuses any input once its output is full).
const DATA_BYTES: usize = MAX_RECORD_BYTES + 1;

/// Field end slots a `Record` starts with; they grow only for records with
/// more fields, and never beyond what a record of `MAX_RECORD_BYTES` can hold.
const INITIAL_FIELDS: usize = 64;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The character encoding of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoding {
    /// UTF-8, with or without a byte order mark (the mark is skipped).
    Utf8,
    /// Windows-1252, what German Excel writes as "CSV (Trennzeichen-getrennt)".
    Windows1252,
}

impl TextEncoding {
    fn encoding(self) -> &'static Encoding {
        match self {
            Self::Utf8 => UTF_8,
            Self::Windows1252 => WINDOWS_1252,
        }
    }
}

/// The byte that separates fields within a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Separator {
    Semicolon,
    Comma,
    Tab,
}

impl Separator {
    /// Every separator `sniff` considers, the default first.
    pub const ALL: [Separator; 3] = [Separator::Semicolon, Separator::Comma, Separator::Tab];

    /// The separator as the byte it is in the file.
    pub fn byte(self) -> u8 {
        match self {
            Self::Semicolon => b';',
            Self::Comma => b',',
            Self::Tab => b'\t',
        }
    }
}

/// What `sniff` found out about a file from its head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sniffed {
    pub encoding: TextEncoding,
    pub separator: Separator,
    /// The first record, as decoded (not trimmed).
    pub header: Vec<String>,
    /// Up to the requested number of non-blank records after the header.
    pub preview: Vec<Vec<String>>,
}

/// Why a file cannot be read as CSV.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// No bytes at all, or only a byte order mark and/or whitespace.
    #[error("the file is empty")]
    Empty,
    /// The header record does not end within the sniffed head, or is longer
    /// than `MAX_RECORD_BYTES`.
    #[error("the header row is longer than {} bytes", MAX_RECORD_BYTES)]
    HeaderTooLong,
    #[error("reading the file failed: {0}")]
    Io(#[from] io::Error),
}

/// Looks at the head of a file (at most `SNIFF_BYTES`; it may end in the
/// middle of a record or of a UTF-8 sequence) and decides encoding and
/// separator; answers the header row and up to `preview_rows` non-blank rows
/// after it.
///
/// A head of `SNIFF_BYTES` (longer heads are cut to that) is taken to be
/// cut off: its last record is shown only if a line break ends it. A shorter
/// head is taken to be the whole file, so its last record counts even
/// without a final line break.
///
/// Encoding: a UTF-8 byte order mark, or a head that is valid UTF-8 (an
/// incomplete sequence at its very end allowed), is UTF-8; anything else is
/// Windows-1252. Separator: the one of `;`, `,` and tab found most often
/// outside quotes in the header record; a tie or none at all is `;`, the
/// German Excel default.
pub fn sniff(head: &[u8], preview_rows: usize) -> Result<Sniffed, SourceError> {
    let head = &head[..head.len().min(SNIFF_BYTES)];
    let whole_file = head.len() < SNIFF_BYTES;
    let encoding = detect_encoding(head);
    // The same BOM handling as `RecordReader` (the decoder sniffs it).
    let (text, _, _) = encoding.encoding().decode(head);
    if text.trim().is_empty() {
        return Err(SourceError::Empty);
    }
    let text = text.as_bytes();
    let separator = detect_separator(text)?;

    let mut reader = RecordReader::new(text, TextEncoding::Utf8, separator);
    let mut record = Record::new();
    if !reader.read(&mut record)? {
        return Err(SourceError::Empty);
    }
    let complete = |record: &Record| whole_file || record.terminated;
    if record.too_long() || !complete(&record) {
        return Err(SourceError::HeaderTooLong);
    }
    let header = record.iter().map(str::to_owned).collect();

    let mut preview = Vec::new();
    while preview.len() < preview_rows && reader.read(&mut record)? {
        if !complete(&record) {
            break;
        }
        if record.too_long() || record.is_blank() {
            continue;
        }
        preview.push(record.iter().map(str::to_owned).collect());
    }

    Ok(Sniffed {
        encoding,
        separator,
        header,
        preview,
    })
}

fn detect_encoding(head: &[u8]) -> TextEncoding {
    if head.starts_with(UTF8_BOM) {
        return TextEncoding::Utf8;
    }
    match std::str::from_utf8(head) {
        Ok(_) => TextEncoding::Utf8,
        // No error length: the input ends inside a multi-byte sequence.
        Err(error) if error.error_len().is_none() => TextEncoding::Utf8,
        Err(_) => TextEncoding::Windows1252,
    }
}

/// Counts each candidate in the header record as the parser sees it (a
/// separator inside a quoted field does not split it), so that the count is
/// the header's field count minus one.
fn detect_separator(text: &[u8]) -> Result<Separator, SourceError> {
    let mut counts = [0usize; Separator::ALL.len()];
    let mut record = Record::new();
    for (count, separator) in counts.iter_mut().zip(Separator::ALL) {
        let mut reader = RecordReader::new(text, TextEncoding::Utf8, separator);
        if reader.read(&mut record)? {
            *count = record.len().saturating_sub(1);
        }
    }
    let most = counts.iter().copied().max().unwrap_or(0);
    let winners: Vec<Separator> = Separator::ALL
        .into_iter()
        .zip(counts)
        .filter(|&(_, count)| count == most)
        .map(|(separator, _)| separator)
        .collect();
    Ok(match winners.as_slice() {
        [only] if most > 0 => *only,
        _ => Separator::Semicolon,
    })
}

/// A streaming reader of records from any `std::io::Read`, decoding with
/// `encoding`, splitting with `separator`; the first record (the header) is
/// returned like any other, the caller decides.
///
/// It holds fixed buffers (`INPUT_BYTES` raw, `TEXT_BYTES` decoded) whatever
/// the size of the input. A byte order mark at the start is honoured: a UTF-8
/// one is skipped, a UTF-16 one (Excel's "Unicode text") switches the decoder
/// to UTF-16. Malformed input becomes U+FFFD; it never aborts the read.
/// CRLF, LF and CR all end a record; empty lines yield no record.
pub struct RecordReader<R: Read> {
    input: R,
    decoder: Decoder,
    raw: Box<[u8]>,
    raw_start: usize,
    raw_end: usize,
    input_done: bool,
    decoder_done: bool,
    text: Box<[u8]>,
    text_start: usize,
    text_end: usize,
    csv: CsvReader,
    /// The physical line (1-based) of the next unread decoded byte.
    line: u64,
    next_index: u64,
    bytes_read: u64,
}

impl<R: Read> RecordReader<R> {
    pub fn new(input: R, encoding: TextEncoding, separator: Separator) -> Self {
        Self {
            input,
            decoder: encoding.encoding().new_decoder(),
            raw: vec![0; INPUT_BYTES].into_boxed_slice(),
            raw_start: 0,
            raw_end: 0,
            input_done: false,
            decoder_done: false,
            text: vec![0; TEXT_BYTES].into_boxed_slice(),
            text_start: 0,
            text_end: 0,
            csv: ReaderBuilder::new().delimiter(separator.byte()).build(),
            line: 1,
            next_index: 0,
            bytes_read: 0,
        }
    }

    /// How many raw bytes have been taken from the input so far (for
    /// progress reports; it runs ahead of the records returned by at most
    /// one buffer).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Reads the next record into `record` (reusing its buffers). Ok(false) at
    /// the end.
    ///
    /// A record longer than `MAX_RECORD_BYTES` is skipped over without being
    /// buffered and returned with `too_long() == true`, no fields and its
    /// start line; the next call goes on with the record after it.
    pub fn read(&mut self, record: &mut Record) -> Result<bool, SourceError> {
        record.start();
        if !self.skip_line_breaks()? {
            // Let the parser see the end as well; it answers `End`.
            let _ = self
                .csv
                .read_record(&[], &mut record.data, &mut record.ends);
            return Ok(false);
        }
        record.line = self.line;
        record.index = self.next_index;
        self.next_index += 1;

        // Decoded bytes of this record taken by the parser so far. While the
        // record is kept, the parser is never given more than one byte past
        // the limit (room for the line break ending a record of exactly
        // `MAX_RECORD_BYTES`).
        let mut consumed = 0usize;
        loop {
            if self.text_start == self.text_end {
                self.fill_text()?;
            }
            let available = &self.text[self.text_start..self.text_end];
            let at_end = available.is_empty();
            let input = if record.too_long || at_end {
                available
            } else {
                let budget = MAX_RECORD_BYTES + 1 - consumed;
                &available[..available.len().min(budget)]
            };
            let (result, read, written, ended) = if record.too_long {
                // Skipping: the buffers are scratch space, overwritten each time.
                self.csv
                    .read_record(input, &mut record.data, &mut record.ends)
            } else {
                self.csv.read_record(
                    input,
                    &mut record.data[record.data_len..],
                    &mut record.ends[record.fields..],
                )
            };
            self.line += count_line_feeds(&input[..read]);
            self.text_start += read;
            consumed += read;
            if !record.too_long {
                record.data_len += written;
                record.fields += ended;
            }
            match result {
                // `End` cannot follow the start of a record; were it to, the
                // record ends there too.
                ReadRecordResult::Record | ReadRecordResult::End => {
                    record.terminated = !at_end;
                    return Ok(true);
                }
                ReadRecordResult::InputEmpty if at_end => {
                    // The parser answers `Record` or `End` to the end of the
                    // input; anything else would repeat forever.
                    return Ok(true);
                }
                ReadRecordResult::InputEmpty => {
                    if !record.too_long && consumed > MAX_RECORD_BYTES {
                        record.mark_too_long();
                    }
                }
                ReadRecordResult::OutputFull => {
                    if !record.too_long {
                        record.mark_too_long();
                    }
                }
                ReadRecordResult::OutputEndsFull => {
                    if !record.too_long {
                        record.grow_ends();
                    }
                }
            }
        }
    }

    /// Skips the line breaks before a record (the parser would skip them as
    /// empty lines; doing it here gives the record's start line). Ok(false)
    /// at the end of the input.
    fn skip_line_breaks(&mut self) -> io::Result<bool> {
        loop {
            if self.text_start == self.text_end {
                self.fill_text()?;
                if self.text_start == self.text_end {
                    return Ok(false);
                }
            }
            while self.text_start < self.text_end {
                match self.text[self.text_start] {
                    b'\n' => self.line += 1,
                    b'\r' => {}
                    _ => return Ok(true),
                }
                self.text_start += 1;
            }
        }
    }

    /// Refills the (fully consumed) text buffer with decoded bytes; leaves it
    /// empty only at the end of the input.
    fn fill_text(&mut self) -> io::Result<()> {
        self.text_start = 0;
        self.text_end = 0;
        while self.text_end == 0 && !self.decoder_done {
            if self.raw_start == self.raw_end && !self.input_done {
                self.raw_start = 0;
                self.raw_end = read_retrying(&mut self.input, &mut self.raw)?;
                self.bytes_read += self.raw_end as u64;
                self.input_done = self.raw_end == 0;
            }
            let (result, read, written, _) = self.decoder.decode_to_utf8(
                &self.raw[self.raw_start..self.raw_end],
                &mut self.text[self.text_end..],
                self.input_done,
            );
            self.raw_start += read;
            self.text_end += written;
            if self.input_done && result == CoderResult::InputEmpty {
                self.decoder_done = true;
            }
        }
        Ok(())
    }
}

fn read_retrying(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match input.read(buf) {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

fn count_line_feeds(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&byte| byte == b'\n').count() as u64
}

/// One record: the physical line it starts on (1-based, counting line breaks
/// inside quoted fields), its index among records (0 = header), and its
/// fields, as decoded and not trimmed.
///
/// Its buffers are allocated on first use and reused by every read: room for
/// `MAX_RECORD_BYTES` of field data and the field ends of such a record.
/// `Debug` shows neither fields nor their content (they are personal data).
#[derive(Default)]
pub struct Record {
    data: Vec<u8>,
    data_len: usize,
    ends: Vec<usize>,
    fields: usize,
    line: u64,
    index: u64,
    too_long: bool,
    /// A line break ended the record (rather than the end of the input).
    terminated: bool,
}

impl Record {
    pub fn new() -> Self {
        Self::default()
    }

    /// The physical line the record starts on, 1-based.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The record's position among all records, the header being 0.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The number of fields; 0 only for a record that is `too_long`.
    pub fn len(&self) -> usize {
        self.fields
    }

    /// Whether the record has no fields (only a `too_long` one has none).
    pub fn is_empty(&self) -> bool {
        self.fields == 0
    }

    /// The field at `i`, as decoded (not trimmed).
    pub fn get(&self, i: usize) -> Option<&str> {
        (i < self.fields).then(|| self.field(i))
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.fields).map(|i| self.field(i))
    }

    /// Whether every field is empty after trimming (a `too_long` record is
    /// not blank).
    pub fn is_blank(&self) -> bool {
        !self.too_long && self.iter().all(|field| field.trim().is_empty())
    }

    /// Whether the record was longer than `MAX_RECORD_BYTES` and skipped.
    pub fn too_long(&self) -> bool {
        self.too_long
    }

    fn field(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        let bytes = &self.data[start..self.ends[i]];
        // The decoder writes UTF-8 and the parser splits only at ASCII bytes,
        // which never occur inside a multi-byte sequence.
        std::str::from_utf8(bytes).unwrap_or("\u{FFFD}")
    }

    fn start(&mut self) {
        if self.data.is_empty() {
            self.data = vec![0; DATA_BYTES];
        }
        if self.ends.is_empty() {
            self.ends = vec![0; INITIAL_FIELDS];
        }
        self.data_len = 0;
        self.fields = 0;
        self.line = 0;
        self.index = 0;
        self.too_long = false;
        self.terminated = false;
    }

    fn mark_too_long(&mut self) {
        self.too_long = true;
        self.data_len = 0;
        self.fields = 0;
    }

    /// Doubles the field end slots; bounded, since a kept record of at most
    /// `MAX_RECORD_BYTES + 1` bytes has at most that many fields plus one.
    fn grow_ends(&mut self) {
        let len = self.ends.len() * 2;
        self.ends.resize(len, 0);
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("line", &self.line)
            .field("index", &self.index)
            .field("fields", &self.fields)
            .field("too_long", &self.too_long)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Read` that hands out at most 7 bytes per call, so that records and
    /// multi-byte characters are split across reads.
    struct Trickle<'a> {
        bytes: &'a [u8],
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(7).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    /// One record as a test sees it.
    #[derive(Debug, PartialEq, Eq)]
    struct Seen {
        line: u64,
        index: u64,
        too_long: bool,
        fields: Vec<String>,
    }

    fn seen(line: u64, index: u64, fields: &[&str]) -> Seen {
        Seen {
            line,
            index,
            too_long: false,
            fields: fields.iter().map(|field| field.to_string()).collect(),
        }
    }

    fn read_all(input: impl Read, encoding: TextEncoding, separator: Separator) -> Vec<Seen> {
        let mut reader = RecordReader::new(input, encoding, separator);
        let mut record = Record::new();
        let mut all = Vec::new();
        while reader.read(&mut record).unwrap() {
            all.push(Seen {
                line: record.line(),
                index: record.index(),
                too_long: record.too_long(),
                fields: record.iter().map(str::to_owned).collect(),
            });
        }
        all
    }

    fn fields_of(input: &[u8], encoding: TextEncoding) -> Vec<Vec<String>> {
        read_all(input, encoding, Separator::Semicolon)
            .into_iter()
            .map(|seen| seen.fields)
            .collect()
    }

    fn rows(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|row| row.iter().map(|field| field.to_string()).collect())
            .collect()
    }

    /// A head of exactly `SNIFF_BYTES`: a header, as many complete rows as
    /// fit, and a last row cut off after `cut` (which is appended last).
    fn full_head(cut: &[u8]) -> (Vec<u8>, usize) {
        let mut head = b"E-Mail;Name\n".to_vec();
        let mut rows = 0;
        while head.len() < SNIFF_BYTES - 100 {
            head.extend_from_slice(format!("k{rows}@example.org;M\u{fc}ller\n").as_bytes());
            rows += 1;
        }
        head.extend_from_slice(b"cut@example.org;");
        while head.len() + cut.len() < SNIFF_BYTES {
            head.push(b'M');
        }
        head.extend_from_slice(cut);
        assert_eq!(head.len(), SNIFF_BYTES);
        (head, rows)
    }

    #[test]
    fn a_utf8_bom_means_utf8_and_is_not_part_of_the_first_header_field() {
        let sniffed = sniff(
            b"\xEF\xBB\xBFE-Mail;Name\r\na@example.org;J\xC3\xB6rg\r\n",
            5,
        )
        .unwrap();

        assert_eq!(sniffed.encoding, TextEncoding::Utf8);
        assert_eq!(sniffed.header, ["E-Mail", "Name"]);
        assert_eq!(sniffed.preview, rows(&[&["a@example.org", "Jörg"]]));
    }

    #[test]
    fn a_utf8_bom_is_skipped_by_the_record_reader() {
        let records = fields_of(b"\xEF\xBB\xBFE-Mail;Name\n", TextEncoding::Utf8);

        assert_eq!(records, rows(&[&["E-Mail", "Name"]]));
    }

    #[test]
    fn valid_utf8_without_a_bom_is_utf8() {
        let sniffed = sniff(
            "E-Mail;Straße\nb@example.org;Müllerstraße 1\n".as_bytes(),
            5,
        )
        .unwrap();

        assert_eq!(sniffed.encoding, TextEncoding::Utf8);
        assert_eq!(sniffed.header, ["E-Mail", "Straße"]);
        assert_eq!(
            sniffed.preview,
            rows(&[&["b@example.org", "Müllerstraße 1"]])
        );
    }

    #[test]
    fn a_multi_byte_character_cut_off_at_the_end_of_the_head_still_means_utf8() {
        // 0xC3 is the first byte of "ü" (0xC3 0xBC).
        let (head, _) = full_head(b"\xC3");

        assert_eq!(sniff(&head, 1).unwrap().encoding, TextEncoding::Utf8);
    }

    #[test]
    fn a_byte_invalid_in_the_middle_of_the_head_means_windows_1252() {
        let mut head = b"E-Mail;Name\nc@example.org;M\xFCller\n".to_vec();
        head.extend_from_slice("d@example.org;Jörg\n".as_bytes());

        assert_eq!(sniff(&head, 5).unwrap().encoding, TextEncoding::Windows1252);
    }

    #[test]
    fn a_windows_1252_file_reads_umlauts_sharp_s_and_the_euro_sign() {
        let file = b"Name;Stra\xDFe;Betrag\nM\xFCller;Hauptstra\xDFe 1;\x80 5\n";

        let sniffed = sniff(file, 5).unwrap();
        let records = fields_of(file, sniffed.encoding);

        assert_eq!(sniffed.encoding, TextEncoding::Windows1252);
        assert_eq!(sniffed.header, ["Name", "Straße", "Betrag"]);
        assert_eq!(
            sniffed.preview,
            rows(&[&["Müller", "Hauptstraße 1", "€ 5"]])
        );
        assert_eq!(
            records,
            rows(&[
                &["Name", "Straße", "Betrag"],
                &["Müller", "Hauptstraße 1", "€ 5"]
            ])
        );
    }

    #[test]
    fn an_excel_unicode_text_export_in_utf16_with_a_bom_is_decoded_by_its_bom() {
        let mut file = vec![0xFF, 0xFE];
        for unit in "E-Mail\tName\r\na@example.org\tJörg\r\n".encode_utf16() {
            file.extend_from_slice(&unit.to_le_bytes());
        }

        let sniffed = sniff(&file, 5).unwrap();
        let records = read_all(file.as_slice(), sniffed.encoding, sniffed.separator);

        assert_eq!(sniffed.separator, Separator::Tab);
        assert_eq!(sniffed.header, ["E-Mail", "Name"]);
        assert_eq!(sniffed.preview, rows(&[&["a@example.org", "Jörg"]]));
        assert_eq!(records[1], seen(2, 1, &["a@example.org", "Jörg"]));
    }

    #[test]
    fn the_most_frequent_separator_in_the_header_wins() {
        let semicolons = sniff(b"a;b;c,d\n", 5).unwrap();
        let commas = sniff(b"a,b,c;d\n1,2,3;4\n", 5).unwrap();
        let tabs = sniff(b"a\tb\tc,d\n", 5).unwrap();

        assert_eq!(semicolons.separator, Separator::Semicolon);
        assert_eq!(commas.separator, Separator::Comma);
        assert_eq!(commas.header, ["a", "b", "c;d"]);
        assert_eq!(commas.preview, rows(&[&["1", "2", "3;4"]]));
        assert_eq!(tabs.separator, Separator::Tab);
        assert_eq!(tabs.header, ["a", "b", "c,d"]);
    }

    #[test]
    fn a_separator_inside_quotes_in_the_header_does_not_count() {
        let sniffed = sniff(
            b"\"Name, Vorname\";E-Mail\n\"M\xC3\xBCller, Jan\";j@example.org\n",
            5,
        )
        .unwrap();

        assert_eq!(sniffed.separator, Separator::Semicolon);
        assert_eq!(sniffed.header, ["Name, Vorname", "E-Mail"]);
        assert_eq!(sniffed.preview, rows(&[&["Müller, Jan", "j@example.org"]]));
    }

    #[test]
    fn only_the_header_decides_the_separator() {
        let sniffed = sniff(b"a;b\n1,2,3,4,5\n", 5).unwrap();

        assert_eq!(sniffed.separator, Separator::Semicolon);
    }

    #[test]
    fn a_tie_or_no_separator_at_all_means_semicolon() {
        assert_eq!(
            sniff(b"a,b;c\n", 5).unwrap().separator,
            Separator::Semicolon
        );
        assert_eq!(
            sniff(b"a,b\tc\n", 5).unwrap().separator,
            Separator::Semicolon
        );
        assert_eq!(
            sniff(b"E-Mail\nx@example.org\n", 5).unwrap().separator,
            Separator::Semicolon
        );
    }

    #[test]
    fn quoted_fields_with_separators_doubled_quotes_and_line_breaks_are_one_field() {
        let file = b"E-Mail;Notiz;Name\r\n\
            a@example.org;\"eins;zwei \"\"drei\"\"\r\nvier\nf\xC3\xBCnf\";Anna\r\n\
            b@example.org;;Bert\r\n";

        let records = read_all(&file[..], TextEncoding::Utf8, Separator::Semicolon);

        assert_eq!(
            records,
            [
                seen(1, 0, &["E-Mail", "Notiz", "Name"]),
                seen(
                    2,
                    1,
                    &["a@example.org", "eins;zwei \"drei\"\r\nvier\nfünf", "Anna"]
                ),
                seen(5, 2, &["b@example.org", "", "Bert"]),
            ]
        );
    }

    #[test]
    fn crlf_lf_and_a_missing_final_line_break_all_work() {
        let expected = rows(&[&["a", "b"], &["1", "2"]]);

        assert_eq!(fields_of(b"a;b\r\n1;2\r\n", TextEncoding::Utf8), expected);
        assert_eq!(fields_of(b"a;b\n1;2\n", TextEncoding::Utf8), expected);
        assert_eq!(fields_of(b"a;b\r\n1;2", TextEncoding::Utf8), expected);
        assert_eq!(fields_of(b"a;b\n1;2\r\n\r\n", TextEncoding::Utf8), expected);
    }

    #[test]
    fn empty_lines_yield_no_record_but_count_as_lines() {
        let records = read_all(
            &b"\r\na;b\r\n\r\n\n1;2\n\n"[..],
            TextEncoding::Utf8,
            Separator::Semicolon,
        );

        assert_eq!(records, [seen(2, 0, &["a", "b"]), seen(5, 1, &["1", "2"])]);
    }

    #[test]
    fn a_line_of_only_separators_or_spaces_is_a_blank_record() {
        let mut reader = RecordReader::new(
            &b"a;b\n;;\n \t; \n1;2\n"[..],
            TextEncoding::Utf8,
            Separator::Semicolon,
        );
        let mut record = Record::new();
        let mut blank = Vec::new();
        while reader.read(&mut record).unwrap() {
            blank.push(record.is_blank());
        }

        assert_eq!(blank, [false, true, true, false]);
    }

    #[test]
    fn fields_come_back_untrimmed_and_a_leading_equals_sign_stays() {
        let records = fields_of(
            b" E-Mail ;Name\n  a@example.org\t;=HYPERLINK(\"x\")\n",
            TextEncoding::Utf8,
        );

        assert_eq!(
            records,
            rows(&[
                &[" E-Mail ", "Name"],
                &["  a@example.org\t", "=HYPERLINK(\"x\")"]
            ])
        );
    }

    #[test]
    fn a_record_of_a_megabyte_is_reported_too_long_and_reading_goes_on_in_bounded_memory() {
        let mut file = b"E-Mail;Name\r\na@example.org;Anna\r\nb@example.org;".to_vec();
        file.extend(std::iter::repeat_n(b'x', 1024 * 1024));
        file.extend_from_slice(b"\r\nc@example.org;Carla\r\n");
        let mut reader =
            RecordReader::new(file.as_slice(), TextEncoding::Utf8, Separator::Semicolon);
        let mut record = Record::new();

        assert!(reader.read(&mut record).unwrap());
        let (data, ends) = (record.data.capacity(), record.ends.capacity());
        assert!(reader.read(&mut record).unwrap());
        assert_eq!(record.iter().collect::<Vec<_>>(), ["a@example.org", "Anna"]);

        assert!(reader.read(&mut record).unwrap());
        assert!(record.too_long());
        assert_eq!((record.line(), record.index(), record.len()), (3, 2, 0));
        assert_eq!(record.get(0), None);
        assert!(!record.is_blank());

        assert!(reader.read(&mut record).unwrap());
        assert!(!record.too_long());
        assert_eq!((record.line(), record.index()), (4, 3));
        assert_eq!(
            record.iter().collect::<Vec<_>>(),
            ["c@example.org", "Carla"]
        );
        assert!(!reader.read(&mut record).unwrap());

        assert_eq!(data, DATA_BYTES);
        assert_eq!(
            (record.data.capacity(), record.ends.capacity()),
            (data, ends)
        );
        assert_eq!(
            (reader.raw.len(), reader.text.len()),
            (INPUT_BYTES, TEXT_BYTES)
        );
        assert_eq!(reader.bytes_read(), file.len() as u64);
    }

    #[test]
    fn a_too_long_quoted_field_with_line_breaks_keeps_the_line_numbers_of_later_records() {
        let mut file = b"E-Mail;Notiz\na@example.org;\"".to_vec();
        for _ in 0..1000 {
            file.extend(std::iter::repeat_n(b'y', 100));
            file.extend_from_slice(b"\r\n");
        }
        file.extend_from_slice(b"\"\nb@example.org;kurz\n");

        let records = read_all(file.as_slice(), TextEncoding::Utf8, Separator::Semicolon);

        assert_eq!(records.len(), 3);
        assert_eq!(
            (records[1].line, records[1].index, records[1].too_long),
            (2, 1, true)
        );
        assert!(records[1].fields.is_empty());
        assert_eq!(records[2], seen(1003, 2, &["b@example.org", "kurz"]));
    }

    #[test]
    fn a_record_of_exactly_the_limit_is_kept_and_one_byte_more_is_too_long() {
        let at_limit = vec![b'x'; MAX_RECORD_BYTES];
        let over_limit = vec![b'x'; MAX_RECORD_BYTES + 1];

        for ending in [&b"\n"[..], b"\r\n", b""] {
            let mut file = at_limit.clone();
            file.extend_from_slice(ending);
            let records = read_all(file.as_slice(), TextEncoding::Utf8, Separator::Semicolon);
            assert_eq!(records.len(), 1);
            assert!(!records[0].too_long);
            assert_eq!(records[0].fields[0].len(), MAX_RECORD_BYTES);

            let mut file = over_limit.clone();
            file.extend_from_slice(ending);
            let records = read_all(file.as_slice(), TextEncoding::Utf8, Separator::Semicolon);
            assert_eq!(records.len(), 1);
            assert!(records[0].too_long);
        }
    }

    #[test]
    fn a_record_with_many_fields_is_read_whole() {
        let file = vec![b';'; 999];

        let records = fields_of(&file, TextEncoding::Utf8);

        assert_eq!(records.len(), 1);
        assert_eq!(records[0].len(), 1000);
    }

    #[test]
    fn invalid_utf8_beyond_the_head_becomes_the_replacement_character() {
        let mut file = b"E-Mail;Name\n".to_vec();
        file.extend_from_slice(b"a@example.org;M\xFCller\n");
        file.extend_from_slice(b"b@example.org;Bert\xC3\n");
        file.extend_from_slice(b"c@example.org;Carla\n");

        let records = fields_of(&file, TextEncoding::Utf8);

        assert_eq!(
            records,
            rows(&[
                &["E-Mail", "Name"],
                &["a@example.org", "M\u{FFFD}ller"],
                &["b@example.org", "Bert\u{FFFD}"],
                &["c@example.org", "Carla"],
            ])
        );
    }

    #[test]
    fn an_input_ending_inside_a_multi_byte_character_ends_with_the_replacement_character() {
        assert_eq!(
            fields_of(b"a;M\xC3", TextEncoding::Utf8),
            rows(&[&["a", "M\u{FFFD}"]])
        );
    }

    #[test]
    fn an_empty_file_or_one_of_only_a_bom_and_whitespace_is_empty_to_sniff() {
        for head in [
            &b""[..],
            b"\xEF\xBB\xBF",
            b"\xEF\xBB\xBF\r\n \n",
            b"  \t\r\n\r\n",
        ] {
            assert!(
                matches!(sniff(head, 5), Err(SourceError::Empty)),
                "{head:?}"
            );
        }
    }

    #[test]
    fn the_record_reader_yields_no_record_for_an_empty_file_or_a_bom_and_line_breaks() {
        for file in [&b""[..], b"\xEF\xBB\xBF", b"\xEF\xBB\xBF\r\n\n\r\n"] {
            assert_eq!(
                read_all(file, TextEncoding::Utf8, Separator::Semicolon),
                [],
                "{file:?}"
            );
        }
    }

    #[test]
    fn a_file_with_only_a_header_row_has_an_empty_preview() {
        for head in [&b"E-Mail;Name"[..], b"E-Mail;Name\r\n", b"E-Mail;Name\n\n"] {
            let sniffed = sniff(head, 5).unwrap();
            assert_eq!(sniffed.header, ["E-Mail", "Name"]);
            assert!(sniffed.preview.is_empty());
        }
    }

    #[test]
    fn the_preview_holds_at_most_the_rows_asked_for_and_no_blank_rows() {
        let head =
            b"E-Mail\n1@example.org\n;\n\n   \n2@example.org\n3@example.org\n4@example.org\n";

        let sniffed = sniff(head, 3).unwrap();

        assert_eq!(
            sniffed.preview,
            rows(&[&["1@example.org"], &["2@example.org"], &["3@example.org"]])
        );
    }

    #[test]
    fn a_row_cut_off_by_the_end_of_a_full_head_is_not_previewed() {
        let (head, complete_rows) = full_head("ü".as_bytes());

        let sniffed = sniff(&head, usize::MAX).unwrap();

        assert_eq!(sniffed.preview.len(), complete_rows);
        let last = format!("k{}@example.org", complete_rows - 1);
        assert_eq!(
            sniffed.preview.last().unwrap(),
            &[last, "Müller".to_string()]
        );
    }

    #[test]
    fn the_last_row_of_a_short_head_counts_without_a_final_line_break() {
        let sniffed = sniff(b"E-Mail;Name\na@example.org;Anna", 5).unwrap();

        assert_eq!(sniffed.preview, rows(&[&["a@example.org", "Anna"]]));
    }

    #[test]
    fn a_header_that_does_not_end_within_a_full_head_is_refused() {
        let head = vec![b'h'; SNIFF_BYTES];

        assert!(matches!(sniff(&head, 5), Err(SourceError::HeaderTooLong)));
    }

    #[test]
    fn records_and_characters_split_across_reads_of_seven_bytes_come_out_right() {
        // The BOM and "ü" of the first row straddle the 7-byte read boundaries.
        let utf8 = "\u{FEFF}Name;Mü\r\n\"Jörg\r\nMüller\";€ 5;Straße\r\nÄnne;x".as_bytes();
        let windows_1252 = b"Name;M\xFC\r\n\"J\xF6rg\r\nM\xFCller\";\x80 5;Stra\xDFe\r\n\xC4nne;x";
        let expected = [
            seen(1, 0, &["Name", "Mü"]),
            seen(2, 1, &["Jörg\r\nMüller", "€ 5", "Straße"]),
            seen(4, 2, &["Änne", "x"]),
        ];

        for (file, encoding) in [
            (utf8, TextEncoding::Utf8),
            (&windows_1252[..], TextEncoding::Windows1252),
        ] {
            let trickled = read_all(Trickle { bytes: file }, encoding, Separator::Semicolon);
            assert_eq!(trickled, expected, "{encoding:?}");
        }
    }

    #[test]
    fn a_long_file_read_seven_bytes_at_a_time_matches_reading_it_at_once() {
        let mut file = "\u{FEFF}E-Mail;Name;Notiz\r\n".to_string();
        for i in 0..2000 {
            file.push_str(&format!(
                "p{i}@example.org;Jörg Müller-Weiß;\"Zeile {i}\nnoch €\"\r\n"
            ));
        }

        let at_once = read_all(file.as_bytes(), TextEncoding::Utf8, Separator::Semicolon);
        let trickled = read_all(
            Trickle {
                bytes: file.as_bytes(),
            },
            TextEncoding::Utf8,
            Separator::Semicolon,
        );

        assert_eq!(at_once.len(), 2001);
        assert_eq!(
            at_once[2000],
            seen(
                4000,
                2000,
                &[
                    "p1999@example.org",
                    "Jörg Müller-Weiß",
                    "Zeile 1999\nnoch €"
                ]
            )
        );
        assert_eq!(trickled, at_once);
    }

    #[test]
    fn an_interrupted_read_is_retried() {
        struct Interrupting<'a> {
            bytes: &'a [u8],
            interrupt: bool,
        }
        impl Read for Interrupting<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.interrupt = !self.interrupt;
                if self.interrupt {
                    return Err(io::ErrorKind::Interrupted.into());
                }
                let n = buf.len().min(3).min(self.bytes.len());
                buf[..n].copy_from_slice(&self.bytes[..n]);
                self.bytes = &self.bytes[n..];
                Ok(n)
            }
        }

        let input = Interrupting {
            bytes: b"a;b\n1;2\n",
            interrupt: false,
        };

        let records = read_all(input, TextEncoding::Utf8, Separator::Semicolon);

        assert_eq!(records, [seen(1, 0, &["a", "b"]), seen(2, 1, &["1", "2"])]);
    }

    #[test]
    fn a_failing_input_is_reported_as_an_io_error() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("connection reset"))
            }
        }
        let mut reader = RecordReader::new(Failing, TextEncoding::Utf8, Separator::Semicolon);

        assert!(matches!(
            reader.read(&mut Record::new()),
            Err(SourceError::Io(_))
        ));
    }

    #[test]
    fn a_record_does_not_show_its_fields_when_debug_printed() {
        let mut reader = RecordReader::new(
            &b"geheim@example.org;Anna\n"[..],
            TextEncoding::Utf8,
            Separator::Semicolon,
        );
        let mut record = Record::new();
        reader.read(&mut record).unwrap();

        let printed = format!("{record:?}");

        assert!(printed.contains("fields: 2"), "{printed}");
        assert!(!printed.contains("geheim"), "{printed}");
    }

    #[test]
    fn encodings_and_separators_are_stored_under_snake_case_names() {
        let names = serde_json::to_string(&(
            TextEncoding::Utf8,
            TextEncoding::Windows1252,
            Separator::Semicolon,
            Separator::Comma,
            Separator::Tab,
        ))
        .unwrap();

        assert_eq!(names, r#"["utf8","windows1252","semicolon","comma","tab"]"#);
        assert_eq!(
            serde_json::from_str::<TextEncoding>(r#""windows1252""#).unwrap(),
            TextEncoding::Windows1252
        );
    }
}
