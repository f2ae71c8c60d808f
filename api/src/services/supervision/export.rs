//! The units and counties lists as spreadsheets (as the reports do): CSV with a byte-order
//! mark, XLSX with a bold heading row.
use super::counties::{CountiesPage, CountyFigures};
use super::units::{UnitProgress, UnitsReport};
use crate::error::{AppError, AppResult};

const UNIT_HEADINGS: [&str; 11] = [
    "名次",
    "预算单位编号",
    "预算单位名称",
    "类型",
    "地区代码",
    "计划状态",
    "目标金额",
    "完成金额",
    "完成进度",
    "应完成金额",
    "滞后原因",
];

/// Writes the cells of `u` into `cells`, cleared first: the buffers are reused row after row,
/// so a long list costs no allocation per row once they have grown.
fn unit_cells(u: &UnitProgress, cells: &mut [String; 11]) {
    let [rank, id, name, kind, region, status, target, credited, progress, expected, reasons] = cells;
    put(rank, u.rank);
    put(id, u.org_id);
    name.push_str(&u.name);
    put(kind, u.kind);
    region.push_str(&u.region_code);
    if let Some(s) = u.plan_status {
        put(status, s);
    }
    if let Some(t) = u.target {
        put(target, t);
    }
    put(credited, u.credited);
    if let Some(p) = &u.progress {
        put(progress, p);
    }
    if let Some(t) = u.expected_by_today {
        put(expected, t);
    }
    for (i, r) in u.laggard_reasons.iter().enumerate() {
        if i > 0 {
            reasons.push(' ');
        }
        reasons.push_str(r.as_str());
    }
}

/// Appends `v` as text to `cell`.
fn put(cell: &mut String, v: impl std::fmt::Display) {
    use std::fmt::Write;
    // Writing into a String cannot fail.
    let _ = write!(cell, "{v}");
}

const COUNTY_HEADINGS: [&str; 8] = [
    "县代码",
    "县名称",
    "贫困状态",
    "在售认证产品数",
    "在售供应商数",
    "本年销售额",
    "台账条目数",
    "无认证产品",
];

fn county_cells(c: &CountyFigures, cells: &mut [String; 8]) {
    let [code, name, status, products, suppliers, credited, entries, none] = cells;
    code.push_str(&c.region_code);
    name.push_str(&c.name);
    put(status, c.poverty_status);
    put(products, c.certified_products);
    put(suppliers, c.suppliers_active);
    put(credited, c.credited);
    put(entries, c.entries);
    none.push_str(if c.no_certified_product { "是" } else { "否" });
}

/// Rows of a spreadsheet: each row's cells written into reused buffers by `fill`.
struct Rows<'a, T, const N: usize> {
    items: &'a [T],
    fill: fn(&T, &mut [String; N]),
}

impl<T, const N: usize> Rows<'_, T, N> {
    /// Calls `each` with the cells of every row in turn.
    fn each(&self, mut each: impl FnMut(usize, &[String; N]) -> AppResult<()>) -> AppResult<()> {
        let mut cells: [String; N] = std::array::from_fn(|_| String::new());
        for (i, item) in self.items.iter().enumerate() {
            cells.iter_mut().for_each(String::clear);
            (self.fill)(item, &mut cells);
            each(i, &cells)?;
        }
        Ok(())
    }
}

/// CSV of `rows`, the cells at `text` (names people write) kept from being read as formulas.
fn csv_of<T, const N: usize>(headings: &[&str; N], rows: Rows<'_, T, N>, text: &[usize]) -> AppResult<Vec<u8>> {
    let mut buf: Vec<u8> = Vec::with_capacity(3 + rows.items.len() * 96);
    buf.extend_from_slice(&[0xEF, 0xBB, 0xBF]);
    {
        let mut w = csv::Writer::from_writer(&mut buf);
        w.write_record(headings).map_err(AppError::internal)?;
        rows.each(|_, cells| {
            let record = crate::services::csv_record(cells, text);
            w.write_record(record.iter().map(|c| c.as_bytes()))
                .map_err(AppError::internal)
        })?;
        w.flush().map_err(AppError::internal)?;
    }
    Ok(buf)
}

fn xlsx_of<T, const N: usize>(sheet: &str, headings: &[&str; N], rows: Rows<'_, T, N>) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format as XFormat, Workbook};
    let e = AppError::internal;
    let mut wb = Workbook::new();
    let bold = XFormat::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(e)?;
    for (c, h) in headings.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(e)?;
    }
    rows.each(|i, cells| {
        for (c, v) in cells.iter().enumerate() {
            ws.write_string(i as u32 + 1, c as u16, v).map_err(e)?;
        }
        Ok(())
    })?;
    wb.save_to_buffer().map_err(e)
}

fn unit_rows(r: &UnitsReport) -> Rows<'_, UnitProgress, 11> {
    Rows {
        items: &r.units,
        fill: unit_cells,
    }
}

fn county_rows(r: &CountiesPage) -> Rows<'_, CountyFigures, 8> {
    Rows {
        items: &r.items,
        fill: county_cells,
    }
}

