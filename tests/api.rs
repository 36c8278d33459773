//! Staff API acceptance tests (issue 6) against the real HTTP server on a loopback socket,
//! once on SQLite and once on PostgreSQL (tests/common_store), plus one run of the real
//! `carecall` binary (`staff add`, `serve`) on SQLite.

mod common_api;
mod common_store;

use std::time::SystemTime;

use serde_json::{json, Value};

use carecall::http::{EngineLinks, HttpServer};
use carecall::pii::Redacted;
use carecall::store::{AnswerValue, Channel, Identification, PatientId, Symptom};
use common_api::{assert_no_personal_data, env, header, ok, Cred, Env};
use common_store::Db;

on_both_backends!(
    a_patient_is_created_and_its_call_times_set_with_errors_per_field,
    csv_import_and_export_round_trip,
    a_health_call_report_shows_red_first_and_a_silent_patient_is_a_non_reporter,
    a_report_from_outside_the_observation_period_is_on_todays_list_red_first,
    staff_of_one_centre_get_404_for_another_centres_patient,
    unauthenticated_requests_get_401_and_cookie_changes_need_the_csrf_token,
    every_personal_data_read_is_in_the_audit_log,
    failed_logins_are_rate_limited,
    staff_enter_a_phone_report_and_calls_are_queued_and_listed,
    sessions_end_at_expiry_deactivation_or_a_new_password,
    the_audit_log_is_append_only,
    malformed_requests_get_4xx_with_a_stable_code_and_never_echo_the_value,
);

/// The secrets of [`patients_csv`], for the log check.
const SECRETS: [&str; 8] = [
    "73920561",
    "Yamada",
    "64810372",
    "Silva",
    "55702183",
    "0311112222",
    "09033334444",
    "1950-04-15",
];

/// Three Minato patients observed from two days ago to a week ahead, and one in Shinjuku.
fn patients_csv(e: &Env) -> String {
    let (start, end) = (e.day(-2), e.day(7));
    format!(
        "hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk\n\
         73920561,Yamada Hanako,1950-04-15,03-1111-2222,ja,09:00;14:00,{start},{end},true,Minato,age65\n\
         64810372,Maria Silva,1988-07-02,090-3333-4444,pt,11:00,{start},{end},true,Minato,\n\
         55702183,John Smith,1979-12-24,08055556666,en,,{start},{end},false,Minato,\n"
    )
}

async fn import_minato(e: &Env) {
    let r = e
        .api
        .post_csv("/api/v1/patients/import", &e.minato, &patients_csv(e))
        .await;
    ok(&r);
}

