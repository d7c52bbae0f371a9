//! Observables (spec §4): normalization, lookup, bulk upsert, visibility.

use crate::helpers::{Backend, Settings, TestApp};
use crate::on_both_backends;
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(
    values_are_normalized_per_type,
    invalid_values_are_400_with_what_is_wrong,
    lookup_by_value_type_and_links,
    maliciousness_is_changed_and_observables_deleted,
    group_b_cannot_learn_of_group_a_observables,
    totals_above_the_threshold_are_estimated,
);

async fn put(app: &TestApp, token: &str, items: Value) -> crate::helpers::Answer {
    app.send(
        Method::PUT,
        "/api/v2/observables",
        Some(token),
        Some(json!({"data": items})),
    )
    .await
}

async fn values_are_normalized_per_type(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases: &[(&str, &str, &str)] = &[
        ("ipv4", " 192.168.0.1 ", "192.168.0.1"),
        ("ipv4", "10.0.0.255", "10.0.0.255"),
        ("ipv4", "8.8.8.8\n", "8.8.8.8"),
        ("ipv4", "0.0.0.0", "0.0.0.0"),
        ("ipv4", "255.255.255.255", "255.255.255.255"),
        ("ipv6", "2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("ipv6", "FE80::0202:B3FF:FE1E:8329", "fe80::202:b3ff:fe1e:8329"),
        ("ipv6", "::1", "::1"),
        ("ipv6", "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("ipv6", "::ffff:192.0.2.128", "::ffff:192.0.2.128"),
        ("ipv4-cidr", "10.1.2.3/8", "10.0.0.0/8"),
        ("ipv4-cidr", "192.168.1.77/24", "192.168.1.0/24"),
        ("ipv4-cidr", "8.8.8.8/32", "8.8.8.8/32"),
        ("ipv4-cidr", "172.16.5.4/12", "172.16.0.0/12"),
        ("ipv4-cidr", "1.2.3.4/0", "0.0.0.0/0"),
        ("ipv6-cidr", "2001:DB8::1/32", "2001:db8::/32"),
        ("ipv6-cidr", "fe80::1:2/64", "fe80::/64"),
        ("ipv6-cidr", "2001:db8:abcd:12::1/48", "2001:db8:abcd::/48"),
        ("ipv6-cidr", "::1/128", "::1/128"),
        ("ipv6-cidr", "2001:db8::ff/120", "2001:db8::/120"),
        ("domain", "Example.COM.", "example.com"),
        ("domain", "WWW.Evil-Site.org", "www.evil-site.org"),
        ("domain", " sub.domain.example.net ", "sub.domain.example.net"),
        ("domain", "_dmarc.example.com", "_dmarc.example.com"),
        ("domain", "xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("host", "MAIL.Example.com.", "mail.example.com"),
        ("email", "John.Doe@Example.COM", "John.Doe@example.com"),
        ("email", " alerts@SOC.example.org ", "alerts@soc.example.org"),
        ("email", "a+b@EXAMPLE.io", "a+b@example.io"),
        ("email", "x@sub.Example.net.", "x@sub.example.net"),
        ("email", "CEO@corp.example", "CEO@corp.example"),
        (
            "hash-md5",
            "D41D8CD98F00B204E9800998ECF8427E",
            "d41d8cd98f00b204e9800998ecf8427e",
        ),
        (
            "hash-sha1",
            "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ),
        ("hash-sha256", &"AB".repeat(32), &"ab".repeat(32)),
        ("hash-sha512", &"Cd".repeat(64), &"cd".repeat(64)),
        ("hash-sha224", &"0F".repeat(28), &"0f".repeat(28)),
        ("port", "443", "443"),
        ("port", "0080", "80"),
        ("port", "0", "0"),
        ("port", "65535", "65535"),
        ("port", " 22 ", "22"),
        ("asn", "AS64512", "64512"),
        ("cve", "cve-2021-44228", "CVE-2021-44228"),
        ("mac-48", "00-1A-2B-3C-4D-5E", "00:1a:2b:3c:4d:5e"),
        ("uri", " http://Example.com/Path?q=1 ", "http://Example.com/Path?q=1"),
    ];
    let items: Vec<Value> = cases
        .iter()
        .map(|(kind, value, _)| json!({"type": kind, "value": value}))
        .collect();
    let answer = put(&app, &app.admin, json!(items)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    for ((kind, given, expected), stored) in cases.iter().zip(answer.data().as_array().unwrap()) {
        assert_eq!(
            (stored["type"].as_str(), stored["value"].as_str()),
            (Some(*kind), Some(*expected)),
            "{kind} {given:?}"
        );
        assert_eq!(stored["meta"]["maliciousness"], "unknown");
    }
    // One observable per (type, normalized value): other spellings find the same one.
    let again = put(
        &app,
        &app.admin,
        json!([{"type": "domain", "value": "EXAMPLE.com"}, {"type": "ipv6", "value": "2001:db8:0::1"}]),
    )
    .await;
    assert_eq!(again.data()[0]["id"], answer.data()[20]["id"]);
    assert_eq!(again.data()[1]["id"], answer.data()[5]["id"]);
    let total = app.get("/api/v2/observables?data=false", &app.admin).await;
    assert_eq!(total.body["total_count"], cases.len());
}

async fn invalid_values_are_400_with_what_is_wrong(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases: &[(&str, &str, &str)] = &[
        ("ipv4", "256.1.1.1", "not an IPv4 address"),
        ("ipv4", "1.2.3", "not an IPv4 address"),
        ("ipv4", "01.2.3.4", "not an IPv4 address"),
        ("ipv4", "1.2.3.4/24", "not an IPv4 address"),
        ("ipv4", "example.com", "not an IPv4 address"),
        ("ipv6", "2001:db8::g", "not an IPv6 address"),
        ("ipv6", "1:2:3:4:5:6:7:8:9", "not an IPv6 address"),
        ("ipv4-cidr", "10.0.0.0/33", "prefix length too long"),
        ("ipv4-cidr", "10.0.0.0", "no /prefix length"),
        ("ipv4-cidr", "10.0.0/8", "bad address"),
        ("ipv6-cidr", "::/129", "prefix length too long"),
        ("ipv6-cidr", "::/x", "bad prefix length"),
        ("domain", "exa mple.com", "not a domain name"),
        ("domain", "-bad.example", "not a domain name"),
        ("domain", "a..b", "not a domain name"),
        ("domain", "http://example.com", "not a domain name"),
        ("domain", &format!("{}.com", "a".repeat(64)), "not a domain name"),
        ("email", "nobody", "no @"),
        ("email", "@example.com", "not an email address"),
        ("email", "a b@example.com", "not an email address"),
        ("email", "x@exa mple.com", "bad domain"),
        ("email", "x@", "bad domain"),
        (
            "hash-md5",
            "d41d8cd98f00b204e9800998ecf8427",
            "32 hexadecimal characters",
        ),
        (
            "hash-sha1",
            "d41d8cd98f00b204e9800998ecf8427e",
            "40 hexadecimal characters",
        ),
        ("hash-sha256", &"g".repeat(64), "64 hexadecimal characters"),
        ("hash-sha512", "abc", "128 hexadecimal characters"),
        (
            "hash-md5",
            "d41d8cd98f00b204e9800998ecf8427e0",
            "32 hexadecimal characters",
        ),
        ("port", "65536", "0 to 65535"),
        ("port", "-1", "0 to 65535"),
        ("port", "http", "0 to 65535"),
        ("port", "80.5", "0 to 65535"),
        ("port", "", "cannot be empty"),
        ("ipv4", "1.2.3.4\u{0}", "control characters"),
        ("nonsense", "x", "not an observable type"),
    ];
    for (kind, value, says) in cases {
        let answer = app
            .post(
                "/api/v2/observables",
                &app.admin,
                json!({"data": {"type": kind, "value": value}}),
            )
            .await;
        assert_eq!(answer.status, 400, "{kind} {value:?}: {}", answer.body);
        assert!(
            answer.detail(0).contains(says),
            "{kind} {value:?}: {}",
            answer.detail(0)
        );
        let pointer = if *kind == "nonsense" {
            "/data/type"
        } else {
            "/data/value"
        };
        assert_eq!(answer.source(0), pointer);
    }
    let bulk = put(
        &app,
        &app.admin,
        json!([{"type": "ipv4", "value": "1.1.1.1"}, {"type": "port", "value": "99999"}, {"type": "ipv4"}]),
    )
    .await;
    assert_eq!(bulk.status, 400);
    assert_eq!(bulk.sources(), vec!["/data/1/value", "/data/2/value"]);
    for (body, pointer) in [
        (
            json!({"data": {"type": "ipv4", "value": "1.1.1.1", "meta": {"maliciousness": "evil"}}}),
            "/data/meta/maliciousness",
        ),
        (
            json!({"data": {"type": "ipv4", "value": "1.1.1.1", "colour": "red"}}),
            "/data/colour",
        ),
        (
            json!({"data": {"type": "ipv4", "value": "1.1.1.1", "sources": [uuid::Uuid::new_v4().to_string()]}}),
            "/data/sources/0",
        ),
    ] {
        let answer = app.post("/api/v2/observables", &app.admin, body.clone()).await;
        assert_eq!((answer.status, answer.source(0)), (400, pointer), "{body}");
    }
    for (query, parameter) in [
        ("filter[entities]=1111", "filter[entities]"),
        ("filter[type]=ip", "filter[type]"),
        ("filter[meta.maliciousness]=evil", "filter[meta.maliciousness]"),
    ] {
        let answer = app.get(&format!("/api/v2/observables?{query}"), &app.admin).await;
        assert_eq!((answer.status, answer.source(0)), (400, parameter), "{query}");
    }
    assert_eq!(
        app.get("/api/v2/observables?data=false", &app.admin).await.body["total_count"],
        0,
        "nothing was stored"
    );
}

async fn lookup_by_value_type_and_links(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let entity = app
        .post("/api/v2/entities", &app.admin, json!({"data": {"data": {"type": "indicator", "title": "C2", "extracts": [
            {"kind": "domain", "value": "evil.example", "maliciousness": "high"}, {"kind": "ipv4", "value": "203.0.113.7"}]}}}))
        .await
        .data()
        .clone();
    let items: Vec<Value> = (0..600)
        .map(|i| json!({"type": "ipv4", "value": format!("10.{}.{}.1", i / 256, i % 256)}))
        .collect();
    assert_eq!(put(&app, &app.admin, json!(items)).await.status, 200);

    // 500 repeated values in one query string, over 8 KiB: each is one exact lookup.
    let query: Vec<String> = (0..500)
        .map(|i| format!("filter[value]=10.{}.{}.1", i / 256, i % 256))
        .collect();
    let query = query.join("&");
    assert!(query.len() > 8 * 1024);
    let many = app
        .get(&format!("/api/v2/observables?{query}&data=false"), &app.admin)
        .await;
    assert_eq!((many.status, many.body["total_count"].as_u64()), (200, Some(500)));

    let found = app
        .get("/api/v2/observables?filter[value]=EVIL.example.", &app.admin)
        .await;
    assert_eq!(found.body["total_count"], 1, "looked up as any type would normalize it");
    let o = found.data()[0].clone();
    assert_eq!(
        (
            o["type"].as_str(),
            o["value"].as_str(),
            o["meta"]["maliciousness"].as_str()
        ),
        (Some("domain"), Some("evil.example"), Some("high"))
    );
    assert_eq!(
        o["entities"],
        json!([format!(
            "{}/api/v2/entities/{}",
            app.base,
            entity["id"].as_str().unwrap()
        )])
    );
    assert_eq!(
        o["sources"], entity["sources"],
        "an extract carries its entity's sources"
    );
    let by_id = app.get(&format!("/api/v2/observables/{}", o["id"]), &app.admin).await;
    assert_eq!(by_id.data()["value"], "evil.example");

    let cases = [
        ("filter[value]=evil.example&filter[value]=203.0.113.7", 2),
        ("filter[value]=evil.example&filter[type]=ipv4", 0),
        ("filter[type]=domain", 1),
        ("filter[meta.maliciousness]=high", 1),
        ("filter[!meta.maliciousness]=high&data=false", 601),
        (
            &format!("filter[entities]={}", entity["id"].as_str().unwrap()) as &str,
            2,
        ),
        ("filter[value]=10.0.0.1&filter[value]=nothing.example", 1),
        ("filter[>=created_at]=2000-01-01T00:00:00Z&data=false", 602),
        ("filter[<created_at]=2000-01-01T00:00:00Z", 0),
    ];
    for (query, expected) in cases {
        let answer = app.get(&format!("/api/v2/observables?{query}"), &app.admin).await;
        assert_eq!(answer.status, 200, "{query}: {}", answer.body);
        assert_eq!(answer.body["total_count"], expected, "{query}");
    }
    let source = TestApp::id_of(&entity["sources"][0]);
    let by_source = app
        .get(
            &format!("/api/v2/observables?filter[sources]={source}&data=false"),
            &app.admin,
        )
        .await;
    assert_eq!(by_source.body["total_count"], 602);
}

async fn maliciousness_is_changed_and_observables_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let entity = app
        .post("/api/v2/entities", &app.admin, json!({"data": {"data": {"type": "indicator", "title": "x", "extracts": [{"kind": "hash-md5", "value": "d41d8cd98f00b204e9800998ecf8427e"}]}}}))
        .await
        .data()
        .clone();
    let id = TestApp::id_of(&entity["observables"][0]);
    let patched = app
        .patch(
            &format!("/api/v2/observables/{id}"),
            &app.admin,
            json!({"data": {"meta": {"maliciousness": "medium"}}}),
        )
        .await;
    assert_eq!(
        (patched.status, patched.data()["meta"]["maliciousness"].as_str()),
        (200, Some("medium"))
    );
    let bad = app
        .patch(
            &format!("/api/v2/observables/{id}"),
            &app.admin,
            json!({"data": {"meta": {"maliciousness": "severe"}}}),
        )
        .await;
    assert_eq!((bad.status, bad.source(0)), (400, "/data/meta/maliciousness"));
    let value_change = app
        .patch(
            &format!("/api/v2/observables/{id}"),
            &app.admin,
            json!({"data": {"meta": {"maliciousness": "low"}, "kind": "x"}}),
        )
        .await;
    assert_eq!(value_change.status, 400);
    // A bulk upsert without maliciousness keeps it; with one, sets it.
    let kept = put(
        &app,
        &app.admin,
        json!([{"type": "hash-md5", "value": "D41D8CD98F00B204E9800998ECF8427E"}]),
    )
    .await;
    assert_eq!(kept.data()[0]["meta"]["maliciousness"], "medium");
    let set = put(
        &app,
        &app.admin,
        json!([{"type": "hash-md5", "value": "d41d8cd98f00b204e9800998ecf8427e", "meta": {"maliciousness": "safe"}}]),
    )
    .await;
    assert_eq!(set.data()[0]["meta"]["maliciousness"], "safe");

    let reader = app.user("reader", &["read extracts"], &[1]).await;
    assert_eq!(app.get(&format!("/api/v2/observables/{id}"), &reader).await.status, 200);
    assert_eq!(
        app.delete(&format!("/api/v2/observables/{id}"), &reader).await.status,
        403
    );
    let nobody = app.user("nobody", &["read entities"], &[1]).await;
    assert_eq!(app.get("/api/v2/observables", &nobody).await.status, 403);

    assert_eq!(
        app.delete(&format!("/api/v2/observables/{id}"), &app.admin)
            .await
            .status,
        204
    );
    assert_eq!(
        app.get(&format!("/api/v2/observables/{id}"), &app.admin).await.status,
        404
    );
    let entity_now = app
        .get(
            &format!("/api/v2/entities/{}", entity["id"].as_str().unwrap()),
            &app.admin,
        )
        .await;
    assert_eq!(entity_now.data()["observables"], json!([]), "the entity lost the link");
}

async fn group_b_cannot_learn_of_group_a_observables(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.group("A", &[], "RED").await;
    let b = app.group("B", &[], "AMBER").await;
    let rights = ["read extracts", "modify extracts", "read entities", "modify entities"];
    let alice = app.user("alice", &rights, &[a["id"].as_i64().unwrap()]).await;
    let bob = app.user("bob", &rights, &[b["id"].as_i64().unwrap()]).await;
    let secret = put(
        &app,
        &alice,
        json!([{"type": "ipv4", "value": "198.51.100.23", "meta": {"maliciousness": "high"}}]),
    )
    .await
    .data()[0]
        .clone();
    // An AMBER entity of Bob's mentions a value Alice also reported: Bob sees it through his entity,
    // but not Alice's source; a RED entity of Alice's stays hidden from him.
    app.post("/api/v2/entities", &bob, json!({"data": {"data": {"type": "indicator", "title": "shared", "extracts": [{"kind": "domain", "value": "shared.example"}]}, "meta": {"tlp_color": "AMBER"}}})).await;
    let alices_entity = app
        .post("/api/v2/entities", &alice, json!({"data": {"data": {"type": "indicator", "title": "alice's", "extracts": [{"kind": "domain", "value": "shared.example"}]}, "meta": {"tlp_color": "RED"}}}))
        .await
        .data()
        .clone();
    put(&app, &alice, json!([{"type": "domain", "value": "shared.example"}])).await;

    let id = secret["id"].as_i64().unwrap();
    for probe in [
        "/api/v2/observables?filter[value]=198.51.100.23".to_owned(),
        "/api/v2/observables?filter[value]=198.51.100.23&data=false".to_owned(),
        format!("/api/v2/observables?filter[id]={id}"),
        "/api/v2/observables?filter[meta.maliciousness]=high".to_owned(),
        format!("/api/v2/observables?filter[sources]={}", TestApp::id_of(&a["source"])),
        format!(
            "/api/v2/observables?filter[entities]={}",
            alices_entity["id"].as_str().unwrap()
        ),
    ] {
        let answer = app.get(&probe, &bob).await;
        assert_eq!(
            (answer.status, answer.body["total_count"].as_u64()),
            (200, Some(0)),
            "{probe}"
        );
    }
    assert_eq!(app.get(&format!("/api/v2/observables/{id}"), &bob).await.status, 404);
    assert_eq!(
        app.patch(
            &format!("/api/v2/observables/{id}"),
            &bob,
            json!({"data": {"meta": {"maliciousness": "safe"}}})
        )
        .await
        .status,
        404
    );
    assert_eq!(app.delete(&format!("/api/v2/observables/{id}"), &bob).await.status, 404);
    let all = app.get("/api/v2/observables", &bob).await;
    assert_eq!(all.body["total_count"], 1);
    let shared = &all.data()[0];
    assert_eq!(shared["value"], "shared.example");
    assert_eq!(
        shared["entities"].as_array().unwrap().len(),
        1,
        "only Bob's entity shows"
    );
    assert_eq!(shared["sources"], json!([b["source"]]), "only Bob's source shows");
    assert_eq!(
        app.get(&format!("/api/v2/observables/{id}"), &alice).await.data()["meta"]["maliciousness"],
        "high"
    );
}

async fn totals_above_the_threshold_are_estimated(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        Settings {
            count_threshold: Some(50),
            ..Settings::default()
        },
    )
    .await;
    let items: Vec<Value> = (0..200)
        .map(|i| json!({"type": "port", "value": i.to_string()}))
        .collect();
    put(&app, &app.admin, json!(items)).await;
    let answer = app.get("/api/v2/observables?limit=10", &app.admin).await;
    let few = app
        .get("/api/v2/observables?filter[value]=80&filter[value]=150", &app.admin)
        .await;
    assert_eq!(
        (
            few.body["total_count"].as_u64(),
            few.body["total_count_is_estimate"].as_bool()
        ),
        (Some(2), Some(false))
    );
    match backend {
        Backend::Postgres => {
            assert_eq!(answer.body["total_count_is_estimate"], true);
            assert!(answer.body["total_count"].as_u64().unwrap() > 50);
        }
        Backend::Sqlite => assert_eq!(
            (
                answer.body["total_count"].as_u64(),
                answer.body["total_count_is_estimate"].as_bool()
            ),
            (Some(200), Some(false))
        ),
    }
}