/// The column of a unit's name.
const UNIT_NAME: usize = 2;

/// Rows of a streamed CSV per chunk.
const CHUNK: usize = 1000;

/// The units as CSV in chunks of [`CHUNK`] rows (the byte-order mark and the headings first),
/// each chunk written only when it is asked for: the list is sent as it is written, never held
/// whole as text. (The ranking needs every unit before the first row, so the report is whole.)
pub fn units_csv_chunks(r: UnitsReport) -> impl Iterator<Item = AppResult<Vec<u8>>> {
    let mut units = r.units.into_iter().peekable();
    let mut head = true;
    let mut cells: [String; 11] = std::array::from_fn(|_| String::new());
    std::iter::from_fn(move || {
        if !head && units.peek().is_none() {
            return None;
        }
        let first = std::mem::take(&mut head);
        let mut buf = Vec::with_capacity(CHUNK * 96);
        if first {
            buf.extend_from_slice(&[0xEF, 0xBB, 0xBF]);
        }
        let mut w = csv::Writer::from_writer(buf);
        let mut write = || -> Result<(), csv::Error> {
            if first {
                w.write_record(UNIT_HEADINGS)?;
            }
            for u in units.by_ref().take(CHUNK) {
                cells.iter_mut().for_each(String::clear);
                unit_cells(&u, &mut cells);
                // The unit's name, never a formula (services::csv_text), in its own buffer.
                if let std::borrow::Cow::Owned(guarded) = crate::services::csv_text(&cells[UNIT_NAME]) {
                    cells[UNIT_NAME] = guarded;
                }
                w.write_record(&cells)?;
            }
            Ok(())
        };
        let written = write();
        Some(
            written
                .map_err(AppError::internal)
                .and_then(|()| w.into_inner().map_err(|e| AppError::internal(e.to_string()))),
        )
    })
}

pub fn units_xlsx(r: &UnitsReport) -> AppResult<Vec<u8>> {
    xlsx_of("预算单位进度", &UNIT_HEADINGS, unit_rows(r))
}

pub fn counties_csv(r: &CountiesPage) -> AppResult<Vec<u8>> {
    csv_of(&COUNTY_HEADINGS, county_rows(r), &[1])
}

pub fn counties_xlsx(r: &CountiesPage) -> AppResult<Vec<u8>> {
    xlsx_of("贫困县", &COUNTY_HEADINGS, county_rows(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{LaggardReason, Money, OrgId, OrgKind, PlanStatus, SignedMoney};
    use crate::services::credit::Ratio;

    fn unit(i: usize) -> UnitProgress {
        let fen = i64::try_from(i).unwrap_or(0) * 101;
        UnitProgress {
            rank: i + 1,
            org_id: OrgId::new(),
            name: format!("单位 \"{i}\", 食堂"),
            kind: OrgKind::School,
            region_code: "130102".into(),
            plan_status: i.is_multiple_of(3).then_some(PlanStatus::Approved),
            late: i.is_multiple_of(5),
            target: i
                .is_multiple_of(3)
                .then(|| Money::from_minor(fen * 3).unwrap_or(Money::ZERO)),
            credited: SignedMoney::from_minor(fen - 50).unwrap_or(SignedMoney::ZERO),
            progress: i.is_multiple_of(3).then(|| Ratio::of(fen, fen * 3 + 1)),
            expected_by_today: None,
            laggard_reasons: vec![LaggardReason::NoOrderYet, LaggardReason::BehindPace][..i % 3].to_vec(),
        }
    }

    #[test]
    fn the_streamed_csv_is_the_whole_csv_in_chunks() {
        let r = UnitsReport {
            year: 2026,
            region_code: None,
            expected_fraction: Ratio::of_ppm(500_000),
            filing_deadline: chrono::NaiveDate::MIN,
            units: (0..2 * CHUNK + 7).map(unit).collect(),
            regions: Vec::new(),
        };
        let whole = csv_of(&UNIT_HEADINGS, unit_rows(&r), &[UNIT_NAME]).unwrap_or_default();
        let chunks: Vec<Vec<u8>> = units_csv_chunks(r).map(|c| c.unwrap_or_default()).collect();
        assert_eq!(chunks.len(), 3, "headings with the first chunk, then two more");
        assert!(chunks[0].starts_with(&[0xEF, 0xBB, 0xBF]));
        assert_eq!(chunks.concat(), whole);
        assert_eq!(String::from_utf8_lossy(&whole).lines().count(), 2 * CHUNK + 8);
        // An empty list is the byte-order mark and the headings.
        let empty = UnitsReport {
            year: 2026,
            region_code: None,
            expected_fraction: Ratio::of_ppm(0),
            filing_deadline: chrono::NaiveDate::MIN,
            units: Vec::new(),
            regions: Vec::new(),
        };
        let chunks: Vec<Vec<u8>> = units_csv_chunks(empty).map(|c| c.unwrap_or_default()).collect();
        assert_eq!(chunks.len(), 1);
        assert!(String::from_utf8_lossy(&chunks[0]).contains("滞后原因"));
    }
}
