//! The summary as spreadsheets: CSV (UTF-8 with a byte-order mark) and XLSX, with
//! Chinese headings.
use super::summary::Summary;
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
                r.key.clone(),
                r.name.clone(),
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

/// XLSX: sheet 汇总 (the rows and a 合计 row, amounts as numbers with two places)
/// and, when there is a ranking, sheet 排名.
pub fn to_xlsx(s: &Summary) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format as XFormat, Workbook};
    let e = AppError::internal;
    let mut wb = Workbook::new();
    let bold = XFormat::new().set_bold();
    let money = XFormat::new().set_num_format("0.00");
    let ws = wb.add_worksheet();
    ws.set_name("汇总").map_err(e)?;
    let (k, n) = key_heading(s.group_by);
    let mut head = vec![k, n];
    head.extend(AMOUNT_HEADINGS);
    for (c, h) in head.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(e)?;
    }
    for (i, r) in s.rows.iter().chain(std::iter::once(&s.totals)).enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &r.key).map_err(e)?;
        ws.write_string(row, 1, &r.name).map_err(e)?;
        let amounts = [r.purchase, r.helped_sale, r.poverty, r.deep_poverty, r.none, r.total].map(SignedMoney::minor);
        for (j, a) in amounts.iter().enumerate() {
            ws.write_number_with_format(row, j as u16 + 2, *a as f64 / 100.0, &money)
                .map_err(e)?;
        }
        ws.write_number(row, 8, r.entry_count as f64).map_err(e)?;
    }
    ws.set_column_width(1, 30).map_err(e)?;
    if let Some(rank) = &s.ranking {
        let ws = wb.add_worksheet();
        ws.set_name("排名").map_err(e)?;
        for (c, h) in [
            "名次",
            "采购单位编号",
            "采购单位名称",
            "目标金额",
            "完成金额",
            "完成进度",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string_with_format(0, c as u16, *h, &bold).map_err(e)?;
        }
        for (i, r) in rank.iter().enumerate() {
            let row = i as u32 + 1;
            ws.write_number(row, 0, r.rank as f64).map_err(e)?;
            ws.write_string(row, 1, r.buyer_org_id.to_string()).map_err(e)?;
            ws.write_string(row, 2, &r.name).map_err(e)?;
            ws.write_number_with_format(row, 3, decimal_f64(r.target.to_decimal()), &money)
                .map_err(e)?;
            ws.write_number_with_format(row, 4, decimal_f64(r.credited.to_decimal()), &money)
                .map_err(e)?;
            ws.write_number(row, 5, decimal_f64(r.progress.to_decimal()))
                .map_err(e)?;
        }
    }
    wb.save_to_buffer().map_err(e)
}

fn decimal_f64(d: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(0.0)
}
