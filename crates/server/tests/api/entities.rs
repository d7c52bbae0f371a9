//! Entities (spec §3), taxonomies and tags (§6), and the release notes' rules about them.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;

on_both_backends!(
    each_bad_payload_is_400_with_its_pointer_and_stores_nothing,
    every_type_is_accepted_with_its_stix_properties,
    post_get_by_either_id_and_409_on_a_taken_data_id,
    bulk_put_creates_updates_and_answers_in_input_order,
    bulk_put_of_1000_entities_with_extracts_is_all_or_nothing,
    patch_merges_data_and_meta_and_replaces_lists,
    delete_removes_the_entity_not_its_observables,
    meta_sources_and_relevancy,
    hidden_entities_are_404_everywhere,
    list_filters_and_sorts,
    taxonomies_form_a_tree_and_tags_are_counted,
    oasis_examples_round_trip,
);

/// A POST body for a new entity of a type with a title.
fn new_entity(kind: &str, title: &str) -> Value {
    json!({"data": {"data": {"type": kind, "title": title}}})
}

async fn count(app: &TestApp) -> u64 {
    app.get("/api/v2/entities?data=false", &app.admin).await.body["total_count"]
        .as_u64()
        .unwrap()
}

async fn each_bad_payload_is_400_with_its_pointer_and_stores_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"data": {"data": {"type": "indicator"}}}),
            "/data/data/title",
            "title is required",
        ),
        (
            json!({"data": {"data": {"title": "x"}}}),
            "/data/data/type",
            "type is required",
        ),
        (
            json!({"data": {"type": "indicator", "data": {"title": "Entity Old"}, "meta": {}}}),
            "/data/type",
            "now lives inside data",
        ),
        (
            json!({"data": {"data": {"type": "threat-actor", "title": "APT", "intended_effects": ["Theft"]}}}),
            "/data/data/intended_effects",
            "old threat-actor schema",
        ),
        (
            json!({"data": {"data": {"type": "identity", "title": "ACME", "identity_class": "company"}}}),
            "/data/data/identity_class",
            "not one of individual",
        ),
        (
            json!({"data": {"data": {"type": "location", "title": "x", "region": "atlantis"}}}),
            "/data/data/region",
            "not one of",
        ),
        (
            json!({"data": {"data": {"type": "malware-analysis", "title": "x", "product": "av", "result": "evil"}}}),
            "/data/data/result",
            "not one of",
        ),
        (
            json!({"data": {"data": {"type": "malware", "title": "x", "colour": "red"}}}),
            "/data/data/colour",
            "not a property of malware",
        ),
        (
            json!({"data": {"data": {"type": "malware", "title": "x", "name": "x"}}}),
            "/data/data/name",
            "carried as data.title",
        ),
        (
            json!({"data": {"data": {"type": "indicator", "title": "x", "confidence": "Very High"}}}),
            "/data/data/confidence",
            "not a confidence",
        ),
        (
            json!({"data": {"data": {"type": "indicator", "title": "x", "confidence": 101}}}),
            "/data/data/confidence",
            "not a confidence",
        ),
        (
            json!({"data": {"data": {"type": "malware", "title": "x", "is_family": "yes"}}}),
            "/data/data/is_family",
            "true or false",
        ),
        (
            json!({"data": {"data": {"type": "indicator", "title": "x", "valid_from": "yesterday"}}}),
            "/data/data/valid_from",
            "RFC 3339",
        ),
        (
            json!({"data": {"data": {"type": "indicator", "title": "x", "id": "malware--591f0cb7-d66f-4e14-a8e6-5927b597f920"}}}),
            "/data/data/id",
            "names a malware",
        ),
        (
            json!({"data": {"data": {"type": "indicator", "title": "x", "extracts": [{"kind": "ipv4", "value": "300.1.1.1"}]}}}),
            "/data/data/extracts/0/value",
            "not an IPv4",
        ),
        (
            json!({"data": {"data": {"type": "indicator", "title": "x"}, "meta": {"tlp_color": "amber"}}}),
            "/data/meta/tlp_color",
            "not a TLP colour",
        ),
        (
            json!({"data": {"data": {"type": "indicator", "title": "x"}, "meta": {"half_life": -3}}}),
            "/data/meta/half_life",
            "half_life",
        ),
        (
            json!({"data": {"data": {"type": "indicator", "title": "x"}, "sources": ["nope"]}}),
            "/data/sources/0",
            "not a source id",
        ),
        (
            json!({"data": {"data": {"type": "indicator", "title": "x"}, "sources": [uuid::Uuid::new_v4().to_string()]}}),
            "/data/sources/0",
            "does not exist",
        ),
        (
            json!({"data": {"data": {"type": "indicator", "title": "x"}, "meta": {"taxonomies": [999]}}}),
            "/data/meta/taxonomies/0",
            "taxonomy 999 does not exist",
        ),
        (
            json!({"data": {"data": {"type": "indicator", "title": "x"}, "colour": 1}}),
            "/data/colour",
            "not a property of an entity",
        ),
    ];
    for (body, pointer, says) in cases {
        let answer = app.post("/api/v2/entities", &app.admin, body.clone()).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.body);
        assert!(
            answer.sources().contains(&pointer.to_owned()),
            "{body}: {:?}",
            answer.sources()
        );
        let detail = answer.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["source"]["pointer"] == pointer)
            .unwrap()["detail"]
            .clone();
        assert!(detail.as_str().unwrap().contains(says), "{body}: {detail}");
    }
    // Every problem at once.
    let many = app
        .post(
            "/api/v2/entities",
            &app.admin,
            json!({"data": {"data": {"type": "malware", "colour": 1, "is_family": 3}}}),
        )
        .await;
    assert_eq!(many.sources().len(), 3, "{}", many.body);

    // A bulk item still wrapped in another data, the removed parameters, bad id filters.
    let wrapped = app
        .send(
            Method::PUT,
            "/api/v2/entities",
            Some(&app.admin),
            Some(json!({"data": [{"data": {"data": {"type": "indicator", "title": "x"}}}]})),
        )
        .await;
    assert_eq!((wrapped.status, wrapped.source(0)), (400, "/data/0/data/data"));
    assert!(wrapped.detail(0).contains("no longer wrapped"));
    for parameter in ["overwrite_tags", "overwrite_taxonomies"] {
        let answer = app
            .send(
                Method::PUT,
                &format!("/api/v2/entities?{parameter}=true"),
                Some(&app.admin),
                Some(json!({"data": []})),
            )
            .await;
        assert_eq!((answer.status, answer.source(0)), (400, parameter), "{}", answer.body);
        let post = app
            .send(
                Method::POST,
                &format!("/api/v2/entities?{parameter}=1"),
                Some(&app.admin),
                Some(new_entity("indicator", "x")),
            )
            .await;
        assert_eq!(post.status, 400);
    }
    for (query, parameter) in [
        ("filter[sources]=1111", "filter[sources]"),
        ("filter[observables]=abc", "filter[observables]"),
        ("filter[taxonomies]=x", "filter[taxonomies]"),
        ("filter[id]=1111", "filter[id]"),
        ("filter[type]=ioc", "filter[type]"),
        ("filter[meta.tlp_color]=PINK", "filter[meta.tlp_color]"),
        ("sort=colour", "sort"),
    ] {
        let answer = app.get(&format!("/api/v2/entities?{query}"), &app.admin).await;
        assert_eq!(
            (answer.status, answer.source(0)),
            (400, parameter),
            "{query}: {}",
            answer.body
        );
    }
    assert_eq!(count(&app).await, 0, "no bad request stored anything");
    let no_data = app
        .post("/api/v2/entities", &app.admin, json!({"type": "indicator"}))
        .await;
    assert_eq!(no_data.status, 400);
}

