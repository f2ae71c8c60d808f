//! The XLSX summary read back, both through calamine and from the sheet XML: a title
//! row (report, year, grouping, scope, generated at), the header frozen under it,
//! columns as wide as their content (ids not cut), amounts as numbers in format
//! `0.00`, and a totals row equal to the sums of the rows and to the JSON totals.
use crate::credit::{append, make_pairing, this_year};
use crate::helpers::*;
use calamine::{Data, Reader, Xlsx};
use serde_json::{json, Value};
use std::io::Read;

/// The opening tags `<name ...>` of an XML text (what is between `<` and `>`).
fn tags<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name} ");
    xml.match_indices(&open)
        .map(|(i, _)| {
            let rest = &xml[i..];
            &rest[..rest.find('>').unwrap()]
        })
        .collect()
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    Some(tag[i..i + tag[i..].find('"')?].to_string())
}

fn part(zip: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str) -> String {
    let mut s = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

/// The display width the export gives a text: a CJK character counts two.
fn width(s: &str) -> f64 {
    s.chars().map(|c| if c.is_ascii() { 1.0 } else { 2.0 }).sum()
}

struct Sheet {
    rows: Vec<Vec<Data>>,
    /// 1-based column -> width.
    widths: Vec<(u32, f64)>,
    /// The frozen pane's `ySplit`.
    frozen_rows: Option<String>,
    /// Cell reference ("C3") -> number format code.
    formats: Vec<(String, String)>,
}

async fn sheets(app: &TestApp, path: &str) -> (Vec<(String, Sheet)>, Vec<u8>) {
    let r = app
        .client
        .get(app.url(path))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(body.clone())).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(body.clone())).unwrap();
    let styles = part(&mut zip, "xl/styles.xml");
    let xfs_at = styles.find("<cellXfs").unwrap();
    // Built-in 2 is `0.00`; custom formats are listed with their code.
    let mut codes: Vec<(String, String)> = vec![("0".into(), "General".into()), ("2".into(), "0.00".into())];
    for t in tags(&styles, "numFmt") {
        codes.push((attr(t, "numFmtId").unwrap(), attr(t, "formatCode").unwrap()));
    }
    let xfs: Vec<String> = tags(&styles[xfs_at..], "xf")
        .iter()
        .map(|t| {
            let id = attr(t, "numFmtId").unwrap();
            codes.iter().find(|c| c.0 == id).map_or(id, |c| c.1.clone())
        })
        .collect();
    let mut out = Vec::new();
    for (i, name) in wb.sheet_names().iter().enumerate() {
        let xml = part(&mut zip, &format!("xl/worksheets/sheet{}.xml", i + 1));
        let range = wb.worksheet_range(name).unwrap();
        let sheet = Sheet {
            rows: range.rows().map(|r| r.to_vec()).collect(),
            widths: tags(&xml, "col")
                .iter()
                .flat_map(|t| {
                    let (min, max): (u32, u32) = (
                        attr(t, "min").unwrap().parse().unwrap(),
                        attr(t, "max").unwrap().parse().unwrap(),
                    );
                    let w: f64 = attr(t, "width").unwrap().parse().unwrap();
                    (min..=max).map(move |c| (c, w))
                })
                .collect(),
            frozen_rows: tags(&xml, "pane")
                .first()
                .filter(|t| attr(t, "state").as_deref() == Some("frozen"))
                .and_then(|t| attr(t, "ySplit")),
            formats: tags(&xml, "c")
                .iter()
                .map(|t| {
                    let s: usize = attr(t, "s").map_or(0, |s| s.parse().unwrap());
                    (attr(t, "r").unwrap(), xfs[s].clone())
                })
                .collect(),
        };
        out.push((name.clone(), sheet));
    }
    (out, body)
}

impl Sheet {
    fn width(&self, col: u32) -> f64 {
        self.widths.iter().find(|(c, _)| *c == col).map_or(0.0, |w| w.1)
    }
    /// The number format code of a cell.
    fn format(&self, cell: &str) -> &str {
        self.formats
            .iter()
            .find(|(r, _)| r == cell)
            .map_or("General", |f| f.1.as_str())
    }
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => panic!("not text: {other:?}"),
    }
}

fn num(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        other => panic!("not a number: {other:?}"),
    }
}

