//! The units list as spreadsheets (as the reports do): CSV with a byte-order mark, XLSX.
use super::units::{UnitProgress, UnitsReport};
use crate::error::{AppError, AppResult};

const HEADINGS: [&str; 11] = [
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

fn cells(u: &UnitProgress) -> [String; 11] {
    let opt = |v: Option<String>| v.unwrap_or_default();
    [
        u.rank.to_string(),
        u.org_id.to_string(),
        u.name.clone(),
        u.kind.to_string(),
        u.region_code.clone(),
        opt(u.plan_status.map(|s| s.to_string())),
        opt(u.target.map(|t| t.to_string())),
        u.credited.to_string(),
        opt(u.progress.map(|p| p.to_string())),
        opt(u.expected_by_today.map(|t| t.to_string())),
        u.laggard_reasons
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    ]
}

pub fn units_csv(r: &UnitsReport) -> AppResult<Vec<u8>> {
    let mut buf: Vec<u8> = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut buf);
        w.write_record(HEADINGS).map_err(AppError::internal)?;
        for u in &r.units {
            w.write_record(cells(u)).map_err(AppError::internal)?;
        }
        w.flush().map_err(AppError::internal)?;
    }
    Ok(buf)
}

pub fn units_xlsx(r: &UnitsReport) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format as XFormat, Workbook};
    let e = AppError::internal;
    let mut wb = Workbook::new();
    let bold = XFormat::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("预算单位进度").map_err(e)?;
    for (c, h) in HEADINGS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(e)?;
    }
    for (i, u) in r.units.iter().enumerate() {
        for (c, v) in cells(u).iter().enumerate() {
            ws.write_string(i as u32 + 1, c as u16, v).map_err(e)?;
        }
    }
    wb.save_to_buffer().map_err(e)
}