async fn a_patient_is_created_and_its_call_times_set_with_errors_per_field(db: Db) {
    let e = env(&db).await;
    let body = json!({
        "hersys_id": "41234567", "name": "Tanaka Jiro", "birthday": "1961-03-09",
        "phone": "03-5555-0101", "language": "ja", "call_times": ["09:00"],
        "observation_start": e.day(0).to_string(), "observation_end": e.day(9).to_string(),
        "auto_call": true, "risk": "diabetes"
    });
    let r = e.api.post("/api/v1/patients", &e.minato, &body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let created = r.json();
    assert_eq!(created["phone"], "0355550101");
    assert_eq!(
        created["health_center"], "Minato",
        "staff register in their own centre"
    );
    let id = created["id"].as_i64().unwrap();
    let path = format!("/api/v1/patients/{id}");

    let again = e.api.post("/api/v1/patients", &e.minato, &body).await;
    assert_eq!(again.status, 422);
    assert_eq!(again.json()["fields"]["hersys_id"], "already registered");

    let set = json!({ "call_times": ["16:00", "11:00"], "language": "en", "auto_call": true });
    let r = e.api.patch(&path, &e.minato, &set).await;
    ok(&r);
    assert_eq!(r.json()["call_times"], json!(["11:00", "16:00"]));
    let read = e.api.get(&path, &e.minato).await.json();
    assert_eq!(read["call_times"], json!(["11:00", "16:00"]));
    assert_eq!(
        (read["language"].as_str(), read["name"].as_str()),
        (Some("en"), Some("Tanaka Jiro"))
    );

    let bad = json!({
        "call_times": ["10:00"], "phone": "call me", "observation_end": e.day(-5).to_string(),
        "call_start": e.day(1).to_string(), "colour": "red"
    });
    let r = e.api.patch(&path, &e.minato, &bad).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let fields = r.json()["fields"].clone();
    for field in [
        "call_times",
        "phone",
        "observation_end",
        "call_end",
        "colour",
    ] {
        assert!(fields[field].is_string(), "{field} named: {fields}");
    }
    // Each field also has a stable code, which the staff page shows in its own language.
    assert_eq!(
        r.json()["codes"],
        json!({ "call_times": "call_times_choice", "phone": "phone_format",
                "observation_end": "period_order", "call_end": "period_incomplete",
                "colour": "unknown_field" })
    );
    assert!(
        !r.text().contains("call me"),
        "errors never repeat the value"
    );

    // One automatic-call phone number per patient.
    let other = json!({
        "hersys_id": "41234568", "name": "Tanaka Hana", "birthday": "1962-01-01",
        "phone": "0355550101", "language": "ja", "call_times": ["09:00"],
        "observation_start": e.day(0).to_string(), "observation_end": e.day(9).to_string(),
        "auto_call": true
    });
    let r = e.api.post("/api/v1/patients", &e.minato, &other).await;
    assert_eq!(r.status, 422);
    assert!(r.json()["fields"]["phone"]
        .as_str()
        .unwrap()
        .contains("automatic calls"));
    let mut quiet = other.clone();
    quiet["auto_call"] = json!(false);
    quiet["call_times"] = json!([]);
    assert_eq!(
        e.api
            .post("/api/v1/patients", &e.minato, &quiet)
            .await
            .status,
        201
    );
    let unchanged = e.api.get(&path, &e.minato).await.json();
    assert_eq!(
        unchanged["call_times"],
        json!(["11:00", "16:00"]),
        "a refused change writes nothing"
    );

    let search = e
        .api
        .get("/api/v1/patients?q=tanaka&auto_call=true", &e.minato)
        .await
        .json();
    let ids: Vec<&str> = search["patients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["hersys_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["41234567"]);
    assert_no_personal_data(&["41234567", "41234568", "Tanaka", "0355550101", "1961-03-09"]);
}

async fn csv_import_and_export_round_trip(db: Db) {
    let e = env(&db).await;
    let r = e
        .api
        .post_csv("/api/v1/patients/import", &e.minato, &patients_csv(&e))
        .await;
    ok(&r);
    assert_eq!(r.json(), json!({ "inserted": 3, "updated": 0 }));
    let first = e.api.get("/api/v1/patients/export", &e.minato).await;
    ok(&first);
    assert!(header(&first, "content-type")
        .unwrap()
        .starts_with("text/csv"));
    let csv = first.text();
    assert!(csv.starts_with("hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk,call_start,call_end\n"));
    assert!(
        csv.contains("73920561,Yamada Hanako,1950-04-15,0311112222,ja,09:00;14:00,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 4);

    // The export imports back unchanged: all updates, and the same export again.
    let r = e
        .api
        .post_csv("/api/v1/patients/import", &e.minato, &csv)
        .await;
    assert_eq!(r.json(), json!({ "inserted": 0, "updated": 3 }));
    let second = e.api.get("/api/v1/patients/export", &e.minato).await.text();
    assert_eq!(second, csv);

    // A bad file names the line and field and writes nothing.
    let bad = csv.replacen("ja,09:00;14:00", "ja,10:00", 1);
    let r = e
        .api
        .post_csv("/api/v1/patients/import", &e.minato, &bad)
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.json()["fields"]["file"]
            .as_str()
            .unwrap()
            .contains("line 4: field call_times"),
        "{}",
        r.text()
    );
    assert_eq!(
        e.api.get("/api/v1/patients/export", &e.minato).await.text(),
        csv
    );
    assert_no_personal_data(&SECRETS);
}

async fn a_health_call_report_shows_red_first_and_a_silent_patient_is_a_non_reporter(db: Db) {
    let e = env(&db).await;
    import_minato(&e).await;
    let now = SystemTime::now();
    // Yamada calls the Health Call line with a fever; Silva's report is only amber.
    let calls = [
        ("73920561", "0415", 382, Symptom::No),
        ("64810372", "0702", 365, Symptom::Yes),
    ];
    for (id, mmdd, temperature, cough) in calls {
        let who = e
            .store
            .identify(
                &Redacted::new(id.into()),
                &Redacted::new(mmdd.into()),
                &Redacted::new("0399990000".into()),
                "hc-call",
                now,
            )
            .await
            .unwrap();
        let Identification::Patient(p) = who else {
            panic!("{id} not identified: {who:?}")
        };
        let report = e
            .store
            .start_report(p.id, Channel::HealthCall, Some("hc-call"), None, now)
            .await
            .unwrap();
        let store = &e.store;
        store
            .store_answer(
                report,
                "temperature",
                AnswerValue::TemperatureTenths(temperature),
                now,
            )
            .await
            .unwrap();
        store
            .store_answer(report, "spo2", AnswerValue::Spo2(Some(97)), now)
            .await
            .unwrap();
        store
            .store_answer(report, "cough", AnswerValue::Symptom(cough), now)
            .await
            .unwrap();
        store.complete_report(report, now).await.unwrap();
    }
    let today = e.api.get("/api/v1/reports/today", &e.minato).await;
    ok(&today);
    let today = today.json();
    let rows = today["patients"].as_array().unwrap();
    let order: Vec<(&str, Value)> = rows
        .iter()
        .map(|r| (r["hersys_id"].as_str().unwrap(), r["flag"].clone()))
        .collect();
    assert_eq!(
        order,
        [
            ("73920561", json!("red")),
            ("64810372", json!("amber")),
            ("55702183", Value::Null)
        ],
        "red first, then amber, then the rest"
    );
    assert_eq!(rows[0]["temperature"]["value"], 38.2);
    assert_eq!(rows[0]["spo2"]["value"], 97);
    assert_eq!(rows[0]["flag_reasons"], json!(["fever"]));
    assert_eq!(today["thresholds"]["fever_celsius"], 37.5);

    let silent = e
        .api
        .get("/api/v1/reports/non-reporters", &e.minato)
        .await
        .json();
    let ids: Vec<&str> = silent["patients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["hersys_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["55702183"]);

    let yamada = e.patient_id(&e.minato, "73920561").await;
    let days = e
        .api
        .get(&format!("/api/v1/patients/{yamada}/reports"), &e.minato)
        .await
        .json();
    let summaries = days["days"].as_array().unwrap();
    assert_eq!(summaries.len(), 10);
    let last = summaries.last().unwrap();
    assert_eq!(
        (last["date"].as_str(), last["flag"].as_str()),
        (Some(e.day(0).to_string().as_str()), Some("red"))
    );
    assert_eq!(last["temperature_max"], 38.2);
    assert_eq!(
        last["outside_period"], false,
        "today is inside Yamada's period"
    );
    assert_eq!(days["reports"][0]["channel"], "health_call");
    assert_eq!(days["reports"][0]["outside_period"], false);

    let csv = e.api.get("/api/v1/reports/export", &e.minato).await;
    ok(&csv);
    assert_eq!(
        csv.text().lines().count(),
        3,
        "header and two reports: {}",
        csv.text()
    );
    assert!(
        e.api
            .get("/api/v1/reports/export", &e.shinjuku)
            .await
            .text()
            .lines()
            .count()
            == 1,
        "another centre's reports are not exported"
    );
    assert_no_personal_data(&SECRETS);
}

/// Issue 11 point 1: a Health Call from a patient whose observation ended yesterday is stored;
/// it must be on today's list (red, first, marked outside the period), not among the
/// non-reporters, and the patient page must tell "not measured" from "unanswered".
async fn a_report_from_outside_the_observation_period_is_on_todays_list_red_first(db: Db) {
    let e = env(&db).await;
    import_minato(&e).await;
    let (start, end) = (e.day(-10), e.day(-1));
    let csv = format!(
        "hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk\n\
         48151623,Ended Kenji,1961-02-03,0312345678,ja,09:00,{start},{end},true,Minato,\n\
         48151624,Later Aki,1962-02-03,0312345679,ja,09:00,{},{},true,Minato,\n",
        e.day(3),
        e.day(9)
    );
    ok(&e
        .api
        .post_csv("/api/v1/patients/import", &e.minato, &csv)
        .await);
    let ended = PatientId(e.patient_id(&e.minato, "48151623").await);
    let now = SystemTime::now();
    let report = e
        .store
        .start_report(ended, Channel::HealthCall, Some("hc-ended"), None, now)
        .await
        .unwrap();
    let answers = [
        ("temperature", AnswerValue::TemperatureTenths(366)),
        ("spo2", AnswerValue::Spo2(None)),
        ("breath", AnswerValue::Unanswered),
        ("callback", AnswerValue::YesNo(true)),
    ];
    for (question, value) in answers {
        e.store
            .store_answer(report, question, value, now)
            .await
            .unwrap();
    }
    e.store.complete_report(report, now).await.unwrap();

    let today = e.api.get("/api/v1/reports/today", &e.minato).await;
    ok(&today);
    let rows = today.json()["patients"].as_array().unwrap().clone();
    let listed: Vec<(&str, bool)> = rows
        .iter()
        .map(|r| {
            let outside = r["outside_period"].as_bool().expect("outside_period");
            (r["hersys_id"].as_str().unwrap(), outside)
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("48151623", true),
            ("55702183", false),
            ("64810372", false),
            ("73920561", false)
        ],
        "the ended patient's report is listed first; a patient not yet in period without a report is not"
    );
    assert_eq!(rows[0]["flag"], "red");
    assert_eq!(
        rows[0]["flag_reasons"],
        json!(["callback", "unanswered:breath"])
    );
    let silent = e
        .api
        .get("/api/v1/reports/non-reporters", &e.minato)
        .await
        .json();
    assert!(
        !silent.to_string().contains("48151623"),
        "a patient outside the period is not a non-reporter: {silent}"
    );
    assert_eq!(silent["patients"].as_array().unwrap().len(), 3);
    assert!(
        !e.api
            .get("/api/v1/reports/today", &e.shinjuku)
            .await
            .text()
            .contains("48151623"),
        "another centre does not see it"
    );

    let days = e
        .api
        .get(&format!("/api/v1/patients/{}/reports", ended.0), &e.minato)
        .await;
    ok(&days);
    let items = days.json()["reports"][0]["items"].clone();
    assert_eq!(
        items,
        json!([
            { "question": "temperature", "value": 36.6, "state": "answered" },
            { "question": "spo2", "value": null, "state": "not_measured" },
            { "question": "breath", "value": null, "state": "unanswered" },
            { "question": "callback", "value": "yes", "state": "answered" },
        ])
    );
    // The patient page marks the day, and the report, that came from outside the period:
    // today only (the period ended yesterday; the nine days before are inside it).
    let days = days.json();
    let marked: Vec<bool> = days["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["outside_period"].as_bool().expect("outside_period"))
        .collect();
    let mut expected = vec![false; 9];
    expected.push(true);
    assert_eq!(marked, expected, "{days}");
    assert_eq!(days["reports"][0]["outside_period"], true, "{days}");
}

async fn staff_of_one_centre_get_404_for_another_centres_patient(db: Db) {
    let e = env(&db).await;
    import_minato(&e).await;
    let id = e.patient_id(&e.minato, "73920561").await;
    for (method, path) in [
        ("GET", format!("/api/v1/patients/{id}")),
        ("PATCH", format!("/api/v1/patients/{id}")),
        ("GET", format!("/api/v1/patients/{id}/lock")),
        ("POST", format!("/api/v1/patients/{id}/unlock")),
        ("GET", format!("/api/v1/patients/{id}/reports")),
        ("POST", format!("/api/v1/patients/{id}/reports")),
        ("GET", format!("/api/v1/patients/{id}/calls")),
        ("POST", format!("/api/v1/patients/{id}/calls")),
        ("GET", "/api/v1/patients/999999".to_string()),
    ] {
        let body = json!({ "answers": { "temperature": 36.5 }, "name": "X" });
        let body = if path.ends_with("/reports") {
            json!({ "answers": { "temperature": 36.5 } })
        } else if method == "PATCH" {
            json!({ "name": "Someone Else" })
        } else {
            body
        };
        let r = e
            .api
            .send(
                method,
                &path,
                &e.shinjuku,
                Some(("application/json", serde_json::to_vec(&body).unwrap())),
            )
            .await;
        assert_eq!(r.status, 404, "{method} {path}: {}", r.text());
    }
    let list = e.api.get("/api/v1/patients", &e.shinjuku).await.json();
    assert_eq!(list["patients"], json!([]));
    let today = e.api.get("/api/v1/reports/today", &e.shinjuku).await.json();
    assert_eq!(today["patients"], json!([]));
    // Nor can they take a Minato patient over by import, or register into Minato.
    let takeover = patients_csv(&e).replace(",Minato,", ",Shinjuku,");
    let r = e
        .api
        .post_csv("/api/v1/patients/import", &e.shinjuku, &takeover)
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("another health centre"), "{}", r.text());
    let r = e
        .api
        .post_csv("/api/v1/patients/import", &e.shinjuku, &patients_csv(&e))
        .await;
    assert!(r.text().contains("not your health centre"), "{}", r.text());
    let unchanged = e
        .api
        .get(&format!("/api/v1/patients/{id}"), &e.minato)
        .await
        .json();
    assert_eq!(
        (
            unchanged["name"].as_str(),
            unchanged["health_center"].as_str()
        ),
        (Some("Yamada Hanako"), Some("Minato"))
    );
    // The admin of every centre sees it.
    ok(&e.api.get(&format!("/api/v1/patients/{id}"), &e.admin).await);
    // Staff are not admins.
    assert_eq!(
        e.api.get("/api/v1/admin/audit", &e.minato).await.status,
        403
    );
}

async fn unauthenticated_requests_get_401_and_cookie_changes_need_the_csrf_token(db: Db) {
    let e = env(&db).await;
    import_minato(&e).await;
    let public = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/openapi.json",
        "/api/v1/auth/token",
        "/api/v1/auth/login",
        // The staff page's static files (no data: it asks the API, which needs a login).
        "/",
        "/staff",
        "/staff/staff.js",
        "/staff/staff-text.js",
        "/staff/staff-views.js",
        "/staff/style.css",
        // The flow simulator: demo identities only, answers stored nowhere.
        "/simulator",
        "/simulator/simulator.js",
        "/simulator/style.css",
        "/api/v1/simulator/ws",
        "/api/v1/simulator/audio/{lang}/{file}",
    ];
    let wrong = Cred::Bearer("0".repeat(64));
    for (method, path) in carecall::http::routes::routes() {
        if public.contains(&path) {
            continue;
        }
        let path = path.replace("{id}", "1");
        for cred in [&Cred::None, &wrong] {
            let r = e
                .api
                .send(
                    method,
                    &path,
                    cred,
                    Some(("application/json", b"{}".to_vec())),
                )
                .await;
            assert_eq!(r.status, 401, "{method} {path} with {cred:?}: {}", r.text());
            assert_eq!(r.json()["error"], "unauthenticated");
        }
    }
    for path in ["/healthz", "/readyz", "/api/v1/openapi.json"] {
        ok(&e.api.get(path, &Cred::None).await);
    }

    // The page's cookie session: HttpOnly, SameSite=Strict; changes need X-CSRF-Token.
    let login = json!({ "username": "minato", "password": common_api::PASSWORD });
    let r = e.api.post("/api/v1/auth/login", &Cred::None, &login).await;
    ok(&r);
    let cookie = header(&r, "set-cookie").unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("carecall_session=")
        .to_string();
    let csrf = r.json()["csrf_token"].as_str().unwrap().to_string();
    let bare = Cred::Cookie {
        session: session.clone(),
        csrf: None,
    };
    let id = e.patient_id(&bare, "55702183").await;
    let me = e.api.get("/api/v1/auth/me", &bare).await.json();
    assert_eq!(me["csrf_token"], csrf.as_str());
    let change = json!({ "call_times": ["14:00"] });
    let path = format!("/api/v1/patients/{id}");
    let r = e.api.patch(&path, &bare, &change).await;
    assert_eq!(r.status, 403, "{}", r.text());
    let forged = Cred::Cookie {
        session: session.clone(),
        csrf: Some("f".repeat(64)),
    };
    assert_eq!(e.api.patch(&path, &forged, &change).await.status, 403);
    let good = Cred::Cookie {
        session: session.clone(),
        csrf: Some(csrf),
    };
    ok(&e.api.patch(&path, &good, &change).await);
    // A cookie session's token is not a bearer token, and logout ends the session.
    assert_eq!(
        e.api
            .get(&path, &Cred::Bearer(session.clone()))
            .await
            .status,
        401
    );
    assert_eq!(
        e.api
            .send("POST", "/api/v1/auth/logout", &good, None)
            .await
            .status,
        204
    );
    assert_eq!(e.api.get(&path, &bare).await.status, 401);
}

async fn every_personal_data_read_is_in_the_audit_log(db: Db) {
    let e = env(&db).await;
    import_minato(&e).await;
    let id = e.patient_id(&e.minato, "73920561").await;
    let reads = [
        (format!("/api/v1/patients/{id}"), "patient.read"),
        (format!("/api/v1/patients/{id}/lock"), "patient.lock.read"),
        (format!("/api/v1/patients/{id}/reports"), "report.patient"),
        (format!("/api/v1/patients/{id}/calls"), "call.history"),
        ("/api/v1/patients".to_string(), "patient.list"),
        ("/api/v1/patients/export".to_string(), "patient.export"),
        ("/api/v1/reports/today".to_string(), "report.today"),
        (
            "/api/v1/reports/non-reporters".to_string(),
            "report.non_reporters",
        ),
    ];
    for (path, _) in &reads {
        ok(&e.api.get(path, &e.minato).await);
    }
    ok(&e
        .api
        .post(
            &format!("/api/v1/patients/{id}/unlock"),
            &e.minato,
            &json!({}),
        )
        .await);
    ok(&e
        .api
        .patch(
            &format!("/api/v1/patients/{id}"),
            &e.minato,
            &json!({ "risk": "age65;asthma" }),
        )
        .await);
    let r = e
        .api
        .get(&format!("/api/v1/admin/audit?patient_id={id}"), &e.admin)
        .await;
    ok(&r);
    let entries = r.json()["entries"].as_array().unwrap().clone();
    let actions: Vec<&str> = entries
        .iter()
        .filter(|a| a["username"] == "minato" && a["patient_id"] == id)
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    for (path, action) in reads
        .iter()
        .map(|(p, a)| (p.as_str(), *a))
        .chain([("unlock", "patient.unlock"), ("patch", "patient.update")])
    {
        assert!(
            actions.contains(&action),
            "{path}: no {action} row for the patient in {actions:?}"
        );
    }
    let update = entries
        .iter()
        .find(|a| a["action"] == "patient.update")
        .unwrap();
    assert_eq!(
        update["detail"], "risk",
        "the audit names the fields changed, not their values"
    );
    assert!(entries
        .iter()
        .all(|a| a["at"].as_str().is_some_and(|t| t.ends_with('Z'))));
    // The admin's own look at the audit log is audited too.
    let again = e
        .api
        .get("/api/v1/admin/audit?username=admin", &e.admin)
        .await
        .json();
    assert!(again["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["action"] == "audit.read"));
}

async fn failed_logins_are_rate_limited(db: Db) {
    let e = env(&db).await;
    // A second node on the same store: the failures are counted across both.
    let other = HttpServer::start(e.config.clone(), e.store.clone(), EngineLinks::default())
        .await
        .unwrap();
    let other_api = common_api::Api::new(other.local_addr());
    let wrong = json!({ "username": "minato", "password": "wrong password!" });
    for node in [&e.api, &e.api, &other_api, &e.api, &other_api] {
        assert_eq!(
            node.post("/api/v1/auth/token", &Cred::None, &wrong)
                .await
                .status,
            401
        );
    }
    let right = json!({ "username": "minato", "password": common_api::PASSWORD });
    for node in [&e.api, &other_api] {
        let r = node.post("/api/v1/auth/token", &Cred::None, &right).await;
        assert_eq!(
            r.status,
            429,
            "even the right password waits, on either node: {}",
            r.text()
        );
    }
    let r = e.api.post("/api/v1/auth/token", &Cred::None, &right).await;
    let wait: u64 = header(&r, "retry-after").unwrap().parse().unwrap();
    assert!((800..=900).contains(&wait), "{wait}");
    ok(&e
        .api
        .post(
            "/api/v1/auth/token",
            &Cred::None,
            &json!({ "username": "shinjuku", "password": common_api::PASSWORD }),
        )
        .await);
    // A successful login forgets the username's failures.
    let shinjuku_wrong = json!({ "username": "shinjuku", "password": "wrong password!" });
    let shinjuku_right = json!({ "username": "shinjuku", "password": common_api::PASSWORD });
    for _ in 0..2 {
        for _ in 0..4 {
            let r = other_api
                .post("/api/v1/auth/token", &Cred::None, &shinjuku_wrong)
                .await;
            assert_eq!(r.status, 401);
        }
        ok(&e
            .api
            .post("/api/v1/auth/token", &Cred::None, &shinjuku_right)
            .await);
    }
    let unknown = json!({ "username": "nobody", "password": "whatever it is" });
    assert_eq!(
        e.api
            .post("/api/v1/auth/token", &Cred::None, &unknown)
            .await
            .status,
        401
    );
    let audit = e.api.get("/api/v1/admin/audit", &e.admin).await.json();
    let failed = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "login.failed")
        .count();
    assert_eq!(failed, 14);
}

async fn staff_enter_a_phone_report_and_calls_are_queued_and_listed(db: Db) {
    let e = env(&db).await;
    import_minato(&e).await;
    let id = e.patient_id(&e.minato, "55702183").await;
    let report = json!({ "answers": { "temperature": 36.4, "spo2": 92, "breath": "yes", "callback": "no" } });
    let r = e
        .api
        .post(
            &format!("/api/v1/patients/{id}/reports"),
            &e.minato,
            &report,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["flag"], "red", "SpO2 92 is red");
    let bad = json!({ "answers": { "temperature": 52.0, "mood": "fine" } });
    let r = e
        .api
        .post(&format!("/api/v1/patients/{id}/reports"), &e.minato, &bad)
        .await;
    assert_eq!(r.status, 422);
    let fields = r.json()["fields"].clone();
    assert!(
        fields["answers.temperature"].is_string() && fields["answers.mood"].is_string(),
        "{fields}"
    );
    let json_export = e
        .api
        .get("/api/v1/reports/export?format=json", &e.minato)
        .await
        .json();
    let exported = json_export.as_array().unwrap();
    assert_eq!(exported.len(), 1);
    assert_eq!(
        (
            exported[0]["channel"].as_str(),
            exported[0]["answers"]["spo2"].as_i64()
        ),
        (Some("staff"), Some(92))
    );
    let today = e.api.get("/api/v1/reports/today", &e.minato).await.json();
    assert_eq!(today["patients"][0]["hersys_id"], "55702183");

    // Calls: one now (queued for a node with automatic calls), listed in the history.
    let r = e
        .api
        .post(
            &format!("/api/v1/patients/{id}/calls"),
            &e.minato,
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let attempt = r.json()["attempt_id"].as_i64().unwrap();
    let history = e
        .api
        .get(&format!("/api/v1/patients/{id}/calls"), &e.minato)
        .await
        .json();
    let attempts = history["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        (
            attempts[0]["attempt_id"].as_i64(),
            attempts[0]["manual"].as_bool(),
            attempts[0]["state"].as_str()
        ),
        (Some(attempt), Some(true), Some("pending"))
    );
    let backlog = e.api.get("/api/v1/calls/backlog", &e.minato).await;
    ok(&backlog);
    assert!(backlog.json()["slots"].is_array());
    assert_no_personal_data(&SECRETS);
}

async fn sessions_end_at_expiry_deactivation_or_a_new_password(db: Db) {
    use carecall::store::{NewStaff, Role, SessionKind, StaffChange, StaffError};
    use std::time::Duration;
    let store = &db.store;
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let minato = store.create_centre("Minato").await.unwrap();
    assert!(matches!(
        store.create_centre("Minato").await,
        Err(StaffError::Duplicate(_))
    ));
    let new = NewStaff {
        username: "ito".into(),
        password_hash: "$argon2id$x".into(),
        role: Role::Staff,
        centre: None,
    };
    assert!(matches!(
        store.create_staff(&new, t0).await,
        Err(StaffError::CentreRequired)
    ));
    let ito = store
        .create_staff(
            &NewStaff {
                centre: Some(minato.id),
                ..new.clone()
            },
            t0,
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_staff(
                &NewStaff {
                    centre: Some(minato.id),
                    ..new
                },
                t0
            )
            .await,
        Err(StaffError::Duplicate("username"))
    ));
    let hour = Duration::from_secs(3600);
    for (token, kind) in [("a", SessionKind::Token), ("b", SessionKind::Cookie)] {
        store
            .create_session(token, ito.id, kind, "csrf", t0, t0 + hour)
            .await
            .unwrap();
    }
    let live = store
        .session("b", t0 + hour / 2)
        .await
        .unwrap()
        .expect("live session");
    assert_eq!(
        (
            live.kind,
            live.staff.username.as_str(),
            live.csrf_token.as_str()
        ),
        (SessionKind::Cookie, "ito", "csrf")
    );
    assert!(
        store.session("a", t0 + hour).await.unwrap().is_none(),
        "expired at its end"
    );
    assert!(store.session("zzz", t0).await.unwrap().is_none());
    let change = StaffChange {
        active: Some(false),
        ..StaffChange::default()
    };
    store.update_staff(ito.id, &change).await.unwrap();
    assert!(
        store.session("b", t0).await.unwrap().is_none(),
        "deactivation ends sessions"
    );
    store
        .update_staff(
            ito.id,
            &StaffChange {
                active: Some(true),
                ..StaffChange::default()
            },
        )
        .await
        .unwrap();
    store
        .create_session("c", ito.id, SessionKind::Token, "x", t0, t0 + hour)
        .await
        .unwrap();
    let change = StaffChange {
        password_hash: Some("$argon2id$y".into()),
        ..StaffChange::default()
    };
    store.update_staff(ito.id, &change).await.unwrap();
    assert!(
        store.session("c", t0).await.unwrap().is_none(),
        "a new password ends sessions"
    );
    let (_, hash) = store.staff_credentials("ito").await.unwrap().unwrap();
    assert_eq!(hash, "$argon2id$y");
}

async fn the_audit_log_is_append_only(db: Db) {
    use carecall::store::{Actor, AuditFilter};
    let actor = Actor {
        staff: None,
        username: "someone".into(),
    };
    db.store
        .audit(&actor, "login.failed", &[], "", SystemTime::now())
        .await
        .unwrap();
    let rows = db.store.audit_log(&AuditFilter::default()).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].action.as_str(), rows[0].patient),
        ("login.failed", None)
    );
    let url = db.url.clone();
    let changed = async {
        if url.starts_with("sqlite") {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            let update = sqlx::query("UPDATE audit_log SET username = 'x'")
                .execute(&pool)
                .await;
            let delete = sqlx::query("DELETE FROM audit_log").execute(&pool).await;
            pool.close().await;
            (update.is_ok(), delete.is_ok())
        } else {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            let update = sqlx::query("UPDATE audit_log SET username = 'x'")
                .execute(&pool)
                .await;
            let delete = sqlx::query("DELETE FROM audit_log").execute(&pool).await;
            pool.close().await;
            (update.is_ok(), delete.is_ok())
        }
    };
    assert_eq!(
        changed.await,
        (false, false),
        "UPDATE and DELETE are refused"
    );
    assert_eq!(
        db.store
            .audit_log(&AuditFilter::default())
            .await
            .unwrap()
            .len(),
        1
    );
}

