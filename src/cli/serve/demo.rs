//! What `carecall demo` sets up before the engine starts: the demo patients, imported only
//! into a store without patients and with their observation periods moved to cover today,
//! and a fictional demo staff account to log in to the staff page with.

use carecall::config::Config;
use carecall::http::secret::hash_password;
use carecall::report::Date;
use carecall::store::{CentreScope, ImportError, NewStaff, Role, Store};

use super::super::{block_on, open_store, CliError};

/// The demo account's login name (fictional, demo only).
pub const DEMO_USER: &str = "demo";
/// The demo account's password (printed at every start: demo only).
pub const DEMO_PASSWORD: &str = "demo-password";
/// The demo patients' health centre; the demo account belongs to it.
const DEMO_CENTRE: &str = "Minato";
/// The latest observation start of the demo patients lands this many days before today, so
/// the staff page has some history and every demo period covers today.
const DAYS_OBSERVED: i64 = 2;

/// What [`prepare`] found and did, for the lines `demo` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prepared {
    /// The demo patients were imported (the store had none); `false`: existing data kept.
    pub imported: bool,
    /// The demo account was created now; `false`: it existed already and was left as it is.
    pub account_created: bool,
}

/// Imports `csv` (the demo patients) when the store has no patients, with every observation
/// period moved by the same number of days so that the latest start is two days before
/// `today`, and creates the demo account (an admin of the demo centre) when it is missing.
/// Nothing that exists is changed: restarting the demo keeps what staff changed.
pub fn prepare(config: &Config, csv: &str, today: Date) -> Result<Prepared, CliError> {
    let name = || "demo/patients.csv".to_string();
    let shifted = shift_periods(csv, today).map_err(|e| CliError::Import(name(), e))?;
    block_on(async {
        let store = open_store(config).await?;
        let imported = store
            .all_patient_records(CentreScope::All)
            .await?
            .is_empty();
        if imported {
            store
                .import_patients_csv(shifted.as_bytes())
                .await
                .map_err(|e| CliError::Import(name(), e))?;
        }
        let account_created = ensure_account(&store).await?;
        Ok(Prepared {
            imported,
            account_created,
        })
    })
}

async fn ensure_account(store: &Store) -> Result<bool, CliError> {
    let staff = |e: carecall::store::StaffError| CliError::Staff(e.to_string());
    if store
        .staff_accounts()
        .await?
        .iter()
        .any(|a| a.username == DEMO_USER)
    {
        return Ok(false);
    }
    let centre = match store.centre_named(DEMO_CENTRE).await? {
        Some(c) => c,
        None => store.create_centre(DEMO_CENTRE).await.map_err(staff)?,
    };
    let password_hash = hash_password(DEMO_PASSWORD).map_err(|e| CliError::Staff(e.to_string()))?;
    let new = NewStaff {
        username: DEMO_USER.into(),
        password_hash,
        role: Role::Admin,
        centre: Some(centre.id),
    };
    store
        .create_staff(&new, carecall::clock::wall_now())
        .await
        .map_err(staff)?;
    Ok(true)
}

/// `csv` with `observation_start` and `observation_end` of every row moved by the days that
/// put the latest start [`DAYS_OBSERVED`] days before `today`; other fields unchanged.
pub fn shift_periods(csv: &str, today: Date) -> Result<String, ImportError> {
    let bad_csv = |line: u64| move |source| ImportError::Csv { line, source };
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().map_err(bad_csv(1))?.clone();
    let column = |name: &'static str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or(ImportError::MissingColumn(name))
    };
    let (start, end) = (column("observation_start")?, column("observation_end")?);
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n as u64 + 2;
        let record = record.map_err(bad_csv(line))?;
        let date = |i: usize, field: &'static str| {
            record
                .get(i)
                .and_then(|d| d.parse::<Date>().ok())
                .ok_or(ImportError::Field {
                    line,
                    field,
                    problem: carecall::store::FieldProblem::NotADate,
                })
        };
        rows.push((
            record.clone(),
            date(start, "observation_start")?,
            date(end, "observation_end")?,
        ));
    }
    let latest = rows.iter().map(|(_, s, _)| s.days_since_epoch()).max();
    let shift = latest.map_or(0, |l| today.days_since_epoch() - DAYS_OBSERVED - l);
    let moved = |d: Date| {
        Date::from_days_since_epoch(d.days_since_epoch() + shift)
            .map_or_else(|| d.to_string(), |d| d.to_string())
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header).map_err(bad_csv(1))?;
    for (n, (record, s, e)) in rows.iter().enumerate() {
        let line = n as u64 + 2;
        let fields = record.iter().enumerate().map(|(i, f)| match i {
            i if i == start => moved(*s),
            i if i == end => moved(*e),
            _ => f.to_string(),
        });
        writer.write_record(fields).map_err(bad_csv(line))?;
    }
    let bytes = writer.into_inner().map_err(|e| ImportError::Csv {
        line: 0,
        source: e.into_error().into(),
    })?;
    String::from_utf8(bytes).map_err(|e| ImportError::Csv {
        line: 0,
        source: csv::Error::from(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_period_covers_today_on_any_date() {
        for today in ["2026-12-03", "2031-02-28", "2026-11-01"] {
            let today: Date = today.parse().unwrap();
            let shifted = shift_periods(super::super::DEMO_PATIENTS, today).unwrap();
            let mut reader = csv::Reader::from_reader(shifted.as_bytes());
            let mut rows = 0;
            for record in reader.records() {
                let record = record.unwrap();
                let start: Date = record[6].parse().unwrap();
                let end: Date = record[7].parse().unwrap();
                assert!(start <= today && today <= end, "{today}: {start}..{end}");
                rows += 1;
            }
            assert_eq!(rows, 4);
            assert!(shifted.contains("山田 花子"), "other fields kept");
        }
    }
}