#[tokio::test]
async fn xlsx_has_a_title_a_frozen_header_sized_columns_numbers_and_totals() {
    let app = spawn_app().await;
    let y = this_year();
    let buyer = app.create_org("government", CHANGAN).await;
    let other = app.create_org("army_unit", CHANGAN).await;
    let sup = app.create_org("cooperative", YANGYUAN).await;
    make_pairing(&app, &buyer.org_id, YANGYUAN, "east_west").await;
    app.put(
        &format!("/buyers/{}/quotas/{y}", buyer.org_id),
        Some(&app.admin_token),
        json!({"food_budget": "100000.00", "reserved_share": "0.3"}),
    )
    .await;
    let s = &sup.org_id;
    append(
        &app,
        &buyer.org_id,
        s,
        YANGYUAN,
        "deep_poverty",
        "purchase",
        123_456,
        None,
    )
    .await;
    append(
        &app,
        &buyer.org_id,
        s,
        PINGQUAN,
        "poverty",
        "helped_sale",
        1_000_001,
        None,
    )
    .await;
    append(&app, &other.org_id, s, CHANGAN, "none", "purchase", 99, None).await;

    for group in ["buyer", "pairing", "county"] {
        let base = format!("/reports/summary?year={y}&group_by={group}");
        let js: Value = app.get(&base, Some(&app.admin_token)).await.expect(200).json;
        let before = chrono::Utc::now() - chrono::Duration::seconds(5);
        let (sheets, _) = sheets(&app, &format!("{base}&format=xlsx")).await;
        let (name, sh) = &sheets[0];
        assert_eq!(name, "汇总");

        // The title row: report, year, grouping, scope, generated at.
        let title = text(&sh.rows[0][0]);
        assert!(title.starts_with("消费帮扶汇总表"), "{title}");
        assert!(title.contains(&format!("{y}年")), "{title}");
        assert!(title.contains(&format!("group_by={group}")), "{title}");
        assert!(title.contains("scope=all"), "{title}");
        let at = title.rsplit("generated at ").next().unwrap();
        let at = chrono::DateTime::parse_from_rfc3339(at).unwrap();
        assert!(
            at >= before && at <= chrono::Utc::now() + chrono::Duration::seconds(5),
            "{at}"
        );

        // The header under it, frozen with it.
        assert_eq!(text(&sh.rows[1][7]), "合计");
        assert_eq!(sh.frozen_rows.as_deref(), Some("2"), "{group}");

        // The rows, then the totals row.
        let want = js["rows"].as_array().unwrap();
        let body = &sh.rows[2..];
        assert_eq!(body.len(), want.len() + 1, "{group}");
        let totals = body.last().unwrap();
        assert_eq!(text(&totals[0]), "total");
        assert_eq!(text(&totals[1]), "合计");
        for (i, k) in ["purchase", "helped_sale", "poverty", "deep_poverty", "none", "total"]
            .iter()
            .enumerate()
        {
            let col = i + 2;
            // Money is a number with format 0.00 in every row, totals included.
            for r in 0..body.len() {
                let cell = format!("{}{}", (b'A' + col as u8) as char, r + 3);
                assert_eq!(sh.format(&cell), "0.00", "{group} {cell}");
            }
            let sum: f64 = body[..body.len() - 1].iter().map(|r| num(&r[col])).sum();
            assert_eq!(
                (sum * 100.0).round(),
                (num(&totals[col]) * 100.0).round(),
                "{group} {k}"
            );
            let json_total: f64 = js["totals"][k].as_str().unwrap().parse().unwrap();
            assert_eq!(num(&totals[col]), json_total, "{group} {k}");
        }
        assert_eq!(num(&totals[8]), 3.0);
        assert_eq!(num(&totals[7]), 11235.56);

        // Every column at least as wide as its widest text (ids are whole).
        for (c, _) in sh.rows[1].iter().enumerate() {
            let widest = sh.rows[1..]
                .iter()
                .map(|r| match &r[c] {
                    Data::String(s) => width(s),
                    Data::Float(f) => format!("{f:.2}").len() as f64,
                    _ => 0.0,
                })
                .fold(0.0, f64::max);
            let w = sh.width(c as u32 + 1);
            assert!(w >= widest, "{group}: column {c} is {w} wide for {widest}");
        }
        if group == "buyer" {
            assert!(sh.width(1) >= 36.0, "a uuid fits");
            // The ranking sheet has the same layout.
            let (name, rk) = &sheets[1];
            assert_eq!(name, "排名");
            assert!(text(&rk.rows[0][0]).starts_with("采购单位完成进度排名"));
            assert_eq!(text(&rk.rows[1][1]), "采购单位编号");
            assert_eq!(rk.frozen_rows.as_deref(), Some("2"));
            assert_eq!(text(&rk.rows[2][1]), buyer.org_id);
            assert!(rk.width(2) >= 36.0);
            assert_eq!(rk.format("D3"), "0.00");
            assert_eq!(rk.format("E3"), "0.00");
            let last = rk.rows.last().unwrap();
            assert_eq!(text(&last[2]), "合计");
            assert_eq!(num(&last[3]), num(&rk.rows[2][3]));
            // No credited total: a parent's credit already counts its children's.
            assert!(last.get(4).is_none_or(|c| text(c).is_empty()), "{last:?}");
        }
        if group == "pairing" {
            // The entries of no pairing have their row: empty key, labelled.
            let none = &body[body.len() - 2];
            assert_eq!(text(&none[0]), "");
            assert_eq!(text(&none[1]), "no pairing");
        }
    }
}
