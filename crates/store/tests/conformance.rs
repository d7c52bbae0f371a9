//! The store's conformance suite: every storage behaviour, run on SQLite and on PostgreSQL.

use cairn_domain::filter::{Condition, Filter, ListQuery, Op, SortKey, TextMatch, Value};
use cairn_domain::identity::{NewGroup, NewRole, NewUser, UserPatch};
use cairn_domain::permission::Permission;
use cairn_domain::source::SourceType;
use cairn_domain::token::TokenSecret;
use cairn_domain::visibility::{Grant, VisibilityScope};
use cairn_domain::{StoreError, Timestamp, TlpColor};
use cairn_store::testing::{postgres_configured, TestDatabase};
use cairn_store::{Backend, Store, StoreOptions, TokenCheck};

macro_rules! conformance {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test]
            async fn sqlite() {
                super::$test(cairn_store::Backend::Sqlite).await;
            }
            #[tokio::test]
            async fn postgres() {
                if cairn_store::testing::postgres_configured() {
                    super::$test(cairn_store::Backend::Postgres).await;
                }
            }
        }
    )*};
}

conformance!(
    migrations_are_idempotent_and_safe_to_race,
    text_filters_mean_the_same_on_both_backends,
    time_filters_sort_and_pages,
    visibility_scopes_sources,
    unique_names_conflict_and_deletes_cascade,
    tokens_report_why_they_fail,
    principals_carry_grants_and_the_default_source,
    counts_switch_to_estimates_above_the_threshold,
    bootstrap_creates_one_administrator,
    deep_pages_match_shallow_ones,
);

async fn database(backend: Backend) -> TestDatabase {
    match backend {
        Backend::Sqlite => TestDatabase::sqlite(),
        Backend::Postgres => {
            assert!(postgres_configured());
            TestDatabase::postgres().await.unwrap()
        }
    }
}

async fn open(db: &TestDatabase, count_threshold: u64) -> Store {
    let store = Store::connect(
        &db.url,
        StoreOptions {
            count_threshold,
            max_connections: 4,
        },
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    store
}

fn name_is(m: TextMatch) -> ListQuery {
    ListQuery {
        filter: Filter(vec![Condition {
            field: "name",
            op: Op::Eq,
            values: vec![Value::Text(m)],
        }]),
        ..ListQuery::default()
    }
}

async fn names(store: &Store, scope: &VisibilityScope, query: &ListQuery) -> Vec<String> {
    let mut names: Vec<String> = store
        .list_sources(scope, query)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|s| s.name)
        .collect();
    names.sort();
    names
}