async fn every_type_is_accepted_with_its_stix_properties(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let extra = |kind: &str| match kind {
        "malware" => json!({"malware_types": ["ransomware"], "is_family": true, "capabilities": ["encrypts-files"],
            "architecture_execution_envs": ["x86"], "implementation_languages": ["c"], "first_seen": "2020-01-01T00:00:00Z"}),
        "location" => {
            json!({"region": "western-europe", "country": "NL", "city": "Amsterdam", "latitude": 52.37, "longitude": 4.89, "precision": 1000.0})
        }
        "identity" => {
            json!({"identity_class": "organization", "roles": ["vendor"], "sectors": ["technology"], "contact_information": "x"})
        }
        "malware-analysis" => {
            json!({"product": "sandbox", "result": "malicious", "analysis_started": "2024-01-01T00:00:00Z"})
        }
        "threat-actor" => {
            json!({"threat_actor_types": ["nation-state"], "aliases": ["Comment Crew"], "sophistication": "expert",
            "resource_level": "government", "primary_motivation": "organizational-gain", "personal_motivations": ["ideology"]})
        }
        "indicator" => {
            json!({"pattern": "[ipv4-addr:value = '10.0.0.1']", "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z",
            "types": [{"value": "IP Watchlist"}], "likely_impact": "High", "confidence": {"type": "confidence", "value": "High"}})
        }
        "report" => json!({"report_types": ["threat-report"], "published": "2024-01-01T00:00:00Z"}),
        "eclecticiq-sighting" => {
            json!({"security_control": {"type": "information-source"}, "impact": "Low", "count": 3})
        }
        "attack-pattern" => {
            json!({"kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}], "x_mitre_platforms": ["Windows"]})
        }
        _ => json!({}),
    };
    for kind in cairn_domain::entity::TYPES {
        let mut data = json!({"type": kind, "title": format!("A {kind}"), "description": "<p>About it</p>", "confidence": "medium"});
        for (k, v) in extra(kind).as_object().unwrap() {
            data[k] = v.clone();
        }
        let answer = app
            .post("/api/v2/entities", &app.admin, json!({"data": {"data": data}}))
            .await;
        assert_eq!(answer.status, 201, "{kind}: {}", answer.body);
        let stored = &answer.data()["data"];
        assert_eq!(stored["type"], kind);
        if extra(kind).get("confidence").is_none() {
            assert_eq!(
                stored["confidence"],
                json!({"type": "confidence", "value": "Medium"}),
                "stored normalized"
            );
        }
        assert!(
            stored["id"].as_str().unwrap().starts_with(&format!("{kind}--")),
            "{stored}"
        );
        for (k, v) in extra(kind).as_object().unwrap() {
            if k != "confidence" {
                assert_eq!(&stored[k], v, "{kind}.{k}");
            }
        }
    }
    let by_type = app
        .get(
            "/api/v2/entities?filter[data.type]=malware-analysis&data=false",
            &app.admin,
        )
        .await;
    assert_eq!(by_type.body["total_count"], 1);
    assert_eq!(count(&app).await, cairn_domain::entity::TYPES.len() as u64);
}

async fn post_get_by_either_id_and_409_on_a_taken_data_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let stix = "malware--591f0cb7-d66f-4e14-a8e6-5927b597f920";
    let created = app
        .post(
            "/api/v2/entities",
            &app.admin,
            json!({"data": {"data": {"type": "malware", "title": "Poison Ivy", "id": stix}}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.data()["id"].as_str().unwrap().to_owned();
    for key in [id.as_str(), stix] {
        let got = app.get(&format!("/api/v2/entities/{key}"), &app.admin).await;
        assert_eq!(
            (got.status, got.data()["id"].as_str()),
            (200, Some(id.as_str())),
            "{key}"
        );
    }
    let again = app
        .post(
            "/api/v2/entities",
            &app.admin,
            json!({"data": {"data": {"type": "malware", "title": "Other", "id": stix}}}),
        )
        .await;
    assert_eq!(again.status, 409);
    assert!(again.detail(0).contains(stix));
    assert_eq!(count(&app).await, 1);
    assert_eq!(
        app.get(
            "/api/v2/entities/malware--00000000-0000-4000-8000-000000000000",
            &app.admin
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.get(&format!("/api/v2/entities/{}", uuid::Uuid::new_v4()), &app.admin)
            .await
            .status,
        404
    );
}

async fn bulk_put_creates_updates_and_answers_in_input_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app
        .post("/api/v2/entities", &app.admin, new_entity("indicator", "first"))
        .await
        .data()
        .clone();
    let stix = "tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    let second = app
        .post(
            "/api/v2/entities",
            &app.admin,
            json!({"data": {"data": {"type": "tool", "title": "second", "id": stix}}}),
        )
        .await
        .data()
        .clone();
    let body = json!({"data": [
        {"data": {"type": "campaign", "title": "new one"}},
        {"id": first["id"], "data": {"type": "indicator", "title": "first, renamed"}},
        {"data": {"type": "tool", "title": "second, renamed", "id": stix}},
        {"id": format!("https://elsewhere/api/v2/entities/{}", first["id"].as_str().unwrap()), "data": {"type": "report", "title": "placeholder"}},
    ]});
    // The last item names the first entity again: the request is refused whole.
    let twice = app
        .send(Method::PUT, "/api/v2/entities", Some(&app.admin), Some(body.clone()))
        .await;
    assert_eq!(twice.status, 400, "{}", twice.body);
    assert_eq!(twice.source(0), "/data/3");
    assert_eq!(count(&app).await, 2);

    let mut body = body;
    body["data"].as_array_mut().unwrap().pop();
    let answer = app
        .send(Method::PUT, "/api/v2/entities", Some(&app.admin), Some(body.clone()))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let titles: Vec<&str> = answer
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["new one", "first, renamed", "second, renamed"]);
    assert_eq!(answer.data()[1]["id"], first["id"]);
    assert_eq!(answer.data()[2]["id"], second["id"]);
    assert_eq!(answer.data()[1]["created_at"], first["created_at"]);
    assert_eq!(count(&app).await, 3);

    // Sending the same bulk again updates in place: matched by data.id now that each has one.
    let mut again = answer.data().as_array().unwrap().clone();
    for e in &mut again {
        e.as_object_mut().unwrap().remove("meta");
    }
    let repeat = app
        .send(
            Method::PUT,
            "/api/v2/entities",
            Some(&app.admin),
            Some(json!({"data": again})),
        )
        .await;
    assert_eq!(repeat.status, 200, "{}", repeat.body);
    assert_eq!(count(&app).await, 3);
    let unknown = app
        .send(
            Method::PUT,
            "/api/v2/entities",
            Some(&app.admin),
            Some(json!({"data": [{"id": uuid::Uuid::new_v4(), "data": {"type": "tool", "title": "t"}}]})),
        )
        .await;
    assert_eq!((unknown.status, unknown.source(0)), (400, "/data/0/id"));
    assert!(unknown.detail(0).contains("not found"));
}

async fn bulk_put_of_1000_entities_with_extracts_is_all_or_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let item = |i: usize| {
        json!({"data": {"type": "indicator", "title": format!("indicator {i}"), "extracts": [
            {"kind": "ipv4", "value": format!("10.0.{}.{}", (i % 500) / 250, i % 250), "link_type": "observed"},
            {"kind": "domain", "value": format!("Host{}.Example.COM.", i % 300)},
            {"kind": "hash-sha256", "value": format!("{:064x}", i), "maliciousness": "high"},
        ]}, "meta": {"tags": [format!("batch-{}", i % 10)]}})
    };
    let mut items: Vec<Value> = (0..1000).map(item).collect();
    items[699]["data"]["extracts"][1]["value"] = json!("not a domain!");
    let refused = app
        .send(
            Method::PUT,
            "/api/v2/entities",
            Some(&app.admin),
            Some(json!({"data": items.clone()})),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.sources(), vec!["/data/699/data/extracts/1/value"]);
    assert_eq!(count(&app).await, 0, "nothing was stored");

    items[699] = item(699);
    let stored = app
        .send(
            Method::PUT,
            "/api/v2/entities",
            Some(&app.admin),
            Some(json!({"data": items})),
        )
        .await;
    assert_eq!(stored.status, 200);
    assert_eq!(stored.data().as_array().unwrap().len(), 1000);
    assert_eq!(count(&app).await, 1000);
    let observables: HashSet<String> = stored
        .data()
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| {
            e["observables"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o.as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(
        observables.len(),
        500 + 300 + 1000,
        "observables are shared across entities, case and dots normalized"
    );
    let links_of = |i: usize| -> HashSet<String> {
        stored.data()[i]["observables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_str().unwrap().to_owned())
            .collect()
    };
    let shared: Vec<String> = links_of(0).intersection(&links_of(300)).cloned().collect();
    assert_eq!(shared.len(), 1, "indicators 0 and 300 share their host, nothing else");
    let observable = TestApp::id_of(&json!(shared[0]));
    let linked = app
        .get(
            &format!("/api/v2/entities?filter[observables]={observable}&data=false"),
            &app.admin,
        )
        .await;
    assert_eq!(linked.body["total_count"], 4, "hosts repeat every 300 entities");
    let tagged = app.get("/api/v2/tags?filter[name]=batch-1", &app.admin).await;
    assert_eq!(tagged.data()[0]["count"], 100);
}

async fn patch_merges_data_and_meta_and_replaces_lists(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app
        .post("/api/v2/entities", &app.admin, json!({"data": {
            "data": {"type": "malware", "title": "Poison Ivy", "description": "RAT", "aliases": ["PIVY", "Darkmoon"], "is_family": true,
                     "extracts": [{"kind": "domain", "value": "evil.example"}]},
            "meta": {"tlp_color": "GREEN", "tags": ["rat", "old"], "half_life": 100}}}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let patched = app
        .patch(
            &format!("/api/v2/entities/{id}"),
            &app.admin,
            json!({"data": {
            "data": {"aliases": ["PIVY"], "description": null, "first_seen": "2005-01-01T00:00:00Z"},
            "meta": {"tags": ["rat"], "tlp_color": "AMBER+STRICT"}}}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let e = patched.data();
    assert_eq!(e["data"]["title"], "Poison Ivy");
    assert_eq!(e["data"]["aliases"], json!(["PIVY"]), "lists given replace lists");
    assert!(e["data"].get("description").is_none(), "null removes a key");
    assert_eq!(e["data"]["is_family"], true, "data merges key by key");
    assert_eq!(e["meta"]["tags"], json!(["rat"]));
    assert_eq!(e["meta"]["tlp_color"], "AMBER+STRICT");
    assert_eq!(e["meta"]["half_life"], 100, "meta merges key by key");
    assert_eq!(
        e["observables"],
        created.data()["observables"],
        "links stay unless extracts are given"
    );
    assert_eq!(e["sources"], created.data()["sources"]);
    assert_eq!(e["data"]["id"], created.data()["data"]["id"]);

    let bad = app
        .patch(
            &format!("/api/v2/entities/{id}"),
            &app.admin,
            json!({"data": {"data": {"is_family": "no"}}}),
        )
        .await;
    assert_eq!((bad.status, bad.source(0)), (400, "/data/data/is_family"));
    let unlinked = app
        .patch(
            &format!("/api/v2/entities/{id}"),
            &app.admin,
            json!({"data": {"data": {"extracts": []}}}),
        )
        .await;
    assert_eq!(unlinked.data()["observables"], json!([]));
    let by_stix = app
        .patch(
            &format!("/api/v2/entities/{}", e["data"]["id"].as_str().unwrap()),
            &app.admin,
            json!({"data": {"meta": {"title": "PIVY family"}}}),
        )
        .await;
    assert_eq!(by_stix.data()["meta"]["title"], "PIVY family");
}

async fn delete_removes_the_entity_not_its_observables(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let extracts = json!([{"kind": "ipv4", "value": "192.0.2.1"}]);
    let a = app
        .post(
            "/api/v2/entities",
            &app.admin,
            json!({"data": {"data": {"type": "indicator", "title": "a", "extracts": extracts}}}),
        )
        .await
        .data()
        .clone();
    let id = a["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/api/v2/entities/{id}"), &app.admin).await.status,
        204
    );
    assert_eq!(app.get(&format!("/api/v2/entities/{id}"), &app.admin).await.status, 404);
    assert_eq!(
        app.delete(&format!("/api/v2/entities/{id}"), &app.admin).await.status,
        404
    );
    // The observable outlives it: a new entity naming the same value links the same one.
    let b = app
        .post(
            "/api/v2/entities",
            &app.admin,
            json!({"data": {"data": {"type": "indicator", "title": "b", "extracts": extracts}}}),
        )
        .await
        .data()
        .clone();
    assert_eq!(a["observables"], b["observables"]);
}

async fn meta_sources_and_relevancy(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let group = app.group("Feeders", &[], "RED").await;
    let source = TestApp::id_of(&group["source"]);
    let thirty_days_ago = cairn_domain::Timestamp::now().plus_days(-30).to_string();
    for (sources, tlp) in [
        (json!([{"source_id": source}]), "CLEAR"),
        (json!([source]), "AMBER+STRICT"),
        (json!([group["source"]]), "WHITE"),
    ] {
        let answer = app
            .post("/api/v2/entities", &app.admin, json!({"data": {"data": {"type": "indicator", "title": tlp},
                "meta": {"tlp_color": tlp, "estimated_observed_time": thirty_days_ago, "source_reliability": "B"}, "sources": sources}}))
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        let e = answer.data();
        assert_eq!(TestApp::id_of(&e["sources"][0]), source);
        assert_eq!(e["meta"]["tlp_color"], tlp);
        assert_eq!(e["meta"]["source_reliability"], "B");
        let relevancy = e["relevancy"].as_f64().unwrap();
        assert!(
            (relevancy - 0.5).abs() < 0.01,
            "an indicator halves in 30 days: {relevancy}"
        );
    }
    // Without sources, the caller's default source; half-lives default per type.
    let mine = app
        .post("/api/v2/entities", &app.admin, new_entity("threat-actor", "default"))
        .await;
    assert_eq!(mine.status, 201, "{}", mine.body);
    let me = app.get("/api/v2/users/self", &app.admin).await;
    assert_eq!(mine.data()["sources"][0], me.data()["default_source"]);
    let old_actor = app
        .post("/api/v2/entities", &app.admin, json!({"data": {"data": {"type": "threat-actor", "title": "old"}, "meta": {"estimated_observed_time": cairn_domain::Timestamp::now().plus_days(-1000).to_string()}}}))
        .await;
    assert!((old_actor.data()["relevancy"].as_f64().unwrap() - 0.5).abs() < 0.01);
    let sorted = app.get("/api/v2/entities?sort=-relevancy&limit=1", &app.admin).await;
    assert_eq!(
        sorted.data()[0]["data"]["title"],
        "default",
        "observed now: the most relevant"
    );
    let nobody = app.user("groupless", &["modify entities", "read entities"], &[]).await;
    let orphan = app
        .post("/api/v2/entities", &nobody, new_entity("indicator", "orphan"))
        .await;
    assert_eq!((orphan.status, orphan.source(0)), (400, "/data/sources"));
}

async fn hidden_entities_are_404_everywhere(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.group("A", &[], "RED").await;
    let b = app.group("B", &[], "AMBER").await;
    let rights = ["read entities", "modify entities"];
    let alice = app.user("alice", &rights, &[a["id"].as_i64().unwrap()]).await;
    let bob = app.user("bob", &rights, &[b["id"].as_i64().unwrap()]).await;
    let secret = app
        .post(
            "/api/v2/entities",
            &alice,
            json!({"data": {"data": {"type": "malware", "title": "Secret tool"}, "meta": {"tags": ["secret"]}}}),
        )
        .await
        .data()
        .clone();
    let bobs_red = app
        .post("/api/v2/entities", &bob, json!({"data": {"data": {"type": "malware", "title": "Red one"}, "meta": {"tlp_color": "RED", "tags": ["secret"]}}}))
        .await;
    assert_eq!(bobs_red.status, 201, "{}", bobs_red.body);
    let bobs_amber = app
        .post(
            "/api/v2/entities",
            &bob,
            json!({"data": {"data": {"type": "malware", "title": "Amber one"}, "meta": {"tlp_color": "AMBER"}}}),
        )
        .await;
    let id = secret["id"].as_str().unwrap();
    let stix = secret["data"]["id"].as_str().unwrap();

    // Bob: his group's max TLP is AMBER, so even his own RED entity is hidden from him.
    let list = app.get("/api/v2/entities", &bob).await;
    let titles: Vec<&str> = list
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Amber one"]);
    for probe in [
        "/api/v2/entities?data=false".to_owned(),
        format!("/api/v2/entities?filter[id]={id}"),
        format!("/api/v2/entities?filter[data.id]={stix}"),
        "/api/v2/entities?filter[data.title]=secret".to_owned(),
        "/api/v2/entities?filter[tags]=secret".to_owned(),
        format!("/api/v2/entities?filter[sources]={}", TestApp::id_of(&a["source"])),
    ] {
        let answer = app.get(&probe, &bob).await;
        let expected = if probe.ends_with("data=false") { 1 } else { 0 };
        assert_eq!(answer.body["total_count"], expected, "{probe}");
    }
    assert_eq!(
        app.get("/api/v2/tags", &bob).await.body["total_count"],
        0,
        "tag counts respect visibility"
    );
    for path in [format!("/api/v2/entities/{id}"), format!("/api/v2/entities/{stix}")] {
        assert_eq!(app.get(&path, &bob).await.status, 404);
        assert_eq!(
            app.patch(&path, &bob, json!({"data": {"data": {"title": "mine now"}}}))
                .await
                .status,
            404
        );
        assert_eq!(app.delete(&path, &bob).await.status, 404);
    }
    let put = app
        .send(
            Method::PUT,
            "/api/v2/entities",
            Some(&bob),
            Some(json!({"data": [{"id": id, "data": {"type": "malware", "title": "mine now"}}]})),
        )
        .await;
    assert_eq!((put.status, put.source(0)), (400, "/data/0/id"));
    assert!(put.detail(0).contains("not found"));
    // Bob cannot file his entities under Alice's source either.
    let foreign = app
        .post(
            "/api/v2/entities",
            &bob,
            json!({"data": {"data": {"type": "tool", "title": "t"}, "sources": [a["source"]]}}),
        )
        .await;
    assert_eq!((foreign.status, foreign.source(0)), (400, "/data/sources/0"));
    assert_eq!(
        app.get(&format!("/api/v2/entities/{id}"), &alice).await.data()["data"]["title"],
        "Secret tool"
    );
    assert_eq!(
        app.get("/api/v2/entities?data=false", &app.admin).await.body["total_count"],
        3
    );
    assert_eq!(bobs_amber.status, 201);
}

async fn list_filters_and_sorts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let taxonomy = app
        .post(
            "/api/v2/taxonomies",
            &app.admin,
            json!({"data": {"name": "ransomware"}}),
        )
        .await
        .data()
        .clone();
    for (kind, title, tlp) in [
        ("malware", "Zeta", "GREEN"),
        ("malware", "alpha", "RED"),
        ("tool", "Mimikatz", "GREEN"),
        ("indicator", "Beta", "AMBER"),
    ] {
        let mut body = json!({"data": {"data": {"type": kind, "title": title}, "meta": {"tlp_color": tlp}}});
        if title == "Zeta" {
            body["data"]["meta"]["taxonomies"] = json!([taxonomy["id"]]);
        }
        assert_eq!(app.post("/api/v2/entities", &app.admin, body).await.status, 201);
    }
    let titles = |answer: &crate::helpers::Answer| -> Vec<String> {
        answer
            .data()
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["data"]["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let cases: [(&str, &[&str]); 7] = [
        ("filter[type]=malware&sort=data.title", &["Zeta", "alpha"]),
        (
            "filter[data.type]=malware&filter[data.type]=tool&sort=-data.title",
            &["alpha", "Zeta", "Mimikatz"],
        ),
        ("filter[meta.tlp_color]=GREEN&sort=created_at", &["Zeta", "Mimikatz"]),
        ("filter[data.title]=a*&sort=data.title", &["alpha"]),
        ("filter[!type]=malware&sort=created_at", &["Mimikatz", "Beta"]),
        ("sort=created_at&limit=2&offset=1", &["alpha", "Mimikatz"]),
        ("sort=-last_updated_at&limit=1", &["Beta"]),
    ];
    for (query, expected) in cases {
        let answer = app.get(&format!("/api/v2/entities?{query}"), &app.admin).await;
        assert_eq!(answer.status, 200, "{query}: {}", answer.body);
        assert_eq!(titles(&answer), expected, "{query}");
    }
    let by_taxonomy = app
        .get(
            &format!("/api/v2/entities?filter[taxonomies]={}", taxonomy["id"]),
            &app.admin,
        )
        .await;
    assert_eq!(titles(&by_taxonomy), ["Zeta"]);
    let source = app.get("/api/v2/users/self", &app.admin).await.data()["default_source"].clone();
    let by_source = app
        .get(
            &format!(
                "/api/v2/entities?filter[sources]={}&data=false",
                TestApp::id_of(&source)
            ),
            &app.admin,
        )
        .await;
    assert_eq!(by_source.body["total_count"], 4);
}

async fn taxonomies_form_a_tree_and_tags_are_counted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let root = app
        .post(
            "/api/v2/taxonomies",
            &app.admin,
            json!({"data": {"name": "malware", "description": "families"}}),
        )
        .await;
    assert_eq!(root.status, 201, "{}", root.body);
    let root = root.data().clone();
    let child = app
        .post(
            "/api/v2/taxonomies",
            &app.admin,
            json!({"data": {"name": "ransomware", "parent": format!("https://h/api/v2/taxonomies/{}", root["id"])}}),
        )
        .await
        .data()
        .clone();
    let leaf = app
        .post(
            "/api/v2/taxonomies",
            &app.admin,
            json!({"data": {"name": "lockbit", "parent": child["id"]}}),
        )
        .await
        .data()
        .clone();
    assert_eq!(leaf["path"], "malware/ransomware/lockbit");
    assert_eq!(TestApp::id_of(&leaf["parent"]), child["id"].to_string());
    for (body, pointer) in [
        (json!({"data": {"name": "a/b"}}), "/data/name"),
        (json!({"data": {"name": "x", "parent": 999}}), "/data/parent"),
        (json!({"data": {"name": "x", "colour": 1}}), "/data/colour"),
    ] {
        let answer = app.post("/api/v2/taxonomies", &app.admin, body.clone()).await;
        assert_eq!((answer.status, answer.source(0)), (400, pointer), "{body}");
    }
    let taken = app
        .post(
            "/api/v2/taxonomies",
            &app.admin,
            json!({"data": {"name": "ransomware", "parent": root["id"]}}),
        )
        .await;
    assert_eq!(taken.status, 409);

    let renamed = app
        .patch(
            &format!("/api/v2/taxonomies/{}", root["id"]),
            &app.admin,
            json!({"data": {"name": "families"}}),
        )
        .await;
    assert_eq!(renamed.data()["path"], "families");
    let leaf_now = app.get(&format!("/api/v2/taxonomies/{}", leaf["id"]), &app.admin).await;
    assert_eq!(
        leaf_now.data()["path"],
        "families/ransomware/lockbit",
        "descendants follow a rename"
    );
    let under = app
        .get("/api/v2/taxonomies?filter[path]=families/*&sort=path", &app.admin)
        .await;
    assert_eq!(under.body["total_count"], 2);

    let tagged = app
        .post("/api/v2/entities", &app.admin, json!({"data": {"data": {"type": "malware", "title": "LockBit"}, "meta": {"tags": ["ransomware", "2024"], "taxonomies": [leaf["id"], format!("https://h/api/v2/taxonomies/{}", child["id"])]}}}))
        .await;
    assert_eq!(tagged.status, 201, "{}", tagged.body);
    assert_eq!(tagged.data()["meta"]["taxonomies"].as_array().unwrap().len(), 2);
    app.post(
        "/api/v2/entities",
        &app.admin,
        json!({"data": {"data": {"type": "malware", "title": "Conti"}, "meta": {"tags": ["ransomware"]}}}),
    )
    .await;
    let tags = app.get("/api/v2/tags", &app.admin).await;
    assert_eq!(
        tags.data(),
        &json!([{"name": "ransomware", "count": 2}, {"name": "2024", "count": 1}])
    );

    assert_eq!(
        app.delete(&format!("/api/v2/taxonomies/{}", child["id"]), &app.admin)
            .await
            .status,
        409,
        "it has a child"
    );
    assert_eq!(
        app.delete(&format!("/api/v2/taxonomies/{}", leaf["id"]), &app.admin)
            .await
            .status,
        204
    );
    let entity = app
        .get(
            &format!("/api/v2/entities/{}", tagged.data()["id"].as_str().unwrap()),
            &app.admin,
        )
        .await;
    assert_eq!(
        entity.data()["meta"]["taxonomies"].as_array().unwrap().len(),
        1,
        "the deleted node's link is gone"
    );
    let reader = app.user("reader", &["read entities"], &[]).await;
    assert_eq!(
        app.post("/api/v2/taxonomies", &reader, json!({"data": {"name": "x"}}))
            .await
            .status,
        403
    );
}

/// A STIX 2.1 SDO as a v2 entity: `name` → `data.title`, everything else as it is.
fn v2_payload(sdo: &Value) -> Value {
    let mut data = sdo.as_object().unwrap().clone();
    let title = data
        .remove("name")
        .or_else(|| data.get("abstract").cloned())
        .unwrap_or_else(|| json!(format!("{} {}", sdo["type"], sdo["id"])));
    data.insert("title".into(), title);
    json!({"data": data})
}

async fn oasis_examples_round_trip(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/oasis-cti-stix2-json-schemas/examples");
    let mut files = vec![root.clone()];
    let mut sdos: Vec<Value> = Vec::new();
    let mut seen = HashSet::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let Ok(bundle) = serde_json::from_str::<Value>(&std::fs::read_to_string(&path).unwrap()) else {
            continue;
        };
        let objects = bundle
            .get("objects")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_else(|| vec![bundle.clone()]);
        for object in objects {
            let kind = object["type"].as_str().unwrap_or("");
            if cairn_domain::entity::TYPES.contains(&kind) && seen.insert(object["id"].as_str().unwrap().to_owned()) {
                sdos.push(object);
            }
        }
    }
    assert!(
        sdos.len() >= 100,
        "the examples hold over a hundred SDOs, found {}",
        sdos.len()
    );
    let payloads: Vec<Value> = sdos.iter().map(v2_payload).collect();
    let answer = app
        .send(
            Method::PUT,
            "/api/v2/entities",
            Some(&app.admin),
            Some(json!({"data": payloads})),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    for (sent, stored) in payloads.iter().zip(answer.data().as_array().unwrap()) {
        let read = app
            .get(
                &format!("/api/v2/entities/{}", stored["id"].as_str().unwrap()),
                &app.admin,
            )
            .await;
        assert_eq!(
            read.data()["data"],
            sent["data"],
            "{} did not come back as sent",
            sent["data"]["id"]
        );
    }
}
