//! Store cases for the patients CSV import (run on both backends by tests/store.rs).

use carecall::lang::Language;
use carecall::store::{FieldProblem, Identification, ImportError, ImportSummary};

use super::{at, import_three, patient, pii, Db, HEADER, THREE_PATIENTS};

pub async fn import_upserts_by_id(db: Db) {
    let csv = format!("{HEADER}{THREE_PATIENTS}");
    let summary = db.store.import_patients_csv(csv.as_bytes()).await.unwrap();
    assert_eq!(
        summary,
        ImportSummary {
            inserted: 3,
            updated: 0
        }
    );
    let changed = "11110002,John Smith,1988-12-01,090-1111-0002,es,16:00,2025-05-01,2025-05-20,true,Minato,\n\
                   11110004,Kim Minji,1970-07-07,0311110004,ko,,2025-05-01,2025-05-20,false,Chuo,\n";
    let summary = db
        .store
        .import_patients_csv(format!("{HEADER}{changed}").as_bytes())
        .await
        .unwrap();
    assert_eq!(
        summary,
        ImportSummary {
            inserted: 1,
            updated: 1
        }
    );
    let ident = db
        .store
        .identify(&pii("11110002"), &pii("1201"), &pii("1"), "c", at(1))
        .await;
    assert!(matches!(ident, Ok(Identification::Patient(p)) if p.language == Language::Es));
    let ident = db
        .store
        .identify(&pii("11110003"), &pii("0229"), &pii("1"), "c", at(1))
        .await;
    assert!(matches!(ident, Ok(Identification::Patient(p)) if p.language == Language::Pt));
    patient(&db.store, "11110004", "0707").await;
}

pub async fn import_bad_row_writes_nothing_and_names_the_line(db: Db) {
    let bad = format!("{HEADER}{THREE_PATIENTS}11110004,Kim,1970-02-30,0311110004,ko,,2025-05-01,2025-05-20,false,Chuo,\n");
    let err = db
        .store
        .import_patients_csv(bad.as_bytes())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        ImportError::Field {
            line: 5,
            field: "birthday",
            problem: FieldProblem::NotADate
        }
    ));
    assert_eq!(
        err.to_string(),
        "line 5: field birthday: expected a date YYYY-MM-DD"
    );
    let ident = db
        .store
        .identify(&pii("11110001"), &pii("0415"), &pii("1"), "c", at(1))
        .await
        .unwrap();
    assert_eq!(
        ident,
        Identification::NoMatch,
        "nothing from the bad file may be written"
    );

    import_three(&db.store).await;
    let update_then_bad = format!(
        "{HEADER}11110001,Sato Hanako,1950-04-15,03-1111-0001,en,,2025-05-01,2025-05-10,true,Minato,\n\
         11110009,X,1970-01-01,0311110009,xx,,2025-05-01,2025-05-10,false,Minato,\n"
    );
    let err = db
        .store
        .import_patients_csv(update_then_bad.as_bytes())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        ImportError::Field {
            line: 3,
            field: "language",
            ..
        }
    ));
    let ident = db
        .store
        .identify(&pii("11110001"), &pii("0415"), &pii("1"), "c", at(2))
        .await;
    assert!(matches!(ident, Ok(Identification::Patient(p)) if p.language == Language::Ja));
}

pub async fn import_refuses_a_shared_auto_call_phone(db: Db) {
    let twice = format!(
        "{HEADER}{THREE_PATIENTS}11110004,Kim,1970-07-07,03 1111 0001,ko,,2025-05-01,2025-05-20,true,Chuo,\n"
    );
    let err = db
        .store
        .import_patients_csv(twice.as_bytes())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ImportError::DuplicatePhone {
                line: 5,
                first_line: 2
            }
        ),
        "{err}"
    );

    import_three(&db.store).await;
    let taken = format!(
        "{HEADER}11110004,Kim,1970-07-07,0311110001,ko,,2025-05-01,2025-05-20,true,Chuo,\n"
    );
    match db.store.import_patients_csv(taken.as_bytes()).await {
        Err(ImportError::PhoneTaken { line: 2, patient }) => {
            assert_eq!(patient.expose(), "11110001")
        }
        other => panic!("expected PhoneTaken, got {other:?}"),
    }
    let ident = db
        .store
        .identify(&pii("11110004"), &pii("0707"), &pii("1"), "c", at(1))
        .await
        .unwrap();
    assert_eq!(
        ident,
        Identification::NoMatch,
        "the refused file wrote nothing"
    );

    let same_phone_no_auto = taken.replace(",true,", ",false,");
    db.store
        .import_patients_csv(same_phone_no_auto.as_bytes())
        .await
        .unwrap();
    let swap = "11110001,Sato Hanako,1950-04-15,+81 80 1111 0003,ja,09:00,2025-05-01,2025-05-10,true,Minato,\n\
                11110003,Ana Souza,1996-02-29,03-1111-0001,pt,11:00,2025-05-02,2025-05-12,true,Shinjuku,\n";
    let summary = db
        .store
        .import_patients_csv(format!("{HEADER}{swap}").as_bytes())
        .await
        .unwrap();
    assert_eq!(
        summary,
        ImportSummary {
            inserted: 0,
            updated: 2
        },
        "two patients may swap numbers"
    );
}
