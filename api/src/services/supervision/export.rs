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

fn unit_cells(u: &UnitProgress) -> Vec<String> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    vec![
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

fn county_cells(c: &CountyFigures) -> Vec<String> {
    vec![
        c.region_code.clone(),
        c.name.clone(),
        c.poverty_status.to_string(),
        c.certified_products.to_string(),
        c.suppliers_active.to_string(),
        c.credited.to_string(),
        c.entries.to_string(),
        if c.no_certified_product { "是" } else { "否" }.to_string(),
    ]
}

fn csv_of(headings: &[&str], rows: impl Iterator<Item = Vec<String>>) -> AppResult<Vec<u8>> {
    let mut buf: Vec<u8> = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut buf);
        w.write_record(headings).map_err(AppError::internal)?;
        for r in rows {
            w.write_record(r).map_err(AppError::internal)?;
        }
        w.flush().map_err(AppError::internal)?;
    }
    Ok(buf)
}

fn xlsx_of(sheet: &str, headings: &[&str], rows: impl Iterator<Item = Vec<String>>) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format as XFormat, Workbook};
    let e = AppError::internal;
    let mut wb = Workbook::new();
    let bold = XFormat::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(e)?;
    for (c, h) in headings.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(e)?;
    }
    for (i, row) in rows.enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(i as u32 + 1, c as u16, v).map_err(e)?;
        }
    }
    wb.save_to_buffer().map_err(e)
}

pub fn units_csv(r: &UnitsReport) -> AppResult<Vec<u8>> {
    csv_of(&UNIT_HEADINGS, r.units.iter().map(unit_cells))
}

pub fn units_xlsx(r: &UnitsReport) -> AppResult<Vec<u8>> {
    xlsx_of("预算单位进度", &UNIT_HEADINGS, r.units.iter().map(unit_cells))
}

pub fn counties_csv(r: &CountiesPage) -> AppResult<Vec<u8>> {
    csv_of(&COUNTY_HEADINGS, r.items.iter().map(county_cells))
}

pub fn counties_xlsx(r: &CountiesPage) -> AppResult<Vec<u8>> {
    xlsx_of("贫困县", &COUNTY_HEADINGS, r.items.iter().map(county_cells))
}
