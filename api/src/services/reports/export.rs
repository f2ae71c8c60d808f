//! The summary as spreadsheets: CSV (UTF-8 with a byte-order mark) and XLSX, with
//! Chinese headings.
use super::summary::{RankingRow, Summary, SummaryRow};
use crate::domain::{ReportGroup, SignedMoney};
use crate::error::{AppError, AppResult};
use rust_decimal::Decimal;

fn key_heading(group: ReportGroup) -> (&'static str, &'static str) {
    match group {
        ReportGroup::Supplier => ("供应商编号", "供应商名称"),
        ReportGroup::County => ("县区代码", "县区名称"),
        ReportGroup::Pairing => ("结对编号", "结对名称"),
        ReportGroup::Month => ("月份", "年月"),
        ReportGroup::Buyer => ("采购单位编号", "采购单位名称"),
    }
}

pub const AMOUNT_HEADINGS: [&str; 7] = [
    "采购金额",
    "帮助销售金额",
    "贫困县金额",
    "深度贫困县金额",
    "非贫困县金额",
    "合计",
    "笔数",
];

pub fn filename(s: &Summary, ext: &str) -> String {
    format!("summary-{}-{}.{ext}", s.year, s.group_by)
}

/// CSV with a UTF-8 byte-order mark (so spreadsheet software reads the Chinese headings),
/// one row per group and a final 合计 row.
pub fn to_csv(s: &Summary) -> AppResult<Vec<u8>> {
    let mut buf: Vec<u8> = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut buf);
        let (k, n) = key_heading(s.group_by);
        let mut head = vec![k, n];
        head.extend(AMOUNT_HEADINGS);
        w.write_record(&head).map_err(AppError::internal)?;
        for r in s.rows.iter().chain(std::iter::once(&s.totals)) {
            w.write_record([
                r.key.clone().unwrap_or_default(),
                crate::services::csv_text(&r.name).into_owned(),
                r.purchase.to_string(),
                r.helped_sale.to_string(),
                r.poverty.to_string(),
                r.deep_poverty.to_string(),
                r.none.to_string(),
                r.total.to_string(),
                r.entry_count.to_string(),
            ])
            .map_err(AppError::internal)?;
        }
        w.flush().map_err(AppError::internal)?;
    }
    Ok(buf)
}

/// A sheet's cells before writing, so that each column can be sized to its content.
enum Cell {
    Text(String),
    /// An amount in fen, written as a number of yuan with two places.
    Money(i64),
    Number(f64),
    Empty,
}

impl Cell {
    /// Its width in characters as shown (a CJK character is two).
    fn width(&self) -> usize {
        let text = match self {
            Cell::Text(t) => t.clone(),
            Cell::Money(f) => format!("{:.2}", *f as f64 / 100.0),
            Cell::Number(n) => n.to_string(),
            Cell::Empty => String::new(),
        };
        text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
    }
}