async fn migrations_are_idempotent_and_safe_to_race(backend: Backend) {
    let db = database(backend).await;
    let (a, b) = (
        Store::connect(&db.url, StoreOptions::default()).await.unwrap(),
        Store::connect(&db.url, StoreOptions::default()).await.unwrap(),
    );
    assert!(!a.is_ready().await, "an empty database is not ready");
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    assert_eq!(
        ra.unwrap() + rb.unwrap(),
        cairn_store::known_migrations(),
        "each migration ran exactly once"
    );
    assert_eq!(a.migrate().await.unwrap(), 0);
    assert_eq!(a.pending_migrations().await.unwrap(), 0);
    assert!(a.is_ready().await && b.is_ready().await);
    let all = a
        .list_permissions(&ListQuery {
            limit: 1000,
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        all.total as usize,
        Permission::all().count(),
        "the catalogue is complete, once"
    );
}

async fn text_filters_mean_the_same_on_both_backends(backend: Backend) {
    let db = database(backend).await;
    let store = open(&db, 10_000).await;
    for name in [
        "Testing Group",
        "testing",
        "100%_done",
        "1000 done",
        "under_score",
        "underXscore",
        "back\\slash",
    ] {
        store.create_source(name, SourceType::Enricher).await.unwrap();
    }
    let all = VisibilityScope::Everything;
    let cases: Vec<(TextMatch, Vec<&str>)> = vec![
        (TextMatch::Exact("testing".into()), vec!["testing"]),
        (TextMatch::Exact("Testing".into()), vec![]),
        (TextMatch::Contains("TESTING".into()), vec!["Testing Group", "testing"]),
        (TextMatch::Contains("%_".into()), vec!["100%_done"]),
        (TextMatch::Contains("r_s".into()), vec!["under_score"]),
        (TextMatch::Contains("\\".into()), vec!["back\\slash"]),
        (TextMatch::Wildcard("test*".into()), vec!["Testing Group", "testing"]),
        (TextMatch::Wildcard("*done".into()), vec!["100%_done", "1000 done"]),
        (TextMatch::Wildcard("100*".into()), vec!["100%_done", "1000 done"]),
        (TextMatch::Wildcard("under_score".into()), vec!["under_score"]),
    ];
    for (m, expected) in cases {
        assert_eq!(names(&store, &all, &name_is(m.clone())).await, expected, "{m:?}");
    }
    let mut not = name_is(TextMatch::Contains("done".into()));
    not.filter.0[0].op = Op::Ne;
    assert_eq!(names(&store, &all, &not).await.len(), 5);
    let mut either = name_is(TextMatch::Exact("testing".into()));
    either.filter.0[0]
        .values
        .push(Value::Text(TextMatch::Exact("1000 done".into())));
    assert_eq!(names(&store, &all, &either).await, ["1000 done", "testing"]);
}

async fn time_filters_sort_and_pages(backend: Backend) {
    let db = database(backend).await;
    let store = open(&db, 10_000).await;
    let mut created = Vec::new();
    for name in ["c", "a", "b"] {
        created.push(store.create_source(name, SourceType::User).await.unwrap());
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let all = VisibilityScope::Everything;
    let default = store.list_sources(&all, &ListQuery::default()).await.unwrap();
    assert_eq!(
        default.items.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["b", "a", "c"],
        "newest first"
    );
    let by_name = ListQuery {
        sort: vec![SortKey {
            field: "name",
            descending: false,
        }],
        limit: 2,
        offset: 1,
        ..ListQuery::default()
    };
    let page = store.list_sources(&all, &by_name).await.unwrap();
    assert_eq!(
        (
            page.items.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            page.total
        ),
        (vec!["b", "c"], 3)
    );
    let after = ListQuery {
        filter: Filter(vec![Condition {
            field: "created_at",
            op: Op::Gt,
            values: vec![Value::Time(created[0].created_at)],
        }]),
        ..ListQuery::default()
    };
    assert_eq!(names(&store, &all, &after).await, ["a", "b"]);
    let at_most = ListQuery {
        filter: Filter(vec![Condition {
            field: "created_at",
            op: Op::Le,
            values: vec![Value::Time(created[1].created_at)],
        }]),
        ..ListQuery::default()
    };
    assert_eq!(names(&store, &all, &at_most).await, ["a", "c"]);
    let counted = store
        .list_sources(
            &all,
            &ListQuery {
                count_only: true,
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((counted.items.len(), counted.total), (0, 3));
}

async fn visibility_scopes_sources(backend: Backend) {
    let db = database(backend).await;
    let store = open(&db, 10_000).await;
    let a = store.create_source("a", SourceType::Group).await.unwrap();
    let b = store.create_source("b", SourceType::Group).await.unwrap();
    let only_a = VisibilityScope::Grants(vec![Grant {
        sources: vec![a.id],
        max_tlp: TlpColor::Red,
    }]);
    assert_eq!(names(&store, &only_a, &ListQuery::default()).await, ["a"]);
    assert!(matches!(
        store.get_source(&only_a, b.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.get_source(&only_a, a.id).await.unwrap().name, "a");
    let nothing = VisibilityScope::Grants(vec![]);
    assert_eq!(
        store.list_sources(&nothing, &ListQuery::default()).await.unwrap().total,
        0
    );
    assert_eq!(
        store
            .list_sources(&VisibilityScope::Everything, &ListQuery::default())
            .await
            .unwrap()
            .total,
        2
    );
}

async fn unique_names_conflict_and_deletes_cascade(backend: Backend) {
    let db = database(backend).await;
    let store = open(&db, 10_000).await;
    let group = NewGroup {
        name: "Team".into(),
        allowed_sources: vec![],
        max_tlp: TlpColor::Amber,
    };
    let team = store.create_group(&group).await.unwrap();
    let sources_before = store
        .list_sources(&VisibilityScope::Everything, &ListQuery::default())
        .await
        .unwrap()
        .total;
    match store.create_group(&group).await {
        Err(StoreError::Conflict(detail)) => assert!(detail.contains("'Team'"), "{detail}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let sources_after = store
        .list_sources(&VisibilityScope::Everything, &ListQuery::default())
        .await
        .unwrap()
        .total;
    assert_eq!(sources_before, sources_after, "the failed group left no source behind");

    let role = store
        .create_role(&NewRole {
            name: "R".into(),
            description: None,
            permissions: [Permission::read("sources")].into(),
        })
        .await
        .unwrap();
    let user = store
        .create_user(&NewUser {
            username: "u".into(),
            email: None,
            is_admin: false,
            groups: vec![team.id],
            roles: vec![role.id],
        })
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_user(&NewUser {
                username: "u".into(),
                email: None,
                is_admin: false,
                groups: vec![],
                roles: vec![]
            })
            .await,
        Err(StoreError::Conflict(_))
    ));
    let secret = TokenSecret::generate();
    store.create_token(user.id, "t", &secret.hash(), None).await.unwrap();

    store.delete_group(team.id).await.unwrap();
    store.delete_role(role.id).await.unwrap();
    let user = store.get_user(user.id).await.unwrap();
    assert!(
        user.groups.is_empty() && user.roles.is_empty(),
        "memberships go with the group and the role"
    );
    store.delete_user(user.id).await.unwrap();
    assert!(matches!(
        store.check_token(&secret.hash()).await.unwrap(),
        TokenCheck::Unknown
    ));
    assert!(matches!(store.delete_user(user.id).await, Err(StoreError::NotFound(_))));
}

async fn tokens_report_why_they_fail(backend: Backend) {
    let db = database(backend).await;
    let store = open(&db, 10_000).await;
    let user = store
        .create_user(&NewUser {
            username: "u".into(),
            email: None,
            is_admin: false,
            groups: vec![],
            roles: vec![],
        })
        .await
        .unwrap();
    let (valid, expired, revoked) = (
        TokenSecret::generate(),
        TokenSecret::generate(),
        TokenSecret::generate(),
    );
    store
        .create_token(user.id, "valid", &valid.hash(), Some(Timestamp::now().plus_days(1)))
        .await
        .unwrap();
    store
        .create_token(
            user.id,
            "expired",
            &expired.hash(),
            Some(Timestamp::now().plus_days(-1)),
        )
        .await
        .unwrap();
    let r = store
        .create_token(user.id, "revoked", &revoked.hash(), None)
        .await
        .unwrap();
    store.revoke_token(user.id, r.id).await.unwrap();
    assert!(matches!(
        store.revoke_token(user.id + 1, r.id).await,
        Err(StoreError::NotFound(_))
    ));

    assert!(matches!(
        store.check_token(&valid.hash()).await.unwrap(),
        TokenCheck::Valid { .. }
    ));
    assert!(matches!(
        store.check_token(&expired.hash()).await.unwrap(),
        TokenCheck::Expired
    ));
    assert!(matches!(
        store.check_token(&revoked.hash()).await.unwrap(),
        TokenCheck::Revoked
    ));
    assert!(matches!(
        store.check_token(&TokenSecret::generate().hash()).await.unwrap(),
        TokenCheck::Unknown
    ));
    let listed = store.list_tokens(user.id).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(
        listed
            .iter()
            .find(|t| t.name == "valid")
            .unwrap()
            .last_used_at
            .is_some(),
        "use is recorded"
    );

    store
        .patch_user(
            user.id,
            &UserPatch {
                is_active: Some(false),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        store.check_token(&valid.hash()).await.unwrap(),
        TokenCheck::Inactive
    ));
}

async fn principals_carry_grants_and_the_default_source(backend: Backend) {
    let db = database(backend).await;
    let store = open(&db, 10_000).await;
    let feed = store.create_source("feed", SourceType::IncomingFeed).await.unwrap();
    let first = store
        .create_group(&NewGroup {
            name: "first".into(),
            allowed_sources: vec![feed.id],
            max_tlp: TlpColor::Green,
        })
        .await
        .unwrap();
    let second = store
        .create_group(&NewGroup {
            name: "second".into(),
            allowed_sources: vec![],
            max_tlp: TlpColor::Red,
        })
        .await
        .unwrap();
    let role = store
        .create_role(&NewRole {
            name: "r".into(),
            description: None,
            permissions: [Permission::read("sources"), Permission::read("entities")].into(),
        })
        .await
        .unwrap();
    let user = store
        .create_user(&NewUser {
            username: "u".into(),
            email: None,
            is_admin: false,
            groups: vec![second.id, first.id],
            roles: vec![role.id],
        })
        .await
        .unwrap();
    assert_eq!(user.groups, vec![second.id, first.id], "membership order is kept");
    let principal = store.principal(&user).await.unwrap();
    assert_eq!(principal.default_source, Some(second.source));
    assert_eq!(principal.permissions.len(), 2);
    assert!(principal.scope.admits(&[feed.id], Some(TlpColor::Green)));
    assert!(
        !principal.scope.admits(&[feed.id], Some(TlpColor::Amber)),
        "the feed comes with the first group's GREEN limit"
    );
    assert!(principal.scope.admits(&[second.source], Some(TlpColor::Red)));
    let users = store.permissions_of_users(&[user.id]).await.unwrap();
    assert_eq!(users.len(), 2);
}

async fn counts_switch_to_estimates_above_the_threshold(backend: Backend) {
    let db = database(backend).await;
    let store = open(&db, 5).await;
    for i in 0..12 {
        store.create_source(&format!("s{i}"), SourceType::User).await.unwrap();
    }
    let all = store
        .list_sources(
            &VisibilityScope::Everything,
            &ListQuery {
                limit: 3,
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.items.len(), 3);
    match backend {
        Backend::Postgres => {
            assert!(all.total_is_estimate);
            assert!(
                all.total > 5,
                "an estimate is never below the threshold it passed: {}",
                all.total
            );
        }
        Backend::Sqlite => assert_eq!((all.total, all.total_is_estimate), (12, false)),
    }
    let few = store
        .list_sources(&VisibilityScope::Everything, &name_is(TextMatch::Exact("s1".into())))
        .await
        .unwrap();
    assert_eq!((few.total, few.total_is_estimate), (1, false));
}

async fn bootstrap_creates_one_administrator(backend: Backend) {
    let db = database(backend).await;
    let (a, b) = (open(&db, 10).await, open(&db, 10).await);
    let (first, second) = tokio::join!(a.bootstrap(None), b.bootstrap(None));
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(
        u8::from(first.admin_created) + u8::from(second.admin_created),
        1,
        "one start creates the administrator"
    );
    assert_eq!(first.admin.id, second.admin.id);
    let again = a.bootstrap(None).await.unwrap();
    assert!(!again.admin_created);
    assert!(matches!(again.token, cairn_store::AdminToken::Unchanged));
    let configured = TokenSecret::generate();
    a.bootstrap(Some(&configured)).await.unwrap();
    a.bootstrap(Some(&configured)).await.unwrap();
    assert_eq!(
        a.list_tokens(again.admin.id).await.unwrap().len(),
        2,
        "the generated token and the configured one, once"
    );
    assert!(
        matches!(a.check_token(&configured.hash()).await.unwrap(), TokenCheck::Valid { principal: p, .. } if p.is_admin)
    );
}

async fn deep_pages_match_shallow_ones(backend: Backend) {
    use cairn_store::testing::RawValue;
    let db = database(backend).await;
    let store = open(&db, 10_000).await;
    // 1,050 sources; updates in 50 distinct instants, so the default order needs its tiebreaker.
    let rows = (0..1050)
        .map(|i: i64| {
            vec![
                RawValue::Text(uuid::Uuid::new_v4().to_string()),
                RawValue::Text(format!("source {:04}", (i * 7919) % 1050)),
                RawValue::Text("enricher".into()),
                RawValue::NullText,
                RawValue::Int(i),
                RawValue::Int(1_000_000 + i % 50),
            ]
        })
        .collect();
    store
        .load_rows(vec![(
            "sources",
            &[
                "id",
                "name",
                "source_type",
                "reliability",
                "created_at",
                "last_updated_at",
            ],
            rows,
        )])
        .await
        .unwrap();
    let all = VisibilityScope::Everything;
    for sort in [
        vec![SortKey {
            field: "name",
            descending: false,
        }],
        vec![SortKey {
            field: "name",
            descending: true,
        }],
        vec![],
    ] {
        let page = |offset: u64, limit: u32| ListQuery {
            sort: sort.clone(),
            offset,
            limit,
            ..ListQuery::default()
        };
        let shallow = store.list_sources(&all, &page(990, 30)).await.unwrap();
        let deep = store.list_sources(&all, &page(1000, 20)).await.unwrap();
        let ids = |p: &cairn_domain::filter::ListPage<cairn_domain::source::Source>| {
            p.items.iter().map(|s| s.id).collect::<Vec<_>>()
        };
        assert_eq!(ids(&deep), ids(&shallow)[10..30].to_vec(), "{sort:?}");
        assert_eq!(deep.total, 1050);
        let last = store.list_sources(&all, &page(1040, 100)).await.unwrap();
        assert_eq!(
            (last.items.len(), last.total),
            (10, 1050),
            "a short deep page still knows the total"
        );
    }
}