/// The real binary: `carecall staff add` reads the password from standard input, and
/// `carecall serve` answers on `[http] listen` with health, readiness, metrics and a valid
/// OpenAPI document, with no personal data in its trace-level log.
#[test]
fn the_engine_serves_the_api_with_a_first_admin_from_staff_add() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let dir = std::env::temp_dir().join(format!("carecall-api-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (sip, http) = (free(), free());
    let config = dir.join("carecall.toml");
    std::fs::write(
        &config,
        format!(
            "[sip]\nlisten = \"127.0.0.1:{sip}\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n[store]\nurl = \"sqlite://{db}\"\n[prompts]\ndir = \"{root}/prompts\"\n[dialplans]\ndir = \"{root}/dialplans\"\n",
            db = dir.join("carecall.db").display()
        ),
    )
    .unwrap();
    // The store as `carecall serve` creates it: `staff add` needs an existing store.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let url = format!("sqlite://{}", dir.join("carecall.db").display());
            carecall::store::Store::open(&url)
                .await
                .unwrap()
                .close()
                .await
        });
    let bin = env!("CARGO_BIN_EXE_carecall");
    let mut add = Command::new(bin)
        .args([
            "staff",
            "add",
            "--username",
            "chief",
            "--role",
            "admin",
            "--config",
        ])
        .arg(&config)
        .env_remove("CARECALL_STAFF_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"a long admin password\n")
        .unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::File::create(dir.join("engine.log")).unwrap();
    let mut child = Command::new(bin)
        .args(["serve", "--config"])
        .arg(&config)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let result = std::panic::catch_unwind(|| {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
            let api = common_api::Api::new(([127, 0, 0, 1], http).into());
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while std::fs::read_to_string(dir.join("engine.log")).map_or(true, |l| !l.contains("carecall ready")) {
                assert!(std::time::Instant::now() < deadline, "engine did not start");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            ok(&api.get("/healthz", &Cred::None).await);
            ok(&api.get("/readyz", &Cred::None).await);
            let admin = api.token("chief", "a long admin password").await;
            let centre = api.post("/api/v1/admin/centres", &admin, &json!({ "name": "Minato" })).await;
            assert_eq!(centre.status, 201, "{}", centre.text());
            let staff = json!({ "username": "sato", "password": "staff password 1", "role": "staff", "health_center": "Minato" });
            assert_eq!(api.post("/api/v1/admin/staff", &admin, &staff).await.status, 201);
            let sato = api.token("sato", "staff password 1").await;
            let patient = json!({
                "hersys_id": "82736451", "name": "Kobayashi Aiko", "birthday": "1944-08-30",
                "phone": "0422-11-2233", "language": "ja", "call_times": ["09:00", "14:00"],
                "observation_start": "2026-01-05", "observation_end": "2026-01-14", "auto_call": true
            });
            assert_eq!(api.post("/api/v1/patients", &sato, &patient).await.status, 201);
            ok(&api.get("/api/v1/patients?q=Kobayashi", &sato).await);
            let metrics = api.get("/metrics", &Cred::None).await.text();
            for name in ["carecall_build_info{version=", "carecall_calls_active{direction=\"inbound\"} 0", "carecall_store_errors_total 0", "carecall_slot_backlog_calls", "carecall_http_requests_total{route=\"/api/v1/patients\""] {
                assert!(metrics.contains(name), "{name} missing from:\n{metrics}");
            }
            let doc = api.get("/api/v1/openapi.json", &Cred::None).await;
            let path = dir.join("openapi.json");
            std::fs::write(&path, &doc.body).unwrap();
            let check = Command::new("python3").args(["-m", "openapi_spec_validator"]).arg(&path).output().expect("python3 runs");
            assert!(check.status.success(), "the OpenAPI document validates (pip install openapi-spec-validator): {}{}", String::from_utf8_lossy(&check.stdout), String::from_utf8_lossy(&check.stderr));
        })
    });
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(dir.join("engine.log")).unwrap_or_default();
    if let Err(e) = result {
        eprintln!("engine log:\n{log}");
        std::panic::resume_unwind(e);
    }
    assert!(log.lines().count() > 20, "trace logging was on");
    for line in log.lines() {
        for secret in [
            "82736451",
            "Kobayashi",
            "0422112233",
            "1944-08-30",
            "a long admin password",
        ] {
            assert!(
                !common_api::contains_standalone(line, secret),
                "personal data {secret:?} in log line: {line}"
            );
        }
    }
}