/// One worksheet: a title row (merged across the columns), the header row (frozen with
/// the title), the rows, and the totals row in bold; every column as wide as its
/// widest header or cell (ids are never cut); amounts as numbers in format `0.00`.
fn write_sheet(
    wb: &mut rust_xlsxwriter::Workbook,
    name: &str,
    title: &str,
    head: &[&str],
    rows: &[Vec<Cell>],
    totals: Option<&[Cell]>,
) -> AppResult<()> {
    use rust_xlsxwriter::Format as XFormat;
    let e = AppError::internal;
    let bold = XFormat::new().set_bold();
    let title_fmt = XFormat::new().set_bold().set_font_size(13);
    let money = XFormat::new().set_num_format("0.00");
    let money_bold = XFormat::new().set_num_format("0.00").set_bold();
    let ws = wb.add_worksheet();
    ws.set_name(name).map_err(e)?;
    let last_col = head.len().saturating_sub(1) as u16;
    ws.merge_range(0, 0, 0, last_col, title, &title_fmt).map_err(e)?;
    for (c, h) in head.iter().enumerate() {
        ws.write_string_with_format(1, c as u16, *h, &bold).map_err(e)?;
    }
    ws.set_freeze_panes(2, 0).map_err(e)?;
    let mut widths: Vec<usize> = head.iter().map(|h| Cell::Text(h.to_string()).width()).collect();
    let all = rows
        .iter()
        .map(|r| (r.as_slice(), false))
        .chain(totals.map(|t| (t, true)));
    for (i, (cells, is_total)) in all.enumerate() {
        let row = i as u32 + 2;
        for (c, cell) in cells.iter().enumerate() {
            let col = c as u16;
            match cell {
                Cell::Text(t) if is_total => ws.write_string_with_format(row, col, t, &bold),
                Cell::Text(t) => ws.write_string(row, col, t),
                Cell::Money(f) => {
                    let fmt = if is_total { &money_bold } else { &money };
                    ws.write_number_with_format(row, col, *f as f64 / 100.0, fmt)
                }
                Cell::Number(n) if is_total => ws.write_number_with_format(row, col, *n, &bold),
                Cell::Number(n) => ws.write_number(row, col, *n),
                Cell::Empty => continue,
            }
            .map_err(e)?;
            if let Some(w) = widths.get_mut(c) {
                *w = (*w).max(cell.width());
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        // Two characters of margin; Excel's unit is about one Latin character.
        ws.set_column_width(c as u16, (*w + 2).clamp(6, 120) as f64)
            .map_err(e)?;
    }
    Ok(())
}

fn summary_cells(r: &SummaryRow) -> Vec<Cell> {
    let mut cells = vec![
        Cell::Text(r.key.clone().unwrap_or_default()),
        Cell::Text(r.name.clone()),
    ];
    cells.extend(
        [r.purchase, r.helped_sale, r.poverty, r.deep_poverty, r.none, r.total]
            .map(|m| Cell::Money(SignedMoney::minor(m))),
    );
    cells.push(Cell::Number(r.entry_count as f64));
    cells
}

/// The title row of a sheet: the report, the year, the grouping, whose slice, when.
pub fn title(s: &Summary, report: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "{report} · {}年 · 分组 group_by={} · 范围 scope={} · 生成于 generated at {}",
        s.year,
        s.group_by,
        s.scope,
        at.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

/// XLSX: sheet 汇总 (the rows and a 合计 row) and, when there is a ranking, sheet 排名
/// (with a 合计 row of targets and credits); each with a title row, a frozen header,
/// columns sized to their content and amounts as numbers with two places.
pub fn to_xlsx(s: &Summary) -> AppResult<Vec<u8>> {
    let at = crate::services::now();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let (k, n) = key_heading(s.group_by);
    let mut head = vec![k, n];
    head.extend(AMOUNT_HEADINGS);
    let rows: Vec<Vec<Cell>> = s.rows.iter().map(summary_cells).collect();
    let totals = summary_cells(&s.totals);
    write_sheet(
        &mut wb,
        "汇总",
        &title(s, "消费帮扶汇总表", at),
        &head,
        &rows,
        Some(&totals),
    )?;
    if let Some(rank) = &s.ranking {
        let head = [
            "名次",
            "采购单位编号",
            "采购单位名称",
            "目标金额",
            "完成金额",
            "完成进度",
        ];
        let rows: Vec<Vec<Cell>> = rank
            .iter()
            .map(|r| {
                vec![
                    Cell::Number(r.rank as f64),
                    Cell::Text(r.buyer_org_id.to_string()),
                    Cell::Text(r.name.clone()),
                    Cell::Money(r.target.minor()),
                    Cell::Money(r.credited.minor()),
                    Cell::Number(decimal_f64(r.progress.to_decimal())),
                ]
            })
            .collect();
        let sum = |f: &dyn Fn(&RankingRow) -> i64| rank.iter().fold(0i64, |a, r| a.saturating_add(f(r)));
        let totals = [
            Cell::Empty,
            Cell::Empty,
            Cell::Text("合计".into()),
            Cell::Money(sum(&|r| r.target.minor())),
            // No credited total: a parent's credit counts its children's, and a child with a
            // quota of its own has a row too, so a sum would count its credit twice (the
            // summary sheet's 合计 is the total credited).
            Cell::Empty,
            Cell::Empty,
        ];
        write_sheet(
            &mut wb,
            "排名",
            &title(s, "采购单位完成进度排名", at),
            &head,
            &rows,
            Some(&totals),
        )?;
    }
    wb.save_to_buffer().map_err(AppError::internal)
}

fn decimal_f64(d: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(0.0)
}
