//! Flags as spreadsheets (as the reports do): CSV with a byte-order mark, XLSX.
use super::Flag;
use crate::error::{AppError, AppResult};

const HEADINGS: [&str; 10] = [
    "编号",
    "类型",
    "状态",
    "年度",
    "采购单位",
    "供应商",
    "发现时间",
    "处理意见",
    "处理时间",
    "证据",
];

fn cells(f: &Flag) -> [String; 10] {
    let opt = |v: Option<String>| v.unwrap_or_default();
    [
        f.id.to_string(),
        f.kind.to_string(),
        f.state.to_string(),
        f.year.to_string(),
        opt(f.buyer_org_id.map(|o| o.to_string())),
        opt(f.supplier_org_id.map(|o| o.to_string())),
        f.raised_at.to_rfc3339(),
        opt(f.note.clone()),
        opt(f.decided_at.map(|t| t.to_rfc3339())),
        f.evidence.to_string(),
    ]
}

pub fn flags_csv(items: &[Flag]) -> AppResult<Vec<u8>> {
    let mut buf: Vec<u8> = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut buf);
        w.write_record(HEADINGS).map_err(AppError::internal)?;
        for f in items {
            // The note is written by people (a supervisor, an evaluator): never a formula.
            w.write_record(
                crate::services::csv_record(&cells(f), &[7])
                    .iter()
                    .map(|c| c.as_bytes()),
            )
            .map_err(AppError::internal)?;
        }
        w.flush().map_err(AppError::internal)?;
    }
    Ok(buf)
}

pub fn flags_xlsx(items: &[Flag]) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format as XFormat, Workbook};
    let e = AppError::internal;
    let mut wb = Workbook::new();
    let bold = XFormat::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("风险提示").map_err(e)?;
    for (c, h) in HEADINGS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(e)?;
    }
    for (i, f) in items.iter().enumerate() {
        for (c, v) in cells(f).iter().enumerate() {
            ws.write_string(i as u32 + 1, c as u16, fit_cell(v)).map_err(e)?;
        }
    }
    wb.save_to_buffer().map_err(e)
}

/// The most characters a spreadsheet cell holds.
const CELL_MAX_CHARS: usize = 32_767;

/// `v`, cut to fit one cell with a note where it was cut: a long flag's evidence (every entry
/// of a related pair) would otherwise fail the whole workbook. The CSV and `GET /flags/{id}`
/// keep it whole.
fn fit_cell(v: &str) -> std::borrow::Cow<'_, str> {
    if v.chars().count() <= CELL_MAX_CHARS {
        return std::borrow::Cow::Borrowed(v);
    }
    let note = " … (cut to fit the cell: GET /flags/{id} or the CSV has it whole)";
    let head: String = v.chars().take(CELL_MAX_CHARS - note.chars().count()).collect();
    std::borrow::Cow::Owned(head + note)
}

#[cfg(test)]
mod tests {
    use super::{fit_cell, CELL_MAX_CHARS};

    #[test]
    fn a_long_cell_is_cut_to_fit_and_a_short_one_kept() {
        assert_eq!(fit_cell("短"), "短");
        let long = "证".repeat(40_000);
        let cut = fit_cell(&long);
        assert_eq!(cut.chars().count(), CELL_MAX_CHARS);
        assert!(cut.ends_with("has it whole)"));
    }
}
