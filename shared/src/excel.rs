//! CSV for German Excel, as every download of EMMA writes it: UTF-8 with a
//! byte order mark (so umlauts survive), `;` between cells, and cells that
//! Excel would run as formulas made inert.

use std::io::Write;

/// The byte order mark that tells Excel the file is UTF-8.
pub const BOM: &[u8] = "\u{feff}".as_bytes();

/// A CSV writer for Excel: writes the BOM, then `;`-separated records.
pub fn writer<W: Write>(mut out: W) -> std::io::Result<csv::Writer<W>> {
    out.write_all(BOM)?;
    Ok(csv::WriterBuilder::new().delimiter(b';').from_writer(out))
}

/// A cell starting with `=`, `+`, `-`, `@`, tab or CR gets an apostrophe,
/// so Excel shows it instead of running it.
pub fn excel_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_excel_would_run_are_made_inert() {
        for cell in ["=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(excel_safe(cell).starts_with('\''), "{cell:?}");
        }
        assert_eq!(excel_safe("contact.create"), "contact.create");
    }

    #[test]
    fn a_file_starts_with_the_bom_and_separates_with_semicolons() {
        let mut out = Vec::new();
        {
            let mut w = writer(&mut out).unwrap();
            w.write_record(["Zeile", "Grund; mit Semikolon"]).unwrap();
            w.flush().unwrap();
        }
        assert!(out.starts_with(BOM));
        assert_eq!(
            std::str::from_utf8(&out[BOM.len()..]).unwrap(),
            "Zeile;\"Grund; mit Semikolon\"\n"
        );
    }
}
