//! A flags spreadsheet holds every matching flag or none: past 50,000 it is refused naming
//! `format`, never cut short without a word.
use crate::helpers::*;
use sea_orm::ConnectionTrait;

#[tokio::test]
async fn an_export_past_the_spreadsheet_limit_is_refused_not_cut_short() {
    let app = spawn_app().await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    // 50,001 dismissed flags with no parties, written in one statement.
    app.db()
        .execute_unprepared(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50001) \
             INSERT INTO flags (id, kind, evidence_key, evidence, year, state, raised_at) \
             SELECT 'f' || CAST(i AS TEXT), 'price_outlier', 'k' || CAST(i AS TEXT), '{}', 2026, 'dismissed', \
             '2026-01-01 00:00:00+00:00' FROM n",
        )
        .await
        .unwrap();
    for format in ["csv", "xlsx"] {
        let r = app.get(&format!("/flags?format={format}"), evaluator.t()).await;
        assert_eq!(r.fields(), vec!["format"], "{}", r.text);
        r.problem(400);
    }
    // Narrowed below the limit, it is whole.
    let r = app.get("/flags?format=csv&year=2025", evaluator.t()).await.expect(200);
    assert_eq!(r.text.lines().count(), 1, "the heading only");
}