/// A client's malformed request is its own mistake: 4xx with the API's JSON error and a
/// stable code (not axum's plain text), and no word of what was sent. Server faults are 500
/// `internal` (unit tests in `src/http/error.rs`; they cannot be provoked from outside).
async fn malformed_requests_get_4xx_with_a_stable_code_and_never_echo_the_value(db: Db) {
    let e = env(&db).await;
    let api = &e.api;
    let json_body = |text: &str| Some(("application/json", text.as_bytes().to_vec()));
    let check = |r: &common_api::Resp, status: u16, code: &str| {
        assert_eq!(r.status, status, "{}", r.text());
        assert_eq!(r.json()["error"], code, "{}", r.text());
        assert!(
            !r.text().contains("73920561"),
            "the value is not echoed: {}",
            r.text()
        );
    };
    let broken = r#"{"hersys_id": "73920561", "name": "#;
    let r = api
        .send("POST", "/api/v1/patients", &e.minato, json_body(broken))
        .await;
    check(&r, 400, "malformed_body");
    // Valid JSON of the wrong shape: a number where the login takes a string.
    let wrong = r#"{"username": 73920561, "password": "x"}"#;
    let r = api
        .send("POST", "/api/v1/auth/token", &Cred::None, json_body(wrong))
        .await;
    check(&r, 400, "malformed_body");
    let plain = Some(("text/plain", br#"{"hersys_id": "73920561"}"#.to_vec()));
    let r = api.send("POST", "/api/v1/patients", &e.minato, plain).await;
    check(&r, 415, "not_json");
    check(
        &api.get("/api/v1/patients/73920561x", &e.minato).await,
        400,
        "malformed_path",
    );
    check(
        &api.get("/api/v1/patients?limit=73920561x", &e.minato).await,
        400,
        "malformed_query",
    );
    // The same requests made well are served.
    ok(&api.get("/api/v1/patients?limit=5", &e.minato).await);
}
